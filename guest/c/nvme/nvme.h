/*
 * nvme: an NVMe host driver for simrun's linux-kpi, in C.
 *
 * The shape follows Linux's nvme driver (a controller core and a PCI
 * transport, a blk-mq disk per namespace), written from the NVMe base
 * specification 1.4. Section numbers in comments refer to that document.
 * These definitions are the driver's own; the device model has its own.
 *
 *   pci.c   probe, controller enable/disable, queues, interrupts, submission
 *           and completion, the blk-mq operations and I/O timeouts
 *   core.c  identify, queue count negotiation, namespaces and their disks,
 *           command construction and status decoding
 */
#ifndef _NVME_H
#define _NVME_H

#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

/* ---- Controller registers (3.1) ----------------------------------------- */
#define NVME_REG_CAP   0x0000 /* Controller Capabilities (64-bit) */
#define NVME_REG_VS    0x0008 /* Version */
#define NVME_REG_INTMS 0x000c /* Interrupt Mask Set */
#define NVME_REG_INTMC 0x0010 /* Interrupt Mask Clear */
#define NVME_REG_CC    0x0014 /* Controller Configuration */
#define NVME_REG_CSTS  0x001c /* Controller Status */
#define NVME_REG_AQA   0x0024 /* Admin Queue Attributes */
#define NVME_REG_ASQ   0x0028 /* Admin SQ Base Address (64-bit) */
#define NVME_REG_ACQ   0x0030 /* Admin CQ Base Address (64-bit) */
#define NVME_REG_DBS   0x1000 /* SQ 0 Tail Doorbell; the others follow at the stride */

/* CAP fields (3.1.1) */
#define NVME_CAP_MQES(cap)   ((u32)((cap) & 0xffff))      /* max queue entries, 0's based */
#define NVME_CAP_TO(cap)     ((u32)(((cap) >> 24) & 0xff)) /* ready timeout, 500 ms units */
#define NVME_CAP_DSTRD(cap)  ((u32)(((cap) >> 32) & 0xf))  /* doorbell stride: 4 << DSTRD bytes */
#define NVME_CAP_CSS(cap)    ((u32)(((cap) >> 37) & 0xff)) /* command sets supported */
#define NVME_CAP_MPSMIN(cap) ((u32)(((cap) >> 48) & 0xf))  /* min page size: 2^(12 + MPSMIN) */
#define NVME_CAP_MPSMAX(cap) ((u32)(((cap) >> 52) & 0xf))
#define NVME_CAP_CSS_NVM     0x01

/* CC fields (3.1.5) */
#define NVME_CC_EN          (1u << 0)
#define NVME_CC_CSS_NVM     (0u << 4)
#define NVME_CC_MPS(shift)  ((u32)((shift) - 12) << 7) /* host page size 2^(12 + MPS) */
#define NVME_CC_AMS_RR      (0u << 11)
#define NVME_CC_SHN_NORMAL  (1u << 14)
#define NVME_CC_IOSQES(n)   ((u32)(n) << 16) /* log2 of the SQ entry size */
#define NVME_CC_IOCQES(n)   ((u32)(n) << 20) /* log2 of the CQ entry size */

/* CSTS fields (3.1.6) */
#define NVME_CSTS_RDY       (1u << 0)
#define NVME_CSTS_CFS       (1u << 1)

/* AQA (3.1.8): both sizes 0's based */
#define NVME_AQA(sq, cq)    ((((u32)(cq) - 1) << 16) | ((u32)(sq) - 1))

/* ---- Opcodes -------------------------------------------------------------- */
enum nvme_admin_opcode {           /* the Admin command set, 5 */
  nvme_admin_delete_sq = 0x00,
  nvme_admin_create_sq = 0x01,
  nvme_admin_delete_cq = 0x04,
  nvme_admin_create_cq = 0x05,
  nvme_admin_identify = 0x06,
  nvme_admin_abort_cmd = 0x08,
  nvme_admin_set_features = 0x09,
  nvme_admin_get_features = 0x0a,
};

enum nvme_io_opcode {              /* the NVM command set, 6 */
  nvme_cmd_flush = 0x00,
  nvme_cmd_write = 0x01,
  nvme_cmd_read = 0x02,
};

