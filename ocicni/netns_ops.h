// NetnsOps: what the library does inside a pod's network namespace, behind a
// small interface so that the facade can be tested without root
// (testing/fake_netns_ops.h) and runs against the kernel through netns/ in
// production (NewNetnsOps).
//
//   std::unique_ptr<NetnsOps> ops = NewNetnsOps();
//   OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<PendingLoopback> lo,
//                           ops->StartBringUpLoopback("/var/run/netns/pod"));
//   ... other work on the pod, meanwhile ...
//   OCICNI_RETURN_IF_ERROR(lo->Wait());
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

// PendingLoopback is a bring-up of `lo` in progress (StartBringUpLoopback).
class PendingLoopback {
 public:
  // The destructor waits for the bring-up, as Wait does, if it has not
  // been waited for: none outlives its handle.
  virtual ~PendingLoopback() = default;

  // Wait blocks until the bring-up has finished (one netlink round trip in
  // the kernel implementation; there is no deadline) and returns its
  // outcome: kPermissionDenied, others from netlink; all name the path.
  // Call it once, from one thread.
  virtual absl::Status Wait() = 0;
};

class NetnsOps {
 public:
  virtual ~NetnsOps() = default;

  // StartBringUpLoopback starts setting `lo` up in the namespace at
  // `netns_path` and returns without waiting for it. It opens the path
  // first, so a bad one fails here, before anything started: kNotFound (no
  // such path), kInvalidArgument (not a network namespace),
  // kPermissionDenied; the status names the path. Thread-safe.
  virtual absl::StatusOr<std::unique_ptr<PendingLoopback>> StartBringUpLoopback(
      absl::string_view netns_path) = 0;

  // BringUpLoopback is StartBringUpLoopback and Wait, with their errors.
  absl::Status BringUpLoopback(absl::string_view netns_path);

  // GetInterfaceState reads interface `ifname` in the namespace at
  // `netns_path`. Errors as BringUpLoopback; kNotFound for a missing
  // interface. Thread-safe; blocks for a thread start and two netlink dumps.
  virtual absl::StatusOr<InterfaceState> GetInterfaceState(
      absl::string_view netns_path, absl::string_view ifname) = 0;
};

// NewNetnsOps returns the real implementation (netns/ and libnl). It brings
// `lo` up from a few persistent threads (netns/workers.h), started on first
// use and joined when it is destroyed.
std::unique_ptr<NetnsOps> NewNetnsOps();

}  // namespace ocicni

#endif  // OCICNI_OCICNI_NETNS_OPS_H_
