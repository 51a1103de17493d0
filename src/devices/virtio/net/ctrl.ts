/**
 * virtio-net control queue (virtio 1.2 5.1.6.5) and the receive filter it
 * programs. A command is a chain: class (u8), command (u8), data
 * (device-readable), then an ack byte (device-writable, the chain's last
 * byte): VIRTIO_NET_OK or VIRTIO_NET_ERR. Handled when popped:
 * - RX (with CTRL_RX): PROMISC and ALLMULTI, 1 data byte (0 off, else on).
 *   ALLUNI, NOMULTI, NOUNI, NOBCAST need CTRL_RX_EXTRA (not offered): ERR.
 * - MAC: TABLE_SET (with CTRL_RX: two tables, le32 entries + 6-byte
 *   addresses, unicast then multicast; more than MAC_TABLE_ENTRIES in one
 *   accepts every address of that kind), ADDR_SET (with CTRL_MAC_ADDR:
 *   6 bytes, the new config.mac).
 * - Anything else (VLAN, ANNOUNCE, MQ, GUEST_OFFLOADS): ERR.
 *
 * The filter (5.1.6.5.1): promiscuous accepts everything and is the state
 * after reset (as QEMU's, so a driver without the control queue receives
 * every frame); otherwise broadcast, the device's MAC and the table's
 * unicast addresses, and multicast when ALLMULTI or in the table.
 */
import { readFromChain, writeLastByte } from '../chain-io.js';
import { DescChain, POP_ERROR, POP_OK } from '../virtqueue.js';
import type { VirtioNet } from './device.js';
import {
  CTRL_CLASS_MAC, CTRL_CLASS_RX, CTRL_ERR, CTRL_MAC_ADDR_SET, CTRL_MAC_TABLE_SET, CTRL_OK, CTRL_QUEUE, CTRL_RX_ALLMULTI,
  CTRL_RX_PROMISC, MAC_TABLE_ENTRIES, NET_F_CTRL_MAC_ADDR, NET_F_CTRL_RX, ctrlCommandName,
} from './regs.js';

const CTRL_SEGS = 16;

export class NetCtrl {
  promisc = true;
  allmulti = false;
  private readonly uni = new Uint8Array(MAC_TABLE_ENTRIES * 6);
  private readonly multi = new Uint8Array(MAC_TABLE_ENTRIES * 6);
  private uniCount = 0;
  private multiCount = 0;
  private uniOverflow = false;
  private multiOverflow = false;
  private readonly chain = new DescChain(CTRL_SEGS);
  private readonly buf = new Uint8Array(8);
  private readonly view = new DataView(this.buf.buffer);
  private readonly ack = new Uint8Array(1);

  constructor(private readonly d: VirtioNet) {}

  reset(): void {
    this.promisc = true;
    this.allmulti = false;
    this.uniCount = 0;
    this.multiCount = 0;
    this.uniOverflow = false;
    this.multiOverflow = false;
  }

  /** Whether a frame to the destination MAC at buf[off..off+6) is received. */
  accept(buf: Uint8Array, off: number, mac: Uint8Array): boolean {
    if (this.promisc) return true;
    if ((buf[off]! & 1) !== 0) {
      let bcast = true;
      for (let i = 0; i < 6; i++) if (buf[off + i] !== 0xff) bcast = false;
      return bcast || this.allmulti || this.multiOverflow || inTable(this.multi, this.multiCount, buf, off);
    }
    let mine = true;
    for (let i = 0; i < 6; i++) if (buf[off + i] !== mac[i]) mine = false;
    return mine || this.uniOverflow || inTable(this.uni, this.uniCount, buf, off);
  }

  notified(): void {
    const vq = this.d.t.queue(CTRL_QUEUE);
    for (;;) {
      const r = vq.pop(this.chain);
      if (r === POP_ERROR) return;
      if (r !== POP_OK) break;
      const status = this.command();
      const c = this.chain;
      let len = 0;
      if (c.writableBytes >= 1) {
        this.ack[0] = status;
        if (writeLastByte(this.d.dma, c, this.ack, 'virtio-net.ack')) len = 1;
      }
      this.d.t.complete(CTRL_QUEUE, c.head, len);
    }
    vq.publishAvailEvent();
  }

