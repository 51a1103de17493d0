/**
 * The op mode's life cycle as one discriminated union (what Linux spreads
 * over mvm->status bits, the firmware-running flag, the RF-kill state and
 * mac80211's station state), with the pure transitions the op mode makes.
 *
 * Two facts are orthogonal to the life cycle and live in the variants where
 * they apply: `rfkill` (the switch can go on and off in every phase, also
 * while a firmware runs or is dead) and `fwDead` (a dead firmware stays dead
 * across a device stop until a new image is loaded).
 */
import type { ImageKind } from '../fw/file.js';
import type { Bss } from '../mac80211/bss.js';

/** The life cycle as the status scheme shows it (`state=`). */
export type WifiState = 'down' | 'up' | 'scanning' | 'connecting' | 'connected' | 'error' | 'rfkill';

/** One connection attempt / association with a BSS and what it added in the firmware. */
export interface Connection {
  bss: Bss;
  ssid: string;
  aid: number;
  /** Contexts / station currently added in the firmware. */
  phy: boolean;
  mac: boolean;
  binding: boolean;
  sta: boolean;
  /** The MAC context is in associated mode in the firmware. */
  assoc: boolean;
}

/** The station's link while the runtime firmware is up. */
export type Link =
  | { kind: 'idle' }
  /** A scan runs; `conn` is the association kept across it (null: none, or it was lost during the scan). */
  | { kind: 'scanning'; conn: Connection | null }
  /** Contexts and station being added, then open-system authentication. */
  | { kind: 'authenticating'; conn: Connection }
  /** Authenticated; association request / response, then the MAC context goes associated. */
  | { kind: 'associating'; conn: Connection }
  | { kind: 'associated'; conn: Connection }
  /** An attempt failed and its contexts are being removed: still 'connecting' (control refused), no connection any more. */
  | { kind: 'aborting' };

/** The firmware under the RF-kill switch: where the switch going off returns to. */
export type FwUnderRfkill =
  | { kind: 'none'; fwDead: boolean }
  | { kind: 'loading'; image: ImageKind; alive: boolean }
  | { kind: 'running' };

export type MvmState =
  /**
   * No firmware runs ('down'): before start(), after a failed bring-up or a
   * shutdown. `fwDead`: the last firmware died (survives the stop; commands
   * fail with -EIO). `rfkill`: the switch is on but the op mode is not in
   * 'rfkill' (it went on during a bring-up that then failed).
   */
  | { kind: 'stopped'; fwDead: boolean; rfkill: boolean }
  /** start() is loading `image` ('down'); `alive` once it sent ALIVE. */
  | { kind: 'starting'; image: ImageKind; alive: boolean; rfkill: boolean }
  /**
   * The runtime firmware is up ('up' / 'scanning' / 'connecting' /
   * 'connected'). `rfkill`: the switch went on during the runtime bring-up
   * (or a reconnect) that completed anyway: shown 'up', control refused.
   */
  | { kind: 'runtime'; link: Link; rfkill: boolean }
  /** The RF-kill switch was reported on ('rfkill'); `fw` is what runs under it. */
  | { kind: 'rfkill'; fw: FwUnderRfkill }
  /** The firmware died (SW / HW error, 'error'); survives stopping the device. */
  | { kind: 'dead'; rfkill: boolean };

export const STOPPED: MvmState = { kind: 'stopped', fwDead: false, rfkill: false };

export function assertNever(x: never): never {
  throw new Error(`mvm: unexpected state ${(x as { kind?: unknown }).kind as string}`);
}

export function linkConn(l: Link): Connection | null {
  switch (l.kind) {
    case 'idle':
    case 'aborting': return null;
    case 'scanning': return l.conn;
    case 'authenticating':
    case 'associating':
    case 'associated': return l.conn;
    default: return assertNever(l);
  }
}

/** The current (or kept) connection, if any. */
export function connOf(s: MvmState): Connection | null {
  switch (s.kind) {
    case 'runtime': return linkConn(s.link);
    case 'stopped':
    case 'starting':
    case 'rfkill':
    case 'dead': return null;
    default: return assertNever(s);
  }
}

