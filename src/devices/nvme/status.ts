/**
 * Completion status values and opcode names (NVMe 1.4 4.6.1, 5, 6).
 *
 * A status travels as one number laid out like CQE DW3 bits 31:17 (the
 * Status Field without the phase tag): SC in bits 7:0, SCT in 10:8, CRD in
 * 12:11, M in 13, DNR in 14. The CQE's DW3 is then `cid | phase << 16 | status << 17`.
 */
import type { NvmeGuestErrorCode } from './guest-errors.js';

export const SCT_GENERIC = 0;
export const SCT_COMMAND_SPECIFIC = 1;
export const SCT_MEDIA = 2;
export const SCT_PATH = 3;
export const SCT_VENDOR = 7;

export const DNR = 1 << 14;
export const MORE = 1 << 13;

const cmd = (sc: number): number => (SCT_COMMAND_SPECIFIC << 8) | sc;

/** Status codes used by this model (SCT << 8 | SC); each host-mistake one has a guest-error code below. */
export const St = {
  SUCCESS: 0x00,
  // Generic Command Status (4.6.1.2.1, figure 128)
  INVALID_OPCODE: 0x01,
  INVALID_FIELD: 0x02,
  DATA_TRANSFER_ERROR: 0x04,
  INTERNAL_ERROR: 0x06,
  ABORT_REQUESTED: 0x07,
  ABORTED_SQ_DELETION: 0x08,
  INVALID_NAMESPACE: 0x0b,
  COMMAND_SEQUENCE_ERROR: 0x0c,
  PRP_OFFSET_INVALID: 0x13,
  // Generic Command Status, NVM command set (figure 129)
  LBA_OUT_OF_RANGE: 0x80,
  // Command Specific Status (4.6.1.2.2, figure 130)
  CQ_INVALID: cmd(0x00),
  INVALID_QID: cmd(0x01),
  INVALID_QSIZE: cmd(0x02),
  AER_LIMIT_EXCEEDED: cmd(0x05),
  INVALID_INTERRUPT_VECTOR: cmd(0x08),
  INVALID_LOG_PAGE: cmd(0x09),
  INVALID_QUEUE_DELETION: cmd(0x0c),
  FEATURE_NOT_SAVEABLE: cmd(0x0d),
  FEATURE_NOT_NS_SPECIFIC: cmd(0x0f),
} as const;

/** Statuses that may succeed on retry (no DNR): not a host mistake, no guestErr. */
type RetryableStatus = 'SUCCESS' | 'ABORT_REQUESTED' | 'ABORTED_SQ_DELETION' | 'DATA_TRANSFER_ERROR' | 'INTERNAL_ERROR';

/**
 * The guestErr code of each host-mistake status: "nvme.cmd." + statusCode(status)
 * (test/devices/guest-errors.test.ts checks both against withDnr and statusCode).
 */
export const CMD_GUEST_ERRORS: Record<Exclude<keyof typeof St, RetryableStatus>, NvmeGuestErrorCode> = {
  INVALID_OPCODE: 'nvme.cmd.invalid-opcode',
  INVALID_FIELD: 'nvme.cmd.invalid-field',
  INVALID_NAMESPACE: 'nvme.cmd.invalid-namespace',
  COMMAND_SEQUENCE_ERROR: 'nvme.cmd.command-sequence-error',
  PRP_OFFSET_INVALID: 'nvme.cmd.prp-offset-invalid',
  LBA_OUT_OF_RANGE: 'nvme.cmd.lba-out-of-range',
  CQ_INVALID: 'nvme.cmd.cq-invalid',
  INVALID_QID: 'nvme.cmd.invalid-qid',
  INVALID_QSIZE: 'nvme.cmd.invalid-qsize',
  AER_LIMIT_EXCEEDED: 'nvme.cmd.aer-limit-exceeded',
  INVALID_INTERRUPT_VECTOR: 'nvme.cmd.invalid-interrupt-vector',
  INVALID_LOG_PAGE: 'nvme.cmd.invalid-log-page',
  INVALID_QUEUE_DELETION: 'nvme.cmd.invalid-queue-deletion',
  FEATURE_NOT_SAVEABLE: 'nvme.cmd.feature-not-saveable',
  FEATURE_NOT_NS_SPECIFIC: 'nvme.cmd.feature-not-ns-specific',
};

