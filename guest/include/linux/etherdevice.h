#ifndef _LINUX_ETHERDEVICE_H
#define _LINUX_ETHERDEVICE_H
/* Ethernet helpers: addresses and eth_type_trans. */
#include <linux/netdevice.h>

#define ETH_HLEN 14
#define ETH_ZLEN 60
#define ETH_DATA_LEN 1500
#define ETH_FRAME_LEN 1514

static inline bool is_multicast_ether_addr(const u8 *addr) { return addr[0] & 0x01; }
static inline bool is_zero_ether_addr(const u8 *addr) { return !(addr[0] | addr[1] | addr[2] | addr[3] | addr[4] | addr[5]); }
static inline bool is_valid_ether_addr(const u8 *addr) { return !is_multicast_ether_addr(addr) && !is_zero_ether_addr(addr); }
static inline void eth_hw_addr_set(struct net_device *dev, const u8 *addr) { memcpy(dev->dev_addr, addr, ETH_ALEN); }
static inline bool ether_addr_equal(const u8 *a, const u8 *b) { return !memcmp(a, b, ETH_ALEN); }

/* Sets the MAC header at the frame start and skb->protocol from the EtherType (network byte order), and pulls the header. */
static inline u16 eth_type_trans(struct sk_buff *skb, struct net_device *dev) {
  skb->dev = dev;
  skb_reset_mac_header(skb);
  if (skb->len < ETH_HLEN) return 0;
  skb->protocol = (u16)(skb->data[12] | (skb->data[13] << 8)); /* the two bytes as they are: __be16 */
  skb_pull(skb, ETH_HLEN);
  return skb->protocol;
}
#endif
