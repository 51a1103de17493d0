import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { importMmiotrace } from '../machine/import-mmiotrace.js';
import { loadScenario } from '../machine/scenario.js';
import { InputError } from '../sim/errors.js';
import { EXIT, UsageError } from './exit.js';
import { checkWritablePath } from './paths.js';

export interface ImportArgs {
  mmiotrace?: string | undefined;
  out?: string | undefined;
  /** Scenario file (resolved by the caller). */
  scenario: string;
  /** Whether the scenario was given (else the default one is used, and said so). */
  scenarioGiven: boolean;
  device?: string | undefined;
  json?: boolean | undefined;
  out_: (line: string) => void;
  err: (line: string) => void;
}

/** The default output: out/<log name without its extension>.simtrace. */
export function defaultImportPath(file: string): string {
  const b = basename(file);
  const ext = extname(b);
  return join('out', `${ext === '' ? b : b.slice(0, -ext.length)}.simtrace`);
}

/**
 * `simrun import --mmiotrace <file> [-o trace.simtrace] [--scenario <name|file>] [--device <id>]`:
 * a Linux mmiotrace log as a simrun trace of one device (src/machine/import-mmiotrace.ts,
 * docs/MMIOTRACE.md). Exit 0 written; 2 a malformed log (file and line named), no
 * matching device, or an unwritable output.
 */
export function importCommand(a: ImportArgs): number {
  if (a.mmiotrace === undefined || a.mmiotrace === '') throw new UsageError('import needs a log: simrun import --mmiotrace <file> [-o trace.simtrace] [--scenario <name|file>] [--device <id>]');
  const out = a.out ?? defaultImportPath(a.mmiotrace);
  checkWritablePath(out, '--out');
  if (resolve(out) === resolve(a.mmiotrace)) throw new InputError(out, '', 'the output would overwrite the mmiotrace log');
  const scenario = loadScenario(a.scenario);
  try {
    mkdirSync(dirname(out), { recursive: true });
  } catch (e) {
    throw new InputError(out, '', `cannot create its directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const r = importMmiotrace({ file: a.mmiotrace, out, scenario, device: a.device });
  const maps = r.maps.map((m) => `map ${m.id} = bar${m.bar}+0x${m.offset.toString(16)} (0x${m.len.toString(16)} bytes, line ${m.line})`);
  if (a.json) {
    a.out_(JSON.stringify({
      out: r.out, scenario: scenario.name, device: r.device, pcidev: { bdf: r.pcidev.bdf, vendorId: r.pcidev.vendorId, deviceId: r.pcidev.deviceId, driver: r.pcidev.driver, line: r.pcidev.line },
      reads: r.reads, writes: r.writes, marks: r.marks, maps: r.maps, simulatedConfig: r.simulatedConfig, records: r.records, endPs: r.endPs, notes: r.notes,
    }));
  } else {
    const p = r.pcidev;
    const hex4 = (v: number): string => v.toString(16).padStart(4, '0');
    a.out_(`${r.out}: ${r.device.id} (${r.device.type}, ${r.device.bdf}) of scenario ${scenario.name}${a.scenarioGiven ? '' : ' (the default; --scenario names another)'} from PCIDEV ${p.bdf} ${hex4(p.vendorId)}:${hex4(p.deviceId)}${p.driver !== '' ? ` (${p.driver})` : ''}, line ${p.line}`);
    a.out_(`  ${r.reads + r.writes} MMIO accesses (${r.reads} reads, ${r.writes} writes) through ${maps.join(', ')}; ${r.marks} MARK line${r.marks === 1 ? '' : 's'} as log records`);
    a.out_(`  config space: ${r.simulatedConfig} accesses from a simulated run of ${scenario.name} (an mmiotrace has no config cycles)`);
    for (const n of r.notes) a.err(`note: ${n}`);
    a.out_('  replay as hardware (simrun replay): register reads are answered from the capture and writes compared with it; the capture holds no DMA and no interrupts, so a driver that waits for a completion or an interrupt after the capture\'s last access waits in vain, and the replay reports what the driver did next as a divergence (docs/MMIOTRACE.md)');
  }
  return EXIT.ok;
}
