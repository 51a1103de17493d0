/*
 * kpi_extra: the selftest's pass over dmapool.h, firmware.h, skbuff.h and
 * NAPI (netdevice.h). Each step logs a line the tests check.
 */
#include <linux/pci.h>
#include <linux/dmapool.h>
#include <linux/firmware.h>
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <linux/completion.h>

int selftest_extra(struct pci_dev *pdev, int mode);

static struct sk_buff_head rxq;
static struct completion napi_done;
static int napi_polls;

static int extra_poll(struct napi_struct *napi, int budget) {
  int work = 0;
  struct sk_buff *skb;
  napi_polls++;
  while (work < budget && (skb = skb_dequeue(&rxq)) != NULL) {
    work++;
    kfree_skb(skb);
  }
  pr_info("napi poll %d: budget %d, %d packets, %u queued\n", napi_polls, budget, work, skb_queue_len(&rxq));
  if (work < budget) {
    napi_complete_done(napi, work);
    complete(&napi_done);
  }
  return work;
}

static int pool_test(struct pci_dev *pdev, int mode) {
  struct dma_pool *pool = dma_pool_create("selftest", &pdev->dev, 48, 64, 0);
  dma_addr_t dma[3];
  u8 *cpu[3];
  if (!pool) return -ENOMEM;
  for (int i = 0; i < 3; i++) {
    cpu[i] = i == 2 ? dma_pool_zalloc(pool, GFP_KERNEL, &dma[i]) : dma_pool_alloc(pool, GFP_KERNEL, &dma[i]);
    if (!cpu[i]) return -ENOMEM;
    memset(cpu[i], 0xc0 + i, 48);
    dev_info(&pdev->dev, "pool block %d cpu 0x%lx bus 0x%llx aligned %d", i, (unsigned long)cpu[i], dma[i],
             (dma[i] & 63) == 0 && ((unsigned long)cpu[i] & 63) == 0);
  }
  dma_pool_free(pool, cpu[1], dma[1]);
  dma_addr_t again;
  u8 *re = dma_pool_zalloc(pool, GFP_KERNEL, &again);
  dev_info(&pdev->dev, "pool reuse %s, zeroed %d", re == cpu[1] && again == dma[1] ? "same block" : "other block", re[0] == 0 && re[47] == 0);
  if (mode == 2)
    dma_pool_free(pool, cpu[0], dma[0]), dma_pool_free(pool, cpu[0], dma[0]);
  else
    dma_pool_free(pool, cpu[0], dma[0]);
  dma_pool_free(pool, re, again);
  dma_pool_free(pool, cpu[2], dma[2]);
  dma_pool_destroy(pool);
  return 0;
}

static int firmware_test(struct pci_dev *pdev) {
  const struct firmware *fw;
  int r = request_firmware(&fw, "kpi-extra-test.bin", &pdev->dev);
  if (r) {
    dev_info(&pdev->dev, "firmware: request_firmware failed %d", r);
    return 0;
  }
  dev_info(&pdev->dev, "firmware: %u bytes, first %02x %02x %02x %02x, last %02x", (unsigned)fw->size, fw->data[0], fw->data[1],
           fw->data[2], fw->data[3], fw->data[fw->size - 1]);
  release_firmware(fw);
  return 0;
}

static int skb_test(struct pci_dev *pdev) {
  static const u8 payload[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  struct sk_buff *skb = alloc_skb(128, GFP_KERNEL);
  if (!skb) return -ENOMEM;
  skb_reserve(skb, 16);
  skb_put_data(skb, payload, sizeof(payload));
  u8 *hdr = skb_push(skb, 4);
  hdr[0] = 0xee;
  dev_info(&pdev->dev, "skb after reserve/put/push: len %u headroom %u tailroom %d", skb->len, skb_headroom(skb), skb_tailroom(skb));
  u8 *d = skb_pull(skb, 6);
  dev_info(&pdev->dev, "skb after pull 6: len %u headroom %u first %u", skb->len, skb_headroom(skb), d[0]);
  skb_trim(skb, 3);
  void *bad = skb_pull(skb, 4);
  dev_info(&pdev->dev, "skb after trim 3: len %u tailroom %d, pull 4 %s", skb->len, skb_tailroom(skb), bad ? "succeeded" : "refused");
  consume_skb(skb);

  struct sk_buff_head q;
  skb_queue_head_init(&q);
  struct sk_buff *a = dev_alloc_skb(10), *b = dev_alloc_skb(20), *c = dev_alloc_skb(30);
  skb_put(a, 1); skb_put(b, 2); skb_put(c, 3);
  skb_queue_tail(&q, a);
  skb_queue_tail(&q, b);
  skb_queue_head(&q, c);
  dev_info(&pdev->dev, "skb queue: len %u, peek len %u, headroom %u", skb_queue_len(&q), skb_peek(&q)->len, skb_headroom(a));
  unsigned order = 0;
  struct sk_buff *s;
  while ((s = skb_dequeue(&q)) != NULL) {
    order = order * 10 + s->len;
    dev_kfree_skb_any(s);
  }
  dev_info(&pdev->dev, "skb queue drained in order %u, empty %d", order, skb_queue_empty(&q));
  return 0;
}

static int napi_test(struct pci_dev *pdev) {
  static struct net_device ndev = { .name = "selftest0", .mtu = 1500 };
  static struct napi_struct napi;
  skb_queue_head_init(&rxq);
  init_completion(&napi_done);
  for (int i = 0; i < 3; i++) {
    struct sk_buff *skb = dev_alloc_skb(64);
    if (!skb) return -ENOMEM;
    skb_put_zero(skb, 60);
    skb_queue_tail(&rxq, skb);
  }
  netif_napi_add_weight(&ndev, &napi, extra_poll, 2);
  bool before = napi_schedule(&napi);
  napi_enable(&napi);
  bool s1 = napi_schedule(&napi);
  bool s2 = napi_schedule(&napi);
  wait_for_completion(&napi_done);
  dev_info(&pdev->dev, "napi %s: schedule disabled %d, first %d, again %d; %d polls, %u left", ndev.name, before, s1, s2, napi_polls,
           skb_queue_len(&rxq));
  napi_disable(&napi);
  netif_napi_del(&napi);
  return 0;
}

int selftest_extra(struct pci_dev *pdev, int mode) {
  int r = pool_test(pdev, mode);
  if (!r) r = firmware_test(pdev);
  if (!r) r = skb_test(pdev);
  if (!r) r = napi_test(pdev);
  dev_info(&pdev->dev, "kpi extra done: %d", r);
  return r;
}
