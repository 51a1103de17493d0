/** NVMe definitions the driver uses (NVMe base spec 1.4), kept apart from the device model on purpose. */
export const REG_CAP = 0x00;
export const REG_VS = 0x08;
export const REG_INTMS = 0x0c;
export const REG_INTMC = 0x10;
export const REG_CC = 0x14;
export const REG_CSTS = 0x1c;
export const REG_AQA = 0x24;
export const REG_ASQ = 0x28;
export const REG_ACQ = 0x30;
export const DOORBELL_BASE = 0x1000;

export const CC_EN = 1 << 0;
export const CC_CSS_NVM = 0 << 4;
export const CC_MPS_4K = 0 << 7;
export const CC_AMS_RR = 0 << 11;
export const CC_SHN_NORMAL = 1 << 14;
export const CC_IOSQES = 6 << 16;
export const CC_IOCQES = 4 << 20;

export const CSTS_RDY = 1 << 0;
export const CSTS_CFS = 1 << 1;
export const CSTS_SHST_MASK = 3 << 2;
export const CSTS_SHST_CMPLT = 2 << 2;

// Admin opcodes (5.x) and I/O opcodes (6.x).
export const ADMIN_DELETE_SQ = 0x00;
export const ADMIN_CREATE_SQ = 0x01;
export const ADMIN_DELETE_CQ = 0x04;
export const ADMIN_CREATE_CQ = 0x05;
export const ADMIN_IDENTIFY = 0x06;
export const ADMIN_ABORT = 0x08;
export const ADMIN_SET_FEATURES = 0x09;
export const ADMIN_GET_FEATURES = 0x0a;
export const ADMIN_ASYNC_EVENT = 0x0c;
export const IO_FLUSH = 0x00;
export const IO_WRITE = 0x01;
export const IO_READ = 0x02;

export const FEAT_NUM_QUEUES = 0x07;
export const FEAT_IRQ_COALESCE = 0x08;

export const CNS_NAMESPACE = 0x00;
export const CNS_CONTROLLER = 0x01;
export const CNS_ACTIVE_NS_LIST = 0x02;

export const SQE_SIZE = 64;
export const CQE_SIZE = 16;
export const PAGE = 4096;

/** Status field of a CQE (DW3 bits 31:17): SCT 3 bits, SC 8 bits. */
export function statusName(status: number): string {
  const sct = (status >>> 8) & 7;
  const sc = status & 0xff;
  const generic: Record<number, string> = {
    0x00: 'Successful Completion', 0x01: 'Invalid Command Opcode', 0x02: 'Invalid Field in Command',
    0x04: 'Data Transfer Error', 0x06: 'Internal Error', 0x07: 'Command Abort Requested',
    0x08: 'Command Aborted due to SQ Deletion', 0x0b: 'Invalid Namespace or Format',
    0x13: 'PRP Offset Invalid', 0x80: 'LBA Out of Range',
  };
  const specific: Record<number, string> = {
    0x00: 'Completion Queue Invalid', 0x01: 'Invalid Queue Identifier', 0x02: 'Invalid Queue Size',
    0x03: 'Abort Command Limit Exceeded', 0x05: 'Asynchronous Event Request Limit Exceeded',
    0x08: 'Invalid Interrupt Vector', 0x0c: 'Invalid Queue Deletion',
  };
  const name = sct === 0 ? generic[sc] : sct === 1 ? specific[sc] : undefined;
  return `${name ?? 'status'} (SCT ${sct} SC 0x${sc.toString(16).padStart(2, '0')})`;
}
