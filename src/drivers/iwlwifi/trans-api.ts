/**
 * The seam inside the iwlwifi driver between the PCIe transport (./pcie,
 * Linux pcie/trans.c, tx.c, rx.c) and the op mode (./mvm, Linux mvm/): what
 * `struct iwl_trans_ops` and `struct iwl_op_mode_ops` are in Linux.
 */
import type { Co } from '../../sim/scheduler.js';
import type { FirmwareImage, ImageKind } from './fw/file.js';
import type { SkBuff } from '../linux-kpi/skbuff.js';

/** Host command flags (iwl_hcmd_flags). */
export const CMD_ASYNC = 1 << 0;
/** Keep the response packet for the caller (resp is set). */
export const CMD_WANT_SKB = 1 << 1;

export interface HostCmd {
  /** Command ID and group (fw-api.ts CMD / GROUP). */
  id: number;
  group: number;
  /** Payload fragments, concatenated after the header (header built by the transport). */
  data: Uint8Array[];
  flags: number;
}

/** A received packet, handed to the op mode; `payload` is a copy the op mode may keep. */
export interface RxPacket {
  cmd: number;
  group: number;
  /** Sequence as received (bit 15 = unsolicited notification). */
  seq: number;
  payload: Uint8Array;
}

export interface CmdResult {
  /** 0, or a negated errno: -ETIMEDOUT (no response within 2 s), -ERFKILL, -EIO (firmware dead / queue stopped). */
  status: number;
  /** The response (CMD_WANT_SKB, sync only). */
  resp?: RxPacket;
}

/** What the transport offers the op mode (iwl_trans_ops subset). */
export interface IwlTrans {
  /** Hardware revision read at probe (CSR_HW_REV). */
  readonly hwRev: number;
  /** start_hw: NIC_READY/prepare, APM init, RF-kill interrupt only. 0 or -errno. */
  startHw(): Co<number>;
  /**
   * start_fw: APM/NIC init, RX and TX rings, loads the sections of `kind`
   * through the service channel (each chunk waits for FH_TX, 5 s), then
   * unmasks interrupts and releases the CPU (RESET = 0). Does not wait for
   * ALIVE (the op mode waits for the ALIVE notification). 0 or -errno
   * (-ERFKILL when the RF-kill switch is on, -ETIMEDOUT when a chunk is not
   * acknowledged).
   */
  startFw(image: FirmwareImage, kind: ImageKind): Co<number>;
  /** fw_alive: ICT on, scheduler set up from `scdBaseAddr` (ALIVE's scd_base_ptr), command queue on, TX DMA channels on. */
  fwAlive(scdBaseAddr: number): Co<void>;
  /** stop_device: interrupts off, TX/RX DMA stopped (with the hardware's idle polls), APM stop, software reset; queues freed. */
  stopDevice(): Co<void>;
  /** Sends a host command: sync (waits for the response by sequence, 2 s) or CMD_ASYNC. */
  sendCmd(cmd: HostCmd): Co<CmdResult>;
  /**
   * Queues a host command without waiting (CMD_ASYNC is implied): callable
   * from contexts that must not sleep (RX, timers). The response reaches
   * the op mode's rx like any other. 0 or -errno.
   */
  sendCmdAsync(cmd: HostCmd): number;
  /** Enables TX queue `queue` on scheduler FIFO `fifo` (SCD context, status, write pointer). */
  txqEnable(queue: number, fifo: number): Co<void>;
  txqDisable(queue: number): Co<void>;
  /**
   * Queues a frame on data/management queue `queue`: TB0/TB1 hold the header
   * and `txCmd` (TX_CMD fixed part, 20 bytes) plus the 802.11 header of
   * `skb`, the rest of the skb follows as further TBs. Returns 0 or -ENOSPC
   * (ring full: the op mode stops its queue). The skb is owned by the
   * transport until `reclaim` frees it.
   */
  tx(queue: number, txCmd: Uint8Array, skb: SkBuff, hdrLen: number): number;
  /** Frees TFDs (and their skbs) on `queue` up to, not including, `ssnIndex`; returns how many. */
  reclaim(queue: number, ssnIndex: number): number;
  /** Free TFD slots on `queue`. */
  txqSpace(queue: number): number;
  /** Current state of the hardware RF-kill switch (true = radio off). */
  rfKillAsserted(): boolean;
}

/** What the op mode offers the transport (iwl_op_mode_ops subset). Runs in NAPI/IRQ-thread context: must not sleep. */
export interface IwlOpMode {
  /** Every received packet (responses too, after the transport completed the waiting command). */
  rx(pkt: RxPacket): void;
  /** SW_ERR / HW_ERR interrupt: the firmware or hardware died. */
  nicError(kind: 'sw' | 'hw', csrInt: number): void;
  /** The RF-kill switch changed. */
  rfKill(asserted: boolean): void;
  /** A TX queue made no progress for the watchdog timeout (2500 ms). */
  queueStuck(queue: number): void;
}
