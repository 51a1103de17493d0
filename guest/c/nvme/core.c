/*
 * nvme core: what does not depend on the transport. Identify, the queue
 * count negotiation, one blk-mq disk per active namespace, building Read,
 * Write and Flush commands from block requests, and naming status codes.
 */
#include "nvme.h"
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

/* An ASCII Identify field (space padded on the right) without its padding. */
static void nvme_copy_ascii(char *dst, const u8 *src, size_t n) {
  size_t lo = 0, hi = n;
  while (lo < hi && (src[lo] == ' ' || src[lo] == 0)) lo++;
  while (hi > lo && (src[hi - 1] == ' ' || src[hi - 1] == 0)) hi--;
  for (size_t i = lo; i < hi; i++)
    *dst++ = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
  *dst = 0;
}

static u32 get_le32(const u8 *p) { return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u64 get_le64(const u8 *p) { return get_le32(p) | (u64)get_le32(p + 4) << 32; }

/*
 * Clearing and copying commands and small structures, a word at a time.
 * Not memset/memcpy: a constant-size call becomes a constant-size
 * memory.fill/memory.copy once Binaryen inlines the library routine, and the
 * instrumentation's Binaryen build aborts optimising those. Sizes and
 * pointers are multiples of 4 here.
 */
__attribute__((noinline, no_builtin)) void nvme_clear(void *p, size_t n) {
  u32 *w = p;
  for (size_t i = 0; i < n / 4; i++)
    w[i] = 0;
}

__attribute__((noinline, no_builtin)) void nvme_copy(void *dst, const void *src, size_t n) {
  u32 *d = dst;
  const u32 *s = src;
  for (size_t i = 0; i < n / 4; i++)
    d[i] = s[i];
}

static int nvme_identify(struct nvme_dev *dev, u32 nsid, u32 cns, const char *what) {
  struct nvme_command c;
  nvme_clear(&c, sizeof(c));
  c.opcode = nvme_admin_identify;
  c.nsid = cpu_to_le32(nsid);
  c.prp1 = cpu_to_le64(dev->identify_dma);  /* one page-aligned page: PRP2 unused */
  c.cdw10 = cpu_to_le32(cns);
  nvme_clear(dev->identify, NVME_PAGE_SIZE);
  return nvme_submit_admin(dev, &c, NULL, what);
}

int nvme_identify_ctrl(struct nvme_dev *dev) {
  const u8 *id = dev->identify;
  int ret = nvme_identify(dev, 0, NVME_ID_CNS_CTRL, "Identify Controller");
  if (ret)
    return ret < 0 ? ret : -EIO;

  nvme_copy_ascii(dev->serial, id + NVME_ID_CTRL_SN, 20);
  nvme_copy_ascii(dev->model, id + NVME_ID_CTRL_MN, 40);
  nvme_copy_ascii(dev->firmware, id + NVME_ID_CTRL_FR, 8);

  /* MDTS is a power of two in units of the minimum page size, 0 = no limit (5.15.2.2). */
  u32 mdts = id[NVME_ID_CTRL_MDTS];
  u32 min_page = 1u << (NVME_PAGE_SHIFT + NVME_CAP_MPSMIN(dev->cap));
  dev->max_transfer = NVME_MAX_TRANSFER;
  if (mdts != 0 && mdts < 20 && (min_page << mdts) < NVME_MAX_TRANSFER)
    dev->max_transfer = min_page << mdts;

  dev->nn = get_le32(id + NVME_ID_CTRL_NN);
  dev_info(dev->device, "model \"%s\" serial \"%s\" fw \"%s\", MDTS %u bytes, %u namespace(s)",
           dev->model, dev->serial, dev->firmware, dev->max_transfer, dev->nn);
  return 0;
}

/*
 * The namespaces to identify: the Active Namespace ID list (CNS 02h, NVMe
 * 1.1 and later, as Linux's nvme_scan_ns_list asks for it), else NSID 1..NN.
 * Fills ids[] and returns how many.
 */
static u32 nvme_active_namespaces(struct nvme_dev *dev, u32 *ids, u32 max) {
  u32 n = 0;
  if (dev->version >= 0x10100 && nvme_identify(dev, 0, NVME_ID_CNS_NS_ACTIVE_LIST, "Identify Active Namespace List") == 0) {
    for (u32 i = 0; i < 1024 && n < max; i++) {
      u32 nsid = get_le32(dev->identify + 4 * i);
      if (nsid == 0)
        break;
      ids[n++] = nsid;
    }
    return n;
  }
  for (u32 nsid = 1; nsid <= dev->nn && n < max; nsid++)
    ids[n++] = nsid;
  return n;
}

/*
 * Identify Namespace for each active NSID. An inactive NSID returns a data
 * structure of zeroes (5.15.2.1), so a zero NSZE means there is no
 * namespace to serve under that id.
 */
int nvme_identify_namespaces(struct nvme_dev *dev) {
  const u8 *id = dev->identify;
  u32 ids[NVME_MAX_NAMESPACES];
  char what[40];

  if (dev->nn > NVME_MAX_NAMESPACES)
    dev_warn(dev->device, "%u namespaces, serving the first %u", dev->nn, NVME_MAX_NAMESPACES);
  u32 count = nvme_active_namespaces(dev, ids, NVME_MAX_NAMESPACES);
  for (u32 i = 0; i < count; i++) {
    u32 nsid = ids[i];
    snprintf(what, sizeof(what), "Identify Namespace %u", nsid);
    int ret = nvme_identify(dev, nsid, NVME_ID_CNS_NS, what);
    if (ret)
      return ret < 0 ? ret : -EIO;
    u64 nsze = get_le64(id + NVME_ID_NS_NSZE);
    if (nsze == 0) {
      dev_dbg(dev->device, "namespace %u: inactive", nsid);
      continue;
    }
    /* FLBAS bits 3:0 pick the LBA format in use; LBADS is its byte 2, a power of two. */
    u32 fmt = id[NVME_ID_NS_FLBAS] & 0xf;
    u32 lbads = id[NVME_ID_NS_LBAF + 4 * fmt + 2];
    if (lbads < SECTOR_SHIFT || lbads > NVME_PAGE_SHIFT) {
      dev_err(dev->device, "namespace %u: LBA format %u has %u-byte blocks, not supported", nsid, fmt, 1u << (lbads & 31));
      continue;
    }
    struct nvme_ns *ns = kzalloc(sizeof(*ns), GFP_KERNEL);
    if (!ns)
      return -ENOMEM;
    ns->dev = dev;
    ns->nsid = nsid;
    ns->nsze = nsze;
    ns->lba_shift = lbads;
    dev->ns[dev->nr_ns++] = ns;
    dev_info(dev->device, "namespace %u: %llu blocks of %u bytes", nsid, nsze, 1u << lbads);
  }
  return 0;
}

/*
 * Set Features, Number of Queues (5.21.1.7): ask for *count submission and
 * completion queues (0's based in CDW11); the controller answers with what
 * it allocated in DW0 (NSQA in bits 15:0, NCQA in bits 31:16, also 0's
 * based), which may be more or fewer than asked.
 */
int nvme_set_queue_count(struct nvme_dev *dev, u32 *count) {
  struct nvme_command c;
  u32 result = 0, want = *count;
  nvme_clear(&c, sizeof(c));
  c.opcode = nvme_admin_set_features;
  c.cdw10 = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
  c.cdw11 = cpu_to_le32(((want - 1) << 16) | (want - 1));
  int ret = nvme_submit_admin(dev, &c, &result, "Set Features (Number of Queues)");
  if (ret)
    return ret < 0 ? ret : -EIO;
  u32 nsqa = (result & 0xffff) + 1, ncqa = (result >> 16) + 1;
  *count = min(want, min(nsqa, ncqa));
  return 0;
}

/*
 * One disk per namespace, disk.nvme:<nsid>. Each namespace has its own tag
 * set over the same I/O queues: a request carries no pointer to its disk
 * here, so the hardware context (struct nvme_hctx) is what says which
 * namespace it is for. Command ids are the queue's, not blk-mq's tags.
 */
int nvme_add_disks(struct nvme_dev *dev) {
  int added = 0;
  for (u32 i = 0; i < dev->nr_ns; i++) {
    struct nvme_ns *ns = dev->ns[i];
    struct blk_mq_tag_set *set = &ns->tag_set;
    int ret;

    ns->hctxs = kcalloc(dev->nr_io_queues, sizeof(*ns->hctxs), GFP_KERNEL);
    if (!ns->hctxs)
      return -ENOMEM;
    nvme_clear(set, sizeof(*set));
    set->ops = &nvme_mq_ops;
    set->nr_hw_queues = dev->nr_io_queues;
    set->queue_depth = dev->io_depth - 1;  /* a queue of N entries holds N - 1 commands (4.1.2) */
    set->cmd_size = sizeof(struct nvme_iod);
    set->timeout = msecs_to_jiffies(dev->io_timeout_ms);
    set->driver_data = ns;
    ret = blk_mq_alloc_tag_set(set);
    if (ret) {
      dev_err(dev->device, "namespace %u: blk_mq_alloc_tag_set failed: %d", ns->nsid, ret);
      continue;
    }

    struct gendisk *disk = &ns->disk;
    ret = blk_mq_init_disk(set, disk, ns);
    if (ret) {
      dev_err(dev->device, "namespace %u: blk_mq_init_disk failed: %d", ns->nsid, ret);
      continue;
    }
    disk->private_data = ns;
    strscpy(disk->scheme_name, "nvme", sizeof(disk->scheme_name));
    disk->index = ns->nsid;
    disk->logical_block_size = 1u << ns->lba_shift;
    disk->max_hw_sectors = dev->max_transfer >> SECTOR_SHIFT;
    set_capacity(disk, ns->nsze << (ns->lba_shift - SECTOR_SHIFT));
    ret = add_disk(disk);
    if (ret) {
      dev_err(dev->device, "namespace %u: add_disk failed: %d", ns->nsid, ret);
      continue;
    }
    added++;
  }
  return added > 0 || dev->nr_ns == 0 ? 0 : -EIO;
}

/*
 * A block request as an NVM command set command: Read (6.9) and Write
 * (6.15) take the starting LBA in CDW10-11 and the 0's based block count in
 * CDW12 bits 15:0; Flush (6.8) only the namespace. The data pointer is the
 * transport's to fill.
 */
blk_status_t nvme_setup_rw(struct nvme_ns *ns, struct request *rq, struct nvme_command *cmd) {
  u32 bytes = blk_rq_bytes(rq);
  u32 sect_shift = ns->lba_shift - SECTOR_SHIFT;

  cmd->nsid = cpu_to_le32(ns->nsid);
  switch (req_op(rq)) {
  case REQ_OP_FLUSH:
    cmd->opcode = nvme_cmd_flush;
    return BLK_STS_OK;
  case REQ_OP_READ:
    cmd->opcode = nvme_cmd_read;
    break;
  case REQ_OP_WRITE:
    cmd->opcode = nvme_cmd_write;
    break;
  default:
    return BLK_STS_NOTSUPP;
  }
  if (bytes == 0 || (bytes & ((1u << ns->lba_shift) - 1)) || (blk_rq_pos(rq) & ((1u << sect_shift) - 1)))
    return BLK_STS_IOERR;
  u32 blocks = bytes >> ns->lba_shift;
  if (blocks > 0x10000)
    return BLK_STS_IOERR;
  u64 slba = blk_rq_pos(rq) >> sect_shift;
  cmd->cdw10 = cpu_to_le32(lower_32_bits(slba));
  cmd->cdw11 = cpu_to_le32(upper_32_bits(slba));
  cmd->cdw12 = cpu_to_le32(blocks - 1);
  return BLK_STS_OK;
}

struct nvme_status_name { u16 sc; const char *name; };

/* Generic command status (4.6.1.2.1) and command specific status (4.6.1.2.2). */
static const struct nvme_status_name nvme_generic_status[] = {
  { 0x00, "Successful Completion" },
  { 0x01, "Invalid Command Opcode" },
  { 0x02, "Invalid Field in Command" },
  { 0x03, "Command ID Conflict" },
  { 0x04, "Data Transfer Error" },
  { 0x05, "Commands Aborted due to Power Loss Notification" },
  { 0x06, "Internal Error" },
  { 0x07, "Command Abort Requested" },
  { 0x08, "Command Aborted due to SQ Deletion" },
  { 0x0b, "Invalid Namespace or Format" },
  { 0x13, "PRP Offset Invalid" },
  { 0x80, "LBA Out of Range" },
  { 0x81, "Capacity Exceeded" },
  { 0x82, "Namespace Not Ready" },
};

static const struct nvme_status_name nvme_specific_status[] = {
  { 0x00, "Completion Queue Invalid" },
  { 0x01, "Invalid Queue Identifier" },
  { 0x02, "Invalid Queue Size" },
  { 0x03, "Abort Command Limit Exceeded" },
  { 0x05, "Asynchronous Event Request Limit Exceeded" },
  { 0x08, "Invalid Interrupt Vector" },
  { 0x0c, "Invalid Queue Deletion" },
};

/* "Command Abort Requested (SCT 0 SC 0x07)" for a status field (bits 15:1 of CQE DW3). */
const char *nvme_status_str(u16 status, char *buf, size_t len) {
  u32 sct = NVME_SCT(status), sc = NVME_SC(status);
  const struct nvme_status_name *t = NULL;
  size_t n = 0;
  const char *name = "status";

  if (sct == 0) { t = nvme_generic_status; n = ARRAY_SIZE(nvme_generic_status); }
  else if (sct == 1) { t = nvme_specific_status; n = ARRAY_SIZE(nvme_specific_status); }
  for (size_t i = 0; i < n; i++)
    if (t[i].sc == sc) { name = t[i].name; break; }
  snprintf(buf, len, "%s (SCT %u SC 0x%02x)", name, sct, sc);
  return buf;
}
