/*
 * nvme over PCI Express: the controller's registers and doorbells, the
 * admin and I/O queue pairs in coherent DMA memory, their interrupts, and
 * the blk-mq operations that turn block requests into commands.
 *
 * Module parameters (drivers.<name>.<param> in a scenario):
 *   irqMode        0 auto (MSI-X, else MSI, else INTx), 1 MSI-X, 2 MSI, 3 INTx
 *                  (a scenario's "auto", "msix", "msi", "intx" arrive as 0-3)
 *   ioQueues       I/O queue pairs to ask for (default 2)
 *   queueDepth     entries per I/O queue, capped by CAP.MQES + 1 (default 64)
 *   adminTimeoutMs how long an admin command may take (default 2000)
 *   ioTimeoutMs    how long an I/O may take before it is aborted (default 30000)
 */
#include "nvme.h"
#include <linux/module.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

enum { NVME_IRQ_AUTO = 0, NVME_IRQ_MSIX = 1, NVME_IRQ_MSI = 2, NVME_IRQ_INTX = 3 };
static const char *const nvme_irq_mode_names[] = { "auto", "msix", "msi", "intx" };

/* ---- queues ------------------------------------------------------------------ */

/* SQyTDBL at 0x1000 + (2y) stride, CQyHDBL at 0x1000 + (2y + 1) stride (3.1.24, 3.1.25). */
static void __iomem *nvme_doorbell(struct nvme_dev *dev, u32 qid, bool cq) {
  return dev->bar + NVME_REG_DBS + (2 * qid + (cq ? 1 : 0)) * dev->db_stride;
}

static int nvme_get_cid(struct nvme_queue *q) {
  return q->nr_free ? q->free_cids[--q->nr_free] : -1;
}

static void nvme_put_cid(struct nvme_queue *q, u16 cid) {
  q->free_cids[q->nr_free++] = cid;
}

/* Full when the entry after the tail is the head: one entry always stays empty (4.1.2). */
static bool nvme_sq_full(const struct nvme_queue *q) {
  u16 next = q->sq_tail + 1 == q->depth ? 0 : q->sq_tail + 1;
  return next == q->sq_head;
}

static void nvme_write_sq_db(struct nvme_queue *q) {
  if (q->sq_tail == q->last_db)
    return;
  wmb(); /* the entries before the doorbell that makes them the controller's */
  writel(q->sq_tail, q->sq_db);
  q->last_db = q->sq_tail;
}

/* Copies a command to the tail of the SQ; the doorbell now or with a later one. Under q->lock. */
static void nvme_sq_put(struct nvme_queue *q, const struct nvme_command *cmd, bool ring) {
  nvme_copy(&q->sq_cmds[q->sq_tail], cmd, sizeof(*cmd));
  if (++q->sq_tail == q->depth)
    q->sq_tail = 0;
  if (ring)
    nvme_write_sq_db(q);
}

/*
 * A PRP list for every command id of an I/O queue: room for one entry per
 * page of the largest transfer after its first, rounded up to a power of
 * two so that no list crosses a page boundary (a list may start anywhere in
 * its page, 4.3), all carved from one coherent allocation.
 */
static int nvme_alloc_prp_lists(struct nvme_queue *q) {
  struct nvme_dev *dev = q->dev;
  u32 entries = dev->max_transfer / NVME_PAGE_SIZE;
  u32 bytes = 8;

  if (dev->max_transfer <= 2 * NVME_PAGE_SIZE)
    return 0; /* PRP1 and PRP2 cover every request */
  while (bytes < entries * sizeof(__le64))
    bytes <<= 1;
  q->prp_list_bytes = bytes;
  q->prp_lists = dma_alloc_coherent(dev->device, (size_t)(q->depth - 1) * bytes, &q->prp_lists_dma, GFP_KERNEL);
  if (!q->prp_lists)
    return -ENOMEM;
  for (u16 c = 0; c + 1 < q->depth; c++) {
    q->slots[c].prp_list = (__le64 *)((u8 *)q->prp_lists + (size_t)c * bytes);
    q->slots[c].prp_dma = q->prp_lists_dma + (dma_addr_t)c * bytes;
  }
  return 0;
}

