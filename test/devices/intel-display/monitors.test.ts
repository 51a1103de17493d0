import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceConfigError } from '../../../src/devices/device.js';
import { decodeEdid } from '../../../src/devices/intel-display/edid.js';
import { isConnected, loadMonitors } from '../../../src/devices/intel-display/monitors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('fixtures/displays', () => {
  it('every fixture loads, and each EDID decodes to its monitor', () => {
    const files = readdirSync(join(ROOT, 'fixtures/displays')).filter((f) => f.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['default.json', 'small.json', 'two-monitors.json', 'hotplug.json', 'edid-nak.json']));
    for (const f of files) {
      const ms = loadMonitors(ROOT, `fixtures/displays/${f}`);
      for (const m of ms) {
        const d = decodeEdid(m.edid);
        expect(d.headerOk, f).toBe(true);
        expect(d.checksumsOk.every(Boolean), f).toBe(true);
        expect(d.name, f).toBe(m.name);
        expect(d.dtds.length, f).toBe(m.modes.length);
        expect(m.modes[0]!.preferred, f).toBe(true);
        expect(m.modes.filter((x) => x.preferred), f).toHaveLength(1);
      }
    }
  });

  it('default: one 1920x1080@60 HDMI monitor on port B from power-on', () => {
    const [m, ...rest] = loadMonitors(ROOT, 'fixtures/displays/default.json');
    expect(rest).toHaveLength(0);
    expect(m!.port).toBe('B');
    expect(m!.connector).toBe('hdmi');
    expect(m!.plugAtUs).toBeNull();
    expect(m!.modes[0]).toMatchObject({ hActive: 1920, vActive: 1080, pixelClockKHz: 148_500, preferred: true });
    expect(isConnected(m!, 0)).toBe(true);
  });

  it('small: 640x480 preferred, one EDID block', () => {
    const [m] = loadMonitors(ROOT, 'fixtures/displays/small.json');
    expect(m!.modes[0]).toMatchObject({ hActive: 640, vActive: 480, pixelClockKHz: 25_200 });
    expect(m!.edid.length).toBe(128);
  });

  it('two-monitors: B and C; the mode marked preferred goes first', () => {
    const ms = loadMonitors(ROOT, 'fixtures/displays/two-monitors.json');
    expect(ms.map((m) => m.port)).toEqual(['B', 'C']);
    expect(ms[1]!.modes.map((m) => `${m.hActive}x${m.vActive}`)).toEqual(['1280x1024', '1024x768']);
    expect(decodeEdid(ms[1]!.edid).dtds[0]!.hActive).toBe(1280);
  });

  it('hotplug: plugged at 50 ms', () => {
    const [m] = loadMonitors(ROOT, 'fixtures/displays/hotplug.json');
    expect(m!.plugAtUs).toBe(50_000);
    expect(isConnected(m!, 49_999_999_999)).toBe(false);
    expect(isConnected(m!, 50_000_000_000)).toBe(true);
  });

  it('edid-nak: the fault flag is set', () => {
    const [m] = loadMonitors(ROOT, 'fixtures/displays/edid-nak.json');
    expect(m!.edidNak).toBe(true);
  });
});

