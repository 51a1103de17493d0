/**
 * Runtime configuration commands a real mvm driver sends around bring-up and
 * association (fw-api.ts layouts): SHARED_MEM_CFG, POWER_TABLE,
 * MAC_PM_POWER_TABLE, TIME_EVENT (with its notifications), LQ and SF_CFG.
 *
 * The simulated radio has no power save, rate scaling or smart FIFO, so these
 * commands change nothing on the air; the firmware checks what a real one
 * would refuse (size, the MAC context or station they name, values out of
 * range) and answers as the real firmware does. A violation gets
 * STATUS_BAD_PARAM plus a guest error.
 *
 * TIME_EVENT: ADD answers { status 0, id, unique_id, id_and_color } and, for
 * a MAC context that exists, sends TIME_EVENT_NOTIFICATION START shortly
 * after and END when `duration` TU have passed (unless removed first).
 * REMOVE of a running event cancels it (no END).
 */
import { us } from '../../../sim/time.js';
import {
  CMD, DEVICE_POWER_FLAGS, FW_CTXT_ACTION, LQ, MAC_PM_POWER_TABLE, POWER_TABLE, SF_CFG, STATUS_OK, TE_NOTIF_HOST_EVENT_END,
  TE_NOTIF_HOST_EVENT_START, TIME_EVENT,
} from '../fw-api.js';
import type { FwCore } from './cpu.js';
import { rd16, rd32, sharedMemCfgPayload, timeEventNotifPayload, timeEventRespPayload } from './packets.js';
import { MAX_STATIONS } from './station.js';

/** One TU. */
const TU = us(1024);
/** TIME_EVENT ADD -> START notification. */
export const TE_START_DELAY = us(100);

export interface TimeEventState {
  nextUid: number;
  /** unique_id -> pending END action id. */
  running: Map<number, number>;
}

export function newTimeEventState(): TimeEventState {
  return { nextUid: 1, running: new Map() };
}

export function sharedMemCfg(core: FwCore): void {
  core.reply(sharedMemCfgPayload());
}

export function powerTable(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, POWER_TABLE.SIZE)) return;
  const flags = rd16(p, POWER_TABLE.FLAGS);
  const known = DEVICE_POWER_FLAGS.POWER_SAVE_ENA | DEVICE_POWER_FLAGS.CAM;
  if ((flags & ~known) !== 0) {
    core.badParam('fw.power', `device power flags 0x${flags.toString(16)} set unknown bits`);
    return;
  }
  core.milestone('fw.power-table', flags, 0);
  core.replyStatus(STATUS_OK);
  // CAM (continuously aware) or no POWER_SAVE_ENA: the MAC stays awake.
  core.host.setPowerSave((flags & DEVICE_POWER_FLAGS.POWER_SAVE_ENA) !== 0 && (flags & DEVICE_POWER_FLAGS.CAM) === 0);
}

export function macPmPowerTable(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, MAC_PM_POWER_TABLE.SIZE)) return;
  const mac = rd32(p, MAC_PM_POWER_TABLE.ID_AND_COLOR) & 0xff;
  if (!core.sta.macs.has(mac)) {
    core.badParam('fw.power', `MAC_PM_POWER_TABLE for MAC context ${mac}, which does not exist`);
    return;
  }
  core.milestone('fw.mac-power', mac, rd16(p, MAC_PM_POWER_TABLE.FLAGS));
  core.replyStatus(STATUS_OK);
}

export function lq(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, LQ.SIZE)) return;
  const staId = p[LQ.STA_ID]!;
  if (staId >= MAX_STATIONS || !core.sta.stas.has(staId)) {
    core.badParam('fw.lq', `LQ for station ${staId}, which does not exist`);
    return;
  }
  if (rd32(p, LQ.RS_TABLE) === 0) {
    core.badParam('fw.lq', `LQ for station ${staId}: the first rate of the table is 0`);
    return;
  }
  core.milestone('fw.lq', staId, rd32(p, LQ.RS_TABLE));
  core.replyStatus(STATUS_OK);
}

export function sfCfg(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, SF_CFG.SIZE)) return;
  const state = rd32(p, SF_CFG.STATE);
  if (state > 3) {
    core.badParam('fw.sf', `smart FIFO state ${state} is not 0-3`);
    return;
  }
  core.milestone('fw.sf-cfg', state, 0);
  core.replyStatus(STATUS_OK);
}

export function timeEvent(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, TIME_EVENT.SIZE)) return;
  const idColor = rd32(p, TIME_EVENT.ID_AND_COLOR);
  const action = rd32(p, TIME_EVENT.ACTION);
  const id = rd32(p, TIME_EVENT.ID);
  const te = core.te;
  if (action === FW_CTXT_ACTION.REMOVE) {
    // For REMOVE the driver puts the unique_id in `id`.
    const end = te.running.get(id);
    if (end === undefined) {
      core.badParam('fw.time-event', `time event ${id} is not running`);
      return;
    }
    core.cancelAction(end);
    te.running.delete(id);
    core.milestone('fw.time-event', id, 0);
    core.reply(timeEventRespPayload(0, id, id, idColor));
    return;
  }
  if (action !== FW_CTXT_ACTION.ADD) {
    core.badParam('fw.time-event', `time event action ${action} is not ADD or REMOVE`);
    return;
  }
  if (!core.sta.macs.has(idColor & 0xff)) {
    core.badParam('fw.time-event', `time event for MAC context ${idColor & 0xff}, which does not exist`);
    return;
  }
  const duration = rd32(p, TIME_EVENT.DURATION);
  const uid = te.nextUid++;
  core.reply(timeEventRespPayload(0, id, uid, idColor));
  const start = core.cur.respDelay + TE_START_DELAY;
  core.notify(start, CMD.TIME_EVENT_NOTIFICATION, timeEventNotifPayload(Math.floor((core.now() + start) / 1_000_000), uid, idColor, TE_NOTIF_HOST_EVENT_START, 1),
    { name: 'fw.time-event', a: uid, b: duration });
  const endAt = start + duration * TU;
  const endId = core.later(endAt, {
    k: 'post', cmd: CMD.TIME_EVENT_NOTIFICATION, group: 0, seq: 0x8000, notif: true,
    payload: timeEventNotifPayload(Math.floor((core.now() + endAt) / 1_000_000), uid, idColor, TE_NOTIF_HOST_EVENT_END, 1),
  });
  te.running.set(uid, endId);
}
