import { describe, expect, it } from 'vitest';
import { iwlwifiDecoder as d } from '../../../src/devices/iwlwifi/decode.js';
import { deviceDecoders } from '../../../src/devices/decoders.js';

describe('iwlwifi decoder (inspect, check, diff and bisect reports)', () => {
  it('is registered for the iwlwifi device type', () => {
    expect(deviceDecoders().get('iwlwifi')).toBe(d);
  });

  it('names CSR, HBUS and FH registers, including per-queue and per-channel ones', () => {
    expect(d.regName(0, 0x024, 4)).toBe('CSR_GP_CNTRL');
    expect(d.regName(0, 0x460, 4)).toBe('HBUS_TARG_WRPTR');
    expect(d.regName(0, 0x1bc8, 4)).toBe('FH_RSCSR_CHNL0_WPTR');
    expect(d.regName(0, 0x1e20, 4)).toBe('FH_TCSR_TX_CONFIG(9)');
    expect(d.regName(0, 0x194c, 4)).toBe('FH_TFDIB_CTRL1(9)');
    expect(d.regName(0, 0x19d0 + 4 * 10, 4)).toBe('FH_MEM_CBBC(q10)');
    expect(d.regName(0, 0x1b20 + 4 * 2, 4)).toBe('FH_MEM_CBBC(q22)');
    expect(d.regName(0, 0x3000, 4)).toBeUndefined();
    expect(d.regName(1, 0x24, 4)).toBeUndefined();
  });

  it('breaks down interrupt, clock, reset and ring registers', () => {
    expect(d.regFields!(0, 0x00c, 0xba00008b, true)).toBe('FH_RX|HW_ERR|RX_PERIODIC|FH_TX|SW_ERR|RF_KILL|SW_RX|WAKEUP|ALIVE');
    expect(d.regFields!(0, 0x024, 0x0800000d, false)).toBe('MAC_CLOCK_READY|INIT_DONE|MAC_ACCESS_REQ|HW_RF_KILL_SW');
    expect(d.regFields!(0, 0x020, 0x80, true)).toBe('SW_RESET');
    expect(d.regFields!(0, 0x0a0, 0x98000100, true)).toBe('table=0x100000 ENABLE|RESET_WRITE_PTR|WRAP_CHECK');
    expect(d.regFields!(0, 0x460, 0x0a0b, true)).toBe('queue=10 index=11');
    expect(d.regFields!(0, 0x1c00, 0x80801114, true)).toBe('enable=2 rbds=256 rb=4K irq=1 timeout=17');
  });

  it('decodes RX packets, host command buffers, RB status and ICT entries', () => {
    const alive = new Uint8Array(12);
    alive.set([0x48, 0, 0, 0, 0x01, 0, 0x00, 0x80, 0xfe, 0xca]);
    expect(d.decodeDma!('iwl.rx', alive)).toBe('ALIVE (0x01) notification len=72 status=0xcafe');
    expect(d.decodeDma!('iwl.rx', Uint8Array.of(0, 0, 0x55, 0x55))).toBe('end marker');
    expect(d.decodeDma!('iwl.tb', Uint8Array.of(0x88, 0, 0x05, 0x00, 0, 0))).toBe('NVM_ACCESS (0x88) seq q0/5');
    expect(d.decodeDma!('iwl.tb', Uint8Array.of(0x0d, 1, 0x07, 0x00))).toBe('SCAN_REQ_UMAC (1.0x0d) seq q0/7');
    expect(d.decodeDma!('iwl.rb-stts', Uint8Array.of(0x39, 0, 0, 0))).toBe('closed_rb_num=57');
    expect(d.decodeDma!('iwl.ict', Uint8Array.of(0x00, 0x80, 0, 0))).toBe('entry 0x8000 = CSR_INT FH_RX');
  });
});
