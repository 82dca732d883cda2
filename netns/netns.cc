#include "netns/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "netns/internal/verify.h"

namespace ocicni::netns {
namespace netns_internal {
namespace {

// NamespaceKind names a CLONE_NEW* flag for messages.
const char* NamespaceKind(int nstype) {
  switch (nstype) {
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWNS:
      return "mnt";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case 0x00000080:  // CLONE_NEWTIME, missing from older headers.
      return "time";
    default:
      return "unknown";
  }
}

}  // namespace

absl::Status CheckNetNSFile(absl::string_view path, const NsFileFacts& facts) {
  const bool nsfs = facts.fs_magic == static_cast<int64_t>(NSFS_MAGIC);
  const bool procfs = facts.fs_magic == static_cast<int64_t>(PROC_SUPER_MAGIC);
  if (!nsfs && !procfs) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is not a network namespace (file system magic 0x%x, want nsfs)",
        path, facts.fs_magic));
  }
  if (facts.nstype >= 0) {
    if (facts.nstype == CLONE_NEWNET) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a network namespace (it is a ",
                     NamespaceKind(facts.nstype), " namespace)"));
  }
  // NS_GET_NSTYPE failed: either the kernel predates it (4.11) or the file
  // is not a namespace at all (e.g. /proc/self/status answers ENOTTY).
  if (facts.nstype_errno != ENOTTY && facts.nstype_errno != EINVAL) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a network namespace (NS_GET_NSTYPE failed: errno ",
        facts.nstype_errno, ")"));
  }
  if (procfs && facts.kernel_has_nsfs) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a network namespace (a procfs file, not nsfs)"));
  }
  // An nsfs file on 3.19..4.10, or a procfs namespace file before 3.19: the
  // type cannot be checked here; setns(CLONE_NEWNET) will check it.
  return absl::OkStatus();
}

absl::Status OpenErrorToStatus(int errno_value, absl::string_view path) {
  return ErrnoToStatus(errno_value,
                       absl::StrCat("open network namespace ", path));
}

}  // namespace netns_internal

namespace {

// KernelHasNsfs reports whether namespace files live on nsfs (Linux 3.19+).
bool KernelHasNsfs() {
  static const bool has_nsfs = [] {
    struct statfs st;
    return ::statfs("/proc/self/ns/net", &st) == 0 &&
           st.f_type == static_cast<decltype(st.f_type)>(NSFS_MAGIC);
  }();
  return has_nsfs;
}

absl::Status VerifyNetNSFd(absl::string_view path, int fd) {
  struct statfs st;
  if (RetryOnEintr([&] { return ::fstatfs(fd, &st); }) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("fstatfs ", path));
  }
  netns_internal::NsFileFacts facts;
  facts.fs_magic = static_cast<int64_t>(st.f_type);
  facts.kernel_has_nsfs = KernelHasNsfs();
  facts.nstype = ::ioctl(fd, NS_GET_NSTYPE);
  if (facts.nstype < 0) {
    facts.nstype_errno = errno;
  }
  return netns_internal::CheckNetNSFile(path, facts);
}

}  // namespace

absl::StatusOr<NetNS> NetNS::Open(absl::string_view path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("network namespace path is empty");
  }
  std::string p(path);
  int fd =
      RetryOnEintr([&] { return ::open(p.c_str(), O_RDONLY | O_CLOEXEC); });
  if (fd < 0) {
    return netns_internal::OpenErrorToStatus(errno, p);
  }
  UniqueFd owned(fd);
  OCICNI_RETURN_IF_ERROR(VerifyNetNSFd(p, owned.get()));
  return NetNS(std::move(p), std::move(owned));
}

absl::StatusOr<NetNS> NetNS::Current() {
  return Open(
      absl::StrCat("/proc/self/task/", ::syscall(SYS_gettid), "/ns/net"));
}

absl::StatusOr<bool> SameNamespace(const NetNS& a, const NetNS& b) {
  struct stat sa, sb;
  if (::fstat(a.fd(), &sa) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("fstat ", a.path()));
  }
  if (::fstat(b.fd(), &sb) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("fstat ", b.path()));
  }
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace ocicni::netns
