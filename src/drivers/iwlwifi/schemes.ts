/**
 * The Redox-facing side of the Wi-Fi driver, served by the driver process
 * (the shape of nvme's disk scheme):
 *
 * `wifictl:<if>/<file>` — control files:
 *   scan        write anything: runs a scan; the write returns its byte count
 *               after the scan completed, or -EBUSY / -ERFKILL / -EIO /
 *               -ETIMEDOUT. "ssid=<name>" adds a directed probe for <name>.
 *   networks    read: "<bssid>\t<ssid>\t<channel>\t<signal dBm>\t<security>\n"
 *               per BSS, strongest first (then by BSSID)
 *   connect     write "<ssid>": returns after association or with an error
 *               (-ENOENT unknown, -EOPNOTSUPP secured, -ECONNREFUSED refused,
 *               -ETIMEDOUT no answer)
 *   disconnect  write anything
 *   status      read: "state=...\nssid=...\nbssid=...\nchannel=...\nmac=...\n"
 *   mac         read: "aa:bb:cc:dd:ee:ff\n"
 * A read file's text is taken when it is read at offset 0 and served from
 * that snapshot at later offsets (so `cat` sees one consistent text).
 *
 * `network.<if>:mac` — the adapter's address, read as 6 raw bytes (as every
 * network driver serves it: src/drivers/linux-kpi/netdev.ts).
 *
 * `network.<if>:` — raw Ethernet frames: read = one received frame (blocks;
 * -EAGAIN with O_NONBLOCK), write = one frame to send (-ENETDOWN when not
 * connected, -EINVAL when shorter than 14 bytes; blocks while the TX queue
 * is stopped, -EAGAIN with O_NONBLOCK).
 *
 * Requests that wait (scan, connect, disconnect; blocking network reads and
 * writes) are replied to later: the user scheme lets a daemon hold a packet
 * and reply from any of its threads. Control operations run one at a time in
 * the `iwlwifi-ctl` worker thread; network reads are completed from the RX
 * path, blocked writes when the TX queue wakes. The two scheme loops never
 * block on anything but their next request.
 */
import type { Co } from '../../sim/scheduler.js';
import { EAGAIN, EBUSY, EINVAL, EIO, ENOENT } from '../../kernel/errno.js';
import { OP_CLOSE, OP_FSIZE, OP_OPEN, OP_READ, OP_WRITE, type Packet } from '../../kernel/schemes/user.js';
import type { Sys } from '../../kernel/sys.js';
import { O_NONBLOCK } from '../../kernel/types.js';
import type { Completion } from '../linux-kpi/completion.js';
import type { LinuxKpi, PciDev } from '../linux-kpi/kpi.js';
import type { IwlMvm } from './mvm/mvm.js';

type CtlFile = 'scan' | 'networks' | 'connect' | 'disconnect' | 'status' | 'mac';
const CTL_FILES: readonly CtlFile[] = ['scan', 'networks', 'connect', 'disconnect', 'status', 'mac'];
const READABLE = new Set<CtlFile>(['networks', 'status', 'mac']);

interface CtlHandle { file: CtlFile; snapshot: Uint8Array | null }
interface NetHandle { nonBlocking: boolean; mac: boolean }
interface CtlJob { p: Packet; file: 'scan' | 'connect' | 'disconnect'; arg: string }

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

export class IwlSchemes {
  readonly ctlName: string;
  readonly netName: string;
  private ctlFd = -1;
  private netFd = -1;
  private readonly ctlHandles = new Map<number, CtlHandle>();
  private readonly netHandles = new Map<number, NetHandle>();
  private nextHandle = 1;
  private readonly jobs: CtlJob[] = [];
  private readonly jobAvail: Completion;
  private busy: CtlJob['file'] | null = null;
  private readonly readers: Packet[] = [];
  private readonly writers: Packet[] = [];
  /** Requests that failed with an exception (a driver bug; the request got -EIO). */
  internalErrors = 0;

  constructor(private readonly k: LinuxKpi, private readonly pdev: PciDev, private readonly mvm: IwlMvm, readonly ifname: string) {
    this.ctlName = 'wifictl';
    this.netName = `network.${ifname}`;
    this.jobAvail = k.init_completion();
    mvm.onRxFrame = () => this.serveReaders();
    mvm.onTxWake = () => this.serveWriters();
  }

