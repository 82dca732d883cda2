// FakeNetnsOps: an in-memory NetnsOps for tests of the facade without root.
//
//   auto ops = std::make_unique<FakeNetnsOps>();
//   FakeNetnsOps* fake = ops.get();
//   fake->SetInterface("/run/netns/p", {"eth0", "02:00:00:00:00:01",
//                                       {"10.1.0.5/16"}});
//   ... inject `ops` ...
//   EXPECT_EQ(fake->loopback_calls(), 1);
#ifndef OCICNI_TESTING_FAKE_NETNS_OPS_H_
#define OCICNI_TESTING_FAKE_NETNS_OPS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ocicni/netns_ops.h"

namespace ocicni::testutil {

class FakeNetnsOps final : public NetnsOps {
 public:
  // SetInterface makes GetInterfaceState(netns, state.name) return `state`.
  void SetInterface(const std::string& netns, InterfaceState state) {
    absl::MutexLock lock(&mu_);
    interfaces_[{netns, state.name}] = std::move(state);
  }

  // FailLoopback makes BringUpLoopback fail with `status`.
  void FailLoopback(absl::Status status) {
    absl::MutexLock lock(&mu_);
    loopback_error_ = std::move(status);
  }

  std::vector<std::string> loopback_calls() {
    absl::MutexLock lock(&mu_);
    return loopback_calls_;
  }

  absl::Status BringUpLoopback(absl::string_view netns_path) override {
    absl::MutexLock lock(&mu_);
    loopback_calls_.emplace_back(netns_path);
    return loopback_error_;
  }

  absl::StatusOr<InterfaceState> GetInterfaceState(
      absl::string_view netns_path, absl::string_view ifname) override {
    absl::MutexLock lock(&mu_);
    auto it = interfaces_.find({std::string(netns_path), std::string(ifname)});
    if (it == interfaces_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no interface ", ifname, " in ", netns_path));
    }
    return it->second;
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, InterfaceState> interfaces_
      ABSL_GUARDED_BY(mu_);
  absl::Status loopback_error_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> loopback_calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FAKE_NETNS_OPS_H_
