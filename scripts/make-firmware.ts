/**
 * Writes simrun's own 7265D firmware images to fixtures/firmware/:
 * iwlwifi-7265D-<api>.ucode for API 22, 24, 26, 27 and 29, plus a README
 * describing them. The images are real TLV ucode files whose sections hold
 * simrun's self-checking SIMF payloads (docs/FIRMWARE.md), not vendor code.
 * Output is byte-identical on every run (no clock, no randomness).
 *   npx tsx scripts/make-firmware.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  API, CAPA, CMD_VER_UNKNOWN, UCODE_FLAG, UCODE_TYPE, buildFirmware, emptyImage, encodeVer,
  makeSimfSections, SIMRUN_CAPA, type FirmwareImage, type SectionLayout,
} from '../src/devices/iwlwifi/firmware/index.js';

export const FIRMWARE_FIXTURE_DIR = join('fixtures', 'firmware');

/** What changes from one fixture version to the next. */
interface Variant {
  api: number;
  serial: number;
  build: number;
  capabilities: number[];
  apiFlags: number[];
  flags: number;
  nScanChannels: number;
  wowlan: boolean;
  cmdVersions: boolean;
  /** Serial whose section sizes the image uses (default: its own); the history set keeps one layout. */
  layoutSerial?: number;
}

const BASE_CAPA = [CAPA.UMAC_SCAN, CAPA.TXPOWER_INSERTION_SUPPORT, CAPA.DS_PARAM_SET_IE_SUPPORT];
const BASE_FLAGS = UCODE_FLAG.NEWSCAN | UCODE_FLAG.MFP | UCODE_FLAG.UAPSD_SUPPORT;

export const VARIANTS: readonly Variant[] = [
  { api: 22, serial: 1, build: 22001, capabilities: BASE_CAPA, apiFlags: [API.FRAGMENTED_SCAN], flags: BASE_FLAGS,
    nScanChannels: 40, wowlan: false, cmdVersions: false },
  { api: 24, serial: 2, build: 24002, capabilities: [...BASE_CAPA, CAPA.LAR_SUPPORT, CAPA.WFA_TPC_REP_IE_SUPPORT],
    apiFlags: [API.FRAGMENTED_SCAN, API.WIFI_MCC_UPDATE], flags: BASE_FLAGS | UCODE_FLAG.EBS_SUPPORT,
    nScanChannels: 40, wowlan: false, cmdVersions: false },
  { api: 26, serial: 3, build: 26003,
    capabilities: [...BASE_CAPA, CAPA.LAR_SUPPORT, CAPA.WFA_TPC_REP_IE_SUPPORT, CAPA.RADIO_BEACON_STATS, CAPA.QUIET_PERIOD_SUPPORT, CAPA.EXTENDED_DTS_MEASURE],
    apiFlags: [API.FRAGMENTED_SCAN, API.WIFI_MCC_UPDATE], flags: BASE_FLAGS | UCODE_FLAG.EBS_SUPPORT | UCODE_FLAG.BCAST_FILTERING,
    nScanChannels: 52, wowlan: false, cmdVersions: false },
  { api: 27, serial: 4, build: 27004,
    capabilities: [...BASE_CAPA, CAPA.LAR_SUPPORT, CAPA.WFA_TPC_REP_IE_SUPPORT, CAPA.RADIO_BEACON_STATS, CAPA.QUIET_PERIOD_SUPPORT,
      CAPA.TDLS_SUPPORT, CAPA.EXTENDED_DTS_MEASURE, CAPA.SHORT_PM_TIMEOUTS],
    apiFlags: [API.FRAGMENTED_SCAN, API.WIFI_MCC_UPDATE, API.LQ_SS_PARAMS],
    flags: BASE_FLAGS | UCODE_FLAG.EBS_SUPPORT | UCODE_FLAG.BCAST_FILTERING | UCODE_FLAG.P2P_PS_UAPSD,
    nScanChannels: 52, wowlan: true, cmdVersions: false },
  { api: 29, serial: 5, build: 29005,
    capabilities: [...BASE_CAPA, CAPA.LAR_SUPPORT, CAPA.WFA_TPC_REP_IE_SUPPORT, CAPA.RADIO_BEACON_STATS, CAPA.QUIET_PERIOD_SUPPORT,
      CAPA.TDLS_SUPPORT, CAPA.LAR_MULTI_MCC, CAPA.EXTENDED_DTS_MEASURE, CAPA.SHORT_PM_TIMEOUTS, CAPA.CT_KILL_BY_FW],
    apiFlags: [API.FRAGMENTED_SCAN, API.WIFI_MCC_UPDATE, API.LQ_SS_PARAMS, API.SCAN_TSF_REPORT],
    flags: BASE_FLAGS | UCODE_FLAG.EBS_SUPPORT | UCODE_FLAG.BCAST_FILTERING | UCODE_FLAG.P2P_PS_UAPSD,
    nScanChannels: 52, wowlan: true, cmdVersions: true },
];

