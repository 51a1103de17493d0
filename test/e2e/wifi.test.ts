import { beforeAll, describe, expect, it } from 'vitest';
import { runRecorded } from './helpers.js';
import type { SeqEvent } from '../../src/trace/reader.js';
import { CSR, FH, INT, INT_MASK_FW_LOAD, INT_MASK_NORMAL, INT_MASK_RF_KILL, RESET, GP_CNTRL, HW_IF_CONFIG, ICT } from '../../src/devices/iwlwifi/regs.js';
import { CMD } from '../../src/devices/iwlwifi/fw-api.js';
import { wifiResultOf } from '../../src/workloads/wifi.js';

type Ev = SeqEvent;
const find = (evs: Ev[], pred: (e: Ev) => boolean, from = 0): number => {
  for (let i = from; i < evs.length; i++) if (pred(evs[i]!)) return i;
  return -1;
};
const mmioW = (offset: number, test: (v: number) => boolean = () => true) => (e: Ev) =>
  e.kind === 'mmio' && e.write && e.offset === offset && test(e.value);
const mmioR = (offset: number, test: (v: number) => boolean = () => true) => (e: Ev) =>
  e.kind === 'mmio' && !e.write && e.offset === offset && test(e.value);
/** A host command as the device fetched it: the first TB starts with the command header. */
const hostCmd = (cmd: number) => (e: Ev) => e.kind === 'dma' && e.tag === 'iwl.tb' && e.data[0] === cmd;
/** An RX packet the device wrote: len_n_flags, then cmd. */
const rxPkt = (cmd: number) => (e: Ev) => e.kind === 'dma' && e.tag === 'iwl.rx' && e.data[4] === cmd;
const findLast = (evs: Ev[], pred: (e: Ev) => boolean, before: number): number => {
  for (let i = before - 1; i >= 0; i--) if (pred(evs[i]!)) return i;
  return -1;
};
const milestone = (name: string) => (e: Ev) => e.kind === 'milestone' && e.name === name;
/** 802.11 frame control byte 0: type/subtype. */
const air = (tx: boolean, fc0: number) => (e: Ev) => e.kind === 'air' && e.tx === tx && e.data[0] === fc0;

