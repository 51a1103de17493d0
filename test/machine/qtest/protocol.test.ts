import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from '../../e2e/helpers.js';
import { buildQtestMachine, machineOnlyScenario } from '../../../src/machine/qtest/build.js';
import { parseDeviceSpecs, splitDeviceSpec } from '../../../src/machine/qtest/devices.js';
import { decodeB64Data, decodeHexData, ioapicIrqNumber, parseI64, parseU64, QtestServer } from '../../../src/machine/qtest/protocol.js';
import { MemoryTracer } from '../../../src/sim/tracer.js';
import { InputError } from '../../../src/sim/errors.js';

const IMG = join(ROOT, 'fixtures/disks/nvme-8m.img');

function server(devices: string[] = [`nvme,serial=unit,drive=${IMG}`], tracer?: MemoryTracer): QtestServer {
  const s = machineOnlyScenario({ devices: parseDeviceSpecs(devices), ramMiB: 16 }, process.cwd());
  return new QtestServer(buildQtestMachine(s, tracer === undefined ? {} : { tracer }));
}

/** The reply to a command (the last line), asserting no IRQ line came with it. */
function one(s: QtestServer, line: string): string {
  const r = s.command(line);
  expect(r.slice(0, -1)).toEqual([]);
  return r[r.length - 1]!;
}

/** Config address of 00:04.0 register `reg` for CONFIG_ADDRESS. */
const ca = (reg: number) => `0x${((0x80002000 | reg) >>> 0).toString(16)}`;

describe('qtest protocol: numbers and data words as QEMU parses them', () => {
  it('parses base-0 integers over the whole word, wrapping negatives as strtoull does', () => {
    expect(parseU64('0x10')).toBe(16n);
    expect(parseU64('010')).toBe(8n);
    expect(parseU64('10')).toBe(10n);
    expect(parseU64('0')).toBe(0n);
    expect(parseU64('-1')).toBe((1n << 64n) - 1n);
    expect(parseU64('0xffffffffffffffff')).toBe((1n << 64n) - 1n);
    for (const bad of ['', '0x', '1a', '08', 'x', '0x1g', '1 ', '0x10000000000000000']) expect(parseU64(bad)).toBeUndefined();
    expect(parseI64('-5')).toBe(-5n);
    expect(parseI64('0x8000000000000000')).toBeUndefined();
  });

  it('decodes write data: prefix skipped, short data zero-filled, long data truncated, bad digits as hex2nib gives them', () => {
    expect([...decodeHexData('0x0102', 4)]).toEqual([1, 2, 0, 0]);
    expect([...decodeHexData('0xAbCdEf', 2)]).toEqual([0xab, 0xcd]);
    expect([...decodeHexData('0xzz1z', 2)]).toEqual([0xff, 0xff]);
    expect([...decodeHexData('0xz1', 1)]).toEqual([0xf1]);
    expect([...decodeB64Data('AQID', 3)]).toEqual([1, 2, 3]);
    // Stated size above the decoded bytes: QEMU decodes in place and writes what follows in its buffer.
    expect([...decodeB64Data('AQID', 5)]).toEqual([1, 2, 3, 'D'.charCodeAt(0), 0]);
  });

  it('numbers q35 IOAPIC inputs for simrun pins 16..19 (PIRQ E..H) and keeps others', () => {
    expect([16, 17, 18, 19].map(ioapicIrqNumber)).toEqual([20, 21, 22, 23]);
    expect(ioapicIrqNumber(4)).toBe(4);
  });
});

