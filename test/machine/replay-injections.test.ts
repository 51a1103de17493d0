import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';

describe('trace as hardware: injections of one instant share an event', () => {
  it('the DMA transfers a device made at one instant, and what follows them then, fire from one queue event, and the replay stays identical', () => {
    for (const name of ['nvme-msix', 'ahci-ncq', 'virtio-blk-msix']) {
      const r = runReplayHardware({ trace: join(ROOT, 'traces', `${name}.simtrace`), decoders: deviceDecoders(), out: () => {} });
      expect(r.exitCode, name).toBe(0);
      expect(r.verdict.verdict, name).toBe('IDENTICAL');
      // One event per injection would dispatch more events than injections; the NVMe reads' SQE fetch,
      // data, completion and MSI of one instant take one.
      expect(r.machine.queue.dispatched, name).toBeLessThan(r.hardware.injected);
    }
  });
});
