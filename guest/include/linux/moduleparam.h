#ifndef _LINUX_MODULEPARAM_H
#define _LINUX_MODULEPARAM_H
#include <simrun/import.h>

/* A module parameter's value from the scenario (drivers.<name>.<param>),
 * or dflt when the scenario does not set it. */
__kpi_import(param_int) int __kpi_param_int(const char *name, int dflt);
#define module_param_int(var, dflt) int var = 0; \
  static void __attribute__((constructor)) __param_##var(void) { var = __kpi_param_int(#var, dflt); }
static inline int param_int(const char *name, int dflt) { return __kpi_param_int(name, dflt); }
#endif
