#include "ocicni/netns_ops.h"

#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "netns/inspector.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/workers.h"

namespace ocicni {

absl::Status NetnsOps::BringUpLoopback(absl::string_view netns_path) {
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<PendingLoopback> pending,
                          StartBringUpLoopback(netns_path));
  return pending->Wait();
}

namespace {

// Worker threads for lo bring-ups. The kernel serializes link changes
// (rtnl_lock), so more threads would only overlap the namespace switches.
constexpr int kLoopbackWorkers = 2;

// LoopbackOutcome is where a worker leaves a bring-up's status.
class LoopbackOutcome {
 public:
  void Set(absl::Status status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    done_ = true;
  }

  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

class KernelPendingLoopback final : public PendingLoopback {
 public:
  explicit KernelPendingLoopback(std::shared_ptr<LoopbackOutcome> outcome)
      : outcome_(std::move(outcome)) {}
  ~KernelPendingLoopback() override {
    if (!waited_) outcome_->Wait().IgnoreError();
  }

  absl::Status Wait() override {
    waited_ = true;
    return outcome_->Wait();
  }

 private:
  const std::shared_ptr<LoopbackOutcome> outcome_;
  bool waited_ = false;
};

class KernelNetnsOps final : public NetnsOps {
 public:
  absl::StatusOr<std::unique_ptr<PendingLoopback>> StartBringUpLoopback(
      absl::string_view netns_path) override {
    OCICNI_ASSIGN_OR_RETURN(netns::NetNS ns, netns::NetNS::Open(netns_path));
    auto outcome = std::make_shared<LoopbackOutcome>();
    workers_.Post(
        [ns = std::move(ns), outcome](netns::WorkerThread& worker) mutable {
          absl::Status status = netns::BringUpLoopback(worker, ns);
          // Nothing of the pod stays open once the waiter hears about it.
          { netns::NetNS closed = std::move(ns); }
          outcome->Set(std::move(status));
        });
    return std::make_unique<KernelPendingLoopback>(std::move(outcome));
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

 private:
  netns::NamespaceWorkers workers_{kLoopbackWorkers};
};

}  // namespace

std::unique_ptr<NetnsOps> NewNetnsOps() {
  return std::make_unique<KernelNetnsOps>();
}

}  // namespace ocicni
