#ifndef _LINUX_COMPLETION_H
#define _LINUX_COMPLETION_H
#include <simrun/import.h>

struct completion { int __handle; };

__kpi_import(init_completion) int __kpi_init_completion(void);
__kpi_import(reinit_completion) void __kpi_reinit_completion(int c);
__kpi_import(complete) void __kpi_complete(int c);
__kpi_import(complete_all) void __kpi_complete_all(int c);
__kpi_import(wait_for_completion) void __kpi_wait_for_completion(int c);
__kpi_import(wait_for_completion_timeout) unsigned long __kpi_wait_for_completion_timeout(int c, unsigned long timeout);

static inline void init_completion(struct completion *x) { x->__handle = __kpi_init_completion(); }
static inline void reinit_completion(struct completion *x) { __kpi_reinit_completion(x->__handle); }
static inline void complete(struct completion *x) { __kpi_complete(x->__handle); }
static inline void complete_all(struct completion *x) { __kpi_complete_all(x->__handle); }
static inline void wait_for_completion(struct completion *x) { __kpi_wait_for_completion(x->__handle); }
/* 0 on timeout, else the jiffies left (at least 1). */
static inline unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout) {
  return __kpi_wait_for_completion_timeout(x->__handle, timeout);
}
#endif
