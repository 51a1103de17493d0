/**
 * A client shaped like a simple compositor on the drm scheme
 * (docs/DRM-SCHEME.md): open drm:card0, list connectors (modes and EDID),
 * pick each output's preferred mode, allocate two dumb buffers per output,
 * draw a picture with the frame number into the back buffer, set the mode
 * (legacy SETCRTC or an atomic commit, tested first with TEST_ONLY), then
 * page-flip N times, each waiting for its flip-complete event through
 * `event:`. It checks every flip's event (user data, sequence, time), counts
 * vblanks missed between flips, measures flip latency, and compares the
 * frame the display scanned out at the event's sequence with what it drew
 * (the machine's scanout log; the same pixels the trace's frame records hold).
 */
import type { Co } from '../sim/scheduler.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Sys } from '../kernel/sys.js';
import { EAGAIN, errnoName } from '../kernel/errno.js';
import { EVENT_READ } from '../kernel/readiness.js';
import { O_NONBLOCK, O_RDWR } from '../kernel/types.js';
import type { ScanoutLog } from '../sim/scanout.js';
import { spread } from './blockio.js';
import { type SummaryLine, type WorkloadEntry, type WorkloadEnv, workloadResult } from './workload.js';
import { DrmCard, type Connector, type DumbBuffer } from './drm/card.js';
import { drawPattern, packedHash } from './drm/pattern.js';
import {
  DRM_CAP_DUMB_BUFFER, DRM_CLIENT_CAP_ATOMIC, DRM_CLIENT_CAP_UNIVERSAL_PLANES, DRM_EVENT_FLIP_COMPLETE, DRM_FORMAT_XRGB8888,
  DRM_MODE_ATOMIC_ALLOW_MODESET, DRM_MODE_ATOMIC_TEST_ONLY, DRM_MODE_CONNECTED, DRM_MODE_OBJECT_CONNECTOR, DRM_MODE_OBJECT_CRTC,
  DRM_MODE_OBJECT_PLANE, DRM_MODE_PAGE_FLIP_EVENT, DRM_MODE_TYPE_PREFERRED, MODEINFO_SIZE, SIMRUN_EVENT_HOTPLUG, writeMode,
  type DrmEvent, type ModeInfo,
} from './drm/uapi.js';

export const drmFlipParams = {
  card: { type: 'string', default: 'drm:card0', minLength: 1, doc: 'the DRM device to open' },
  outputs: { type: 'number', default: 1, min: 0, max: 3, integer: true, doc: 'connected connectors to drive, each on its own CRTC (0: every connected one)' },
  flips: { type: 'number', default: 120, min: 0, max: 1_000_000, integer: true, doc: 'page flips per output after the modeset, each waiting for its flip-complete event' },
  api: { type: 'enum', default: 'legacy', values: ['legacy', 'atomic'], doc: 'legacy: SETCRTC and PAGE_FLIP; atomic: MODE_ATOMIC commits (a TEST_ONLY commit first, which must change nothing)' },
  checkPixels: {
    type: 'boolean', default: true,
    doc: 'compare the frame scanned out at each flip event\'s sequence with the picture drawn (pixel errors count as data errors)',
  },
  waitForDriverMs: { type: 'number', default: 5000, min: 1, max: 9_000_000, doc: 'how long to wait for the card to appear (driver bring-up)' },
  waitForConnectorMs: {
    type: 'number', default: 0, min: 0, max: 9_000_000,
    doc: 'with no monitor connected at start: how long to wait for a hot-plug event that connects one (0: fail at once)',
  },
  flipTimeoutMs: { type: 'number', default: 200, min: 1, max: 9_000_000, doc: 'how long to wait for each flip-complete event' },
  disableAtEnd: { type: 'boolean', default: true, doc: 'turn every driven CRTC off after the last flip (the driver\'s disable path)' },
} as const satisfies PropTable;

export type DrmFlipParams = PropValues<typeof drmFlipParams>;
export type DrmFlipStep = 'open' | 'probe' | 'hotplug' | 'buffers' | 'modeset' | 'flips' | 'disable';

