import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBisect, type BisectOptions } from '../../../src/machine/bisect/bisect.js';
import { loadVariants, ignoreFilter } from '../../../src/machine/bisect/variants.js';
// A driver crash in a run fails the test unless the test declares it.
import '../../support/crash-guard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BASE = join(ROOT, 'fixtures/scenarios/nvme-msix.json');
const dir = mkdtempSync(join(tmpdir(), 'simrun-bisect-variants-'));
const tmpRoot = mkdtempSync(join(tmpdir(), 'simrun-bisect-vtmp-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); rmSync(tmpRoot, { recursive: true, force: true }); });

let n = 0;
function file(content: unknown): string {
  const p = join(dir, `v${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}

function bisect(o: Partial<BisectOptions>) {
  const out: string[] = [];
  const progress: string[] = [];
  const err: string[] = [];
  const r = runBisect({ tmpDir: tmpRoot, out: (t) => out.push(t), progress: (t) => progress.push(t), err: (t) => err.push(t), ...o });
  return { r, out: out.join('\n'), progress: progress.join('\n'), err: err.join('\n') };
}

const nvme = (props: Record<string, unknown>) => ({ devices: { nvme0: props } });

describe('simrun bisect --variants', () => {
  it('finds the first variant whose trace leaves the golden one (CAP.MQES), past variants that change nothing observable', () => {
    const f = file({
      scenario: BASE,
      variants: [
        { name: 'base' },
        { name: 'media-6', ...nvme({ mediaChannels: 6 }) },
        { name: 'cow', ...nvme({ writeThrough: false }) },
        { name: 'media-4', ...nvme({ mediaChannels: 4 }) },
        { name: 'mqes-32', ...nvme({ maxQueueEntries: 32 }) },
        { name: 'mqes-16', ...nvme({ maxQueueEntries: 16, readLatencyUs: 90 }) },
      ],
    });
    const { r, out, progress } = bisect({ variants: f });
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe('found');
    expect(r.classify).toBe('golden');
    expect(r.golden).toBe(join(ROOT, 'traces/nvme-msix.simtrace'));
    expect(r.firstBad).toMatchObject({ index: 4, name: 'mqes-32' });
    expect(r.lastGood).toMatchObject({ index: 3, name: 'media-4' });
    expect(r.probes.map((p) => [p.item.name, p.verdict])).toEqual([['base', 'good'], ['mqes-16', 'bad'], ['cow', 'good'], ['media-4', 'good'], ['mqes-32', 'bad']]);
    expect(progress).toMatch(/\[good end\] base: good \(identical to the golden trace, \d+ events\)/);
    expect(out).toMatch(/^first bad variant: mqes-32/);
    expect(out).toContain('last good variant: media-4');
    expect(out).toContain('MMIO read of nvme0 CAP (BAR0+0x0): expected 0x140103ff, got 0x1401001f');
    expect(out).toMatch(/first divergence, last good \(media-4\) against first bad \(mqes-32\)/);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('the example fixtures/variants/nvme-media-channels.json finds media-2 (--json: one object)', () => {
    const { r, out } = bisect({ variants: join(ROOT, 'fixtures/variants/nvme-media-channels.json'), json: true });
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(out);
    expect(j.firstBad.name).toBe('media-2');
    expect(j.lastGood.name).toBe('media-4');
    expect(j.divergence.divergences[0].kind).toBe('extra');
    expect(j.divergence.divergences[0].what).toMatch(/DMA write to memory by nvme0/);
    expect(j.probes.map((p: { name: string; verdict: string }) => `${p.name}:${p.verdict}`)).toEqual(['media-8:good', 'media-1:bad', 'media-4:good', 'media-2:bad']);
  });

  it('classifies by expectations (fixtures/variants/nvme-msix-vectors.json): one MSI-X vector completes no I/O', () => {
    const { r, out } = bisect({ variants: join(ROOT, 'fixtures/variants/nvme-msix-vectors.json') });
    expect(r.exitCode).toBe(0);
    expect(r.classify).toBe('expectations');
    expect(r.firstBad?.name).toBe('msix-1');
    expect(r.lastGood?.name).toBe('msix-2');
    expect(r.failures).toContain('expected at least 1000 I/Os, got 0');
    expect(out).toContain('expectations failed at the first bad variant:\n  - expected at least 1000 I/Os, got 0');
    expect(out).toContain('config read of nvme0 at 0x72: expected 0x00000001, got 0x00000000');
  });

  it('with no golden trace, the first variant is the reference (driver parameters and a second scenario file)', () => {
    const f = file({
      scenario: BASE,
      classify: 'first-variant',
      variants: [
        { name: 'lat-100', ...nvme({ readLatencyUs: 100 }) },
        { name: 'lat-100-qd32', ...nvme({ readLatencyUs: 100 }), drivers: { nvme: { queueDepth: 32 } } },
        { name: 'intx', scenario: join(ROOT, 'fixtures/scenarios/nvme-intx.json'), ...nvme({ readLatencyUs: 100 }) },
      ],
    });
    const { r, out, progress } = bisect({ variants: f });
    expect(r.exitCode).toBe(0);
    expect(r.classify).toBe('first-variant');
    expect(progress).toContain('[good end] lat-100: good (expectations held; its trace is the reference)');
    expect(r.firstBad?.name).toBe('lat-100-qd32');
    expect(r.probes.map((p) => p.verdict)).toEqual(['good', 'bad', 'bad']);
    expect(progress).toMatch(/\[bad end\] intx: bad \(differs from the lat-100 trace \(FUNCTIONAL\): /);
    expect(out).toMatch(/first bad variant: lat-100-qd32/);
  });

  it('exit 1 when the last variant is not bad', () => {
    const f = file({ scenario: BASE, variants: [{ name: 'base' }, { name: 'media-4', ...nvme({ mediaChannels: 4 }) }] });
    const { r, out } = bisect({ variants: f });
    expect(r.exitCode).toBe(1);
    expect(r.status).toBe('bad-end-good');
    expect(out).toMatch(/nothing to bisect: the bad end media-4 is good \(identical to the golden trace/);
  });

  it('exit 1 when the first variant is not good', () => {
    const f = file({ scenario: BASE, variants: [{ name: 'fw', ...nvme({ firmware: '1.1' }) }, { name: 'base' }] });
    const { r, out } = bisect({ variants: f });
    expect(r.exitCode).toBe(1);
    expect(r.status).toBe('good-end-bad');
    expect(out).toMatch(/the good end fw is not good \(differs from the golden trace \(FUNCTIONAL\): /);
  });

  it('bad variants files: exit 2, naming the file and the field, before anything runs', () => {
    const ok = { name: 'base' };
    const cases: [unknown, RegExp][] = [
      ['{ not json', /v\d+\.json: not valid JSON/],
      [[], /v\d+\.json: must be an object/],
      [{ scenario: BASE, variants: [ok, ok], extra: 1 }, /v\d+\.json: extra: unknown field \(allowed: description, scenario, golden, classify, failOn, ignore, lengthOnly, variants\)/],
      [{ scenario: BASE, failOn: 'always', variants: [ok, { name: 'b' }] }, /v\d+\.json: failOn: must be "timing" or "functional"/],
      [{ variants: [ok, { name: 'b' }] }, /v\d+\.json: scenario: is required/],
      [{ scenario: 'nope.json', variants: [ok, { name: 'b' }] }, /v\d+\.json: scenario: scenario file not found: .*nope\.json/],
      [{ scenario: BASE, golden: 'nope.simtrace', variants: [ok, { name: 'b' }] }, /v\d+\.json: golden: golden trace not found/],
      [{ scenario: BASE, classify: 'vibes', variants: [ok, { name: 'b' }] }, /classify: must be one of golden, first-variant, expectations/],
      [{ scenario: BASE }, /variants: is required/],
      [{ scenario: BASE, ignore: 'log', variants: [ok, { name: 'b' }] }, /v\d+\.json: ignore: must be a list of event selectors/],
      [{ scenario: BASE, ignore: ['log', 'dma:'], variants: [ok, { name: 'b' }] }, /v\d+\.json: ignore\[1\]: "dma:" is not an event selector/],
      [{ scenario: BASE, lengthOnly: ['mmio'], variants: [ok, { name: 'b' }] }, /v\d+\.json: lengthOnly\[0\]: "mmio" is not "dma:<tag>" or "air"/],
      [{ scenario: BASE, variants: [ok] }, /variants: needs at least 2 variants/],
      [{ scenario: BASE, variants: [ok, { name: 'base' }] }, /variants\[1\]\.name: duplicate name "base" \(also variants\[0\]\)/],
      [{ scenario: BASE, variants: [ok, { devices: {} }] }, /variants\[1\]\.name: is required/],
      [{ scenario: BASE, variants: [ok, { name: 'b', device: {} }] }, /variants\[1\]\.device: unknown field \(allowed: name, description, scenario, devices, drivers\)/],
      [{ scenario: BASE, variants: [ok, { name: 'b', scenario: 'missing.json' }] }, /variants\[1\]\.scenario: scenario file not found: .*missing\.json/],
      [{ scenario: BASE, variants: [ok, { name: 'b', ...nvme({}) }, { name: 'c', devices: { nvme1: {} } }] }, /variants\[2\]\.devices\.nvme1: no device "nvme1" in .*nvme-msix\.json \(devices: nvme0\)/],
      [{ scenario: BASE, variants: [ok, { name: 'b', ...nvme({ firmwar: '1.1' }) }] }, /variants\[1\]\.devices\.nvme0\.firmwar: unknown property/],
      [{ scenario: BASE, variants: [ok, { name: 'b', ...nvme({ maxQueueEntries: 1 }) }] }, /variants\[1\]\.devices\.nvme0\.maxQueueEntries: must be >= 2, got 1/],
      [{ scenario: BASE, variants: [ok, { name: 'b', devices: { nvme0: 3 } }] }, /variants\[1\]\.devices\.nvme0: must be an object/],
      [{ scenario: BASE, variants: [ok, { name: 'b', drivers: { ahci: {} } }] }, /variants\[1\]\.drivers\.ahci: unknown driver \(known: nvme, iwlwifi[,)]/],
      [{ scenario: BASE, variants: [ok, { name: 'b', drivers: { nvme: { irqMode: 'msx' } } }] }, /variants\[1\]\.drivers\.nvme\.irqMode: must be one of auto, msix, msi, intx/],
      // Checked by the device model when the machine is built, mapped back to the override.
      [{ scenario: BASE, variants: [ok, { name: 'b', ...nvme({ readyDelayMs: 20000 }) }] }, /variants\[1\]\.devices\.nvme0\.readyDelayMs: 20000 ms exceeds CAP\.TO/],
      [{ scenario: BASE, variants: [ok, { name: 'b', ...nvme({ image: 'nope.img' }) }] }, /variants\[1\]\.devices\.nvme0\.image: cannot read disk image "nope\.img"/],
    ];
    for (const [content, msg] of cases) {
      const f = file(content);
      const { r, err } = bisect({ variants: f });
      expect(r.exitCode, JSON.stringify(content)).toBe(2);
      expect(r.status).toBe('bad-input');
      expect(err, JSON.stringify(content)).toMatch(msg);
      expect(err.startsWith(`error: ${f}`), err).toBe(true);
      expect(r.probes).toEqual([]);
    }
  });

  it('bad options: exit 2; --json reports the error as one object', () => {
    const f = join(ROOT, 'fixtures/variants/nvme-media-channels.json');
    expect(bisect({ variants: 'nope.json' }).err).toMatch(/nope\.json: variants file not found/);
    expect(bisect({ variants: f, scenario: 'nvme-intx' }).err).toMatch(/--scenario: is for --git/);
    expect(bisect({ variants: f, install: 'true' }).r.exitCode).toBe(2);
    expect(bisect({}).err).toMatch(/give either --git <good>\.\.<bad> or --variants <file>/);
    expect(bisect({ variants: f, git: 'a..b' }).r.exitCode).toBe(2);
    expect(bisect({ variants: f, golden: join(dir, 'none.simtrace') }).err).toMatch(/--golden: golden trace not found/);
    const notTrace = file('not a trace');
    expect(bisect({ variants: f, golden: notTrace }).err).toMatch(/not a simrun trace/);
    const j = bisect({ variants: 'nope.json', json: true });
    expect(j.r.exitCode).toBe(2);
    expect(JSON.parse(j.out)).toMatchObject({ exitCode: 2, status: 'bad-input', error: expect.stringMatching(/variants file not found/) });
  });

  it('loadVariants applies overrides on top of the scenario, keeping its relative paths', () => {
    const f = file({ scenario: BASE, variants: [{ name: 'a' }, { name: 'b', ...nvme({ firmware: '2.0' }), drivers: { nvme: { queueDepth: 16 } } }] });
    const v = loadVariants(f);
    expect(v.variants[0]!.scenario.hash).not.toBe(v.variants[1]!.scenario.hash);
    const b = v.variants[1]!.scenario;
    expect(b.machine.devices[0]!.props).toEqual({ image: '../disks/nvme-8m.img', firmware: '2.0' });
    expect(b.drivers.nvme).toEqual({ irqMode: 'msix', ioQueues: 2, queueDepth: 16 });
    expect(b.baseDir).toBe(join(ROOT, 'fixtures/scenarios'));
  });
});

describe('variants file: ignore', () => {
  it('skips the selected kinds, DMA tags and milestone names, and keeps everything else', () => {
    const keep = ignoreFilter(['log', 'dma:iwl.fw-chunk', 'milestone:fw.alive']);
    const base = { seq: 0, time: 0 };
    expect(keep({ ...base, kind: 'log', pid: 1, level: 'info', text: 'x' } as never)).toBe(false);
    expect(keep({ ...base, kind: 'dma', write: false, dev: 0, addr: 0, data: new Uint8Array(4), tag: 'iwl.fw-chunk' } as never)).toBe(false);
    expect(keep({ ...base, kind: 'dma', write: true, dev: 0, addr: 0, data: new Uint8Array(4), tag: 'iwl.rx' } as never)).toBe(true);
    expect(keep({ ...base, kind: 'milestone', dev: 0, name: 'fw.alive', a: 0, b: 0 } as never)).toBe(false);
    expect(keep({ ...base, kind: 'milestone', dev: 0, name: 'fw.chunk', a: 0, b: 0 } as never)).toBe(true);
    expect(keep({ ...base, kind: 'mmio', write: true, core: 0, dev: 0, bar: 0, offset: 0x20, size: 4, value: 0 } as never)).toBe(true);
  });
});
