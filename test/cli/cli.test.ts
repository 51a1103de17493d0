import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DISK, ROOT } from '../e2e/helpers.js';
import { openTrace } from '../../src/trace/reader.js';
import { CHUNK_HEADER_SIZE } from '../../src/trace/format.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function simrun(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 1 << 30,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function scenario(name: string, patch: (s: Record<string, any>) => void): string {
  const s: Record<string, any> = {
    name,
    machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
    workload: { type: 'blockio', ops: 40, clients: 2 },
    expect: { minIos: 40 },
  };
  patch(s);
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(s));
  return p;
}

describe('simrun CLI', () => {
  it('runs the default scenario with --record and prints the summary', () => {
    const r = simrun('--record', join(dir, 'default.simtrace'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const k of ['simulated time', 'events', 'interrupts', 'I/Os', 'guest errors', 'trace']) expect(r.out).toContain(k);
    expect(r.out).toMatch(/I\/Os\s+1200 /);
    expect(r.out).toContain(join(dir, 'default.simtrace'));
    expect(r.out).toContain('PASS');
    expect(existsSync(join(dir, 'default.simtrace'))).toBe(true);
  });

  it('the installed command writes the same trace with every chunk through the trace writer thread', () => {
    const out = join(dir, 'threaded.simtrace');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), 'run', 'nvme-msix', '--record', out], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', SIMRUN_TRACE_THREAD: '1' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(join(ROOT, 'traces/nvme-msix.simtrace')))).toBe(0);
  });

  it('records to out/<scenario>.simtrace when --record has no value', () => {
    const s = scenario('tiny', () => {});
    const r = simrun('run', s, '--record');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'out/tiny.simtrace'))).toBe(true);
  });

  it('exits 1 when an expectation fails', () => {
    const s = scenario('expect-too-much', (x) => { x.expect.minIos = 1000; });
    const r = simrun('run', s);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL[\s\S]*expected at least 1000 I\/Os, got 40/);
  });

  it('exits 1 when an expected log line never appears (logContains), and passes when it does', () => {
    const missing = scenario('expect-log-missing', (x) => { x.expect.logContains = ['no driver ever says this']; });
    const r = simrun('run', missing);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL[\s\S]*expected a log line containing "no driver ever says this"/);
    const present = scenario('expect-log-present', (x) => { x.expect.logContains = ['serving disk.nvme']; });
    expect(simrun('run', present).code).toBe(0);
  });

  it('inspect prints decoded events with filters', () => {
    const t = join(dir, 'default.simtrace');
    const r = simrun('inspect', t, '--device', 'nvme0', '--kind', 'mmio', '--limit', '400');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mmio\.w\s.*\bCC\b.*EN=1/);
    expect(r.out).toMatch(/CSTS/);
    const dma = simrun('inspect', t, '--kind', 'dma', '--limit', '50');
    expect(dma.out).toMatch(/IDENTIFY/i);
  });
});

