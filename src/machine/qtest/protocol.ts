/**
 * QEMU's qtest protocol (system/qtest.c in QEMU, docs/devel/qtest.rst), as a
 * synchronous interpreter over a qtest machine: `command(line)` takes one
 * request line (without its newline) and returns the lines to send back —
 * any asynchronous `IRQ raise N` / `IRQ lower N` lines the command caused,
 * in the order they happened, then the reply. Socket handling lives in the
 * CLI (src/cli/serve-command.ts); this module does no I/O.
 *
 * Replies are formatted as QEMU formats them: `in*` -> `OK 0x%04x`, `read*`
 * -> `OK 0x%016x`, `read` -> `OK 0x<hex>`, `b64read` -> `OK <base64>`,
 * `clock_step`/`clock_set` -> `OK <ns>`, `endianness` -> `OK little`; unknown
 * commands `FAIL Unknown command '<word>'`; write/b64write with fewer than 3
 * data characters `ERR invalid argument size`. Where QEMU asserts (a missing
 * or unparsable argument, a port above 0xffff, `read` of 0 bytes) and so
 * aborts the whole emulator, this server answers `FAIL <what is wrong>` and
 * carries on. See docs/QTEST.md for the subset and the IRQ numbering.
 */
import type { Machine } from '../machine.js';
import type { QtestMachine } from './build.js';

/** Largest `read`/`b64read`/`write`/`b64write`/`memset` length served (bytes). */
export const QTEST_MAX_TRANSFER = 64 * 1024 * 1024;
const MAX_IRQ = 256;
const U64_MAX = (1n << 64n) - 1n;

/**
 * The IRQ number `irq_intercept_in ioapic` reports for IOAPIC pin `gsi` of
 * this machine: QEMU's q35 numbering. simrun wires INTA#..INTD# of slot D to
 * pins 16 + ((D + pin - 1) mod 4); QEMU's q35 (ICH9 LPC, default routing)
 * wires them to PIRQ E..H, GSI 20 + ((D + pin - 1) mod 4). Other pins keep
 * their number.
 */
export function ioapicIrqNumber(gsi: number): number {
  return gsi >= 16 && gsi <= 19 ? gsi + 4 : gsi;
}

/** C `strtoull`-style parse, base 0, the whole word (as qemu_strtou64 without an end pointer). Negative values wrap. */
export function parseU64(word: string | undefined): bigint | undefined {
  const v = parseInteger(word);
  if (v === undefined) return undefined;
  if (v < 0n) return -v > U64_MAX ? undefined : (U64_MAX + 1n + v) & U64_MAX;
  return v > U64_MAX ? undefined : v;
}

/** qemu_strtoi64: base 0, the whole word, in the int64 range. */
export function parseI64(word: string | undefined): bigint | undefined {
  const v = parseInteger(word);
  if (v === undefined || v > (1n << 63n) - 1n || v < -(1n << 63n)) return undefined;
  return v;
}

function parseInteger(word: string | undefined): bigint | undefined {
  if (word === undefined) return undefined;
  let s = word.replace(/^[ \t\n\v\f\r]+/, '');
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) { neg = s[0] === '-'; s = s.slice(1); }
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = BigInt(`0x${s.slice(2)}`);
  else if (/^0[0-7]*$/.test(s)) v = s.length === 1 ? 0n : BigInt(`0o${s.slice(1)}`);
  else if (/^[1-9][0-9]*$/.test(s)) v = BigInt(s);
  else return undefined;
  return neg ? -v : v;
}

