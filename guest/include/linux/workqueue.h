#ifndef _LINUX_WORKQUEUE_H
#define _LINUX_WORKQUEUE_H
/* Work items run in the driver's worker thread (one per queue; may sleep). */
#include <linux/kernel.h>
#include <simrun/import.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct { int __handle; work_func_t func; };

__kpi_import(init_work) int __kpi_init_work(struct work_struct *work, work_func_t func);
__kpi_import(schedule_work) int __kpi_schedule_work(int work);

#define INIT_WORK(w, f) ((w)->func = (f), (w)->__handle = __kpi_init_work((w), (f)))
static inline bool schedule_work(struct work_struct *w) { return __kpi_schedule_work(w->__handle); }
#endif
