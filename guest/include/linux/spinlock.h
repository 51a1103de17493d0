#ifndef _LINUX_SPINLOCK_H
#define _LINUX_SPINLOCK_H
/* Spinlocks are checked by the shim: recursion, unlocking an unlocked lock
 * and sleeping while holding one are reported naming the lock. */
#include <simrun/import.h>

typedef struct { int __handle; } spinlock_t;

__kpi_import(spin_lock_init) int __kpi_spin_lock_init(const char *name);
__kpi_import(spin_lock) void __kpi_spin_lock(int l);
__kpi_import(spin_unlock) void __kpi_spin_unlock(int l);

#define spin_lock_init(l) ((l)->__handle = __kpi_spin_lock_init(#l))
static inline void spin_lock(spinlock_t *l) { __kpi_spin_lock(l->__handle); }
static inline void spin_unlock(spinlock_t *l) { __kpi_spin_unlock(l->__handle); }
#define spin_lock_irqsave(l, flags) do { (flags) = 1; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#endif
