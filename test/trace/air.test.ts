import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace, traceSummary, type SeqEvent } from '../../src/trace/reader.js';
import { COLUMN_FORMAT_VERSION } from '../../src/trace/format.js';
import { MemoryTracer, type Tracer } from '../../src/sim/tracer.js';
import { ObservedTracer } from '../../src/trace/observed.js';
import { RingTracer } from '../../src/machine/replay/ring-tracer.js';
import { runInspect } from '../../src/trace/inspect.js';
import { compareStreams } from '../../src/trace/compare/compare.js';
import { sameEvent, sameShape } from '../../src/trace/compare/events.js';
import { formatReport, whatDiffers, type ReportContext } from '../../src/trace/compare/report.js';
import { runDiff } from '../../src/trace/diff/index.js';
import { channelFreq, describeFrame, frameName, ssidOf, typeSubtype } from '../../src/trace/air.js';
import { emitAllKinds, makeHeader } from './helpers.js';
import { AP, STA, ack, assocReq, assocResp, auth, beacon } from './air-frames.js';

const ROOT = join(import.meta.dirname, '../..');
const WIFI = 1; // device index of wifi0 in makeHeader()
const US = 1_000_000; // ps

function build(f: (t: Tracer) => void, opts = {}): Buffer {
  const rec = TraceRecorder.toBuffer(makeHeader(), opts);
  f(rec);
  return rec.close().buffer!;
}

/** A short association: beacons, auth, assoc, ACKs; `beacons` beacons 102.4 ms apart first. */
function association(t: Tracer, o: { beacons?: number; channel?: number; ssid?: string; signal?: number } = {}): void {
  const ch = o.channel ?? 6;
  const sig = o.signal ?? -42;
  const n = o.beacons ?? 3;
  const b = beacon(o.ssid ?? 'simnet', ch);
  let t0 = 1000 * US;
  for (let i = 0; i < n; i++, t0 += 102_400 * US) t.air(t0, WIFI, false, ch, sig, 2, b, 0, b.length);
  // The frame bytes live inside a bigger buffer (as in a device's DMA ring): offset and length are honoured.
  const ring = new Uint8Array(256);
  const a1 = auth(true, 1);
  ring.set(a1, 40);
  t.air(t0 + 10 * US, WIFI, true, ch, 15, 2, ring, 40, a1.length);
  t.air(t0 + 20 * US, WIFI, false, ch, sig, 2, ack(STA), 0, 10);
  const a2 = auth(false, 2);
  t.air(t0 + 30 * US, WIFI, false, ch, sig, 2, a2, 0, a2.length);
  const rq = assocReq(o.ssid ?? 'simnet');
  t.air(t0 + 40 * US, WIFI, true, ch, 15, 2, rq, 0, rq.length);
  const rs = assocResp();
  t.air(t0 + 50 * US, WIFI, false, ch, sig, 2, rs, 0, rs.length);
}

const airOf = (buf: Uint8Array): (SeqEvent & { kind: 'air' })[] =>
  [...openTrace(buf).events({ kinds: ['air'] })] as (SeqEvent & { kind: 'air' })[];