static int nvme_alloc_queue(struct nvme_dev *dev, u16 qid, u16 depth) {
  struct nvme_queue *q = &dev->queues[qid];
  u16 ncmds = depth - 1;

  q->dev = dev;
  q->qid = qid;
  q->depth = depth;
  spin_lock_init(&q->lock);
  q->sq_cmds = dma_alloc_coherent(dev->device, depth * sizeof(struct nvme_command), &q->sq_dma, GFP_KERNEL);
  q->cqes = dma_alloc_coherent(dev->device, depth * sizeof(struct nvme_completion), &q->cq_dma, GFP_KERNEL);
  q->free_cids = kcalloc(ncmds, sizeof(*q->free_cids), GFP_KERNEL);
  q->slots = kcalloc(ncmds, sizeof(*q->slots), GFP_KERNEL);
  if (!q->sq_cmds || !q->cqes || !q->free_cids || !q->slots)
    return -ENOMEM;
  /* Phase tags start at 0 and the host looks for 1 on its first pass (4.6). */
  nvme_clear(q->sq_cmds, depth * sizeof(struct nvme_command));
  nvme_clear((void *)q->cqes, depth * sizeof(struct nvme_completion));
  q->cq_phase = 1;
  q->sq_db = nvme_doorbell(dev, qid, false);
  q->cq_db = nvme_doorbell(dev, qid, true);
  for (int c = ncmds - 1; c >= 0; c--)
    nvme_put_cid(q, c);
  if (qid == 0) {
    for (u16 c = 0; c < ncmds; c++)
      init_completion(&q->slots[c].done);
    return 0;
  }
  return nvme_alloc_prp_lists(q);
}

static void nvme_free_queue(struct nvme_queue *q) {
  struct nvme_dev *dev = q->dev;
  if (!dev)
    return;
  q->live = false;
  if (q->prp_lists)
    dma_free_coherent(dev->device, (size_t)(q->depth - 1) * q->prp_list_bytes, q->prp_lists, q->prp_lists_dma);
  kfree(q->slots);
  kfree(q->free_cids);
  if (q->sq_cmds)
    dma_free_coherent(dev->device, q->depth * sizeof(struct nvme_command), q->sq_cmds, q->sq_dma);
  if (q->cqes)
    dma_free_coherent(dev->device, q->depth * sizeof(struct nvme_completion), (void *)q->cqes, q->cq_dma);
  nvme_clear(q, sizeof(*q));
}

/* ---- completions ------------------------------------------------------------------ */

/* The controller has consumed the SQ up to sq_head (from the CQE, 4.6): room for new commands. Under q->lock. */
static void nvme_update_sq_head(struct nvme_queue *q, u16 sq_head) {
  if (sq_head < q->depth)
    q->sq_head = sq_head;
}

static void nvme_complete_admin(struct nvme_queue *q, u16 cid, u16 sq_head, u16 status, u32 result) {
  struct nvme_dev *dev = q->dev;
  struct nvme_cmd_slot *s;

  spin_lock(&q->lock);
  nvme_update_sq_head(q, sq_head);
  if (cid >= q->depth - 1 || !q->slots[cid].busy) {
    spin_unlock(&q->lock);
    dev_err(dev->device, "admin completion for idle cid %u", cid);
    return;
  }
  s = &q->slots[cid];
  s->busy = false;
  if (s->abandoned) {
    /* Its waiter gave up: nobody reads the result, the id is free again. */
    s->abandoned = false;
    nvme_put_cid(q, cid);
    spin_unlock(&q->lock);
    dev_warn(dev->device, "admin cid %u completed after its command timed out", cid);
    return;
  }
  s->status = status;
  s->result = result;
  spin_unlock(&q->lock);
  complete(&s->done);
}

static void nvme_complete_io(struct nvme_queue *q, u16 cid, u16 sq_head, u16 status) {
  struct nvme_dev *dev = q->dev;
  struct nvme_cmd_slot *s;
  struct request *rq;
  char why[64];

  spin_lock(&q->lock);
  nvme_update_sq_head(q, sq_head);
  if (cid >= q->depth - 1) {
    spin_unlock(&q->lock);
    dev_err(dev->device, "I/O completion on queue %u for idle cid %u", q->qid, cid);
    return;
  }
  s = &q->slots[cid];
  rq = s->rq;
  if (!rq) {
    bool lost = s->lost;
    if (lost) {
      /* The controller finished a command the timeout handler had given up on. */
      s->lost = false;
      nvme_put_cid(q, cid);
    }
    spin_unlock(&q->lock);
    if (lost)
      dev_warn(dev->device, "I/O %u QID %u completed after it was failed (%s)", cid, q->qid,
               nvme_status_str(status, why, sizeof(why)));
    else
      dev_err(dev->device, "I/O completion on queue %u for idle cid %u", q->qid, cid);
    return;
  }
  s->rq = NULL;
  nvme_put_cid(q, cid);
  spin_unlock(&q->lock);

  if (status != NVME_SC_SUCCESS) {
    dev_err(dev->device, "%s at byte %llu failed: %s", req_op(rq) == REQ_OP_WRITE ? "write" : req_op(rq) == REQ_OP_READ ? "read" : "flush",
            blk_rq_pos(rq) << SECTOR_SHIFT, nvme_status_str(status, why, sizeof(why)));
    blk_mq_end_request(rq, BLK_STS_IOERR);
    return;
  }
  blk_mq_end_request(rq, BLK_STS_OK);
}