export interface DrmOutputResult {
  connector: number;
  crtc: number;
  /** CRTC index = display pipe (0 = A). */
  pipe: number;
  mode: string;
  refreshHz: number;
  monitor: string;
  flips: number;
  missedVblanks: number;
  pixelErrors: number;
  pixelChecked: number;
  firstSequence: number;
  lastSequence: number;
}

export interface DrmFlipResult {
  steps: DrmFlipStep[];
  failedStep: DrmFlipStep | undefined;
  failure: string | undefined;
  driver: string;
  connectors: { id: number; connected: boolean; modes: number; edidBytes: number }[];
  outputs: DrmOutputResult[];
  flips: number;
  missedVblanks: number;
  /** Frames whose scanned-out pixels differ from the picture drawn. */
  pixelErrors: number;
  problems: string[];
  /** Latency (ps) of each flip: the call to its event. */
  latencies: number[];
  hotplugEvents: number;
  done: boolean;
}

/** One driven output: its objects, buffers and picture state. */
interface Output {
  conn: Connector;
  mode: ModeInfo;
  crtcId: number;
  crtcIndex: number;
  planeId: number;
  bufs: [DumbBuffer, DumbBuffer];
  fbs: [number, number];
  /** Which buffer is on screen. */
  front: 0 | 1;
  /** Hash of each buffer's picture. */
  hashes: [number, number];
  res: DrmOutputResult;
  pendingSince: number;
  pending: boolean;
}

/** The EDID's monitor name (descriptor tag 0xFC), or its manufacturer letters, for the summary. */
function edidName(edid: Uint8Array): string {
  for (let d = 54; d + 18 <= Math.min(edid.length, 126); d += 18) {
    if (edid[d] === 0 && edid[d + 1] === 0 && edid[d + 3] === 0xfc) {
      let s = '';
      for (let i = d + 5; i < d + 18 && edid[i] !== 0x0a; i++) s += String.fromCharCode(edid[i]!);
      return s.trim();
    }
  }
  if (edid.length < 10) return '?';
  const m = (edid[8]! << 8) | edid[9]!;
  return String.fromCharCode(64 + ((m >> 10) & 31), 64 + ((m >> 5) & 31), 64 + (m & 31));
}

/** What is wrong with an EDID base block (header, checksum), or undefined. */
function edidProblem(edid: Uint8Array): string | undefined {
  if (edid.length < 128) return `${edid.length} bytes, not a 128-byte block`;
  const header = [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0];
  if (header.some((b, i) => edid[i] !== b)) return 'bad header';
  let sum = 0;
  for (let i = 0; i < 128; i++) sum += edid[i]!;
  return (sum & 0xff) === 0 ? undefined : `checksum off by ${sum & 0xff}`;
}

