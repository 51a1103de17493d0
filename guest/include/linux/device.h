#ifndef _LINUX_DEVICE_H
#define _LINUX_DEVICE_H
#include <linux/kernel.h>
#include <simrun/import.h>

/* A device as the shim knows it: __handle names the shim's object. */
struct device {
  int __handle;
  void *driver_data;
};

static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }

__kpi_import(dev_printk) void __kpi_dev_printk(int level, int dev, const char *text, unsigned len);
void __dev_printk(int level, const struct device *dev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define dev_err(dev, fmt, ...) __dev_printk(3, dev, fmt, ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) __dev_printk(4, dev, fmt, ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...) __dev_printk(5, dev, fmt, ##__VA_ARGS__)
#define dev_info(dev, fmt, ...) __dev_printk(6, dev, fmt, ##__VA_ARGS__)
#define dev_dbg(dev, fmt, ...) __dev_printk(7, dev, fmt, ##__VA_ARGS__)
#endif
