import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { runScenario } from '../../../src/machine/run.js';
import { loadScenario, type Scenario } from '../../../src/machine/scenario.js';
import { FactStream, FactTable, factChange } from '../../../src/trace/verdict/facts.js';
import { judge, judgeTraces, traceBehaviour, verdictFails } from '../../../src/trace/verdict/judge.js';
import { ROOT } from '../../e2e/helpers.js';

const decoders = deviceDecoders();
const golden = (name: string) => join(ROOT, 'traces', `${name}.simtrace`);
const scenario = (name: string): Scenario => loadScenario(join(ROOT, 'fixtures/scenarios', `${name}.json`));

/** The scenario on a machine whose costs move every time: slower MMIO, context switches, interrupt entry and scheme hops. */
function slower(s: Scenario, k: number): Scenario {
  const c = s.machine.costs;
  return {
    ...s,
    machine: {
      ...s.machine,
      costs: {
        ...c, mmioWritePs: c.mmioWritePs * (1 + 2 * k), mmioReadPs: Math.round(c.mmioReadPs * (1 + 0.7 * k)),
        contextSwitchPs: c.contextSwitchPs + 500_000 * k, interruptEntryPs: c.interruptEntryPs * (1 + k), schemeHopPs: c.schemeHopPs * (1 + k),
      },
    },
  };
}

const record = (s: Scenario): Uint8Array => runScenario(s, { recordToBuffer: true }).trace!.buffer!;

describe('behaviour facts', () => {
  it('seq streams keep order, seq-collapse drops repeats, multisets count, sets do not', () => {
    const t = new FactTable();
    t.source = 'dev';
    for (const f of ['a', 'a', 'b', 'a']) t.fact('s', 'seq', f);
    for (const f of ['a', 'a', 'b', 'a']) t.fact('c', 'seq-collapse', f);
    for (const f of ['x', 'y', 'x']) t.fact('m', 'multiset', f);
    for (const f of ['x', 'y', 'x']) t.fact('set', 'set', f);
    const get = (n: string) => t.streams.get(`dev\u0000${n}`)!;
    expect(get('s').seq).toEqual(['a', 'a', 'b', 'a']);
    expect(get('c').seq).toEqual(['a', 'b', 'a']);
    expect([...get('m').counts]).toEqual([['x', 2], ['y', 1]]);
    expect([...get('set').counts]).toEqual([['x', 1], ['y', 1]]);
    // Multiset digests do not depend on order; seq digests do.
    const m1 = new FactStream('d', 'm', 'multiset');
    const m2 = new FactStream('d', 'm', 'multiset');
    ['p', 'q', 'p'].forEach((f) => m1.add(f));
    ['q', 'p', 'p'].forEach((f) => m2.add(f));
    expect(m1.digest()).toBe(m2.digest());
    const s1 = new FactStream('d', 's', 'seq');
    const s2 = new FactStream('d', 's', 'seq');
    ['p', 'q'].forEach((f) => s1.add(f));
    ['q', 'p'].forEach((f) => s2.add(f));
    expect(s1.digest()).not.toBe(s2.digest());
  });

  it('ignore rules drop fields by key', () => {
    const t = new FactTable(new Set(['tsf']));
    t.source = 'd';
    t.fact('s', 'seq', 'RX ch=6 tsf=123');
    expect(t.streams.get('d\u0000s')!.seq).toEqual(['RX ch=6']);
  });

  it('factChange names the fields that changed', () => {
    expect(factChange('READ nsid=1 slba=8 nlb=8 prp2=set → SUCCESS', 'READ nsid=1 slba=8 nlb=8 prp2=none → SUCCESS')).toBe('prp2: set → none');
    expect(factChange('CREATE_IO_SQ qid=1 size=64', 'CREATE_IO_SQ qid=1 size=32')).toBe('size: 64 → 32');
    expect(factChange('W AQA <- 0x1f001f', 'W AQA <- 0xf000f')).toBe('0x1f001f → 0xf000f');
    expect(factChange('a=1', 'b=2')).toBeUndefined();
  });
});