const CMD_GUEST_ERROR_BY_STATUS = new Map<number, NvmeGuestErrorCode>(
  (Object.keys(CMD_GUEST_ERRORS) as Array<keyof typeof CMD_GUEST_ERRORS>).map((k) => [St[k], CMD_GUEST_ERRORS[k]]));

/** The guestErr code for completing with `status`, or undefined if the status is no host mistake (or not one this model returns). */
export function cmdGuestErrorCode(status: number): NvmeGuestErrorCode | undefined {
  return isGuestMistake(status) ? CMD_GUEST_ERROR_BY_STATUS.get(status & 0x7ff) : undefined;
}

/**
 * Do Not Retry policy: a status that names a host mistake will fail again,
 * so it carries DNR; aborts and transfer/internal errors may succeed on retry.
 */
export function withDnr(status: number): number {
  switch (status) {
    case St.SUCCESS:
    case St.ABORT_REQUESTED:
    case St.ABORTED_SQ_DELETION:
    case St.DATA_TRANSFER_ERROR:
    case St.INTERNAL_ERROR:
      return status;
    default:
      return status | DNR;
  }
}

/** True for statuses that report a host mistake (traced as guestErr). */
export function isGuestMistake(status: number): boolean {
  return (withDnr(status & 0x7ff) & DNR) !== 0;
}

const GENERIC_NAMES: Record<number, string> = {
  0x00: 'SUCCESS', 0x01: 'INVALID_OPCODE', 0x02: 'INVALID_FIELD', 0x03: 'CID_CONFLICT',
  0x04: 'DATA_TRANSFER_ERROR', 0x05: 'ABORTED_POWER_LOSS', 0x06: 'INTERNAL_ERROR',
  0x07: 'ABORT_REQUESTED', 0x08: 'ABORTED_SQ_DELETION', 0x09: 'ABORTED_FAILED_FUSED',
  0x0a: 'ABORTED_MISSING_FUSED', 0x0b: 'INVALID_NAMESPACE', 0x0c: 'COMMAND_SEQUENCE_ERROR',
  0x0d: 'INVALID_SGL_SEGMENT', 0x0e: 'INVALID_SGL_COUNT', 0x0f: 'DATA_SGL_LENGTH_INVALID',
  0x10: 'METADATA_SGL_LENGTH_INVALID', 0x11: 'SGL_TYPE_INVALID', 0x12: 'INVALID_CMB_USE',
  0x13: 'PRP_OFFSET_INVALID', 0x14: 'ATOMIC_WRITE_UNIT_EXCEEDED', 0x15: 'OPERATION_DENIED',
  0x16: 'SGL_OFFSET_INVALID', 0x18: 'HOST_ID_INCONSISTENT', 0x19: 'KEEP_ALIVE_EXPIRED',
  0x1a: 'KEEP_ALIVE_INVALID', 0x1b: 'ABORTED_PREEMPT', 0x1c: 'SANITIZE_FAILED',
  0x1d: 'SANITIZE_IN_PROGRESS', 0x1e: 'SGL_GRANULARITY_INVALID', 0x1f: 'NOT_SUPPORTED_FOR_CMB_QUEUE',
  0x20: 'NAMESPACE_WRITE_PROTECTED', 0x21: 'COMMAND_INTERRUPTED', 0x22: 'TRANSIENT_TRANSPORT_ERROR',
  0x80: 'LBA_OUT_OF_RANGE', 0x81: 'CAPACITY_EXCEEDED', 0x82: 'NAMESPACE_NOT_READY',
  0x83: 'RESERVATION_CONFLICT', 0x84: 'FORMAT_IN_PROGRESS',
};

