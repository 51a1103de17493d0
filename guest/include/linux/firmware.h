#ifndef _LINUX_FIRMWARE_H
#define _LINUX_FIRMWARE_H
/* Firmware images from the driver's firmware directory (its /lib/firmware:
 * the compiled driver's `firmwareDir` parameter), loaded by the TypeScript
 * linux-kpi's LinuxFirmware. request_firmware blocks (a round trip to the
 * loading service); the struct and a copy of the image are allocated in the
 * module's memory and freed by release_firmware. Images not released at
 * driver exit are reported as leaks. */
#include <linux/device.h>
#include <simrun/import.h>

struct firmware {
  size_t size;
  const u8 *data;
  int __handle;
};

__kpi_import(request_firmware) int __kpi_request_firmware(const struct firmware **fw, const char *name, int dev);
__kpi_import(release_firmware) void __kpi_release_firmware(const struct firmware *fw);

/* 0 and *fw set, or a negated errno (-ENOENT when the file is missing) and *fw = NULL. */
static inline int request_firmware(const struct firmware **fw, const char *name, struct device *dev) {
  return __kpi_request_firmware(fw, name, dev ? dev->__handle : 0);
}
static inline void release_firmware(const struct firmware *fw) {
  if (fw) __kpi_release_firmware(fw);
}
#endif
