#ifndef _LINUX_IO_H
#define _LINUX_IO_H
#include <linux/types.h>
#include <linux/compiler.h>
#include <simrun/import.h>

/* Uncached MMIO through a pci_iomap cookie: each access is one access of
 * its width on the bus, charged as the core's MMIO cost. */
__kpi_import(readb) u8 readb(const volatile void __iomem *addr);
__kpi_import(readw) u16 readw(const volatile void __iomem *addr);
__kpi_import(readl) u32 readl(const volatile void __iomem *addr);
__kpi_import(writeb) void writeb(u8 v, volatile void __iomem *addr);
__kpi_import(writew) void writew(u16 v, volatile void __iomem *addr);
__kpi_import(writel) void writel(u32 v, volatile void __iomem *addr);

/* linux/io-64-nonatomic-lo-hi.h: a qword as two dwords, low then high. */
static inline u64 lo_hi_readq(const volatile void __iomem *addr) {
  const volatile u32 __iomem *p = addr;
  u32 lo = readl(p);
  u32 hi = readl(p + 1);
  return lo | ((u64)hi << 32);
}
static inline void lo_hi_writeq(u64 v, volatile void __iomem *addr) {
  volatile u32 __iomem *p = addr;
  writel((u32)v, p);
  writel((u32)(v >> 32), p + 1);
}
#define readq lo_hi_readq
#define writeq lo_hi_writeq
#endif
