import { describe, expect, it } from 'vitest';
import { CMD } from '../../../../src/devices/iwlwifi/fw-api.js';
import type { MvmState } from '../../../../src/drivers/iwlwifi/mvm/mvm.js';
import { AP_MAC, beacon, defaultScript, runMvm, type FwScript } from './fake-trans.js';

/** The life cycle without the connection objects: kind, link kind, ssid kept, facts. */
function shape(s: MvmState): string {
  switch (s.kind) {
    case 'stopped': return `stopped${s.fwDead ? ' fwDead' : ''}${s.rfkill ? ' rfkill' : ''}`;
    case 'starting': return `starting ${s.image}${s.alive ? ' alive' : ''}${s.rfkill ? ' rfkill' : ''}`;
    case 'runtime': {
      const c = 'conn' in s.link && s.link.conn !== null ? ` ${s.link.conn.ssid}` : '';
      return `runtime ${s.link.kind}${c}${s.rfkill ? ' rfkill' : ''}`;
    }
    case 'rfkill': return `rfkill over ${s.fw.kind}${s.fw.kind === 'none' && s.fw.fwDead ? ' fwDead' : ''}${s.fw.kind === 'loading' ? ` ${s.fw.image}${s.fw.alive ? ' alive' : ''}` : ''}`;
    case 'dead': return `dead${s.rfkill ? ' rfkill' : ''}`;
    default: { const n: never = s; return n; }
  }
}

function apScript(): FwScript {
  const s = defaultScript();
  s.scanFrames = [{ channel: 6, energy: 40, frame: beacon({ bssid: AP_MAC, ssid: 'simnet', channel: 6 }) }];
  return s;
}

const DEAUTH_FROM_AP = new Uint8Array([0xc0, 0, 0, 0, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, ...AP_MAC, ...AP_MAC, 0x20, 0, 7, 0]);

