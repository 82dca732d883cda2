// FakeDirWatcher: a DirWatcher (config/dir_watcher.h) driven by the test.
//
// Nothing is watched; the test says when something changed, and can make
// SetDirs or Wait fail to exercise a caller's recovery.
//
//   auto watcher = std::make_unique<testutil::FakeDirWatcher>();
//   testutil::FakeDirWatcher* fake = watcher.get();
//   config::ConfigStore store(options, std::move(watcher));
//   fake->Notify();  // the store's Wait returns kChanged
//
// Thread-safe: the test thread drives it while the code under test waits.
#ifndef OCICNI_TESTING_FAKE_DIR_WATCHER_H_
#define OCICNI_TESTING_FAKE_DIR_WATCHER_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/dir_watcher.h"

namespace ocicni::testutil {

class FakeDirWatcher final : public config::DirWatcher {
 public:
  // DirWatcher: SetDirs records the dirs (or fails, see FailSetDirs); Wait
  // returns kInterrupted after Interrupt, a failure set by FailNextWait,
  // kChanged after Notify, else kTimeout at the deadline.
  absl::Status SetDirs(const std::vector<std::string>& dirs) override;
  absl::StatusOr<Event> Wait(absl::Time deadline) override;
  void Interrupt() override;

  // Notify reports a change: the running or next Wait returns kChanged
  // (several Notify calls before a Wait make one kChanged).
  void Notify();
  // FailSetDirs makes every SetDirs fail with `status` from now on (OK
  // lets them succeed again).
  void FailSetDirs(absl::Status status);
  // FailNextWait makes the running or next Wait fail with `status`.
  void FailNextWait(absl::Status status);

  // dirs returns what the last successful SetDirs set.
  std::vector<std::string> dirs() const;
  // set_dirs_calls counts SetDirs calls, failed ones included.
  int set_dirs_calls() const;
  // waiting reports whether a Wait is blocked right now.
  bool waiting() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  int set_dirs_calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status set_dirs_error_ ABSL_GUARDED_BY(mu_);
  absl::Status wait_error_ ABSL_GUARDED_BY(mu_);
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FAKE_DIR_WATCHER_H_
