/**
 * The PCIe transport half of the Intel Wireless 7265D model (iwlwifi gen1):
 * CSR/HBUS/FH registers, PRPH and SRAM, the service channel, TX queues, the
 * RX ring and interrupts. The firmware CPU (../fw) plugs in through
 * FirmwareCpu / FirmwareHost (../fw-cpu-api.ts).
 *
 * DMA tags: 'iwl.fw-chunk' (service-channel chunk), 'iwl.tfd' / 'iwl.tb'
 * (TX descriptors and their buffers), 'iwl.rbd' (RX buffer descriptor),
 * 'iwl.rx' (RX packets and end markers), 'iwl.rb-stts' (RB status),
 * 'iwl.ict' (ICT entries).
 * Milestones: 'fw.chunk' (dest, bytes), 'cpu.release' (load, chunks),
 * 'sw-reset', 'reset' (2 = function reset), 'nmi', 'rfkill' (1/0),
 * 'txq.inactive' (queue, reasons), 'rx.dropped' (cmd, reason),
 * 'fault.corrupt-chunk' (SRAM address, chunk), 'fault.lost-rx-irq' (n, INT).
 */
export { IwlTransport, NO_FAULTS, type TransportFaults } from './transport.js';
export type { CorruptChunkFault } from './fh-service.js';
export { InactiveReason } from './tx-queues.js';
export { RxDrop } from './rx-ring.js';
export { SRAM_REGIONS } from './sram.js';
export { scdQueueAddr, QREG_RDPTR, QREG_STATUS, QREG_WRPTR } from './prph.js';
