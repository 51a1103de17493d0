/**
 * Random register traffic, firmware calls, RF-kill toggles, resets and time
 * interleaved: the transport never throws, INT and HW_REV never read as
 * "device gone", and the INTx level follows INT & INT_MASK.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import {
  CSR, FH, FH_RX_CONFIG_4K, FH_TX_BUF_STS_SRVC, FH_TX_CONFIG_NORMAL, FH_TX_CONFIG_SRVC_KICK, GP_CNTRL, HBUS,
  HW_REV_7265D, ICT, INT_MASK_NORMAL, LMPM_CHICK, PRPH_DWORD_ACCESS, RESET, SCD, fhTfdRingBaseReg,
} from '../../../../src/devices/iwlwifi/regs.js';

const OFFSETS = [
  ...Object.values(CSR), ...Object.values(HBUS), ...Object.values(FH),
  FH.TFDIB_CTRL0 + 72, FH.TFDIB_CTRL1 + 72, FH.TCSR_CHNL_TX_CONFIG + 0x120, FH.TCSR_CHNL_TX_BUF_STS + 0x120,
  FH.TCSR_CHNL_TX_CONFIG + 0xe0, fhTfdRingBaseReg(0), fhTfdRingBaseReg(17), fhTfdRingBaseReg(25),
];
const PRPH_ADDRS = [0x3000, 0x3004, 0x3008, 0x3010, 0x301c, LMPM_CHICK, SCD.SRAM_BASE_ADDR, SCD.TXFACT, SCD.QUEUE_WRPTR,
  SCD.QUEUE_RDPTR, SCD.QUEUE_STATUS_BITS, SCD.BASE + 0x2b4 + 4 * 25, SCD.BASE + 0x334 + 4 * 31, SCD.GP_CTRL, 0xfffff];

type Op =
  | { k: 'w'; off: number; size: 1 | 2 | 4; value: number }
  | { k: 'r'; off: number; size: 1 | 2 | 4 }
  | { k: 'prph'; addr: number; value: number; write: boolean }
  | { k: 'post'; cmd: number; group: number; len: number }
  | { k: 'raise'; bits: number }
  | { k: 'rfkill'; on: boolean }
  | { k: 'run'; us: number }
  | { k: 'busMaster'; on: boolean }
  | { k: 'mode'; mode: 'msi' | 'intx' }
  | { k: 'quiesce' };

const value = fc.oneof(
  fc.constantFrom(0, 1, 3, 0xff, 0xffffffff, 0x80000000, INT_MASK_NORMAL, FH_RX_CONFIG_4K, FH_TX_CONFIG_NORMAL,
    FH_TX_CONFIG_SRVC_KICK, FH_TX_BUF_STS_SRVC, RESET.SW_RESET, RESET.STOP_MASTER, GP_CNTRL.INIT_DONE,
    GP_CNTRL.MAC_ACCESS_REQ, ICT.ENABLE | ICT.RESET_WRITE_PTR | 0x300, 0x8 | PRPH_DWORD_ACCESS, 0x10_0000 / 256, 0x100),
  fc.integer({ min: 0, max: 0x1ff }),
  fc.nat(),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const offset = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...OFFSETS) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x1fff }) },
  { weight: 1, arbitrary: fc.integer({ min: -8, max: 0x3000 }) },
);
const size = fc.constantFrom<1 | 2 | 4>(4, 4, 4, 2, 1);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ k: fc.constant('w' as const), off: offset, size, value }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('r' as const), off: offset, size }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('prph' as const), addr: fc.oneof(fc.constantFrom(...PRPH_ADDRS), fc.nat()), value, write: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('post' as const), cmd: fc.constantFrom(0x01, 0x03, 0x88), group: fc.constantFrom(0, 1), len: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('raise' as const), bits: fc.oneof(fc.nat(), fc.constant(0xffffffff)) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rfkill' as const), on: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('run' as const), us: fc.integer({ min: 0, max: 10_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('busMaster' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mode' as const), mode: fc.constantFrom('msi' as const, 'intx' as const) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'quiesce' as const }) },
);

const BIG = new Uint8Array(5000);

function apply(h: Harness, o: Op): void {
  switch (o.k) {
    case 'w': {
      h.bar.write(o.off, o.size, o.value);
      if (h.irq.mode === 'intx' && o.size === 4 && (o.off === CSR.INT || o.off === CSR.INT_MASK)) {
        expect(h.irq.level).toBe((h.r32(CSR.INT) & h.r32(CSR.INT_MASK)) !== 0);
      }
      break;
    }
    case 'r': {
      const v = h.bar.read(o.off, o.size);
      expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
      break;
    }
    case 'prph':
      if (o.write) h.prphWrite(o.addr, o.value);
      else h.prphRead(o.addr);
      break;
    case 'post': h.dev.postRx(o.cmd, o.group, 0x8000, BIG, o.len); break;
    case 'raise': h.dev.raiseInt(o.bits); break;
    case 'rfkill': h.dev.setRfKill(o.on); break;
    case 'run': h.runUs(o.us); break;
    case 'busMaster': h.gate.busMaster = o.on; break;
    case 'mode': h.irq.mode = o.mode; break;
    case 'quiesce': h.dev.quiesce(); break;
  }
  const intv = h.r32(CSR.INT);
  expect(intv).not.toBe(0xffffffff);
  expect((intv & 0xfffffff0) >>> 0).not.toBe(0xa5a5a5a0);
  expect(h.r32(CSR.HW_REV)).toBe(HW_REV_7265D);
}

describe('iwlwifi transport: fuzz', () => {
  it('never throws under random traffic (with a firmware that answers every command)', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), fc.boolean(), (ops, prepared) => {
        const h = new Harness({ faults: { loseRxIrq: 2, corruptChunk: { load: 0, chunk: 0, byteSeed: 7 } } });
        h.fw.onCommand = (q, index, bytes) => {
          h.dev.postRx(bytes[0] ?? 0, bytes[1] ?? 0, (q << 8) | index, bytes, bytes.length);
        };
        h.fw.onRelease = () => { h.dev.postRx(0x01, 0, 0x8000, new Uint8Array(68), 68); };
        if (prepared) {
          h.apmInit();
          h.setupRx();
          h.enableIct();
          const ring = h.setupTxRing(0);
          h.activateQueue(0);
          h.writeTfd(ring, 0, [new Uint8Array(20).fill(3)]);
          h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
        }
        for (const o of ops) apply(h, o);
        h.runUs(20_000);
        h.dev.stateHash();
        h.dev.stats();
      }),
      { numRuns: 150, seed: 0x1eaf },
    );
  });

  it('is deterministic: the same traffic gives the same trace and state hash', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const run = () => {
          const h = new Harness();
          h.apmInit();
          h.setupRx();
          for (const o of ops) apply(h, o);
          h.runUs(10_000);
          return { hash: h.dev.stateHash(), n: h.tracer.events.length, stats: h.dev.stats() };
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});