const COMMAND_SPECIFIC_NAMES: Record<number, string> = {
  0x00: 'CQ_INVALID', 0x01: 'INVALID_QID', 0x02: 'INVALID_QSIZE', 0x03: 'ABORT_LIMIT_EXCEEDED',
  0x05: 'AER_LIMIT_EXCEEDED', 0x06: 'INVALID_FIRMWARE_SLOT', 0x07: 'INVALID_FIRMWARE_IMAGE',
  0x08: 'INVALID_INTERRUPT_VECTOR', 0x09: 'INVALID_LOG_PAGE', 0x0a: 'INVALID_FORMAT',
  0x0b: 'FW_ACTIVATION_NEEDS_CONVENTIONAL_RESET', 0x0c: 'INVALID_QUEUE_DELETION',
  0x0d: 'FEATURE_NOT_SAVEABLE', 0x0e: 'FEATURE_NOT_CHANGEABLE', 0x0f: 'FEATURE_NOT_NS_SPECIFIC',
  0x10: 'FW_ACTIVATION_NEEDS_NSSR', 0x11: 'FW_ACTIVATION_NEEDS_RESET', 0x12: 'FW_ACTIVATION_MAX_TIME',
  0x13: 'FW_ACTIVATION_PROHIBITED', 0x14: 'OVERLAPPING_RANGE', 0x15: 'NS_INSUFFICIENT_CAPACITY',
  0x16: 'NSID_UNAVAILABLE', 0x18: 'NS_ALREADY_ATTACHED', 0x19: 'NS_IS_PRIVATE', 0x1a: 'NS_NOT_ATTACHED',
  0x1b: 'THIN_PROVISIONING_UNSUPPORTED', 0x1c: 'CONTROLLER_LIST_INVALID', 0x1d: 'SELF_TEST_IN_PROGRESS',
  0x1e: 'BOOT_PARTITION_WRITE_PROHIBITED', 0x1f: 'INVALID_CONTROLLER_ID',
  0x80: 'CONFLICTING_ATTRIBUTES', 0x81: 'INVALID_PROTECTION_INFO', 0x82: 'WRITE_TO_READ_ONLY_RANGE',
};

const MEDIA_NAMES: Record<number, string> = {
  0x80: 'WRITE_FAULT', 0x81: 'UNRECOVERED_READ_ERROR', 0x82: 'GUARD_CHECK_ERROR',
  0x83: 'APPLICATION_TAG_CHECK_ERROR', 0x84: 'REFERENCE_TAG_CHECK_ERROR', 0x85: 'COMPARE_FAILURE',
  0x86: 'ACCESS_DENIED', 0x87: 'DEALLOCATED_OR_UNWRITTEN_BLOCK',
};

const SCT_NAMES = ['GENERIC', 'COMMAND_SPECIFIC', 'MEDIA', 'PATH', 'RSVD4', 'RSVD5', 'RSVD6', 'VENDOR'];

/** "INVALID_FIELD", "COMMAND_SPECIFIC/INVALID_QID", "MEDIA/0x90" ... (DNR/M/CRD not included). */
export function statusName(status: number): string {
  const sc = status & 0xff;
  const sct = (status >> 8) & 7;
  const table = sct === SCT_GENERIC ? GENERIC_NAMES : sct === SCT_COMMAND_SPECIFIC ? COMMAND_SPECIFIC_NAMES
    : sct === SCT_MEDIA ? MEDIA_NAMES : undefined;
  const name = table?.[sc];
  if (sct === SCT_GENERIC) return name ?? `GENERIC/0x${sc.toString(16)}`;
  return `${SCT_NAMES[sct]}/${name ?? `0x${sc.toString(16)}`}`;
}

/** "invalid-field", "invalid-qid": the guestErr code suffix for a status. */
export function statusCode(status: number): string {
  const n = statusName(status & 0x7ff);
  const i = n.indexOf('/');
  return (i >= 0 && !n.startsWith('GENERIC') ? n.slice(i + 1) : n).toLowerCase().replace(/_/g, '-');
}

// Admin command opcodes (5, figure 139).
export const AdminOp = {
  DELETE_IO_SQ: 0x00,
  CREATE_IO_SQ: 0x01,
  GET_LOG_PAGE: 0x02,
  DELETE_IO_CQ: 0x04,
  CREATE_IO_CQ: 0x05,
  IDENTIFY: 0x06,
  ABORT: 0x08,
  SET_FEATURES: 0x09,
  GET_FEATURES: 0x0a,
  ASYNC_EVENT_REQUEST: 0x0c,
} as const;

// NVM command set I/O opcodes (6, figure 346).
export const IoOp = {
  FLUSH: 0x00,
  WRITE: 0x01,
  READ: 0x02,
} as const;

