import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../../kernel/harness.js';
import { LinuxKpi } from '../../../../src/drivers/linux-kpi/kpi.js';
import { O_NONBLOCK, O_RDWR } from '../../../../src/kernel/types.js';
import { IwlMvm, MVM_CONFIG_DEFAULTS } from '../../../../src/drivers/iwlwifi/mvm/mvm.js';
import { IwlSchemes } from '../../../../src/drivers/iwlwifi/schemes.js';
import { readText, writeText } from '../../../../src/workloads/files.js';
import { AP_MAC, FakeTrans, PDEV, beacon, defaultScript, testImage } from './fake-trans.js';

describe('iwlwifi schemes', () => {
  it('serves wifictl and network.wlan0 to a client: scan, list, connect, send, receive, disconnect', () => {
    const h = bareKernel();
    const script = defaultScript();
    script.scanFrames = [{ channel: 6, energy: 40, frame: beacon({ bssid: AP_MAC, ssid: 'simnet', channel: 6 }) }];
    let mvm: IwlMvm | undefined;
    h.kernel.spawn('iwlwifi', function* (sys) {
      const k = new LinuxKpi(sys, 'iwlwifi');
      const t = new FakeTrans(k, script);
      mvm = new IwlMvm(k, PDEV, t, testImage(), MVM_CONFIG_DEFAULTS);
      t.op = mvm;
      expect(yield* mvm.start()).toBe(0);
      new IwlSchemes(k, PDEV, mvm, 'wlan0').start();
      yield* sys.kernel.block(sys.ctx);
    });
    const seen: unknown[] = [];
    let done = false;
    h.kernel.spawn('client', function* (sys) {
      yield* sys.sleep(100e9);
      seen.push(yield* readText(sys, 'wifictl:wlan0/mac'));
      seen.push(yield* readText(sys, 'wifictl:wlan0/nope'));
      seen.push(yield* writeText(sys, 'wifictl:wlan0/scan', 'scan'));
      seen.push(yield* readText(sys, 'wifictl:wlan0/networks'));
      seen.push(yield* writeText(sys, 'wifictl:wlan0/connect', 'nowhere'));
      const net = yield* sys.open('network.wlan0:', O_RDWR | O_NONBLOCK);
      seen.push(yield* sys.write(net, new Uint8Array(20))); // not connected
      seen.push(yield* writeText(sys, 'wifictl:wlan0/connect', 'simnet'));
      seen.push(yield* sys.write(net, new Uint8Array(5)));
      seen.push(yield* sys.write(net, new Uint8Array([...AP_MAC, 0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, 0x08, 0x00, 1, 2])));
      seen.push(yield* sys.read(net, new Uint8Array(100))); // nothing yet: EAGAIN
      mvm!.rxFrame(new Uint8Array([0x08, 0x02, 0, 0, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, ...AP_MAC, ...AP_MAC, 0x10, 0,
        0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 9]));
      const buf = new Uint8Array(100);
      const n = yield* sys.read(net, buf);
      seen.push([...buf.subarray(0, n)]);
      seen.push(yield* writeText(sys, 'wifictl:wlan0/disconnect', '1'));
      seen.push(yield* readText(sys, 'wifictl:wlan0/status'));
      done = true;
    });
    h.run(1e13, () => done);
    expect(h.kernel.crashes).toEqual([]);
    expect(seen).toEqual([
      '00:1b:21:aa:bb:cc\n', -2, 4, '02:11:22:33:44:55\tsimnet\t6\t-40\topen\n', -2, -100, 6, -22, 16, -11,
      [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, ...AP_MAC, 0x08, 0x00, 9], 1,
      'state=up\nssid=\nbssid=\nchannel=\nmac=00:1b:21:aa:bb:cc\n',
    ]);
  });
});