describe('iwlwifi mvm life cycle', () => {
  it('walks stopped, INIT, runtime, scanning, authenticating, associating, associated and back to idle', () => {
    const seen: string[] = [];
    const res = runMvm(apScript(), function* (mvm, t) {
      const note = (where: string): void => { seen.push(`${where}: ${shape(mvm.lifecycle)} (${mvm.state})`); };
      // Snapshots at the transport calls the op mode makes at each step.
      const { fwAlive, stopDevice, sendCmd, tx } = t;
      t.fwAlive = function* (scd) { note(`fwAlive`); yield* fwAlive.call(t, scd); };
      t.stopDevice = function* () { note('stopDevice'); yield* stopDevice.call(t); };
      t.sendCmd = function* (cmd) {
        if (cmd.id === CMD.SCAN_REQ_UMAC || cmd.id === CMD.PHY_CONTEXT || cmd.id === CMD.REMOVE_STA) note(`cmd 0x${cmd.id.toString(16)}`);
        return yield* sendCmd.call(t, cmd);
      };
      t.tx = (q, c, skb, h) => { note(`tx 0x${(skb.bytes[0] ?? 0).toString(16)}`); return tx.call(t, q, c, skb, h); };
      note('new');
      expect(yield* mvm.start()).toBe(0);
      note('started');
      expect(yield* mvm.scan()).toBe(1);
      note('scanned');
      expect(yield* mvm.connect('simnet')).toBe(0);
      note('connected');
      expect(yield* mvm.scan()).toBe(1);
      note('scanned while associated');
      expect(yield* mvm.disconnect()).toBe(0);
      note('disconnected');
    });
    expect(res.kernel.crashes).toEqual([]);
    expect(seen).toEqual([
      'new: stopped (down)',
      'fwAlive: starting init (down)',
      'stopDevice: stopped (down)', // the INIT image is stopped before the runtime image is loaded
      'fwAlive: starting runtime (down)',
      'started: runtime idle (up)',
      'cmd 0xd: runtime scanning (scanning)',
      'scanned: runtime idle (up)',
      'cmd 0x8: runtime authenticating simnet (connecting)',
      'tx 0xb0: runtime authenticating simnet (connecting)',
      'tx 0x0: runtime associating simnet (connecting)',
      'connected: runtime associated simnet (connected)',
      'cmd 0xd: runtime scanning simnet (scanning)',
      'scanned while associated: runtime associated simnet (connected)',
      'tx 0xc0: runtime idle (up)',
      'cmd 0x19: runtime idle (up)',
      'cmd 0x8: runtime idle (up)',
      'disconnected: runtime idle (up)',
    ]);
    expect(res.mvm.statusText()).toBe('state=up\nssid=\nbssid=\nchannel=\nmac=00:1b:21:aa:bb:cc\n');
  });

  it('a connection lost during a scan ends the scan idle, not associated', () => {
    let during = '';
    const res = runMvm(apScript(), function* (mvm, t) {
      yield* mvm.start();
      yield* mvm.scan();
      yield* mvm.connect('simnet');
      const { sendCmd } = t;
      t.sendCmd = function* (cmd) {
        const r = yield* sendCmd.call(t, cmd);
        if (cmd.id === CMD.SCAN_REQ_UMAC) { mvm.rxFrame(DEAUTH_FROM_AP); during = shape(mvm.lifecycle); }
        return r;
      };
      yield* mvm.scan();
    });
    expect(during).toBe('runtime scanning');
    expect(shape(res.mvm.lifecycle)).toBe('runtime idle');
    expect(res.logs).toContain('info iwlwifi 0000:03:00.0: wlan0: deauthenticated by 02:11:22:33:44:55: reason 7');
  });

  it('a failed attempt stays connecting without a connection while its contexts are removed (control refused), then idle', () => {
    const s = apScript();
    s.assocStatus = 17;
    let during = '';
    let scanDuring = 0;
    let r = 0;
    const res = runMvm(s, function* (mvm, t) {
      yield* mvm.start();
      yield* mvm.scan();
      const { sendCmd } = t;
      t.sendCmd = function* (cmd) {
        if (cmd.id === CMD.REMOVE_STA) { during = `${shape(mvm.lifecycle)} (${mvm.state})`; scanDuring = yield* mvm.scan(); }
        return yield* sendCmd.call(t, cmd);
      };
      r = yield* mvm.connect('simnet');
    });
    expect(r).toBe(-111);
    expect(during).toBe('runtime aborting (connecting)');
    expect(scanDuring).toBe(-16);
    expect(shape(res.mvm.lifecycle)).toBe('runtime idle');
  });

  it('RF-kill: on from power-on is rfkill over no firmware; on while associated drops the link, off returns to idle', () => {
    const power = runMvm(defaultScript(), function* (mvm, t) {
      t.rfKillAsserted = () => true;
      expect(yield* mvm.start()).toBe(-132);
    });
    expect(shape(power.mvm.lifecycle)).toBe('rfkill over none');
    expect(power.mvm.state).toBe('rfkill');

    const shapes: string[] = [];
    const rs: number[] = [];
    const res = runMvm(apScript(), function* (mvm) {
      yield* mvm.start();
      yield* mvm.scan();
      yield* mvm.connect('simnet');
      mvm.rfKill(true);
      shapes.push(shape(mvm.lifecycle));
      rs.push(yield* mvm.scan(), mvm.xmit(new Uint8Array(60)));
      mvm.rfKill(false);
      shapes.push(shape(mvm.lifecycle));
      rs.push(yield* mvm.scan());
    });
    expect(shapes).toEqual(['rfkill over running', 'runtime idle']);
    expect(rs).toEqual([-132, -100, 1]);
    expect(res.logs).toContain('info iwlwifi 0000:03:00.0: wlan0: link lost (RF-kill)');
  });

  it('a firmware error lands in dead, keeps RF-kill as a fact there, and a shutdown keeps it dead', () => {
    const shapes: string[] = [];
    const rs: number[] = [];
    let statusAfter = '';
    const res = runMvm(apScript(), function* (mvm) {
      yield* mvm.start();
      yield* mvm.scan();
      yield* mvm.connect('simnet');
      mvm.nicError('sw', 0x2000000);
      shapes.push(shape(mvm.lifecycle));
      mvm.rfKill(true);
      shapes.push(shape(mvm.lifecycle));
      mvm.rfKill(false);
      rs.push(yield* mvm.scan(), yield* mvm.connect('simnet'), mvm.xmit(new Uint8Array(60)));
      statusAfter = mvm.statusText();
      yield* mvm.shutdown();
      shapes.push(shape(mvm.lifecycle));
      rs.push(yield* mvm.scan());
    });
    expect(shapes).toEqual(['dead', 'dead rfkill', 'stopped fwDead']);
    expect(rs).toEqual([-5, -5, -100, -5]);
    expect(statusAfter).toBe('state=error\nssid=\nbssid=\nchannel=\nmac=00:1b:21:aa:bb:cc\n');
    expect(res.logs).toContain('info iwlwifi 0000:03:00.0: wlan0: link lost (firmware error)');
    // The dead firmware is not stopped again at shutdown.
    expect(res.trans.events.filter((e) => e === 'stopDevice')).toHaveLength(1);
  });

  it('a firmware error during the INIT image: start fails and the op mode stays dead after the stop', () => {
    const s = defaultScript();
    s.initComplete = false;
    let r = 0;
    const res = runMvm(s, function* (mvm, t) {
      const { sendCmd } = t;
      t.sendCmd = function* (cmd) {
        const x = yield* sendCmd.call(t, cmd);
        if (cmd.id === CMD.PHY_CONFIGURATION) t.op!.nicError('hw', 0x20000000);
        return x;
      };
      r = yield* mvm.start();
    });
    expect(r).toBeLessThan(0);
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: firmware died during INIT calibrations');
    expect(shape(res.mvm.lifecycle)).toBe('dead');
    expect(res.mvm.state).toBe('error');
    expect(res.trans.events).not.toContain('startFw:runtime');
  });
});
