// Network namespace handles.
//
// A NetNS owns an open file descriptor that refers to a Linux network
// namespace: a file under /var/run/netns (as `ip netns add` makes them),
// /proc/PID/ns/net, or any file a namespace is bind-mounted on. Open checks
// that the file really is a network namespace before handing it out, so the
// fd can be given to setns(2) (see run_in.h) without further checks. Holding
// the fd keeps the namespace alive even if its file is unmounted.
//
//   OCICNI_ASSIGN_OR_RETURN(NetNS pod, NetNS::Open("/var/run/netns/pod1"));
//   OCICNI_ASSIGN_OR_RETURN(NetNS self, NetNS::Current());
//   OCICNI_ASSIGN_OR_RETURN(bool same, SameNamespace(pod, self));
//
// Nothing in this file changes any thread's namespace.
#ifndef OCICNI_NETNS_NETNS_H_
#define OCICNI_NETNS_NETNS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/posix.h"

namespace ocicni::netns {

// NetNS is a move-only handle on a network namespace. It is immutable after
// construction; a const NetNS may be shared between threads.
class NetNS {
 public:
  // Open opens `path` read-only (O_CLOEXEC) and verifies that it refers to a
  // network namespace: the file system must be nsfs (or procfs on kernels
  // older than 3.19) and, where the kernel supports NS_GET_NSTYPE (4.11+),
  // the namespace type must be CLONE_NEWNET. Errors name the path:
  //   kNotFound          the path (or a directory on it) does not exist
  //   kPermissionDenied  the caller may not open it
  //   kInvalidArgument   it exists but is not a network namespace (a plain
  //                      file, a directory, another kind of namespace), or
  //                      the path is empty
  //   other codes        as ErrnoToStatus for unexpected errno values
  // Thread-safe. Does not block beyond the open(2).
  static absl::StatusOr<NetNS> Open(absl::string_view path);

  // Current returns a handle on the calling thread's network namespace,
  // opened through /proc/self/task/TID/ns/net. The handle stays valid after
  // the thread exits; its path() then no longer resolves.
  static absl::StatusOr<NetNS> Current();

  NetNS(NetNS&&) = default;
  NetNS& operator=(NetNS&&) = default;
  NetNS(const NetNS&) = delete;
  NetNS& operator=(const NetNS&) = delete;

  // path is the path the handle was opened from, for messages and for
  // passing to CNI plugins as CNI_NETNS.
  const std::string& path() const { return path_; }
  // fd is the open namespace descriptor; it is owned by this handle.
  int fd() const { return fd_.get(); }

 private:
  NetNS(std::string path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
};

// SameNamespace reports whether `a` and `b` refer to the same namespace
// (same nsfs device and inode). fstat(2) failures (not expected on a valid
// handle) map as ErrnoToStatus. Thread-safe; does not block.
absl::StatusOr<bool> SameNamespace(const NetNS& a, const NetNS& b);

}  // namespace ocicni::netns

#endif  // OCICNI_NETNS_NETNS_H_