#define NVME_ID_CNS_NS    0x00     /* Identify Namespace (5.15.2.1) */
#define NVME_ID_CNS_CTRL  0x01     /* Identify Controller (5.15.2.2) */
#define NVME_ID_CNS_NS_ACTIVE_LIST 0x02  /* Active Namespace ID list (5.15.2.3): up to 1024 NSIDs above CDW1.NSID, ascending, 0-terminated */
#define NVME_FEAT_NUM_QUEUES 0x07  /* Number of Queues (5.21.1.7) */

/* Create I/O CQ CDW11 (5.3) and Create I/O SQ CDW11 (5.4) */
#define NVME_QUEUE_PHYS_CONTIG (1u << 0)
#define NVME_CQ_IRQ_ENABLED    (1u << 1)

/* ---- Queue entries (4.2, 4.6) ---------------------------------------------- */

/* A submission queue entry: 64 bytes, the common command format (4.2). */
struct nvme_command {
  u8 opcode;
  u8 flags;          /* FUSE, PSDT (0: PRPs) */
  u16 command_id;
  __le32 nsid;
  __le32 cdw2;
  __le32 cdw3;
  __le64 mptr;
  __le64 prp1;
  __le64 prp2;
  __le32 cdw10;
  __le32 cdw11;
  __le32 cdw12;
  __le32 cdw13;
  __le32 cdw14;
  __le32 cdw15;
};
_Static_assert(sizeof(struct nvme_command) == 64, "SQ entry is 64 bytes");
#define NVME_SQES 6                /* log2(64) */

/* A completion queue entry: 16 bytes (4.6). */
struct nvme_completion {
  __le32 result;     /* DW0: command specific */
  __le32 rsvd;
  __le16 sq_head;    /* SQHD: how far the controller has fetched */
  __le16 sq_id;
  u16 command_id;
  __le16 status;     /* bit 0 phase tag, bits 15:1 the status field */
};
_Static_assert(sizeof(struct nvme_completion) == 16, "CQ entry is 16 bytes");
#define NVME_CQES 4                /* log2(16) */

/* The status field (4.6.1): SC in bits 7:0, SCT in bits 10:8, M, DNR. */
#define NVME_SCT(sf) (((sf) >> 8) & 0x7)
#define NVME_SC(sf)  ((sf) & 0xff)
#define NVME_SC_SUCCESS       0x000
#define NVME_SC_ABORT_REQ     0x007  /* generic: Command Abort Requested */

/* Byte offsets in the Identify data structures (5.15.2). */
#define NVME_ID_CTRL_SN     4      /* serial number, 20 ASCII bytes */
#define NVME_ID_CTRL_MN     24     /* model number, 40 ASCII bytes */
#define NVME_ID_CTRL_FR     64     /* firmware revision, 8 ASCII bytes */
#define NVME_ID_CTRL_MDTS   77
#define NVME_ID_CTRL_NN     516
#define NVME_ID_NS_NSZE     0
#define NVME_ID_NS_FLBAS    26
#define NVME_ID_NS_LBAF     128    /* 16 LBA formats of 4 bytes: MS, LBADS, RP */

#define NVME_PAGE_SHIFT 12
#define NVME_PAGE_SIZE  (1u << NVME_PAGE_SHIFT)
/* The largest request we let blk-mq build: 128 KiB, 32 pages, one PRP list page. */
#define NVME_MAX_TRANSFER (128u * 1024)
#define NVME_ADMIN_DEPTH 32
/* The deepest I/O queue we create (blk-mq's tag sets here stop at 4096 tags). */
#define NVME_MAX_QUEUE_DEPTH 4096
#define NVME_MAX_NAMESPACES 64

/* ---- Driver state ------------------------------------------------------------ */
struct nvme_dev;
struct nvme_ns;

/* Per command id of a queue: what is in flight under it. */
struct nvme_cmd_slot {
  /* I/O queues */
  struct request *rq;      /* the request in flight, NULL when idle */
  u32 seq;                 /* submissions through this slot, to tell reuse apart */
  bool lost;               /* failed by the timeout handler: the controller still owns the id */
  __le64 *prp_list;        /* its PRP list, for requests over two pages */
  dma_addr_t prp_dma;
  /* the admin queue */
  struct completion done;
  bool busy;
  bool abandoned;          /* its waiter timed out; a late completion just frees the id */
  u16 status;
  u32 result;
};

