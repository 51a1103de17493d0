import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '../../../src/drivers/linux-kpi');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts')).sort();

/** Every import/export-from statement of a source file: its specifier and whether it is type-only. */
function imports(src: string): { spec: string; typeOnly: boolean; text: string }[] {
  const out: { spec: string; typeOnly: boolean; text: string }[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of src.matchAll(re)) {
    const spec = m[4] ?? m[5] ?? m[6]!;
    out.push({ spec, typeOnly: m[2] !== undefined, text: m[0].trim() });
  }
  return out;
}

/** Resolves a relative specifier from src/drivers/linux-kpi to a path under src/. */
function underSrc(spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const parts = ['drivers', 'linux-kpi'];
  for (const p of spec.split('/')) {
    if (p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/').replace(/\.js$/, '');
}

describe('linux-kpi layering', () => {
  it('finds the modules and their imports', () => {
    expect(files).toEqual(expect.arrayContaining(['kpi.ts', 'pci.ts', 'interrupt.ts', 'timer.ts', 'workqueue.ts', 'mutex.ts', 'spinlock.ts', 'napi.ts', 'firmware.ts', 'skbuff.ts', 'completion.ts', 'slab.ts', 'dma-mapping.ts', 'dmapool.ts', 'device.ts', 'io.ts']));
    // The scanner sees both import forms (a broken regex would make the checks below vacuous).
    const kpi = imports(readFileSync(join(DIR, 'kpi.ts'), 'utf8'));
    expect(kpi.map((i) => i.spec)).toEqual(expect.arrayContaining(['../../kernel/sys.js', './pci.js']));
    expect(kpi.some((i) => i.typeOnly)).toBe(true);
  });

  it('reaches the kernel model only through Sys: nothing from src/sim or kernel/kernel, kernel only sys/types/errno (+ pcid types)', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const i of imports(readFileSync(join(DIR, f), 'utf8'))) {
        const p = underSrc(i.spec);
        if (p === undefined) continue;
        if (p.startsWith('sim/')) bad.push(`${f}: ${i.text}`);
        else if (p.startsWith('kernel/')) {
          const ok = p === 'kernel/sys' || p === 'kernel/types' || p === 'kernel/errno' || (p === 'kernel/pcid' && i.typeOnly);
          if (!ok) bad.push(`${f}: ${i.text}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('uses no kernel internals through Sys (sys.kernel, sys.ctx, the scheduler, cores, the event queue)', () => {
    const bad: string[] = [];
    for (const f of files) {
      const src = readFileSync(join(DIR, f), 'utf8');
      src.split('\n').forEach((line, n) => {
        if (/\/\/|^\s*\*/.test(line.trimStart().slice(0, 2))) return; // comments
        if (/\.(kernel|ctx|sched|scheduler|queue|cores?)\b/.test(line)) bad.push(`${f}:${n + 1}: ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });
});