  /** Starts the two scheme loops and the control worker as driver threads. */
  start(): void {
    this.k.kthread_run('iwlwifi-wifictl', (sys) => this.serveCtl(sys));
    this.k.kthread_run(`iwlwifi-${this.netName}`, (sys) => this.serveNet(sys));
    this.k.kthread_run('iwlwifi-ctl', (sys) => this.ctlWorker(sys));
  }

  private reply(fd: number, p: Packet, r: number): void {
    this.k.sys.reply(fd, p, r);
  }

  // ---- wifictl -----------------------------------------------------------------------------
  *serveCtl(sys: Sys): Co<void> {
    this.ctlFd = yield* sys.createScheme(this.ctlName);
    this.k.dev_info(this.pdev, `serving ${this.ctlName}:${this.ifname}/{${CTL_FILES.join(',')}}`);
    for (;;) {
      const p = yield* sys.nextRequest(this.ctlFd);
      if (p === null) return;
      try {
        this.handleCtl(p);
      } catch (e) {
        this.internalErrors++;
        this.k.dev_err(this.pdev, `${this.ctlName}: request failed: ${String(e)}`);
        if (!p.replied) this.reply(this.ctlFd, p, -EIO);
      }
    }
  }

  private handleCtl(p: Packet): void {
    const fd = this.ctlFd;
    switch (p.op) {
      case OP_OPEN: {
        const path = p.path.replace(/^\/+/, '').replace(/\/+$/, '');
        const slash = path.indexOf('/');
        const file = path.slice(slash + 1) as CtlFile;
        if (slash < 0 || path.slice(0, slash) !== this.ifname || !CTL_FILES.includes(file)) { this.reply(fd, p, -ENOENT); return; }
        const h = this.nextHandle++;
        this.ctlHandles.set(h, { file, snapshot: null });
        this.reply(fd, p, h);
        return;
      }
      case OP_CLOSE:
        this.reply(fd, p, this.ctlHandles.delete(p.handle) ? 0 : -EINVAL);
        return;
      case OP_FSIZE: {
        const h = this.ctlHandles.get(p.handle);
        if (h === undefined) { this.reply(fd, p, -EINVAL); return; }
        this.reply(fd, p, READABLE.has(h.file) ? this.text(h.file).length : 0);
        return;
      }
      case OP_READ: {
        const h = this.ctlHandles.get(p.handle);
        if (h === undefined || p.buf === null || !READABLE.has(h.file)) { this.reply(fd, p, -EINVAL); return; }
        if (p.offset === 0 || h.snapshot === null) h.snapshot = this.text(h.file);
        const off = Math.max(0, p.offset);
        const n = Math.max(0, Math.min(p.buf.length, h.snapshot.length - off));
        if (n > 0) p.buf.set(h.snapshot.subarray(off, off + n));
        this.reply(fd, p, n);
        return;
      }
      case OP_WRITE: {
        const h = this.ctlHandles.get(p.handle);
        if (h === undefined || p.buf === null || READABLE.has(h.file)) { this.reply(fd, p, -EINVAL); return; }
        const file = h.file as CtlJob['file'];
        const arg = dec.decode(p.buf.subarray(0, 256)).replace(/[\r\n\0]+$/, '');
        if (file === 'scan' && (this.busy === 'scan' || this.mvm.state === 'scanning' || this.jobs.some((j) => j.file === 'scan'))) {
          this.reply(fd, p, -EBUSY);
          return;
        }
        if (file === 'connect' && (arg === '' || enc.encode(arg).length > 32)) { this.reply(fd, p, -EINVAL); return; }
        this.jobs.push({ p, file, arg });
        this.k.complete(this.jobAvail);
        return;
      }
      default:
        this.reply(fd, p, -EINVAL);
    }
  }

  private text(file: CtlFile): Uint8Array {
    switch (file) {
      case 'networks': return enc.encode(this.mvm.bss.text());
      case 'status': return enc.encode(this.mvm.statusText());
      case 'mac': return enc.encode(`${this.mvm.macString}\n`);
      default: return new Uint8Array(0);
    }
  }

