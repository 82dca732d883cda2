// FakeNetnsOps: an in-memory NetnsOps for tests of the facade without root.
//
//   auto ops = std::make_unique<FakeNetnsOps>();
//   FakeNetnsOps* fake = ops.get();
//   fake->SetInterface("/run/netns/p", {"eth0", "02:00:00:00:00:01",
//                                       {"10.1.0.5/16"}});
//   fake->HoldLoopback();  // bring-ups stay pending until ReleaseLoopback()
//   ... inject `ops` ...
//   EXPECT_EQ(fake->loopback_calls().size(), 1);
//   EXPECT_EQ(fake->loopback_pending(), 0);
#ifndef OCICNI_TESTING_FAKE_NETNS_OPS_H_
#define OCICNI_TESTING_FAKE_NETNS_OPS_H_

#include <map>
#include <memory>
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

  // FailLoopback makes bring-ups started from now on in `netns` (in every
  // namespace when empty) end with `status` (from Wait). A status for one
  // namespace wins over the one for all.
  void FailLoopback(absl::Status status, const std::string& netns = "") {
    absl::MutexLock lock(&mu_);
    loopback_errors_[netns] = std::move(status);
  }

  // FailLoopbackStart makes StartBringUpLoopback fail with `status`, as when
  // the namespace path cannot be opened.
  void FailLoopbackStart(absl::Status status) {
    absl::MutexLock lock(&mu_);
    start_error_ = std::move(status);
  }

  // HoldLoopback keeps bring-ups from finishing (Wait blocks) until
  // ReleaseLoopback.
  void HoldLoopback() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void ReleaseLoopback() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }

  // loopback_calls lists the namespaces of the bring-ups started.
  std::vector<std::string> loopback_calls() {
    absl::MutexLock lock(&mu_);
    return loopback_calls_;
  }

  // loopback_pending counts the bring-ups started and not yet finished (a
  // bring-up finishes when Wait returns or its handle is destroyed).
  int loopback_pending() {
    absl::MutexLock lock(&mu_);
    return pending_;
  }

  absl::StatusOr<std::unique_ptr<PendingLoopback>> StartBringUpLoopback(
      absl::string_view netns_path) override {
    absl::MutexLock lock(&mu_);
    if (!start_error_.ok()) return start_error_;
    loopback_calls_.emplace_back(netns_path);
    ++pending_;
    auto it = loopback_errors_.find(std::string(netns_path));
    if (it == loopback_errors_.end()) it = loopback_errors_.find("");
    return std::make_unique<Pending>(
        this, it == loopback_errors_.end() ? absl::OkStatus() : it->second);
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
  class Pending final : public PendingLoopback {
   public:
    Pending(FakeNetnsOps* ops, absl::Status status)
        : ops_(ops), status_(std::move(status)) {}
    ~Pending() override {
      if (!finished_) Wait().IgnoreError();
    }

    absl::Status Wait() override {
      absl::MutexLock lock(&ops_->mu_);
      ops_->mu_.Await(absl::Condition(
          +[](bool* held) { return !*held; }, &ops_->held_));
      if (!finished_) --ops_->pending_;
      finished_ = true;
      return status_;
    }

   private:
    FakeNetnsOps* const ops_;
    const absl::Status status_;
    bool finished_ = false;
  };

  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, InterfaceState> interfaces_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> loopback_errors_ ABSL_GUARDED_BY(mu_);
  absl::Status start_error_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> loopback_calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FAKE_NETNS_OPS_H_
