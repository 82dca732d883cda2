#include "netns/netlink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "base/posix.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "netns/run_in.h"
#include "netns/workers.h"

namespace ocicni::netns {
namespace {

// Owners for libnl objects; each deleter drops the reference we hold.
struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct CacheDeleter {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using SockPtr = std::unique_ptr<nl_sock, SockDeleter>;
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrDeleter>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;

// NlError turns a (negative) libnl error code into a status; see netlink.h.
absl::Status NlError(int err, absl::string_view what) {
  err = std::abs(err);
  std::string message = absl::StrCat(what, ": ", nl_geterror(err));
  switch (err) {
    case NLE_PERM:
    case NLE_NOACCESS:
      return absl::PermissionDeniedError(message);
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return absl::NotFoundError(message);
    case NLE_EXIST:
      return absl::AlreadyExistsError(message);
    case NLE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_AF_NOSUPPORT:
    case NLE_AF_MISMATCH:
      return absl::InvalidArgumentError(message);
    case NLE_BUSY:
    case NLE_AGAIN:
    case NLE_DUMP_INTR:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

// FormatIp renders an IPv4/IPv6 nl_addr without its prefix length.
std::string FormatIp(const nl_addr* addr) {
  const int family = nl_addr_get_family(addr);
  unsigned char bytes[16] = {};
  const size_t want = family == AF_INET6 ? 16 : 4;
  std::memcpy(bytes, nl_addr_get_binary_addr(addr),
              std::min<size_t>(want, nl_addr_get_len(addr)));
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, bytes, text, sizeof(text)) == nullptr) {
    return "";
  }
  return text;
}

// FormatMac renders a link-layer address as lowercase "aa:bb:...".
std::string FormatMac(const nl_addr* addr) {
  if (addr == nullptr) {
    return "";
  }
  const auto* bytes =
      static_cast<const unsigned char*>(nl_addr_get_binary_addr(addr));
  std::vector<std::string> parts;
  for (unsigned i = 0; i < nl_addr_get_len(addr); ++i) {
    parts.push_back(absl::StrFormat("%02x", bytes[i]));
  }
  return absl::StrJoin(parts, ":");
}

Link ToLink(rtnl_link* l) {
  Link link;
  const char* name = rtnl_link_get_name(l);
  link.name = name != nullptr ? name : "";
  link.index = rtnl_link_get_ifindex(l);
  link.mac = FormatMac(rtnl_link_get_addr(l));
  link.mtu = rtnl_link_get_mtu(l);
  link.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  const char* kind = rtnl_link_get_type(l);
  link.kind = kind != nullptr ? kind : "";
  return link;
}

// NetlinkInspector is the libnl Inspector over a socket bound to one
// namespace. It also carries the few write operations this file needs.
class NetlinkInspector final : public Inspector {
 public:
  NetlinkInspector(std::string path, SockPtr sock)
      : path_(std::move(path)), sock_(std::move(sock)) {}

  absl::StatusOr<std::vector<Link>> Links() override {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(CachePtr cache, LinkCache());
    std::vector<Link> links;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr;
         o = nl_cache_get_next(o)) {
      links.push_back(ToLink(reinterpret_cast<rtnl_link*>(o)));
    }
    std::sort(links.begin(), links.end(),
              [](const Link& a, const Link& b) { return a.index < b.index; });
    return links;
  }

  absl::StatusOr<std::vector<Address>> Addresses() override {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(CachePtr links, LinkCache());
    nl_cache* raw = nullptr;
    int err = rtnl_addr_alloc_cache(sock_.get(), &raw);
    if (err < 0) {
      return NlError(err, Context("list addresses"));
    }
    CachePtr cache(raw);
    std::vector<Address> addrs;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr;
         o = nl_cache_get_next(o)) {
      auto* a = reinterpret_cast<rtnl_addr*>(o);
      const int family = rtnl_addr_get_family(a);
      const nl_addr* local = rtnl_addr_get_local(a);
      if ((family != AF_INET && family != AF_INET6) || local == nullptr) {
        continue;
      }
      Address addr;
      addr.ifindex = rtnl_addr_get_ifindex(a);
      char name[IFNAMSIZ] = {};
      rtnl_link_i2name(links.get(), addr.ifindex, name, sizeof(name));
      addr.ifname = name;
      addr.family = family;
      addr.address = FormatIp(local);
      addr.prefix_len = rtnl_addr_get_prefixlen(a);
      addr.scope = rtnl_addr_get_scope(a);
      addrs.push_back(std::move(addr));
    }
    std::stable_sort(addrs.begin(), addrs.end(),
                     [](const Address& a, const Address& b) {
                       return a.ifindex < b.ifindex;
                     });
    return addrs;
  }

