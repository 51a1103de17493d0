#ifndef _LINUX_COMPILER_H
#define _LINUX_COMPILER_H
#define __iomem
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __always_inline inline __attribute__((always_inline))
#define __maybe_unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
/* One core's view of coherent memory: ordering against the device is the
 * compiler's (the device sees memory at MMIO accesses and time steps). */
#define wmb() barrier()
#define rmb() barrier()
#define mb() barrier()
#define dma_wmb() barrier()
#define dma_rmb() barrier()
#endif