describe('qtest protocol: commands', () => {
  it('answers endianness, unknown commands, empty lines and malformed arguments', () => {
    const s = server();
    expect(one(s, 'endianness')).toBe('OK little');
    expect(one(s, 'frobnicate 1')).toBe("FAIL Unknown command 'frobnicate'");
    expect(one(s, '')).toBe('FAIL empty command');
    expect(one(s, 'outb')).toBe('FAIL outb: missing port');
    expect(one(s, 'outb 0x80')).toBe('FAIL outb: missing value');
    expect(one(s, 'inb zz')).toBe("FAIL inb: invalid port 'zz'");
    expect(one(s, 'inl 0x10000')).toBe('FAIL inl: port 0x10000 is above 0xffff');
    expect(one(s, 'readl  0x0')).toBe("FAIL readl: invalid address ''"); // two spaces: an empty word, as g_strsplit gives
    expect(one(s, 'write 0x0 4 0x')).toBe('ERR invalid argument size');
    expect(one(s, 'b64write 0x0 4 AB')).toBe('ERR invalid argument size');
    expect(one(s, 'read 0x0 0')).toBe('FAIL read: size 0');
    expect(one(s, 'module_load a b')).toBe('FAIL');
    expect(s.failures).toBe(11);
  });

  it('reads and writes RAM from 0 with every width, read/write, b64 and memset', () => {
    const s = server();
    expect(one(s, 'writeq 0x1000 0x1122334455667788')).toBe('OK');
    expect(one(s, 'readq 0x1000')).toBe('OK 0x1122334455667788');
    expect(one(s, 'readl 0x1000')).toBe('OK 0x0000000055667788');
    expect(one(s, 'readw 0x1002')).toBe('OK 0x0000000000005566');
    expect(one(s, 'readb 0x1007')).toBe('OK 0x0000000000000011');
    expect(one(s, 'writeb 0x1000 0x1ff')).toBe('OK'); // truncated to the width
    expect(one(s, 'writew 0x1002 0xbeef')).toBe('OK');
    expect(one(s, 'writel 0x1004 0xcafef00d')).toBe('OK');
    expect(one(s, 'read 0x1000 8')).toBe('OK 0xff77efbe0df0feca');
    expect(one(s, 'write 0x2000 3 0x010203')).toBe('OK');
    expect(one(s, 'b64read 0x2000 4')).toBe('OK AQIDAA==');
    expect(one(s, 'b64write 0x2000 2 //8=')).toBe('OK');
    expect(one(s, 'read 0x2000 4')).toBe('OK 0xffff0300');
    expect(one(s, 'memset 0x2001 2 0x1aa')).toBe('OK');
    expect(one(s, 'read 0x2000 4')).toBe('OK 0xffaaaa00');
    expect(one(s, 'memset 0x2000 0 0')).toBe('OK');
    expect(one(s, 'b64read 0x2000 0')).toBe('OK ');
  });

  it('reads all ones where nothing decodes (an unassigned BAR, a free port) and records a guest error', () => {
    const t = new MemoryTracer();
    const s = server(undefined, t);
    expect(one(s, 'readl 0xc0000000')).toBe('OK 0x00000000ffffffff');
    expect(one(s, 'inb 0x80')).toBe('OK 0x00ff');
    expect(one(s, 'inl 0x80')).toBe('OK 0xffffffff');
    expect(one(s, 'outb 0x80 1')).toBe('OK');
    expect(t.events.some((e) => e.kind === 'guestErr' && e.code === 'mmio.unmapped-read')).toBe(true);
  });

  it('reaches config space through 0xcf8/0xcfc: host bridge at 00:00.0, the device as after reset with BARs unassigned', () => {
    const s = server();
    expect(one(s, 'outl 0xcf8 0x80000000')).toBe('OK');
    expect(one(s, 'inl 0xcfc')).toBe('OK 0x29c08086');
    expect(one(s, 'inl 0xcf8')).toBe('OK 0x80000000');
    expect(one(s, `outl 0xcf8 ${ca(0)}`)).toBe('OK');
    expect(one(s, 'inw 0xcfc')).toBe('OK 0x1b36');
    expect(one(s, 'inw 0xcfe')).toBe('OK 0x0010');
    expect(one(s, `outl 0xcf8 ${ca(0x04)}`)).toBe('OK');
    expect(one(s, 'inw 0xcfc')).toBe('OK 0x0000'); // Command 0: no firmware ran
    expect(one(s, `outl 0xcf8 ${ca(0x10)}`)).toBe('OK');
    expect(one(s, 'inl 0xcfc')).toBe('OK 0x0004'); // BAR0 unassigned (64-bit memory)
    expect(one(s, 'outl 0xcfc 0xffffffff')).toBe('OK');
    expect(one(s, 'inl 0xcfc')).toBe('OK 0xffffc004'); // 16 KiB
    expect(one(s, 'outl 0xcfc 0xd0000000')).toBe('OK');
    expect(one(s, `outl 0xcf8 ${ca(0x04)}`)).toBe('OK');
    expect(one(s, 'outw 0xcfc 0x6')).toBe('OK');
    // NVMe VS at BAR0 + 8 once memory decode is on.
    expect(one(s, 'readl 0xd0000008')).toMatch(/^OK 0x00000000000104[0-9a-f]{2}$/);
    // An absent function reads all ones.
    expect(one(s, 'outl 0xcf8 0x80003800')).toBe('OK');
    expect(one(s, 'inl 0xcfc')).toBe('OK 0xffffffff');
  });

  it('moves the clock only on clock_step/clock_set, in ns, as QEMU answers', () => {
    const s = server();
    expect(one(s, 'clock_step')).toBe('FAIL cannot advance clock to the next deadline because there is no pending deadline');
    expect(one(s, 'clock_step 1000')).toBe('OK 1000');
    expect(one(s, 'clock_step 0')).toBe('FAIL could not advance time');
    expect(one(s, 'clock_step -5')).toBe('FAIL could not advance time');
    expect(one(s, 'clock_set 5000')).toBe('OK 5000');
    expect(one(s, 'clock_set 5000')).toBe('OK 5000');
    expect(one(s, 'clock_set 10')).toBe('FAIL 5000');
    expect(one(s, 'clock_step x')).toBe("FAIL clock_step: invalid nanoseconds 'x'");
    expect(s.nowNs).toBe(5000);
    // clock_step with no argument goes to the next device event: enable the controller and step to CSTS.RDY.
    for (const l of [`outl 0xcf8 ${ca(0x10)}`, 'outl 0xcfc 0xd0000000', `outl 0xcf8 ${ca(0x04)}`, 'outw 0xcfc 0x6', 'writel 0xd0000024 0x000f000f',
      'writeq 0xd0000028 0x10000', 'writeq 0xd0000030 0x20000', 'writel 0xd0000014 0x00460001']) one(s, l);
    const r = one(s, 'clock_step');
    expect(r).toMatch(/^OK \d+$/);
    expect(Number(r.slice(3))).toBeGreaterThan(5000);
    expect(one(s, 'readl 0xd000001c')).toBe('OK 0x0000000000000001');
  });

  it('handles irq_intercept_in/out as QEMU does: one intercept, unknown devices and named inputs refused', () => {
    const s = server();
    expect(one(s, 'irq_intercept_in nosuch')).toBe('FAIL Unknown device');
    expect(one(s, 'irq_intercept_in ioapic name')).toBe('FAIL Interception of named in-GPIOs not yet supported');
    expect(one(s, 'irq_intercept_in /machine/ioapic')).toBe('OK');
    expect(one(s, 'irq_intercept_in ioapic')).toBe('OK');
    expect(one(s, 'irq_intercept_out nvme0')).toBe('FAIL IRQ intercept already enabled');
    const t = server();
    expect(one(t, 'irq_intercept_out /machine/peripheral/nvme0 gpio')).toBe('FAIL No intercepts installed');
    expect(one(t, 'irq_intercept_out /machine/peripheral/nvme0')).toBe('OK');
  });

  it('gives the same replies for the same command stream (deterministic)', () => {
    const cmds = [`outl 0xcf8 ${ca(0x10)}`, 'outl 0xcfc 0xd0000000', `outl 0xcf8 ${ca(0x04)}`, 'outw 0xcfc 0x6', 'writel 0xd0000024 0x000f000f',
      'writeq 0xd0000028 0x10000', 'writeq 0xd0000030 0x20000', 'writel 0xd0000014 0x00460001', 'clock_step', 'readl 0xd000001c', 'clock_step 12345', 'readq 0xd0000000'];
    const run = () => { const s = server(); return cmds.map((c) => s.command(c)); };
    expect(run()).toEqual(run());
  });
});

