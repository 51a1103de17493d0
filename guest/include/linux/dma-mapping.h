#ifndef _LINUX_DMA_MAPPING_H
#define _LINUX_DMA_MAPPING_H
#include <linux/device.h>
#include <linux/slab.h>

#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))
#define DMA_BIDIRECTIONAL 0
#define DMA_TO_DEVICE 1
#define DMA_FROM_DEVICE 2

/* Coherent memory inside the driver's own memory, marked for device DMA;
 * *dma_handle receives the bus address the device uses. */
__kpi_import(dma_alloc_coherent) void *__kpi_dma_alloc_coherent(int dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp);
__kpi_import(dma_free_coherent) void __kpi_dma_free_coherent(int dev, size_t size, void *cpu, const dma_addr_t *dma_handle);
__kpi_import(dma_set_mask_and_coherent) int __kpi_dma_set_mask_and_coherent(int dev, int bits);

static inline void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp) {
  return __kpi_dma_alloc_coherent(dev->__handle, size, dma_handle, gfp);
}
static inline void dma_free_coherent(struct device *dev, size_t size, void *cpu, dma_addr_t dma_handle) {
  __kpi_dma_free_coherent(dev->__handle, size, cpu, &dma_handle);
}
static inline int dma_set_mask_and_coherent(struct device *dev, u64 mask) {
  int bits = 0;
  while (bits < 64 && (mask >> bits) & 1) bits++;
  return __kpi_dma_set_mask_and_coherent(dev->__handle, bits);
}
#endif
