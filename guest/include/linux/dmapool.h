#ifndef _LINUX_DMAPOOL_H
#define _LINUX_DMAPOOL_H
/* Fixed-size DMA blocks (the TypeScript linux-kpi's LinuxDmaPool): pages
 * allocated inside the driver's own memory and marked for device DMA, cut
 * into blocks of `size` rounded up to `align`. A block's CPU pointer is in
 * the module's memory, *handle receives its bus address. `boundary` is
 * accepted but not enforced beyond what page-sized chunks give (a block
 * never crosses a 4 KiB page when size <= 4096 and size divides it).
 * Bad frees (double free, a foreign block) and pools still holding blocks
 * at dma_pool_destroy are logged as errors; pools not destroyed at exit as
 * leaks. */
#include <linux/device.h>
#include <linux/slab.h>
#include <simrun/import.h>

struct dma_pool { int __handle; };

__kpi_import(dma_pool_create) int __kpi_dma_pool_create(const char *name, int dev, size_t size, size_t align, size_t boundary);
__kpi_import(dma_pool_alloc) void *__kpi_dma_pool_alloc(int pool, gfp_t gfp, dma_addr_t *handle);
__kpi_import(dma_pool_free) void __kpi_dma_pool_free(int pool, void *vaddr, const dma_addr_t *dma);
__kpi_import(dma_pool_destroy) void __kpi_dma_pool_destroy(int pool);

static inline struct dma_pool *dma_pool_create(const char *name, struct device *dev, size_t size, size_t align, size_t boundary) {
  struct dma_pool *p = kmalloc(sizeof(*p), GFP_KERNEL);
  if (!p) return NULL;
  p->__handle = __kpi_dma_pool_create(name, dev ? dev->__handle : 0, size, align, boundary);
  if (p->__handle <= 0) { kfree(p); return NULL; }
  return p;
}
static inline void *dma_pool_alloc(struct dma_pool *pool, gfp_t gfp, dma_addr_t *handle) {
  return __kpi_dma_pool_alloc(pool->__handle, gfp, handle);
}
static inline void *dma_pool_zalloc(struct dma_pool *pool, gfp_t gfp, dma_addr_t *handle) {
  return __kpi_dma_pool_alloc(pool->__handle, gfp | __GFP_ZERO, handle);
}
static inline void dma_pool_free(struct dma_pool *pool, void *vaddr, dma_addr_t dma) {
  __kpi_dma_pool_free(pool->__handle, vaddr, &dma);
}
static inline void dma_pool_destroy(struct dma_pool *pool) {
  if (!pool) return;
  __kpi_dma_pool_destroy(pool->__handle);
  kfree(pool);
}
#endif
