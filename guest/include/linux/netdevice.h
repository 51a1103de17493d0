#ifndef _LINUX_NETDEVICE_H
#define _LINUX_NETDEVICE_H
/* NAPI on the TypeScript linux-kpi's LinuxNapi: a scheduled napi_struct is
 * polled in the driver's softirq thread (one per driver, started on first
 * napi_schedule); poll must not sleep, returns the work done (<= budget) and
 * calls napi_complete_done when it did less than its budget; a poll that
 * used its whole budget is polled again after the others.
 *
 * struct net_device is minimal (name, dev_addr, mtu, driver private data):
 * there is no network stack binding yet, so no register_netdev, no
 * netif_receive_skb / ndo_start_xmit path. */
#include <linux/kernel.h>
#include <linux/skbuff.h>
#include <simrun/import.h>

#define IFNAMSIZ 16
#define ETH_ALEN 6
#define NAPI_POLL_WEIGHT 64

struct net_device {
  char name[IFNAMSIZ];
  u8 dev_addr[ETH_ALEN];
  unsigned int mtu;
  void *priv;
};

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
#endif