/** First serial of the history set whose firmware has the planted regression. */
export const HISTORY_FIRST_BAD = 6;

/**
 * A release history of API-29 firmware, 29.0.29.1 to 29.0.29.8, for
 * `simrun bisect --variants` (fixtures/variants/wifi-firmware-history.json).
 * All share one SRAM layout; from 29.0.29.6 on the image carries the simrun
 * quirk FAULT_NO_INIT_COMPLETE: the INIT image calibrates and then never
 * reports INIT_COMPLETE, which the driver sees only as a timeout.
 */
export const HISTORY: readonly Variant[] = [1, 2, 3, 4, 5, 6, 7, 8].map((serial) => ({
  ...VARIANTS[VARIANTS.length - 1]!,
  serial,
  build: 29000 + serial * 11,
  layoutSerial: 5,
  capabilities: serial >= HISTORY_FIRST_BAD ? [...VARIANTS[VARIANTS.length - 1]!.capabilities, SIMRUN_CAPA.FAULT_NO_INIT_COMPLETE] : VARIANTS[VARIANTS.length - 1]!.capabilities,
}));

/**
 * An API-29 image from a later firmware branch that announces newer command
 * layouts (fixtures/firmware/newer-api/): ADD_STA v10 (API flag STA_TYPE),
 * SCAN_REQ_UMAC v7 (ADAPTIVE_DWELL), BINDING_CONTEXT v2 with lmac_id
 * (capability BINDING_CDB_SUPPORT) and concurrent dual band (CDB_SUPPORT).
 * A driver must pick each layout from these TLVs; the simulated firmware
 * speaks exactly the layouts its image announces.
 */
export const NEWER_API: Variant = {
  ...VARIANTS[VARIANTS.length - 1]!,
  serial: 12,
  build: 29120,
  layoutSerial: 5,
  capabilities: [...VARIANTS[VARIANTS.length - 1]!.capabilities, CAPA.BINDING_CDB_SUPPORT, CAPA.CDB_SUPPORT],
  apiFlags: [...VARIANTS[VARIANTS.length - 1]!.apiFlags, API.STA_TYPE, API.ADAPTIVE_DWELL],
};
export const NEWER_API_DIR = 'newer-api';

/** Directory of one history version, relative to FIRMWARE_FIXTURE_DIR. */
export function historyDir(v: Variant): string {
  return `history/${v.api}.0.${v.api}.${v.serial}`;
}

/** PHY_SKU: radio type 2, step 1, dash 1, TX chains A+B (0x3), RX chains A+B (0x3). */
export const PHY_SKU_7265D = 0x00330016;

/** SRAM layout of each image (dest, total section bytes); sizes grow a little with the serial. */
export function layouts(v: Variant): { init: SectionLayout[]; runtime: SectionLayout[]; wowlan: SectionLayout[] } {
  const s = v.layoutSerial ?? v.serial;
  return {
    init: [
      { dest: 0x00000000, size: 0x8000 + 0x100 * s },   // instruction memory
      { dest: 0x00800000, size: 0x2000 },               // data memory
      { dest: 0x00456000, size: 0x600 + 0x40 * s },     // LMAC shared memory
    ],
    runtime: [
      { dest: 0x00000000, size: 0x20000 + 0x1000 + 0x100 * s }, // > 0x20000: two service-channel chunks
      { dest: 0x00800000, size: 0x4000 + 0x80 * s },
      { dest: 0x00040000, size: 0x3000 },                       // 0x40000-0x57FFF: LMPM_CHICK extended address space
      { dest: 0x00456000, size: 0x1000 },
    ],
    wowlan: v.wowlan
      ? [{ dest: 0x00000000, size: 0x1000 }, { dest: 0x00800000, size: 0x800 }]
      : [],
  };
}