function fwUnder(fw: FwUnderRfkill): { dead: boolean; running: boolean } {
  switch (fw.kind) {
    case 'none': return { dead: fw.fwDead, running: false };
    case 'loading': return { dead: false, running: fw.alive };
    case 'running': return { dead: false, running: true };
    default: return assertNever(fw);
  }
}

/** The firmware died and no image was loaded since: commands fail with -EIO. */
export function fwDeadOf(s: MvmState): boolean {
  switch (s.kind) {
    case 'stopped': return s.fwDead;
    case 'starting':
    case 'runtime': return false;
    case 'rfkill': return fwUnder(s.fw).dead;
    case 'dead': return true;
    default: return assertNever(s);
  }
}

/** A firmware image sent ALIVE and the device was not stopped since. */
export function fwRunningOf(s: MvmState): boolean {
  switch (s.kind) {
    case 'stopped':
    case 'dead': return false;
    case 'starting': return s.alive;
    case 'runtime': return true;
    case 'rfkill': return fwUnder(s.fw).running;
    default: return assertNever(s);
  }
}

/** The RF-kill switch is on (as last reported or read). */
export function rfkillOf(s: MvmState): boolean {
  switch (s.kind) {
    case 'stopped':
    case 'starting':
    case 'runtime':
    case 'dead': return s.rfkill;
    case 'rfkill': return true;
    default: return assertNever(s);
  }
}

export function wifiStateOf(s: MvmState): WifiState {
  switch (s.kind) {
    case 'stopped':
    case 'starting': return 'down';
    case 'runtime':
      switch (s.link.kind) {
        case 'idle': return 'up';
        case 'scanning': return 'scanning';
        case 'authenticating':
        case 'associating':
        case 'aborting': return 'connecting';
        case 'associated': return 'connected';
        default: return assertNever(s.link);
      }
    case 'rfkill': return 'rfkill';
    case 'dead': return 'error';
    default: return assertNever(s);
  }
}

function underOf(s: MvmState): FwUnderRfkill {
  switch (s.kind) {
    case 'stopped': return { kind: 'none', fwDead: s.fwDead };
    case 'starting': return { kind: 'loading', image: s.image, alive: s.alive };
    case 'runtime': return { kind: 'running' };
    case 'rfkill': return s.fw;
    case 'dead': return { kind: 'none', fwDead: true };
    default: return assertNever(s);
  }
}

/** The switch went off in 'rfkill': back to what runs under it (a connection was dropped on the way in). */
function released(fw: FwUnderRfkill): MvmState {
  switch (fw.kind) {
    case 'none': return { kind: 'stopped', fwDead: fw.fwDead, rfkill: false };
    case 'loading': return { kind: 'starting', image: fw.image, alive: fw.alive, rfkill: false };
    case 'running': return { kind: 'runtime', link: { kind: 'idle' }, rfkill: false };
    default: return assertNever(fw);
  }
}

/** Enters 'rfkill' from any state (start() finding the switch on). */
export function enterRfkill(s: MvmState): MvmState {
  return { kind: 'rfkill', fw: underOf(s) };
}

/** The transport reported the switch (rfKill): on enters 'rfkill' unless the firmware is dead; off leaves it. */
export function rfkillReported(s: MvmState, on: boolean): MvmState {
  switch (s.kind) {
    case 'stopped':
    case 'starting':
    case 'runtime': return on ? enterRfkill(s) : { ...s, rfkill: false };
    case 'dead': return { ...s, rfkill: on };
    case 'rfkill': return on ? s : released(s.fw);
    default: return assertNever(s);
  }
}

/** The switch as read at start(), recorded without a report. */
export function rfkillRead(s: MvmState, on: boolean): MvmState {
  switch (s.kind) {
    case 'stopped':
    case 'starting':
    case 'runtime':
    case 'dead': return { ...s, rfkill: on };
    case 'rfkill': return on ? s : released(s.fw);
    default: return assertNever(s);
  }
}

/** The device was stopped: no firmware runs any more (a dead one stays dead). */
export function deviceStopped(s: MvmState): MvmState {
  switch (s.kind) {
    case 'stopped':
    case 'dead': return s;
    case 'starting':
    case 'runtime': return { kind: 'stopped', fwDead: false, rfkill: s.rfkill };
    case 'rfkill': return { kind: 'rfkill', fw: { kind: 'none', fwDead: fwUnder(s.fw).dead } };
    default: return assertNever(s);
  }
}