  /** Runs scan / connect / disconnect requests one at a time and replies when each is done. */
  *ctlWorker(_sys: Sys): Co<void> {
    for (;;) {
      const job = this.jobs.shift();
      if (job === undefined) {
        yield* this.k.wait_for_completion(this.jobAvail);
        continue;
      }
      this.busy = job.file;
      let r: number;
      try {
        if (job.file === 'scan') {
          const m = /^ssid=(.{1,32})$/s.exec(job.arg);
          r = yield* this.mvm.scan(m?.[1]);
        } else if (job.file === 'connect') {
          r = yield* this.mvm.connect(job.arg);
        } else {
          r = yield* this.mvm.disconnect();
        }
      } catch (e) {
        this.internalErrors++;
        this.k.dev_err(this.pdev, `${this.ctlName}: ${job.file} failed: ${String(e)}`);
        r = -EIO;
      }
      this.busy = null;
      this.reply(this.ctlFd, job.p, r < 0 ? r : job.p.buf?.length ?? 0);
    }
  }

  // ---- network.<if> -----------------------------------------------------------------------------
  *serveNet(sys: Sys): Co<void> {
    this.netFd = yield* sys.createScheme(this.netName);
    this.k.dev_info(this.pdev, `serving ${this.netName}:`);
    for (;;) {
      const p = yield* sys.nextRequest(this.netFd);
      if (p === null) return;
      try {
        this.handleNet(p);
      } catch (e) {
        this.internalErrors++;
        this.k.dev_err(this.pdev, `${this.netName}: request failed: ${String(e)}`);
        if (!p.replied) this.reply(this.netFd, p, -EIO);
      }
    }
  }

  private handleNet(p: Packet): void {
    const fd = this.netFd;
    switch (p.op) {
      case OP_OPEN: {
        if (p.path !== '' && p.path !== 'mac') { this.reply(fd, p, -ENOENT); return; }
        const h = this.nextHandle++;
        this.netHandles.set(h, { nonBlocking: (p.flags & O_NONBLOCK) !== 0, mac: p.path === 'mac' });
        this.reply(fd, p, h);
        return;
      }
      case OP_CLOSE:
        this.reply(fd, p, this.netHandles.delete(p.handle) ? 0 : -EINVAL);
        return;
      case OP_FSIZE:
        this.reply(fd, p, this.netHandles.has(p.handle) ? 0 : -EINVAL);
        return;
      case OP_READ: {
        const h = this.netHandles.get(p.handle);
        if (h === undefined || p.buf === null) { this.reply(fd, p, -EINVAL); return; }
        if (h.mac) {
          const mac = this.mvm.macBytes.subarray(Math.min(6, Math.max(0, p.offset)));
          const n = Math.min(mac.length, p.buf.length);
          p.buf.set(mac.subarray(0, n));
          this.reply(fd, p, n);
          return;
        }
        if (this.readers.length === 0 && this.mvm.rxQueue.length > 0) { this.deliver(p); return; }
        if (h.nonBlocking) { this.reply(fd, p, -EAGAIN); return; }
        this.readers.push(p);
        return;
      }
      case OP_WRITE: {
        const h = this.netHandles.get(p.handle);
        if (h === undefined || p.buf === null || h.mac) { this.reply(fd, p, -EINVAL); return; }
        if (this.writers.length > 0) {
          if (h.nonBlocking) this.reply(fd, p, -EAGAIN);
          else this.writers.push(p);
          return;
        }
        const r = this.mvm.xmit(p.buf);
        if (r === -EAGAIN && !h.nonBlocking) { this.writers.push(p); return; }
        this.reply(fd, p, r < 0 ? r : p.buf.length);
        return;
      }
      default:
        this.reply(fd, p, -EINVAL);
    }
  }

  /** Replies to `p` with the oldest received frame (truncated to the buffer). */
  private deliver(p: Packet): void {
    const f = this.mvm.rxQueue.shift()!;
    const buf = p.buf!;
    const n = Math.min(f.length, buf.length);
    buf.set(f.subarray(0, n));
    this.reply(this.netFd, p, n);
  }

  /** RX path (NAPI context): hand queued frames to blocked readers. */
  private serveReaders(): void {
    while (this.readers.length > 0 && this.mvm.rxQueue.length > 0) {
      const p = this.readers.shift()!;
      if (p.replied) continue;
      this.deliver(p);
    }
  }

  /** TX queue woke or the link went down: retry blocked writers in order. */
  private serveWriters(): void {
    while (this.writers.length > 0) {
      const p = this.writers[0]!;
      const r = this.mvm.xmit(p.buf!);
      if (r === -EAGAIN) return;
      this.writers.shift();
      this.reply(this.netFd, p, r < 0 ? r : p.buf!.length);
    }
  }

  get pendingReaders(): number { return this.readers.length; }
  get pendingWriters(): number { return this.writers.length; }
}
