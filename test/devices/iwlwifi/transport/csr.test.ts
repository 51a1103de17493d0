import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import {
  APMG, CSR, FH, FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, FH_RX_CONFIG_4K, FH_TX_CONFIG_NORMAL, GP1, GP_CNTRL, HBUS,
  HW_IF_CONFIG, HW_REV_7265D, HW_REV_TYPE_7265D, HW_REV_TYPE_MASK, INT, IWL_BAR0_SIZE, IWL_PCI, RESET, SCD,
  fhTfdRingBaseReg, fhTxIdleBits,
} from '../../../../src/devices/iwlwifi/regs.js';

describe('iwlwifi transport: PCI identity', () => {
  it('describes a 7265D function with BAR0 mem64 8 KiB, MSI (1 vector, 64-bit), INTA#, PM and PCIe', () => {
    const h = new Harness();
    expect(h.spec.vendorId).toBe(IWL_PCI.vendorId);
    expect(h.spec.deviceId).toBe(IWL_PCI.deviceId);
    expect(h.spec.subsystemVendorId).toBe(IWL_PCI.subsystemVendorId);
    expect(h.spec.subsystemId).toBe(IWL_PCI.subsystemId);
    expect(h.spec.classCode).toBe(IWL_PCI.classCode);
    expect(h.spec.interruptPin).toBe(1);
    expect(h.spec.bars).toHaveLength(1);
    expect(h.spec.bars[0]).toMatchObject({ index: 0, kind: 'mem64', size: IWL_BAR0_SIZE, prefetchable: false });
    expect(h.spec.capabilities.msi).toEqual({ vectors: 1, is64: true, perVectorMask: false });
    expect(h.spec.capabilities.msix).toBeUndefined();
    expect(h.spec.capabilities.pm).toBe(true);
    expect(h.spec.capabilities.pcie).toBe(true);
    expect(h.dev.type).toBe('iwlwifi');
  });
});

