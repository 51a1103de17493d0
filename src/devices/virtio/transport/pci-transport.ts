/**
 * virtio 1.2 over PCI, modern interface only (4.1), device side: the PCI
 * identity and capabilities, the common configuration structure, the
 * status handshake and feature negotiation, split virtqueues, notifications,
 * the ISR and MSI-X / INTx interrupts. A virtio device type (blk, net, ...)
 * is a `VirtioBackend` plus one `VirtioPciTransport`; the backend never sees
 * register offsets.
 *
 * ## Using the transport (for a device type)
 *
 * ```ts
 * class MyDevice implements VirtioBackend, DeviceModel {
 *   readonly config = new Uint8Array(MY_CONFIG_SIZE);   // device-specific config, little-endian
 *   readonly t: VirtioPciTransport;
 *   constructor(ctx: DeviceContext) {
 *     this.t = new VirtioPciTransport(ctx, {
 *       deviceType: 1, classCode: 0x020000, deviceFeatures: [MY_F_MAC, ...],
 *       numQueues: 2, queueSizeMax: 256, msixVectors: 3, deviceCfgSize: this.config.length,
 *       featureNames: { 5: 'MAC' },
 *     }, this);
 *   }
 *   queueNotified(q: number): void {       // an event after the driver's notify: pop and work
 *     const vq = this.t.queue(q);
 *     while (vq.pop(this.chain) === POP_OK) { ...schedule the work... }
 *     vq.publishAvailEvent();               // with EVENT_IDX: ask for the next notify
 *   }
 *   // later, in the device's own event: move data through this.t.dma, then
 *   //   this.t.complete(q, chain.head, bytesWritten)   (used ring + interrupt unless suppressed)
 * }
 * ```
 *
 * - Features: `deviceFeatures` are the device-type bits offered; the
 *   transport adds VERSION_1 and, when enabled in the config,
 *   INDIRECT_DESC, EVENT_IDX and RING_RESET. `t.has(bit)` tells whether a
 *   bit was negotiated (valid from FEATURES_OK). `checkFeatures()` lets the
 *   device refuse a combination at FEATURES_OK; VERSION_1 not accepted or a
 *   bit not offered is refused by the transport.
 * - Device configuration: the backend owns `config` bytes; reads are served
 *   from them, writes go to `writeConfig` (return false for read-only). When
 *   the device changes them itself, it calls `t.configChanged()` (bumps
 *   config_generation and sends the configuration change interrupt).
 * - Queues: `t.queue(q)` is the `SplitQueue` (virtqueue.ts): `pop(chain)`
 *   into a caller-owned `DescChain`, `pushUsed(head, len)`,
 *   `shouldNotify()`, `publishAvailEvent()`. `t.complete(q, head, len)` does
 *   pushUsed + interrupt; `t.pushUsed` / `t.signalQueue` split it to batch.
 *   `queueNotified(q)` runs in an event `NOTIFY_DELAY` after a notify write,
 *   only with DRIVER_OK, the queue enabled and no reset needed.
 * - Errors: ring errors are reported by the queue; device-detected fatal
 *   errors call `t.needsReset(code, message)` (guest error, DEVICE_NEEDS_RESET,
 *   configuration change interrupt). Other guest mistakes: `t.err(code, msg)`
 *   with a code of the device's catalogue.
 * - Reset: writing 0 to device_status, or an FLR (`quiesce`), calls the
 *   backend's `reset()` first (drop work, cancel events), then puts every
 *   register and queue back to reset values: device_status reads 0 at once.
 *   queue_reset (with RING_RESET) calls `queueReset(q)`.
 * - Interrupts: MSI-X when the driver enabled it (per-queue vectors and a
 *   config vector; VIRTIO_MSI_NO_VECTOR or an unmapped vector means no
 *   interrupt), else INTx through the ISR (bit 0 queue, bit 1 config; read
 *   clears and deasserts). The configuration bit is set in the ISR in both
 *   modes (4.1.4.5.1).
 *
 * PCI: vendor 1af4, device 1040 + type, revision 1, subsystem vendor 1af4.
 * BAR1 (32-bit memory, 4 KiB): MSI-X table 0x000, PBA 0x800. BAR4 (64-bit
 * memory, 16 KiB): common configuration 0x0000, ISR 0x1000, device
 * configuration 0x2000, notify 0x3000 (notify_off_multiplier 4, queue q at
 * 0x3000 + 4q). Capabilities: PM, MSI-X, then the virtio capabilities
 * (capabilities.ts). INTA#.
 */
