/**
 * Builds a function's power-on configuration space from its `PciFunctionSpec`:
 * the type-0 header, the BAR registers, and the capability list (PM, MSI,
 * MSI-X, PCI Express, in that order, each at a 16-byte aligned offset from
 * 0x40). Also validates the spec: a bad spec is a programming error in a
 * device model and throws, naming the function and the field.
 */
import type { BarSpec, PciFunctionSpec } from './api.js';
import { ConfigSpace } from './config-space.js';
import * as R from './regs.js';

/** Decoded facts about one implemented BAR. */
export interface BarInfo {
  spec: BarSpec;
  /** Config offset of the (low) BAR register. */
  reg: number;
  /** Guest-writable address bits of the low dword (0 for a 64-bit BAR of 4 GiB or more). */
  lowWmask: number;
  /** Guest-writable bits of the high dword (64-bit BARs only). */
  highWmask: number;
  /** Read-only type bits in the low dword. */
  typeBits: number;
}

export interface ConfigLayout {
  space: ConfigSpace;
  caps: R.PciCapLayout;
  bars: BarInfo[];
  /** MSI field offsets (absolute), or -1. */
  msiData: number;
  msiMask: number;
  msiPending: number;
}

const TWO32 = 2 ** 32;

export function validateSpec(name: string, spec: PciFunctionSpec): void {
  const fail = (field: string, why: string): never => {
    throw new Error(`PCI function ${name}: ${field}: ${why}`);
  };
  const u = (field: string, v: number, bits: number) => {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) fail(field, `must be a ${bits}-bit unsigned integer, got ${v}`);
  };
  u('vendorId', spec.vendorId, 16);
  if (spec.vendorId === 0xffff) fail('vendorId', '0xffff means "no function" and cannot be used');
  u('deviceId', spec.deviceId, 16);
  u('revision', spec.revision, 8);
  u('classCode', spec.classCode, 24);
  u('subsystemVendorId', spec.subsystemVendorId, 16);
  u('subsystemId', spec.subsystemId, 16);
  if (!Number.isInteger(spec.interruptPin) || spec.interruptPin < 0 || spec.interruptPin > 4) {
    fail('interruptPin', `must be 0 (none) or 1..4 (INTA#..INTD#), got ${spec.interruptPin}`);
  }
  const used = new Array<boolean>(6).fill(false);
  for (const b of spec.bars) {
    const f = `bars[${b.index}]`;
    if (!Number.isInteger(b.index) || b.index < 0 || b.index > 5) fail('bars', `BAR index ${b.index} is not 0..5`);
    const regs = b.kind === 'mem64' ? 2 : 1;
    if (b.index + regs > 6) fail(f, 'a 64-bit BAR needs two registers; index 5 has no upper half');
    for (let i = b.index; i < b.index + regs; i++) {
      if (used[i]) fail(f, `BAR register ${i} is already used by another BAR`);
      used[i] = true;
    }
    if (!Number.isInteger(b.size) || b.size <= 0 || !Number.isInteger(Math.log2(b.size))) {
      fail(f, `size ${b.size} is not a power of two`);
    }
    switch (b.kind) {
      case 'io':
        if (b.size < 4 || b.size > 256) fail(f, `I/O BAR size ${b.size} must be 4..256 bytes (PCI 3.0 6.2.5.1)`);
        if (b.prefetchable) fail(f, 'an I/O BAR cannot be prefetchable');
        break;
      case 'mem32':
        if (b.size < 16 || b.size > 2 ** 31) fail(f, `32-bit memory BAR size ${b.size} must be 16 B..2 GiB`);
        break;
      case 'mem64':
        if (b.size < 16 || b.size > 2 ** 48) fail(f, `64-bit memory BAR size ${b.size} must be 16 B..256 TiB`);
        break;
      default:
        fail(f, `unknown BAR kind ${String(b.kind)}`);
    }
  }
  for (const [i, r] of (spec.configRegs ?? []).entries()) {
    const f = `configRegs[${i}]`;
    if (![1, 2, 4].includes(r.size)) fail(f, `size ${r.size} must be 1, 2 or 4`);
    if (!Number.isInteger(r.offset) || r.offset < R.CFG_HEADER_END || r.offset + r.size > R.CFG_SPACE_SIZE || r.offset % r.size !== 0) {
      fail(f, `offset 0x${r.offset.toString(16)} must be aligned to its size and inside 0x40..0xff`);
    }
  }
  const pm = spec.capabilities.pm;
  if (typeof pm === 'object') {
    const pme = pm.pmeSupport ?? 0;
    if (!Number.isInteger(pme) || pme < 0 || pme > 0x1f) fail('capabilities.pm.pmeSupport', `must be a 5-bit mask (D0, D1, D2, D3hot, D3cold), got ${pme}`);
    if ((pme & 2) !== 0 && pm.d1 !== true) fail('capabilities.pm.pmeSupport', 'claims PME from D1, which is not supported (d1)');
    if ((pme & 4) !== 0 && pm.d2 !== true) fail('capabilities.pm.pmeSupport', 'claims PME from D2, which is not supported (d2)');
  }
  const msi = spec.capabilities.msi;
  if (msi !== undefined && ![1, 2, 4, 8, 16, 32].includes(msi.vectors)) {
    fail('capabilities.msi.vectors', `must be 1, 2, 4, 8, 16 or 32, got ${msi.vectors}`);
  }
  const msix = spec.capabilities.msix;
  if (msix !== undefined) {
    if (!Number.isInteger(msix.tableSize) || msix.tableSize < 1 || msix.tableSize > 2048) {
      fail('capabilities.msix.tableSize', `must be 1..2048, got ${msix.tableSize}`);
    }
    const tableBytes = msix.tableSize * R.MSIX_ENTRY_SIZE;
    const pbaBytes = Math.ceil(msix.tableSize / 64) * 8;
    const check = (what: string, bar: number, offset: number, len: number): BarSpec => {
      const b = spec.bars.find((x) => x.index === bar);
      if (b === undefined) return fail(`capabilities.msix.${what}Bar`, `BAR ${bar} is not implemented`);
      if (b.kind === 'io') fail(`capabilities.msix.${what}Bar`, `BAR ${bar} is an I/O BAR; the MSI-X ${what} must be in memory space`);
      if (!Number.isInteger(offset) || offset < 0 || offset % 8 !== 0) {
        fail(`capabilities.msix.${what}Offset`, `0x${offset.toString(16)} must be QWORD aligned (PCI 3.0 6.8.2.4)`);
      }
      if (offset + len > b.size) fail(`capabilities.msix.${what}Offset`, `the ${what} (0x${len.toString(16)} bytes at 0x${offset.toString(16)}) does not fit in BAR ${bar} (0x${b.size.toString(16)} bytes)`);
      return b;
    };
    check('table', msix.tableBar, msix.tableOffset, tableBytes);
    check('pba', msix.pbaBar, msix.pbaOffset, pbaBytes);
    if (msix.tableBar === msix.pbaBar && msix.tableOffset < msix.pbaOffset + pbaBytes && msix.pbaOffset < msix.tableOffset + tableBytes) {
      fail('capabilities.msix', 'the table and the PBA overlap');
    }
  }
}