export function fileName(api: number): string {
  return `iwlwifi-7265D-${api}.ucode`;
}

/** The image of one variant. */
export function makeImage(v: Variant): FirmwareImage {
  const version = { major: v.api, minor: 0, api: v.api, serial: v.serial };
  const ver = encodeVer(version);
  const img = emptyImage(`simrun 7265D test firmware ${v.api}.0.${v.api}.${v.serial} (not Intel)`, version, v.build);
  const l = layouts(v);
  // The code knows what it can do: every section carries the file's capability words.
  img.sections.init = makeSimfSections('init', ver, v.build, l.init, v.capabilities, v.apiFlags);
  img.sections.runtime = makeSimfSections('runtime', ver, v.build, l.runtime, v.capabilities, v.apiFlags);
  img.sections.wowlan = l.wowlan.length > 0 ? makeSimfSections('wowlan', ver, v.build, l.wowlan, v.capabilities, v.apiFlags) : [];
  img.flags = v.flags >>> 0;
  img.capabilities = new Set(v.capabilities);
  img.apiFlags = new Set(v.apiFlags);
  img.phySku = PHY_SKU_7265D;
  img.numCpus = 1;
  img.nScanChannels = v.nScanChannels;
  img.fwVersion = { major: v.api, minor: v.serial, localComp: 0 };
  img.defCalib = [
    { ucodeType: UCODE_TYPE.REGULAR, flowTrigger: 0x00000000, eventTrigger: 0x0000001f },
    { ucodeType: UCODE_TYPE.INIT, flowTrigger: 0x0003ffff, eventTrigger: 0x0003ffff },
  ];
  // simrun addition (real 7265D files have no CMD_VERSIONS): ALIVE is notification version 3.
  img.cmdVersions = v.cmdVersions ? [{ cmd: 0x01, group: 0x01, version: CMD_VER_UNKNOWN, notifVersion: 3 }] : [];
  return img;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function capaNames(bits: readonly number[]): string {
  const byNumber = new Map<number, string>(Object.entries(CAPA).map(([k, n]) => [n, k]));
  return [...bits].sort((a, b) => a - b).map((b) => `${byNumber.get(b) ?? '?'} (${b})`).join(', ');
}

function apiNames(bits: readonly number[]): string {
  const byNumber = new Map<number, string>(Object.entries(API).map(([k, n]) => [n, k]));
  return [...bits].sort((a, b) => a - b).map((b) => `${byNumber.get(b) ?? '?'} (${b})`).join(', ');
}

/** fixtures/firmware/README.md, generated with the images so it cannot drift. */
export function makeReadme(files: readonly { name: string; variant: Variant; bytes: Uint8Array }[]): string {
  const lines: string[] = [];
  lines.push(
    '# Firmware images for the simulated Intel 7265D',
    '',
    'These are **simrun\'s own images, not Intel firmware and not vendor blobs**. They',
    'use the real iwlwifi TLV ucode file format (header, TLVs, section TLVs with SRAM',
    'destinations, capability words), so a real driver\'s parser accepts them, but the',
    'section bytes are simrun\'s self-checking "SIMF" payloads (header, CRC-32,',
    'deterministic filler) that the simulated firmware CPU verifies after the host',
    'loaded them. See docs/FIRMWARE.md.',
    '',
    'Generated by `npx tsx scripts/make-firmware.ts` (byte-identical on every run;',
    'the tests regenerate them in memory and compare). Do not edit by hand.',
    '',
    '| file | version | build | bytes | INIT sections | runtime sections | WoWLAN sections | N_SCAN_CHANNELS |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const f of files) {
    const v = f.variant;
    const l = layouts(v);
    const secs = (ls: SectionLayout[]): string => ls.length === 0 ? '-' : ls.map((s) => `${hex(s.dest)}+${hex(s.size)}`).join(', ');
    lines.push(`| ${f.name} | ${v.api}.0.${v.api}.${v.serial} | ${v.build} | ${f.bytes.length} | ${secs(l.init)} | ${secs(l.runtime)} | ${secs(l.wowlan)} | ${v.nScanChannels} |`);
  }
  lines.push(
    '',
    'Common to all: PHY_SKU ' + hex(PHY_SKU_7265D) + ' (TX and RX chains A+B), NUM_OF_CPU 1, FW_VERSION',
    '{ major = API, minor = serial, local_comp = 0 }, DEF_CALIB for the regular image',
    '(flow 0x00000000, event 0x0000001f) and the INIT image (flow and event 0x0003ffff),',
    'no PAGING. The runtime image\'s first section is larger than 0x20000 bytes (two',
    'service-channel chunks) and one runtime section goes to 0x00040000 (the',
    'LMPM_CHICK extended address range 0x40000-0x57FFF).',
    '',
    '## Release history (for bisect)',
    '',
    '`history/29.0.29.<n>/iwlwifi-7265D-29.ucode`, n = 1..8: one firmware release per',
    'directory, all with the same SRAM layout. From 29.0.29.' + HISTORY_FIRST_BAD + ' on, the images carry',
    'the simrun capability FAULT_NO_INIT_COMPLETE (125): the INIT image calibrates',
    'and never sends INIT_COMPLETE. `fixtures/variants/wifi-firmware-history.json`',
    'bisects over them.',
    '',
    '## Newer command layouts',
    '',
    '`' + NEWER_API_DIR + '/' + fileName(NEWER_API.api) + '` (' + `${NEWER_API.api}.0.${NEWER_API.api}.${NEWER_API.serial}` + ', build ' + NEWER_API.build + ') is the API-29 image',
    'of a later firmware branch. Besides the capabilities of iwlwifi-7265D-29.ucode it',
    'announces BINDING_CDB_SUPPORT (39) and CDB_SUPPORT (40) and the API flags STA_TYPE',
    '(30) and ADAPTIVE_DWELL (32), so a driver must send BINDING_CONTEXT v2 (28 bytes,',
    'with lmac_id), ADD_STA v10 (48 bytes, with station_type) and SCAN_REQ_UMAC v7',
    '(adaptive dwell, channels at byte 48). The simulated firmware running it refuses',
    'the older layouts. `fixtures/scenarios/wifi-connect-newer-api.json` connects with it.',
    '',
    '## Capabilities and API flags',
    '',
  );
  for (const f of files) {
    const v = f.variant;
    lines.push(
      `- **${f.name}**: capabilities ${capaNames(v.capabilities)}; API flags ${apiNames(v.apiFlags)}; FLAGS ${hex(v.flags >>> 0)}` +
        (v.cmdVersions ? '; CMD_VERSIONS { ALIVE (0x01, group 1): notification version 3 } (a simrun addition: real 7265D files have no CMD_VERSIONS)' : '') + '.',
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** Every fixture file (name relative to FIRMWARE_FIXTURE_DIR) and its bytes. */
export function makeFirmwareFixtures(): { name: string; bytes: Uint8Array }[] {
  const images = VARIANTS.map((variant) => ({ name: fileName(variant.api), variant, bytes: buildFirmware(makeImage(variant)) }));
  const history = HISTORY.map((variant) => ({ name: `${historyDir(variant)}/${fileName(variant.api)}`, bytes: buildFirmware(makeImage(variant)) }));
  return [
    ...images.map(({ name, bytes }) => ({ name, bytes })),
    ...history,
    { name: `${NEWER_API_DIR}/${fileName(NEWER_API.api)}`, bytes: buildFirmware(makeImage(NEWER_API)) },
    { name: 'README.md', bytes: new TextEncoder().encode(makeReadme(images)) },
  ];
}

if (process.argv[1]?.endsWith('make-firmware.ts')) {
  mkdirSync(FIRMWARE_FIXTURE_DIR, { recursive: true });
  for (const f of makeFirmwareFixtures()) {
    mkdirSync(dirname(join(FIRMWARE_FIXTURE_DIR, f.name)), { recursive: true });
    writeFileSync(join(FIRMWARE_FIXTURE_DIR, f.name), f.bytes);
    process.stdout.write(`wrote ${join(FIRMWARE_FIXTURE_DIR, f.name)} (${f.bytes.length} bytes)\n`);
  }
}
