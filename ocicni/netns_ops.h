// NetnsOps: what the library does inside a pod's network namespace, behind a
// small interface so that the facade can be tested without root
// (testing/fake_netns_ops.h) and runs against the kernel through netns/ in
// production (NewNetnsOps).
//
//   std::unique_ptr<NetnsOps> ops = NewNetnsOps();
//   OCICNI_RETURN_IF_ERROR(ops->BringUpLoopback("/var/run/netns/pod"));
//   OCICNI_ASSIGN_OR_RETURN(InterfaceState eth0,
//                           ops->InterfaceState("/var/run/netns/pod", "eth0"));
#ifndef OCICNI_OCICNI_NETNS_OPS_H_
#define OCICNI_OCICNI_NETNS_OPS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ocicni {

// InterfaceState is an interface of a pod as the kernel sees it now.
struct InterfaceState {
  std::string name;
  std::string mac;
  // Global-scope addresses in CIDR form ("10.1.0.5/16"), IPv4 first.
  std::vector<std::string> addresses;
};

class NetnsOps {
 public:
  virtual ~NetnsOps() = default;

  // BringUpLoopback sets `lo` up in the namespace at `netns_path`.
  // Errors: kNotFound (no such path), kInvalidArgument (not a network
  // namespace), kPermissionDenied, others from netlink; all name the path.
  virtual absl::Status BringUpLoopback(absl::string_view netns_path) = 0;

  // GetInterfaceState reads interface `ifname` in the namespace at
  // `netns_path`. Errors as BringUpLoopback; kNotFound for a missing
  // interface.
  virtual absl::StatusOr<InterfaceState> GetInterfaceState(
      absl::string_view netns_path, absl::string_view ifname) = 0;
};

// NewNetnsOps returns the real implementation (netns/ and libnl).
std::unique_ptr<NetnsOps> NewNetnsOps();

}  // namespace ocicni

#endif  // OCICNI_OCICNI_NETNS_OPS_H_