describe('Wi-Fi end to end (wifi-connect: Intel 7265D, iwlwifi driver, home radio environment)', () => {
  let run: ReturnType<typeof runRecorded>;
  let evs: SeqEvent[];
  beforeAll(() => {
    run = runRecorded('wifi-connect');
    evs = run.events();
  });

  it('comes up, scans, connects and exchanges at least 100 ping round trips, then disconnects', () => {
    const r = run.result;
    expect(r.failures).toEqual([]);
    expect(r.stoppedBy).toBe('workload-done');
    const w = wifiResultOf(r.workload)!;
    expect(w.steps).toEqual(['up', 'scan', 'list', 'connect', 'arp', 'ping', 'disconnect']);
    expect(w.pingsOk).toBeGreaterThanOrEqual(100);
    expect(w.pingsSent).toBe(w.pingsOk);
    expect(w.rtts.every((t) => t > 0 && t < 50e9)).toBe(true);
    expect(w.networks.some((l) => /\tsimnet\t6\t-\d+\topen$/.test(l))).toBe(true);
    expect(w.networks.some((l) => /\tsimnet-secure\t1\t-\d+\twpa2-psk$/.test(l))).toBe(true);
    expect(w.status).toMatch(/state=connected\nssid=simnet\nbssid=02:00:5e:10:00:01\nchannel=6\n/);
    expect(r.guestErrors).toBe(0);
    expect(r.crashes).toEqual([]);
  });

  it('follows the bring-up order of the fact sheet (A9): probe, start_hw, INIT image, ALIVE, fw_alive, INIT flow, runtime image', () => {
    // 1. Probe: HW_REV, interrupts masked and acked.
    const hwRev = find(evs, mmioR(CSR.HW_REV));
    const maskOff = find(evs, mmioW(CSR.INT_MASK, (v) => v === 0), hwRev);
    const ackAll = find(evs, mmioW(CSR.INT, (v) => v === 0xffffffff), hwRev);
    // 2. start_hw: NIC_READY, software reset, APM init (INIT_DONE, CLOCK_READY), RF-kill interrupt only.
    const nicReady = find(evs, mmioW(CSR.HW_IF_CONFIG, (v) => (v & HW_IF_CONFIG.NIC_READY) !== 0), ackAll);
    const swReset = find(evs, mmioW(CSR.RESET, (v) => (v & RESET.SW_RESET) !== 0), nicReady);
    const initDone = find(evs, mmioW(CSR.GP_CNTRL, (v) => (v & GP_CNTRL.INIT_DONE) !== 0), swReset);
    const clockReady = find(evs, mmioR(CSR.GP_CNTRL, (v) => (v & GP_CNTRL.MAC_CLOCK_READY) !== 0), initDone);
    const rfKillOnly = find(evs, mmioW(CSR.INT_MASK, (v) => v === INT_MASK_RF_KILL), clockReady);
    // 3. start_fw: RX and TX rings, then FH_TX only while loading.
    const rxConfig = find(evs, mmioW(FH.MEM_RCSR_CHNL0_CONFIG, (v) => v === 0x80801114), rfKillOnly);
    const loadMask = find(evs, mmioW(CSR.INT_MASK, (v) => v === INT_MASK_FW_LOAD), rxConfig);
    // 4. Chunks through the service channel, each acknowledged by FH_TX.
    const kick = find(evs, mmioW(0x1e20, (v) => v === 0x80100000), loadMask);
    const chunk = find(evs, (e) => e.kind === 'dma' && e.tag === 'iwl.fw-chunk', kick);
    const fhTxAck = find(evs, mmioW(CSR.INT, (v) => (v & INT.FH_TX) !== 0), chunk);
    // 5. Normal mask, then RESET = 0 releases the CPU.
    const normal = find(evs, mmioW(CSR.INT_MASK, (v) => v === INT_MASK_NORMAL), fhTxAck);
    const release = find(evs, mmioW(CSR.RESET, (v) => v === 0), normal);
    // 6. ALIVE on the RX ring, then 7. fw_alive: ICT on, scheduler, TX DMA channels.
    const alive = find(evs, rxPkt(CMD.ALIVE), release);
    const ictOn = find(evs, mmioW(CSR.DRAM_INT_TBL, (v) => (v & ICT.ENABLE) !== 0), alive);
    const txCh = find(evs, mmioW(0x1d00, (v) => v === 0x80000008), ictOn);
    // INIT flow: BT_CONFIG, NVM_ACCESS, TX_ANT_CONFIG, PHY_CONFIGURATION, CALIB_RES..., INIT_COMPLETE.
    const bt = find(evs, hostCmd(CMD.BT_CONFIG), txCh);
    const nvm = find(evs, hostCmd(CMD.NVM_ACCESS), bt);
    const ant = find(evs, hostCmd(CMD.TX_ANT_CONFIG), nvm);
    const phyCfg = find(evs, hostCmd(CMD.PHY_CONFIGURATION), ant);
    const calib = find(evs, rxPkt(CMD.CALIB_RES_NOTIF_PHY_DB), phyCfg);
    const initComplete = find(evs, rxPkt(CMD.INIT_COMPLETE), calib);
    // Runtime image: loaded, released, ALIVE again; PHY_DB sent back; scan; association; data.
    const release2 = find(evs, mmioW(CSR.RESET, (v) => v === 0), initComplete);
    const alive2 = find(evs, rxPkt(CMD.ALIVE), release2);
    const phyDb = find(evs, hostCmd(CMD.PHY_DB), alive2);
    const scan = find(evs, (e) => e.kind === 'dma' && e.tag === 'iwl.tb' && e.data[0] === CMD.SCAN_REQ_UMAC && e.data[1] === 1, phyDb);
    const probeReq = find(evs, air(true, 0x40), scan);
    const probeResp = find(evs, air(false, 0x50), probeReq);
    const scanDone = find(evs, rxPkt(CMD.SCAN_COMPLETE_UMAC), probeResp);
    const auth = find(evs, air(true, 0xb0), scanDone);
    const authResp = find(evs, air(false, 0xb0), auth);
    const assocReq = find(evs, air(true, 0x00), authResp);
    const assocResp = find(evs, air(false, 0x10), assocReq);
    const data = find(evs, air(true, 0x08), assocResp);
    const steps = {
      hwRev, maskOff, ackAll, nicReady, swReset, initDone, clockReady, rfKillOnly, rxConfig, loadMask, kick, chunk, fhTxAck, normal, release,
      alive, ictOn, txCh, bt, nvm, ant, phyCfg, calib, initComplete, release2, alive2, phyDb, scan, probeReq, probeResp, scanDone,
      auth, authResp, assocReq, assocResp, data,
    };
    for (const [name, at] of Object.entries(steps)) expect(at, name).toBeGreaterThanOrEqual(0);
    // Each was searched from the previous one, so found = in order; check the chain once more explicitly.
    const order = Object.values(steps);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Every service-channel chunk is followed by an FH_TX interrupt before the next chunk starts.
    const chunks = evs.map((e, i) => (e.kind === 'dma' && e.tag === 'iwl.fw-chunk' ? i : -1)).filter((i) => i >= 0);
    expect(chunks.length).toBe(8);
    for (let c = 0; c + 1 < chunks.length; c++) {
      const msi = find(evs, (e) => e.kind === 'msi', chunks[c]!);
      expect(msi, `interrupt after chunk ${c}`).toBeLessThan(chunks[c + 1]!);
    }
    // Host command responses echo the sequence (queue 0, TFD index) with bit 15 clear.
    const tb = evs[bt]! as Extract<Ev, { kind: 'dma' }>;
    const seq = tb.data[2]! | (tb.data[3]! << 8);
    const resp = evs.find((e, i) => i > bt && e.kind === 'dma' && e.tag === 'iwl.rx' && e.data[4] === CMD.BT_CONFIG) as Extract<Ev, { kind: 'dma' }>;
    expect(resp.data[6]! | (resp.data[7]! << 8)).toBe(seq);
    expect(seq & 0x8000).toBe(0);
  });

  it('delivers interrupts through the ICT table: every MSI after the runtime image\'s fw_alive follows an ICT entry write', () => {
    // stop_device turns the ICT off between the images; the runtime image's fw_alive turns it on again.
    const ictOns = evs.map((e, i) => (mmioW(CSR.DRAM_INT_TBL, (v) => (v & ICT.ENABLE) !== 0)(e) ? i : -1)).filter((i) => i >= 0);
    expect(ictOns.length).toBe(2);
    const ictOn = ictOns[1]!;
    const msis = evs.map((e, i) => (e.kind === 'msi' && i > ictOn ? i : -1)).filter((i) => i >= 0);
    expect(msis.length).toBeGreaterThan(100);
    for (const m of msis.slice(0, 50)) {
      const back = evs.slice(Math.max(0, m - 6), m);
      expect(back.some((e) => e.kind === 'dma' && e.tag === 'iwl.ict'), `ICT write before MSI at event ${m}`).toBe(true);
    }
    expect(evs.filter(milestone('fw.scan-channel')).length).toBeGreaterThan(20);
  });

  it('packs several packets into one RB (RX_PHY + RX_MPDU of a frame): 64-byte aligned, one end marker after the last, one RB status', () => {
    // Packet writes not at the start of a 4 KiB RB are the second and later packets of an RB.
    const rx = evs.filter((e): e is Extract<Ev, { kind: 'dma' }> => e.kind === 'dma' && e.tag === 'iwl.rx');
    const packed = rx.filter((e) => e.addr % 4096 !== 0 && e.data.length > 4);
    expect(packed.length).toBeGreaterThan(100);
    for (const e of packed) expect(e.addr % 64).toBe(0);
    // An RX_MPDU right behind its RX_PHY: at RB + 128 (68-byte RX_PHY: ALIGN(8 + 68, 64)).
    expect(packed.some((e) => e.addr % 4096 === 128 && e.data[4] === CMD.RX_MPDU)).toBe(true);
    const markers = rx.filter((e) => e.data.length === 4);
    for (const e of markers) expect(new DataView(e.data.buffer, e.data.byteOffset, 4).getUint32(0, true)).toBe(0x55550000);
    // One RB status write per RB: fewer than the packets.
    const stts = evs.filter((e) => e.kind === 'dma' && e.tag === 'iwl.rb-stts').length;
    expect(stts).toBe(rx.length - packed.length - markers.length);
    expect(run.result.workload && wifiResultOf(run.result.workload)!.pingsOk).toBeGreaterThanOrEqual(100);
  });

  it('NIC access: the MAC sleeps when idle (power save on), a host command first wakes it (MAC_ACCESS_REQ, CLOCK_READY polled) and holds it awake', () => {
    const sleeps = evs.map((e, i) => (milestone('pm.sleep')(e) ? i : -1)).filter((i) => i >= 0);
    expect(sleeps.length).toBeGreaterThan(10);
    const hostWakes = evs.map((e, i) => (e.kind === 'milestone' && e.name === 'pm.wake' && e.a === 0 ? i : -1)).filter((i) => i >= 0);
    expect(hostWakes.length).toBeGreaterThan(0);
    for (const w of hostWakes) {
      // Before the wake: MAC_ACCESS_REQ set, then GP_CNTRL read with CLOCK_READY clear (asleep or waking).
      const req = findLast(evs, mmioW(CSR.GP_CNTRL, (v) => (v & GP_CNTRL.MAC_ACCESS_REQ) !== 0), w);
      expect(req).toBeGreaterThan(findLast(evs, milestone('pm.sleep'), w));
      expect(evs.slice(req, w).some(mmioR(CSR.GP_CNTRL, (v) => (v & GP_CNTRL.MAC_CLOCK_READY) === 0))).toBe(true);
      // After it: CLOCK_READY read, then the command's write pointer (queue 0).
      const ready = find(evs, mmioR(CSR.GP_CNTRL, (v) => (v & GP_CNTRL.MAC_CLOCK_READY) !== 0), w);
      const wrptr = find(evs, mmioW(0x460, (v) => v >>> 8 === 0), w);
      expect(ready).toBeGreaterThan(w);
      expect(wrptr).toBeGreaterThan(ready);
    }
    // No PRPH or SRAM access ever found the clock off.
    expect(evs.some((e) => e.kind === 'guestErr')).toBe(false);
  });

  it('puts the association exchange, scan frames, beacons and every ping on the air', () => {
    const airs = evs.filter((e): e is Extract<Ev, { kind: 'air' }> => e.kind === 'air');
    const count = (tx: boolean, fc0: number) => airs.filter((a) => a.tx === tx && a.data[0] === fc0).length;
    expect(count(false, 0x80)).toBeGreaterThan(0); // beacons
    expect(count(true, 0xb0)).toBe(1);
    expect(count(false, 0xb0)).toBe(1);
    expect(count(true, 0x00)).toBe(1);
    expect(count(false, 0x10)).toBe(1);
    expect(count(true, 0xc0)).toBe(1); // deauthentication at disconnect
    // ARP + 100 echo requests out, ARP reply + 100 echo replies in.
    expect(count(true, 0x08)).toBe(101);
    expect(count(false, 0x08)).toBe(101);
    expect(airs.every((a) => a.channel === 6 || a.data[0] === 0x40 || a.data[0] === 0x50 || a.data[0] === 0x80)).toBe(true);
  });
});

describe('Wi-Fi end to end with INTx', () => {
  it('the same exchange works with the legacy interrupt line (no MSI): level asserted until the causes are acked', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseScenario } = await import('../../src/machine/scenario.js');
    const { runScenario } = await import('../../src/machine/run.js');
    const { openTrace } = await import('../../src/trace/reader.js');
    const { scenarioPath } = await import('./helpers.js');
    const path = scenarioPath('wifi-connect');
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.drivers.iwlwifi.irqMode = 'intx';
    json.workload.pings = 20;
    json.expect.minPings = 20;
    const out = runScenario(parseScenario(json, path, 'intx'), { recordToBuffer: true });
    expect(out.result.failures).toEqual([]);
    const evs = [...openTrace(out.trace!.buffer!).events()];
    expect(evs.some((e) => e.kind === 'msi')).toBe(false);
    const intx = evs.filter((e): e is Extract<SeqEvent, { kind: 'intx' }> => e.kind === 'intx');
    expect(intx.filter((e) => e.level === 1).length).toBeGreaterThan(20);
    expect(intx.filter((e) => e.level === 0).length).toBeGreaterThan(20);
  });
});
