/*
 * kpi-selftest: a small linux-kpi PCI driver that exercises the compiled
 * driver runtime itself. It binds to an NVMe controller (class 01:08:02),
 * reads a few registers, spends `loops` iterations of arithmetic between two
 * register reads (so simulated time can be seen to follow the work done),
 * round-trips a coherent DMA buffer and sleeps (`mmio_reads` adds a burst of
 * register reads). With `fault` set it does
 * what a broken driver does, for the crash-report tests:
 *   1 BUG_ON (unreachable), 2 a store far outside its memory, 3 an endless
 *   loop, 4 unbounded recursion, 5 a call through a null function pointer,
 *   7 a double kfree, 8 spinlock misuse (sleeping holding one, recursion,
 *   unlocking an unlocked one).
 * With `kpi_extra` set it also runs extra.c (DMA pools, firmware, skbs, NAPI);
 * with `kpi_netdev` it registers netloop.c's loopback net device.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/completion.h>
#include <linux/moduleparam.h>
#include <linux/jiffies.h>
#include <linux/spinlock.h>

#define NVME_REG_CAP 0x00
#define NVME_REG_VS 0x08
#define NVME_REG_CSTS 0x1c

int selftest_extra(struct pci_dev *pdev, int mode);
int selftest_netloop(struct pci_dev *pdev);

static volatile u32 sink;

static __attribute__((noinline)) u32 spend(int loops) {
  u32 acc = 0x12345678;
  for (int i = 0; i < loops; i++) {
    acc = acc * 1103515245 + 12345;
    sink = acc;
  }
  return acc;
}

static __attribute__((noinline)) int recurse(volatile int *depth) {
  char frame[256];
  frame[(*depth) & 255] = (char)*depth;
  (*depth)++;
  if (*depth < 0)
    return frame[3];
  return recurse(depth) + frame[3];
}

static void (*volatile null_fn)(void);

static int selftest_probe(struct pci_dev *pdev, const struct pci_device_id *id) {
  int loops = param_int("loops", 1000);
  int fault = param_int("fault", 0);
  void __iomem *bar;
  dma_addr_t dma;
  u32 *buf;

  dev_info(&pdev->dev, "probe %04x:%04x class %06x", pdev->vendor, pdev->device, pdev->class);
  if (pci_enable_device_mem(pdev))
    return -ENODEV;
  pci_set_master(pdev);
  bar = pci_iomap(pdev, 0, 0);
  if (!bar)
    return -ENOMEM;

  u64 cap = lo_hi_readq(bar + NVME_REG_CAP);
  u32 vs = readl(bar + NVME_REG_VS);
  dev_info(&pdev->dev, "CAP 0x%llx VS %u.%u", cap, vs >> 16, (vs >> 8) & 0xff);

  u32 acc = spend(loops);
  u32 csts = readl(bar + NVME_REG_CSTS);
  dev_info(&pdev->dev, "spent %d loops (acc %08x), CSTS 0x%x", loops, acc, csts);

  /* mmio_reads: a burst of register reads (the bench measures boundary calls per second with it). */
  int reads = param_int("mmio_reads", 0);
  for (int i = 0; i < reads; i++)
    csts |= readl(bar + NVME_REG_CSTS);
  if (reads)
    dev_info(&pdev->dev, "%d register reads done", reads);

  buf = dma_alloc_coherent(&pdev->dev, 4096, &dma, GFP_KERNEL);
  if (!buf)
    return -ENOMEM;
  for (int i = 0; i < 1024; i++)
    buf[i] = 0xa5000000u | i;
  dev_info(&pdev->dev, "coherent buffer at bus address 0x%llx", dma);
  msleep(2);
  dev_info(&pdev->dev, "woke after msleep, jiffies %lu", jiffies);

  switch (fault) {
  case 1: BUG_ON(loops >= 0); break;
  case 2: *(volatile u32 *)0x7ffffff0 = 1; break;
  case 3: for (;;) sink++; break;
  case 4: { volatile int depth = 0; recurse(&depth); break; }
  case 5: null_fn(); break;
  case 7: { void *p = kmalloc(64, GFP_KERNEL); kfree(p); kfree(p); break; }
  case 8: { /* sleeping with a spinlock held, then taking it again and unlocking it twice */
    static spinlock_t lock;
    spin_lock_init(&lock);
    spin_lock(&lock);
    msleep(1);
    spin_lock(&lock);
    spin_unlock(&lock);
    spin_unlock(&lock);
    break;
  }
  }
  dma_free_coherent(&pdev->dev, 4096, buf, dma);
  int extra = param_int("kpi_extra", 0);
  if (extra && selftest_extra(pdev, extra))
    return -EIO;
  if (param_int("kpi_netdev", 0) && selftest_netloop(pdev))
    return -EIO;
  dev_info(&pdev->dev, "selftest done");
  return 0;
}

static const struct pci_device_id selftest_ids[] = {
  { PCI_DEVICE_CLASS(0x010802, 0xffffff) },
  { 0, }
};

static struct pci_driver selftest_driver = {
  .name = "kpi-selftest",
  .id_table = selftest_ids,
  .probe = selftest_probe,
};

module_pci_driver(selftest_driver);
