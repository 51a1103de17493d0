import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/machine/scenario.js';
import { InputError } from '../../src/sim/errors.js';
import { show } from '../../src/sim/json-checker.js';
import { PropError, validateProps, type PropTable } from '../../src/sim/props.js';

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
  it('display expectations: defaults, and a bad displayOutcome or negative flips named', () => {
    const s = parseScenario(base(), '/tmp/s.json', 'h');
    expect([s.expect.minFlips, s.expect.maxFlipLatencyUs, s.expect.displayOutcome]).toEqual([0, 0, 'ok']);
    expect(s.expect.maxMissedVblanks).toBeGreaterThan(1e9);
    const t = parseScenario({ ...base(), expect: { minFlips: 120, maxMissedVblanks: 0, maxFlipLatencyUs: 20000, displayOutcome: 'fail:modeset' } }, '/tmp/s.json', 'h');
    expect([t.expect.minFlips, t.expect.maxMissedVblanks, t.expect.maxFlipLatencyUs, t.expect.displayOutcome]).toEqual([120, 0, 20000, 'fail:modeset']);
    expect(err({ ...base(), expect: { displayOutcome: 'fail:scan' } })).toMatch(/expect\.displayOutcome: must be "ok" or "fail:<step>" with step open, probe/);
    expect(err({ ...base(), expect: { minFlips: -1 } })).toMatch(/expect\.minFlips/);
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
  it('rejects a simTime beyond the exact range of simulated time (2^53 ps)', () => {
    expect(err({ ...base(), limits: { simTime: '9008s' } })).toMatch(/limits\.simTime: "9008s" is beyond the exact range of simulated time \(2\^53 ps/);
    expect(err({ ...base(), limits: { simTime: `1${'0'.repeat(400)}s` } })).toMatch(/limits\.simTime: .* is beyond the exact range/);
    expect(parseScenario({ ...base(), limits: { simTime: '9000s' } }, '/tmp/s.json', 'h').limits.simTimePs).toBe(9000e12);
  });
});

describe('error messages show a bounded excerpt of the value', () => {
  it('a deeply nested value does not overflow the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const m = err({ ...base(), seed: deep });
    expect(m).toMatch(/seed: must be an integer, got \[\[\[\[…\]\]\]\]/);
    expect(m.length).toBeLessThan(200);
    let obj: unknown = {};
    for (let i = 0; i < 200_000; i++) obj = { a: obj };
    expect(err({ ...base(), name: obj }).length).toBeLessThan(200);
  });
  it('a huge value is echoed as an excerpt of at most 80 characters', () => {
    const huge = 'x'.repeat(20 * 1024 * 1024);
    for (const bad of [
      { ...base(), seed: huge },
      { ...base(), limits: { simTime: huge } },
      { ...base(), expect: { wifiOutcome: huge } },
      { ...base(), [huge]: 1 },
      { ...base(), seed: Array.from({ length: 1_000_000 }, (_, i) => i) },
    ]) {
      const m = err(bad);
      expect(m.length).toBeLessThan(300);
    }
    const dev = base();
    (dev.machine.devices[0] as Record<string, unknown>).id = huge;
    expect(err(dev).length).toBeLessThan(300);
    const bdf = base();
    dev.machine.devices[0]!.bdf = huge;
    bdf.machine.devices[0]!.bdf = huge;
    expect(err(bdf).length).toBeLessThan(300);
    expect(err({ ...base(), drivers: { [huge]: {} } }).length).toBeLessThan(300);
    expect(show(huge)).toHaveLength(80);
    expect(show({ a: [1, { b: 'c' }] })).toBe('{"a":[1,{"b":"c"}]}');
  });
  it('props errors (device props, driver and workload parameters) are bounded too', () => {
    const table = { n: { type: 'number', default: 1, doc: '' }, s: { type: 'string', default: '', doc: '' } } as const satisfies PropTable;
    for (const raw of [{ n: 'y'.repeat(1_000_000) }, { s: [[[[[[1]]]]]] }, { ['k'.repeat(1_000_000)]: 1 }]) {
      let m = '';
      try { validateProps(table, raw, 'workload'); } catch (e) { expect(e).toBeInstanceOf(PropError); m = (e as Error).message; }
      expect(m).not.toBe('');
      expect(m.length).toBeLessThan(300);
    }
  });
});

describe('props validation', () => {
  const table = {
    count: { type: 'number', default: 1, min: 0, integer: true, doc: '' },
    ratio: { type: 'number', default: 1, min: 0, doc: '' },
    lo: { type: 'number', default: 1, min: 1, max: 100, integer: true, atMost: 'hi', doc: '' },
    hi: { type: 'number', default: 32, min: 1, max: 100, integer: true, doc: '' },
    name: { type: 'string', default: 'x', minLength: 1, maxLength: 32, doc: '' },
  } as const satisfies PropTable;
  const msg = (raw: unknown): string => {
    try { validateProps(table, raw, 'workload'); } catch (e) { return (e as Error).message; }
    return '';
  };
  it('caps numbers without a maximum at Number.MAX_SAFE_INTEGER', () => {
    expect(msg({ count: 1e300 })).toMatch(/workload\.count: must be <= 9007199254740991, got 1e\+300/);
    expect(msg({ ratio: 1e300 })).toMatch(/workload\.ratio: must be <= 9007199254740991/);
    expect(msg({ count: Number.MAX_SAFE_INTEGER })).toBe('');
  });
  it('checks one prop against another (minBlocks <= maxBlocks)', () => {
    expect(msg({ lo: 40, hi: 8 })).toBe('workload.lo: must be <= hi (8), got 40');
    expect(msg({ lo: 40 })).toBe('workload.lo: must be <= hi (32), got 40');
    expect(msg({ lo: 8, hi: 8 })).toBe('');
  });
  it('checks string lengths (an empty SSID)', () => {
    expect(msg({ name: '' })).toBe('workload.name: must not be empty');
    expect(msg({ name: 'n'.repeat(33) })).toMatch(/workload\.name: must have at most 32 characters, got 33/);
  });
});
