#include "ocicni/netns_ops.h"

#include <sys/socket.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "netns/inspector.h"
#include "netns/netlink.h"
#include "netns/netns.h"

namespace ocicni {
namespace {

class KernelNetnsOps final : public NetnsOps {
 public:
  absl::Status BringUpLoopback(absl::string_view netns_path) override {
    OCICNI_ASSIGN_OR_RETURN(netns::NetNS ns, netns::NetNS::Open(netns_path));
    return netns::BringUpLoopback(ns);
  }

  absl::StatusOr<InterfaceState> GetInterfaceState(
      absl::string_view netns_path, absl::string_view ifname) override {
    OCICNI_ASSIGN_OR_RETURN(netns::NetNS ns, netns::NetNS::Open(netns_path));
    OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<netns::Inspector> inspector,
                            netns::OpenInspector(ns));
    OCICNI_ASSIGN_OR_RETURN(netns::Link link, inspector->LinkByName(ifname));
    OCICNI_ASSIGN_OR_RETURN(std::vector<netns::Address> addresses,
                            inspector->Addresses());
    InterfaceState state;
    state.name = link.name;
    state.mac = link.mac;
    std::stable_sort(addresses.begin(), addresses.end(),
                     [](const netns::Address& a, const netns::Address& b) {
                       return a.family == AF_INET && b.family != AF_INET;
                     });
    for (const netns::Address& a : addresses) {
      if (a.ifindex != link.index || a.scope != 0) continue;  // global only
      state.addresses.push_back(absl::StrCat(a.address, "/", a.prefix_len));
    }
    return state;
  }
};

}  // namespace

std::unique_ptr<NetnsOps> NewNetnsOps() {
  return std::make_unique<KernelNetnsOps>();
}

}  // namespace ocicni
