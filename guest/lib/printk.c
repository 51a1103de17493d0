/* printk and dev_printk: format here, hand the text to the shim's log. */
#include <linux/kernel.h>
#include <linux/device.h>

#define LOG_LINE_MAX 512

/* A KERN_<LEVEL> prefix sets the level; the default is KERN_INFO's. */
static int level_of(const char **fmt) {
  const char *f = *fmt;
  if (f[0] == '\001' && f[1] >= '0' && f[1] <= '7') { *fmt = f + 2; return f[1] - '0'; }
  return 6;
}

static unsigned trim(char *buf, int n) {
  unsigned len = n < LOG_LINE_MAX ? (unsigned)n : LOG_LINE_MAX - 1;
  while (len && buf[len - 1] == '\n') len--;
  return len;
}

int printk(const char *fmt, ...) {
  char buf[LOG_LINE_MAX];
  int level = level_of(&fmt);
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  __builtin_va_end(ap);
  __kpi_printk(level, buf, trim(buf, n));
  return n;
}

void __dev_printk(int level, const struct device *dev, const char *fmt, ...) {
  char buf[LOG_LINE_MAX];
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  __builtin_va_end(ap);
  __kpi_dev_printk(level, dev ? dev->__handle : 0, buf, trim(buf, n));
}