describe('verdicts on real runs', () => {
  let nvmeSlow: Uint8Array;
  let wifiSlow: Uint8Array;
  beforeAll(() => {
    nvmeSlow = record(slower(scenario('nvme-msix'), 5));
    wifiSlow = record(slower(scenario('wifi-connect'), 5));
  });

  it('a trace against itself is IDENTICAL', () => {
    const r = judgeTraces(golden('nvme-msix'), golden('nvme-msix'), decoders);
    expect(r.verdict).toBe('IDENTICAL');
    expect(r.headlines).toEqual([]);
    expect(verdictFails(r, 'timing')).toBe(false);
  });

  it('NVMe on a slower machine is TIMING-ONLY: same commands and data, other interleaving of the clients', () => {
    const r = judgeTraces(golden('nvme-msix'), nvmeSlow, decoders);
    expect(r.differences).toEqual([]);
    expect(r.verdict).toBe('TIMING-ONLY');
    expect(r.headlines[0]).toBe('same behaviour; only timing differs');
    expect(r.headlines.slice(1).join('\n')).toMatch(/\+\d+(\.\d)?%/);
    expect(verdictFails(r, 'functional')).toBe(false);
    expect(verdictFails(r, 'timing')).toBe(true);
    // The strict event order did change: this is not an identical run.
    expect(traceBehaviour(nvmeSlow, decoders).exact).not.toBe(traceBehaviour(golden('nvme-msix'), decoders).exact);
  });

  it('Wi-Fi on a slower machine is TIMING-ONLY (beacon counts, time stamps and sequence numbers of received frames are timing)', () => {
    const r = judgeTraces(golden('wifi-connect'), wifiSlow, decoders);
    expect(r.differences).toEqual([]);
    expect(r.verdict).toBe('TIMING-ONLY');
  });

  it('a timing budget turns a large slow-down into a failure, a generous one does not', () => {
    const a = traceBehaviour(golden('nvme-msix'), decoders);
    const b = traceBehaviour(nvmeSlow, decoders);
    const tight = judge(a, b, { timingBudgetPct: 10 });
    expect(tight.verdict).toBe('TIMING-ONLY');
    expect(tight.overBudget.length).toBeGreaterThan(0);
    expect(tight.headlines[0]).toMatch(/^over the 10% timing budget: nvme0 .*\(\+\d/);
    expect(verdictFails(tight, 'functional')).toBe(true);
    const loose = judge(a, b, { timingBudgetPct: 1000 });
    expect(loose.overBudget).toEqual([]);
    expect(verdictFails(loose, 'functional')).toBe(false);
  });

  it('other I/O queue sizes are FUNCTIONAL, the headline naming the admin command and the field', () => {
    const s = scenario('nvme-msix');
    const t = record({ ...s, drivers: { ...s.drivers, nvme: { ...s.drivers.nvme, queueDepth: 32 } } });
    const r = judgeTraces(golden('nvme-msix'), t, decoders);
    expect(r.verdict).toBe('FUNCTIONAL');
    expect(r.headlines.join('\n')).toMatch(/nvme0 admin commands #\d+: CREATE_IO_CQ: size: 64 → 32/);
  });

  it('a workload that issues other requests is FUNCTIONAL, naming the client and the request', () => {
    const s = scenario('nvme-msix');
    const t = record({ ...s, workload: { type: 'blockio', params: { ...s.workload!.params, readPct: 40 } } });
    const r = judgeTraces(golden('nvme-msix'), t, decoders);
    expect(r.verdict).toBe('FUNCTIONAL');
    expect(r.headlines.join('\n')).toMatch(/blockio-\d requests #\d+: disk\.nvme:.* (read|write)/);
    expect(r.headlines.join('\n')).toMatch(/nvme0 I\/O commands/);
  });

  it('ignore rules leave kinds out: without the workload and the disk the changed mix is not compared', () => {
    const s = scenario('nvme-msix');
    const t = record({ ...s, workload: { type: 'blockio', params: { ...s.workload!.params, readPct: 40 } } });
    const r = judgeTraces(golden('nvme-msix'), t, decoders, { ignore: { kinds: ['schemeReq', 'schemeReply', 'dma'] } });
    expect(r.verdict).toBe('TIMING-ONLY');
  });
});

describe('the scenario compare block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simrun-verdict-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (compare: unknown): string => {
    const p = join(dir, 'bad.json');
    writeFileSync(p, JSON.stringify({ name: 'x', machine: { devices: [] }, compare }));
    return p;
  };

  it('is validated, naming the field', () => {
    expect(() => loadScenario(write({ failOn: 'sometimes' }))).toThrow(/compare\.failOn/);
    expect(() => loadScenario(write({ ignore: { kinds: ['dmaa'] } }))).toThrow(/compare\.ignore\.kinds\[0\].*not an event kind/);
    expect(() => loadScenario(write({ timingBudgetPct: -1 }))).toThrow(/compare\.timingBudgetPct/);
    const ok = loadScenario(write({ failOn: 'timing', timingBudgetPct: 15, ignore: { fields: ['tsf'], milestones: ['fw.alive'] } }));
    expect(ok.compare).toEqual({ failOn: 'timing', timingBudgetPct: 15, ignore: { kinds: [], milestones: ['fw.alive'], fields: ['tsf'] } });
  });
});
