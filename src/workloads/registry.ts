import type { AnyWorkloadEntry } from './workload.js';
import { registerWorkload } from './workload.js';
import { blockIoWorkload } from './blockio.js';
import { wifiWorkload } from './wifi.js';
import { netEchoWorkload } from './netecho.js';
import { drmFlipWorkload } from './drm-flip.js';

/** Every workload type a scenario may name. A new workload is one module plus one line here. */
export const WORKLOADS: readonly AnyWorkloadEntry[] = [
  registerWorkload(blockIoWorkload),
  registerWorkload(wifiWorkload),
  registerWorkload(netEchoWorkload),
  registerWorkload(drmFlipWorkload),
];

export function findWorkload(type: string): AnyWorkloadEntry | undefined {
  return WORKLOADS.find((w) => w.type === type);
}
