/** The README documents every device prop, driver parameter and workload parameter (by name). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEVICE_FACTORIES } from '../src/devices/registry.js';
import { DRIVERS } from '../src/drivers/registry.js';
import { WORKLOADS } from '../src/workloads/registry.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('names every workload type, parameter and expectation', () => {
    for (const w of WORKLOADS) {
      expect(readme).toContain(`\`${w.type}\``);
      for (const [k, p] of Object.entries(w.params)) expect(readme, `workload ${w.type} param ${k}`).toContain(`| ${k} | ${p.type}`);
      for (const k of Object.keys(w.expectations)) expect(readme, `workload ${w.type} expectation ${k}`).toContain(`\`${k}\``);
    }
  });

  it('names every device type and driver', () => {
    for (const f of DEVICE_FACTORIES) expect(readme).toContain(f.type);
    for (const d of DRIVERS) expect(readme).toContain(d.name);
  });

  it('lists every top-level src folder in its layout section', () => {
    const layout = readme.slice(readme.indexOf('## Layout'));
    for (const d of ['sim', 'trace', 'devices', 'kernel', 'drivers', 'wasm', 'workloads', 'machine', 'cli']) expect(layout).toContain(`src/${d} `);
  });
});
