// Internal to //netns: the decision whether an open file is a network
// namespace, split from the syscalls that gather its inputs so the mapping to
// status codes can be tested without root or special files.
#ifndef OCICNI_NETNS_INTERNAL_VERIFY_H_
#define OCICNI_NETNS_INTERNAL_VERIFY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ocicni::netns::netns_internal {

// NsFileFacts is what the kernel says about an open file.
struct NsFileFacts {
  // fs_magic is statfs(2)'s f_type for the file.
  int64_t fs_magic = 0;
  // nstype is ioctl(NS_GET_NSTYPE)'s result (a CLONE_NEW* flag), or -1 when
  // the ioctl failed with nstype_errno.
  int nstype = -1;
  int nstype_errno = 0;
  // kernel_has_nsfs is true when this kernel exposes namespaces on nsfs
  // (3.19+); procfs files are then never namespaces.
  bool kernel_has_nsfs = true;
};

// CheckNetNSFile returns OK when `facts` describe a network namespace, and
// kInvalidArgument naming `path` and the reason otherwise.
absl::Status CheckNetNSFile(absl::string_view path, const NsFileFacts& facts);

// OpenErrorToStatus maps an open(2) errno for namespace file `path` to a
// status: ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied,
// ENOTDIR/ELOOP/... -> kInvalidArgument, as ErrnoToStatus.
absl::Status OpenErrorToStatus(int errno_value, absl::string_view path);

}  // namespace ocicni::netns::netns_internal

#endif  // OCICNI_NETNS_INTERNAL_VERIFY_H_
