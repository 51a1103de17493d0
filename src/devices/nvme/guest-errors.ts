/**
 * The guest errors the nvme model records: code -> meaning and spec section
 * (NVMe Base Specification 1.4). The PCI function's own codes (config
 * space, BARs, MSI/MSI-X, DMA) are in ../pci/guest-errors.ts.
 */
import type { GuestErrorCatalogue } from '../device.js';

export const NVME_GUEST_ERRORS = {
  // ---- Controller registers (3.1)
  'nvme.mmio.width': {
    meaning: 'A register access that is not an aligned dword: a read returns the addressed bytes, a write is dropped',
    spec: 'NVMe 1.4 3.1',
  },
  'nvme.reg.reserved': {
    meaning: 'A write to a reserved or unimplemented BAR0 offset (between the registers, or above the doorbells); ignored',
    spec: 'NVMe 1.4 3.1',
  },
  'nvme.reg.read-only': {
    meaning: 'A write to a read-only register (CAP, VS); ignored',
    spec: 'NVMe 1.4 3.1.1, 3.1.2',
  },
  'nvme.intms.msix': {
    meaning: 'INTMS/INTMC written while MSI-X is enabled, where they are undefined; ignored (mask through the MSI-X table)',
    spec: 'NVMe 1.4 3.1.3, 3.1.4',
  },
  'nvme.cc.reserved': {
    meaning: 'A CC write sets reserved bits; they read 0',
    spec: 'NVMe 1.4 3.1.5',
  },
  'nvme.cc.locked': {
    meaning: 'A CC write while CC.EN=1 changes fields other than EN and SHN; those fields keep their value',
    spec: 'NVMe 1.4 3.1.5',
  },
  'nvme.cc.enable-during-reset': {
    meaning: 'CC.EN set to 1 after a disable before CSTS.RDY returned to 0; the pending reset is completed first',
    spec: 'NVMe 1.4 3.1.5, 7.6.1',
  },
  'nvme.cc.enable-invalid': {
    meaning: 'CC.EN set to 1 with an invalid configuration (CSS, MPS, AMS, IOSQES/IOCQES, AQA sizes, ASQ/ACQ unset or unaligned); the controller does not become ready and sets CSTS.CFS',
    spec: 'NVMe 1.4 3.1.5, 3.1.8-3.1.10, 7.6.1',
  },
  'nvme.csts.read-only': {
    meaning: 'A CSTS write sets bits other than NSSRO (the only write-1-to-clear field); they are ignored',
    spec: 'NVMe 1.4 3.1.6',
  },
  'nvme.nssr.value': {
    meaning: 'NSSR written with a value other than 4E564D65h ("NVMe"); no subsystem reset',
    spec: 'NVMe 1.4 3.1.7',
  },
  'nvme.aqa.reserved': {
    meaning: 'An AQA write sets reserved bits (31:28, 15:12); they read 0',
    spec: 'NVMe 1.4 3.1.8',
  },
  'nvme.aq.reserved': {
    meaning: 'An ASQ/ACQ write sets bits 11:0, which are reserved (the base is page aligned); they read 0',
    spec: 'NVMe 1.4 3.1.9, 3.1.10',
  },
  // ---- Doorbells (3.1.24, 3.1.25)
  'nvme.doorbell.width': {
    meaning: 'A doorbell write that is not an aligned dword; dropped',
    spec: 'NVMe 1.4 3.1, 3.1.24, 3.1.25',
  },
  'nvme.doorbell.not-ready': {
    meaning: 'A doorbell written while the controller is not ready (CSTS.RDY=0) or in fatal status; ignored',
    spec: 'NVMe 1.4 3.1.6, 7.6.1',
  },
  'nvme.doorbell.invalid-queue': {
    meaning: 'A doorbell of a queue that does not exist; ignored, Asynchronous Event "Invalid Doorbell Register"',
    spec: 'NVMe 1.4 3.1.24, 3.1.25, 5.2.1',
  },
  'nvme.doorbell.invalid-value': {
    meaning: 'A doorbell value beyond the queue size, or an SQ tail overrunning unfetched entries; ignored, Asynchronous Event "Invalid Doorbell Write Value" (a CQ head past the posted entries is the same event, recorded as nvme.cqe.consumed-unposted or nvme.cqe.consumed-twice)',
    spec: 'NVMe 1.4 3.1.24, 3.1.25, 5.2.1',
  },
  // ---- Completion entries consumed (CQ head doorbell, 3.1.25; recorded with or without sanitizers: the spec makes them errors)
  'nvme.cqe.consumed-unposted': {
    meaning: 'A CQ head doorbell moves the head past the tail: the host consumed completion entries the controller has not posted yet (a phase tag read wrong, e.g. inverted from the start, or a head counted ahead of the entries read); the message says whether the slot past the tail holds a completion of the previous pass or was never written. Ignored, Asynchronous Event "Invalid Doorbell Write Value"',
    spec: 'NVMe 1.4 3.1.25, 4.6 (phase tag), 5.2.1 (Invalid Doorbell Write Value: an entry removed from an empty Completion Queue)',
  },
  'nvme.cqe.consumed-twice': {
    meaning: 'A CQ head doorbell moves the head backwards, which read forward wraps around past the tail (the new head lies nearer the old head than the tail): the host walked again over completion entries it had already consumed (a stale head written by a second reaper, a phase tag not inverted when its head wrapped). Ignored, Asynchronous Event "Invalid Doorbell Write Value"',
    spec: 'NVMe 1.4 3.1.25, 4.6 (phase tag), 5.2.1 (Invalid Doorbell Write Value: more entries removed than the Completion Queue holds)',
  },
  // ---- Submission entries (sanitizer: machine option `sanitize`, README "Sanitizers"; off by default)
  'nvme.sqe.changed-after-doorbell': {
    meaning: 'Sanitizer: a submission entry changed between the SQ tail doorbell that made it available and the controller fetching it (the driver rang the doorbell before writing the command); the message names the queue, slot and changed fields. The fetched entry is executed as usual; on hardware the fetch may come first and run a half-written command',
    spec: 'NVMe 1.4 4.1, 7.2.1 (entries are made available by the tail doorbell and may be fetched at once)',
  },
  'nvme.sqe.not-written': {
    meaning: 'Sanitizer: an SQ tail doorbell made available an entry the driver did not write since the controller last fetched that slot (byte-identical to the previous entry there, or all zero in a slot never used since the queue was created); the stale entry is executed as usual',
    spec: 'NVMe 1.4 4.1, 3.1.24 (the tail marks entries the host has written)',
  },
  // ---- Controller fatal status
  'nvme.fatal': {
    meaning: 'The controller could not fetch a submission entry or post a completion (DMA refused: memory not mapped for DMA, or bus mastering off); CSTS.CFS=1, a controller reset is required',
    spec: 'NVMe 1.4 3.1.6, 9.5',
  },
  // ---- Commands completed with a host-mistake status ("nvme.cmd." + status name; 4.6.1.2)
  'nvme.cmd.invalid-opcode': {
    meaning: 'Command completed with Invalid Command Opcode: the admin or I/O opcode is not supported',
    spec: 'NVMe 1.4 4.6.1.2.1',
  },
  'nvme.cmd.invalid-field': {
    meaning: 'Command completed with Invalid Field in Command (unsupported CNS/feature/SEL, transfer beyond MDTS, PC=0, bad PRP entry, FUSE/PSDT set, an inactive NSID (1..NN, not the active namespace), ...)',
    spec: 'NVMe 1.4 4.6.1.2.1, 6.1.5',
  },
  'nvme.cmd.invalid-namespace': {
    meaning: 'Command completed with Invalid Namespace or Format: the NSID is invalid (0, above NN, or FFFFFFFFh where the command does not allow it)',
    spec: 'NVMe 1.4 4.6.1.2.1, 6.1.5',
  },
  'nvme.cmd.command-sequence-error': {
    meaning: 'Command completed with Command Sequence Error: Set Features Number of Queues after I/O queues were created',
    spec: 'NVMe 1.4 4.6.1.2.1, 5.21.1.7',
  },
  'nvme.cmd.prp-offset-invalid': {
    meaning: 'Command completed with PRP Offset Invalid: a PRP entry or PRP list is not aligned as required',
    spec: 'NVMe 1.4 4.3, 4.6.1.2.1',
  },
  'nvme.cmd.lba-out-of-range': {
    meaning: 'Command completed with LBA Out of Range: the LBAs go beyond the namespace size',
    spec: 'NVMe 1.4 4.6.1.2.1 (figure 129)',
  },
  'nvme.cmd.cq-invalid': {
    meaning: 'Create I/O Submission Queue completed with Completion Queue Invalid: the CQID does not name an I/O completion queue',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.4',
  },
  'nvme.cmd.invalid-qid': {
    meaning: 'Create/Delete I/O queue completed with Invalid Queue Identifier: the QID is 0, beyond the allocated queues, already in use, or does not exist',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.3-5.6',
  },
  'nvme.cmd.invalid-qsize': {
    meaning: 'Create I/O queue completed with Invalid Queue Size: QSIZE is 0 or above CAP.MQES',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.3, 5.4',
  },
  'nvme.cmd.invalid-interrupt-vector': {
    meaning: 'Create I/O Completion Queue completed with Invalid Interrupt Vector: the IV is not usable in the current interrupt mode',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.3',
  },
  'nvme.cmd.invalid-queue-deletion': {
    meaning: 'Delete I/O Completion Queue completed with Invalid Queue Deletion: submission queues still use the CQ',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.5',
  },
  'nvme.cmd.aer-limit-exceeded': {
    meaning: 'Asynchronous Event Request completed with Asynchronous Event Request Limit Exceeded: more than AERL+1 outstanding',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.2',
  },
  'nvme.cmd.invalid-log-page': {
    meaning: 'Get Log Page completed with Invalid Log Page: the log identifier is not supported',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.14',
  },
  'nvme.cmd.feature-not-saveable': {
    meaning: 'Set Features with SV=1 completed with Feature Identifier Not Saveable',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.21',
  },
  'nvme.cmd.feature-not-ns-specific': {
    meaning: 'Set Features naming a namespace for a feature that is not namespace specific completed with Feature Not Namespace Specific',
    spec: 'NVMe 1.4 4.6.1.2.2, 5.21',
  },
} as const satisfies GuestErrorCatalogue;

/** A guest-error code the nvme model may record. */
export type NvmeGuestErrorCode = keyof typeof NVME_GUEST_ERRORS;