/** `image` is being loaded (a new image clears a dead firmware). */
export function imageLoading(s: MvmState, image: ImageKind): MvmState {
  switch (s.kind) {
    case 'stopped':
    case 'starting':
    case 'runtime':
    case 'dead': return { kind: 'starting', image, alive: false, rfkill: s.rfkill };
    case 'rfkill': return { kind: 'rfkill', fw: { kind: 'loading', image, alive: false } };
    default: return assertNever(s);
  }
}

/** The image being loaded sent a valid ALIVE. */
export function imageAlive(s: MvmState): MvmState {
  switch (s.kind) {
    case 'starting': return { ...s, alive: true };
    case 'rfkill': return s.fw.kind === 'loading' ? { kind: 'rfkill', fw: { ...s.fw, alive: true } } : s;
    case 'stopped':
    case 'runtime':
    case 'dead': return s;
    default: return assertNever(s);
  }
}

/** start() completed: the interface is up (a firmware that died meanwhile stays dead). */
export function broughtUp(s: MvmState): MvmState {
  switch (s.kind) {
    case 'dead': return s;
    case 'stopped':
    case 'starting':
    case 'runtime':
    case 'rfkill': return { kind: 'runtime', link: { kind: 'idle' }, rfkill: rfkillOf(s) };
    default: return assertNever(s);
  }
}

/** A bring-up step failed and the device was stopped: 'error' if the firmware died, else 'down'. */
export function bringUpFailed(s: MvmState): MvmState {
  return fwDeadOf(s) ? { kind: 'dead', rfkill: rfkillOf(s) } : { kind: 'stopped', fwDead: false, rfkill: rfkillOf(s) };
}

/** 'down', keeping whether the firmware died and the switch. */
export function down(s: MvmState): MvmState {
  return { kind: 'stopped', fwDead: fwDeadOf(s), rfkill: rfkillOf(s) };
}

/** The firmware died (nicError). */
export function firmwareDied(s: MvmState): MvmState {
  return { kind: 'dead', rfkill: rfkillOf(s) };
}

/** Forgets the connection (disconnect, loss): a scan keeps running, anything else becomes idle. */
export function connDropped(s: MvmState): MvmState {
  if (s.kind !== 'runtime') return s;
  switch (s.link.kind) {
    case 'idle':
    case 'aborting': return s;
    case 'scanning': return { ...s, link: { kind: 'scanning', conn: null } };
    case 'authenticating':
    case 'associating':
    case 'associated': return { ...s, link: { kind: 'idle' } };
    default: return assertNever(s.link);
  }
}

/**
 * The attempt `c` starts. The RF-kill switch may have gone on during the
 * disconnect that preceded it: the attempt is still made (and fails with
 * -ERFKILL), shown 'connecting' then 'up'. A firmware that died meanwhile
 * stays dead: the attempt is not recorded and fails at its first command.
 */
export function connectStarted(s: MvmState, c: Connection): MvmState {
  const link = { kind: 'authenticating', conn: c } as const;
  switch (s.kind) {
    case 'runtime': return { ...s, link };
    case 'rfkill': return s.fw.kind === 'running' ? { kind: 'runtime', link, rfkill: true } : s;
    case 'stopped':
    case 'starting':
    case 'dead': return s;
    default: return assertNever(s);
  }
}

/** A connection attempt failed: while its contexts are removed it stays 'connecting' without a connection. */
export function connectFailed(s: MvmState): MvmState {
  if (s.kind !== 'runtime') return s;
  switch (s.link.kind) {
    case 'authenticating':
    case 'associating': return { ...s, link: { kind: 'aborting' } };
    case 'idle':
    case 'scanning':
    case 'associated':
    case 'aborting': return s;
    default: return assertNever(s.link);
  }
}

/** The failed attempt's contexts are removed: idle. */
export function connectAborted(s: MvmState): MvmState {
  return s.kind === 'runtime' && s.link.kind === 'aborting' ? { ...s, link: { kind: 'idle' } } : s;
}
