#include "netns/lifecycle.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/posix.h"
#include "base/status_macros.h"
#include "glog/logging.h"

namespace ocicni::netns {
namespace {

// MakeSharedMountDir makes sure `dir` exists and is a shared mount point, as
// iproute2 does for /var/run/netns: namespace mounts made under it then
// propagate to mount namespaces created later (e.g. containers), and their
// unmounts do too. A directory that is not yet a mount point is first
// bind-mounted onto itself.
absl::Status MakeSharedMountDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", dir));
  }
  for (int attempt = 0;; ++attempt) {
    if (::mount("none", dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) ==
        0) {
      return absl::OkStatus();
    }
    // EINVAL: not a mount point yet. Anything else, or EINVAL after the
    // bind mount, is an error.
    if (errno != EINVAL || attempt > 0) {
      return ErrnoToStatus(errno,
                           absl::StrCat("make ", dir, " a shared mount"));
    }
    if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) !=
        0) {
      return ErrnoToStatus(errno,
                           absl::StrCat("bind-mount ", dir, " onto itself"));
    }
  }
}

// MountNewNamespaceOn creates a network namespace on a short-lived thread and
// bind-mounts it onto `path`, which must exist.
absl::Status MountNewNamespaceOn(const std::string& path) {
  absl::Status status;
  std::thread worker([&] {
    // Only this thread moves; it exits right after the mount.
    if (::unshare(CLONE_NEWNET) != 0) {
      status = ErrnoToStatus(errno, "unshare(CLONE_NEWNET)");
      return;
    }
    std::string source =
        absl::StrCat("/proc/self/task/", ::syscall(SYS_gettid), "/ns/net");
    if (::mount(source.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
      status = ErrnoToStatus(
          errno, absl::StrCat("bind-mount network namespace onto ", path));
    }
  });
  worker.join();
  return status;
}

bool IsValidName(absl::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         !absl::StrContains(name, '/') && !absl::StrContains(name, '\0');
}

}  // namespace

absl::StatusOr<std::string> NamedPath(absl::string_view name,
                                      const NamedOptions& options) {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid network namespace name \"", absl::CEscape(name),
        "\": must be 1-255 bytes, not \".\" or \"..\", without '/' or NUL"));
  }
  return absl::StrCat(options.runtime_dir, "/", name);
}

absl::StatusOr<NetNS> CreateNamed(absl::string_view name,
                                  const NamedOptions& options) {
  OCICNI_ASSIGN_OR_RETURN(std::string path, NamedPath(name, options));
  OCICNI_RETURN_IF_ERROR(MakeSharedMountDir(options.runtime_dir));
  return CreateAt(path);
}

absl::Status DeleteNamed(absl::string_view name, const NamedOptions& options) {
  OCICNI_ASSIGN_OR_RETURN(std::string path, NamedPath(name, options));
  return DeleteAt(path);
}

absl::StatusOr<NetNS> CreateAt(absl::string_view path_view) {
  if (path_view.empty()) {
    return absl::InvalidArgumentError("network namespace path is empty");
  }
  const std::string path(path_view);
  // Mode 0, like iproute2: the file is only a mount point.
  OCICNI_ASSIGN_OR_RETURN(UniqueFd placeholder,
                          OpenFd(path.c_str(), O_RDONLY | O_CREAT | O_EXCL, 0));
  placeholder.reset();

  absl::Status mounted = MountNewNamespaceOn(path);
  if (!mounted.ok()) {
    ::unlink(path.c_str());
    return mounted;
  }
  absl::StatusOr<NetNS> ns = NetNS::Open(path);
  if (!ns.ok()) {
    DeleteAt(path).IgnoreError();  // Best effort; report the open error.
    return ns.status();
  }
  VLOG(1) << "created network namespace " << path;
  return ns;
}

absl::Status DeleteAt(absl::string_view path_view) {
  const std::string path(path_view);
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0) {
    if (errno == ENOENT) {
      return absl::OkStatus();
    }
    return ErrnoToStatus(errno, absl::StrCat("statfs ", path));
  }
  if (fs.f_type == static_cast<decltype(fs.f_type)>(NSFS_MAGIC)) {
    // EINVAL: not a mount point (any more, e.g. a concurrent delete won);
    // the checks below decide whether anything is left to remove.
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 &&
        errno != EINVAL) {
      if (errno == ENOENT) {
        return absl::OkStatus();
      }
      return ErrnoToStatus(errno, absl::StrCat("unmount ", path));
    }
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::OkStatus();
    }
    return ErrnoToStatus(errno, absl::StrCat("lstat ", path));
  }
  if (!S_ISREG(st.st_mode) || st.st_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to delete ", path,
        ": not a mounted network namespace nor an empty namespace file"));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, absl::StrCat("remove ", path));
  }
  VLOG(1) << "deleted network namespace " << path;
  return absl::OkStatus();
}

}  // namespace ocicni::netns
