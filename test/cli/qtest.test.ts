import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DISK, ROOT } from '../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-qtest-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function simrun(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 1 << 30,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('simrun export --qtest and serve --script', () => {
  const script = join(dir, 'nvme-msix.qtest');

  it('exports the golden NVMe trace (firmware BAR programming included) and the script replays clean through the qtest server', () => {
    const e = simrun('export', '--qtest', 'traces/nvme-msix.simtrace', '-o', script);
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/commands, \d+ checked replies/);
    const text = readFileSync(script, 'utf8');
    // The firmware's BAR sizing and assignment come first, through CONFIG_ADDRESS/CONFIG_DATA.
    expect(text).toContain('outl 0xcf8 0x80002010\ninl 0xcfc\n#< OK 0x0004\noutl 0xcfc 0xffffffff');
    expect(text).toContain('outl 0xcfc 0xc0000000');
    expect(text).toMatch(/^b64write 0x[0-9a-f]+ 64 /m); // submission entries written before their doorbells
    expect(text).toMatch(/^#! irq msi-vector \d+ \d+$/m);
    const r = simrun('serve', '--script', script);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/IRQ counts as recorded: no mismatch/);
    expect(r.code).toBe(0);
  }, 120_000);

  it('reports the first reply that differs with its line number (exit 1)', () => {
    const lines = readFileSync(script, 'utf8').split('\n');
    const i = lines.findIndex((l, k) => l.startsWith('#< OK 0x') && lines[k - 1]!.startsWith('readl'));
    lines[i] = '#< OK 0x00000000deadbeef';
    const bad = join(dir, 'tampered.qtest');
    writeFileSync(bad, lines.join('\n'));
    const r = simrun('serve', '--script', bad);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${bad}:${i}: ${lines[i - 1]}: expected OK 0x00000000deadbeef, got OK 0x`);
  }, 120_000);

  it('checks the IRQ counts the recording implies', () => {
    const text = readFileSync(script, 'utf8').replace(/^#! irq msi-vector (\d+) (\d+)$/m, (_m, v: string, n: string) => `#! irq msi-vector ${v} ${Number(n) + 1}`);
    const bad = join(dir, 'irqs.qtest');
    writeFileSync(bad, text);
    const r = simrun('serve', '--script', bad);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/IRQ \d+: \d+ raises recorded, \d+ seen/);
  }, 120_000);
});

describe('simrun serve: arguments', () => {
  it('exits 2 with a message on bad arguments', () => {
    const cases: [string[], RegExp][] = [
      [['serve'], /serve needs --qtest unix:<path>/],
      [['serve', '--qtest', 'tcp:localhost:4444', '--device', `nvme,drive=${DISK}`], /only unix:<path> sockets/],
      [['serve', '--qtest', `unix:${join(dir, 'nobody.sock')}`], /serve needs the machine/],
      [['serve', '--qtest', `unix:${join(dir, 'nobody.sock')}`, '--device', 'floppy'], /unknown device type "floppy"/],
      [['serve', '--qtest', `unix:${join(dir, 'nobody.sock')}`, '--device', `nvme,drive=${DISK}`], /cannot connect \(ENOENT\)/],
      [['serve', '--qtest', `unix:${join(dir, 'x.sock')}`, '--script', 'a.qtest'], /two modes of serve/],
      [['serve', '--listen', '--script', 'a.qtest'], /--listen goes with --qtest/],
      [['serve', '--script', join(dir, 'missing.qtest')], /script file not found/],
      [['serve', '--qtest', `unix:${join(dir, 'x.sock')}`, '--scenario', 'nvme-msix', '--device', `nvme,drive=${DISK}`], /not both/],
      [['export', '--qtest', join(dir, 'missing.simtrace')], /trace file not found/],
    ];
    for (const [args, msg] of cases) {
      const r = simrun(...args);
      expect(r.err, args.join(' ')).toMatch(msg);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const bad = join(dir, 'bad.qtest');
    writeFileSync(bad, '#< OK\n');
    const r = simrun('serve', '--script', bad, '--device', `nvme,drive=${DISK}`);
    expect(r.err).toMatch(/line 1: "#<" expectation before any command/);
    expect(r.code).toBe(2);
  }, 120_000);

  it('--listen serves one client, records a trace, and the same command stream gives the same trace bytes', async () => {
    const session = async (n: number): Promise<{ replies: string; trace: Buffer }> => {
      const sock = join(dir, `listen${n}.sock`);
      const trace = join(dir, `listen${n}.simtrace`);
      const child = spawn(process.execPath, [join(ROOT, 'bin/simrun.js'), 'serve', '--qtest', `unix:${sock}`, '--listen', '--record', trace,
        '--device', `nvme,drive=${DISK}`], { cwd: dir, stdio: 'ignore' });
      const exited = new Promise<number | null>((ok) => child.once('exit', ok));
      let s: net.Socket | undefined;
      for (let i = 0; i < 200 && s === undefined; i++) {
        s = await new Promise<net.Socket | undefined>((ok) => {
          const c = net.createConnection({ path: sock }, () => ok(c));
          c.once('error', () => ok(undefined));
        });
        if (s === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      const conn = s!;
      let replies = '';
      conn.setEncoding('latin1');
      conn.on('data', (d: string) => { replies += d; });
      conn.write(['outl 0xcf8 0x80002010', 'outl 0xcfc 0xc0000000', 'outl 0xcf8 0x80002004', 'outw 0xcfc 6', 'readq 0xc0000000',
        'writel 0xc0000024 0x000f000f', 'writeq 0xc0000028 0x10000', 'writeq 0xc0000030 0x20000', 'writel 0xc0000014 0x00460001',
        'clock_step', 'readl 0xc000001c', ''].join('\n'));
      while (replies.split('\n').length < 12) await new Promise((r) => setTimeout(r, 20));
      conn.end();
      expect(await exited).toBe(0);
      return { replies, trace: readFileSync(trace) };
    };
    const a = await session(1);
    const b = await session(2);
    expect(a.replies).toMatch(/OK 0x0000000000000001\n$/);
    expect(b.replies).toBe(a.replies);
    expect(b.trace.equals(a.trace)).toBe(true);
    const insp = simrun('inspect', join(dir, 'listen1.simtrace'), '--kind', 'mmio');
    expect(insp.out).toMatch(/CSTS/);
  }, 120_000);
});