import { FNV_OFFSET, fnvNumber } from '../../../sim/hash.js';
import type { DmaPort } from '../../../sim/dma.js';
import { NO_EVENT, type EventQueue } from '../../../sim/event-queue.js';
import type { MmioHandler } from '../../../sim/memory.js';
import { ns, type Duration } from '../../../sim/time.js';
import type { Tracer } from '../../../sim/tracer.js';
import type { DeviceContext } from '../../device.js';
import type { PciFunctionSpec, PciInterrupts } from '../../pci/api.js';
import { SplitQueue, QUEUE_SIZE_LIMIT, type RingHost } from '../virtqueue.js';
import { virtioCapabilities } from './capabilities.js';
import type { VirtioTransportGuestErrorCode, VirtqGuestErrorCode } from './guest-errors.js';
import {
  CAP_OFF_BAR, CAP_OFF_LENGTH, CAP_OFF_OFFSET, CC_CONFIG_GENERATION, CC_CONFIG_MSIX_VECTOR, CC_DEVICE_FEATURE,
  CC_DEVICE_FEATURE_SELECT, CC_DEVICE_STATUS, CC_DRIVER_FEATURE, CC_DRIVER_FEATURE_SELECT, CC_NUM_QUEUES, CC_QUEUE_DESC,
  CC_QUEUE_DESC_HI, CC_QUEUE_DEVICE, CC_QUEUE_DEVICE_HI, CC_QUEUE_DRIVER, CC_QUEUE_DRIVER_HI, CC_QUEUE_ENABLE,
  CC_QUEUE_MSIX_VECTOR, CC_QUEUE_NOTIFY_DATA, CC_QUEUE_NOTIFY_OFF, CC_QUEUE_RESET, CC_QUEUE_SELECT, CC_QUEUE_SIZE,
  COMMON_CFG_SIZE, COMMON_FIELD_WIDTH, DEVICE_CFG_OFFSET, F_EVENT_IDX, F_INDIRECT_DESC, F_RING_RESET, F_VERSION_1,
  FEATURE_WORDS, ISR_CONFIG, ISR_OFFSET, ISR_QUEUE, MSIX_BAR, MSIX_BAR_SIZE, MSIX_PBA_OFFSET, MSIX_TABLE_OFFSET,
  NOTIFY_OFF_MULTIPLIER, NOTIFY_OFFSET, REGION_SIZE, STATUS_ACKNOWLEDGE, STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER,
  STATUS_DRIVER_BITS, STATUS_DRIVER_OK, STATUS_FAILED, STATUS_FEATURES_OK, VIRTIO_BAR, VIRTIO_BAR_SIZE,
  VIRTIO_MSI_NO_VECTOR, VIRTIO_PCI_DEVICE_BASE, VIRTIO_PCI_REVISION, VIRTIO_PCI_VENDOR, commonFieldName, hex,
  statusNames,
} from './regs.js';

/** What a virtio device type gives the transport. */
export interface VirtioBackend {
  /** Device-specific configuration bytes (little-endian), kept current by the device. */
  readonly config: Uint8Array;
  /** A driver write of `size` bytes at `offset` into `config`; false if those bytes are read-only (recorded by the transport). */
  writeConfig(offset: number, size: number, value: number): boolean;
  /** At FEATURES_OK, after the transport's own checks: why the driver's features cannot be accepted, or undefined. */
  checkFeatures(): string | undefined;
  /** FEATURES_OK accepted (feature-dependent configuration may change here). */
  featuresAccepted?(): void;
  /** DRIVER_OK set. */
  driverOk?(): void;
  /** Buffers were made available on queue `q` (an event after the notify). */
  queueNotified(q: number): void;
  /** Device reset: drop every request in flight and cancel the device's events. */
  reset(): void;
  /** Queue `q` reset (queue_reset): drop its requests in flight. */
  queueReset(q: number): void;
}

export interface VirtioTransportConfig {
  /** virtio device type (5.x): 1 net, 2 block, ... */
  deviceType: number;
  /** PCI class code (24 bits). */
  classCode: number;
  /** PCI subsystem id (default: the device type). */
  subsystemId?: number;
  /** Device-type feature bits offered, as bit numbers. */
  deviceFeatures: readonly number[];
  indirectDesc: boolean;
  eventIdx: boolean;
  ringReset: boolean;
  numQueues: number;
  /** Largest queue_size (a power of 2, at most 32768); also the reset value. */
  queueSizeMax: number;
  /** MSI-X table entries. */
  msixVectors: number;
  /** Bytes of device configuration exposed (the DEVICE_CFG length). */
  deviceCfgSize: number;
}

/** Doorbell (notify write) to the backend's queueNotified: a PCIe posted write plus dispatch. */
export const NOTIFY_DELAY: Duration = ns(200);

const EV_NOTIFY = 1;

export interface VirtioTransportCounters {
  notifies: number;
  interrupts: number;
  /** Used buffer notifications the driver suppressed (NO_INTERRUPT / used_event). */
  suppressed: number;
  configInterrupts: number;
  resets: number;
  guestErrors: number;
}

export class VirtioPciTransport implements MmioHandler, RingHost {
  readonly name: string;
  readonly dev: number;
  readonly queueEv: EventQueue;
  readonly tracer: Tracer;
  readonly irq: PciInterrupts;
  readonly dma: DmaPort;
  readonly spec: PciFunctionSpec;
  readonly queues: SplitQueue[];
  readonly counters: VirtioTransportCounters = { notifies: 0, interrupts: 0, suppressed: 0, configInterrupts: 0, resets: 0, guestErrors: 0 };