describe('validation errors name the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simrun-displays-'));
  const good = {
    name: 'X', port: 'B', connector: 'hdmi', manufacturer: 'SIM', sizeMm: { width: 500, height: 300 }, modes: ['1920x1080@60'],
  };
  let n = 0;
  const load = (json: unknown): unknown => {
    const f = `m${n++}.json`;
    writeFileSync(join(dir, f), typeof json === 'string' ? json : JSON.stringify(json));
    try {
      loadMonitors(dir, f);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const expectErr = (json: unknown, field: string, text: RegExp) => {
    const e = load(json);
    expect(e).toBeInstanceOf(DeviceConfigError);
    const err = e as DeviceConfigError;
    expect(err.field).toBe('displays');
    expect(err.message).toMatch(new RegExp(`m\\d+\\.json: ${field.replace(/[[\].]/g, '\\$&')}: `));
    expect(err.message).toMatch(text);
  };

  it('accepts a minimal monitor', () => {
    expect(load({ monitors: [good] })).toBeUndefined();
    expect(load({ monitors: [] })).toBeUndefined();
  });

  it('rejects unknown fields at every level', () => {
    expect(load({ monitors: [], extra: 1 })).toBeInstanceOf(DeviceConfigError);
    expectErr({ monitors: [{ ...good, colour: 'red' }] }, 'monitors[0].colour', /unknown field/);
    expectErr({ monitors: [{ ...good, modes: [{ standard: '1920x1080@60', fast: true }] }] }, 'monitors[0].modes[0].fast', /unknown field/);
    expectErr({ monitors: [{ ...good, sizeMm: { width: 500, height: 300, depth: 3 } }] }, 'monitors[0].sizeMm.depth', /unknown field/);
  });

  it('checks ports, connectors and identity fields', () => {
    expectErr({ monitors: [{ ...good, port: 'A' }] }, 'monitors[0].port', /"B", "C" or "D"/);
    expectErr({ monitors: [good, good] }, 'monitors[1].port', /already has a monitor \(monitors\[0\]\)/);
    expectErr({ monitors: [{ ...good, connector: 'vga' }] }, 'monitors[0].connector', /"hdmi", "dp" or "dvi"/);
    expectErr({ monitors: [{ ...good, manufacturer: 'sim' }] }, 'monitors[0].manufacturer', /three-letter/);
    expectErr({ monitors: [{ ...good, name: 'A name that is too long' }] }, 'monitors[0].name', /1\.\.13/);
    expectErr({ monitors: [{ ...good, product: 70000 }] }, 'monitors[0].product', /between 0 and 65535/);
    expectErr({ monitors: [{ ...good, year: 1980 }] }, 'monitors[0].year', /between 1990/);
    expectErr({ monitors: [{ ...good, sizeMm: undefined }] }, 'monitors[0].sizeMm', /must be an object/);
  });

  it('checks modes: names, timings, pixel clock units, one preferred, no duplicates', () => {
    expectErr({ monitors: [{ ...good, modes: [] }] }, 'monitors[0].modes', /1\.\.8 modes/);
    expectErr({ monitors: [{ ...good, modes: ['1920x1080@61'] }] }, 'monitors[0].modes[0]', /unknown standard mode/);
    const full = { pixelClockKHz: 25_200, hActive: 640, hSyncStart: 656, hSyncEnd: 752, hTotal: 800, vActive: 480, vSyncStart: 490, vSyncEnd: 492, vTotal: 525, hSyncPositive: false, vSyncPositive: false };
    expect(load({ monitors: [{ ...good, modes: [full] }] })).toBeUndefined();
    expectErr({ monitors: [{ ...good, modes: ['1920x1080@60', { ...full, hActive: 0 }] }] }, 'monitors[0].modes[1].hActive', /between 1 and 4095/);
    expectErr({ monitors: [{ ...good, modes: [{ ...full, hActive: 5000 }] }] }, 'monitors[0].modes[0].hActive', /between 1 and 4095/);
    expectErr({ monitors: [{ ...good, modes: [{ ...full, pixelClockKHz: 25_175 }] }] }, 'monitors[0].modes[0].pixelClockKHz', /multiple of 10/);
    expectErr({ monitors: [{ ...good, modes: [{ ...full, hSyncEnd: 600 }] }] }, 'monitors[0].modes[0].hSyncEnd', /between 657/);
    expectErr({ monitors: [{ ...good, modes: [{ ...full, vSyncStart: 600 }] }] }, 'monitors[0].modes[0].vSyncStart', /between 480 and 543/);
    const { hSyncPositive: _, ...noPol } = full;
    expectErr({ monitors: [{ ...good, modes: [noPol] }] }, 'monitors[0].modes[0].hSyncPositive', /required/);
    expectErr({ monitors: [{ ...good, modes: [{ standard: '640x480@60', hTotal: 800 }] }] }, 'monitors[0].modes[0].hTotal', /not both/);
    expectErr({ monitors: [{ ...good, modes: [{ standard: '640x480@60', preferred: true }, { standard: '1920x1080@60', preferred: true }] }] }, 'monitors[0].modes[1].preferred', /only one mode/);
    expectErr({ monitors: [{ ...good, modes: ['640x480@60', full] }] }, 'monitors[0].modes[1]', /same timing as modes\[0\]/);
    expectErr({ monitors: [{ ...good, modes: Array(9).fill(0).map((_, i) => ({ ...full, hTotal: 800 + i })) }] }, 'monitors[0].modes', /1\.\.8 modes/);
  });

  it('checks the hot-plug schedule and fault flags', () => {
    expectErr({ monitors: [{ ...good, plugAtUs: -1 }] }, 'monitors[0].plugAtUs', /between 0/);
    expectErr({ monitors: [{ ...good, plugAtUs: 100, unplugAtUs: 100 }] }, 'monitors[0].unplugAtUs', /later than plugAtUs \(100\)/);
    expectErr({ monitors: [{ ...good, plugAtUs: 1.5 }] }, 'monitors[0].plugAtUs', /integer/);
    expectErr({ monitors: [{ ...good, auxNak: true }] }, 'monitors[0].auxNak', /only a "dp" monitor/);
    expectErr({ monitors: [{ ...good, edidNak: 'yes' }] }, 'monitors[0].edidNak', /true or false/);
    expect(load({ monitors: [{ ...good, plugAtUs: null, unplugAtUs: 5 }] })).toBeUndefined();
  });

  it('a missing file, bad JSON or a missing list are errors naming the file', () => {
    let e: unknown;
    try {
      loadMonitors(dir, 'nope.json');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DeviceConfigError);
    expect((e as Error).message).toMatch(/nope\.json: monitors file not found/);
    expect((load('{ not json') as Error).message).toMatch(/m\d+\.json: not valid JSON/);
    expectErr({}, 'monitors', /is required/);
  });
});
