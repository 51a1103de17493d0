/**
 * The import graph follows the layers (DESIGN.md "Layout"): the engine at
 * the bottom imports nothing else from src/; the trace tools import only the
 * engine and their own folder and name no device; the composition root sits
 * above devices, kernel, drivers and workloads.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEVICE_FACTORIES } from '../src/devices/registry.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Top-level src/ folder of every relative import of `file`, with the imported path. */
function imports(file: string): { folder: string; target: string }[] {
  const text = readFileSync(file, 'utf8');
  const out: { folder: string; target: string }[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = relative(src, resolve(dirname(file), m[1]!));
    out.push({ folder: target.split('/')[0]!, target });
  }
  return out;
}

function violations(folder: string, allowed: readonly string[]): string[] {
  const bad: string[] = [];
  for (const f of files(join(src, folder))) {
    for (const i of imports(f)) if (!allowed.includes(i.folder)) bad.push(`${relative(root, f)} imports ${i.target}`);
  }
  return bad;
}

describe('layers', () => {
  it('src/sim (the engine) imports nothing outside src/sim', () => {
    expect(violations('sim', ['sim'])).toEqual([]);
  });

  it('src/trace imports only the engine and itself', () => {
    expect(violations('trace', ['trace', 'sim'])).toEqual([]);
  });

  it('no registered device type or device folder is named in src/trace', () => {
    const names = [...DEVICE_FACTORIES.map((f) => f.type), ...readdirSync(join(src, 'devices')).filter((n) => statSync(join(src, 'devices', n)).isDirectory() && n !== 'pci'), 'wifi'];
    expect(names).toContain('nvme');
    const hits: string[] = [];
    for (const f of files(join(src, 'trace'))) {
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.forEach((l, i) => {
        for (const n of names) if (l.toLowerCase().includes(n.toLowerCase())) hits.push(`${relative(root, f)}:${i + 1}: ${n}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('devices depend only on the engine, the trace decoder contract, the simulated network and themselves', () => {
    expect(violations('devices', ['devices', 'sim', 'trace', 'net'])).toEqual([]);
  });

  it('the simulated network (links, peer hosts, protocol codecs) depends only on the engine and itself', () => {
    expect(violations('net', ['net', 'sim'])).toEqual([]);
  });

  it('the kernel model depends only on the engine and itself', () => {
    expect(violations('kernel', ['kernel', 'sim'])).toEqual([]);
  });

  it('drivers and workloads never import the machine, the CLI or a device model', () => {
    const bad = [...violations('drivers', ['drivers', 'kernel', 'sim', 'trace', 'wasm']), ...violations('workloads', ['workloads', 'kernel', 'sim', 'trace'])];
    expect(bad).toEqual([]);
  });

  it('the compiled-driver runtime sits beside the drivers: engine, kernel model and linux-kpi only', () => {
    expect(violations('wasm', ['wasm', 'kernel', 'sim', 'drivers'])).toEqual([]);
  });

  it('nothing below the composition root imports src/machine or src/cli', () => {
    const below = ['sim', 'trace', 'devices', 'kernel', 'drivers', 'workloads', 'wasm'];
    const bad = below.flatMap((b) => files(join(src, b)).flatMap((f) => imports(f).filter((i) => i.folder === 'machine' || i.folder === 'cli').map((i) => `${relative(root, f)} imports ${i.target}`)));
    expect(bad).toEqual([]);
  });

  it('the test sees every folder: a missing one would make these checks vacuous', () => {
    for (const d of ['sim', 'trace', 'devices', 'kernel', 'drivers', 'workloads', 'wasm', 'machine', 'cli']) expect(files(join(src, d)).length).toBeGreaterThan(0);
  });
});