  absl::StatusOr<std::vector<Route>> Routes() override {
    absl::MutexLock lock(&mu_);
    nl_cache* raw = nullptr;
    int err = rtnl_route_alloc_cache(sock_.get(), AF_UNSPEC, 0, &raw);
    if (err < 0) {
      return NlError(err, Context("list routes"));
    }
    CachePtr cache(raw);
    std::vector<Route> routes;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr;
         o = nl_cache_get_next(o)) {
      auto* r = reinterpret_cast<rtnl_route*>(o);
      const int family = rtnl_route_get_family(r);
      if (rtnl_route_get_type(r) != RTN_UNICAST ||
          (rtnl_route_get_flags(r) & RTM_F_CLONED) != 0 ||
          (family != AF_INET && family != AF_INET6)) {
        continue;
      }
      Route route;
      route.family = family;
      const nl_addr* dst = rtnl_route_get_dst(r);
      if (dst == nullptr || nl_addr_get_len(dst) == 0) {
        route.dst = family == AF_INET ? "0.0.0.0/0" : "::/0";
      } else {
        route.dst =
            absl::StrCat(FormatIp(dst), "/", nl_addr_get_prefixlen(dst));
      }
      if (rtnl_route_get_nnexthops(r) > 0) {
        rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
        route.ifindex = rtnl_route_nh_get_ifindex(nh);
        if (const nl_addr* gw = rtnl_route_nh_get_gateway(nh); gw != nullptr) {
          route.gateway = FormatIp(gw);
        }
      }
      route.table = rtnl_route_get_table(r);
      route.priority = rtnl_route_get_priority(r);
      route.scope = rtnl_route_get_scope(r);
      routes.push_back(std::move(route));
    }
    return routes;
  }

  absl::StatusOr<Link> LinkByName(absl::string_view name) override {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(LinkPtr link, GetLink(name));
    return ToLink(link.get());
  }

  // SetUp sets link `name` administratively up (no request when it
  // already is).
  absl::Status SetUp(absl::string_view name) {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(LinkPtr link, GetLink(name));
    if ((rtnl_link_get_flags(link.get()) & IFF_UP) != 0) {
      return absl::OkStatus();
    }
    LinkPtr change(rtnl_link_alloc());
    if (change == nullptr) {
      return absl::ResourceExhaustedError("rtnl_link_alloc");
    }
    rtnl_link_set_flags(change.get(), IFF_UP);
    int err = rtnl_link_change(sock_.get(), link.get(), change.get(), 0);
    if (err < 0) {
      return NlError(err, Context(absl::StrCat("set ", name, " up")));
    }
    return absl::OkStatus();
  }

