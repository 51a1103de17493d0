/**
 * `--device` options, QEMU style: `type[,key=value]...`, e.g.
 * `nvme,serial=deadbeef,drive=fixtures/disks/nvme-8m.img`. A literal comma
 * in a value is written `,,` (as in QEMU). Keys:
 *   id=<name>        device id (default <type><n>: nvme0, nvme1, ...)
 *   addr=<slot>[.fn] PCI slot (and function), hex as in QEMU (addr=04.0)
 *   bdf=bb:dd.f      the full PCI address instead of addr
 *   drive=<file>     the disk image: the device's `image` prop (or `disks` for a multi-disk device)
 *   <prop>=<value>   any prop of the device type (`simrun devices` lists them)
 * Devices without an address go to slots 04, 05, ... (the first free ones).
 */
import { InputError } from '../../sim/errors.js';
import { findDeviceFactory, DEVICE_FACTORIES } from '../../devices/registry.js';
import { checkDeviceBdf } from '../scenario.js';
import { formatBdf, parseBdf } from '../../devices/pci/bdf.js';

export interface DeviceDeclJson {
  type: string;
  id: string;
  bdf: string;
  props: Record<string, unknown>;
}

/** Splits on single commas; `,,` is a literal comma. */
export function splitDeviceSpec(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i]!;
    if (ch === ',' && spec[i + 1] === ',') { cur += ','; i++; continue; }
    if (ch === ',') { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out;
}

function bad(n: number, spec: string, msg: string): never {
  throw new InputError('--device', `#${n + 1} (${spec.length > 60 ? `${spec.slice(0, 57)}...` : spec})`, msg);
}

function parseAddr(v: string): string | undefined {
  const m = /^([0-9a-f]{1,2})(?:\.([0-7]))?$/i.exec(v);
  if (m === null) return undefined;
  const slot = parseInt(m[1]!, 16);
  if (slot > 31) return undefined;
  return formatBdf({ bus: 0, device: slot, fn: m[2] === undefined ? 0 : Number(m[2]) });
}

/** The machine-section device list for these `--device` specs. Throws InputError naming the option. */
export function parseDeviceSpecs(specs: readonly string[]): DeviceDeclJson[] {
  const decls: (DeviceDeclJson & { auto: boolean })[] = [];
  const counts = new Map<string, number>();
  specs.forEach((spec, n) => {
    const parts = splitDeviceSpec(spec);
    const type = parts[0] ?? '';
    const factory = findDeviceFactory(type);
    if (factory === undefined) bad(n, spec, `unknown device type "${type}" (known: ${DEVICE_FACTORIES.map((f) => f.type).join(', ')})`);
    const k = counts.get(type) ?? 0;
    counts.set(type, k + 1);
    let id = `${type}${k}`;
    let bdf: string | undefined;
    const props: Record<string, unknown> = {};
    for (const part of parts.slice(1)) {
      const eq = part.indexOf('=');
      if (eq <= 0) bad(n, spec, `"${part}" is not key=value`);
      const key = part.slice(0, eq);
      const value = part.slice(eq + 1);
      if (key === 'id') {
        if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(value)) bad(n, spec, `id "${value}" must start with a letter and hold only letters, digits, - and _ (at most 32)`);
        id = value;
        continue;
      }
      if (key === 'addr' || key === 'bdf') {
        const b = key === 'addr' ? parseAddr(value) : (parseBdf(value).ok ? value.toLowerCase() : undefined);
        if (b === undefined) bad(n, spec, key === 'addr' ? `addr "${value}" is not a slot[.fn] in hex (e.g. 04 or 04.0)` : `bdf "${value}" is not bb:dd.f`);
        const err = checkDeviceBdf(b);
        if (err !== undefined) bad(n, spec, err);
        bdf = b;
        continue;
      }
      let name = key;
      if (key === 'drive') {
        if ('image' in factory.props) name = 'image';
        else if ('disks' in factory.props) name = 'disks';
        else bad(n, spec, `a ${type} has no disk image (drive=)`);
      }
      const p = factory.props[name];
      if (p === undefined) bad(n, spec, `unknown property "${key}" of ${type} (known: id, addr, bdf, drive, ${Object.keys(factory.props).join(', ')})`);
      if (p.type === 'number') {
        const v = /^0x[0-9a-f]+$/i.test(value) ? parseInt(value.slice(2), 16) : /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
        if (!Number.isFinite(v)) bad(n, spec, `${key}: "${value}" is not a number`);
        props[name] = v;
      } else if (p.type === 'boolean') {
        const t = value.toLowerCase();
        if (['on', 'true', 'yes', '1'].includes(t)) props[name] = true;
        else if (['off', 'false', 'no', '0'].includes(t)) props[name] = false;
        else bad(n, spec, `${key}: "${value}" is not on/off`);
      } else props[name] = value;
    }
    if (decls.some((d) => d.id === id)) bad(n, spec, `id "${id}" is used by another device`);
    decls.push({ type, id, bdf: bdf ?? '', props, auto: bdf === undefined });
  });
  // Devices without an address: the first free slots from 04.
  let slot = 4;
  for (const d of decls) {
    if (!d.auto) continue;
    while (decls.some((x) => x.bdf === formatBdf({ bus: 0, device: slot, fn: 0 }))) slot++;
    if (slot > 31) throw new InputError('--device', d.id, 'no free PCI slot left on bus 00');
    d.bdf = formatBdf({ bus: 0, device: slot, fn: 0 });
  }
  const seen = new Set<string>();
  for (const [n, d] of decls.entries()) {
    if (seen.has(d.bdf)) bad(n, specs[n]!, `PCI address ${d.bdf} is used by another device`);
    seen.add(d.bdf);
  }
  return decls.map(({ type, id, bdf, props }) => ({ type, id, bdf, props }));
}