  /** Feature words offered, written by the driver, and negotiated (at FEATURES_OK). */
  readonly offered = new Uint32Array(FEATURE_WORDS);
  readonly driverFeatures = new Uint32Array(FEATURE_WORDS);
  readonly negotiated = new Uint32Array(FEATURE_WORDS);

  status = 0;
  generation = 0;
  isr = 0;
  configVector = VIRTIO_MSI_NO_VECTOR;
  deviceFeatureSelect = 0;
  driverFeatureSelect = 0;
  queueSelect = 0;

  private readonly target: number;
  private readonly notifyEv: Float64Array;

  constructor(ctx: DeviceContext, readonly cfg: VirtioTransportConfig, private readonly backend: VirtioBackend) {
    if (cfg.numQueues < 1 || cfg.numQueues > 0xffff) throw new RangeError(`virtio: numQueues ${cfg.numQueues} out of range`);
    if (cfg.queueSizeMax < 1 || cfg.queueSizeMax > QUEUE_SIZE_LIMIT || (cfg.queueSizeMax & (cfg.queueSizeMax - 1)) !== 0) {
      throw new RangeError(`virtio: queueSizeMax ${cfg.queueSizeMax} is not a power of 2 up to ${QUEUE_SIZE_LIMIT}`);
    }
    if (cfg.deviceCfgSize > REGION_SIZE) throw new RangeError(`virtio: device configuration of ${cfg.deviceCfgSize} bytes exceeds ${REGION_SIZE}`);
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queueEv = ctx.queue;
    this.tracer = ctx.tracer;
    for (const bit of cfg.deviceFeatures) this.setBit(this.offered, bit);
    this.setBit(this.offered, F_VERSION_1);
    if (cfg.indirectDesc) this.setBit(this.offered, F_INDIRECT_DESC);
    if (cfg.eventIdx) this.setBit(this.offered, F_EVENT_IDX);
    if (cfg.ringReset) this.setBit(this.offered, F_RING_RESET);

    this.target = ctx.queue.register(`${ctx.id}.virtio`, (kind, a0) => {
      if (kind === EV_NOTIFY) this.notifyEvent(a0);
    });
    this.notifyEv = new Float64Array(cfg.numQueues).fill(NO_EVENT);
    const msixHandler: MmioHandler = {
      // The PCI function serves the table and PBA; the rest of BAR1 is unused.
      read: () => 0,
      write: () => undefined,
    };
    this.spec = {
      vendorId: VIRTIO_PCI_VENDOR,
      deviceId: VIRTIO_PCI_DEVICE_BASE + cfg.deviceType,
      revision: VIRTIO_PCI_REVISION,
      classCode: cfg.classCode,
      subsystemVendorId: VIRTIO_PCI_VENDOR,
      subsystemId: cfg.subsystemId ?? cfg.deviceType,
      interruptPin: 1,
      bars: [
        { index: MSIX_BAR, kind: 'mem32', size: MSIX_BAR_SIZE, handler: msixHandler },
        { index: VIRTIO_BAR, kind: 'mem64', size: VIRTIO_BAR_SIZE, prefetchable: true, handler: this },
      ],
      capabilities: {
        pm: true,
        msix: { tableSize: cfg.msixVectors, tableBar: MSIX_BAR, tableOffset: MSIX_TABLE_OFFSET, pbaBar: MSIX_BAR, pbaOffset: MSIX_PBA_OFFSET },
        vendor: virtioCapabilities({ deviceCfgLength: cfg.deviceCfgSize, numQueues: cfg.numQueues }, {
          read: (cap, off, size) => this.pciCfgAccess(cap, off, size, false, 0),
          write: (cap, off, size, value) => { this.pciCfgAccess(cap, off, size, true, value); },
        }),
      },
    };
    const { irq, dma } = ctx.attachPci(this.spec);
    this.irq = irq;
    this.dma = dma;
    this.queues = [];
    for (let q = 0; q < cfg.numQueues; q++) this.queues.push(new SplitQueue(q, cfg.queueSizeMax, dma, this, VIRTIO_MSI_NO_VECTOR));
  }

  // ---------------------------------------------------------------- device-facing API

  /** Queue `q` (0-based). */
  queue(q: number): SplitQueue {
    return this.queues[q]!;
  }

  /** True if feature `bit` was negotiated (from FEATURES_OK). */
  has(bit: number): boolean {
    const w = bit >>> 5;
    return w < FEATURE_WORDS && ((this.negotiated[w]! >>> (bit & 31)) & 1) === 1;
  }

  /** True if the device offers feature `bit`. */
  offers(bit: number): boolean {
    const w = bit >>> 5;
    return w < FEATURE_WORDS && ((this.offered[w]! >>> (bit & 31)) & 1) === 1;
  }