describe('--device specs', () => {
  it('parses QEMU-style options, aliases drive, escapes ",," and assigns free slots from 04', () => {
    expect(splitDeviceSpec('ahci,disks=a.img,,b.img')).toEqual(['ahci', 'disks=a.img,b.img']);
    const d = parseDeviceSpecs([`nvme,serial=deadbeef,drive=${IMG},lbaSize=4096`, 'nvme,id=second,addr=06.0,drive=x.img,writeThrough=off', 'nvme,drive=y.img']);
    expect(d.map((x) => [x.id, x.bdf])).toEqual([['nvme0', '00:04.0'], ['second', '00:06.0'], ['nvme2', '00:05.0']]);
    expect(d[0]!.props).toEqual({ serial: 'deadbeef', image: IMG, lbaSize: 4096 });
    expect(d[1]!.props).toEqual({ image: 'x.img', writeThrough: false });
  });

  it('rejects unknown types and props, bad values and clashing addresses, naming the option', () => {
    const err = (specs: string[]) => { try { parseDeviceSpecs(specs); return ''; } catch (e) { expect(e).toBeInstanceOf(InputError); return (e as Error).message; } };
    expect(err(['floppy'])).toMatch(/--device: #1 \(floppy\): unknown device type "floppy"/);
    expect(err(['nvme,colour=red'])).toMatch(/unknown property "colour" of nvme/);
    expect(err(['nvme,lbaSize=big'])).toMatch(/lbaSize: "big" is not a number/);
    expect(err(['nvme,addr=zz'])).toMatch(/addr "zz" is not a slot/);
    expect(err(['nvme,addr=00.0'])).toMatch(/host bridge/);
    expect(err(['nvme,addr=04', 'nvme,bdf=00:04.0'])).toMatch(/#2 .*00:04.0 is used by another device/);
    expect(err(['nvme,noequals'])).toMatch(/"noequals" is not key=value/);
  });
});