describe('air records: recorder and reader', () => {
  it('round-trip every field, inline (short) and blob frames, with other kinds around them', () => {
    const mem = new MemoryTracer();
    const both = (f: (t: Tracer) => void): Buffer => build((rec) => { f(rec); f(mem); });
    const buf = both((t) => {
      emitAllKinds(t, 0);
      association(t);
      const five = beacon('simnet-5g', 36);
      t.air(2_000_000 * US, WIFI, false, 36, -71, 12, five, 0, five.length);
      t.air(2_000_001 * US, WIFI, true, 149, 127, 108, ack(AP), 0, 10);
      t.air(2_000_002 * US, WIFI, false, 1, -128, 0, new Uint8Array(0), 0, 0); // empty frame, unknown rate
      emitAllKinds(t, 3_000_000 * US);
    });
    const read = [...openTrace(buf).events()];
    expect(read.map(({ seq, ...e }) => { void seq; return e; })).toEqual(mem.events);
    const air = read.filter((e) => e.kind === 'air');
    expect(air).toHaveLength(11);
    expect(air[3]).toMatchObject({ kind: 'air', dev: WIFI, tx: true, channel: 6, signal: 15, rate: 2 });
    expect(air[3]!.kind === 'air' && Array.from(air[3]!.data)).toEqual(Array.from(auth(true, 1)));
    // Chunks in columns: version 7.
    expect(openTrace(buf).header.formatVersion).toBe(COLUMN_FORMAT_VERSION);
    // Filters: kind and device.
    expect([...openTrace(buf).events({ kinds: ['air'], devs: [0] })]).toEqual([]);
    expect(airOf(buf).map((e) => e.seq)).toEqual(air.map((e) => e.seq));
    const s = traceSummary(buf);
    expect(s.byKind.air).toBe(11);
    expect(s.byDevice.wifi0!.byKind.air).toBe(11);
  });

  it('stores a repeated beacon once (the DMA payload table), so 1,000 beacons cost little more than one', () => {
    const one = build((t) => association(t, { beacons: 1 }));
    const many = build((t) => association(t, { beacons: 1000 }));
    const frame = beacon('simnet', 6).length;
    // auth x2, assoc req and resp are over 16 bytes and distinct; the ACK is inline; the beacon is one blob.
    expect(traceSummary(many).blobs).toBe(5);
    expect(traceSummary(one).blobs).toBe(5);
    expect(many.length - one.length).toBeLessThan(999 * 16); // a reference and a time delta per beacon, compressed
    expect(many.length - one.length).toBeLessThan((999 * frame) / 4);
    const beacons = airOf(many).filter((e) => frameName(e.data) === 'beacon');
    expect(beacons).toHaveLength(1000);
    expect(beacons[999]!.time).toBe(1000 * US + 999 * 102_400 * US);
  });

  it('survives chunking and blob epochs (a frame defined again after the window is reset)', () => {
    const small = build((t) => association(t, { beacons: 50 }), { chunkBytes: 256, blobWindowBytes: 64 });
    const ref = build((t) => association(t, { beacons: 50 }));
    expect(airOf(small).map(({ data, ...e }) => [e, Array.from(data)])).toEqual(airOf(ref).map(({ data, ...e }) => [e, Array.from(data)]));
    expect(openTrace(small).damage).toEqual([]);
  });

  it('still reads version 1 traces (no air records): a golden trace recorded before air records existed', () => {
    const r = openTrace(join(ROOT, 'test/fixtures/format-v1-nvme-jitter.simtrace'));
    expect(r.header.formatVersion).toBe(1);
    let n = 0;
    for (const e of r.events({ toSeq: 999 })) { expect(e.kind).not.toBe('air'); n++; }
    expect(n).toBe(1000);
    expect(r.damage).toEqual([]);
  });

  it('ObservedTracer counts and forwards frames; RingTracer keeps copies', () => {
    const mem = new MemoryTracer();
    const obs = new ObservedTracer(mem);
    association(obs, { beacons: 2 });
    expect(obs.airRx).toBe(5);
    expect(obs.airTx).toBe(2);
    expect(obs.count).toBe(7);
    expect(mem.events).toHaveLength(7);
    const ring = new RingTracer(3, mem);
    const buf = beacon('x', 1);
    ring.air(5, WIFI, false, 1, -50, 2, buf, 0, buf.length);
    buf[0] = 0;
    expect(ring.last()).toMatchObject({ kind: 'air', seq: 0, channel: 1 });
    expect((ring.last() as { data: Uint8Array }).data[0]).toBe(0x80);
  });
});

