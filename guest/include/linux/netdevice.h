#ifndef _LINUX_NETDEVICE_H
#define _LINUX_NETDEVICE_H
/* NAPI on the TypeScript linux-kpi's LinuxNapi: a scheduled napi_struct is
 * polled in the driver's softirq thread (one per driver, started on first
 * napi_schedule); poll must not sleep, returns the work done (<= budget) and
 * calls napi_complete_done when it did less than its budget; a poll that
 * used its whole budget is polled again after the others.
 *
 * Net devices on the TypeScript linux-kpi's LinuxNetdev: register_netdev
 * serves the device as the Redox scheme `network.<name>:` (raw Ethernet
 * frames: a read is one received frame, a write one frame to send). The
 * first open of the scheme calls ndo_open, the last close ndo_stop (both
 * may sleep). A write becomes an skb, built by the kernel side in this
 * module's memory (NET_SKB_PAD headroom, mac_header = data, skb->dev set),
 * passed to ndo_start_xmit, which must not sleep: NETDEV_TX_OK means the
 * driver owns the skb (free it with dev_kfree_skb_any when sent),
 * NETDEV_TX_BUSY that it did not take it (stop the queue first: Linux warns
 * otherwise, and so does simrun). Writes wait while the queue is stopped
 * and are sent from the TX softirq thread after netif_wake_queue.
 * netif_rx / netif_receive_skb / napi_gro_receive hand a received frame
 * (from skb_mac_header if eth_type_trans set it, else skb->data) to readers
 * and free the skb. */
#include <linux/kernel.h>
#include <linux/skbuff.h>
#include <simrun/import.h>

#define IFNAMSIZ 16
#define ETH_ALEN 6
#define NAPI_POLL_WEIGHT 64

typedef int netdev_tx_t;
#define NETDEV_TX_OK 0x00
#define NETDEV_TX_BUSY 0x10
#define NET_RX_SUCCESS 0
#define NET_RX_DROP 1
#define GRO_NORMAL 4
#define GRO_DROP 5

struct net_device;
struct net_device_ops {
  int (*ndo_open)(struct net_device *dev);
  int (*ndo_stop)(struct net_device *dev);
  netdev_tx_t (*ndo_start_xmit)(struct sk_buff *skb, struct net_device *dev);
};

/* What the driver counts itself (ip -s link reads it in Linux). */
struct net_device_stats {
  unsigned long rx_packets, tx_packets, rx_bytes, tx_bytes;
  unsigned long rx_errors, tx_errors, rx_dropped, tx_dropped;
};

struct net_device {
  char name[IFNAMSIZ];
  u8 dev_addr[ETH_ALEN];
  unsigned int mtu;
  void *priv;
  const struct net_device_ops *netdev_ops;
  int __handle; /* the kernel side's, once registered */
  struct net_device_stats stats;
};
_Static_assert(offsetof(struct net_device, dev_addr) == 16 && offsetof(struct net_device, mtu) == 24 &&
               offsetof(struct net_device, netdev_ops) == 32 && offsetof(struct net_device, __handle) == 36,
               "struct net_device layout");

struct napi_struct;
typedef int (*napi_poll_t)(struct napi_struct *napi, int budget);
struct napi_struct {
  int __handle;
  napi_poll_t poll;
  struct net_device *dev;
  int weight;
};

__kpi_import(netif_napi_add) int __kpi_netif_napi_add(struct napi_struct *napi, napi_poll_t poll, int weight);
__kpi_import(netif_napi_del) void __kpi_netif_napi_del(int napi);
__kpi_import(napi_enable) void __kpi_napi_enable(int napi);
__kpi_import(napi_disable) void __kpi_napi_disable(int napi);
__kpi_import(napi_schedule) int __kpi_napi_schedule(int napi);
__kpi_import(napi_complete_done) int __kpi_napi_complete_done(int napi, int work_done);

