/** Public surface of the PCI layer. */
export type { BarKind, BarSpec, CapabilityWindow, MsiSpec, MsixSpec, PciFunctionSpec, PciInterrupts, PmSpec, VendorCapSpec } from './api.js';
export { PciFunction, type PciFunctionOptions, type PciInterruptMode, type PciBarState } from './function.js';
export { PciHostBridge, HOST_BRIDGE_SPEC, ECAM_BUS_SIZE, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT, type PciHostBridgeOptions } from './host-bridge.js';
export { assignPciResources, PciResourceError, type PciAssignment, type PciResourceOptions, type PciConfigAccess } from './resources.js';
export { parseBdf, formatBdf, bdfKey, bdfFromKey, compareBdf, checkBdf, type Bdf, type BdfParseResult } from './bdf.js';
export { pciConfigRegName, pciConfigRegFields, msixTableFieldName, type PciCapLayout } from './regs.js';