describe('iwlwifi transport: CSR basics', () => {
  it('HW_REV reads the 7265D revision and is read-only', () => {
    const h = new Harness();
    expect(h.r32(CSR.HW_REV)).toBe(HW_REV_7265D);
    expect(h.r32(CSR.HW_REV) & HW_REV_TYPE_MASK).toBe(HW_REV_TYPE_7265D);
    h.w32(CSR.HW_REV, 0xffffffff);
    expect(h.r32(CSR.HW_REV)).toBe(HW_REV_7265D);
    expect(h.guestErrs('iwl.csr.read-only')).toHaveLength(1);
  });

  it('INT reads 0 at power-on, never 0xFFFFFFFF even after raiseInt(~0)', () => {
    const h = new Harness();
    expect(h.r32(CSR.INT)).toBe(0);
    h.dev.raiseInt(0xffffffff);
    expect(h.r32(CSR.INT)).not.toBe(0xffffffff);
    expect(h.r32(CSR.INT) & INT.SW_ERR).toBe(INT.SW_ERR);
  });

  it('NIC_READY reads back at once after the driver sets it', () => {
    const h = new Harness();
    expect(h.r32(CSR.HW_IF_CONFIG) & HW_IF_CONFIG.NIC_READY).toBe(0);
    h.set(CSR.HW_IF_CONFIG, HW_IF_CONFIG.NIC_READY);
    expect(h.r32(CSR.HW_IF_CONFIG) & HW_IF_CONFIG.NIC_READY).toBe(HW_IF_CONFIG.NIC_READY);
  });

  it('PREPARE leads to PREPARE_DONE within a few microseconds; the driver cannot set PREPARE_DONE', () => {
    const h = new Harness();
    h.w32(CSR.HW_IF_CONFIG, HW_IF_CONFIG.PREPARE_DONE);
    expect(h.r32(CSR.HW_IF_CONFIG) & HW_IF_CONFIG.PREPARE_DONE).toBe(0);
    h.set(CSR.HW_IF_CONFIG, HW_IF_CONFIG.PREPARE);
    expect(h.r32(CSR.HW_IF_CONFIG) & HW_IF_CONFIG.PREPARE_DONE).toBe(0);
    h.runUs(5);
    expect(h.r32(CSR.HW_IF_CONFIG) & HW_IF_CONFIG.PREPARE_DONE).toBe(HW_IF_CONFIG.PREPARE_DONE);
    h.clear(CSR.HW_IF_CONFIG, HW_IF_CONFIG.PREPARE);
    expect(h.r32(CSR.HW_IF_CONFIG) & HW_IF_CONFIG.PREPARE_DONE).toBe(0);
  });

  it('INIT_DONE gives MAC_CLOCK_READY after a short delay, well under 25 ms', () => {
    const h = new Harness();
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(0);
    h.set(CSR.GP_CNTRL, GP_CNTRL.INIT_DONE);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(0);
    h.runUs(10);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(GP_CNTRL.MAC_CLOCK_READY);
    h.clear(CSR.GP_CNTRL, GP_CNTRL.INIT_DONE);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(0);
  });

  it('MAC_ACCESS_REQ gives CLOCK_READY = 1 and GOING_TO_SLEEP = 0: after the clock start-up without INIT_DONE, at once with it', () => {
    const h = new Harness();
    h.set(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(0);
    h.runUs(2);
    const v = h.r32(CSR.GP_CNTRL);
    expect(v & (GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP)).toBe(GP_CNTRL.MAC_CLOCK_READY);
    h.releaseNic();
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(0);
    h.apmInit();
    h.releaseNic();
    h.set(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(GP_CNTRL.MAC_CLOCK_READY);
  });

  it('MAC sleep: with power save allowed and the firmware running, idle 1 ms -> GOING_TO_SLEEP 30 us -> asleep (no clock, GP1.MAC_SLEEP); MAC_ACCESS_REQ wakes it in 100 us; PRPH reads 0xA5A5A5A2 meanwhile', () => {
    const h = new Harness();
    h.apmInit();
    // No firmware running: never sleeps.
    h.dev.setPowerSave(true);
    h.runUs(5000);
    expect(h.dev.pm).toBe('awake');
    h.fw.running = true;
    h.dev.setPowerSave(true);
    h.runUs(999);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.GOING_TO_SLEEP).toBe(0);
    h.runUs(2);
    expect(h.r32(CSR.GP_CNTRL) & (GP_CNTRL.GOING_TO_SLEEP | GP_CNTRL.MAC_CLOCK_READY)).toBe(GP_CNTRL.GOING_TO_SLEEP | GP_CNTRL.MAC_CLOCK_READY);
    h.runUs(30);
    expect(h.r32(CSR.GP_CNTRL) & (GP_CNTRL.GOING_TO_SLEEP | GP_CNTRL.MAC_CLOCK_READY)).toBe(0);
    expect(h.r32(CSR.UCODE_DRV_GP1) & GP1.MAC_SLEEP).toBe(GP1.MAC_SLEEP);
    expect(h.milestones('pm.sleep')).toHaveLength(1);
    expect(h.prphRead(APMG.CLK_CTRL)).toBe(0xa5a5a5a2);
    expect(h.guestErrs('iwl.prph.no-access')).toHaveLength(1);
    // The driver's handshake: request, poll until CLOCK_READY with GOING_TO_SLEEP clear.
    expect(h.grabNic()).toBe(100);
    expect(h.r32(CSR.UCODE_DRV_GP1) & GP1.MAC_SLEEP).toBe(0);
    expect(h.milestones('pm.wake')).toMatchObject([{ a: 0 }]);
    // Held: it stays awake.
    h.runUs(5000);
    expect(h.dev.pm).toBe('awake');
    h.releaseNic();
    h.runUs(1031);
    expect(h.dev.pm).toBe('asleep');
    // Device activity (a TX write pointer) wakes it at once.
    h.w32(HBUS.TARG_WRPTR, 0);
    expect(h.dev.pm).toBe('awake');
    expect(h.milestones('pm.wake').at(-1)).toMatchObject({ a: 1 });
    // A request while it is going to sleep waits for the sleep, then the wake-up.
    h.runUs(1001);
    expect(h.dev.pm).toBe('going');
    expect(h.grabNic()).toBeGreaterThan(100);
    // Power save forbidden (CAM): awake for good.
    h.releaseNic();
    h.dev.setPowerSave(false);
    h.runUs(5000);
    expect(h.dev.pm).toBe('awake');
  });

  it('GP_CNTRL read-only bits ignore writes', () => {
    const h = new Harness();
    h.w32(CSR.GP_CNTRL, GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP);
    expect(h.r32(CSR.GP_CNTRL) & (GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP)).toBe(0);
    h.w32(CSR.GP_CNTRL, 0);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW).toBe(GP_CNTRL.HW_RF_KILL_SW);
    expect(h.guestErrs()).toHaveLength(0);
  });

  it('GP1 set / clear registers', () => {
    const h = new Harness();
    h.w32(CSR.UCODE_DRV_GP1_SET, GP1.SW_BIT_RFKILL | GP1.CMD_BLOCKED | GP1.MAC_SLEEP);
    expect(h.r32(CSR.UCODE_DRV_GP1)).toBe(GP1.SW_BIT_RFKILL | GP1.CMD_BLOCKED | GP1.MAC_SLEEP);
    h.w32(CSR.UCODE_DRV_GP1_CLR, GP1.SW_BIT_RFKILL | GP1.CMD_BLOCKED);
    expect(h.r32(CSR.UCODE_DRV_GP1)).toBe(GP1.MAC_SLEEP);
  });

  it('registers without device semantics and unknown offsets are plain storage; unknown offsets are guest errors', () => {
    const h = new Harness();
    for (const off of [CSR.GIO, CSR.MBOX_SET, CSR.GIO_CHICKEN, CSR.DBG_HPET_MEM, CSR.DBG_LINK_PWR_MGMT, CSR.MAC_SHADOW_REG_CTRL, 0x1234, 0x1ffc]) {
      h.w32(off, 0x12345678 ^ off);
      expect(h.r32(off)).toBe((0x12345678 ^ off) >>> 0);
    }
    // 0x1234 and 0x1ffc hold no register: each write and read is recorded.
    expect(h.guestErrs().map((e) => e.code)).toEqual(Array(4).fill('iwl.reg.unknown'));
  });

  it('narrow accesses outside 0x004/0x005 work on the dword and are recorded', () => {
    const h = new Harness();
    h.w32(CSR.GIO, 0x11223344);
    expect(h.bar.read(CSR.GIO + 1, 1)).toBe(0x33);
    expect(h.bar.read(CSR.GIO + 2, 2)).toBe(0x1122);
    h.bar.write(CSR.GIO + 3, 1, 0xaa);
    expect(h.r32(CSR.GIO)).toBe(0xaa223344);
    expect(h.guestErrs('iwl.mmio.width').length).toBe(3);
  });
});

