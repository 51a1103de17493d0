/**
 * Intel Wireless 7265D ("iwlwifi"): the PCIe adapter (./transport: CSR, FH,
 * scheduler, rings, ICT, interrupts), the firmware CPU behind it (./fw: what
 * the loaded image does), and the radio environment it hears (./rf).
 *
 * Faults are declared as props, so a scenario says which failure it wants;
 * where a fault needs a choice (which byte to corrupt), the device's seeded
 * RNG makes it. Hostile timing (machine option `hostileTiming`) varies the
 * transport's and the firmware's latencies from streams forked off the
 * device's RNG (transport/timing.ts HostileTiming, fw/hostile-timing.ts).
 */
import * as path from 'node:path';
import { DeviceConfigError, type DeviceFactory } from '../device.js';
import type { PropTable } from '../../sim/props.js';
import { InputError } from '../../sim/errors.js';
import { IWL_PCI } from './regs.js';
import { CMD, NVM_SKU, cmdGroup } from './fw-api.js';
import { IwlTransport, type TransportFaults } from './transport/index.js';
import { createFirmwareCpu, type FwFaults } from './fw/index.js';
import { Air } from './rf/air.js';
import { loadRfEnvironment } from './rf/environment.js';
import { isGroupAddr, parseMac } from './rf/frames.js';

import { iwlwifiDecoder } from './decode.js';
import { IWLWIFI_GUEST_ERRORS } from './guest-errors.js';
import { PCI_GUEST_ERRORS } from '../pci/guest-errors.js';

export { IwlTransport } from './transport/index.js';

export const iwlwifiProps = {
  rf: {
    type: 'string', default: '',
    doc: 'Radio environment file (fixtures/rf/*.json), relative to the machine file directory; empty = no access points in range',
  },
  mac: { type: 'string', default: '02:73:69:6d:00:01', doc: 'MAC address in the simulated NVM (HW section)' },
  sku: {
    type: 'number', default: NVM_SKU.BAND_24 | NVM_SKU.BAND_52 | NVM_SKU.N | NVM_SKU.AC, integer: true, min: 0, max: 0xffff,
    doc: 'NVM SKU word: bit 0 2.4 GHz, bit 1 5.2 GHz, bit 2 11n, bit 3 11ac',
  },
  rfKill: { type: 'boolean', default: false, doc: 'Fault: the hardware RF-kill switch is on from power-on (GP_CNTRL bit 27 = 0)' },
  faultCorruptSection: {
    type: 'enum', default: 'none', values: ['none', 'init', 'runtime'],
    doc: 'Fault: one byte of one firmware chunk of the INIT or runtime image is corrupted on its way into SRAM (chunk and byte picked by the seed)',
  },
  faultAlive: {
    type: 'enum', default: 'none', values: ['none', 'missing', 'bad-status'],
    doc: 'Fault: the firmware never posts ALIVE, or posts it with a status other than 0xCAFE',
  },
  faultHwError: {
    type: 'enum', default: 'none', values: ['none', 'init'],
    doc: 'Fault: a hardware error interrupt (CSR_INT bit 29) during the INIT flow, after PHY_CONFIGURATION',
  },
  faultLostRxIrq: {
    type: 'number', default: 0, integer: true, min: 0, max: 1_000_000,
    doc: 'Fault: the n-th RX interrupt after the first ALIVE is not delivered (its causes stay pending); 0 = off',
  },
  faultDmaError: {
    type: 'enum', default: 'none', values: ['none', 'rx'],
    doc: 'Fault: one RX transfer after the first ALIVE fails on the bus (which one is picked by the seed, 1-8): FH_INT bit 31 and CSR_INT.HW_ERR',
  },
  faultDelayCmd: {
    type: 'string', default: '',
    doc: 'Fault: the firmware answers this host command late: a name from the firmware API (e.g. "NVM_ACCESS") or an ID ("0x88"); empty = off',
  },
  faultDelayMs: { type: 'number', default: 2500, min: 0, max: 60_000, doc: 'How late the faultDelayCmd response comes (the driver gives up after 2000 ms)' },
} as const satisfies PropTable;

function parseMacProp(text: string): Uint8Array {
  const b = parseMac(text);
  if (b === undefined) throw new DeviceConfigError('mac', `"${text}" is not a MAC address such as 02:73:69:6d:00:01`);
  if (isGroupAddr(b)) throw new DeviceConfigError('mac', `"${text}" is a multicast address; a station needs a unicast one`);
  return b;
}

function parseCmdProp(text: string): number | undefined {
  if (text === '') return undefined;
  if (/^0x[0-9a-f]{1,2}$/i.test(text)) return parseInt(text, 16);
  const id = (CMD as Record<string, number>)[text.toUpperCase()];
  if (id === undefined) throw new DeviceConfigError('faultDelayCmd', `unknown command "${text}" (names: ${Object.keys(CMD).join(', ')}; or an ID such as 0x88)`);
  return id;
}

export const iwlwifiFactory: DeviceFactory<typeof iwlwifiProps> = {
  type: 'iwlwifi',
  description: 'Intel Wireless 7265D Wi-Fi adapter (iwlwifi 7000 family, gen1 PCIe transport) with a simulated firmware and radio environment',
  props: iwlwifiProps,
  pciIds: { vendorId: IWL_PCI.vendorId, deviceId: IWL_PCI.deviceId, classCode: IWL_PCI.classCode },
  decoder: iwlwifiDecoder,
  // PCI function rules (config space, BARs, MSI/MSI-X) are checked for every PCI device.
  guestErrors: { ...PCI_GUEST_ERRORS, ...IWLWIFI_GUEST_ERRORS },
  create(ctx, props) {
    const mac = parseMacProp(props.mac);
    const delayed = parseCmdProp(props.faultDelayCmd);
    let air: Air | null = null;
    if (props.rf !== '') {
      const file = path.resolve(ctx.baseDir, props.rf);
      try {
        air = new Air(loadRfEnvironment(file), ctx.rng.fork('air'));
      } catch (e) {
        if (e instanceof InputError) throw new DeviceConfigError('rf', e.message);
        throw e;
      }
    }
    const faultRng = ctx.rng.fork('faults');
    const tf: TransportFaults = {
      rfKill: props.rfKill,
      // The INIT image has at least three chunks and the runtime image five: pick among the first three.
      corruptChunk: props.faultCorruptSection === 'none' ? null
        : { load: props.faultCorruptSection === 'init' ? 0 : 1, chunk: faultRng.nextU32() % 3, byteSeed: faultRng.nextU32() },
      loseRxIrq: props.faultLostRxIrq,
      dmaErrorRx: props.faultDmaError === 'rx' ? 1 + (faultRng.nextU32() % 8) : 0,
    };
    const ff: FwFaults = {
      alive: props.faultAlive as FwFaults['alive'],
      hwErrorDuringInit: props.faultHwError === 'init',
      delayCmd: delayed === undefined ? null : { cmd: delayed, group: cmdGroup(delayed), delayMs: props.faultDelayMs },
    };
    const transport = new IwlTransport(ctx, tf);
    // Hostile timing (machine option): the transport and the firmware each draw from their own stream.
    const hostile = ctx.hostileTiming === true ? ctx.rng.fork('hostile-timing').fork('fw') : null;
    transport.attachFirmware(createFirmwareCpu(transport, { mac, sku: props.sku, air, rng: ctx.rng.fork('fw'), faults: ff, hostile }));
    return transport;
  },
};
