import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import { openTrace } from '../../../src/trace/reader.js';
import { CHUNK_HEADER_SIZE } from '../../../src/trace/format.js';
import type { Tracer } from '../../../src/sim/tracer.js';
import {
  LINKTYPE_IEEE802_11_RADIOTAP, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, channelFlags, defaultPcapPath, pcapFile, pcapGlobalHeader,
  pcapPacket, pcapTimestamp, radiotapHeader, runExportPcap, type AirFrame,
} from '../../../src/trace/export/index.js';
import { ROOT, simrunIn } from '../../e2e/helpers.js';
import { emitAllKinds, makeHeader, tmpDir } from '../helpers.js';
import { AP, STA, ack, assocReq, assocResp, auth, beacon } from '../air-frames.js';

const US = 1_000_000; // ps
const WIFI = 1;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const { dir, cleanup } = tmpDir();
afterAll(cleanup);

/** The handshake of the tshark test: beacon, auth x2, assoc req/resp, and an ACK on 5 GHz. */
const HANDSHAKE: AirFrame[] = [
  { time: 1000 * US, channel: 6, signal: -42, rate: 2, data: beacon('simnet', 6) },
  { time: 1010 * US, channel: 6, signal: 15, rate: 2, data: auth(true, 1) },
  { time: 1020 * US, channel: 6, signal: -43, rate: 2, data: auth(false, 2) },
  { time: 1030 * US, channel: 6, signal: 15, rate: 2, data: assocReq('simnet') },
  { time: 1040 * US, channel: 6, signal: -44, rate: 2, data: assocResp() },
  { time: 1050 * US, channel: 36, signal: -70, rate: 12, data: ack(AP) },
];

function traceFile(name: string, f: (t: Tracer) => void, opts = {}): string {
  const p = path.join(dir, name);
  const rec = TraceRecorder.create(p, makeHeader(), opts);
  f(rec);
  rec.close();
  return p;
}
const emit = (t: Tracer, frames: AirFrame[], dev = WIFI): void => {
  for (const f of frames) t.air(f.time, dev, f.signal > 0, f.channel, f.signal, f.rate, f.data, 0, f.data.length);
};

describe('pcap layout', () => {
  it('global header: little-endian, version 2.4, snaplen 65535, link type 127, ns or us magic', () => {
    expect(hex(pcapGlobalHeader())).toBe('4d3cb2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '7f000000');
    expect(hex(pcapGlobalHeader({ resolution: 'us' })).slice(0, 8)).toBe('d4c3b2a1');
    const v = new DataView(pcapGlobalHeader().buffer);
    expect(v.getUint32(0, true)).toBe(PCAP_MAGIC_NSEC);
    expect(new DataView(pcapGlobalHeader({ resolution: 'us' }).buffer).getUint32(0, true)).toBe(PCAP_MAGIC_USEC);
    expect(v.getUint32(20, true)).toBe(LINKTYPE_IEEE802_11_RADIOTAP);
  });

  it('radiotap: TSFT 8-aligned, FLAGS, RATE, CHANNEL 2-aligned, DBM_ANTSIGNAL; 23 bytes', () => {
    const t = 1_500_000_250_123; // 1.500000250123 s
    const rt = radiotapHeader({ time: t, channel: 6, signal: -42, rate: 2 });
    expect(hex(rt)).toBe(
      '00' + '00' + '1700' + '2f000000' + // version, pad, length 23, present TSFT|FLAGS|RATE|CHANNEL|DBM_ANTSIGNAL
      '60e3160000000000' + // TSFT 1,500,000 us at offset 8
      '00' + '02' + // FLAGS (no FCS) at 16, RATE 1 Mb/s at 17
      '8509' + 'a000' + // CHANNEL at 18: 2437 MHz, CCK | 2 GHz
      'd6'); // -42 dBm at 22
  });

  it('radiotap without TSFT or rate: the channel is still 2-aligned', () => {
    // FLAGS at 8, RATE at 9, CHANNEL at 10, signal at 14.
    expect(hex(radiotapHeader({ time: 0, channel: 36, signal: -70, rate: 12 }, { tsft: false }))).toBe('00000f00' + '2e000000' + '00' + '0c' + '3c14' + '4001' + 'ba');
    // No RATE: FLAGS at 8, padding at 9, CHANNEL at 10.
    expect(hex(radiotapHeader({ time: 0, channel: 14, signal: 5, rate: 0 }, { tsft: false }))).toBe('00000f00' + '2a000000' + '00' + '00' + 'b409' + '8000' + '05');
    // With TSFT and no RATE: FLAGS at 16, padding at 17, CHANNEL at 18.
    const rt = radiotapHeader({ time: 0, channel: 1, signal: -128, rate: 0 });
    expect(rt.length).toBe(23);
    expect(hex(rt.subarray(16))).toBe('00' + '00' + '6c09' + '8000' + '80');
    // Channel 0 (unknown): no CHANNEL field; signal clamped to int8.
    expect(hex(radiotapHeader({ time: 0, channel: 0, signal: -300, rate: 2 }, { tsft: false }))).toBe('00000b00' + '26000000' + '00' + '02' + '80');
  });

  it('channel flags: 2.4 GHz CCK or OFDM by rate, 5 GHz OFDM', () => {
    expect(channelFlags(1, 2)).toBe(0x00a0);
    expect(channelFlags(11, 22)).toBe(0x00a0);
    expect(channelFlags(6, 12)).toBe(0x00c0);
    expect(channelFlags(6, 108)).toBe(0x00c0);
    expect(channelFlags(6, 0)).toBe(0x0080);
    expect(channelFlags(36, 12)).toBe(0x0140);
    expect(channelFlags(165, 108)).toBe(0x0140);
  });

  it('packet records: timestamp from simulated time (ps), incl_len = orig_len = radiotap + frame', () => {
    expect(pcapTimestamp(1_500_000_250_123)).toEqual({ sec: 1, frac: 500_000_250 });
    expect(pcapTimestamp(1_500_000_250_123, 'us')).toEqual({ sec: 1, frac: 500_000 });
    expect(pcapTimestamp(0)).toEqual({ sec: 0, frac: 0 });
    const f = { time: 3_000_000_001_999, channel: 6, signal: -42, rate: 2, data: ack(STA) };
    const p = pcapPacket(f);
    const v = new DataView(p.buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true)]).toEqual([3, 1, 33, 33]);
    expect(hex(p.subarray(16 + 23))).toBe(hex(ack(STA)));
    const file = pcapFile([f, f]);
    expect(file.length).toBe(24 + 2 * (16 + 33));
    expect(hex(file.subarray(24, 24 + 49))).toBe(hex(p));
  });
});