  /** Runs the popped command; returns the ack. */
  private command(): number {
    const d = this.d;
    const c = this.chain;
    d.counters.ctrlCommands++;
    if (c.readableBytes < 2 || c.writableBytes < 1) {
      return this.fail('virtio.net.ctrl-format', `control chain (head ${c.head}): ${c.readableBytes} readable and ${c.writableBytes} writable bytes; a command needs class and command bytes and an ack byte`);
    }
    if (!readFromChain(d.dma, c, 0, this.buf, 0, 2, 'virtio-net.ctrl')) return this.fail(undefined, '');
    const cls = this.buf[0]!;
    const cmd = this.buf[1]!;
    const dataLen = c.readableBytes - 2;
    const name = ctrlCommandName(cls, cmd);
    if (cls === CTRL_CLASS_RX && (cmd === CTRL_RX_PROMISC || cmd === CTRL_RX_ALLMULTI) && d.t.has(NET_F_CTRL_RX)) {
      if (dataLen !== 1) return this.fail('virtio.net.ctrl-format', `${name} with ${dataLen} data bytes: it takes 1`);
      if (!readFromChain(d.dma, c, 2, this.buf, 2, 1, 'virtio-net.ctrl')) return this.fail(undefined, '');
      const on = this.buf[2] !== 0;
      if (cmd === CTRL_RX_PROMISC) this.promisc = on;
      else this.allmulti = on;
      return CTRL_OK;
    }
    if (cls === CTRL_CLASS_MAC && cmd === CTRL_MAC_ADDR_SET && d.t.has(NET_F_CTRL_MAC_ADDR)) {
      if (dataLen !== 6) return this.fail('virtio.net.ctrl-format', `${name} with ${dataLen} data bytes: it takes a 6-byte address`);
      if (!readFromChain(d.dma, c, 2, this.buf, 0, 6, 'virtio-net.ctrl')) return this.fail(undefined, '');
      d.setMac(this.buf, 0);
      return CTRL_OK;
    }
    if (cls === CTRL_CLASS_MAC && cmd === CTRL_MAC_TABLE_SET && d.t.has(NET_F_CTRL_RX)) return this.tableSet(dataLen, name);
    return this.fail('virtio.net.ctrl-unsupported', `${name}: not supported, or its feature was not negotiated`);
  }

  /** MAC.TABLE_SET: two virtio_net_ctrl_mac tables (unicast, multicast). */
  private tableSet(dataLen: number, name: string): number {
    const d = this.d;
    const c = this.chain;
    let at = 2;
    const end = 2 + dataLen;
    for (let t = 0; t < 2; t++) {
      if (at + 4 > end || !readFromChain(d.dma, c, at, this.buf, 0, 4, 'virtio-net.ctrl')) {
        return this.fail('virtio.net.ctrl-format', `${name}: ${dataLen} data bytes end inside the ${t === 0 ? 'unicast' : 'multicast'} table's entry count`);
      }
      const entries = this.view.getUint32(0, true);
      at += 4;
      if (at + 6 * entries > end) {
        return this.fail('virtio.net.ctrl-format', `${name}: the ${t === 0 ? 'unicast' : 'multicast'} table's ${entries} entries do not fit the ${dataLen} data bytes`);
      }
      const table = t === 0 ? this.uni : this.multi;
      const kept = Math.min(entries, MAC_TABLE_ENTRIES);
      if (kept > 0 && !readFromChain(d.dma, c, at, table, 0, 6 * kept, 'virtio-net.ctrl')) return this.fail(undefined, '');
      if (t === 0) {
        this.uniCount = kept;
        this.uniOverflow = entries > MAC_TABLE_ENTRIES;
      } else {
        this.multiCount = kept;
        this.multiOverflow = entries > MAC_TABLE_ENTRIES;
      }
      at += 6 * entries;
    }
    if (at !== end) return this.fail('virtio.net.ctrl-format', `${name}: ${end - at} bytes after the two tables`);
    return CTRL_OK;
  }

  /** ERR, with a guest error (none for a refused DMA: the port recorded it). */
  private fail(code: 'virtio.net.ctrl-format' | 'virtio.net.ctrl-unsupported' | undefined, message: string): number {
    this.d.counters.ctrlErrors++;
    if (code !== undefined) this.d.err(code, message);
    return CTRL_ERR;
  }
}

function inTable(table: Uint8Array, count: number, buf: Uint8Array, off: number): boolean {
  for (let e = 0; e < count; e++) {
    let same = true;
    for (let i = 0; i < 6; i++) if (table[e * 6 + i] !== buf[off + i]) same = false;
    if (same) return true;
  }
  return false;
}
