// Read-only inspection of a network namespace: links, addresses, routes.
//
// Inspector is the small interface the rest of the library uses to look at a
// pod's network (e.g. to report its IPs) without exec'ing `ip` or `nsenter`.
// The real implementation talks rtnetlink through libnl from a socket opened
// inside the namespace (netlink.h, OpenInspector); tests use
// ocicni::testutil::FakeInspector (//testing:fake_inspector).
//
//   OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<Inspector> inspector,
//                           OpenInspector(pod));
//   OCICNI_ASSIGN_OR_RETURN(Link eth0, inspector->LinkByName("eth0"));
//   OCICNI_ASSIGN_OR_RETURN(std::vector<Address> addrs,
//                           inspector->Addresses());
//   for (const Address& a : addrs) {
//     if (a.ifindex == eth0.index && a.scope == RT_SCOPE_UNIVERSE) ...
//   }
//
// Each call returns a fresh snapshot of the kernel's state.
#ifndef OCICNI_NETNS_INSPECTOR_H_
#define OCICNI_NETNS_INSPECTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ocicni::netns {

// Link is one network interface.
struct Link {
  std::string name;
  int index = 0;
  // mac is the hardware address as lowercase "aa:bb:cc:dd:ee:ff" (all zero
  // for lo), or empty for links without one.
  std::string mac;
  uint32_t mtu = 0;
  // up is the administrative state (IFF_UP), as `ip link set X up` sets it.
  bool up = false;
  // kind is the rtnetlink link kind ("veth", "dummy", "bridge", ...), empty
  // when the kernel reports none (lo, physical devices).
  std::string kind;

  friend bool operator==(const Link& a, const Link& b) {
    return a.name == b.name && a.index == b.index && a.mac == b.mac &&
           a.mtu == b.mtu && a.up == b.up && a.kind == b.kind;
  }
};

// Address is one IP address assigned to a link.
struct Address {
  int ifindex = 0;
  std::string ifname;
  // family is AF_INET or AF_INET6.
  int family = 0;
  // address is the textual address without prefix ("10.1.0.5", "fd00::5").
  std::string address;
  int prefix_len = 0;
  // scope is an RT_SCOPE_* value: 0 universe (global), 253 link, 254 host.
  int scope = 0;

  friend bool operator==(const Address& a, const Address& b) {
    return a.ifindex == b.ifindex && a.ifname == b.ifname &&
           a.family == b.family && a.address == b.address &&
           a.prefix_len == b.prefix_len && a.scope == b.scope;
  }
};

// Route is one unicast route (RTN_UNICAST, any table; cached clones are not
// listed).
struct Route {
  // dst is the destination in CIDR form; the default route is "0.0.0.0/0"
  // or "::/0".
  std::string dst;
  // gateway is the next hop's address, empty for on-link routes.
  std::string gateway;
  // ifindex is the outgoing link (of the first next hop), 0 if none.
  int ifindex = 0;
  int family = 0;
  // table is the routing table id (254 main, 255 local).
  uint32_t table = 0;
  // priority is the metric.
  uint32_t priority = 0;
  // scope is an RT_SCOPE_* value (0 universe, 253 link, 254 host).
  int scope = 0;

  friend bool operator==(const Route& a, const Route& b) {
    return a.dst == b.dst && a.gateway == b.gateway && a.ifindex == b.ifindex &&
           a.family == b.family && a.table == b.table &&
           a.priority == b.priority && a.scope == b.scope;
  }
};

// Inspector reads the state of one network namespace. Implementations are
// thread-safe; calls may block on a netlink round trip (milliseconds).
class Inspector {
 public:
  virtual ~Inspector() = default;

  // Links lists all links, ordered by index.
  virtual absl::StatusOr<std::vector<Link>> Links() = 0;

  // Addresses lists the IPv4 and IPv6 addresses of all links, ordered by
  // link index (order within a link is unspecified).
  virtual absl::StatusOr<std::vector<Address>> Addresses() = 0;

  // Routes lists unicast routes of both families in all tables.
  virtual absl::StatusOr<std::vector<Route>> Routes() = 0;

  // LinkByName returns the link called `name`; kNotFound naming it if there
  // is none.
  virtual absl::StatusOr<Link> LinkByName(absl::string_view name) = 0;
};

}  // namespace ocicni::netns

#endif  // OCICNI_NETNS_INSPECTOR_H_