struct nvme_queue {
  struct nvme_dev *dev;
  spinlock_t lock;         /* SQ tail, command ids and slots */
  struct nvme_command *sq_cmds;
  dma_addr_t sq_dma;
  volatile struct nvme_completion *cqes;
  dma_addr_t cq_dma;
  void __iomem *sq_db;
  void __iomem *cq_db;
  u16 qid;
  u16 depth;
  u16 sq_tail;
  u16 sq_head;             /* the last SQHD the controller reported */
  u16 last_db;             /* the tail last written to the doorbell */
  u16 cq_head;
  u8 cq_phase;
  bool live;               /* created on the controller: its CQ may be reaped */
  u16 cq_vector;
  u16 *free_cids;          /* a stack of the ids not in use */
  u16 nr_free;
  struct nvme_cmd_slot *slots;  /* depth - 1 of them: a full queue keeps one entry empty (4.1.2) */
  void *prp_lists;         /* the slots' PRP lists, prp_list_bytes each */
  dma_addr_t prp_lists_dma;
  u32 prp_list_bytes;
};

/* Per request (blk-mq's pdu): where its command went. */
struct nvme_iod {
  struct nvme_queue *nvmeq;
  u16 cid;
  u32 seq;
};

/* What ->init_hctx binds a hardware context to: a namespace's view of an I/O queue. */
struct nvme_hctx {
  struct nvme_ns *ns;
  struct nvme_queue *nvmeq;
};

struct nvme_ns {
  struct nvme_dev *dev;
  u32 nsid;
  u64 nsze;                /* blocks */
  u32 lba_shift;
  struct blk_mq_tag_set tag_set;
  struct nvme_hctx *hctxs;
  struct gendisk disk;
};

struct nvme_vector {
  struct nvme_dev *dev;
  u16 nr;
  bool requested;
  char name[16];
};

struct nvme_dev {
  struct pci_dev *pdev;
  struct device *device;
  void __iomem *bar;
  u64 cap;
  u32 version;             /* VS: major << 16 | minor << 8 | tertiary */
  u32 db_stride;           /* bytes */
  u32 ready_timeout_ms;
  /* parameters */
  int irq_mode;
  int io_queues_wanted;
  int queue_depth_wanted;
  int admin_timeout_ms;
  int io_timeout_ms;
  /* queues: [0] admin, [1..nr_io_queues] I/O */
  struct nvme_queue *queues;
  u32 nr_io_queues;
  u32 io_depth;
  int nr_vectors;
  struct nvme_vector *vectors;
  struct mutex admin_lock; /* one admin command at a time */
  /* identify */
  void *identify;          /* one page, for Identify data */
  dma_addr_t identify_dma;
  char serial[21];
  char model[41];
  char firmware[9];
  u32 max_transfer;        /* bytes */
  u32 nn;
  struct nvme_ns *ns[NVME_MAX_NAMESPACES];
  u32 nr_ns;
};

/* pci.c */
int nvme_submit_admin(struct nvme_dev *dev, struct nvme_command *cmd, u32 *result, const char *what);
int nvme_create_io_queues(struct nvme_dev *dev);
extern const struct blk_mq_ops nvme_mq_ops;

/* core.c */
void nvme_clear(void *p, size_t n);
void nvme_copy(void *dst, const void *src, size_t n);
int nvme_identify_ctrl(struct nvme_dev *dev);
int nvme_identify_namespaces(struct nvme_dev *dev);
int nvme_set_queue_count(struct nvme_dev *dev, u32 *count);
int nvme_add_disks(struct nvme_dev *dev);
blk_status_t nvme_setup_rw(struct nvme_ns *ns, struct request *rq, struct nvme_command *cmd);
const char *nvme_status_str(u16 status, char *buf, size_t len);

static inline u32 nvme_sf(const volatile struct nvme_completion *cqe) { return le16_to_cpu(cqe->status) >> 1; }

#endif
