/**
 * Names the 7265D's registers and decodes its DMA payloads for inspect,
 * check/replay reports, diff and bisect: CSR/HBUS/FH register names and bit
 * fields, host commands in TFD buffers ("iwl.tb"), RX packets ("iwl.rx"),
 * RB status and ICT entries. Decoding allocates; it never runs on the
 * simulation's hot path.
 */
import type { DeviceDecoder } from '../../trace/decoder.js';
import { IwlBehaviour, isVolatileIwlRegister } from './behaviour.js';
import { CMD, SEQ_UNSOLICITED, cmdName, seqIndex, seqQueue } from './fw-api.js';
import { CSR, FH, GP_CNTRL, HBUS, HW_IF_CONFIG, ICT, INT, IWL_BAR0_SIZE, RESET, ictToInt } from './regs.js';

const NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(CSR)) NAMES.set(v, `CSR_${k}`);
for (const [k, v] of Object.entries(HBUS)) NAMES.set(v, `HBUS_${k}`);
for (const [k, v] of Object.entries(FH)) if (!NAMES.has(v)) NAMES.set(v, `FH_${k}`);

function regName(bar: number, offset: number, _size: number): string | undefined {
  if (bar !== 0 || offset < 0 || offset >= IWL_BAR0_SIZE) return undefined;
  const exact = NAMES.get(offset);
  if (exact !== undefined) return exact;
  if (offset >= FH.TFDIB_CTRL0 && offset < FH.TFDIB_CTRL0 + 8 * 10) {
    return `FH_TFDIB_CTRL${(offset - FH.TFDIB_CTRL0) & 4 ? 1 : 0}(${(offset - FH.TFDIB_CTRL0) >> 3})`;
  }
  if (offset >= FH.MEM_CBBC_0_15 && offset < FH.MEM_CBBC_0_15 + 64) return `FH_MEM_CBBC(q${(offset - FH.MEM_CBBC_0_15) >> 2})`;
  if (offset >= FH.MEM_CBBC_16_19 && offset < FH.MEM_CBBC_16_19 + 16) return `FH_MEM_CBBC(q${16 + ((offset - FH.MEM_CBBC_16_19) >> 2)})`;
  if (offset >= FH.MEM_CBBC_20_31 && offset < FH.MEM_CBBC_20_31 + 48) return `FH_MEM_CBBC(q${20 + ((offset - FH.MEM_CBBC_20_31) >> 2)})`;
  if (offset >= FH.TCSR_CHNL_TX_CONFIG && offset < FH.TCSR_CHNL_TX_CONFIG + 0x20 * 10) {
    const ch = (offset - FH.TCSR_CHNL_TX_CONFIG) >> 5;
    const reg = ['TX_CONFIG', 'TX_CREDIT', 'TX_BUF_STS'][((offset - FH.TCSR_CHNL_TX_CONFIG) & 0x1f) >> 2];
    if (reg !== undefined) return `FH_TCSR_${reg}(${ch})`;
  }
  return undefined;
}

/** Every host command id the firmware API defines. */
const COMMAND_IDS: ReadonlySet<number> = new Set(Object.values(CMD));
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

function flags(v: number, table: Record<string, number>): string {
  const on = Object.entries(table).filter(([, b]) => (v & b) !== 0).map(([k]) => k);
  return on.length === 0 ? '(none)' : on.join('|');
}

function regFields(bar: number, offset: number, value: number, _write: boolean): string | undefined {
  if (bar !== 0) return undefined;
  const v = value >>> 0;
  switch (offset) {
    case CSR.INT:
    case CSR.INT_MASK:
      return flags(v, INT);
    case CSR.GP_CNTRL:
      return flags(v, GP_CNTRL);
    case CSR.RESET:
      return flags(v, RESET);
    case CSR.HW_IF_CONFIG:
      return flags(v, HW_IF_CONFIG);
    case CSR.DRAM_INT_TBL:
      return `table=${hex((v & ICT.ADDR_MASK) * ICT.SIZE)} ${flags(v, { ENABLE: ICT.ENABLE, RESET_WRITE_PTR: ICT.RESET_WRITE_PTR, WRAP_CHECK: ICT.WRAP_CHECK })}`;
    case HBUS.TARG_WRPTR:
      return `queue=${v >>> 8} index=${v & 0xff}`;
    case HBUS.TARG_PRPH_RADDR:
    case HBUS.TARG_PRPH_WADDR:
      return `prph=${hex(v & 0xfffff)}`;
    case FH.MEM_RCSR_CHNL0_CONFIG:
      return v === 0 ? 'disabled' : `enable=${v >>> 30} rbds=${2 ** ((v >>> 20) & 0xf)} rb=${4 << ((v >>> 16) & 3)}K irq=${(v >>> 12) & 1} timeout=${(v >>> 4) & 0xff}`;
    default:
      return undefined;
  }
}

function rd16(b: Uint8Array, o: number): number { return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8); }
function rd32(b: Uint8Array, o: number): number { return (rd16(b, o) | (rd16(b, o + 2) << 16)) >>> 0; }

function seqText(seq: number): string {
  return (seq & SEQ_UNSOLICITED) !== 0 ? 'notification' : `seq q${seqQueue(seq)}/${seqIndex(seq)}`;
}

function decodeDma(tag: string, d: Uint8Array): string | undefined {
  switch (tag) {
    case 'iwl.rx': {
      // len_n_flags, then the narrow header; an end-marker write is 4 bytes.
      if (d.length === 4 && rd32(d, 0) === 0x55550000) return 'end marker';
      if (d.length < 8) return undefined;
      const len = rd32(d, 0) & 0x3fff;
      const cmd = d[4]!;
      const group = d[5]!;
      const seq = rd16(d, 6);
      let extra = '';
      if (cmd === CMD.ALIVE && group === 0 && d.length >= 10) extra = ` status=${hex(rd16(d, 8))}`;
      else if (cmd === CMD.RX_MPDU && d.length >= 10) extra = ` ${rd16(d, 8)}-byte frame`;
      return `${cmdName(cmd, group)} ${seqText(seq)} len=${len}${extra}`;
    }
    case 'iwl.tb': {
      // The first TB of a host command starts with its header.
      if (d.length < 4) return undefined;
      const cmd = d[0]!;
      const group = d[1]!;
      if (!COMMAND_IDS.has(cmd)) return undefined;
      return `${cmdName(cmd, group)} ${seqText(rd16(d, 2))}`;
    }
    case 'iwl.rb-stts':
      return d.length >= 2 ? `closed_rb_num=${rd16(d, 0) & 0xfff}` : undefined;
    case 'iwl.ict':
      return d.length >= 4 ? `entry ${hex(rd32(d, 0))} = CSR_INT ${flags(ictToInt(rd32(d, 0)), INT)}` : undefined;
    case 'iwl.tfd':
      return d.length >= 4 ? `${d[3]! & 0x1f} TBs` : undefined;
    default:
      return undefined;
  }
}

export const iwlwifiDecoder: DeviceDecoder = {
  type: 'iwlwifi', regName, regFields, decodeDma,
  behaviour: () => new IwlBehaviour(),
  isVolatileRegister: isVolatileIwlRegister,
};
