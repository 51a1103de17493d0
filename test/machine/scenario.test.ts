import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/machine/scenario.js';
import { InputError } from '../../src/sim/errors.js';

const base = () => ({
  name: 't',
  machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: 'x.img' } }] },
});

function err(json: unknown): string {
  try {
    parseScenario(json, '/tmp/s.json', 'h');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('scenario validation', () => {
  it('accepts a minimal scenario with defaults', () => {
    const s = parseScenario(base(), '/tmp/s.json', 'h');
    expect(s.machine.cores).toBe(2);
    expect(s.machine.devices[0]!.id).toBe('nvme0');
    expect(s.seed).toBe(1);
  });
  it('rejects unknown fields, naming the path', () => {
    expect(err({ ...base(), colour: 'red' })).toMatch(/\/tmp\/s\.json: colour: unknown field/);
    const m = base();
    (m.machine as Record<string, unknown>).cpus = 4;
    expect(err(m)).toMatch(/machine\.cpus: unknown field/);
  });
  it('rejects duplicate and malformed BDFs', () => {
    const dup = base();
    dup.machine.devices.push({ type: 'nvme', bdf: '00:04.0', props: { image: 'y.img' } });
    expect(err(dup)).toMatch(/machine\.devices\[1\]\.bdf: duplicate BDF 00:04\.0 \(also used by nvme0\)/);
    const bad = base();
    bad.machine.devices[0]!.bdf = '00:40.0';
    expect(err(bad)).toMatch(/machine\.devices\[0\]\.bdf/);
    const hb = base();
    hb.machine.devices[0]!.bdf = '00:00.0';
    expect(err(hb)).toMatch(/host bridge/);
  });
  it('rejects bad durations and out-of-range numbers', () => {
    expect(err({ ...base(), limits: { simTime: 'forever' } })).toMatch(/limits\.simTime: must be a duration/);
    const m = base();
    (m.machine as Record<string, unknown>).cores = 0;
    expect(err(m)).toMatch(/machine\.cores: must be between 1 and 64/);
  });
  it('requires a name', () => {
    const { name: _n, ...rest } = base();
    expect(err(rest)).toMatch(/name: is required/);
  });
});