/*
 * Reaps a CQ: entries whose phase tag matches the pass we are on are new
 * (4.6.1); the tag flips each time the head wraps. One head doorbell write
 * for the batch gives the entries back to the controller.
 */
static bool nvme_process_cq(struct nvme_queue *q) {
  bool found = false;

  for (;;) {
    volatile struct nvme_completion *cqe = &q->cqes[q->cq_head];
    u16 st = le16_to_cpu(cqe->status);
    if ((st & 1) != q->cq_phase)
      break;
    dma_rmb(); /* the rest of the entry is as new as its phase tag */
    u16 cid = cqe->command_id;
    u16 sq_head = le16_to_cpu(cqe->sq_head);
    u32 result = le32_to_cpu(cqe->result);
    if (++q->cq_head == q->depth) {
      q->cq_head = 0;
      q->cq_phase ^= 1;
    }
    found = true;
    if (q->qid == 0)
      nvme_complete_admin(q, cid, sq_head, st >> 1, result);
    else
      nvme_complete_io(q, cid, sq_head, st >> 1);
  }
  if (found)
    writel(q->cq_head, q->cq_db);
  return found;
}

/* Every queue whose CQ interrupts on this vector: one per vector with MSI-X, all of them otherwise. */
static irqreturn_t nvme_irq(int irq, void *data) {
  struct nvme_vector *vec = data;
  struct nvme_dev *dev = vec->dev;
  bool handled = false;

  for (u32 qid = 0; qid <= dev->nr_io_queues; qid++) {
    struct nvme_queue *q = &dev->queues[qid];
    if (q->live && q->cq_vector == vec->nr && nvme_process_cq(q))
      handled = true;
  }
  return handled ? IRQ_HANDLED : IRQ_NONE;
}

static int nvme_request_vector(struct nvme_dev *dev, u16 nr) {
  struct nvme_vector *vec = &dev->vectors[nr];
  int irq = pci_irq_vector(dev->pdev, nr);
  if (irq < 0)
    return irq;
  vec->dev = dev;
  vec->nr = nr;
  snprintf(vec->name, sizeof(vec->name), "nvme0q%u", nr);
  int ret = request_irq(irq, nvme_irq, 0, vec->name, vec);
  if (ret)
    dev_err(dev->device, "request_irq %d (vector %u) failed: %d", irq, nr, ret);
  else
    vec->requested = true;
  return ret;
}

/* Which kind of vectors we got, for the log: the legacy line keeps the device's own irq. */
static const char *nvme_irq_kind(struct nvme_dev *dev, unsigned int flags, int nvec) {
  struct pci_dev *pdev = dev->pdev;
  if ((flags & PCI_IRQ_LEGACY) && pci_irq_vector(pdev, 0) == (int)pdev->irq)
    return "legacy";
  if (!(flags & PCI_IRQ_MSI) || nvec > 1)
    return "msix";
  if (!(flags & PCI_IRQ_MSIX))
    return "msi";
  u8 pos = pci_find_capability(pdev, PCI_CAP_ID_MSIX);
  u16 ctrl = 0;
  if (pos)
    pci_read_config_word(pdev, pos + PCI_MSIX_FLAGS, &ctrl);
  return (ctrl & PCI_MSIX_FLAGS_ENABLE) ? "msix" : "msi";
}