  absl::Status AddVethPair(absl::string_view name, absl::string_view mac,
                           uint32_t mtu, int peer_ns_fd,
                           absl::string_view peer_name) {
    absl::MutexLock lock(&mu_);
    LinkPtr link(rtnl_link_veth_alloc());
    if (link == nullptr) {
      return absl::ResourceExhaustedError("rtnl_link_veth_alloc");
    }
    rtnl_link_set_name(link.get(), std::string(name).c_str());
    if (!mac.empty()) {
      OCICNI_ASSIGN_OR_RETURN(NlAddrPtr hw, Parse(mac, AF_LLC));
      rtnl_link_set_addr(link.get(), hw.get());
    }
    if (mtu != 0) {
      rtnl_link_set_mtu(link.get(), mtu);
    }
    rtnl_link* peer = rtnl_link_veth_get_peer(link.get());  // New reference.
    rtnl_link_set_name(peer, std::string(peer_name).c_str());
    rtnl_link_set_ns_fd(peer, peer_ns_fd);
    if (mtu != 0) {
      rtnl_link_set_mtu(peer, mtu);
    }
    rtnl_link_put(peer);
    int err = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0) {
      return NlError(err,
                     Context(absl::StrCat("add veth ", name, "/", peer_name)));
    }
    return absl::OkStatus();
  }

  // AddressOn builds the rtnl address `cidr` on link `ifname`.
  absl::StatusOr<AddrPtr> AddressOn(absl::string_view ifname,
                                    absl::string_view cidr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    OCICNI_ASSIGN_OR_RETURN(LinkPtr link, GetLink(ifname));
    OCICNI_ASSIGN_OR_RETURN(NlAddrPtr local, Parse(cidr, AF_UNSPEC));
    AddrPtr addr(rtnl_addr_alloc());
    if (addr == nullptr) {
      return absl::ResourceExhaustedError("rtnl_addr_alloc");
    }
    rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(link.get()));
    int err = rtnl_addr_set_local(addr.get(), local.get());
    if (err < 0) {
      return NlError(err, absl::StrCat("address ", cidr));
    }
    rtnl_addr_set_prefixlen(addr.get(), nl_addr_get_prefixlen(local.get()));
    if (nl_addr_get_family(local.get()) == AF_INET6) {
      rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
    }
    return addr;
  }

  absl::Status AddAddress(absl::string_view ifname, absl::string_view cidr) {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(AddrPtr addr, AddressOn(ifname, cidr));
    int err = rtnl_addr_add(sock_.get(), addr.get(), 0);
    if (err < 0) {
      return NlError(err, Context(absl::StrCat("add ", cidr, " to ", ifname)));
    }
    return absl::OkStatus();
  }

  absl::Status DeleteAddress(absl::string_view ifname, absl::string_view cidr) {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(AddrPtr addr, AddressOn(ifname, cidr));
    int err = rtnl_addr_delete(sock_.get(), addr.get(), 0);
    if (err < 0) {
      return NlError(err,
                     Context(absl::StrCat("delete ", cidr, " from ", ifname)));
    }
    return absl::OkStatus();
  }

  absl::Status AddRoute(absl::string_view dst_cidr, absl::string_view gateway,
                        absl::string_view ifname) {
    absl::MutexLock lock(&mu_);
    OCICNI_ASSIGN_OR_RETURN(LinkPtr link, GetLink(ifname));
    OCICNI_ASSIGN_OR_RETURN(NlAddrPtr dst, Parse(dst_cidr, AF_UNSPEC));
    RoutePtr route(rtnl_route_alloc());
    if (route == nullptr) {
      return absl::ResourceExhaustedError("rtnl_route_alloc");
    }
    int err = rtnl_route_set_dst(route.get(), dst.get());
    if (err < 0) {
      return NlError(err, absl::StrCat("route to ", dst_cidr));
    }
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (nh == nullptr) {
      return absl::ResourceExhaustedError("rtnl_route_nh_alloc");
    }
    rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(link.get()));
    rtnl_route_add_nexthop(route.get(), nh);  // The route owns nh now.
    if (!gateway.empty()) {
      OCICNI_ASSIGN_OR_RETURN(NlAddrPtr gw,
                              Parse(gateway, nl_addr_get_family(dst.get())));
      rtnl_route_nh_set_gateway(nh, gw.get());
    }
    err = rtnl_route_add(sock_.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0) {
      return NlError(err, Context(absl::StrCat("add route to ", dst_cidr)));
    }
    return absl::OkStatus();
  }

 private:
  std::string Context(absl::string_view what) const {
    return absl::StrCat(what, " in network namespace ", path_);
  }

  absl::StatusOr<CachePtr> LinkCache() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    nl_cache* raw = nullptr;
    int err = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &raw);
    if (err < 0) {
      return NlError(err, Context("list links"));
    }
    return CachePtr(raw);
  }

  absl::StatusOr<LinkPtr> GetLink(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid interface name \"", name, "\""));
    }
    rtnl_link* raw = nullptr;
    int err =
        rtnl_link_get_kernel(sock_.get(), 0, std::string(name).c_str(), &raw);
    if (err < 0) {
      return NlError(err, Context(absl::StrCat("link ", name)));
    }
    return LinkPtr(raw);
  }

  static absl::StatusOr<NlAddrPtr> Parse(absl::string_view text, int family) {
    nl_addr* raw = nullptr;
    int err = nl_addr_parse(std::string(text).c_str(), family, &raw);
    if (err < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot parse address \"", text, "\": ", nl_geterror(err)));
    }
    return NlAddrPtr(raw);
  }

  const std::string path_;
  absl::Mutex mu_;
  const SockPtr sock_ ABSL_PT_GUARDED_BY(mu_);
};

