#include "config/inotify_dir_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "config/internal/paths.h"
#include "glog/logging.h"

namespace ocicni::config {
namespace {

using config_internal::Dirname;
using config_internal::JoinPath;
using config_internal::StripTrailingSlashes;

// Everything that can change what a directory holds, plus the directory's
// own removal. IN_IGNORED is always delivered.
constexpr uint32_t kMask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO |
                           IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                           IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// The poll timeout for `deadline`: -1 for none, else milliseconds rounded
// up (so that we never wake before the deadline), capped.
int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

}  // namespace

absl::StatusOr<std::unique_ptr<InotifyDirWatcher>> InotifyDirWatcher::Create() {
  UniqueFd inotify_fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_fd) return ErrnoToStatus(errno, "inotify_init1");
  UniqueFd wake_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd) return ErrnoToStatus(errno, "eventfd");
  return std::unique_ptr<InotifyDirWatcher>(
      new InotifyDirWatcher(std::move(inotify_fd), std::move(wake_fd)));
}

InotifyDirWatcher::InotifyDirWatcher(UniqueFd inotify_fd, UniqueFd wake_fd)
    : inotify_fd_(std::move(inotify_fd)), wake_fd_(std::move(wake_fd)) {}

absl::Status InotifyDirWatcher::SetDirs(const std::vector<std::string>& dirs) {
  targets_.clear();
  for (const std::string& dir : dirs) {
    targets_.emplace_back(StripTrailingSlashes(dir));
  }
  return Resync();
}

absl::Status InotifyDirWatcher::Resync() {
  absl::flat_hash_map<int, Watch> next;
  absl::Status status;
  for (const std::string& target : targets_) {
    std::string path = target;
    bool is_target = true;
    while (true) {
      int wd = inotify_add_watch(inotify_fd_.get(), path.c_str(), kMask);
      if (wd >= 0) {
        auto [it, inserted] = next.try_emplace(wd, Watch{path, is_target});
        if (!inserted && is_target && it->second.path == path) {
          it->second.target = true;
        }
        break;
      }
      int error = errno;
      if ((error == ENOENT || error == ENOTDIR) && path != "/" && path != ".") {
        // Missing (or not a directory yet): watch the parent for it.
        path = std::string(Dirname(path));
        is_target = false;
        continue;
      }
      absl::Status failed =
          ErrnoToStatus(error, absl::StrCat("inotify_add_watch ", path));
      LOG(WARNING) << "cannot watch " << target << ": " << failed;
      if (status.ok()) status = failed;
      break;
    }
  }
  for (const auto& [wd, watch] : watches_) {
    if (!next.contains(wd)) inotify_rm_watch(inotify_fd_.get(), wd);
  }
  watches_ = std::move(next);
  VLOG(2) << "inotify: " << watches_.size() << " watches for "
          << targets_.size() << " dirs";
  return status;
}

bool InotifyDirWatcher::IsTargetOrAncestor(absl::string_view path) const {
  for (const std::string& target : targets_) {
    if (target == path) return true;
    if (target.size() > path.size() && absl::StartsWith(target, path) &&
        (target[path.size()] == '/' || path == "/")) {
      return true;
    }
  }
  return false;
}

absl::Status InotifyDirWatcher::ReadEvents(bool* changed, bool* resync) {
  alignas(struct inotify_event) char buffer[16 * 1024];
  while (true) {
    ssize_t n = read(inotify_fd_.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return absl::OkStatus();
      return ErrnoToStatus(errno, "read inotify events");
    }
    if (n == 0) return absl::OkStatus();
    for (char* p = buffer; p < buffer + n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + event->len;
      if (event->mask & IN_Q_OVERFLOW) {
        VLOG(1) << "inotify queue overflow: rescanning";
        *changed = *resync = true;
        continue;
      }
      auto it = watches_.find(event->wd);
      if (it == watches_.end()) continue;  // a watch we dropped
      const Watch& watch = it->second;
      if (event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        VLOG(1) << "inotify: " << watch.path << " went away";
        *changed = *resync = true;
        if (event->mask & IN_IGNORED) watches_.erase(it);
        continue;
      }
      if (watch.target) *changed = true;
      if (event->len > 0 &&
          IsTargetOrAncestor(JoinPath(watch.path, event->name))) {
        // A target (or a directory on the way to one) appeared or went.
        *changed = *resync = true;
      }
    }
  }
}

absl::StatusOr<DirWatcher::Event> InotifyDirWatcher::Wait(absl::Time deadline) {
  while (true) {
    struct pollfd fds[2] = {{inotify_fd_.get(), POLLIN, 0},
                            {wake_fd_.get(), POLLIN, 0}};
    int ready = poll(fds, 2, PollTimeoutMs(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "poll inotify");
    }
    if (fds[1].revents & POLLIN) {
      uint64_t count;
      RetryOnEintr([&] { return read(wake_fd_.get(), &count, sizeof(count)); });
      return Event::kInterrupted;
    }
    if (ready == 0) {
      if (absl::Now() >= deadline) return Event::kTimeout;
      continue;
    }
    if ((fds[0].revents | fds[1].revents) & (POLLERR | POLLHUP | POLLNVAL)) {
      return absl::InternalError("inotify or wake descriptor failed");
    }
    bool changed = false;
    bool resync = false;
    absl::Status status = ReadEvents(&changed, &resync);
    if (!status.ok()) return status;
    if (resync) {
      status = Resync();
      if (!status.ok()) return status;
    }
    if (changed) return Event::kChanged;
  }
}

void InotifyDirWatcher::Interrupt() {
  uint64_t one = 1;
  RetryOnEintr([&] { return write(wake_fd_.get(), &one, sizeof(one)); });
}

std::vector<std::string> InotifyDirWatcher::WatchedPathsForTest() const {
  std::vector<std::string> paths;
  for (const auto& [wd, watch] : watches_) paths.push_back(watch.path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace ocicni::config
