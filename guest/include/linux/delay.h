#ifndef _LINUX_DELAY_H
#define _LINUX_DELAY_H
#include <simrun/import.h>

/* msleep and usleep_range block (the thread sleeps); udelay and ndelay spin. */
__kpi_import(msleep) void msleep(unsigned int ms);
__kpi_import(usleep_range) void usleep_range(unsigned long min_us, unsigned long max_us);
__kpi_import(udelay) void udelay(unsigned long us);
__kpi_import(ndelay) void ndelay(unsigned long ns);
#endif
