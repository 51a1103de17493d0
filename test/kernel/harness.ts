import { Core, DEFAULT_COSTS } from '../../src/sim/cpu.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { IrqFabric } from '../../src/sim/irq.js';
import { PhysMem } from '../../src/sim/memory.js';
import { runLoop } from '../../src/sim/run-loop.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { EventScheme } from '../../src/kernel/schemes/event.js';
import { IrqScheme } from '../../src/kernel/schemes/irq.js';
import { MemoryScheme } from '../../src/kernel/schemes/memory.js';
import { TimeScheme } from '../../src/kernel/schemes/time.js';
import { RootScheme } from '../../src/kernel/schemes/user.js';
import { MemoryTracer } from '../../src/sim/tracer.js';
import { allowCrashes } from '../support/crash-guard.js';

/**
 * A kernel with its schemes on a machine with no devices. A crash of one of
 * its processes fails the test (test/support/crash-guard.ts) unless the test
 * expects it (`expectCrash`, `withCrashes`) or passes `allowCrashes` and
 * checks `kernel.crashes` itself.
 */
export function bareKernel(cores = 2, opts: { allowCrashes?: boolean } = {}) {
  const queue = new EventQueue();
  const mem = new PhysMem(32 * 1024 * 1024);
  const tracer = new MemoryTracer();
  const irq = new IrqFabric(queue, tracer);
  const cs = Array.from({ length: cores }, (_, i) => new Core(i, DEFAULT_COSTS, queue, mem, tracer));
  const kernel = new Kernel({ queue, mem, irq, cores: cs, tracer, quantumPs: 1e9 });
  kernel.registerScheme(new RootScheme());
  kernel.registerScheme(new MemoryScheme(mem));
  kernel.registerScheme(new IrqScheme(kernel));
  kernel.registerScheme(new EventScheme());
  kernel.registerScheme(new TimeScheme(queue));
  if (opts.allowCrashes === true) allowCrashes(kernel);
  const run = (limit = 1e13, stop: () => boolean = () => false) => runLoop(kernel.sched, queue, limit, stop);
  return { queue, mem, tracer, irq, cores: cs, kernel, run };
}