describe('iwlwifi transport: resets and DMA stop handshakes', () => {
  it('STOP_MASTER gives MASTER_DISABLED within 100 us', () => {
    const h = new Harness();
    h.set(CSR.RESET, RESET.STOP_MASTER);
    expect(h.r32(CSR.RESET) & RESET.MASTER_DISABLED).toBe(0);
    h.runUs(100);
    expect(h.r32(CSR.RESET) & RESET.MASTER_DISABLED).toBe(RESET.MASTER_DISABLED);
  });

  it('RX config 0 sets RX status idle within 1 ms; enabling clears it', () => {
    const h = new Harness();
    expect(h.r32(FH.MEM_RSSR_RX_STATUS) & FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE).toBe(FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE);
    h.w32(FH.MEM_RCSR_CHNL0_CONFIG, FH_RX_CONFIG_4K);
    expect(h.r32(FH.MEM_RSSR_RX_STATUS) & FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE).toBe(0);
    h.w32(FH.MEM_RCSR_CHNL0_CONFIG, 0);
    h.runUs(1000);
    expect(h.r32(FH.MEM_RSSR_RX_STATUS) & FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE).toBe(FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE);
  });

  it('TX_CONFIG(ch) = 0 sets the channel idle bits within 5 ms', () => {
    const h = new Harness();
    for (let ch = 0; ch < 8; ch++) h.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch, FH_TX_CONFIG_NORMAL);
    for (let ch = 0; ch < 8; ch++) expect(h.r32(FH.TSSR_TX_STATUS) & fhTxIdleBits(ch)).toBe(0);
    for (let ch = 0; ch < 8; ch++) h.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch, 0);
    h.runUs(5000);
    for (let ch = 0; ch < 8; ch++) expect((h.r32(FH.TSSR_TX_STATUS) & fhTxIdleBits(ch)) >>> 0).toBe(fhTxIdleBits(ch));
  });

  it('SW_RESET clears INIT_DONE and CLOCK_READY, halts the firmware, resets FH/SCD/ICT state', () => {
    const h = new Harness();
    h.apmInit();
    h.setupRx();
    h.enableIct();
    const ring = h.setupTxRing(0);
    expect(ring).toBeGreaterThan(0);
    h.grabNic();
    h.prphWrite(SCD.TXFACT, 0xff);
    h.prphWrite(APMG.PCIDEV_STT, 1 << 11);
    h.releaseNic();
    h.w32(CSR.INT_MASK, INT.RF_KILL);
    h.set(CSR.RESET, RESET.SW_RESET);
    expect(h.fw.of('halt')).toHaveLength(1);
    const gp = h.r32(CSR.GP_CNTRL);
    expect(gp & (GP_CNTRL.INIT_DONE | GP_CNTRL.MAC_CLOCK_READY)).toBe(0);
    expect(h.r32(CSR.RESET) & RESET.SW_RESET).toBe(0);
    expect(h.r32(fhTfdRingBaseReg(0))).toBe(0);
    expect(h.r32(FH.MEM_RCSR_CHNL0_CONFIG)).toBe(0);
    expect(h.r32(FH.MEM_RSSR_RX_STATUS) & FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE).toBe(FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE);
    expect(h.r32(CSR.DRAM_INT_TBL)).toBe(0);
    expect(h.dev.rx.read).toBe(0);
    h.grabNic();
    expect(h.prphRead(SCD.TXFACT)).toBe(0);
    expect(h.prphRead(APMG.PCIDEV_STT)).toBe(1 << 11); // APMG is always-on
    expect(h.r32(CSR.INT_MASK)).toBe(INT.RF_KILL); // the driver manages INT/INT_MASK itself
    expect(h.milestones('sw-reset')).toHaveLength(1);
    // The CPU stays held: RESET = 0 without a new load releases nothing.
    h.w32(CSR.RESET, 0);
    expect(h.fw.of('release')).toHaveLength(0);
    expect(h.guestErrs('iwl.cpu.release-empty')).toHaveLength(1);
  });

  it('quiesce returns everything to power-on and halts the firmware', () => {
    const h = new Harness();
    h.apmInit();
    h.w32(CSR.INT_MASK, 0xffffffff);
    h.w32(CSR.GIO, 5);
    h.grabNic();
    h.sramWrite(0x800000, [0xdeadbeef]);
    const before = h.dev.stateHash();
    h.dev.quiesce();
    expect(h.fw.of('halt').length).toBeGreaterThan(0);
    expect(h.r32(CSR.INT_MASK)).toBe(0);
    expect(h.r32(CSR.GIO)).toBe(0);
    expect(h.r32(CSR.GP_CNTRL)).toBe(GP_CNTRL.HW_RF_KILL_SW);
    expect(h.dev.readSram(0x800000, 4)).toEqual(new Uint8Array(4));
    expect(h.dev.stateHash()).not.toBe(before);
  });
});

