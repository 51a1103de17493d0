import { describe, expect, it } from 'vitest';
import { childrenNamed, parseXml, xmlAttr, xmlText } from '../../../src/machine/ci/xml.js';
import {
  makeReport, mergeReports, parseReport, renderAnnotations, renderJson, renderJunit, type ScenarioReport,
} from '../../../src/machine/ci/report.js';
import { inShard, parseShard } from '../../../src/machine/ci/shard.js';

const s = (name: string, o: Partial<ScenarioReport> = {}): ScenarioReport => ({
  name, scenario: `fixtures/scenarios/${name}.json`, golden: `traces/${name}.simtrace`, verdict: 'IDENTICAL', exitCode: 0,
  headlines: [], failures: [], divergences: 0, ...o,
});

const broken = s('nvme-msix', {
  verdict: 'FUNCTIONAL', exitCode: 1, divergences: 2,
  headlines: ['MMIO write to nvme0 AQA (BAR0+0x24): expected 0x001f001f, got 0x000f000f', 'a <tag> & "quotes", 100% sure: yes'],
  failures: ['expected at least 1000 I/Os, got 0'],
});
const timing = s('wifi-connect', { verdict: 'TIMING-ONLY', headlines: ['scan phase 3.2 ms -> 3.5 ms'] });
const error = s('bad', { verdict: 'ERROR', exitCode: 2, headlines: ['fixtures/scenarios/bad.json: seed: not an integer'] });

describe('XML', () => {
  it('escapes text and attributes so they parse back to the same string', () => {
    const weird = 'a<b>&c "d" \'e\'\nline2\ttab \u0001gone';
    const doc = `<r a="${xmlAttr(weird)}">${xmlText(weird)}</r>`;
    const el = parseXml(doc);
    expect(el.attrs.a).toBe(weird.replace('\u0001', ''));
    expect(el.text).toBe(weird.replace('\u0001', ''));
  });

  it('rejects documents that are not well-formed, naming the offset', () => {
    for (const bad of ['<a><b></a>', '<a x=1/>', '<a x="1" x="2"/>', '<a>&nope;</a>', '<a>& b</a>', '<a>', '<a/><b/>', 'text', '<a x="<"/>', '<a><!-- x -- y --></a>']) {
      expect(() => parseXml(bad), bad).toThrow(/byte \d+/);
    }
    expect(parseXml('<?xml version="1.0"?>\n<!-- c --><a x=\'1\'><![CDATA[<raw>]]>&#65;&#x42;<b/></a>\n').text).toBe('<raw>AB');
  });
});

describe('JUnit report', () => {
  const r = makeReport([timing, broken, s('nvme-intx'), error], ['wifi-bringup']);
  const xml = renderJunit(r);

  it('is well-formed JUnit: testsuites > testsuite > testcase, counts, a failure carrying the headlines, an error', () => {
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '4', failures: '1', errors: '1', time: '0' });
    const [suite, ...more] = childrenNamed(root, 'testsuite');
    expect(more).toEqual([]);
    expect(suite!.attrs).toMatchObject({ tests: '4', failures: '1', errors: '1', skipped: '0' });
    const cases = childrenNamed(suite!, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(['bad', 'nvme-intx', 'nvme-msix', 'wifi-connect']);
    for (const c of cases) expect(c.attrs).toMatchObject({ classname: 'simrun.check', time: '0' });
    const f = childrenNamed(cases[2]!, 'failure');
    expect(f).toHaveLength(1);
    expect(f[0]!.attrs.type).toBe('FUNCTIONAL');
    expect(f[0]!.attrs.message).toBe(broken.headlines[0]);
    expect(f[0]!.text).toContain('a <tag> & "quotes", 100% sure: yes');
    expect(f[0]!.text).toContain('expectation failed: expected at least 1000 I/Os, got 0');
    expect(childrenNamed(cases[0]!, 'error')[0]!.attrs.type).toBe('ERROR');
    expect(childrenNamed(cases[1]!, 'failure')).toEqual([]);
    expect(childrenNamed(cases[3]!, 'failure')).toEqual([]);
    expect(childrenNamed(cases[3]!, 'system-out')[0]!.text).toMatch(/^verdict: TIMING-ONLY\n/);
  });

  it('reads back into the same report (JUnit and JSON forms)', () => {
    const back = parseReport(xml, 'r.xml');
    expect(back.scenarios).toEqual(r.scenarios);
    expect(back.exitCode).toBe(2);
    const fromJson = parseReport(renderJson(r), 'r.json');
    expect(fromJson).toEqual(r);
  });

  it('is deterministic: the same report gives the same bytes, whatever the input order', () => {
    expect(renderJunit(makeReport([error, s('nvme-intx'), broken, timing], ['wifi-bringup']))).toBe(xml);
  });

  it('bad report files are bad input naming the file and field', () => {
    expect(() => parseReport('<testsuites><testsuite><testcase/></testsuite></testsuites>', 'x.xml')).toThrow(/x\.xml: testsuite\.testcase\[0\]: has no name/);
    expect(() => parseReport('<testsuites><testsuite>', 'x.xml')).toThrow(/x\.xml: not well-formed XML: byte \d+/);
    expect(() => parseReport('<html/>', 'x.xml')).toThrow(/x\.xml: html: not a JUnit report/);
    expect(() => parseReport('{"scenarios":[{"name":"a","verdict":"MAYBE","exitCode":0}]}', 'y.json')).toThrow(/y\.json: scenarios\[0\]\.verdict: "MAYBE" is not one of/);
    expect(() => parseReport('{"scenarios":[{"name":"a","verdict":"IDENTICAL"}]}', 'y.json')).toThrow(/y\.json: scenarios\[0\]\.exitCode/);
    expect(() => parseReport('hello', 'z.txt')).toThrow(/z\.txt: neither a JSON report/);
  });
});