export function buildConfigLayout(name: string, spec: PciFunctionSpec): ConfigLayout {
  validateSpec(name, spec);
  const caps = spec.capabilities;
  const space = new ConfigSpace(caps.pcie ? R.CFG_EXT_SPACE_SIZE : R.CFG_SPACE_SIZE);
  const s = space;

  // ---- Header (PCI 3.0 6.2) ----
  s.put16(R.CFG_VENDOR_ID, spec.vendorId);
  s.put16(R.CFG_DEVICE_ID, spec.deviceId);
  s.put8(R.CFG_REVISION_ID, spec.revision);
  s.put8(R.CFG_CLASS_PROG_IF, spec.classCode & 0xff);
  s.put8(R.CFG_CLASS_SUB, (spec.classCode >>> 8) & 0xff);
  s.put8(R.CFG_CLASS_BASE, (spec.classCode >>> 16) & 0xff);
  s.put16(R.CFG_SUBSYSTEM_VENDOR_ID, spec.subsystemVendorId);
  s.put16(R.CFG_SUBSYSTEM_ID, spec.subsystemId);
  s.put8(R.CFG_INTERRUPT_PIN, spec.interruptPin);

  const hasIo = spec.bars.some((b) => b.kind === 'io');
  const hasMem = spec.bars.some((b) => b.kind !== 'io');
  s.setWritable(R.CFG_COMMAND, 2, (hasIo ? R.CMD_IO : 0) | (hasMem ? R.CMD_MEMORY : 0) | R.CMD_BUS_MASTER
    | R.CMD_PARITY_ERROR_RESPONSE | R.CMD_SERR | R.CMD_INTX_DISABLE);
  s.setW1c(R.CFG_STATUS, 2, R.STS_W1C_MASK);
  s.setWritable(R.CFG_CACHE_LINE_SIZE, 1, 0xff);
  // PCIe 3.0 7.5.1.4: the Latency Timer does not apply to PCI Express and is hardwired to 0.
  if (!caps.pcie) s.setWritable(R.CFG_LATENCY_TIMER, 1, 0xff);
  s.setWritable(R.CFG_INTERRUPT_LINE, 1, 0xff);

  // ---- BARs (PCI 3.0 6.2.5.1) ----
  const bars: BarInfo[] = [];
  for (const b of [...spec.bars].sort((x, y) => x.index - y.index)) {
    const reg = R.CFG_BAR0 + 4 * b.index;
    let typeBits: number;
    let lowWmask: number;
    let highWmask = 0;
    if (b.kind === 'io') {
      typeBits = R.BAR_IO_SPACE;
      lowWmask = (R.BAR_IO_ADDR_MASK & ~(b.size - 1)) >>> 0;
    } else {
      typeBits = (b.kind === 'mem64' ? R.BAR_MEM_TYPE_64 : 0) | (b.prefetchable ? R.BAR_MEM_PREFETCH : 0);
      lowWmask = b.size >= TWO32 ? 0 : (R.BAR_MEM_ADDR_MASK & ~(b.size - 1)) >>> 0;
      if (b.kind === 'mem64') highWmask = b.size > TWO32 ? (~(b.size / TWO32 - 1)) >>> 0 : 0xffffffff;
    }
    s.put32(reg, typeBits);
    s.setWritable(reg, 4, lowWmask);
    if (b.kind === 'mem64') s.setWritable(reg + 4, 4, highWmask);
    bars.push({ spec: b, reg, lowWmask, highWmask, typeBits });
  }

  // ---- Capabilities ----
  const layout: R.PciCapLayout = { pm: -1, msi: -1, msi64: false, msiMask: false, msix: -1, pcie: -1 };
  let next = R.CFG_HEADER_END;
  let prevNextPtr = R.CFG_CAP_PTR;
  const regs = spec.configRegs ?? [];
  for (const r of regs) {
    for (let k = 0; k < r.size; k++) s.put8(r.offset + k, Math.floor(r.value / 2 ** (8 * k)) & 0xff);
    if (r.writable !== undefined && r.writable !== 0) s.setWritable(r.offset, r.size, r.writable);
  }
  const place = (id: number, size: number, align = 16): number => {
    // Device-specific registers keep their offsets: a capability goes after any it would overlap.
    for (let moved = true; moved;) {
      moved = false;
      for (const r of regs) {
        if (next < r.offset + r.size && r.offset < next + size) {
          next = (r.offset + r.size + align - 1) & ~(align - 1);
          moved = true;
        }
      }
    }
    if (next + size > R.CFG_SPACE_SIZE) throw new Error(`PCI function ${name}: capabilities do not fit below 0x100 around configRegs`);
    const at = next;
    s.put8(prevNextPtr, at);
    s.put8(at, id);
    s.put8(at + 1, 0);
    prevNextPtr = at + 1;
    next = at + ((size + align - 1) & ~(align - 1));
    return at;
  };

  if (caps.pm) {
    // PCI PM 1.2, 3.2.3-3.2.4: version 1.2; `pm: true` claims D0 and D3hot only, No_Soft_Reset, no PME.
    const pm = caps.pm === true ? {} : caps.pm;
    const pme = pm.pmeSupport ?? 0;
    const at = place(R.CAP_ID_PM, R.PM_CAP_SIZE);
    layout.pm = at;
    s.put16(at + R.PM_PMC, R.PMC_VERSION_1_2 | (pm.d1 === true ? R.PMC_D1_SUPPORT : 0) | (pm.d2 === true ? R.PMC_D2_SUPPORT : 0)
      | (pme << R.PMC_PME_SUPPORT_SHIFT));
    s.put16(at + R.PM_PMCSR, pm.noSoftReset === false ? 0 : R.PMCSR_NO_SOFT_RESET);
    // PME_En is RW only where PME is supported (3.2.4: otherwise it may be hardwired 0).
    s.setWritable(at + R.PM_PMCSR, 2, R.PMCSR_POWER_STATE_MASK | (pme !== 0 ? R.PMCSR_PME_EN : 0));
    s.setW1c(at + R.PM_PMCSR, 2, R.PMCSR_PME_STATUS);
  }

  let msiData = -1;
  let msiMask = -1;
  let msiPending = -1;
  if (caps.msi) {
    const m = caps.msi;
    const ml = R.msiLayout(m.is64, m.perVectorMask);
    const at = place(R.CAP_ID_MSI, R.MSI_CAP_MAX_SIZE);
    layout.msi = at;
    layout.msi64 = m.is64;
    layout.msiMask = m.perVectorMask;
    const mmc = Math.log2(m.vectors);
    s.put16(at + R.MSI_CONTROL, (mmc << R.MSI_CTRL_MMC_SHIFT) | (m.is64 ? R.MSI_CTRL_64BIT : 0)
      | (m.perVectorMask ? R.MSI_CTRL_PER_VECTOR_MASK : 0));
    s.setWritable(at + R.MSI_CONTROL, 2, R.MSI_CTRL_ENABLE | R.MSI_CTRL_MME_MASK);
    // PCI 3.0 6.8.1.4: the message address is DWORD aligned, bits 1:0 read 0.
    s.setWritable(at + R.MSI_ADDRESS_LO, 4, 0xfffffffc);
    if (m.is64) s.setWritable(at + R.MSI_ADDRESS_HI, 4, 0xffffffff);
    msiData = at + ml.data;
    s.setWritable(msiData, 2, 0xffff);
    if (m.perVectorMask) {
      msiMask = at + ml.mask;
      msiPending = at + ml.pending;
      // PCI 3.0 6.8.1.8: one mask bit per vector the function is capable of.
      s.setWritable(msiMask, 4, m.vectors === 32 ? 0xffffffff : (1 << m.vectors) - 1);
    }
  }

  if (caps.msix) {
    const x = caps.msix;
    const at = place(R.CAP_ID_MSIX, R.MSIX_CAP_SIZE);
    layout.msix = at;
    s.put16(at + R.MSIX_CONTROL, x.tableSize - 1);
    s.setWritable(at + R.MSIX_CONTROL, 2, R.MSIX_CTRL_ENABLE | R.MSIX_CTRL_FUNCTION_MASK);
    s.put32(at + R.MSIX_TABLE, x.tableOffset | x.tableBar);
    s.put32(at + R.MSIX_PBA, x.pbaOffset | x.pbaBar);
  }

  if (caps.pcie) {
    // PCIe 3.0 7.8: capability version 2, PCI Express Endpoint, x4 at 8 GT/s.
    const at = place(R.CAP_ID_PCIE, R.PCIE_CAP_SIZE);
    layout.pcie = at;
    s.put16(at + R.PCIE_CAPS, 0x0002);
    s.put32(at + R.PCIE_DEVCAP, R.PCIE_DEVCAP_MPS_256 | R.PCIE_DEVCAP_EXT_TAG | R.PCIE_DEVCAP_ROLE_BASED_ERR | R.PCIE_DEVCAP_FLR);
    // Reset value: Relaxed Ordering and No Snoop enabled, MPS 128 B, MRRS 512 B (7.8.4).
    s.put16(at + R.PCIE_DEVCTL, R.PCIE_DEVCTL_RELAXED_ORDERING | R.PCIE_DEVCTL_NO_SNOOP | (2 << 12));
    s.setWritable(at + R.PCIE_DEVCTL, 2, R.PCIE_DEVCTL_CORR_ERR_EN | R.PCIE_DEVCTL_NONFATAL_ERR_EN
      | R.PCIE_DEVCTL_FATAL_ERR_EN | R.PCIE_DEVCTL_UR_EN | R.PCIE_DEVCTL_RELAXED_ORDERING | R.PCIE_DEVCTL_MPS_MASK
      | R.PCIE_DEVCTL_EXT_TAG | R.PCIE_DEVCTL_NO_SNOOP | R.PCIE_DEVCTL_MRRS_MASK);
    s.setW1c(at + R.PCIE_DEVSTA, 2, R.PCIE_DEVSTA_W1C_MASK);
    // Link Capabilities: Max Link Speed 8 GT/s (3), Max Link Width x4, no ASPM, ASPM Optionality Compliance.
    s.put32(at + R.PCIE_LINKCAP, 0x3 | (4 << 4) | (1 << 22));
    s.setWritable(at + R.PCIE_LINKCTL, 2, R.PCIE_LINKCTL_ASPM_MASK | R.PCIE_LINKCTL_COMMON_CLOCK | R.PCIE_LINKCTL_EXTENDED_SYNCH);
    // Link Status: 8 GT/s, x4, Slot Clock Configuration.
    s.put16(at + R.PCIE_LINKSTA, 0x3 | (4 << 4) | (1 << 12));
    // Device Capabilities 2: Completion Timeout Disable supported, no ranges, no LTR/ARI/atomics.
    s.put32(at + R.PCIE_DEVCAP2, 1 << 4);
    s.setWritable(at + R.PCIE_DEVCTL2, 2, R.PCIE_DEVCTL2_COMPLETION_TIMEOUT_DISABLE);
    // Link Capabilities 2: Supported Link Speeds 2.5, 5 and 8 GT/s.
    s.put32(at + R.PCIE_LINKCAP2, 0x7 << 1);
    s.put16(at + R.PCIE_LINKCTL2, 0x3);
    s.setWritable(at + R.PCIE_LINKCTL2, 2, R.PCIE_LINKCTL2_TARGET_SPEED_MASK | R.PCIE_LINKCTL2_HW_AUTONOMOUS_SPEED_DISABLE);
    // Link Status 2: equalization complete, phases 1-3 successful.
    s.put16(at + R.PCIE_LINKSTA2, 0x1e);
  }
  if (caps.vendor !== undefined && caps.vendor.length > 0) {
    // Vendor-specific capabilities (PCI 3.0 H.1) follow, packed at dword boundaries (6.7: pointers are dword aligned).
    layout.vendor = [];
    for (const [i, v] of caps.vendor.entries()) {
      const size = 2 + v.body.length;
      if (next + size > R.CFG_SPACE_SIZE) {
        throw new Error(`PCI function ${name}: capabilities.vendor[${i}]: ${size} bytes at 0x${next.toString(16)} do not fit below 0x100`);
      }
      const at = place(R.CAP_ID_VENDOR, size, 4);
      layout.vendor.push(at);
      v.body.forEach((b, k) => s.put8(at + 2 + k, b));
      v.writable?.forEach((m, k) => { if (k < v.body.length) s.setWritable(at + 2 + k, 1, m); });
    }
  }
  // Extended space (0x100+) stays 0: an extended capability header of 0 means none (PCIe 3.0 7.9.1).

  if (next > R.CFG_HEADER_END) s.put16(R.CFG_STATUS, R.STS_CAP_LIST);
  s.snapshot();
  return { space, caps: layout, bars, msiData, msiMask, msiPending };
}
