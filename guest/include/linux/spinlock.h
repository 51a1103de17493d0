#ifndef _LINUX_SPINLOCK_H
#define _LINUX_SPINLOCK_H
/* Spinlocks, checked like Linux's lock debugging but without a call into
 * the kernel when all is well: the lock holds its owner's task id
 * (__kpi_current_tid, which the runtime sets whenever a task runs in the
 * module), and __kpi_spin_depth counts the locks the running task holds
 * (the runtime keeps one count per task). Misuse goes to the shim, which
 * reports it naming the lock: recursion (a deadlock), taking a lock whose
 * owner slept holding it, unlocking a lock that is not held or is another
 * task's. Sleeping while holding one is reported by every call that may
 * sleep (msleep, wait_for_completion, mutex_lock, ...). */
#include <simrun/import.h>

typedef struct { int __handle; int owner; } spinlock_t;

/* The running task's id (0: none) and its spinlock count; see guest/lib/spinlock.c. */
extern volatile int __kpi_current_tid;
extern volatile int __kpi_spin_depth;

__kpi_import(spin_lock_init) int __kpi_spin_lock_init(const char *name);
__kpi_import(spin_lock_bug) void __kpi_spin_lock_bug(int l, int owner);
__kpi_import(spin_unlock_bug) void __kpi_spin_unlock_bug(int l, int owner);

#define spin_lock_init(l) ((l)->__handle = __kpi_spin_lock_init(#l), (l)->owner = 0)
static inline void spin_lock(spinlock_t *l) {
  if (__builtin_expect(l->owner != 0, 0))
    __kpi_spin_lock_bug(l->__handle, l->owner); /* reported; the lock is taken over, as the report says */
  l->owner = __kpi_current_tid;
  __kpi_spin_depth++;
}
static inline void spin_unlock(spinlock_t *l) {
  if (__builtin_expect(l->owner != __kpi_current_tid, 0)) {
    __kpi_spin_unlock_bug(l->__handle, l->owner);
    if (l->owner == 0)
      return;
  }
  l->owner = 0;
  __kpi_spin_depth--;
}
#define spin_lock_irqsave(l, flags) do { (flags) = 1; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define spin_lock_bh(l) spin_lock(l)
#define spin_unlock_bh(l) spin_unlock(l)
#endif