const ADMIN_OP_NAMES: Record<number, string> = {
  0x00: 'DELETE_IO_SQ', 0x01: 'CREATE_IO_SQ', 0x02: 'GET_LOG_PAGE', 0x04: 'DELETE_IO_CQ',
  0x05: 'CREATE_IO_CQ', 0x06: 'IDENTIFY', 0x08: 'ABORT', 0x09: 'SET_FEATURES', 0x0a: 'GET_FEATURES',
  0x0c: 'ASYNC_EVENT_REQUEST', 0x0d: 'NAMESPACE_MANAGEMENT', 0x10: 'FIRMWARE_COMMIT',
  0x11: 'FIRMWARE_IMAGE_DOWNLOAD', 0x14: 'DEVICE_SELF_TEST', 0x15: 'NAMESPACE_ATTACHMENT',
  0x18: 'KEEP_ALIVE', 0x19: 'DIRECTIVE_SEND', 0x1a: 'DIRECTIVE_RECEIVE', 0x1c: 'VIRTUALIZATION_MANAGEMENT',
  0x1d: 'NVME_MI_SEND', 0x1e: 'NVME_MI_RECEIVE', 0x7c: 'DOORBELL_BUFFER_CONFIG', 0x80: 'FORMAT_NVM',
  0x81: 'SECURITY_SEND', 0x82: 'SECURITY_RECEIVE', 0x84: 'SANITIZE', 0x86: 'GET_LBA_STATUS',
};

const IO_OP_NAMES: Record<number, string> = {
  0x00: 'FLUSH', 0x01: 'WRITE', 0x02: 'READ', 0x04: 'WRITE_UNCORRECTABLE', 0x05: 'COMPARE',
  0x08: 'WRITE_ZEROES', 0x09: 'DATASET_MANAGEMENT', 0x0c: 'VERIFY', 0x0d: 'RESERVATION_REGISTER',
  0x0e: 'RESERVATION_REPORT', 0x11: 'RESERVATION_ACQUIRE', 0x15: 'RESERVATION_RELEASE',
};

export function opcodeName(admin: boolean, opc: number): string {
  return (admin ? ADMIN_OP_NAMES : IO_OP_NAMES)[opc] ?? `${admin ? 'ADMIN' : 'IO'}_OP_0x${opc.toString(16)}`;
}

/** Feature identifiers (5.21.1). */
export const Fid = {
  ARBITRATION: 0x01,
  POWER_MANAGEMENT: 0x02,
  TEMPERATURE_THRESHOLD: 0x04,
  ERROR_RECOVERY: 0x05,
  VOLATILE_WRITE_CACHE: 0x06,
  NUMBER_OF_QUEUES: 0x07,
  INTERRUPT_COALESCING: 0x08,
  INTERRUPT_VECTOR_CONFIG: 0x09,
  WRITE_ATOMICITY: 0x0a,
  ASYNC_EVENT_CONFIG: 0x0b,
} as const;

export const FEATURE_NAMES: Record<number, string> = {
  0x01: 'ARBITRATION', 0x02: 'POWER_MANAGEMENT', 0x03: 'LBA_RANGE_TYPE', 0x04: 'TEMPERATURE_THRESHOLD',
  0x05: 'ERROR_RECOVERY', 0x06: 'VOLATILE_WRITE_CACHE', 0x07: 'NUMBER_OF_QUEUES',
  0x08: 'INTERRUPT_COALESCING', 0x09: 'INTERRUPT_VECTOR_CONFIG', 0x0a: 'WRITE_ATOMICITY',
  0x0b: 'ASYNC_EVENT_CONFIG', 0x0c: 'AUTONOMOUS_POWER_STATE', 0x0d: 'HOST_MEMORY_BUFFER',
  0x0e: 'TIMESTAMP', 0x0f: 'KEEP_ALIVE', 0x10: 'HOST_CONTROLLED_THERMAL', 0x11: 'NON_OPERATIONAL_POWER_STATE',
};

/** Log page identifiers (5.14.1). */
export const Lid = {
  ERROR_INFO: 0x01,
  SMART: 0x02,
  FIRMWARE_SLOT: 0x03,
} as const;

/** Asynchronous event types and error-type information (5.2.1, figures 145-146). */
export const AeType = { ERROR: 0, SMART: 1, NOTICE: 2 } as const;
export const AeErrorInfo = { INVALID_DOORBELL_REGISTER: 0x00, INVALID_DOORBELL_VALUE: 0x01 } as const;