describe('802.11 helpers', () => {
  it('name frames, find the SSID and map channels to frequencies', () => {
    expect([beacon('a', 1), auth(true, 1), assocReq('a'), assocResp(), ack(AP)].map(frameName)).toEqual(['beacon', 'auth', 'assoc-req', 'assoc-resp', 'ack']);
    expect([beacon('a', 1), auth(true, 1), assocReq('a'), assocResp(), ack(AP)].map(typeSubtype)).toEqual([0x08, 0x0b, 0x00, 0x01, 0x1d]);
    expect(new TextDecoder().decode(ssidOf(assocReq('home')))).toBe('home');
    expect(ssidOf(auth(true, 1))).toBeUndefined();
    expect(describeFrame(ack(STA))).toBe('ack to 02:00:00:00:02:00');
    expect(describeFrame(beacon('', 1))).toBe('beacon from 02:00:00:00:01:00 ssid <hidden>');
    expect(describeFrame(beacon('a', 1).subarray(0, 30))).toBe('beacon from 02:00:00:00:01:00'); // truncated: no crash
    expect([1, 6, 13, 14, 36, 149, 0].map(channelFreq)).toEqual([2412, 2437, 2472, 2484, 5180, 5745, 0]);
  });
});

describe('air records: inspect', () => {
  const buf = build((t) => { emitAllKinds(t, 0); association(t, { beacons: 1 }); });
  const run = (o: { kind?: string; json?: boolean }) => {
    const lines: string[] = [];
    const r = runInspect({ path: buf, decoders: new Map(), out: (l) => lines.push(l), ...o });
    return { lines, ...r };
  };

  it('shows direction, channel, frequency, signal, rate, length, frame type and SSID', () => {
    const r = run({ kind: 'air' });
    expect(r.exitCode).toBe(0);
    expect(r.lines).toHaveLength(6);
    expect(r.lines[0]).toMatch(/^\s+18\s+1\.000 ms\s+wifi0\s+air\.rx\s+ch 6 \(2437 MHz\) -42 dBm 1 Mb\/s 57 B beacon from 02:00:00:00:01:00 ssid "simnet"$/);
    expect(r.lines[1]).toMatch(/wifi0\s+air\.tx\s+ch 6 \(2437 MHz\) 15 dBm 1 Mb\/s 30 B auth from 02:00:00:00:02:00$/);
    expect(r.lines[2]).toMatch(/air\.rx\s+ch 6 \(2437 MHz\) -42 dBm 1 Mb\/s 10 B ack to 02:00:00:00:02:00$/);
    expect(r.lines[4]).toContain('air.tx      ch 6 (2437 MHz) 15 dBm 1 Mb/s 46 B assoc-req from 02:00:00:00:02:00 ssid "simnet"');
    expect(r.lines[5]).toContain('assoc-resp from 02:00:00:00:01:00');
  });

  it('JSON: the frame as hex with its length, type/subtype name and number, and frequency', () => {
    const r = run({ kind: 'air', json: true });
    const o = JSON.parse(r.lines[0]!) as Record<string, unknown>;
    expect(o).toMatchObject({ kind: 'air', device: 'wifi0', tx: false, channel: 6, freq: 2437, signal: -42, rate: 2, length: 57, frame: 'beacon', typeSubtype: 8 });
    expect(o.data).toBe(Buffer.from(beacon('simnet', 6)).toString('hex'));
  });

  it('accepts air as a kind and lists it among the kinds', () => {
    const errs: string[] = [];
    runInspect({ path: buf, decoders: new Map(), kind: 'wifi', out: () => {}, err: (l) => errs.push(l) });
    expect(errs[0]).toMatch(/unknown event kind 'wifi' \(kinds: .*proc, air, eth, frame\)/);
  });
});

