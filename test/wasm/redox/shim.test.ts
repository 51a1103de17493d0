/**
 * The `redox` import module against its two other descriptions: the Rust
 * declarations in guest/rust/redox-driver/src/sys.rs (same names; a blocking
 * import is one sys.rs documents as blocking) and the committed Rust modules
 * (built with every blocking import in their Asyncify list). Plus the symbol
 * demangling crash reports use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDOX_IMPORTS, demangle, PCI_INFO, REQUEST } from '../../../src/wasm/redox/shim.js';
import { REDOX_TABLES } from '../../../src/wasm/redox/tables.js';
import { blockingImportNames } from '../../../src/wasm/runtime/process.js';
import { loadDriverModule } from '../../../src/wasm/runtime/module.js';
import { ROOT } from '../../e2e/helpers.js';

const SYS_RS = readFileSync(join(ROOT, 'guest/rust/redox-driver/src/sys.rs'), 'utf8');

/** `pub fn name(` declarations of the extern block, with whether their doc comment says "Blocking". */
function rustImports(): Map<string, boolean> {
  const block = SYS_RS.slice(SYS_RS.indexOf('extern "C" {'));
  const out = new Map<string, boolean>();
  let doc = '';
  for (const line of block.split('\n')) {
    const t = line.trim();
    if (t.startsWith('///')) { doc += t; continue; }
    const m = /^pub fn (\w+)\(/.exec(t);
    if (m !== null) out.set(m[1]!, /Blocking/.test(doc));
    if (t !== '') doc = '';
  }
  return out;
}

describe('redox import module', () => {
  it('declares in Rust exactly what the shim implements, blocking where sys.rs says so', () => {
    const rust = rustImports();
    const ts = REDOX_IMPORTS.redox!;
    expect([...rust.keys()].sort()).toEqual(Object.keys(ts).sort());
    for (const [name, blocking] of rust) expect(ts[name]!.blocking === true, name).toBe(blocking);
  });

  it('the committed Rust modules were built with the current blocking imports (those they use)', () => {
    const blocking = blockingImportNames(REDOX_TABLES);
    expect(blocking).toContain('redox.irq_wait');
    for (const name of ['redox-selftest', 'nvmed']) {
      const m = loadDriverModule(join(ROOT, 'guest/modules', `${name}.wasm`));
      const used = WebAssembly.Module.imports(m.module).map((i) => `${i.module}.${i.name}`);
      expect([...m.asyncImports].sort(), name).toEqual(blocking.filter((b) => used.includes(b)));
      for (const imp of WebAssembly.Module.imports(m.module)) {
        if (imp.module === 'redox') expect(REDOX_IMPORTS.redox![imp.name], `${name} imports redox.${imp.name}`).toBeDefined();
      }
    }
  });

  it('keeps the struct layouts sys.rs declares (sizes)', () => {
    expect(SYS_RS).toContain('as `pci_config` writes it (144 bytes)');
    expect(PCI_INFO.size).toBe(144);
    expect(SYS_RS).toContain('A scheme request as `scheme_next` writes it (40 bytes)');
    expect(REQUEST.size).toBe(40);
  });

  it('demangles Rust symbols in crash reports', () => {
    expect(demangle('_ZN5nvmed4nvme4Nvme4init17h0123456789abcdefE (entered through main)')).toBe('nvmed::nvme::Nvme::init (entered through main)');
    expect(demangle('_ZN4core9panicking9panic_fmt17h8e8ee0a2a4d9e7d1E')).toBe('core::panicking::panic_fmt');
    expect(demangle('_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$3fmt17h0000000000000000E'))
      .toBe('<alloc::string::String as core::fmt::Display>::fmt');
    expect(demangle('selftest_probe')).toBe('selftest_probe');
  });
});