describe('iwlwifi transport: RF-kill', () => {
  it('bit 27 = 1 when the radio is allowed; the fault starts with RF-kill asserted', () => {
    expect(new Harness().r32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW).toBe(GP_CNTRL.HW_RF_KILL_SW);
    expect(new Harness({ faults: { rfKill: true } }).r32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW).toBe(0);
  });

  it('toggling raises INT.RF_KILL, sets APMG RTC_INT_STT bit 28 and tells the firmware', () => {
    const h = new Harness();
    h.w32(CSR.INT_MASK, INT.RF_KILL);
    h.dev.setRfKill(true);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW).toBe(0);
    expect(h.r32(CSR.INT) & INT.RF_KILL).toBe(INT.RF_KILL);
    expect(h.irq.messages).toEqual([0]);
    expect(h.fw.of('rfKill')).toEqual([{ kind: 'rfKill', asserted: true }]);
    h.grabNic();
    expect(h.prphRead(APMG.RTC_INT_STT) & (1 << 28)).toBe(1 << 28);
    h.prphWrite(APMG.RTC_INT_STT, 1 << 28);
    expect(h.prphRead(APMG.RTC_INT_STT)).toBe(0);
    h.w32(CSR.INT, INT.RF_KILL);
    h.dev.setRfKill(true); // no change, no interrupt
    expect(h.irq.messages).toHaveLength(1);
    h.dev.setRfKill(false);
    expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW).toBe(GP_CNTRL.HW_RF_KILL_SW);
    expect(h.irq.messages).toHaveLength(2);
  });
});

describe('iwlwifi transport: HBUS registers read back', () => {
  it('address registers read back as written', () => {
    const h = new Harness();
    h.w32(HBUS.TARG_MEM_RADDR, 0x800010);
    expect(h.r32(HBUS.TARG_MEM_RADDR)).toBe(0x800010);
  });
});
