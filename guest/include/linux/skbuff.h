#ifndef _LINUX_SKBUFF_H
#define _LINUX_SKBUFF_H
/* Socket buffers in C, in the module's own memory: the struct and its data
 * area come from kmalloc. head <= data <= tail <= end; len = tail - data
 * (no paged fragments). Growing past end (skb_put) or below head
 * (skb_push) is reported like Linux's skb_over_panic / skb_under_panic: a
 * printk, then a trap that crashes the driver. struct sk_buff_head is an
 * intrusive circular list whose first two fields alias an sk_buff's
 * next/prev, as in Linux. No locking: the queue functions are the
 * __skb_* variants under their usual names (hold your own lock). Nothing
 * here reports skbs still allocated at driver exit (kmalloc leaks are not
 * tracked). The kernel side builds the skbs it hands to ndo_start_xmit in
 * this layout (offsets checked below). */
#include <linux/kernel.h>
#include <linux/slab.h>

#define NET_SKB_PAD 32

struct sk_buff {
  struct sk_buff *next;
  struct sk_buff *prev;
  unsigned int len;
  u16 protocol;
  u16 queue_mapping;
  unsigned char *head;
  unsigned char *data;
  unsigned char *tail;
  unsigned char *end;
  void *dev;
  unsigned char *mac_header;
  char cb[48] __attribute__((aligned(8)));
};
_Static_assert(offsetof(struct sk_buff, len) == 8 && offsetof(struct sk_buff, protocol) == 12 && offsetof(struct sk_buff, head) == 16 &&
               offsetof(struct sk_buff, data) == 20 && offsetof(struct sk_buff, tail) == 24 && offsetof(struct sk_buff, end) == 28 &&
               offsetof(struct sk_buff, dev) == 32 && offsetof(struct sk_buff, mac_header) == 36 && offsetof(struct sk_buff, cb) == 40 &&
               sizeof(struct sk_buff) == 88, "struct sk_buff layout");

struct sk_buff_head {
  struct sk_buff *next;
  struct sk_buff *prev;
  u32 qlen;
};

static inline void skb_panic(const struct sk_buff *skb, unsigned int sz, const char *msg) {
  pr_err("skbuff: %s: len:%u put:%u head:%p data:%p tail:0x%lx end:0x%lx\n", msg, skb->len, sz, skb->head, skb->data,
         (unsigned long)(skb->tail - skb->head), (unsigned long)(skb->end - skb->head));
  __builtin_trap();
}

static inline struct sk_buff *alloc_skb(unsigned int size, gfp_t gfp) {
  struct sk_buff *skb = kzalloc(sizeof(*skb), gfp);
  if (!skb) return NULL;
  unsigned char *buf = kmalloc(size ? size : 1, gfp);
  if (!buf) { kfree(skb); return NULL; }
  skb->head = skb->data = skb->tail = buf;
  skb->end = buf + size;
  return skb;
}
static inline void skb_reserve(struct sk_buff *skb, int len) {
  if (skb->tail + len > skb->end || skb->data + len < skb->head) skb_panic(skb, (unsigned)len, "skb_reserve");
  skb->data += len;
  skb->tail += len;
}
static inline struct sk_buff *dev_alloc_skb(unsigned int length) {
  struct sk_buff *skb = alloc_skb(length + NET_SKB_PAD, GFP_ATOMIC);
  if (skb) skb_reserve(skb, NET_SKB_PAD);
  return skb;
}
static inline struct sk_buff *netdev_alloc_skb(void *dev, unsigned int length) {
  struct sk_buff *skb = dev_alloc_skb(length);
  if (skb) skb->dev = dev;
  return skb;
}
static inline void kfree_skb(struct sk_buff *skb) {
  if (!skb) return;
  kfree(skb->head);
  kfree(skb);
}
static inline void consume_skb(struct sk_buff *skb) { kfree_skb(skb); }
static inline void dev_kfree_skb_any(struct sk_buff *skb) { kfree_skb(skb); }
static inline void dev_kfree_skb(struct sk_buff *skb) { kfree_skb(skb); }

