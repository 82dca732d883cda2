#include "testing/fake_dir_watcher.h"

#include <utility>

namespace ocicni::testutil {

absl::Status FakeDirWatcher::SetDirs(const std::vector<std::string>& dirs) {
  absl::MutexLock lock(&mu_);
  ++set_dirs_calls_;
  if (!set_dirs_error_.ok()) return set_dirs_error_;
  dirs_ = dirs;
  return absl::OkStatus();
}

absl::StatusOr<config::DirWatcher::Event> FakeDirWatcher::Wait(
    absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  waiting_ = true;
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return interrupted_ || !wait_error_.ok() || changed_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  waiting_ = false;
  if (interrupted_) {
    interrupted_ = false;
    return Event::kInterrupted;
  }
  if (!wait_error_.ok()) return std::exchange(wait_error_, absl::OkStatus());
  if (changed_) {
    changed_ = false;
    return Event::kChanged;
  }
  return Event::kTimeout;
}

void FakeDirWatcher::Interrupt() {
  absl::MutexLock lock(&mu_);
  interrupted_ = true;
}

void FakeDirWatcher::Notify() {
  absl::MutexLock lock(&mu_);
  changed_ = true;
}

void FakeDirWatcher::FailSetDirs(absl::Status status) {
  absl::MutexLock lock(&mu_);
  set_dirs_error_ = std::move(status);
}

void FakeDirWatcher::FailNextWait(absl::Status status) {
  absl::MutexLock lock(&mu_);
  wait_error_ = std::move(status);
}

std::vector<std::string> FakeDirWatcher::dirs() const {
  absl::MutexLock lock(&mu_);
  return dirs_;
}

int FakeDirWatcher::set_dirs_calls() const {
  absl::MutexLock lock(&mu_);
  return set_dirs_calls_;
}

bool FakeDirWatcher::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

}  // namespace ocicni::testutil