describe('bad input: a clear message and exit code 2', () => {
  const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
    ['unknown device', (s) => { s.machine.devices[0].type = 'nvme9'; }, /machine\.devices\[0\]\.type: unknown device type "nvme9" \(known: nvme/],
    ['duplicate BDF', (s) => { s.machine.devices.push({ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }); }, /machine\.devices\[1\]\.bdf: duplicate BDF 00:04\.0/],
    ['bad BDF', (s) => { s.machine.devices[0].bdf = '00:4g.0'; }, /machine\.devices\[0\]\.bdf: bad PCI address "00:4g\.0"/],
    ['overlapping BARs', (s) => {
      s.machine.devices[0].bars = { 0: '0xc0000000' };
      s.machine.devices.push({ type: 'nvme', bdf: '00:05.0', bars: { 0: '0xc0000000' }, props: { image: DISK } });
    }, /machine\.devices\[1\]\.bars: .*00:05\.0 BAR0 .*overlaps .*00:04\.0 BAR0/],
    ['unknown field', (s) => { s.machine.devices[0].colour = 'blue'; }, /machine\.devices\[0\]\.colour: unknown field/],
    ['unknown prop', (s) => { s.machine.devices[0].props.speed = 3; }, /machine\.devices\[0\]\.props\.speed: unknown property/],
    ['missing disk image', (s) => { s.machine.devices[0].props.image = 'no/such.img'; }, /machine\.devices\[0\]\.props\.image: .*no\/such\.img/],
    ['unknown driver', (s) => { s.drivers = { nvmx: {} }; }, /drivers\.nvmx: unknown driver/],
    ['bad driver parameter', (s) => { s.drivers = { nvme: { irqMode: 'msi-y' } }; }, /drivers\.nvme\.irqMode: must be one of auto, msix, msi, intx/],
    ['missing radio environment', (s) => { s.machine.devices.push({ type: 'iwlwifi', bdf: '00:05.0', props: { rf: 'no/rf.json' } }); },
      /machine\.devices\[1\]\.props\.rf: .*no\/rf\.json: RF environment file not found/],
    ['bad radio environment', (s) => {
      const rf = join(dir, 'bad-rf.json');
      writeFileSync(rf, JSON.stringify({ name: 'x', accessPoints: [{ ssid: 'a', bssid: '02:00:00:00:00:01', channel: 15 }] }));
      s.machine.devices.push({ type: 'iwlwifi', bdf: '00:05.0', props: { rf } });
    }, /machine\.devices\[1\]\.props\.rf: .*bad-rf\.json: accessPoints\[0\]\.channel: must be a 2\.4 GHz channel 1-14 or a 5 GHz channel/],
    ['bad Wi-Fi MAC address', (s) => { s.machine.devices.push({ type: 'iwlwifi', bdf: '00:05.0', props: { mac: '02:00:00:00:00' } }); },
      /machine\.devices\[1\]\.props\.mac: "02:00:00:00:00" is not a MAC address/],
    ['multicast Wi-Fi MAC address', (s) => { s.machine.devices.push({ type: 'iwlwifi', bdf: '00:05.0', props: { mac: '03:00:00:00:00:01' } }); },
      /machine\.devices\[1\]\.props\.mac: "03:00:00:00:00:01" is a multicast address/],
    ['bad Wi-Fi fault prop', (s) => { s.machine.devices.push({ type: 'iwlwifi', bdf: '00:05.0', props: { faultDelayCmd: 'NVM_ACCES' } }); },
      /machine\.devices\[1\]\.props\.faultDelayCmd: unknown command "NVM_ACCES"/],
    ['bad wifi workload expectation', (s) => { s.expect.wifiOutcome = 'fail:dance'; }, /expect\.wifiOutcome: must be "ok", "unfinished" or "fail:<step>"/],
    ['minBlocks above maxBlocks', (s) => { s.workload.minBlocks = 40; s.workload.maxBlocks = 8; }, /workload\.minBlocks: must be <= maxBlocks \(8\), got 40/],
    ['huge integer workload parameter', (s) => { s.workload.ops = 1e300; }, /workload\.ops: must be <= \d+, got 1e\+300/],
    ['huge device prop without a maximum', (s) => { s.machine.devices[0].props.faultStallIo = 1e300; }, /machine\.devices\[0\]\.props\.faultStallIo: must be <= 9007199254740991, got 1e\+300/],
    ['empty SSID', (s) => { s.workload = { type: 'wifi', ssid: '' }; s.machine.devices.push({ type: 'iwlwifi', bdf: '00:05.0' }); }, /workload\.ssid: must not be empty/],
    ['simTime beyond 2^53 ps', (s) => { s.limits = { simTime: '10000s' }; }, /limits\.simTime: "10000s" is beyond the exact range of simulated time/],
    ['a huge wrong value', (s) => { s.seed = 'z'.repeat(5_000_000); }, /seed: must be an integer, got "z{10,78}…$/m],
  ];
  it.each(cases)('%s', (name, patch, message) => {
    const s = scenario(name.replace(/ /g, '-'), patch);
    const r = simrun('run', s);
    expect(r.err).toMatch(message);
    expect(r.err).toContain(s);
    expect(r.out).toBe('');
    expect(r.code).toBe(2);
  });

  it('a scenario file that is not JSON', () => {
    const p = join(dir, 'broken.json');
    writeFileSync(p, '{ "name": ');
    const r = simrun('run', p);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json: not valid JSON/);
  });

  it('a scenario that does not exist', () => {
    const r = simrun('run', 'no-such-scenario');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no-such-scenario\.json: scenario file not found/);
  });

  it('an unknown option', () => {
    const r = simrun('run', 'nvme-msix', '--recrod');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown argument: recrod/);
  });

  it('a truncated trace: intact chunks printed, the damage named by byte offset', () => {
    const full = readFileSync(join(dir, 'default.simtrace'));
    const idx = openTrace(full).index!;
    const cut = idx[3]!.offset + 100; // in the middle of chunk 3
    const p = join(dir, 'truncated.simtrace');
    writeFileSync(p, full.subarray(0, cut));
    const r = simrun('inspect', p);
    expect(r.code).toBe(2);
    const shown = r.out.split('\n').filter((l) => /^\s+\d+\s/.test(l)).length;
    expect(shown).toBe(idx[0]!.count + idx[1]!.count + idx[2]!.count);
    expect(r.out + r.err).toMatch(new RegExp(`byte ${idx[3]!.offset}\\b`));
  });

  it('a corrupted chunk: the chunks before and after are recovered, the damaged one named by offset', () => {
    const full = Buffer.from(readFileSync(join(dir, 'default.simtrace')));
    const idx = openTrace(full).index!;
    const victim = idx[2]!;
    full[victim.offset + CHUNK_HEADER_SIZE + 10]! ^= 0xff;
    const p = join(dir, 'corrupt.simtrace');
    writeFileSync(p, full);
    // The trace reads its disk data from the image (format 6): a copy elsewhere is pointed at it.
    const r = simrun('inspect', p, '--json', '--image-dir', join(ROOT, 'fixtures/disks'));
    expect(r.code).toBe(2);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const events = lines.filter((l) => l.seq !== undefined);
    const total = idx.reduce((n, c) => n + c.count, 0);
    expect(events).toHaveLength(total - victim.count);
    expect(events.some((e) => e.seq >= victim.firstSeq + victim.count)).toBe(true);
    const damage = lines.filter((l) => l.damage !== undefined);
    expect(damage[0].damage.offset).toBe(victim.offset);
  });

  it('a file that is not a trace', () => {
    const p = join(dir, 'not-a-trace.simtrace');
    writeFileSync(p, 'hello world, this is not a trace at all');
    const r = simrun('inspect', p);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not-a-trace\.simtrace/);
  });

  it('an error message shows a bounded excerpt of a huge or deeply nested value', () => {
    const p = join(dir, 'deep.json');
    writeFileSync(p, `{"name":"deep","machine":{"devices":[]},"seed":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const r = simrun('run', p);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/seed: must be an integer, got \[\[\[\[…\]\]\]\]/);
    expect(r.err.length).toBeLessThan(500);
  });
});

describe('command line: mistakes are exit 2 naming the command or option', () => {
  it('a mistyped command suggests the closest one instead of running the default scenario', () => {
    const r = simrun('inspcet', 'x.simtrace');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/unknown command "inspcet"; did you mean "inspect"\?/);
    const far = simrun('frobnicate');
    expect(far.code).toBe(2);
    expect(far.err).toMatch(/unknown command "frobnicate" \(commands: run, inspect/);
  });

  it.each(['abc', '1e30', '-1', '1.5', '4294967296', ''])('--seed %j is rejected like the scenario seed', (v) => {
    const r = simrun('run', 'nvme-msix', `--seed=${v}`);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/--seed/);
    expect(r.err).toMatch(/0 to 4294967295/);
  });

  it('--seed takes an integer in the scenario seed range and puts it in the summary', () => {
    const s = scenario('seeded', () => {});
    const r = simrun('run', s, '--seed', '4294967295', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).seed).toBe(4294967295);
  });

  const numeric: [string, string[]][] = [
    ['limit', ['inspect', 'default.simtrace']],
    ['from-seq', ['inspect', 'default.simtrace']],
    ['to-seq', ['inspect', 'default.simtrace']],
    ['context', ['diff', 'default.simtrace', 'default.simtrace']],
    ['max-divergences', ['diff', 'default.simtrace', 'default.simtrace']],
    ['context', ['check', 'nvme-msix']],
    ['context', ['replay', 'default.simtrace']],
    ['context', ['bisect', '--variants', 'none.json']],
  ];
  it.each(numeric)('--%s of %j is validated', (opt, cmd) => {
    for (const v of ['abc', '1e30', '-1', '1.5']) {
      const r = simrun(...cmd, `--${opt}=${v}`);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--${opt}`);
      expect(r.out).toBe('');
    }
  });

  it('a directory or a FIFO where a file is expected is exit 2 naming the path', () => {
    const d = join(dir, 'a-directory');
    mkdirSync(d, { recursive: true });
    const fifo = join(dir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: string[][] = [
      ['run', d], ['run', fifo], ['inspect', d], ['inspect', fifo], ['diff', fifo, fifo], ['replay', fifo],
      ['export', '--pcap', fifo], ['check', d], ['run', 'nvme-msix', '--record', d], ['--record', d], ['--record', fifo],
    ];
    for (const args of cases) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], {
        cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 20_000,
      });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(args.includes('--record') ? args[args.length - 1]! : args[args.length - 1]!);
    }
  });
});
