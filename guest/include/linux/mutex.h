#ifndef _LINUX_MUTEX_H
#define _LINUX_MUTEX_H
#include <simrun/import.h>

struct mutex { int __handle; };

__kpi_import(mutex_init) int __kpi_mutex_init(const char *name);
__kpi_import(mutex_lock) void __kpi_mutex_lock(int m);
__kpi_import(mutex_unlock) void __kpi_mutex_unlock(int m);

#define mutex_init(m) ((m)->__handle = __kpi_mutex_init(#m))
static inline void mutex_lock(struct mutex *m) { __kpi_mutex_lock(m->__handle); }
static inline void mutex_unlock(struct mutex *m) { __kpi_mutex_unlock(m->__handle); }
#endif
