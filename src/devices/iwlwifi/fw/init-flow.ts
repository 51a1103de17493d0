/**
 * NVM access, PHY configuration / calibration and the PHY DB.
 *
 * INIT image: PHY_CONFIGURATION -> status response, then one
 * CALIB_RES_NOTIF_PHY_DB per CALIB_SECTIONS entry, CALIB_STEP apart, then
 * INIT_COMPLETE {status 0} at CALIB_TIME after the response. Quirk
 * FAULT_NO_INIT_COMPLETE suppresses INIT_COMPLETE; FwFaults.hwErrorDuringInit
 * raises HW_ERR 1 us after the response instead of calibrating. A second
 * PHY_CONFIGURATION in the INIT image is refused (STATUS_BAD_PARAM).
 *
 * Runtime image: PHY_DB stores which sections the driver sent back.
 * PHY_CONFIGURATION is refused with STATUS_BAD_PARAM (+ guestErr
 * 'fw.phy-db-missing') unless a PHY_DB CFG section arrived before it, as the
 * real firmware needs its calibration results before it can configure the
 * PHY. No calibration notifications in the runtime image.
 */
import { ms, us } from '../../../sim/time.js';
import { SIMRUN_CAPA } from '../firmware/tlv.js';
import {
  CMD, INIT_COMPLETE_SIZE, NVM_ACCESS, NVM_CHUNK_SIZE, NVM_OP_READ, NVM_READ_BAD_SECTION, NVM_READ_OK, PHY_CONFIGURATION,
  PHY_DB, PHY_DB_TYPE, STATUS_OK,
} from '../fw-api.js';
import type { FwCore } from './cpu.js';
import { nvmRead } from './nvm.js';
import { nvmRespPayload, phyDbPayload, rd16 } from './packets.js';

export interface InitState {
  /** Bit t set: PHY_DB section type t received (runtime image). */
  phyDbMask: number;
  /** CALIB_RES notifications scheduled (INIT image). */
  calibSent: number;
  phyConfigured: boolean;
}

export function newInitState(): InitState {
  return { phyDbMask: 0, calibSent: 0, phyConfigured: false };
}

/** PHY DB sections the INIT image reports, with their data lengths. */
export const CALIB_SECTIONS: readonly { type: number; length: number }[] = [
  { type: PHY_DB_TYPE.CFG, length: 64 },
  { type: PHY_DB_TYPE.CALIB_NCH, length: 128 },
  { type: PHY_DB_TYPE.CALIB_CHG_PAPD, length: 80 },
  { type: PHY_DB_TYPE.CALIB_CHG_TXP, length: 96 },
];
export const CALIB_STEP = ms(10);
export const CALIB_TIME = ms(50);

/** Deterministic calibration data of a section: depends only on the seed. */
export function calibData(core: FwCore, type: number, length: number): Uint8Array {
  const d = new Uint8Array(length);
  core.cfg.rng.fork(`calib${type}`).fill(d);
  return d;
}

export function nvmAccess(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, NVM_ACCESS.SIZE)) return;
  const op = p[NVM_ACCESS.OP]!;
  const target = p[NVM_ACCESS.TARGET]!;
  const type = rd16(p, NVM_ACCESS.TYPE);
  const offset = rd16(p, NVM_ACCESS.OFFSET);
  let length = rd16(p, NVM_ACCESS.LENGTH);
  if (op !== NVM_OP_READ || target !== 0) {
    core.err('fw.nvm-access', `NVM_ACCESS op ${op} target ${target}: only reads of the NVM (op 0, target 0) are supported`);
    core.reply(nvmRespPayload(offset, type, NVM_READ_BAD_SECTION, new Uint8Array(0)));
    return;
  }
  if (length > NVM_CHUNK_SIZE) {
    core.err('fw.nvm-access', `NVM_ACCESS read of ${length} bytes exceeds the ${NVM_CHUNK_SIZE}-byte chunk; truncated`);
    length = NVM_CHUNK_SIZE;
  }
  const data = nvmRead(core.nvm, type, offset, length);
  if (data === null) {
    core.reply(nvmRespPayload(offset, type, NVM_READ_BAD_SECTION, new Uint8Array(0)));
    return;
  }
  core.milestone('fw.nvm-read', type, data.length);
  core.reply(nvmRespPayload(offset, type, NVM_READ_OK, data));
}

export function phyConfiguration(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, PHY_CONFIGURATION.SIZE)) return;
  const phyCfg = p[PHY_CONFIGURATION.PHY_CFG]! | (p[PHY_CONFIGURATION.PHY_CFG + 1]! << 8);
  if (core.kindCode !== 1) {
    if ((core.init.phyDbMask & (1 << PHY_DB_TYPE.CFG)) === 0) {
      core.badParam('fw.phy-db-missing', 'the runtime image needs the PHY_DB CFG section before PHY_CONFIGURATION');
      return;
    }
    core.init.phyConfigured = true;
    core.milestone('fw.phy-cfg', 2, phyCfg);
    core.replyStatus(STATUS_OK);
    return;
  }
  if (core.init.phyConfigured) {
    core.badParam('fw.phy-cfg-again', 'calibration already ran in this INIT image');
    return;
  }
  core.init.phyConfigured = true;
  core.milestone('fw.phy-cfg', 1, phyCfg);
  core.replyStatus(STATUS_OK);
  const base = core.cur.respDelay;
  if (core.cfg.faults.hwErrorDuringInit) {
    core.later(base + us(1), { k: 'hw-err' });
    return;
  }
  CALIB_SECTIONS.forEach((s, i) => {
    core.notify(base + (i + 1) * CALIB_STEP, CMD.CALIB_RES_NOTIF_PHY_DB, phyDbPayload(s.type, calibData(core, s.type, s.length)),
      { name: 'fw.calib', a: s.type, b: s.length });
    core.init.calibSent++;
  });
  if ((core.quirks & ((1 << (SIMRUN_CAPA.FAULT_NO_INIT_COMPLETE - 96)) >>> 0)) !== 0) {
    core.milestone('fw.init-complete-suppressed', 0, 0);
    return;
  }
  core.notify(base + CALIB_TIME, CMD.INIT_COMPLETE, new Uint8Array(INIT_COMPLETE_SIZE), { name: 'fw.init-complete', a: 0, b: 0 });
}

export function phyDb(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, PHY_DB.HDR)) return;
  const type = rd16(p, PHY_DB.TYPE);
  const length = rd16(p, PHY_DB.LENGTH);
  if (length > p.length - PHY_DB.HDR) {
    core.badParam('fw.cmd-short', `PHY_DB section says ${length} data bytes, the command holds ${p.length - PHY_DB.HDR}`);
    return;
  }
  if (type < 1 || type > 15) {
    core.badParam('fw.phy-db-type', `unknown PHY DB section type ${type}`);
    return;
  }
  core.init.phyDbMask |= 1 << type;
  core.milestone('fw.phy-db', type, length);
  core.replyStatus(STATUS_OK);
}