/* One vector for the admin queue plus one per I/O queue if MSI-X gives them. */
static int nvme_setup_irqs(struct nvme_dev *dev) {
  static const unsigned int mode_flags[] = { PCI_IRQ_ALL_TYPES, PCI_IRQ_MSIX, PCI_IRQ_MSI, PCI_IRQ_INTX };
  unsigned int flags = mode_flags[dev->irq_mode];
  int nvec = pci_alloc_irq_vectors(dev->pdev, 1, 1 + dev->io_queues_wanted, flags);

  if (nvec < 0) {
    dev_err(dev->device, "no interrupt vectors of the requested kind (%s)", nvme_irq_mode_names[dev->irq_mode]);
    return nvec;
  }
  dev->nr_vectors = nvec;
  dev->vectors = kcalloc(nvec, sizeof(*dev->vectors), GFP_KERNEL);
  if (!dev->vectors)
    return -ENOMEM;
  dev_info(dev->device, "interrupts: %s, %d vector(s)", nvme_irq_kind(dev, flags, nvec), nvec);
  return nvme_request_vector(dev, 0);
}

/* ---- admin commands ---------------------------------------------------------------- */

/*
 * Submits an admin command and sleeps until it completes (or the admin
 * timeout passes). Returns 0, the NVMe status field (> 0, logged), or a
 * negative errno. One at a time: admin_lock is held throughout.
 */
int nvme_submit_admin(struct nvme_dev *dev, struct nvme_command *cmd, u32 *result, const char *what) {
  struct nvme_queue *q = &dev->queues[0];
  struct nvme_cmd_slot *s;
  unsigned long left;
  char why[64];
  u16 status;
  int cid;

  mutex_lock(&dev->admin_lock);
  spin_lock(&q->lock);
  cid = nvme_sq_full(q) ? -1 : nvme_get_cid(q);
  if (cid < 0) {
    spin_unlock(&q->lock);
    mutex_unlock(&dev->admin_lock);
    dev_err(dev->device, "%s: admin queue full", what);
    return -EBUSY;
  }
  s = &q->slots[cid];
  s->busy = true;
  s->abandoned = false;
  s->status = 0;
  s->result = 0;
  reinit_completion(&s->done);
  cmd->command_id = (u16)cid;
  nvme_sq_put(q, cmd, true);
  spin_unlock(&q->lock);

  left = wait_for_completion_timeout(&s->done, msecs_to_jiffies(dev->admin_timeout_ms));

  spin_lock(&q->lock);
  if (left == 0 && s->busy) {
    /* The id stays taken until the controller answers, if it ever does. */
    s->abandoned = true;
    spin_unlock(&q->lock);
    mutex_unlock(&dev->admin_lock);
    dev_err(dev->device, "%s: admin command timed out after %d ms (cid %d)", what, dev->admin_timeout_ms, cid);
    return -ETIMEDOUT;
  }
  status = s->status;
  if (result)
    *result = s->result;
  nvme_put_cid(q, cid);
  spin_unlock(&q->lock);
  mutex_unlock(&dev->admin_lock);
  if (status != NVME_SC_SUCCESS)
    dev_err(dev->device, "%s: %s", what, nvme_status_str(status, why, sizeof(why)));
  return status;
}

/* Create I/O Completion Queue (5.3), then Create I/O Submission Queue (5.4) bound to it. */
static int nvme_create_queue(struct nvme_dev *dev, u16 qid, u16 vector) {
  struct nvme_queue *q = &dev->queues[qid];
  struct nvme_command c;
  char what[32];
  int ret;

  nvme_clear(&c, sizeof(c));
  c.opcode = nvme_admin_create_cq;
  c.prp1 = cpu_to_le64(q->cq_dma);
  c.cdw10 = cpu_to_le32(((u32)(q->depth - 1) << 16) | qid);
  c.cdw11 = cpu_to_le32(((u32)vector << 16) | NVME_CQ_IRQ_ENABLED | NVME_QUEUE_PHYS_CONTIG);
  snprintf(what, sizeof(what), "Create I/O CQ %u", qid);
  ret = nvme_submit_admin(dev, &c, NULL, what);
  if (ret)
    return ret < 0 ? ret : -EIO;
  q->cq_vector = vector;
  q->live = true;

  nvme_clear(&c, sizeof(c));
  c.opcode = nvme_admin_create_sq;
  c.prp1 = cpu_to_le64(q->sq_dma);
  c.cdw10 = cpu_to_le32(((u32)(q->depth - 1) << 16) | qid);
  c.cdw11 = cpu_to_le32(((u32)qid << 16) | NVME_QUEUE_PHYS_CONTIG);
  snprintf(what, sizeof(what), "Create I/O SQ %u", qid);
  ret = nvme_submit_admin(dev, &c, NULL, what);
  if (ret)
    return ret < 0 ? ret : -EIO;

  if (vector != 0 && !dev->vectors[vector].requested)
    return nvme_request_vector(dev, vector);
  return 0;
}