static inline unsigned int skb_headroom(const struct sk_buff *skb) { return skb->data - skb->head; }
static inline int skb_tailroom(const struct sk_buff *skb) { return skb->end - skb->tail; }
static inline unsigned int skb_headlen(const struct sk_buff *skb) { return skb->len; }
static inline unsigned char *skb_tail_pointer(const struct sk_buff *skb) { return skb->tail; }
static inline unsigned char *skb_end_pointer(const struct sk_buff *skb) { return skb->end; }
static inline void skb_reset_mac_header(struct sk_buff *skb) { skb->mac_header = skb->data; }
static inline unsigned char *skb_mac_header(const struct sk_buff *skb) { return skb->mac_header; }

/* Extends the data at the tail; returns the start of the added area. */
static inline void *skb_put(struct sk_buff *skb, unsigned int len) {
  unsigned char *tmp = skb->tail;
  if (len > (unsigned int)(skb->end - skb->tail)) skb_panic(skb, len, "skb_over_panic");
  skb->tail += len;
  skb->len += len;
  return tmp;
}
static inline void *skb_put_data(struct sk_buff *skb, const void *data, unsigned int len) {
  void *tmp = skb_put(skb, len);
  memcpy(tmp, data, len);
  return tmp;
}
static inline void *skb_put_zero(struct sk_buff *skb, unsigned int len) {
  void *tmp = skb_put(skb, len);
  memset(tmp, 0, len);
  return tmp;
}
/* Extends the data at the head (into the headroom). */
static inline void *skb_push(struct sk_buff *skb, unsigned int len) {
  if (len > (unsigned int)(skb->data - skb->head)) skb_panic(skb, len, "skb_under_panic");
  skb->data -= len;
  skb->len += len;
  return skb->data;
}
/* Removes data from the head; NULL (and no change) if there is less than len. */
static inline void *skb_pull(struct sk_buff *skb, unsigned int len) {
  if (len > skb->len) return NULL;
  skb->len -= len;
  skb->data += len;
  return skb->data;
}
/* Cuts the data to len bytes (no change if it is shorter). */
static inline void skb_trim(struct sk_buff *skb, unsigned int len) {
  if (skb->len > len) {
    skb->len = len;
    skb->tail = skb->data + len;
  }
}

/* ---- queues */
static inline void skb_queue_head_init(struct sk_buff_head *list) {
  list->prev = list->next = (struct sk_buff *)list;
  list->qlen = 0;
}
static inline u32 skb_queue_len(const struct sk_buff_head *list) { return list->qlen; }
static inline bool skb_queue_empty(const struct sk_buff_head *list) { return list->next == (const struct sk_buff *)list; }
static inline struct sk_buff *skb_peek(const struct sk_buff_head *list) {
  struct sk_buff *skb = list->next;
  return skb == (const struct sk_buff *)list ? NULL : skb;
}
static inline struct sk_buff *skb_peek_tail(const struct sk_buff_head *list) {
  struct sk_buff *skb = list->prev;
  return skb == (const struct sk_buff *)list ? NULL : skb;
}
static inline void __skb_insert(struct sk_buff *newsk, struct sk_buff *prev, struct sk_buff *next, struct sk_buff_head *list) {
  newsk->next = next;
  newsk->prev = prev;
  next->prev = newsk;
  prev->next = newsk;
  list->qlen++;
}
static inline void skb_queue_tail(struct sk_buff_head *list, struct sk_buff *newsk) {
  __skb_insert(newsk, list->prev, (struct sk_buff *)list, list);
}
static inline void skb_queue_head(struct sk_buff_head *list, struct sk_buff *newsk) {
  __skb_insert(newsk, (struct sk_buff *)list, list->next, list);
}
static inline void skb_unlink(struct sk_buff *skb, struct sk_buff_head *list) {
  list->qlen--;
  skb->next->prev = skb->prev;
  skb->prev->next = skb->next;
  skb->next = skb->prev = NULL;
}
static inline struct sk_buff *skb_dequeue(struct sk_buff_head *list) {
  struct sk_buff *skb = skb_peek(list);
  if (skb) skb_unlink(skb, list);
  return skb;
}
static inline void skb_queue_purge(struct sk_buff_head *list) {
  struct sk_buff *skb;
  while ((skb = skb_dequeue(list)) != NULL) kfree_skb(skb);
}
#define __skb_queue_head_init skb_queue_head_init
#define __skb_queue_tail skb_queue_tail
#define __skb_dequeue skb_dequeue
#endif
