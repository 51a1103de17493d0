#ifndef _LINUX_BLK_MQ_H
#define _LINUX_BLK_MQ_H
/*
 * The multi-queue block layer as a driver sees it. The kernel side (simrun's
 * linux-kpi) serves the disk to Redox programs as the scheme
 * `disk.<scheme_name>:<index>` (e.g. disk.nvme:1): reads and writes at
 * block-aligned offsets become requests of at most max_hw_sectors, each in a
 * DMA-able buffer of the driver's memory (rq->buf, bus address rq->dma,
 * page-aligned and contiguous), handed to ->queue_rq on the hardware queue
 * of the submitting program. The driver ends each with blk_mq_end_request.
 * A request not ended within set->timeout jiffies goes to ->timeout.
 */
#include <linux/types.h>
#include <simrun/import.h>

typedef u8 blk_status_t;
#define BLK_STS_OK 0
#define BLK_STS_NOTSUPP 1
#define BLK_STS_TIMEOUT 2
#define BLK_STS_RESOURCE 9
#define BLK_STS_IOERR 10

enum req_op { REQ_OP_READ = 0, REQ_OP_WRITE = 1, REQ_OP_FLUSH = 2 };
enum blk_eh_timer_return { BLK_EH_DONE = 0, BLK_EH_RESET_TIMER = 1 };

#define SECTOR_SHIFT 9

struct request {
  int __handle;
  u32 op;           /* enum req_op */
  u64 sector;       /* first 512-byte sector (blk_rq_pos) */
  u32 nr_bytes;     /* length (blk_rq_bytes) */
  void *buf;        /* the data, in driver memory */
  dma_addr_t dma;   /* its bus address: page-aligned, contiguous */
  u32 tag;          /* 0..queue_depth-1, unique per hardware queue */
  u32 hctx_idx;
  void *pdu;        /* set->cmd_size bytes of driver data per request */
};

struct blk_mq_hw_ctx {
  u32 queue_num;
  void *driver_data;  /* set by ->init_hctx */
};

struct blk_mq_queue_data {
  struct request *rq;
  bool last;
};

struct blk_mq_ops {
  blk_status_t (*queue_rq)(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd);
  int (*init_hctx)(struct blk_mq_hw_ctx *hctx, void *driver_data, unsigned int hctx_idx);
  enum blk_eh_timer_return (*timeout)(struct request *rq);
};

struct blk_mq_tag_set {
  const struct blk_mq_ops *ops;
  u32 nr_hw_queues;
  u32 queue_depth;
  u32 cmd_size;
  u32 timeout;        /* jiffies; 0: 30 s */
  void *driver_data;
  int __handle;
};

struct gendisk {
  int __handle;
  char scheme_name[16];   /* serves disk.<scheme_name>:<index> */
  u32 index;
  u32 logical_block_size;
  u32 max_hw_sectors;     /* largest request, in 512-byte sectors */
  u64 capacity;           /* in 512-byte sectors (set_capacity) */
  void *private_data;
};

/* The kernel side reads and writes these structs at fixed offsets (ABI 1). */
_Static_assert(offsetof(struct request, dma) == 24 && offsetof(struct request, pdu) == 40 && sizeof(struct request) == 48, "struct request layout");
_Static_assert(offsetof(struct blk_mq_tag_set, __handle) == 24, "struct blk_mq_tag_set layout");
_Static_assert(offsetof(struct gendisk, capacity) == 32 && offsetof(struct gendisk, private_data) == 40, "struct gendisk layout");

__kpi_import(blk_mq_alloc_tag_set) int __kpi_blk_mq_alloc_tag_set(struct blk_mq_tag_set *set);
__kpi_import(blk_mq_alloc_disk) int __kpi_blk_mq_alloc_disk(int set, struct gendisk *disk);
__kpi_import(add_disk) int __kpi_add_disk(struct gendisk *disk);
__kpi_import(blk_mq_end_request) void __kpi_blk_mq_end_request(int rq, int status);
__kpi_import(blk_mq_start_request) void __kpi_blk_mq_start_request(int rq);

static inline int blk_mq_alloc_tag_set(struct blk_mq_tag_set *set) { return __kpi_blk_mq_alloc_tag_set(set); }
/* Fills *disk (caller-allocated) for the tag set; set its fields, then add_disk. */
static inline int blk_mq_init_disk(struct blk_mq_tag_set *set, struct gendisk *disk, void *queuedata) {
  disk->private_data = queuedata;
  return __kpi_blk_mq_alloc_disk(set->__handle, disk);
}
static inline void set_capacity(struct gendisk *disk, u64 sectors) { disk->capacity = sectors; }
static inline int add_disk(struct gendisk *disk) { return __kpi_add_disk(disk); }
static inline void blk_mq_start_request(struct request *rq) { __kpi_blk_mq_start_request(rq->__handle); }
static inline void blk_mq_end_request(struct request *rq, blk_status_t status) { __kpi_blk_mq_end_request(rq->__handle, status); }
static inline void *blk_mq_rq_to_pdu(struct request *rq) { return rq->pdu; }
static inline u64 blk_rq_pos(const struct request *rq) { return rq->sector; }
static inline u32 blk_rq_bytes(const struct request *rq) { return rq->nr_bytes; }
static inline enum req_op req_op(const struct request *rq) { return (enum req_op)rq->op; }
#endif
