// InotifyDirWatcher: the real DirWatcher, on Linux inotify.
//
// Each target directory is watched for IN_CREATE, IN_CLOSE_WRITE,
// IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE, IN_ATTRIB and, for the directory
// itself, IN_DELETE_SELF, IN_MOVE_SELF and IN_IGNORED. A directory that is
// missing, or that is deleted or moved away while watched, is covered by a
// watch on its nearest existing ancestor; when the path reappears (mkdir,
// or a directory renamed into place) the watch moves back onto it and
// kChanged is reported, so a conf dir removed with `rm -rf` and recreated is
// followed, not lost. A queue overflow is reported as kChanged (the store
// rescans everything anyway).
//
// Files being written are not special: every IN_CLOSE_WRITE / IN_MOVED_TO is
// reported, and the store debounces bursts before it reads.
//
//   OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<InotifyDirWatcher> watcher,
//                           InotifyDirWatcher::Create());
//   OCICNI_RETURN_IF_ERROR(watcher->SetDirs({"/etc/cni/net.d"}));
//
// Threading as DirWatcher.
#ifndef OCICNI_CONFIG_INOTIFY_DIR_WATCHER_H_
#define OCICNI_CONFIG_INOTIFY_DIR_WATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/posix.h"
#include "config/dir_watcher.h"

namespace ocicni::config {

class InotifyDirWatcher final : public DirWatcher {
 public:
  // Create opens the inotify instance. Errors: inotify is unavailable
  // (ErrnoToStatus of inotify_init1/eventfd, e.g. kResourceExhausted for
  // EMFILE when the per-user instance limit is reached).
  static absl::StatusOr<std::unique_ptr<InotifyDirWatcher>> Create();

  absl::Status SetDirs(const std::vector<std::string>& dirs) override;
  absl::StatusOr<Event> Wait(absl::Time deadline) override;
  void Interrupt() override;

  // WatchedPathsForTest returns the paths currently holding a watch (targets
  // or stand-in ancestors), sorted.
  std::vector<std::string> WatchedPathsForTest() const;

 private:
  InotifyDirWatcher(UniqueFd inotify_fd, UniqueFd wake_fd);

  // Resync puts a watch on every target, or on its nearest existing
  // ancestor, and drops the watches no longer needed.
  absl::Status Resync();
  // ReadEvents drains the inotify queue. Sets *changed when a target saw
  // something (or a missing target appeared), *resync when the watch set
  // must be recomputed.
  absl::Status ReadEvents(bool* changed, bool* resync);
  // IsTargetOrAncestor reports whether `path` is a target or a proper
  // ancestor of one.
  bool IsTargetOrAncestor(absl::string_view path) const;

  UniqueFd inotify_fd_;
  UniqueFd wake_fd_;  // eventfd written by Interrupt
  std::vector<std::string> targets_;
  // Watch descriptor -> the path it was added for, and whether that path is
  // a target (else it stands in for a missing target below it).
  struct Watch {
    std::string path;
    bool target = false;
  };
  absl::flat_hash_map<int, Watch> watches_;
};

}  // namespace ocicni::config

#endif  // OCICNI_CONFIG_INOTIFY_DIR_WATCHER_H_