describe('merging shard reports', () => {
  it('joins scenarios sorted by name, the worst exit code, and refuses overlapping shards', () => {
    const a = makeReport([broken, s('nvme-intx')], ['wifi-bringup'], '1/2');
    const b = makeReport([timing], ['wifi-bringup'], '2/2');
    const m = mergeReports([{ file: 'a.json', report: a }, { file: 'b.xml', report: parseReport(renderJunit(b), 'b.xml') }]);
    expect(m.scenarios.map((x) => x.name)).toEqual(['nvme-intx', 'nvme-msix', 'wifi-connect']);
    expect(m.totals).toEqual({ IDENTICAL: 1, 'TIMING-ONLY': 1, FUNCTIONAL: 1, ERROR: 0 });
    expect(m.exitCode).toBe(1);
    expect(m.withoutGolden).toEqual(['wifi-bringup']);
    expect(m.shard).toBeUndefined();
    expect(() => mergeReports([{ file: 'a.json', report: a }, { file: 'c.json', report: a }])).toThrow(/c\.json: nvme-intx: scenario "nvme-intx" is also in a\.json/);
  });
});

describe('GitHub Actions annotations', () => {
  it('an ::error per failing scenario, a ::warning per timing-only one, escaped as workflow commands', () => {
    const lines = renderAnnotations(makeReport([s('nvme-intx'), broken, timing, error]), '/repo');
    expect(lines).toEqual([
      '::error file=fixtures/scenarios/bad.json,title=simrun check bad%3A ERROR::fixtures/scenarios/bad.json: seed: not an integer',
      '::error file=fixtures/scenarios/nvme-msix.json,title=simrun check nvme-msix%3A FUNCTIONAL::'
        + 'MMIO write to nvme0 AQA (BAR0+0x24): expected 0x001f001f, got 0x000f000f%0Aa <tag> & "quotes", 100%25 sure: yes'
        + '%0Aexpectation failed: expected at least 1000 I/Os, got 0',
      '::warning file=fixtures/scenarios/wifi-connect.json,title=simrun check wifi-connect%3A TIMING-ONLY::scan phase 3.2 ms -> 3.5 ms',
    ]);
    // An absolute scenario path is made relative to the repository root.
    const abs = renderAnnotations(makeReport([{ ...broken, scenario: '/repo/fixtures/scenarios/nvme-msix.json' }]), '/repo');
    expect(abs[0]).toMatch(/^::error file=fixtures\/scenarios\/nvme-msix\.json,title=/);
  });
});

describe('shards', () => {
  it('i/n splits the sorted names so that every name is in exactly one shard', () => {
    const items = ['e', 'a', 'd', 'c', 'b', 'f', 'g'].map((name) => ({ name }));
    for (const n of [1, 2, 3, 7, 9]) {
      const seen = Array.from({ length: n }, (_, i) => inShard(items, { index: i + 1, count: n }).map((x) => x.name)).flat();
      expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    }
    expect(inShard(items, { index: 2, count: 3 }).map((x) => x.name)).toEqual(['b', 'e']);
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', '1/0', 'x', '1/2/3', '-1/2', '']) expect(() => parseShard(bad), bad).toThrow(/--shard: .* is not a shard/);
  });
});