int nvme_create_io_queues(struct nvme_dev *dev) {
  u32 mqes = NVME_CAP_MQES(dev->cap) + 1;
  u32 count = dev->io_queues_wanted;
  int ret;

  /* With several vectors each I/O queue gets one of its own; with one, all share it. */
  if (dev->nr_vectors > 1)
    count = min(count, (u32)dev->nr_vectors - 1);
  ret = nvme_set_queue_count(dev, &count);
  if (ret)
    return ret;
  dev->io_depth = min(min((u32)dev->queue_depth_wanted, mqes), (u32)NVME_MAX_QUEUE_DEPTH);
  if (dev->io_depth < 2)
    dev->io_depth = 2;

  for (u32 qid = 1; qid <= count; qid++) {
    u16 vector = dev->nr_vectors > 1 ? (u16)((qid - 1) % (dev->nr_vectors - 1) + 1) : 0;
    ret = nvme_alloc_queue(dev, qid, dev->io_depth);
    if (ret) {
      dev_err(dev->device, "I/O queue %u of %u entries: out of memory", qid, dev->io_depth);
      return ret;
    }
    dev->nr_io_queues = qid;
    ret = nvme_create_queue(dev, qid, vector);
    if (ret)
      return ret;
  }
  dev_info(dev->device, "%u I/O queue pair(s) of %u entries", dev->nr_io_queues, dev->io_depth);
  return 0;
}

/* ---- blk-mq ----------------------------------------------------------------------- */

static int nvme_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int hctx_idx) {
  struct nvme_ns *ns = data;
  struct nvme_dev *dev = ns->dev;
  if (hctx_idx >= dev->nr_io_queues)
    return -EINVAL;
  struct nvme_hctx *h = &ns->hctxs[hctx_idx];
  h->ns = ns;
  h->nvmeq = &dev->queues[hctx_idx + 1];
  hctx->driver_data = h;
  return 0;
}

/*
 * The data pointer (4.3): PRP1 is the first page (it may start at an
 * offset), PRP2 the second page when the transfer ends there, else a PRP
 * list with an entry for every page after the first. The buffer is
 * contiguous, so the pages are consecutive.
 */
static blk_status_t nvme_map_prps(struct nvme_queue *q, struct nvme_cmd_slot *s, struct request *rq, struct nvme_command *cmd) {
  dma_addr_t dma = rq->dma;
  u32 len = blk_rq_bytes(rq);
  u32 offset = dma & (NVME_PAGE_SIZE - 1);
  u32 first = NVME_PAGE_SIZE - offset;
  dma_addr_t page = dma - offset + NVME_PAGE_SIZE;

  cmd->prp1 = cpu_to_le64(dma);
  if (len <= first)
    return BLK_STS_OK;
  u32 rest = DIV_ROUND_UP(len - first, NVME_PAGE_SIZE);
  if (rest == 1) {
    cmd->prp2 = cpu_to_le64(page);
    return BLK_STS_OK;
  }
  if (!s->prp_list || rest > q->prp_list_bytes / sizeof(__le64))
    return BLK_STS_IOERR;
  for (u32 i = 0; i < rest; i++)
    s->prp_list[i] = cpu_to_le64(page + (dma_addr_t)i * NVME_PAGE_SIZE);
  cmd->prp2 = cpu_to_le64(s->prp_dma);
  return BLK_STS_OK;
}