describe('runExportPcap', () => {
  const run = (o: Partial<Parameters<typeof runExportPcap>[0]> & { trace: string | Uint8Array }) => {
    const errs: string[] = [];
    const r = runExportPcap({ err: (l) => errs.push(l), ...o });
    return { ...r, errs };
  };

  it('writes the air records of a trace, skipping every other kind, next to the trace by default', () => {
    const p = traceFile('mixed.simtrace', (t) => { emitAllKinds(t, 0); emit(t, HANDSHAKE); emitAllKinds(t, 2000 * US); });
    const r = run({ trace: p });
    expect(r).toMatchObject({ exitCode: 0, frames: 6, skipped: 0, damage: [], errs: [] });
    expect(r.out).toBe(path.join(dir, 'mixed.pcap'));
    expect(hex(fs.readFileSync(r.out!))).toBe(hex(pcapFile(HANDSHAKE)));
    expect(defaultPcapPath('a/b.trace')).toBe('a/b.trace.pcap');
  });

  it('filters by device, and notes an empty export (a valid empty pcap, exit 0)', () => {
    const p = traceFile('two-radios.simtrace', (t) => { emit(t, HANDSHAKE.slice(0, 2), 0); emit(t, HANDSHAKE.slice(2), WIFI); });
    const out = path.join(dir, 'wifi0.pcap');
    expect(run({ trace: p, out, device: 'wifi0' })).toMatchObject({ exitCode: 0, frames: 4 });
    expect(hex(fs.readFileSync(out))).toBe(hex(pcapFile(HANDSHAKE.slice(2))));
    const none = traceFile('nvme-only.simtrace', (t) => emitAllKinds(t, 0));
    const e = run({ trace: none });
    expect(e).toMatchObject({ exitCode: 0, frames: 0 });
    expect(e.errs).toEqual([`note: ${none} has no 802.11 frames (air records); ${path.join(dir, 'nvme-only.pcap')} is an empty pcap file`]);
    expect(hex(fs.readFileSync(e.out!))).toBe(hex(pcapGlobalHeader()));
    const bad = run({ trace: p, device: 'eth0' });
    expect(bad.exitCode).toBe(2);
    expect(bad.errs[0]).toMatch(/no device 'eth0' in this trace \(devices: nvme0 \(nvme\), wifi0 \(iwlwifi\)\)/);
  });

  it('a damaged trace: frames of the intact chunks are written, the damage is a warning, exit 2', () => {
    const many: AirFrame[] = Array.from({ length: 40 }, (_, i) => ({ time: (1000 + i) * US, channel: 6, signal: -40 - (i % 10), rate: 2, data: auth(i % 2 === 0, i) }));
    const p = traceFile('damaged.simtrace', (t) => emit(t, many), { chunkBytes: 256 });
    const bytes = fs.readFileSync(p);
    const second = openTrace(p).index![1]!;
    bytes[second.offset + CHUNK_HEADER_SIZE + 10]! ^= 0xff; // corrupt chunk 1
    fs.writeFileSync(p, bytes);
    const r = run({ trace: p });
    expect(r.exitCode).toBe(2);
    const lost = second.count;
    expect(r.frames).toBe(40 - lost);
    expect(r.errs[0]).toMatch(/^warning: damage at byte \d+ \(0x[0-9a-f]+\), \d+ bytes: chunk at byte .*CRC mismatch/);
    expect(r.errs.at(-1)).toBe(`warning: ${p} is damaged: ${path.join(dir, 'damaged.pcap')} holds the ${40 - lost} frames of its intact chunks`);
    const kept = many.filter((_, i) => i < second.firstSeq || i >= second.firstSeq + lost);
    expect(hex(fs.readFileSync(r.out!))).toBe(hex(pcapFile(kept)));
  });

  it('an unreadable or missing trace is exit 2 with a clear message, and nothing is written', () => {
    const junk = path.join(dir, 'junk.simtrace');
    fs.writeFileSync(junk, 'not a trace at all, just words');
    const r = run({ trace: junk });
    expect(r.exitCode).toBe(2);
    expect(r.errs[0]).toMatch(/^error: .*junk\.simtrace: not a simrun trace: bad magic/);
    expect(fs.existsSync(path.join(dir, 'junk.pcap'))).toBe(false);
    expect(run({ trace: path.join(dir, 'nope.simtrace') }).errs[0]).toMatch(/nope\.simtrace: cannot open trace \(ENOENT\)/);
    const p = traceFile('self.simtrace', (t) => emit(t, HANDSHAKE));
    expect(run({ trace: p, out: p }).errs[0]).toMatch(/the output would overwrite the trace/);
    expect(run({ trace: p, out: path.join(dir, 'no/such/dir/x.pcap') }).errs[0]).toMatch(/cannot write the pcap file \(ENOENT\)/);
  });
});

