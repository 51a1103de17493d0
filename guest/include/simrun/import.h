/* How a kernel-interface function reaches simrun: a WebAssembly import of
 * module "linux" (the linux-kpi shim) or "redox" (the syscall surface). */
#ifndef _SIMRUN_IMPORT_H
#define _SIMRUN_IMPORT_H
#define __kpi_import(name) __attribute__((import_module("linux"), import_name(#name)))
#endif
