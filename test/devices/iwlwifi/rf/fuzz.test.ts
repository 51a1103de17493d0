import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ETHERTYPE_ARP, ETHERTYPE_IPV4, buildArp, buildAssocRequest, buildAuth, buildPing, buildProbeRequest, buildToDsData,
  parseData, parseIpv4, parseMgmt, parseRsn,
} from '../../../../src/devices/iwlwifi/rf/index.js';
import { MS, SIMNET, STA, air, join } from './helpers.js';

const CHANNELS = [1, 6, 11, 36, 44];

/** Valid frames the station could send, as seeds for mutation. */
function seeds(): Uint8Array[] {
  const staIp = parseIpv4('192.168.50.23')!;
  const apIp = parseIpv4('192.168.50.1')!;
  return [
    buildProbeRequest(STA, null, 6),
    buildProbeRequest(STA, 'simnet', 6, 0, SIMNET),
    buildAuth(SIMNET, STA, SIMNET, 0, 1, 0),
    buildAssocRequest(STA, SIMNET, { ssid: 'simnet', channel: 6 }),
    buildToDsData(SIMNET, STA, SIMNET, ETHERTYPE_ARP, buildArp(1, STA, staIp, new Uint8Array(6), apIp)),
    buildToDsData(SIMNET, STA, SIMNET, ETHERTYPE_IPV4, buildPing(staIp, apIp, 1, 1, new Uint8Array(16))),
  ];
}

const mutated = fc.tuple(fc.nat(5), fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(250))
  .map(([i, edits, cut]) => {
    const f = seeds()[i]!.slice();
    for (const [pos, v] of edits) if (pos < f.length) f[pos] = v;
    return cut < f.length && cut % 3 === 0 ? f.subarray(0, cut) : f;
  });

const anyFrame = fc.oneof(fc.uint8Array({ maxLength: 3000 }), mutated);

describe('fuzz', () => {
  it('Air.transmit and Air.listen never throw, whatever the bytes, and replies parse', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...CHANNELS), anyFrame), { maxLength: 12 }), fc.boolean(), (sends, joined) => {
      const a = air(1);
      if (joined) join(a, 6, SIMNET, 'simnet');
      let t = 10 * MS;
      for (const [ch, f] of sends) {
        const r = a.transmit(ch, t, f);
        for (const rep of r.replies) {
          expect(rep.timePs).toBeGreaterThan(t);
          expect(parseMgmt(rep.data) ?? parseData(rep.data)).toBeDefined();
        }
        a.listen(ch, t, t + MS, f);
        t += 2 * MS;
      }
    }), { numRuns: 400 });
  });

  it('parseRsn never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => { parseRsn(b); }));
  });
});
