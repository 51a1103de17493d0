#ifndef _LINUX_TIMER_H
#define _LINUX_TIMER_H
/* Kernel timers: the callback runs in the driver's timer thread and must not sleep. */
#include <linux/kernel.h>
#include <simrun/import.h>

struct timer_list;
typedef void (*timer_func_t)(struct timer_list *t);
struct timer_list { int __handle; timer_func_t function; unsigned long expires; };

__kpi_import(timer_setup) int __kpi_timer_setup(struct timer_list *t, timer_func_t fn, unsigned int flags);
__kpi_import(mod_timer) int __kpi_mod_timer(int t, unsigned long expires);
__kpi_import(del_timer) int __kpi_del_timer(int t);

#define timer_setup(t, fn, flags) ((t)->function = (fn), (t)->__handle = __kpi_timer_setup((t), (fn), (flags)))
#define from_timer(var, t, field) container_of(t, __typeof__(*var), field)
static inline int mod_timer(struct timer_list *t, unsigned long expires) { t->expires = expires; return __kpi_mod_timer(t->__handle, expires); }
static inline int del_timer(struct timer_list *t) { return __kpi_del_timer(t->__handle); }
static inline int del_timer_sync(struct timer_list *t) { return __kpi_del_timer(t->__handle); }
#endif
