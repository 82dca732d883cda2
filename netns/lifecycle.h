// Creating and deleting persistent network namespaces.
//
// A persistent namespace is a new network namespace bind-mounted onto a file,
// which keeps it alive without any process inside. Named namespaces use the
// same layout as `ip netns add/del` (iproute2): the file is RUNTIME_DIR/NAME,
// RUNTIME_DIR defaults to /var/run/netns and is made a shared mount point, so
// `ip netns list/exec` and CNI plugins see what this library creates, and
// vice versa.
//
//   OCICNI_ASSIGN_OR_RETURN(NetNS pod, CreateNamed("pod-1234"));
//   ... pod.path() is "/var/run/netns/pod-1234" ...
//   OCICNI_RETURN_IF_ERROR(DeleteNamed("pod-1234"));
//
// CreateAt/DeleteAt do the same at an arbitrary path without touching any
// runtime dir (tests use a file under $TEST_TMPDIR).
//
// All functions need CAP_SYS_ADMIN (mount, unshare); without it they return
// kPermissionDenied. None of them changes the calling thread's namespace.
#ifndef OCICNI_NETNS_LIFECYCLE_H_
#define OCICNI_NETNS_LIFECYCLE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netns/netns.h"

namespace ocicni::netns {

// kDefaultRuntimeDir is where iproute2 keeps named network namespaces.
inline constexpr char kDefaultRuntimeDir[] = "/var/run/netns";

// NamedOptions configures where named namespaces live.
struct NamedOptions {
  // runtime_dir holds one file per named namespace. Created (mode 0755) if
  // missing, and made a shared mount point like iproute2 does.
  std::string runtime_dir = kDefaultRuntimeDir;
};

// NamedPath returns RUNTIME_DIR/NAME. kInvalidArgument if `name` is empty,
// "." or "..", contains '/' or NUL, or is longer than 255 bytes.
absl::StatusOr<std::string> NamedPath(absl::string_view name,
                                      const NamedOptions& options = {});

// CreateNamed creates a new network namespace named `name` and returns a
// handle on it. Errors: kInvalidArgument for a bad name, kAlreadyExists if
// the file exists, kPermissionDenied without privileges, others as
// ErrnoToStatus naming the failing step and path. On failure nothing is left
// behind except the runtime dir and its mount. Blocks for a few syscalls on
// a short-lived thread. Thread-safe for distinct names; concurrent creation
// of the same name fails for all but one caller with kAlreadyExists.
absl::StatusOr<NetNS> CreateNamed(absl::string_view name,
                                  const NamedOptions& options = {});

// DeleteNamed deletes the namespace named `name` (see DeleteAt). Deleting a
// namespace that does not exist is OK.
absl::Status DeleteNamed(absl::string_view name,
                         const NamedOptions& options = {});

// CreateAt creates a new network namespace and bind-mounts it onto `path`,
// which must not exist (its directory must). Errors as CreateNamed.
absl::StatusOr<NetNS> CreateAt(absl::string_view path);

// DeleteAt unmounts the namespace at `path` (MNT_DETACH, so open handles and
// processes inside keep it alive until they are gone) and removes the file.
// Idempotent: a missing path is OK, and so is an unmounted empty file left
// by an interrupted create. kInvalidArgument, without touching anything, if
// `path` is neither a mounted network namespace nor such an empty file; other
// errors as ErrnoToStatus naming the step. Thread-safe; does not block.
absl::Status DeleteAt(absl::string_view path);

}  // namespace ocicni::netns

#endif  // OCICNI_NETNS_LIFECYCLE_H_