export function spawnDrmFlip(env: WorkloadEnv, params: DrmFlipParams): DrmFlipResult {
  const result: DrmFlipResult = {
    steps: [], failedStep: undefined, failure: undefined, driver: '', connectors: [], outputs: [], flips: 0, missedVblanks: 0,
    pixelErrors: 0, problems: [], latencies: [], hotplugEvents: 0, done: false,
  };
  const log: ScanoutLog | undefined = params.checkPixels ? env.scanout : undefined;
  if (log !== undefined) log.wanted = true;
  const proc = env.kernel.spawn('compositor', (sys) => main(sys));
  proc.exitHooks.push(() => { result.done = true; });
  return result;

  function fail(sys: Sys, step: DrmFlipStep, why: string): number {
    result.failedStep = step;
    result.failure = why;
    sys.log('error', `drm ${step}: ${why}`);
    return 1;
  }

  function problem(sys: Sys, text: string): void {
    if (result.problems.length < 20) result.problems.push(text);
    sys.log('warn', text);
  }

  /** The scanout log's frame `seq` of pipe `pipe` on whichever display device produced it. */
  function scannedFrame(pipe: number, seq: number) {
    return log?.findOnPipe(pipe, seq);
  }

  function* main(sys: Sys): Co<number> {
    // ---- open: wait for the driver to serve the card.
    const giveUp = sys.now + params.waitForDriverMs * 1e9;
    let fd: number;
    for (;;) {
      fd = yield* sys.open(params.card, O_RDWR | O_NONBLOCK);
      if (fd >= 0) break;
      if (sys.now >= giveUp) return fail(sys, 'open', `${params.card} did not appear within ${params.waitForDriverMs} ms (${errnoName(fd)})`);
      yield* sys.sleep(1e9);
    }
    const card = new DrmCard(sys, fd);
    const ver = yield* card.version();
    if (typeof ver === 'number') return fail(sys, 'open', `VERSION: ${errnoName(ver)}`);
    result.driver = `${ver.name} ${ver.major}.${ver.minor}.${ver.patch}`;
    const dumb = yield* card.getCap(DRM_CAP_DUMB_BUFFER);
    if (dumb !== 1n) return fail(sys, 'open', `GET_CAP DUMB_BUFFER: ${typeof dumb === 'number' ? errnoName(dumb) : `${dumb}`}, no dumb buffers`);
    const q = yield* sys.open('event:');
    if (q < 0) return fail(sys, 'open', `event: ${errnoName(q)}`);
    const sub = sys.subscribe(q, fd, EVENT_READ, fd);
    if (sub < 0) return fail(sys, 'open', `subscribing ${params.card} to event: ${errnoName(sub)}`);
    result.steps.push('open');

    const scratch = new Uint8Array(4096);
    /** Events read and not yet consumed. */
    const queued: DrmEvent[] = [];
    /** Reads events until EAGAIN (readiness is edge-triggered), or until `deadline` (ps) passes with none. */
    function* nextEvent(deadline: number): Co<DrmEvent | string> {
      for (;;) {
        const e = queued.shift();
        if (e !== undefined) return e;
        const got = yield* card.readEvents(scratch);
        if (typeof got === 'string') return `malformed events: ${got}`;
        if (typeof got !== 'number') { queued.push(...got); continue; }
        if (got !== -EAGAIN) return `read: ${errnoName(got)}`;
        if (sys.now >= deadline) return 'timeout';
        const w = yield* sys.waitEvent(q, deadline);
        if (w === undefined) return 'timeout';
      }
    }

    // ---- probe: connectors, their modes and EDIDs.
    let res = yield* card.resources();
    if (typeof res === 'number') return fail(sys, 'probe', `GETRESOURCES: ${errnoName(res)}`);
    if (res.crtcs.length === 0 || res.connectors.length === 0) return fail(sys, 'probe', `${res.crtcs.length} CRTCs, ${res.connectors.length} connectors`);
    let conns: Connector[] = [];
    const probe = function* (): Co<string | undefined> {
      conns = [];
      result.connectors = [];
      for (const id of (res as { connectors: number[] }).connectors) {
        const c = yield* card.connector(id);
        if (typeof c === 'number') return `GETCONNECTOR ${id}: ${errnoName(c)}`;
        conns.push(c);
        let edidBytes = 0;
        if (c.connection === DRM_MODE_CONNECTED) {
          const e = yield* card.edid(id);
          if (typeof e !== 'number') {
            edidBytes = e.length;
            const bad = edidProblem(e);
            if (bad !== undefined) problem(sys, `connector ${id}: EDID ${bad}`);
          }
        }
        result.connectors.push({ id, connected: c.connection === DRM_MODE_CONNECTED, modes: c.modes.length, edidBytes });
      }
      return undefined;
    };
    let bad = yield* probe();
    if (bad !== undefined) return fail(sys, 'probe', bad);
    result.steps.push('probe');

    const usable = () => conns.filter((c) => c.connection === DRM_MODE_CONNECTED && c.modes.length > 0);
    if (usable().length === 0 && params.waitForConnectorMs > 0) {
      const until = sys.now + params.waitForConnectorMs * 1e9;
      while (usable().length === 0) {
        const e = yield* nextEvent(until);
        if (typeof e === 'string') return fail(sys, 'hotplug', `no monitor connected within ${params.waitForConnectorMs} ms (${e})`);
        if (e.type !== SIMRUN_EVENT_HOTPLUG) continue;
        result.hotplugEvents++;
        sys.log('info', `hot-plug: connector ${e.connectorId} ${e.connection === DRM_MODE_CONNECTED ? 'connected' : 'disconnected'}`);
        bad = yield* probe();
        if (bad !== undefined) return fail(sys, 'hotplug', bad);
      }
      result.steps.push('hotplug');
    }
    const want = params.outputs === 0 ? usable().length : params.outputs;
    if (usable().length < Math.max(1, want)) {
      return fail(sys, 'probe', `${usable().length} connected connector(s) with modes, ${Math.max(1, want)} wanted (${conns.map((c) => `${c.id}: ${c.connection === DRM_MODE_CONNECTED ? `${c.modes.length} modes` : 'disconnected'}`).join(', ')})`);
    }

    // ---- buffers: pick CRTCs and modes, two dumb buffers and framebuffers per output.
    if (params.api === 'atomic') {
      const a = yield* card.setClientCap(DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
      const b = yield* card.setClientCap(DRM_CLIENT_CAP_ATOMIC, 1);
      if (a < 0 || b < 0) return fail(sys, 'buffers', `SET_CLIENT_CAP: ${errnoName(Math.min(a, b))}`);
    }
    const planeIds = params.api === 'atomic' ? yield* card.planes() : [];
    if (typeof planeIds === 'number') return fail(sys, 'buffers', `GETPLANERESOURCES: ${errnoName(planeIds)}`);
    const outputs: Output[] = [];
    const usedCrtcs = new Set<number>();
    const row = new Uint32Array(8192);
    for (const conn of usable().slice(0, Math.max(1, want))) {
      const mode = conn.modes.find((m) => (m.type & DRM_MODE_TYPE_PREFERRED) !== 0) ?? conn.modes[0]!;
      let crtcIndex = -1;
      for (const encId of conn.encoders) {
        const enc = yield* card.encoder(encId);
        if (typeof enc === 'number') return fail(sys, 'buffers', `GETENCODER ${encId}: ${errnoName(enc)}`);
        for (let i = 0; i < res.crtcs.length && crtcIndex < 0; i++) if ((enc.possibleCrtcs >> i) & 1 && !usedCrtcs.has(i)) crtcIndex = i;
        if (crtcIndex >= 0) break;
      }
      if (crtcIndex < 0) return fail(sys, 'buffers', `connector ${conn.id}: no free CRTC among its encoders' possible CRTCs`);
      usedCrtcs.add(crtcIndex);
      const crtcId = res.crtcs[crtcIndex]!;
      let planeId = 0;
      for (const p of planeIds) {
        const pl = yield* card.plane(p);
        if (typeof pl === 'number') return fail(sys, 'buffers', `GETPLANE ${p}: ${errnoName(pl)}`);
        if ((pl.possibleCrtcs >> crtcIndex) & 1) { planeId = p; break; }
      }
      if (params.api === 'atomic' && planeId === 0) return fail(sys, 'buffers', `no plane can feed CRTC ${crtcId}`);
      const bufs: DumbBuffer[] = [];
      const fbs: number[] = [];
      const hashes: number[] = [];
      for (let i = 0; i < 2; i++) {
        const b = yield* card.createDumb(mode.hdisplay, mode.vdisplay);
        if (typeof b === 'number') return fail(sys, 'buffers', `dumb buffer ${mode.hdisplay}x${mode.vdisplay}: ${errnoName(b)}`);
        if (b.pitch < mode.hdisplay * 4 || b.size < b.pitch * mode.vdisplay) return fail(sys, 'buffers', `dumb buffer pitch ${b.pitch}, size ${b.size}: too small for ${mode.hdisplay}x${mode.vdisplay}`);
        const fb = yield* card.addFb2(b, DRM_FORMAT_XRGB8888);
        if (fb < 0) return fail(sys, 'buffers', `ADDFB2: ${errnoName(fb)}`);
        bufs.push(b);
        fbs.push(fb);
        hashes.push(0);
      }
      const refreshHz = mode.htotal * mode.vtotal > 0 ? (mode.clock * 1000) / (mode.htotal * mode.vtotal) : 0;
      const res1: DrmOutputResult = {
        connector: conn.id, crtc: crtcId, pipe: crtcIndex, mode: `${mode.hdisplay}x${mode.vdisplay}`, refreshHz: Math.round(refreshHz * 100) / 100,
        monitor: '', flips: 0, missedVblanks: 0, pixelErrors: 0, pixelChecked: 0, firstSequence: -1, lastSequence: -1,
      };
      const e = yield* card.edid(conn.id);
      res1.monitor = typeof e === 'number' ? '?' : edidName(e);
      outputs.push({
        conn, mode, crtcId, crtcIndex, planeId, bufs: [bufs[0]!, bufs[1]!], fbs: [fbs[0]!, fbs[1]!], front: 0, hashes: [0, 0],
        res: res1, pendingSince: 0, pending: false,
      });
      result.outputs.push(res1);
    }
    result.steps.push('buffers');

    /** Draws frame `n` into buffer `i` of output `o` and remembers its hash. */
    const draw = (o: Output, i: 0 | 1, n: number): void => {
      const b = o.bufs[i];
      const bytes = b.map.bytes();
      sys.spend(drawPattern(bytes, b.pitch, b.width, b.height, n, row));
      o.hashes[i] = packedHash(bytes, b.pitch, b.width, b.height);
    };

    // ---- modeset: frame 0 in buffer 0 on every output.
    for (const o of outputs) {
      draw(o, 0, 0);
      if (params.api === 'legacy') {
        const r = yield* card.setCrtc(o.crtcId, o.fbs[0], o.conn.id, o.mode);
        if (r < 0) return fail(sys, 'modeset', `SETCRTC ${o.crtcId} ${o.res.mode} on connector ${o.conn.id}: ${errnoName(r)}`);
      } else {
        const r = yield* atomicModeset(sys, card, o);
        if (r !== undefined) return fail(sys, 'modeset', r);
      }
      sys.log('info', `CRTC ${o.crtcId} (pipe ${'ABC'[o.crtcIndex] ?? o.crtcIndex}): ${o.res.mode}@${o.res.refreshHz} on connector ${o.conn.id} (${o.res.monitor})`);
      // One vblank with frame 0 on screen before flipping (WAIT_VBLANK, relative 1). Missed vblanks count
      // from the first flip on (other outputs' modesets may come between this wait and the first flip).
      const t0 = sys.now;
      const v = yield* card.waitVblank(o.crtcIndex, 1);
      if (typeof v === 'number') return fail(sys, 'modeset', `WAIT_VBLANK on CRTC ${o.crtcId}: ${errnoName(v)}`);
      const period = o.res.refreshHz > 0 ? 1e12 / o.res.refreshHz : 0;
      if (sys.now - t0 > 2 * period) problem(sys, `WAIT_VBLANK on CRTC ${o.crtcId} took ${((sys.now - t0) / 1e9).toFixed(3)} ms, more than two frames`);
    }
    result.steps.push('modeset');

    // ---- flips: draw the back buffer, flip, wait for every output's event.
    const atomicProps = new Map<number, number>();
    if (params.api === 'atomic') {
      for (const o of outputs) {
        const props = yield* card.objectProperties(o.planeId, DRM_MODE_OBJECT_PLANE);
        if (typeof props === 'number') return fail(sys, 'flips', `plane ${o.planeId} properties: ${errnoName(props)}`);
        const fbProp = props.get('FB_ID');
        if (fbProp === undefined) return fail(sys, 'flips', `plane ${o.planeId} has no FB_ID property`);
        atomicProps.set(o.planeId, fbProp.id);
      }
    }
    for (let n = 1; n <= params.flips; n++) {
      for (const o of outputs) {
        const back: 0 | 1 = o.front === 0 ? 1 : 0;
        draw(o, back, n);
        o.pendingSince = sys.now;
        o.pending = true;
        const r = params.api === 'legacy'
          ? yield* card.pageFlip(o.crtcId, o.fbs[back], DRM_MODE_PAGE_FLIP_EVENT, BigInt(n))
          : yield* card.atomic(DRM_MODE_PAGE_FLIP_EVENT | 0x200 /* NONBLOCK */, [{ id: o.planeId, props: [[atomicProps.get(o.planeId)!, BigInt(o.fbs[back])]] }], BigInt(n));
        if (r < 0) return fail(sys, 'flips', `flip ${n} on CRTC ${o.crtcId}: ${errnoName(r)}`);
      }
      const deadline = sys.now + params.flipTimeoutMs * 1e9;
      while (outputs.some((o) => o.pending)) {
        const e = yield* nextEvent(deadline);
        if (typeof e === 'string') {
          const late = outputs.filter((o) => o.pending).map((o) => o.crtcId).join(', ');
          return fail(sys, 'flips', `flip ${n}: no flip-complete event for CRTC ${late} within ${params.flipTimeoutMs} ms (${e})`);
        }
        if (e.type === SIMRUN_EVENT_HOTPLUG) { result.hotplugEvents++; continue; }
        if (e.type !== DRM_EVENT_FLIP_COMPLETE) { problem(sys, `flip ${n}: unexpected event type ${e.type}`); continue; }
        const o = outputs.find((x) => x.crtcId === e.crtcId);
        if (o === undefined || !o.pending) { problem(sys, `flip ${n}: flip-complete event for CRTC ${e.crtcId}, which has no flip pending`); continue; }
        if (e.userData !== BigInt(n)) problem(sys, `flip ${n} on CRTC ${o.crtcId}: event user data ${e.userData}, not ${n}`);
        o.pending = false;
        o.front = o.front === 0 ? 1 : 0;
        result.latencies.push(sys.now - o.pendingSince);
        const r1 = o.res;
        if (r1.lastSequence >= 0) {
          const gap = (e.sequence - r1.lastSequence) >>> 0;
          if (gap === 0 || gap > 0x7fffffff) problem(sys, `flip ${n} on CRTC ${o.crtcId}: sequence ${e.sequence} after ${r1.lastSequence}`);
          else if (gap > 1) { r1.missedVblanks += gap - 1; result.missedVblanks += gap - 1; }
        }
        if (r1.firstSequence < 0) r1.firstSequence = e.sequence;
        r1.lastSequence = e.sequence;
        r1.flips++;
        result.flips++;
        if (log !== undefined) {
          const f = scannedFrame(o.crtcIndex, e.sequence);
          if (f === undefined) problem(sys, `flip ${n} on pipe ${'ABC'[o.crtcIndex]}: frame ${e.sequence} was not scanned out`);
          else {
            r1.pixelChecked++;
            if (f.hash !== o.hashes[o.front] || f.width !== o.bufs[o.front].width || f.height !== o.bufs[o.front].height) {
              r1.pixelErrors++;
              result.pixelErrors++;
              problem(sys, `flip ${n} on pipe ${'ABC'[o.crtcIndex]}: frame ${e.sequence} (${f.width}x${f.height}) is not the picture drawn for it`);
            }
          }
        }
      }
    }
    result.steps.push('flips');

    // ---- disable: every CRTC off, framebuffers and buffers freed.
    if (params.disableAtEnd) {
      for (const o of outputs) {
        const r = yield* card.setCrtc(o.crtcId, 0, 0, null);
        if (r < 0) return fail(sys, 'disable', `SETCRTC ${o.crtcId} off: ${errnoName(r)}`);
        for (let i = 0; i < 2; i++) {
          const a = yield* card.rmFb(o.fbs[i as 0 | 1]);
          const b = yield* card.destroyDumb(o.bufs[i as 0 | 1].handle);
          if (a < 0 || b < 0) return fail(sys, 'disable', `RMFB/DESTROY_DUMB: ${errnoName(Math.min(a, b))}`);
        }
      }
      result.steps.push('disable');
    }
    yield* sys.close(fd);
    return 0;
  }

  /** An atomic modeset of output `o`: TEST_ONLY first (nothing may change), then the commit. */
  function* atomicModeset(sys: Sys, card: DrmCard, o: Output): Co<string | undefined> {
    const cp = yield* card.objectProperties(o.conn.id, DRM_MODE_OBJECT_CONNECTOR);
    const kp = yield* card.objectProperties(o.crtcId, DRM_MODE_OBJECT_CRTC);
    const pp = yield* card.objectProperties(o.planeId, DRM_MODE_OBJECT_PLANE);
    if (typeof cp === 'number' || typeof kp === 'number' || typeof pp === 'number') return `OBJ_GETPROPERTIES: ${errnoName([cp, kp, pp].find((x) => typeof x === 'number') as number)}`;
    const id = (m: Map<string, { id: number }>, name: string, what: string): number | string => m.get(name)?.id ?? `${what} has no ${name} property`;
    const modeBytes = new Uint8Array(MODEINFO_SIZE);
    writeMode(new DataView(modeBytes.buffer), 0, o.mode);
    const blob = yield* card.createBlob(modeBytes);
    if (blob < 0) return `CREATEPROPBLOB: ${errnoName(blob)}`;
    const w = o.mode.hdisplay;
    const h = o.mode.vdisplay;
    const ids = {
      connCrtc: id(cp, 'CRTC_ID', 'connector'), active: id(kp, 'ACTIVE', 'CRTC'), modeId: id(kp, 'MODE_ID', 'CRTC'),
      fb: id(pp, 'FB_ID', 'plane'), crtc: id(pp, 'CRTC_ID', 'plane'), srcX: id(pp, 'SRC_X', 'plane'), srcY: id(pp, 'SRC_Y', 'plane'),
      srcW: id(pp, 'SRC_W', 'plane'), srcH: id(pp, 'SRC_H', 'plane'), crtcX: id(pp, 'CRTC_X', 'plane'), crtcY: id(pp, 'CRTC_Y', 'plane'),
      crtcW: id(pp, 'CRTC_W', 'plane'), crtcH: id(pp, 'CRTC_H', 'plane'),
    };
    for (const v of Object.values(ids)) if (typeof v === 'string') return v;
    const n = ids as Record<keyof typeof ids, number>;
    const objects = [
      { id: o.conn.id, props: [[n.connCrtc, BigInt(o.crtcId)]] as [number, bigint][] },
      { id: o.crtcId, props: [[n.active, 1n], [n.modeId, BigInt(blob)]] as [number, bigint][] },
      {
        id: o.planeId,
        props: [
          [n.fb, BigInt(o.fbs[0])], [n.crtc, BigInt(o.crtcId)], [n.srcX, 0n], [n.srcY, 0n], [n.srcW, BigInt(w) << 16n], [n.srcH, BigInt(h) << 16n],
          [n.crtcX, 0n], [n.crtcY, 0n], [n.crtcW, BigInt(w)], [n.crtcH, BigInt(h)],
        ] as [number, bigint][],
      },
    ];
    const before = yield* card.getCrtc(o.crtcId);
    const t = yield* card.atomic(DRM_MODE_ATOMIC_TEST_ONLY | DRM_MODE_ATOMIC_ALLOW_MODESET, objects, 0n);
    if (t < 0) return `atomic TEST_ONLY modeset: ${errnoName(t)}`;
    const after = yield* card.getCrtc(o.crtcId);
    if (JSON.stringify(before) !== JSON.stringify(after)) return `atomic TEST_ONLY changed CRTC ${o.crtcId}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`;
    const noModeset = yield* card.atomic(0, objects, 0n);
    if (noModeset >= 0) problem(sys, `atomic modeset without ALLOW_MODESET succeeded (it must be EINVAL)`);
    const r = yield* card.atomic(DRM_MODE_ATOMIC_ALLOW_MODESET, objects, 0n);
    if (r < 0) return `atomic modeset of CRTC ${o.crtcId}: ${errnoName(r)}`;
    return undefined;
  }
}

export const drmFlipWorkload: WorkloadEntry<typeof drmFlipParams, DrmFlipResult> = {
  type: 'drm-flip',
  description: 'a simple compositor on drm:card0: list connectors, modeset the preferred mode with two dumb buffers, page-flip N frames with events; checks the pixels scanned out',
  params: drmFlipParams,
  expectations: {
    minFlips: 'at least this many page flips completed (all outputs)',
    maxMissedVblanks: 'at most this many vblanks missed between consecutive flips',
    maxFlipLatencyUs: 'the longest flip (call to event) at most this many microseconds (0: unchecked)',
    dataErrors: 'at most this many frames whose scanned-out pixels differ from the picture drawn',
    displayOutcome: '"ok" (default), or "fail:<step>" (open, probe, hotplug, buffers, modeset, flips, disable) for a run that must fail there',
  },
  spawn(env, params) {
    const r = spawnDrmFlip(env, params);
    const maxLatencyUs = () => (r.latencies.length === 0 ? 0 : Math.max(...r.latencies) / 1e6);
    return {
      type: 'drm-flip',
      result: r,
      done: () => r.done,
      ios: () => 0,
      failures(e, stoppedBy) {
        const out: string[] = [];
        const got = r.failedStep === undefined ? 'ok' : `fail:${r.failedStep}`;
        if (e.displayOutcome !== 'ok') {
          // A fault scenario: the run must fail at that step (and the rest is not checked).
          if (got !== e.displayOutcome && (r.failedStep !== undefined || r.done || stoppedBy !== 'until')) {
            out.push(`expected the compositor to end "${e.displayOutcome}", it ended "${r.done || r.failedStep !== undefined ? got : 'unfinished'}"${r.failure === undefined ? '' : `: ${r.failure}`}`);
          }
          return out;
        }
        if (r.failedStep !== undefined) out.push(`the compositor failed at ${r.failedStep}: ${r.failure ?? ''}`);
        if (r.pixelErrors > e.dataErrors) out.push(`expected at most ${e.dataErrors} frames with wrong pixels, got ${r.pixelErrors}`);
        if (r.missedVblanks > e.maxMissedVblanks) out.push(`expected at most ${e.maxMissedVblanks} missed vblanks, got ${r.missedVblanks}`);
        if (e.maxFlipLatencyUs > 0 && maxLatencyUs() > e.maxFlipLatencyUs) out.push(`expected flips within ${e.maxFlipLatencyUs} us, the longest took ${maxLatencyUs().toFixed(1)} us`);
        if (stoppedBy === 'until' && !r.done) return out;
        if (!r.done && r.failedStep === undefined) out.push(`the compositor did not finish (steps: ${r.steps.join(' > ') || '(none)'})`);
        if (r.flips < e.minFlips) out.push(`expected at least ${e.minFlips} page flips, got ${r.flips}`);
        if (out.length > 0) for (const p of r.problems.slice(0, 5)) out.push(p);
        return out;
      },
      notEvaluated(e, stoppedBy) {
        if (stoppedBy !== 'until' || r.done) return [];
        const out: string[] = [];
        if (r.flips < e.minFlips) out.push(`minFlips: at least ${e.minFlips} page flips (${r.flips} so far)`);
        out.push('the workload finishing');
        return out;
      },
      summary() {
        const lines: SummaryLine[] = [
          {
            label: 'display steps',
            text: `${r.steps.join(' > ') || '(none)'}${r.failedStep === undefined ? '' : ` > ${r.failedStep} FAILED: ${r.failure ?? ''}`}`,
            bad: r.failedStep !== undefined,
          },
          { label: 'driver', text: r.driver || '?' },
          {
            label: 'connectors',
            text: r.connectors.map((c) => `${c.id}: ${c.connected ? `connected, ${c.modes} modes, EDID ${c.edidBytes} bytes` : 'disconnected'}`).join('; ') || '(none)',
          },
        ];
        for (const o of r.outputs) {
          lines.push({
            label: `pipe ${'ABC'[o.pipe] ?? o.pipe}`,
            text: `${o.mode}@${o.refreshHz} Hz on connector ${o.connector} (${o.monitor}): ${o.flips} flips, frames ${o.firstSequence}..${o.lastSequence}, `
              + `${o.missedVblanks} missed vblanks, pixels ${o.pixelChecked - o.pixelErrors}/${o.pixelChecked} frames match`,
            bad: o.pixelErrors > 0,
          });
        }
        if (r.latencies.length > 0) lines.push({ label: 'flip latency', text: spread(r.latencies) });
        if (r.hotplugEvents > 0) lines.push({ label: 'hot-plug events', text: String(r.hotplugEvents) });
        return lines;
      },
      json: () => ({ ...r, latencies: undefined, flipCount: r.latencies.length, maxFlipLatencyUs: maxLatencyUs() }),
      digest: () => `${r.steps.join(',')}/${r.flips}/${r.missedVblanks}/${r.pixelErrors}`,
    };
  },
};

/** The result of a run whose workload was "drm-flip", else undefined. */
export const drmFlipResultOf = (w: { type: string; result: object } | undefined): DrmFlipResult | undefined => workloadResult(drmFlipWorkload, w);
