#ifndef _LINUX_JIFFIES_H
#define _LINUX_JIFFIES_H
#include <simrun/import.h>

#define HZ 1000
__kpi_import(jiffies) unsigned long __kpi_jiffies(void);
#define jiffies (__kpi_jiffies())
static inline unsigned long msecs_to_jiffies(unsigned int ms) { return (ms * HZ + 999) / 1000; }
static inline unsigned int jiffies_to_msecs(unsigned long j) { return j * 1000 / HZ; }
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#define time_after_eq(a, b) ((long)((a) - (b)) >= 0)
#endif