static blk_status_t nvme_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd) {
  struct nvme_hctx *h = hctx->driver_data;
  struct nvme_queue *q = h->nvmeq;
  struct request *rq = bd->rq;
  struct nvme_iod *iod = blk_mq_rq_to_pdu(rq);
  struct nvme_cmd_slot *s;
  struct nvme_command cmd;
  blk_status_t ret;
  int cid;

  nvme_clear(&cmd, sizeof(cmd));
  ret = nvme_setup_rw(h->ns, rq, &cmd);
  if (ret != BLK_STS_OK)
    return ret;

  spin_lock(&q->lock);
  cid = nvme_sq_full(q) ? -1 : nvme_get_cid(q);
  if (cid < 0) {
    /* blk-mq retries later; what was queued before goes to the controller now. */
    nvme_write_sq_db(q);
    spin_unlock(&q->lock);
    return BLK_STS_RESOURCE;
  }
  s = &q->slots[cid];
  s->rq = rq;
  s->seq++;
  spin_unlock(&q->lock);

  iod->nvmeq = q;
  iod->cid = (u16)cid;
  iod->seq = s->seq;
  cmd.command_id = (u16)cid;
  if (cmd.opcode != nvme_cmd_flush) {
    ret = nvme_map_prps(q, s, rq, &cmd);
    if (ret != BLK_STS_OK) {
      spin_lock(&q->lock);
      s->rq = NULL;
      nvme_put_cid(q, cid);
      spin_unlock(&q->lock);
      return ret;
    }
  }

  blk_mq_start_request(rq);
  spin_lock(&q->lock);
  nvme_sq_put(q, &cmd, bd->last);
  spin_unlock(&q->lock);
  return BLK_STS_OK;
}

/*
 * A request blk-mq gave up waiting for (worker context: we may sleep). Ask
 * the controller to abort the command (5.1: CDW10 carries the CID in bits
 * 31:16 and the SQID in bits 15:0). An aborted command completes on its own
 * queue with Command Abort Requested, and that completion ends the request.
 * If the controller does not abort it (DW0 bit 0 set) or the Abort fails,
 * the request fails here; its command id stays the controller's until it
 * completes (a controller reset would reclaim it).
 */
static enum blk_eh_timer_return nvme_timeout(struct request *rq) {
  struct nvme_iod *iod = blk_mq_rq_to_pdu(rq);
  struct nvme_queue *q = iod->nvmeq;
  struct nvme_command c;
  struct nvme_cmd_slot *s;
  char what[40];
  u32 result = 1;
  u16 cid = iod->cid;
  u32 seq = iod->seq;
  bool ours;
  int ret;

  if (!q)
    return BLK_EH_DONE;
  struct nvme_dev *dev = q->dev;
  s = &q->slots[cid];
  spin_lock(&q->lock);
  ours = s->rq == rq && s->seq == seq;
  spin_unlock(&q->lock);
  if (!ours)
    return BLK_EH_DONE; /* completed meanwhile */

  dev_warn(dev->device, "I/O %u QID %u timeout, aborting", cid, q->qid);
  nvme_clear(&c, sizeof(c));
  c.opcode = nvme_admin_abort_cmd;
  c.cdw10 = cpu_to_le32(((u32)cid << 16) | q->qid);
  snprintf(what, sizeof(what), "Abort (cid %u, QID %u)", cid, q->qid);
  ret = nvme_submit_admin(dev, &c, &result, what);

  spin_lock(&q->lock);
  ours = s->rq == rq && s->seq == seq;
  if (!ours || (ret == 0 && !(result & 1))) {
    /* The abort completed it already, or its completion is on the way. */
    spin_unlock(&q->lock);
    return BLK_EH_DONE;
  }
  s->rq = NULL;
  s->lost = true;
  spin_unlock(&q->lock);
  dev_err(dev->device, "I/O %u QID %u was not aborted by the controller; failing it (a controller reset is needed to reuse the slot)",
          cid, q->qid);
  blk_mq_end_request(rq, BLK_STS_IOERR);
  return BLK_EH_DONE;
}

const struct blk_mq_ops nvme_mq_ops = {
  .queue_rq = nvme_queue_rq,
  .init_hctx = nvme_init_hctx,
  .timeout = nvme_timeout,
};

/* ---- controller --------------------------------------------------------------------- */

/* Polls CSTS.RDY until it is `ready`, for at most CAP.TO (3.1.1: in 500 ms units). */
static int nvme_wait_ready(struct nvme_dev *dev, bool ready) {
  unsigned long deadline = jiffies + msecs_to_jiffies(dev->ready_timeout_ms);
  for (;;) {
    u32 csts = readl(dev->bar + NVME_REG_CSTS);
    if (csts == ~0u) {
      dev_err(dev->device, "CSTS reads all ones: device gone");
      return -ENODEV;
    }
    if (ready && (csts & NVME_CSTS_CFS)) {
      dev_err(dev->device, "controller fatal status (CSTS.CFS) while enabling");
      return -EIO;
    }
    if (!!(csts & NVME_CSTS_RDY) == ready)
      return 0;
    if (time_after(jiffies, deadline)) {
      dev_err(dev->device, "timed out after %u ms waiting for CSTS.RDY=%d (CSTS=0x%x)", dev->ready_timeout_ms, ready ? 1 : 0, csts);
      return -ETIMEDOUT;
    }
    msleep(1);
  }
}

