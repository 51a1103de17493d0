#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H
#include <linux/pci.h>

/* The module's entry: simrun calls simrun_module_init once, after loading. */
#define module_pci_driver(drv) \
  __attribute__((export_name("simrun_module_init"))) int simrun_module_init(void) { return pci_register_driver(&(drv)); }
#define MODULE_DEVICE_TABLE(type, name)
#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#endif