static inline void netif_napi_add_weight(struct net_device *dev, struct napi_struct *napi, napi_poll_t poll, int weight) {
  napi->poll = poll;
  napi->dev = dev;
  napi->weight = weight;
  napi->__handle = __kpi_netif_napi_add(napi, poll, weight);
}
static inline void netif_napi_add(struct net_device *dev, struct napi_struct *napi, napi_poll_t poll) {
  netif_napi_add_weight(dev, napi, poll, NAPI_POLL_WEIGHT);
}
static inline void netif_napi_del(struct napi_struct *napi) { __kpi_netif_napi_del(napi->__handle); }
static inline void napi_enable(struct napi_struct *napi) { __kpi_napi_enable(napi->__handle); }
static inline void napi_disable(struct napi_struct *napi) { __kpi_napi_disable(napi->__handle); }
/* True if the poll was scheduled (false: already scheduled, or disabled). Safe from IRQ handlers. */
static inline bool napi_schedule(struct napi_struct *napi) { return __kpi_napi_schedule(napi->__handle); }
static inline bool napi_complete_done(struct napi_struct *napi, int work_done) {
  return __kpi_napi_complete_done(napi->__handle, work_done);
}
static inline bool napi_complete(struct napi_struct *napi) { return napi_complete_done(napi, 0); }
static inline void *netdev_priv(const struct net_device *dev) { return dev->priv; }

/* alloc_netdev's private area follows the struct, 32-byte aligned. Name "eth%d": a %d takes the first free number. */
static inline struct net_device *alloc_etherdev(int sizeof_priv) {
  size_t off = (sizeof(struct net_device) + 31) & ~(size_t)31;
  struct net_device *dev = kzalloc(off + (size_t)sizeof_priv, GFP_KERNEL);
  if (!dev) return NULL;
  strscpy(dev->name, "eth%d", IFNAMSIZ);
  dev->mtu = 1500;
  dev->priv = (char *)dev + off;
  return dev;
}
static inline void free_netdev(struct net_device *dev) { kfree(dev); }

__kpi_import(register_netdev) int __kpi_register_netdev(struct net_device *dev);
__kpi_import(unregister_netdev) void __kpi_unregister_netdev(int dev);
__kpi_import(netif_rx) int __kpi_netif_rx(int dev, const void *frame, unsigned int len);
__kpi_import(netif_queue) int __kpi_netif_queue(int dev, int op);
__kpi_import(netif_carrier) int __kpi_netif_carrier(int dev, int op);

/* Names the device (writing the final name back into dev->name) and serves network.<name>:. 0 or -errno. */
static inline int register_netdev(struct net_device *dev) { return __kpi_register_netdev(dev); }
static inline void unregister_netdev(struct net_device *dev) { __kpi_unregister_netdev(dev->__handle); }

/* Hands the frame to the stack and frees the skb. */
static inline int netif_rx(struct sk_buff *skb) {
  struct net_device *dev = skb->dev;
  unsigned char *start = skb->mac_header && skb->mac_header <= skb->data ? skb->mac_header : skb->data;
  int r = __kpi_netif_rx(dev->__handle, start, (unsigned int)(skb->tail - start));
  kfree_skb(skb);
  return r;
}
static inline int netif_receive_skb(struct sk_buff *skb) { return netif_rx(skb); }
static inline int napi_gro_receive(struct napi_struct *napi, struct sk_buff *skb) {
  (void)napi;
  return netif_rx(skb) == NET_RX_SUCCESS ? GRO_NORMAL : GRO_DROP;
}

enum { __NETIF_START, __NETIF_STOP, __NETIF_WAKE, __NETIF_STOPPED };
static inline void netif_start_queue(struct net_device *dev) { __kpi_netif_queue(dev->__handle, __NETIF_START); }
static inline void netif_stop_queue(struct net_device *dev) { __kpi_netif_queue(dev->__handle, __NETIF_STOP); }
static inline void netif_wake_queue(struct net_device *dev) { __kpi_netif_queue(dev->__handle, __NETIF_WAKE); }
static inline bool netif_queue_stopped(const struct net_device *dev) { return __kpi_netif_queue(dev->__handle, __NETIF_STOPPED); }
enum { __CARRIER_ON, __CARRIER_OFF, __CARRIER_OK };
static inline void netif_carrier_on(struct net_device *dev) { __kpi_netif_carrier(dev->__handle, __CARRIER_ON); }
static inline void netif_carrier_off(struct net_device *dev) { __kpi_netif_carrier(dev->__handle, __CARRIER_OFF); }
static inline bool netif_carrier_ok(const struct net_device *dev) { return __kpi_netif_carrier(dev->__handle, __CARRIER_OK); }
#endif