/* CC.EN = 0 resets the controller; it is idle once CSTS.RDY reads 0 (3.1.5, 7.6.1). */
static int nvme_disable_ctrl(struct nvme_dev *dev) {
  u32 cc = readl(dev->bar + NVME_REG_CC);
  if (cc & NVME_CC_EN)
    writel(cc & ~NVME_CC_EN, dev->bar + NVME_REG_CC);
  return nvme_wait_ready(dev, false);
}

/* 4 KiB pages, the NVM command set, round robin, 64-byte SQ and 16-byte CQ entries (7.6.1). */
static int nvme_enable_ctrl(struct nvme_dev *dev) {
  u32 cc = NVME_CC_CSS_NVM | NVME_CC_MPS(NVME_PAGE_SHIFT) | NVME_CC_AMS_RR |
           NVME_CC_IOSQES(NVME_SQES) | NVME_CC_IOCQES(NVME_CQES) | NVME_CC_EN;
  writel(cc, dev->bar + NVME_REG_CC);
  return nvme_wait_ready(dev, true);
}

/* Undoes what probe set up, for a probe that fails: no disk is being served. */
static void nvme_release(struct nvme_dev *dev) {
  struct pci_dev *pdev = dev->pdev;
  if (dev->bar && dev->queues && dev->queues[0].dev)
    writel(0, dev->bar + NVME_REG_CC);  /* leave the controller disabled */
  for (int v = 0; v < dev->nr_vectors && dev->vectors; v++)
    if (dev->vectors[v].requested)
      free_irq(pci_irq_vector(pdev, v), &dev->vectors[v]);
  if (dev->nr_vectors > 0)
    pci_free_irq_vectors(pdev);
  kfree(dev->vectors);
  if (dev->queues) {
    for (u32 qid = 0; qid <= (u32)dev->io_queues_wanted; qid++)
      nvme_free_queue(&dev->queues[qid]);
    kfree(dev->queues);
  }
  for (u32 i = 0; i < dev->nr_ns; i++) {
    kfree(dev->ns[i]->hctxs);
    kfree(dev->ns[i]);
  }
  if (dev->identify)
    dma_free_coherent(dev->device, NVME_PAGE_SIZE, dev->identify, dev->identify_dma);
  if (dev->bar)
    pci_iounmap(pdev, dev->bar);
  pci_disable_device(pdev);
  pci_set_drvdata(pdev, NULL);
  kfree(dev);
}

static int nvme_read_params(struct nvme_dev *dev) {
  dev->irq_mode = param_int("irqMode", NVME_IRQ_AUTO);
  dev->io_queues_wanted = param_int("ioQueues", 2);
  dev->queue_depth_wanted = param_int("queueDepth", 64);
  dev->admin_timeout_ms = param_int("adminTimeoutMs", 2000);
  dev->io_timeout_ms = param_int("ioTimeoutMs", 30000);
  if (dev->irq_mode < 0 || dev->irq_mode > NVME_IRQ_INTX) {
    dev_err(dev->device, "irqMode %d: 0 auto, 1 msix, 2 msi or 3 intx", dev->irq_mode);
    return -EINVAL;
  }
  if (dev->io_queues_wanted < 1 || dev->io_queues_wanted > 0xfffe || dev->queue_depth_wanted < 2 ||
      dev->queue_depth_wanted > 0x10000 || dev->admin_timeout_ms < 1 || dev->io_timeout_ms < 1) {
    dev_err(dev->device, "bad parameters: ioQueues %d, queueDepth %d, adminTimeoutMs %d, ioTimeoutMs %d",
            dev->io_queues_wanted, dev->queue_depth_wanted, dev->admin_timeout_ms, dev->io_timeout_ms);
    return -EINVAL;
  }
  return 0;
}