// OpenIn returns a NetlinkInspector whose socket was opened inside `ns`.
absl::StatusOr<std::unique_ptr<NetlinkInspector>> OpenIn(const NetNS& ns) {
  OCICNI_ASSIGN_OR_RETURN(
      SockPtr sock, RunIn(ns, [&ns]() -> absl::StatusOr<SockPtr> {
        SockPtr s(nl_socket_alloc());
        if (s == nullptr)
          return absl::ResourceExhaustedError("nl_socket_alloc");
        int err = nl_connect(s.get(), NETLINK_ROUTE);
        if (err < 0) {
          return NlError(err,
                         absl::StrCat("connect rtnetlink in network namespace ",
                                      ns.path()));
        }
        return s;
      }));
  // Plugins are spawned from other threads; never leak this fd into them.
  const int fd = nl_socket_get_fd(sock.get());
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    return absl::InternalError("cannot set FD_CLOEXEC on the netlink socket");
  }
  VLOG(1) << "opened rtnetlink socket in network namespace " << ns.path();
  return std::make_unique<NetlinkInspector>(ns.path(), std::move(sock));
}

// lo is ifindex 1 in every network namespace: it is registered first, and
// the kernel insists on it (LOOPBACK_IFINDEX, drivers/net/loopback.c).
constexpr int kLoopbackIfindex = 1;

