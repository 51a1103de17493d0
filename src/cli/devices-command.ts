import { DEVICE_FACTORIES } from '../devices/registry.js';
import { DRIVERS } from '../drivers/registry.js';
import { describeProps } from '../sim/props.js';

/** `simrun devices`: device types, their props, and the drivers with their parameters. */
export function devicesCommand(): number {
  for (const f of DEVICE_FACTORIES) {
    process.stdout.write(`## device ${f.type}: ${f.description}\n\n${describeProps(f.props)}\n\n`);
  }
  for (const d of DRIVERS) {
    process.stdout.write(`## driver ${d.name} (${d.kind}): ${d.description}\n\n${describeProps(d.params)}\n\n`);
  }
  return 0;
}
