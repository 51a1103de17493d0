/**
 * Just enough XML for JUnit reports: escaping for the writer, and a small
 * strict parser for `simrun merge-reports` (and the tests that check what
 * the writer produced). The parser accepts well-formed documents only:
 * one root element, matched tags, quoted and unique attributes, the five
 * predefined entities and numeric character references, comments, CDATA,
 * processing instructions and a DOCTYPE without an internal subset.
 * Anything else is an error naming the offset.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside this element (CDATA included), in order. */
  text: string;
}

export class XmlError extends Error {
  constructor(readonly offset: number, message: string) {
    super(`byte ${offset}: ${message}`);
    this.name = 'XmlError';
  }
}

/** Text as element content. Drops characters XML 1.0 forbids. */
export function xmlText(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** Text as a quoted attribute value: quotes escaped, and newlines and tabs kept (a parser would turn literal ones into spaces). */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

const NAME_START = /[A-Za-z_:\u00c0-\uffff]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00b7\u00c0-\uffff]/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Parses a whole document; returns its root element. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => { throw new XmlError(i, msg); };
  const startsWith = (s: string) => src.startsWith(s, i);
  const skipSpace = () => { while (i < src.length && /[ \t\r\n]/.test(src[i]!)) i++; };
  const expect = (s: string) => { if (!startsWith(s)) fail(`expected "${s}"`); i += s.length; };
  const until = (end: string, what: string): string => {
    const at = src.indexOf(end, i);
    if (at < 0) fail(`unterminated ${what}`);
    const s = src.slice(i, at);
    i = at + end.length;
    return s;
  };
  const name = (): string => {
    const start = i;
    if (i >= src.length || !NAME_START.test(src[i]!)) fail('expected a name');
    i++;
    while (i < src.length && NAME_CHAR.test(src[i]!)) i++;
    return src.slice(start, i);
  };
  const decode = (raw: string, at: number): string => raw.replace(/&([^;&\s]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw new XmlError(at, `"&" not starting an entity reference`);
    if (ent.startsWith('#x')) {
      const v = /^#x[0-9a-fA-F]+$/.test(ent) ? parseInt(ent.slice(2), 16) : NaN;
      if (!(v >= 1 && v <= 0x10ffff)) throw new XmlError(at, `bad character reference &${ent};`);
      return String.fromCodePoint(v);
    }
    if (ent.startsWith('#')) {
      const v = /^#[0-9]+$/.test(ent) ? Number(ent.slice(1)) : NaN;
      if (!(v >= 1 && v <= 0x10ffff)) throw new XmlError(at, `bad character reference &${ent};`);
      return String.fromCodePoint(v);
    }
    const e = ENTITIES[ent];
    if (e === undefined) throw new XmlError(at, `unknown entity &${ent};`);
    return e;
  });
  /** Comments, processing instructions and white space between markup. */
  const misc = (allowDoctype: boolean): void => {
    for (;;) {
      skipSpace();
      if (startsWith('<!--')) { i += 4; const c = until('-->', 'comment'); if (c.includes('--')) fail('"--" inside a comment'); }
      else if (startsWith('<?')) { i += 2; until('?>', 'processing instruction'); }
      else if (allowDoctype && startsWith('<!DOCTYPE')) { if (src.indexOf('[', i) >= 0 && src.indexOf('[', i) < src.indexOf('>', i)) fail('DOCTYPE internal subsets are not supported'); until('>', 'DOCTYPE'); }
      else return;
    }
  };
  const element = (): XmlElement => {
    expect('<');
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      skipSpace();
      if (startsWith('/>')) { i += 2; return el; }
      if (startsWith('>')) { i += 1; break; }
      if (i === before) fail(`expected white space, ">" or "/>" in <${el.name}>`);
      const key = name();
      skipSpace(); expect('='); skipSpace();
      const q = src[i];
      if (q !== '"' && q !== "'") fail(`attribute ${key} of <${el.name}>: value not quoted`);
      i++;
      const at = i;
      const raw = until(q!, `attribute ${key}`);
      if (raw.includes('<')) throw new XmlError(at, `attribute ${key} of <${el.name}>: "<" in a value`);
      if (Object.prototype.hasOwnProperty.call(el.attrs, key)) throw new XmlError(at, `attribute ${key} of <${el.name}> given twice`);
      el.attrs[key] = decode(raw, at);
    }
    for (;;) {
      if (i >= src.length) fail(`<${el.name}> is not closed`);
      if (startsWith('</')) {
        i += 2;
        const end = name();
        if (end !== el.name) fail(`</${end}> closes <${el.name}>`);
        skipSpace(); expect('>');
        return el;
      }
      if (startsWith('<!--')) { i += 4; if (until('-->', 'comment').includes('--')) fail('"--" inside a comment'); continue; }
      if (startsWith('<![CDATA[')) { i += 9; el.text += until(']]>', 'CDATA section'); continue; }
      if (startsWith('<?')) { i += 2; until('?>', 'processing instruction'); continue; }
      if (startsWith('<')) { el.children.push(element()); continue; }
      const at = i;
      const next = src.indexOf('<', i);
      const raw = src.slice(i, next < 0 ? src.length : next);
      i += raw.length;
      if (raw.includes(']]>')) throw new XmlError(at, '"]]>" in character data');
      el.text += decode(raw, at);
    }
  };
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  if (startsWith('<?xml')) { i += 5; until('?>', 'XML declaration'); }
  misc(true);
  if (!startsWith('<')) fail('expected the root element');
  const root = element();
  misc(false);
  if (i < src.length) fail('content after the root element');
  return root;
}

/** Child elements named `name`. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
