/**
 * The guest errors a PCI function records for any PCI device: code -> meaning
 * and spec section. The `dma.*` codes are recorded by the device's DMA port
 * (src/sim/dma.ts), whose bus-master gate is the function's Command register;
 * `msi.bad-message` is also recorded by the interrupt fabric (src/sim/irq.ts)
 * for a message the function sent.
 */
import type { GuestErrorCatalogue } from '../device.js';

export const PCI_GUEST_ERRORS = {
  'pci.bar-overlap': {
    meaning: 'A BAR was programmed (with its decode enabled) to a window that overlaps RAM or another decoded window; the BAR does not decode',
    spec: 'PCI Local Bus 3.0 6.2.5.1',
  },
  'pci.bar-unreachable': {
    meaning: 'A BAR holds an address this machine cannot reach (above the address or I/O space); the BAR does not decode',
    spec: 'PCI Local Bus 3.0 6.2.5.1',
  },
  'pci.msi-no-bus-master': {
    meaning: 'An MSI/MSI-X message could not be sent because Bus Master Enable is clear (MSI-X: held pending in the PBA; MSI: lost); reported once per function reset',
    spec: 'PCI Local Bus 3.0 6.2.2, 6.8.1',
  },
  'pci.pm-bar-access': {
    meaning: 'An MMIO or I/O access to a BAR of a function that is not in D0 (PMCSR PowerState D3hot, or a claimed D1/D2): decode is off, a read returns all-ones and a write is dropped; on PCI Express the request is an Unsupported Request (Device Status UR Detected)',
    spec: 'PCI PM 1.2 5.3, 5.4; PCIe 3.0 5.3.1.4.1, 2.3.1',
  },
  'pci.pm-interrupt': {
    meaning: 'The device tried to signal an interrupt (MSI/MSI-X message or INTx assertion) while its function is not in D0: only PME messages are sent outside D0; MSI-X (and maskable MSI) stays pending and is sent on return to D0, INTx is asserted on return to D0 if still requested',
    spec: 'PCI PM 1.2 5.3; PCIe 3.0 5.3.1.4.1',
  },
  'pci.pm-recovery': {
    meaning: 'An access to the function before the minimum recovery time after a PowerState change (10 ms into or out of D3hot, 200 us for D2): config accesses complete, BAR reads return all-ones and BAR writes are dropped (the function is not ready)',
    spec: 'PCI PM 1.2 5.6.1 (table 5-6); PCIe 3.0 5.3.1.4',
  },
  'pci.pm-bad-state': {
    meaning: 'A PMCSR PowerState write names a state the PM capability does not claim (D1/D2 without D1_Support/D2_Support) or a transition that is not allowed (D3hot to D1/D2, D2 to D1); the write completes and the state is unchanged',
    spec: 'PCI PM 1.2 3.2.4, 5.4',
  },
  'msi.bad-vector': {
    meaning: 'The device signalled an MSI vector not below the number of vectors the driver enabled (Multiple Message Enable); not sent',
    spec: 'PCI Local Bus 3.0 6.8.1.3',
  },
  'msi.bad-message': {
    meaning: 'The MSI/MSI-X Message Address programmed by the driver is outside the interrupt window (above 4 GiB, or not naming a core and vector); not delivered',
    spec: 'PCI Local Bus 3.0 6.8.1.4-6.8.1.6, 6.8.2.4',
  },
  'msix.bad-vector': {
    meaning: 'The device signalled an MSI-X vector outside the table size the function declares; not sent',
    spec: 'PCI Local Bus 3.0 6.8.2.3',
  },
  'dma.power-state': {
    meaning: 'The device attempted DMA while its function is not in D0 (PMCSR PowerState D3hot, or a claimed D1/D2): a function outside D0 initiates no requests but PME messages; the transfer is refused',
    spec: 'PCI PM 1.2 5.3; PCIe 3.0 5.3.1.4.1',
  },
  'dma.no-bus-master': {
    meaning: 'The device attempted DMA while Bus Master Enable is clear in the Command register; the transfer is refused',
    spec: 'PCI Local Bus 3.0 6.2.2',
  },
  'dma.unmapped': {
    meaning: 'DMA to or from memory the driver never allocated for DMA (an address the driver programmed into the device is wrong); the transfer is refused',
    spec: 'simrun DMA model (docs: DESIGN.md "Devices")',
  },
  'dma.freed': {
    meaning: 'Sanitizer (machine option sanitize): a refused DMA hit memory the driver had freed or unmapped (dma_free_coherent, dma_unmap_single, physfree); recorded after dma.unmapped, naming the freeing call, process and time. Memory already handed out again cannot be told apart and is not reported',
    spec: 'simrun boundary sanitizer (README "Sanitizers"); Linux Documentation/core-api/dma-api.rst (no device access after unmap/free)',
  },
  'dma.fault': {
    meaning: 'A DMA transfer failed by injected fault (DmaPort.faults, a test hook); the device sees the transfer refused',
    spec: 'simrun DMA fault injection (src/sim/dma.ts DmaFaults)',
  },
} as const satisfies GuestErrorCatalogue;

/** A guest-error code the PCI layer may record. */
export type PciGuestErrorCode = keyof typeof PCI_GUEST_ERRORS;