function hex2nib(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const HEX = '0123456789abcdef';
function hexBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

type Intercept = { kind: 'in'; path: string } | { kind: 'out'; path: string; dev: number };

export class QtestServer {
  readonly machine: Machine;
  private out: string[] = [];
  private intercept: Intercept | undefined;
  private readonly levels = new Uint8Array(MAX_IRQ);
  /** Commands served, and how many answered FAIL or ERR. */
  commands = 0;
  failures = 0;

  constructor(qm: QtestMachine) {
    this.machine = qm.machine;
    qm.irq.listener = {
      intx: (dev, gsi, deviceLevel, lineLevel) => {
        const ic = this.intercept;
        if (ic === undefined) return;
        if (ic.kind === 'in') this.report(ioapicIrqNumber(gsi), lineLevel);
        else if (ic.dev === dev) this.report(0, deviceLevel);
      },
      msi: (dev, _addr, data) => {
        const ic = this.intercept;
        if (ic === undefined || (ic.kind === 'out' && ic.dev !== dev)) return;
        // A message is an edge: a raise and a lower of its vector.
        const v = data & 0xff;
        this.report(v, 1);
        this.report(v, 0);
      },
    };
  }

  /** Simulated time in nanoseconds (the qtest clock). */
  get nowNs(): number {
    return Math.floor(this.machine.queue.now / 1000);
  }

  /** Serves one request line; returns the IRQ lines it caused, then its reply. */
  command(line: string): string[] {
    this.out = [];
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    let reply: string;
    try {
      reply = this.dispatch(text.split(' '));
    } catch (e) {
      // Nothing a client sends may take the server down: a device model fault is a reply, not a crash.
      reply = `FAIL internal error: ${(e as Error).message}`;
    }
    // Timers that expired at the current time run before the next command (QEMU's main loop does so between commands).
    const q = this.machine.queue;
    q.runUntil(q.now);
    this.commands++;
    if (reply.startsWith('FAIL') || reply.startsWith('ERR')) this.failures++;
    const lines = this.out;
    this.out = [];
    lines.push(reply);
    return lines;
  }

  private report(n: number, level: 0 | 1): void {
    if (n < 0 || n >= MAX_IRQ || this.levels[n] === level) return;
    this.levels[n] = level;
    this.out.push(`IRQ ${level ? 'raise' : 'lower'} ${n}`);
  }

  private dispatch(w: string[]): string {
    const cmd = w[0] ?? '';
    if (cmd === '') return 'FAIL empty command';
    switch (cmd) {
      case 'irq_intercept_in':
      case 'irq_intercept_out':
        return this.irqIntercept(cmd === 'irq_intercept_out', w);
      case 'outb': case 'outw': case 'outl': {
        const port = parseU64(w[1]);
        const value = parseU64(w[2]);
        if (port === undefined) return this.bad(cmd, 'port', w[1]);
        if (value === undefined) return this.bad(cmd, 'value', w[2]);
        if (port > 0xffffn) return `FAIL ${cmd}: port ${w[1]} is above 0xffff`;
        this.portWrite(Number(port), sizeOf(cmd[3]!) as 1 | 2 | 4, Number(value & 0xffffffffn));
        return 'OK';
      }
      case 'inb': case 'inw': case 'inl': {
        const port = parseU64(w[1]);
        if (port === undefined) return this.bad(cmd, 'port', w[1]);
        if (port > 0xffffn) return `FAIL ${cmd}: port ${w[1]} is above 0xffff`;
        const v = this.portRead(Number(port), sizeOf(cmd[2]!) as 1 | 2 | 4);
        return `OK 0x${v.toString(16).padStart(4, '0')}`;
      }
      case 'writeb': case 'writew': case 'writel': case 'writeq': {
        const addr = parseU64(w[1]);
        const value = parseU64(w[2]);
        if (addr === undefined) return this.bad(cmd, 'address', w[1]);
        if (value === undefined) return this.bad(cmd, 'value', w[2]);
        const size = sizeOf(cmd[5]!);
        this.writeValue(addr, size, value);
        return 'OK';
      }
      case 'readb': case 'readw': case 'readl': case 'readq': {
        const addr = parseU64(w[1]);
        if (addr === undefined) return this.bad(cmd, 'address', w[1]);
        const v = this.readValue(addr, sizeOf(cmd[4]!));
        return `OK 0x${v.toString(16).padStart(16, '0')}`;
      }
      case 'read': case 'b64read': {
        const addr = parseU64(w[1]);
        const len = parseU64(w[2]);
        if (addr === undefined) return this.bad(cmd, 'address', w[1]);
        if (len === undefined) return this.bad(cmd, 'size', w[2]);
        if (cmd === 'read' && len === 0n) return 'FAIL read: size 0';
        if (len > BigInt(QTEST_MAX_TRANSFER)) return `FAIL ${cmd}: size ${w[2]} is above ${QTEST_MAX_TRANSFER} bytes`;
        const data = this.readBytes(addr, Number(len));
        return cmd === 'read' ? `OK 0x${hexBytes(data)}` : `OK ${Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64')}`;
      }
      case 'write': case 'b64write': {
        const addr = parseU64(w[1]);
        const len = parseU64(w[2]);
        if (addr === undefined) return this.bad(cmd, 'address', w[1]);
        if (len === undefined) return this.bad(cmd, 'size', w[2]);
        const word = w[3];
        if (word === undefined) return `FAIL ${cmd}: missing data`;
        if (len > BigInt(QTEST_MAX_TRANSFER)) return `FAIL ${cmd}: size ${w[2]} is above ${QTEST_MAX_TRANSFER} bytes`;
        if (word.length < 3) return 'ERR invalid argument size';
        const n = Number(len);
        const data = cmd === 'write' ? decodeHexData(word, n) : decodeB64Data(word, n);
        this.writeBytes(addr, data);
        return 'OK';
      }
      case 'memset': {
        const addr = parseU64(w[1]);
        const len = parseU64(w[2]);
        const pattern = parseU64(w[3]);
        if (addr === undefined) return this.bad(cmd, 'address', w[1]);
        if (len === undefined) return this.bad(cmd, 'size', w[2]);
        if (pattern === undefined) return this.bad(cmd, 'value', w[3]);
        if (len > BigInt(QTEST_MAX_TRANSFER)) return `FAIL memset: size ${w[2]} is above ${QTEST_MAX_TRANSFER} bytes`;
        if (len > 0n) this.writeBytes(addr, new Uint8Array(Number(len)).fill(Number(pattern & 0xffn)));
        return 'OK';
      }
      case 'endianness':
        return 'OK little';
      case 'clock_step': {
        const old = this.nowNs;
        let step: bigint;
        if (w[1] === undefined) {
          const t = this.machine.queue.peekTime();
          if (t === Infinity) return 'FAIL cannot advance clock to the next deadline because there is no pending deadline';
          step = BigInt(Math.max(0, Math.ceil(t / 1000) - old));
        } else {
          const s = parseI64(w[1]);
          if (s === undefined) return this.bad(cmd, 'nanoseconds', w[1]);
          step = s;
        }
        const now = this.advanceTo(BigInt(old) + step);
        return now > old ? `OK ${now}` : 'FAIL could not advance time';
      }
      case 'clock_set': {
        const ns = parseI64(w[1]);
        if (ns === undefined) return this.bad(cmd, 'nanoseconds', w[1]);
        const now = this.advanceTo(ns);
        return `${BigInt(now) === ns ? 'OK' : 'FAIL'} ${now}`;
      }
      case 'module_load':
        return 'FAIL';
      default:
        return `FAIL Unknown command '${cmd}'`;
    }
  }

  private bad(cmd: string, what: string, word: string | undefined): string {
    return word === undefined ? `FAIL ${cmd}: missing ${what}` : `FAIL ${cmd}: invalid ${what} '${word.length > 40 ? `${word.slice(0, 37)}...` : word}'`;
  }

  /** Runs the device world up to `ns` (if later than now); returns the clock afterwards, in ns. */
  private advanceTo(ns: bigint): number {
    const old = this.nowNs;
    if (ns <= BigInt(old)) return old;
    const ps = ns * 1000n;
    if (ps > BigInt(Number.MAX_SAFE_INTEGER)) return old; // beyond simulated time's range (2^53 ps, about 2.5 hours)
    this.machine.queue.runUntil(Number(ps));
    return this.nowNs;
  }

  private irqIntercept(out: boolean, w: string[]): string {
    const path = w[1];
    if (path === undefined) return `FAIL ${w[0]}: missing QOM path`;
    const named = w[2] !== undefined;
    let target: Intercept | undefined;
    if (!out && (path === 'ioapic' || path.endsWith('/ioapic'))) target = { kind: 'in', path };
    else if (out) {
      const id = path.slice(path.lastIndexOf('/') + 1);
      const d = this.machine.devices.find((x) => x.id === id);
      if (d !== undefined) target = { kind: 'out', path, dev: d.index };
    }
    if (target === undefined) return 'FAIL Unknown device';
    if (named && !out) return 'FAIL Interception of named in-GPIOs not yet supported';
    const cur = this.intercept;
    if (cur !== undefined) return cur.kind === target.kind && (cur.kind === 'in' || cur.dev === (target as { dev: number }).dev) ? 'OK' : 'FAIL IRQ intercept already enabled';
    if (named) return 'FAIL No intercepts installed';
    this.intercept = target;
    return 'OK';
  }

  // ---- the CPU's view of ports and memory --------------------------------------

  private portRead(port: number, size: 1 | 2 | 4): number {
    const m = this.machine;
    const r = m.mem.findPorts(port, size);
    if (r === undefined) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const v = r.handler.read(port - r.base, size);
    if (r.traced) m.tracer.pio(false, m.queue.now, -1, r.dev, port, size, v);
    return v;
  }

  private portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    const m = this.machine;
    const r = m.mem.findPorts(port, size);
    if (r === undefined) return;
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    if (r.traced) m.tracer.pio(true, m.queue.now, -1, r.dev, port, size, v);
    r.handler.write(port - r.base, size, v);
  }

  /** One access of 1, 2 or 4 bytes at `addr`; undefined when no window or RAM holds it whole. */
  private access(write: boolean, addr: number, size: 1 | 2 | 4, value: number): number | undefined {
    const m = this.machine;
    const w = m.mem.findWindow(addr, size);
    if (w !== undefined) {
      const off = addr - w.base;
      if (write) {
        const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
        if (w.traced) m.tracer.mmio(true, m.queue.now, -1, w.dev, w.bar, off, size, v);
        w.handler.write(off, size, v);
        return 0;
      }
      const v = w.handler.read(off, size);
      if (w.traced) m.tracer.mmio(false, m.queue.now, -1, w.dev, w.bar, off, size, v);
      return v;
    }
    const b = m.mem.resolve(addr, size);
    if (b === null) return undefined;
    const at = m.mem.resolvedOffset;
    if (write) {
      for (let i = 0; i < size; i++) b[at + i] = (value >>> (8 * i)) & 0xff;
      if (b === m.mem.ram) m.mem.touch(addr, size);
      return 0;
    }
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
    return v;
  }

  private unassigned(write: boolean, addr: bigint, size: number): void {
    const m = this.machine;
    m.tracer.guestErr(m.queue.now, -1, write ? 'mmio.unmapped-write' : 'mmio.unmapped-read',
      `qtest: ${write ? 'write' : 'read'} of ${size} bytes at 0x${addr.toString(16)} hits no device or RAM (master abort)`);
  }

  /** readb..readq: a qword is two dword accesses, low then high (device registers take 1, 2 or 4 bytes). */
  private readValue(addr: bigint, size: 1 | 2 | 4 | 8): bigint {
    if (addr + BigInt(size) > BigInt(Number.MAX_SAFE_INTEGER)) { this.unassigned(false, addr, size); return allOnes(size); }
    const a = Number(addr);
    if (size === 8) {
      const ram = this.machine.mem.bytesAt(a, 8);
      if (ram !== null && this.machine.mem.findWindow(a, 1) === undefined) return readLe(ram, 8);
      const lo = this.access(false, a, 4, 0);
      const hi = this.access(false, a + 4, 4, 0);
      if (lo === undefined || hi === undefined) { this.unassigned(false, addr, size); return allOnes(8); }
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    const v = this.access(false, a, size, 0);
    if (v === undefined) { this.unassigned(false, addr, size); return allOnes(size); }
    return BigInt(v);
  }

  private writeValue(addr: bigint, size: 1 | 2 | 4 | 8, value: bigint): void {
    if (addr + BigInt(size) > BigInt(Number.MAX_SAFE_INTEGER)) { this.unassigned(true, addr, size); return; }
    const a = Number(addr);
    if (size === 8) {
      const lo = Number(value & 0xffffffffn);
      const hi = Number((value >> 32n) & 0xffffffffn);
      if (this.access(true, a, 4, lo) === undefined || this.access(true, a + 4, 4, hi) === undefined) this.unassigned(true, addr, size);
      return;
    }
    if (this.access(true, a, size, Number(value & 0xffffffffn)) === undefined) this.unassigned(true, addr, size);
  }

  /** Bulk read: RAM is copied; device windows are read with the widest aligned access that fits; holes read all ones. */
  private readBytes(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    if (len === 0) return out;
    const mem = this.machine.mem;
    if (addr + BigInt(len) <= BigInt(Number.MAX_SAFE_INTEGER)) {
      const a0 = Number(addr);
      const ram = mem.bytesAt(a0, len);
      if (ram !== null && mem.findWindow(a0, 1) === undefined) { out.set(ram); return out; }
    }
    let hole = false;
    for (let i = 0; i < len;) {
      const a = addr + BigInt(i);
      if (a + 1n > BigInt(Number.MAX_SAFE_INTEGER)) { out[i++] = 0xff; hole = true; continue; }
      const n = Number(a);
      const size = this.chunk(n, len - i);
      const v = this.access(false, n, size, 0);
      if (v === undefined) { out[i++] = 0xff; hole = true; continue; }
      for (let k = 0; k < size; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
      i += size;
    }
    if (hole) this.unassigned(false, addr, len);
    return out;
  }

  private writeBytes(addr: bigint, data: Uint8Array): void {
    const len = data.length;
    if (len === 0) return;
    const mem = this.machine.mem;
    if (addr + BigInt(len) <= BigInt(Number.MAX_SAFE_INTEGER)) {
      const a0 = Number(addr);
      if (mem.isRam(a0, len) && mem.findWindow(a0, 1) === undefined) { mem.writeBytes(a0, data); return; }
    }
    let hole = false;
    for (let i = 0; i < len;) {
      const a = addr + BigInt(i);
      if (a + 1n > BigInt(Number.MAX_SAFE_INTEGER)) { i++; hole = true; continue; }
      const n = Number(a);
      const size = this.chunk(n, len - i);
      let v = 0;
      for (let k = size - 1; k >= 0; k--) v = v * 256 + data[i + k]!;
      if (this.access(true, n, size, v) === undefined) { i++; hole = true; continue; }
      i += size;
    }
    if (hole) this.unassigned(true, addr, len);
  }

  /** Widest access (4, 2 or 1 bytes) at `a`: aligned, within `left` and inside one device window (RAM goes a byte at a time here). */
  private chunk(a: number, left: number): 1 | 2 | 4 {
    const w = this.machine.mem.findWindow(a, 1);
    if (w === undefined) return 1;
    for (const s of [4, 2] as const) if (a % s === 0 && left >= s && a + s <= w.base + w.size) return s;
    return 1;
  }
}

function sizeOf(c: string): 1 | 2 | 4 | 8 {
  return c === 'b' ? 1 : c === 'w' ? 2 : c === 'l' ? 4 : 8;
}

function allOnes(size: number): bigint {
  return (1n << BigInt(8 * size)) - 1n;
}

function readLe(b: Uint8Array, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** `write`'s DATA: "0x" then two hex digits a byte, as QEMU decodes it (the prefix is skipped unchecked, short data zero-filled, bad digits as its hex2nib gives them). */
export function decodeHexData(word: string, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    if (i * 2 + 4 <= word.length) {
      const hi = hex2nib(word.charCodeAt(i * 2 + 2));
      const lo = hex2nib(word.charCodeAt(i * 2 + 3));
      out[i] = (((hi << 4) & 0xff) | lo) & 0xff;
    }
  }
  return out;
}

/**
 * `b64write`'s data, as QEMU decodes it in place: the decoded bytes, then
 * (when the stated size is larger) the rest of the encoded text's own bytes,
 * then zeros.
 */
export function decodeB64Data(word: string, len: number): Uint8Array {
  const buf = Buffer.from(word, 'latin1');
  const decoded = Buffer.from(word, 'base64');
  decoded.copy(buf, 0, 0, Math.min(decoded.length, buf.length));
  const out = new Uint8Array(len);
  out.set(buf.subarray(0, Math.min(len, buf.length)));
  return out;
}