describe('simrun export --pcap (CLI)', () => {
  it('writes <trace>.pcap, -o and --dev; exit codes 0 and 2', () => {
    const p = traceFile('cli.simtrace', (t) => emit(t, HANDSHAKE));
    const r = simrunIn(ROOT, 'export', '--pcap', p);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${path.join(dir, 'cli.pcap')}: 6 frames\n`);
    expect(hex(fs.readFileSync(path.join(dir, 'cli.pcap')))).toBe(hex(pcapFile(HANDSHAKE)));
    const o = path.join(dir, 'cli-us.pcap');
    expect(simrunIn(ROOT, 'export', '--pcap', p, '-o', o, '--dev', 'nvme0', '--usec').code).toBe(0);
    expect(hex(fs.readFileSync(o))).toBe(hex(pcapGlobalHeader({ resolution: 'us' })));
    const missing = simrunIn(ROOT, 'export', '--pcap', path.join(dir, 'missing.simtrace'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing\.simtrace: trace file not found/);
    const usage = simrunIn(ROOT, 'export', p);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/export needs a format: simrun export --pcap <trace>/);
    // The trace may also come first.
    const o2 = path.join(dir, 'cli.pcap');
    fs.rmSync(o2);
    expect(simrunIn(ROOT, 'export', p, '--pcap').code).toBe(0);
    expect(fs.existsSync(o2)).toBe(true);
  });
});

const tshark = spawnSync('which', ['tshark'], { encoding: 'utf8' }).status === 0;

describe('tshark reads the export', () => {
  it.skipIf(!tshark)('decodes type/subtype, SSID, signal and channel of every frame, with nothing malformed', () => {
    const p = traceFile('tshark.simtrace', (t) => emit(t, HANDSHAKE));
    const r = runExportPcap({ trace: p, err: () => {} });
    expect(r.exitCode).toBe(0);
    const fields = ['wlan.fc.type_subtype', 'wlan.ssid', 'radiotap.dbm_antsignal', 'wlan_radio.channel'];
    const t = spawnSync('tshark', ['-r', r.out!, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    expect(t.status).toBe(0);
    const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
    // tshark prints the SSID as text (newer) or as hex bytes (4.0); the type/subtype as 0x0008 or 8.
    const ssid = (v: string | undefined): string => (v && /^([0-9a-f]{2})+$/.test(v) ? Buffer.from(v, 'hex').toString('latin1') : v ?? '');
    const got = rows.map(([ts, s, sig, ch]) => [Number(ts), ssid(s), Number(sig), Number(ch)]);
    expect(got).toEqual([
      [0x08, 'simnet', -42, 6],
      [0x0b, '', 15, 6],
      [0x0b, '', -43, 6],
      [0x00, 'simnet', 15, 6],
      [0x01, '', -44, 6],
      [0x1d, '', -70, 36],
    ]);
    // Timestamps (ns) and the 5 GHz frequency survive; nothing is flagged malformed.
    const more = spawnSync('tshark', ['-r', r.out!, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'radiotap.channel.freq', '-e', 'radiotap.datarate'], { encoding: 'utf8' });
    expect(more.stdout.trim().split('\n').at(-1)!.split('\t')).toEqual(['0.001050000', '5180', '6']);
    const malformed = spawnSync('tshark', ['-r', r.out!, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'], { encoding: 'utf8' });
    expect(malformed.stdout.trim()).toBe('');
  });
});