static int nvme_probe(struct pci_dev *pdev, const struct pci_device_id *id) {
  struct nvme_dev *dev;
  int ret;

  dev = kzalloc(sizeof(*dev), GFP_KERNEL);
  if (!dev)
    return -ENOMEM;
  dev->pdev = pdev;
  dev->device = &pdev->dev;
  pci_set_drvdata(pdev, dev);
  mutex_init(&dev->admin_lock);
  ret = nvme_read_params(dev);
  if (ret) {
    kfree(dev);
    return ret;
  }

  if (pci_enable_device_mem(pdev)) {
    kfree(dev);
    return -ENODEV;
  }
  pci_set_master(pdev);
  ret = -EIO;
  if (dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64))) {
    dev_err(dev->device, "no 64-bit DMA");
    goto fail;
  }
  dev->bar = pci_iomap(pdev, 0, 0);
  if (!dev->bar) {
    dev_err(dev->device, "BAR0 is not a mapped memory BAR");
    ret = -ENOMEM;
    goto fail;
  }

  dev->cap = lo_hi_readq(dev->bar + NVME_REG_CAP);
  if (dev->cap == ~0ULL) {
    dev_err(dev->device, "CAP reads all ones: device not responding");
    goto fail;
  }
  u32 mqes = NVME_CAP_MQES(dev->cap) + 1;
  dev->db_stride = 4u << NVME_CAP_DSTRD(dev->cap);
  dev->ready_timeout_ms = max(1u, NVME_CAP_TO(dev->cap)) * 500;
  u32 vs = readl(dev->bar + NVME_REG_VS);
  dev->version = vs;
  dev_info(dev->device, "NVMe %u.%u, MQES %u, CAP.TO %u ms, DSTRD %u", vs >> 16, (vs >> 8) & 0xff, mqes,
           dev->ready_timeout_ms, NVME_CAP_DSTRD(dev->cap));
  if (!(NVME_CAP_CSS(dev->cap) & NVME_CAP_CSS_NVM) || NVME_CAP_MPSMIN(dev->cap) > 0) {
    dev_err(dev->device, "controller needs what this driver does not do (CAP.CSS 0x%x, CAP.MPSMIN %u)",
            NVME_CAP_CSS(dev->cap), NVME_CAP_MPSMIN(dev->cap));
    goto fail;
  }

  ret = nvme_disable_ctrl(dev);
  if (ret)
    goto fail;

  dev->queues = kcalloc(1 + dev->io_queues_wanted, sizeof(*dev->queues), GFP_KERNEL);
  if (!dev->queues) {
    ret = -ENOMEM;
    goto fail;
  }
  u32 admin_depth = min((u32)NVME_ADMIN_DEPTH, mqes);
  ret = nvme_alloc_queue(dev, 0, admin_depth);
  if (ret) {
    dev_err(dev->device, "admin queue: out of memory");
    goto fail;
  }
  dev->queues[0].live = true;
  writel(NVME_AQA(admin_depth, admin_depth), dev->bar + NVME_REG_AQA);
  lo_hi_writeq(dev->queues[0].sq_dma, dev->bar + NVME_REG_ASQ);
  lo_hi_writeq(dev->queues[0].cq_dma, dev->bar + NVME_REG_ACQ);

  ret = nvme_setup_irqs(dev);
  if (ret)
    goto fail;

  ret = nvme_enable_ctrl(dev);
  if (ret)
    goto fail;
  dev_info(dev->device, "controller ready");

  dev->identify = dma_alloc_coherent(dev->device, NVME_PAGE_SIZE, &dev->identify_dma, GFP_KERNEL);
  if (!dev->identify) {
    ret = -ENOMEM;
    goto fail;
  }
  ret = nvme_identify_ctrl(dev);
  if (ret)
    goto fail;
  ret = nvme_identify_namespaces(dev);
  if (ret)
    goto fail;
  ret = nvme_create_io_queues(dev);
  if (ret)
    goto fail;
  ret = nvme_add_disks(dev);
  if (ret)
    goto fail;
  return 0;

fail:
  nvme_release(dev);
  return ret;
}

static const struct pci_device_id nvme_id_table[] = {
  { PCI_DEVICE_CLASS(0x010802, 0xffffff) },  /* mass storage, NVM, NVMe I/O controller */
  { 0, }
};
MODULE_DEVICE_TABLE(pci, nvme_id_table);

static struct pci_driver nvme_driver = {
  .name = "nvme",
  .id_table = nvme_id_table,
  .probe = nvme_probe,
};

module_pci_driver(nvme_driver);
MODULE_DESCRIPTION("NVMe host driver (PCIe)");
MODULE_LICENSE("GPL");
