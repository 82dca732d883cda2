// DirWatcher: the OS boundary for noticing changes in a set of directories.
//
// ConfigStore (config/config_store.h) uses it to reload when files appear,
// change or go away in the conf dirs. It only needs to know *that* something
// may have changed, not what: it always rebuilds the whole snapshot. The real
// implementation is InotifyDirWatcher (config/inotify_dir_watcher.h); tests
// use ocicni::testutil::FakeDirWatcher (//testing:fake_dir_watcher).
//
//   std::unique_ptr<DirWatcher> watcher = ...;
//   OCICNI_RETURN_IF_ERROR(watcher->SetDirs({"/etc/cni/net.d"}));
//   while (true) {
//     OCICNI_ASSIGN_OR_RETURN(DirWatcher::Event event,
//                             watcher->Wait(absl::InfiniteFuture()));
//     if (event == DirWatcher::Event::kInterrupted) break;
//     if (event == DirWatcher::Event::kChanged) Reload();
//   }
//
// Threading: SetDirs and Wait are called from one thread at a time (the
// watching thread); Interrupt may be called from any thread, concurrently.
#ifndef OCICNI_CONFIG_DIR_WATCHER_H_
#define OCICNI_CONFIG_DIR_WATCHER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ocicni::config {

class DirWatcher {
 public:
  enum class Event {
    kChanged,      // something in (or of) a watched directory changed
    kTimeout,      // the deadline passed without a change
    kInterrupted,  // Interrupt() was called
  };

  virtual ~DirWatcher() = default;

  // SetDirs replaces the set of watched directories. A directory that does
  // not exist (yet) is fine: the watcher reports kChanged when it appears and
  // follows it from then on, also across deletion and re-creation.
  //
  // Errors: the watch could not be established for some directory (e.g.
  // kResourceExhausted when the inotify watch limit is hit); the others are
  // still watched. Blocks only for a few syscalls.
  virtual absl::Status SetDirs(const std::vector<std::string>& dirs) = 0;

  // Wait blocks until a change is seen in the watched directories (kChanged),
  // `deadline` passes (kTimeout), or Interrupt is called (kInterrupted). An
  // Interrupt that comes while no Wait is running makes the next Wait return
  // kInterrupted at once.
  //
  // Errors: the watcher failed (a read error, or re-establishing a watch
  // failed). The caller should not trust it to report changes until a later
  // SetDirs succeeds.
  virtual absl::StatusOr<Event> Wait(absl::Time deadline) = 0;

  // Interrupt wakes Wait. Thread-safe; never blocks.
  virtual void Interrupt() = 0;
};

}  // namespace ocicni::config

#endif  // OCICNI_CONFIG_DIR_WATCHER_H_