describe('air records: compare and diff', () => {
  const ctxOf = (buf: Uint8Array): ReportContext => {
    const h = openTrace(buf).header;
    return { expectedHeader: h, actualHeader: h, decoders: new Map(), expectedLabel: 'golden', actualLabel: 're-simulated' };
  };

  it('sameEvent compares every field and the bytes; sameShape the radio, direction and frame type', () => {
    const [x, y] = [beacon('simnet', 6), beacon('simnet', 11)];
    const e = (over: Partial<SeqEvent & { kind: 'air' }> = {}): SeqEvent =>
      ({ kind: 'air', seq: 0, time: 0, dev: 1, tx: false, channel: 6, signal: -40, rate: 2, data: x, ...over }) as SeqEvent;
    expect(sameEvent(e(), e({ time: 5, seq: 9, data: Uint8Array.from(x) }))).toBe(true);
    for (const d of [{ channel: 11 }, { signal: -41 }, { rate: 4 }, { tx: true }, { dev: 0 }, { data: y }]) expect(sameEvent(e(), e(d))).toBe(false);
    expect(sameEvent(e({ missing: 'blob 3', data: new Uint8Array(x.length) }), e())).toBe(true);
    expect(sameShape(e(), e({ data: y, channel: 11 }))).toBe(true);
    expect(sameShape(e(), e({ data: auth(true, 1) }))).toBe(false);
    expect(sameShape(e(), e({ tx: true }))).toBe(false);
  });

  it('compareStreams reports a differing frame as a value divergence, described in words', () => {
    const a = build((t) => association(t, { beacons: 2 }));
    const b = build((t) => association(t, { beacons: 2, channel: 11 }));
    const r = compareStreams(openTrace(a).events(), openTrace(b).events());
    expect(r.identical).toBe(false);
    const d = r.divergences[0]!;
    expect(d.kind).toBe('value');
    expect(d.expected?.seq).toBe(0);
    // The DS parameter set (channel) is the beacon's last byte.
    expect(whatDiffers(d, ctxOf(a))).toBe(`802.11 beacon frame received by wifi0: channel 6 → 11, frame differs from byte ${beacon('simnet', 6).length - 1}`);
    const text = formatReport(r, ctxOf(a));
    expect(text).toContain('air.rx');
    expect(text).toContain('ch 11 (2462 MHz)');
    // A missing frame is named with its channel.
    const c = build((t) => { association(t, { beacons: 2 }); t.air(9_000_000 * US, WIFI, true, 6, 15, 2, ack(AP), 0, 10); });
    const m = compareStreams(openTrace(c).events(), openTrace(a).events());
    expect(whatDiffers(m.divergences[0]!, ctxOf(a))).toBe('missing: 802.11 ack frame sent by wifi0 on channel 6 (10 bytes, 15 dBm, 1 Mb/s) did not happen');
  });

  it('diff aligns sent and received frames as separate streams and details a changed frame', () => {
    const a = build((t) => association(t, { beacons: 3 }));
    const b = build((t) => association(t, { beacons: 3, ssid: 'othernet', signal: -60 }));
    const lines: string[] = [];
    const r = runDiff({ a, b, decoders: new Map(), color: false, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    expect(r.exitCode).toBe(1);
    const streams = Object.fromEntries(r.result.streams.map((s) => [s.stream, s]));
    expect(Object.keys(streams).sort()).toEqual(['wifi0 air:rx', 'wifi0 air:tx']);
    expect(streams['wifi0 air:rx']).toMatchObject({ a: 6, b: 6, same: 0, changed: 6 });
    expect(streams['wifi0 air:tx']).toMatchObject({ a: 2, b: 2, same: 1, changed: 1 });
    const rx = r.result.divergences.find((d) => d.stream === 'wifi0 air:rx')!;
    expect(rx.what).toBe('beacon: signal -42 → -60 dBm, length 57 → 59, "simnet" → "othernet", frame differs from byte 37');
    const tx = r.result.divergences.find((d) => d.stream === 'wifi0 air:tx')!;
    expect(tx.what).toMatch(/^assoc-req: length 46 → 48, "simnet" → "othernet", frame differs from byte 29$/);
    expect(lines.join('\n')).toContain('wifi0 air:rx');
    // Same traces: identical; only the kind asked for.
    expect(runDiff({ a, b: a, decoders: new Map(), out: () => {} }).exitCode).toBe(0);
    const onlyAir = runDiff({ a, b, decoders: new Map(), kind: 'air', out: () => {}, json: true });
    expect(onlyAir.result.streams.every((s) => s.kind.startsWith('air:'))).toBe(true);
  });
});
