/**
 * Bus/device/function addresses and their "bb:dd.f" text form (lower-case
 * hex, as lspci prints them).
 */
export interface Bdf {
  /** 0..255 */
  bus: number;
  /** 0..31 */
  device: number;
  /** 0..7 */
  fn: number;
}

export type BdfParseResult = { ok: true; bdf: Bdf } | { ok: false; error: string };

const HEX = /^[0-9a-fA-F]+$/;

/** "00:1f.3" */
export function formatBdf(b: Bdf): string {
  return `${b.bus.toString(16).padStart(2, '0')}:${b.device.toString(16).padStart(2, '0')}.${b.fn.toString(16)}`;
}

/** A 16-bit routing id, bus << 8 | device << 3 | fn: orders like BDF order. */
export function bdfKey(b: Bdf): number {
  return (b.bus << 8) | (b.device << 3) | b.fn;
}

export function bdfFromKey(key: number): Bdf {
  return { bus: (key >>> 8) & 0xff, device: (key >>> 3) & 0x1f, fn: key & 7 };
}

export function compareBdf(a: Bdf, b: Bdf): number {
  return bdfKey(a) - bdfKey(b);
}

/** Why `b` is not a valid address, or undefined if it is. */
export function checkBdf(b: Bdf): string | undefined {
  if (!Number.isInteger(b.bus) || b.bus < 0 || b.bus > 0xff) return `bus ${b.bus} is out of range 0..ff`;
  if (!Number.isInteger(b.device) || b.device < 0 || b.device > 31) return `device ${b.device} is out of range 0..1f (31)`;
  if (!Number.isInteger(b.fn) || b.fn < 0 || b.fn > 7) return `function ${b.fn} is out of range 0..7`;
  return undefined;
}

/**
 * Parses "bb:dd.f" (hex fields; an optional "0000:" PCI domain prefix is
 * accepted). On bad input returns a message saying which part is wrong.
 */
export function parseBdf(text: string): BdfParseResult {
  const fail = (why: string): BdfParseResult => ({ ok: false, error: `bad PCI address "${text}": ${why} (expected bb:dd.f, e.g. 00:1f.3)` });
  let s = text.trim();
  const parts = s.split(':');
  if (parts.length === 3) {
    const domain = parts[0]!;
    if (!HEX.test(domain)) return fail(`domain "${domain}" is not hex`);
    if (parseInt(domain, 16) !== 0) return fail('only PCI domain 0000 exists');
    s = `${parts[1]}:${parts[2]}`;
  } else if (parts.length !== 2) {
    return fail('expected one ":" between bus and device');
  }
  const colon = s.indexOf(':');
  const dot = s.indexOf('.', colon);
  if (dot < 0) return fail('expected "." between device and function');
  const busText = s.slice(0, colon);
  const devText = s.slice(colon + 1, dot);
  const fnText = s.slice(dot + 1);
  if (busText.length === 0 || busText.length > 2 || !HEX.test(busText)) return fail(`bus "${busText}" is not 1-2 hex digits`);
  if (devText.length === 0 || devText.length > 2 || !HEX.test(devText)) return fail(`device "${devText}" is not 1-2 hex digits`);
  if (fnText.length !== 1 || !HEX.test(fnText)) return fail(`function "${fnText}" is not one hex digit`);
  const bdf: Bdf = { bus: parseInt(busText, 16), device: parseInt(devText, 16), fn: parseInt(fnText, 16) };
  if (bdf.device > 31) return fail(`device 0x${devText} is above 1f (31)`);
  if (bdf.fn > 7) return fail(`function ${fnText} is above 7`);
  return { ok: true, bdf };
}