// SetLoopbackUp sets lo up through `rtnl`, a NETLINK_ROUTE socket bound to
// the namespace at `path`: one RTM_NEWLINK request and its ack.
//
// A raw socket rather than libnl: the request is one fixed-size message and
// the reply a single ack, where libnl (3.7) adds to each socket an
// allocation and four system calls (two setsockopt(2), bind(2),
// getsockname(2)) before the first request. The socket is SOCK_CLOEXEC from
// the start (plugins are spawned from other threads at the same time).
//
// Addresses are not checked afterwards: the kernel adds 127.0.0.1/8 (and
// ::1/128 unless IPv6 is disabled on lo) in its NETDEV_UP handlers, which
// run before the ack is sent. That is also all the CNI loopback plugin does.
absl::Status SetLoopbackUp(int rtnl, absl::string_view path) {
  struct {
    nlmsghdr header;
    ifinfomsg link;
  } request = {};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_NEWLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = 1;
  request.link.ifi_family = AF_UNSPEC;
  request.link.ifi_index = kLoopbackIfindex;
  request.link.ifi_flags = IFF_UP;
  request.link.ifi_change = IFF_UP;
  auto context = [&](absl::string_view what) {
    return absl::StrCat(what, " in network namespace ", path);
  };
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  if (RetryOnEintr([&] {
        return ::sendto(rtnl, &request, sizeof(request), 0,
                        reinterpret_cast<const sockaddr*>(&kernel),
                        sizeof(kernel));
      }) < 0) {
    return ErrnoToStatus(errno, context("send set lo up"));
  }
  // The kernel handles the request within sendto() and queues the ack
  // before it returns; other senders' messages (not the kernel's) are
  // skipped.
  for (;;) {
    alignas(nlmsghdr) char reply[1024];
    sockaddr_nl from = {};
    socklen_t from_len = sizeof(from);
    const ssize_t n = RetryOnEintr([&] {
      return ::recvfrom(rtnl, reply, sizeof(reply), 0,
                        reinterpret_cast<sockaddr*>(&from), &from_len);
    });
    if (n < 0) return ErrnoToStatus(errno, context("receive set lo up ack"));
    if (from.nl_pid != 0) continue;
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
    if (!NLMSG_OK(header, static_cast<size_t>(n)) ||
        header->nlmsg_type != NLMSG_ERROR ||
        header->nlmsg_len < NLMSG_LENGTH(sizeof(int)) ||
        header->nlmsg_seq != request.header.nlmsg_seq) {
      return absl::InternalError(
          context("unexpected reply to set lo up (no ack)"));
    }
    const int error = static_cast<const nlmsgerr*>(NLMSG_DATA(header))->error;
    if (error == 0) break;
    if (error == -ENODEV) {
      return absl::NotFoundError(context("set lo up: no lo"));
    }
    return ErrnoToStatus(-error, context("set lo up"));
  }
  VLOG(1) << "loopback up in network namespace " << path;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Inspector>> OpenInspector(const NetNS& ns) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkInspector> inspector,
                          OpenIn(ns));
  return std::unique_ptr<Inspector>(std::move(inspector));
}

absl::Status BringUpLoopback(const NetNS& ns) {
  OCICNI_ASSIGN_OR_RETURN(
      UniqueFd rtnl, RunIn(ns, [&ns]() -> absl::StatusOr<UniqueFd> {
        UniqueFd fd(
            ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
        if (!fd.valid()) {
          return ErrnoToStatus(
              errno, absl::StrCat("rtnetlink socket in network namespace ",
                                  ns.path()));
        }
        return fd;
      }));
  return SetLoopbackUp(rtnl.get(), ns.path());
}

absl::Status BringUpLoopback(WorkerThread& worker, const NetNS& ns) {
  OCICNI_ASSIGN_OR_RETURN(
      UniqueFd rtnl, worker.SocketIn(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  return SetLoopbackUp(rtnl.get(), ns.path());
}

absl::Status AddVethPairForTest(const NetNS& ns, absl::string_view name,
                                absl::string_view mac, uint32_t mtu,
                                const NetNS& peer_ns,
                                absl::string_view peer_name) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkInspector> nl, OpenIn(ns));
  return nl->AddVethPair(name, mac, mtu, peer_ns.fd(), peer_name);
}

absl::Status SetLinkUpForTest(const NetNS& ns, absl::string_view name) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkInspector> nl, OpenIn(ns));
  return nl->SetUp(name);
}

absl::Status AddAddressForTest(const NetNS& ns, absl::string_view ifname,
                               absl::string_view cidr) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkInspector> nl, OpenIn(ns));
  return nl->AddAddress(ifname, cidr);
}

absl::Status DeleteAddressForTest(const NetNS& ns, absl::string_view ifname,
                                  absl::string_view cidr) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkInspector> nl, OpenIn(ns));
  return nl->DeleteAddress(ifname, cidr);
}

absl::Status AddRouteForTest(const NetNS& ns, absl::string_view dst_cidr,
                             absl::string_view gateway,
                             absl::string_view ifname) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkInspector> nl, OpenIn(ns));
  return nl->AddRoute(dst_cidr, gateway, ifname);
}

}  // namespace ocicni::netns
