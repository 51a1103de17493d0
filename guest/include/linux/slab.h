#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H
#include <linux/types.h>
#include <simrun/import.h>

#define GFP_KERNEL 0x0cc0u
#define GFP_ATOMIC 0x0820u
#define __GFP_ZERO 0x100u

__kpi_import(kmalloc) void *__kpi_kmalloc(size_t size, gfp_t flags);
__kpi_import(kfree) void __kpi_kfree(const void *p);

static inline void *kmalloc(size_t size, gfp_t flags) { return __kpi_kmalloc(size, flags); }
static inline void *kzalloc(size_t size, gfp_t flags) { return __kpi_kmalloc(size, flags | __GFP_ZERO); }
static inline void *kcalloc(size_t n, size_t size, gfp_t flags) {
  if (size != 0 && n > (size_t)-1 / size) return NULL;
  return kzalloc(n * size, flags);
}
static inline void kfree(const void *p) { if (p) __kpi_kfree(p); }
#endif
