import { DEVICE_FACTORIES } from '../devices/registry.js';
import { DRIVERS } from '../drivers/registry.js';
import { describeProps } from '../sim/props.js';
import { WORKLOADS } from '../workloads/registry.js';

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** `simrun devices`: device types (props, PCI ids, guest errors), drivers and workloads with their parameters. */
export function devicesCommand(what: 'all' | 'workloads' = 'all'): number {
  const out = (s: string) => process.stdout.write(s);
  if (what === 'all') {
    for (const f of DEVICE_FACTORIES) {
      const ids = f.pciIds;
      out(`## device ${f.type}: ${f.description}\n\nPCI ${hex(ids.vendorId, 4)}:${hex(ids.deviceId, 4)}, class ${hex(ids.classCode, 6)}\n\n${describeProps(f.props)}\n\n`);
      const codes = Object.entries(f.guestErrors);
      if (codes.length > 0) {
        out(`guest errors of ${f.type}:\n\n| code | meaning | spec |\n|---|---|---|\n`);
        for (const [code, g] of codes) out(`| ${code} | ${g.meaning} | ${g.spec} |\n`);
        out('\n');
      }
    }
    for (const d of DRIVERS) {
      const ids = d.idTable.map((id) => [id.vendor === undefined ? '*' : hex(id.vendor, 4), id.device === undefined ? '*' : hex(id.device, 4)].join(':')
        + (id.class === undefined ? '' : ` class ${hex(id.class, 6)}`)).join(', ');
      const when = d.explicit === true ? ' (runs only when a scenario names it in `drivers`)' : '';
      out(`## driver ${d.name} (${d.kind}): ${d.description}\n\nmatches ${ids}${when}\n\n${describeProps(d.params)}\n\n`);
    }
  }
  for (const w of WORKLOADS) {
    out(`## workload ${w.type}: ${w.description}\n\n${describeProps(w.params)}\n\nexpectations (scenario "expect"):\n\n`);
    for (const [k, doc] of Object.entries(w.expectations)) out(`- ${k}: ${doc}\n`);
    out('\n');
  }
  return 0;
}