  /** True if the driver wrote feature `bit` into driver_feature (before FEATURES_OK is decided). */
  driverAccepts(bit: number): boolean {
    const w = bit >>> 5;
    return w < FEATURE_WORDS && ((this.driverFeatures[w]! >>> (bit & 31)) & 1) === 1;
  }

  /** DRIVER_OK is set and the device does not need a reset: queues are live. */
  get live(): boolean {
    return (this.status & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET | STATUS_FAILED)) === STATUS_DRIVER_OK;
  }

  /** Returns a chain on queue `q` and sends its interrupt unless the driver suppressed it. */
  complete(q: number, head: number, len: number): void {
    if (this.pushUsed(q, head, len)) this.signalQueue(q);
  }

  pushUsed(q: number, head: number, len: number): boolean {
    if (!this.live) return false;
    return this.queues[q]!.pushUsed(head, len);
  }

  /** Used buffer notification for queue `q`, subject to suppression (2.7.7, 2.7.10). */
  signalQueue(q: number): void {
    const vq = this.queues[q]!;
    if (!vq.shouldNotify()) {
      this.counters.suppressed++;
      return;
    }
    if (this.irq.mode === 'msix') {
      if (vq.msixVector === VIRTIO_MSI_NO_VECTOR) return;
      this.counters.interrupts++;
      this.irq.sendMessage(vq.msixVector);
      return;
    }
    this.raiseIsr(ISR_QUEUE);
  }

  /** The device changed its configuration: new config_generation and a configuration change interrupt (4.1.5.3). */
  configChanged(): void {
    this.generation = (this.generation + 1) & 0xff;
    if ((this.status & STATUS_DRIVER_OK) !== 0) this.signalConfig();
  }

  /** A fatal device-detected error: guest error, DEVICE_NEEDS_RESET, configuration change interrupt (2.1.2). */
  needsReset(code: string, message: string): void {
    this.recordErr(code, message);
    if ((this.status & STATUS_DEVICE_NEEDS_RESET) !== 0) return;
    this.status |= STATUS_DEVICE_NEEDS_RESET;
    this.tracer.milestone(this.queueEv.now, this.dev, 'virtio.needs-reset', 0, 0);
    if ((this.status & STATUS_DRIVER_OK) !== 0) this.signalConfig();
  }

  /** RingHost: a queue found a malformed ring or chain. */
  ringError(_queue: number, code: VirtqGuestErrorCode, message: string): void {
    this.needsReset(code, message);
  }

  /** Records a guest error of the transport's catalogue. */
  err(code: VirtioTransportGuestErrorCode, message: string): void {
    this.recordErr(code, message);
  }

  /** Records a guest error with any catalogued code (the device type's own). */
  recordErr(code: string, message: string): void {
    this.counters.guestErrors++;
    this.tracer.guestErr(this.queueEv.now, this.dev, code, `${this.name}: ${message}`);
  }

  /** Device reset (also FLR / quiesce): backend first, then every register (4.1.4.3.1). */
  reset(): void {
    this.backend.reset();
    for (let q = 0; q < this.queues.length; q++) {
      this.queueEv.cancel(this.notifyEv[q]!);
      this.notifyEv[q] = NO_EVENT;
      this.queues[q]!.reset(VIRTIO_MSI_NO_VECTOR);
    }
    this.status = 0;
    this.driverFeatures.fill(0);
    this.negotiated.fill(0);
    this.deviceFeatureSelect = 0;
    this.driverFeatureSelect = 0;
    this.queueSelect = 0;
    this.configVector = VIRTIO_MSI_NO_VECTOR;
    this.isr = 0;
    this.irq.setIntx(false);
    this.counters.resets++;
    this.tracer.milestone(this.queueEv.now, this.dev, 'reset', 0, 0);
  }

  stateHash(h = FNV_OFFSET): number {
    for (const v of [this.status, this.generation, this.isr, this.configVector, this.queueSelect]) h = fnvNumber(h, v);
    for (let i = 0; i < FEATURE_WORDS; i++) h = fnvNumber(fnvNumber(h, this.driverFeatures[i]!), this.negotiated[i]!);
    for (const vq of this.queues) {
      for (const v of [vq.size, vq.enabled ? 1 : 0, vq.msixVector, vq.descAddr, vq.driverAddr, vq.deviceAddr, vq.lastAvail, vq.usedIdx, vq.broken ? 1 : 0]) {
        h = fnvNumber(h, v);
      }
    }
    return h >>> 0;
  }

  // ---------------------------------------------------------------- BAR4

  read(offset: number, size: number): number {
    const region = offset - (offset % REGION_SIZE);
    const off = offset - region;
    switch (region) {
      case 0: return this.commonRead(off, size);
      case ISR_OFFSET: return off === 0 ? this.readIsr() : 0;
      case DEVICE_CFG_OFFSET: return this.deviceCfgRead(off, size);
      case NOTIFY_OFFSET: return 0;
      default:
        this.err('virtio.bar.unused', `${size}-byte read at BAR${VIRTIO_BAR}+${hex(offset)} outside the virtio structures`);
        return 0;
    }
  }

  write(offset: number, size: number, value: number): void {
    const region = offset - (offset % REGION_SIZE);
    const off = offset - region;
    value >>>= 0;
    switch (region) {
      case 0: this.commonWrite(off, size, value); return;
      case ISR_OFFSET: this.err('virtio.isr.write', `write of ${hex(value)} to the ISR status ignored (read-only)`); return;
      case DEVICE_CFG_OFFSET: this.deviceCfgWrite(off, size, value); return;
      case NOTIFY_OFFSET: this.notifyWrite(off, size, value); return;
      default:
        this.err('virtio.bar.unused', `${size}-byte write of ${hex(value)} at BAR${VIRTIO_BAR}+${hex(offset)} outside the virtio structures ignored`);
    }
  }

  // ---------------------------------------------------------------- common configuration

  private selected(): SplitQueue | undefined {
    return this.queues[this.queueSelect];
  }

  /** Value of the whole field starting at `off` (no side effects). */
  private fieldValue(off: number): number {
    const vq = this.selected();
    switch (off) {
      case CC_DEVICE_FEATURE_SELECT: return this.deviceFeatureSelect;
      case CC_DEVICE_FEATURE: return this.deviceFeatureSelect < FEATURE_WORDS ? this.offered[this.deviceFeatureSelect]! : 0;
      case CC_DRIVER_FEATURE_SELECT: return this.driverFeatureSelect;
      case CC_DRIVER_FEATURE: return this.driverFeatureSelect < FEATURE_WORDS ? this.driverFeatures[this.driverFeatureSelect]! : 0;
      case CC_CONFIG_MSIX_VECTOR: return this.configVector;
      case CC_NUM_QUEUES: return this.queues.length;
      case CC_DEVICE_STATUS: return this.status;
      case CC_CONFIG_GENERATION: return this.generation;
      case CC_QUEUE_SELECT: return this.queueSelect;
      // An unavailable queue reads size 0 (4.1.4.3) and 0 elsewhere.
      case CC_QUEUE_SIZE: return vq === undefined ? 0 : vq.size;
      case CC_QUEUE_MSIX_VECTOR: return vq === undefined ? VIRTIO_MSI_NO_VECTOR : vq.msixVector;
      case CC_QUEUE_ENABLE: return vq !== undefined && vq.enabled ? 1 : 0;
      case CC_QUEUE_NOTIFY_OFF: return vq === undefined ? 0 : vq.index;
      case CC_QUEUE_DESC: return vq === undefined ? 0 : lo32(vq.descAddr);
      case CC_QUEUE_DESC_HI: return vq === undefined ? 0 : hi32(vq.descAddr);
      case CC_QUEUE_DRIVER: return vq === undefined ? 0 : lo32(vq.driverAddr);
      case CC_QUEUE_DRIVER_HI: return vq === undefined ? 0 : hi32(vq.driverAddr);
      case CC_QUEUE_DEVICE: return vq === undefined ? 0 : lo32(vq.deviceAddr);
      case CC_QUEUE_DEVICE_HI: return vq === undefined ? 0 : hi32(vq.deviceAddr);
      case CC_QUEUE_NOTIFY_DATA: return vq === undefined ? 0 : vq.index;
      case CC_QUEUE_RESET: return vq !== undefined && vq.resetPending ? 1 : 0;
      default: return 0;
    }
  }

  private commonRead(off: number, size: number): number {
    if (off < COMMON_CFG_SIZE && COMMON_FIELD_WIDTH[off] === size) return this.fieldValue(off);
    if (off >= COMMON_CFG_SIZE) return 0;
    this.err('virtio.common.width', `${size}-byte read at common+${hex(off)} (${commonFieldName(off) ?? '?'}): fields are read with their natural width`);
    // The addressed bytes, field by field.
    let v = 0;
    for (let i = 0; i < size && off + i < COMMON_CFG_SIZE; i++) {
      let start = off + i;
      while (COMMON_FIELD_WIDTH[start] === 0) start--;
      v |= ((this.fieldValue(start) >>> (8 * (off + i - start))) & 0xff) << (8 * i);
    }
    return v >>> 0;
  }

  private commonWrite(off: number, size: number, value: number): void {
    if (off >= COMMON_CFG_SIZE) {
      this.err('virtio.common.read-only', `write of ${hex(value)} at common+${hex(off)}, past the common configuration, ignored`);
      return;
    }
    if (COMMON_FIELD_WIDTH[off] !== size) {
      this.err('virtio.common.width', `${size}-byte write of ${hex(value)} at common+${hex(off)} (${commonFieldName(off) ?? '?'}) ignored: fields are written with their natural width`);
      return;
    }
    switch (off) {
      case CC_DEVICE_FEATURE_SELECT: this.deviceFeatureSelect = value; return;
      case CC_DRIVER_FEATURE_SELECT: this.driverFeatureSelect = value; return;
      case CC_DRIVER_FEATURE:
        if ((this.status & STATUS_FEATURES_OK) !== 0) {
          this.err('virtio.features.late', `driver_feature[${this.driverFeatureSelect}] = ${hex(value)} after FEATURES_OK ignored`);
          return;
        }
        if (this.driverFeatureSelect < FEATURE_WORDS) this.driverFeatures[this.driverFeatureSelect] = value;
        return;
      case CC_CONFIG_MSIX_VECTOR: this.configVector = this.mapVector('config_msix_vector', value); return;
      case CC_DEVICE_STATUS: this.writeStatus(value & 0xff); return;
      case CC_QUEUE_SELECT: this.queueSelect = value & 0xffff; return;
      case CC_DEVICE_FEATURE:
      case CC_NUM_QUEUES:
      case CC_CONFIG_GENERATION:
      case CC_QUEUE_NOTIFY_OFF:
      case CC_QUEUE_NOTIFY_DATA:
        this.err('virtio.common.read-only', `write of ${hex(value)} to read-only ${commonFieldName(off)} ignored`);
        return;
      default:
        this.queueFieldWrite(off, value);
    }
  }

  private queueFieldWrite(off: number, value: number): void {
    const vq = this.selected();
    if (vq === undefined) {
      this.err('virtio.queue.select', `${commonFieldName(off)} = ${hex(value)} ignored: queue_select ${this.queueSelect} names no queue (num_queues ${this.queues.length})`);
      return;
    }
    switch (off) {
      case CC_QUEUE_MSIX_VECTOR: vq.msixVector = this.mapVector(`queue_msix_vector (queue ${vq.index})`, value); return;
      case CC_QUEUE_ENABLE: this.enableQueue(vq, value); return;
      case CC_QUEUE_RESET: this.resetQueue(vq, value); return;
      default: break;
    }
    if (vq.enabled) {
      this.err('virtio.queue.enabled', `${commonFieldName(off)} = ${hex(value)} ignored: queue ${vq.index} is enabled`);
      return;
    }
    switch (off) {
      case CC_QUEUE_SIZE:
        if (value === 0 || value > vq.sizeMax || (value & (value - 1)) !== 0) {
          this.err('virtio.queue.size', `queue_size ${value} for queue ${vq.index} ignored: must be a power of 2 from 1 to ${vq.sizeMax}`);
          return;
        }
        vq.size = value;
        return;
      case CC_QUEUE_DESC: vq.descAddr = setLo(vq.descAddr, value); return;
      case CC_QUEUE_DESC_HI: vq.descAddr = setHi(vq.descAddr, value); return;
      case CC_QUEUE_DRIVER: vq.driverAddr = setLo(vq.driverAddr, value); return;
      case CC_QUEUE_DRIVER_HI: vq.driverAddr = setHi(vq.driverAddr, value); return;
      case CC_QUEUE_DEVICE: vq.deviceAddr = setLo(vq.deviceAddr, value); return;
      case CC_QUEUE_DEVICE_HI: vq.deviceAddr = setHi(vq.deviceAddr, value); return;
      default: break;
    }
  }

  /** MSI-X vector mapping (4.1.5.1.2): a vector outside the table fails and reads back NO_VECTOR. */
  private mapVector(field: string, value: number): number {
    if (value === VIRTIO_MSI_NO_VECTOR || value < this.cfg.msixVectors) return value;
    this.err('virtio.vector.invalid', `${field} = ${value}: the MSI-X table has ${this.cfg.msixVectors} entries; mapping failed, reads back NO_VECTOR`);
    return VIRTIO_MSI_NO_VECTOR;
  }

  private enableQueue(vq: SplitQueue, value: number): void {
    if (value !== 1) {
      this.err('virtio.queue.enable-zero', `queue_enable = ${value} for queue ${vq.index} ignored: only 1 may be written`);
      return;
    }
    if (vq.enabled) return;
    const problem = vq.enableProblem();
    if (problem !== undefined) {
      this.err('virtio.queue.enable-invalid', `queue ${vq.index} not enabled: ${problem}`);
      return;
    }
    vq.enabled = true;
    vq.resetPending = false;
    vq.broken = false;
    vq.lastAvail = 0;
    vq.availIdx = 0;
    vq.usedIdx = 0;
    vq.signalledValid = false;
    vq.eventIdx = this.has(F_EVENT_IDX);
    vq.indirectAllowed = this.has(F_INDIRECT_DESC);
    this.tracer.milestone(this.queueEv.now, this.dev, 'virtio.queue-enable', vq.index, vq.size);
  }

  /** queue_reset (4.1.4.3.2, 2.6.1): 1 resets the queue; it reads 1 until re-enabled. */
  private resetQueue(vq: SplitQueue, value: number): void {
    if (!this.has(F_RING_RESET)) {
      this.err('virtio.queue.reset-feature', `queue_reset = ${value} for queue ${vq.index} ignored: VIRTIO_F_RING_RESET not negotiated`);
      return;
    }
    if (value !== 1) return;
    this.backend.queueReset(vq.index);
    this.queueEv.cancel(this.notifyEv[vq.index]!);
    this.notifyEv[vq.index] = NO_EVENT;
    vq.reset(VIRTIO_MSI_NO_VECTOR);
    vq.resetPending = true;
    this.tracer.milestone(this.queueEv.now, this.dev, 'virtio.queue-reset', vq.index, 0);
  }

  /** device_status (2.1, 3.1.1, 4.1.4.3.2). */
  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    let v = value;
    if ((v & ~STATUS_DRIVER_BITS) !== 0) {
      this.err('virtio.status.reserved', `device_status = ${hex(value)} sets bits the driver may not set (${statusNames(v & ~STATUS_DRIVER_BITS)}); ignored`);
      v &= STATUS_DRIVER_BITS;
    }
    const cleared = old & STATUS_DRIVER_BITS & ~v;
    if (cleared !== 0) {
      this.err('virtio.status.cleared', `device_status = ${hex(value)} clears ${statusNames(cleared)}; only writing 0 (reset) clears status bits`);
      v |= cleared;
    }
    const added = v & ~old;
    if ((added & STATUS_DRIVER) !== 0 && (v & STATUS_ACKNOWLEDGE) === 0) {
      this.err('virtio.status.order', 'DRIVER set without ACKNOWLEDGE');
    }
    if ((added & STATUS_FEATURES_OK) !== 0) {
      if ((v & STATUS_DRIVER) === 0) this.err('virtio.status.order', 'FEATURES_OK set without DRIVER');
      const refusal = this.featureProblem();
      if (refusal !== undefined) {
        this.err('virtio.features.refused', `FEATURES_OK not accepted: ${refusal}`);
        v &= ~STATUS_FEATURES_OK;
      } else {
        this.negotiated.set(this.driverFeatures);
      }
    }
    if ((added & STATUS_DRIVER_OK) !== 0 && (v & STATUS_FEATURES_OK) === 0) {
      this.err('virtio.status.order', 'DRIVER_OK set without FEATURES_OK (features were never accepted); DRIVER_OK not accepted');
      v &= ~STATUS_DRIVER_OK;
    }
    this.status = (v | (old & STATUS_DEVICE_NEEDS_RESET)) & 0xff;
    const now = this.status & ~old;
    if ((now & STATUS_FEATURES_OK) !== 0) {
      this.tracer.milestone(this.queueEv.now, this.dev, 'virtio.features-ok', this.negotiated[0]!, this.negotiated[1]!);
      this.backend.featuresAccepted?.();
    }
    if ((now & STATUS_DRIVER_OK) !== 0) {
      for (const vq of this.queues) {
        vq.eventIdx = this.has(F_EVENT_IDX);
        vq.indirectAllowed = this.has(F_INDIRECT_DESC);
      }
      this.tracer.milestone(this.queueEv.now, this.dev, 'ready', 0, 0);
      this.backend.driverOk?.();
    }
    if ((now & STATUS_FAILED) !== 0) this.tracer.milestone(this.queueEv.now, this.dev, 'virtio.failed', 0, 0);
  }

  /** Why the driver's features cannot be accepted at FEATURES_OK, or undefined. */
  private featureProblem(): string | undefined {
    if (!this.driverAccepts(F_VERSION_1)) return 'VIRTIO_F_VERSION_1 (bit 32) not accepted: this device has no legacy interface';
    for (let w = 0; w < FEATURE_WORDS; w++) {
      const extra = (this.driverFeatures[w]! & ~this.offered[w]!) >>> 0;
      if (extra !== 0) {
        const bit = w * 32 + (31 - Math.clz32(extra & -extra));
        return `feature bit ${bit} accepted but not offered (driver_feature[${w}] = ${hex(this.driverFeatures[w]!)}, device_feature[${w}] = ${hex(this.offered[w]!)})`;
      }
    }
    return this.backend.checkFeatures();
  }

  // ---------------------------------------------------------------- ISR, device config, notify

  /** ISR status (4.1.4.5): reading returns and clears it, and deasserts INTx. */
  private readIsr(): number {
    const v = this.isr;
    this.isr = 0;
    this.irq.setIntx(false);
    return v;
  }

  private raiseIsr(bit: number): void {
    this.isr |= bit;
    if (this.irq.mode === 'intx') {
      this.counters.interrupts++;
      this.irq.setIntx(true);
    }
  }

  private signalConfig(): void {
    this.counters.configInterrupts++;
    if (this.irq.mode === 'msix') {
      this.isr |= ISR_CONFIG;
      if (this.configVector === VIRTIO_MSI_NO_VECTOR) return;
      this.counters.interrupts++;
      this.irq.sendMessage(this.configVector);
      return;
    }
    this.raiseIsr(ISR_CONFIG);
  }

  private deviceCfgRead(off: number, size: number): number {
    const c = this.backend.config;
    if (off + size > c.length || (size > 1 && off % size !== 0)) {
      this.err('virtio.device-cfg.access', `${size}-byte read at device configuration +${hex(off)} (${c.length} bytes; accesses are naturally aligned)`);
      if (off >= c.length) return 0;
    }
    let v = 0;
    for (let i = 0; i < size && off + i < c.length; i++) v |= c[off + i]! << (8 * i);
    return v >>> 0;
  }

  private deviceCfgWrite(off: number, size: number, value: number): void {
    const c = this.backend.config;
    if (off + size > c.length || !this.backend.writeConfig(off, size, value)) {
      this.err('virtio.device-cfg.access', `${size}-byte write of ${hex(value)} at device configuration +${hex(off)} ignored: read-only or outside the ${c.length} bytes`);
    }
  }

  /** A notify write (4.1.5.2): the 16-bit index of the queue at queue_notify_off x multiplier. */
  private notifyWrite(off: number, size: number, value: number): void {
    const q = Math.floor(off / NOTIFY_OFF_MULTIPLIER);
    if (off % NOTIFY_OFF_MULTIPLIER !== 0 || q >= this.queues.length || (value & 0xffff) !== q) {
      this.err('virtio.notify.offset', `notify write of ${value} at notify+${hex(off)}: queue ${q} is notified at +${hex(q * NOTIFY_OFF_MULTIPLIER)} with its index`);
      if (off % NOTIFY_OFF_MULTIPLIER !== 0 || q >= this.queues.length) return;
    }
    if (size !== 2) this.err('virtio.notify.width', `${size}-byte notify write for queue ${q}: a 16-bit write is expected`);
    const vq = this.queues[q]!;
    vq.notifies++;
    vq.lastNotifyPs = this.queueEv.now;
    this.counters.notifies++;
    if ((this.status & STATUS_DEVICE_NEEDS_RESET) !== 0) return;
    if ((this.status & STATUS_DRIVER_OK) === 0 || !vq.enabled) {
      this.err('virtio.notify.not-ready', `queue ${q} notified ${vq.enabled ? 'before DRIVER_OK' : 'while not enabled'}; ignored`);
      return;
    }
    if (!this.queueEv.isPending(this.notifyEv[q]!)) {
      this.notifyEv[q] = this.queueEv.schedule(NOTIFY_DELAY, this.target, EV_NOTIFY, q);
    }
  }

  private notifyEvent(q: number): void {
    this.notifyEv[q] = NO_EVENT;
    const vq = this.queues[q];
    if (vq === undefined || !vq.enabled || !this.live) return;
    this.backend.queueNotified(q);
  }

  /** Schedules `queueNotified(q)` as if the driver had notified (e.g. when the device has room again). */
  kick(q: number): void {
    if (!this.queueEv.isPending(this.notifyEv[q]!)) {
      this.notifyEv[q] = this.queueEv.schedule(NOTIFY_DELAY, this.target, EV_NOTIFY, q);
    }
  }

  // ---------------------------------------------------------------- PCI configuration access (4.1.4.9)

  private pciCfgAccess(cap: Uint8Array, off: number, size: number, write: boolean, value: number): number {
    const bar = cap[CAP_OFF_BAR]!;
    const at = le32(cap, CAP_OFF_OFFSET);
    const len = le32(cap, CAP_OFF_LENGTH);
    if (bar !== VIRTIO_BAR || (len !== 1 && len !== 2 && len !== 4) || at % len !== 0 || at + len > VIRTIO_BAR_SIZE || off !== 0) {
      this.err('virtio.pci-cfg.access', `PCI_CFG window ${write ? 'write' : 'read'}: bar ${bar}, offset ${hex(at)}, length ${len} is not served (BAR${VIRTIO_BAR}, 1/2/4 bytes, aligned)`);
      return 0;
    }
    if (write) {
      this.write(at, len, size === 4 ? value : value & ((1 << (8 * size)) - 1));
      return 0;
    }
    const v = this.read(at, len);
    return size === 4 ? v : v & ((1 << (8 * size)) - 1);
  }

  // ---------------------------------------------------------------- helpers

  private setBit(words: Uint32Array, bit: number): void {
    words[bit >>> 5] = (words[bit >>> 5]! | (1 << (bit & 31))) >>> 0;
  }

  /** PCI BAR offsets of the structures, for the decoder and tests. */
  static readonly layout = { COMMON: 0, ISR: ISR_OFFSET, DEVICE_CFG: DEVICE_CFG_OFFSET, NOTIFY: NOTIFY_OFFSET } as const;
}

function lo32(v: number): number {
  return v % 0x1_0000_0000;
}

function hi32(v: number): number {
  return Math.floor(v / 0x1_0000_0000);
}

function setLo(v: number, lo: number): number {
  return hi32(v) * 0x1_0000_0000 + (lo >>> 0);
}

function setHi(v: number, hi: number): number {
  // Addresses are kept below 2^53 (PhysMem's range); higher bits are dropped.
  return (hi & 0x1fffff) * 0x1_0000_0000 + lo32(v);
}

function le32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
