/*
 * kpi_netdev: a loopback Ethernet device on the selftest's PCI function,
 * served as network.loop0:. A frame written there is taken by
 * ndo_start_xmit into a two-frame ring (the queue stops when it is full) and
 * comes back to readers one jiffy later through a timer and NAPI, the shape
 * of a real NIC's TX completion and RX paths.
 */
#include <linux/pci.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/timer.h>
#include <linux/jiffies.h>
#include <linux/spinlock.h>

int selftest_netloop(struct pci_dev *pdev);

#define NETLOOP_RING 2

struct netloop {
  struct net_device *dev;
  struct pci_dev *pdev;
  struct napi_struct napi;
  struct timer_list timer;
  spinlock_t lock;
  struct sk_buff_head ring; /* sent, not looped back yet */
};

static int netloop_open(struct net_device *dev) {
  struct netloop *nl = netdev_priv(dev);
  napi_enable(&nl->napi);
  netif_start_queue(dev);
  dev_info(&nl->pdev->dev, "%s: up", dev->name);
  return 0;
}

static int netloop_stop(struct net_device *dev) {
  struct netloop *nl = netdev_priv(dev);
  netif_stop_queue(dev);
  del_timer_sync(&nl->timer);
  napi_disable(&nl->napi);
  spin_lock(&nl->lock);
  skb_queue_purge(&nl->ring);
  spin_unlock(&nl->lock);
  dev_info(&nl->pdev->dev, "%s: down: tx %lu packets %lu bytes, rx %lu packets %lu bytes", dev->name, dev->stats.tx_packets,
           dev->stats.tx_bytes, dev->stats.rx_packets, dev->stats.rx_bytes);
  return 0;
}

static netdev_tx_t netloop_start_xmit(struct sk_buff *skb, struct net_device *dev) {
  struct netloop *nl = netdev_priv(dev);
  spin_lock(&nl->lock);
  if (skb_queue_len(&nl->ring) >= NETLOOP_RING) {
    /* Cannot happen while the queue is stopped when the ring fills. */
    netif_stop_queue(dev);
    spin_unlock(&nl->lock);
    return NETDEV_TX_BUSY;
  }
  dev->stats.tx_packets++;
  dev->stats.tx_bytes += skb->len;
  skb_queue_tail(&nl->ring, skb);
  if (skb_queue_len(&nl->ring) == NETLOOP_RING)
    netif_stop_queue(dev);
  spin_unlock(&nl->lock);
  mod_timer(&nl->timer, jiffies + 1);
  return NETDEV_TX_OK;
}

/* The "device" finished the ring: receive what it sent. */
static void netloop_timer(struct timer_list *t) {
  struct netloop *nl = from_timer(nl, t, timer);
  napi_schedule(&nl->napi);
}

static int netloop_poll(struct napi_struct *napi, int budget) {
  struct netloop *nl = container_of(napi, struct netloop, napi);
  struct net_device *dev = nl->dev;
  struct sk_buff *skb;
  int work = 0;

  while (work < budget) {
    spin_lock(&nl->lock);
    skb = skb_dequeue(&nl->ring);
    spin_unlock(&nl->lock);
    if (!skb)
      break;
    dev->stats.rx_packets++;
    dev->stats.rx_bytes += skb->len;
    eth_type_trans(skb, dev);
    napi_gro_receive(napi, skb);
    work++;
  }
  if (netif_queue_stopped(dev))
    netif_wake_queue(dev);
  if (work < budget)
    napi_complete_done(napi, work);
  return work;
}

static const struct net_device_ops netloop_ops = {
  .ndo_open = netloop_open,
  .ndo_stop = netloop_stop,
  .ndo_start_xmit = netloop_start_xmit,
};

int selftest_netloop(struct pci_dev *pdev) {
  static const u8 mac[ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
  struct net_device *dev = alloc_etherdev(sizeof(struct netloop));
  struct netloop *nl;
  int r;

  if (!dev)
    return -ENOMEM;
  nl = netdev_priv(dev);
  nl->dev = dev;
  nl->pdev = pdev;
  spin_lock_init(&nl->lock);
  skb_queue_head_init(&nl->ring);
  timer_setup(&nl->timer, netloop_timer, 0);
  netif_napi_add(dev, &nl->napi, netloop_poll);
  strscpy(dev->name, "loop%d", IFNAMSIZ);
  eth_hw_addr_set(dev, mac);
  dev->netdev_ops = &netloop_ops;
  r = register_netdev(dev);
  if (r) {
    dev_err(&pdev->dev, "register_netdev failed: %d", r);
    free_netdev(dev);
    return r;
  }
  netif_carrier_on(dev);
  dev_info(&pdev->dev, "registered %s", dev->name);
  return 0;
}
