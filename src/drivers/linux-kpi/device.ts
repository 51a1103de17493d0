import type { KpiEnv } from './env.js';

/** What the dev_* macros need of a device: its name (`dev_name()`, the PCI bus/device/function). */
export interface DevNamed {
  readonly bdf: string;
}

/** linux/device.h logging: dev_err/dev_warn/dev_info/dev_dbg ("driver bdf: msg"). */
export class LinuxDeviceLog {
  constructor(private readonly env: KpiEnv) {}
  dev_err(dev: DevNamed, msg: string): void { this.env.sys.log('error', `${this.env.driverName} ${dev.bdf}: ${msg}`); }
  dev_warn(dev: DevNamed, msg: string): void { this.env.sys.log('warn', `${this.env.driverName} ${dev.bdf}: ${msg}`); }
  dev_info(dev: DevNamed, msg: string): void { this.env.sys.log('info', `${this.env.driverName} ${dev.bdf}: ${msg}`); }
  dev_dbg(dev: DevNamed, msg: string): void { this.env.sys.log('debug', `${this.env.driverName} ${dev.bdf}: ${msg}`); }
}
