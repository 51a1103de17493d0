/* The running task's id and spinlock count for the inline spinlocks of
 * <linux/spinlock.h>. Exported (--export-dynamic): the runtime writes the
 * id whenever a task enters the module and keeps one count per task. */
volatile int __kpi_current_tid;
volatile int __kpi_spin_depth;
