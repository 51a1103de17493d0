#ifndef _LINUX_PCI_H
#define _LINUX_PCI_H
#include <linux/device.h>
#include <linux/io.h>
#include <linux/interrupt.h>
#include <simrun/import.h>

#define PCI_ANY_ID (~0U)
#define PCI_IRQ_LEGACY (1 << 0)
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#define PCI_IRQ_MSI (1 << 1)
#define PCI_IRQ_MSIX (1 << 2)
#define PCI_IRQ_ALL_TYPES (PCI_IRQ_LEGACY | PCI_IRQ_MSI | PCI_IRQ_MSIX)

struct pci_device_id {
  u32 vendor, device;
  u32 subvendor, subdevice;
  u32 class, class_mask;
  unsigned long driver_data;
};

#define PCI_DEVICE(v, d) .vendor = (v), .device = (d), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID
#define PCI_DEVICE_CLASS(c, m) .vendor = PCI_ANY_ID, .device = PCI_ANY_ID, .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID, .class = (c), .class_mask = (m)

struct pci_dev {
  int __handle;
  u16 vendor;
  u16 device;
  u32 class;
  unsigned int irq;
  struct device dev;
};

struct pci_driver {
  const char *name;
  const struct pci_device_id *id_table;
  int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
  void (*remove)(struct pci_dev *dev);
};

static inline struct pci_dev *to_pci_dev(struct device *dev) { return container_of(dev, struct pci_dev, dev); }
static inline void *pci_get_drvdata(struct pci_dev *pdev) { return pdev->dev.driver_data; }
static inline void pci_set_drvdata(struct pci_dev *pdev, void *data) { pdev->dev.driver_data = data; }

__kpi_import(pci_register_driver) int __kpi_pci_register_driver(struct pci_driver *drv);
__kpi_import(pci_enable_device) int __kpi_pci_enable_device(int pdev);
__kpi_import(pci_disable_device) void __kpi_pci_disable_device(int pdev);
__kpi_import(pci_set_master) void __kpi_pci_set_master(int pdev);
__kpi_import(pci_iomap) void __iomem *__kpi_pci_iomap(int pdev, int bar, unsigned long maxlen);
__kpi_import(pci_iounmap) void __kpi_pci_iounmap(int pdev, void __iomem *addr);
__kpi_import(pci_resource_len) unsigned long __kpi_pci_resource_len(int pdev, int bar);
__kpi_import(pci_alloc_irq_vectors) int __kpi_pci_alloc_irq_vectors(int pdev, unsigned int min, unsigned int max, unsigned int flags);
__kpi_import(pci_free_irq_vectors) void __kpi_pci_free_irq_vectors(int pdev);
__kpi_import(pci_irq_vector) int __kpi_pci_irq_vector(int pdev, unsigned int nr);
__kpi_import(pci_read_config_dword) int __kpi_pci_read_config_dword(int pdev, int where, u32 *val);
__kpi_import(pci_write_config_dword) int __kpi_pci_write_config_dword(int pdev, int where, u32 val);

static inline int pci_register_driver(struct pci_driver *drv) { return __kpi_pci_register_driver(drv); }
static inline int pci_enable_device_mem(struct pci_dev *pdev) { return __kpi_pci_enable_device(pdev->__handle); }
static inline int pci_enable_device(struct pci_dev *pdev) { return __kpi_pci_enable_device(pdev->__handle); }
static inline void pci_disable_device(struct pci_dev *pdev) { __kpi_pci_disable_device(pdev->__handle); }
static inline void pci_set_master(struct pci_dev *pdev) { __kpi_pci_set_master(pdev->__handle); }
static inline void __iomem *pci_iomap(struct pci_dev *pdev, int bar, unsigned long maxlen) { return __kpi_pci_iomap(pdev->__handle, bar, maxlen); }
static inline void pci_iounmap(struct pci_dev *pdev, void __iomem *addr) { __kpi_pci_iounmap(pdev->__handle, addr); }
static inline unsigned long pci_resource_len(struct pci_dev *pdev, int bar) { return __kpi_pci_resource_len(pdev->__handle, bar); }
static inline int pci_alloc_irq_vectors(struct pci_dev *pdev, unsigned int min, unsigned int max, unsigned int flags) {
  return __kpi_pci_alloc_irq_vectors(pdev->__handle, min, max, flags);
}
static inline void pci_free_irq_vectors(struct pci_dev *pdev) { __kpi_pci_free_irq_vectors(pdev->__handle); }
static inline int pci_irq_vector(struct pci_dev *pdev, unsigned int nr) { return __kpi_pci_irq_vector(pdev->__handle, nr); }
static inline int pci_read_config_dword(struct pci_dev *pdev, int where, u32 *val) { return __kpi_pci_read_config_dword(pdev->__handle, where, val); }
static inline int pci_write_config_dword(struct pci_dev *pdev, int where, u32 val) { return __kpi_pci_write_config_dword(pdev->__handle, where, val); }

/* Config space offsets and capability ids (PCI Local Bus 3.0, 6.7). */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSI_FLAGS 2
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSIX_FLAGS 2
#define PCI_MSIX_FLAGS_ENABLE 0x8000

static inline int pci_read_config_word(struct pci_dev *pdev, int where, u16 *val) {
  u32 v = 0;
  int ret = pci_read_config_dword(pdev, where & ~3, &v);
  *val = (u16)(v >> ((where & 2) * 8));
  return ret;
}
static inline int pci_read_config_byte(struct pci_dev *pdev, int where, u8 *val) {
  u32 v = 0;
  int ret = pci_read_config_dword(pdev, where & ~3, &v);
  *val = (u8)(v >> ((where & 3) * 8));
  return ret;
}
/* The config offset of capability `cap` in the capability list, or 0. */
static inline u8 pci_find_capability(struct pci_dev *pdev, int cap) {
  u16 status = 0;
  u8 pos = 0, id = 0;
  if (pci_read_config_word(pdev, PCI_STATUS, &status) || !(status & PCI_STATUS_CAP_LIST))
    return 0;
  pci_read_config_byte(pdev, PCI_CAPABILITY_LIST, &pos);
  for (int ttl = 48; ttl > 0 && pos >= 0x40; ttl--) {
    pos &= ~3;
    pci_read_config_byte(pdev, pos, &id);
    if (id == 0xff)
      break;
    if (id == cap)
      return pos;
    pci_read_config_byte(pdev, pos + 1, &pos);
  }
  return 0;
}
#endif
