#include "base/posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ocicni {

absl::Status ErrnoToStatus(int errno_value, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(errno_value));
  switch (errno_value) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EINVAL:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(message);
    case ETIMEDOUT:
      return absl::DeadlineExceededError(message);
    case EAGAIN:
    case EBUSY:
    case ETXTBSY:
      return absl::UnavailableError(message);
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    // close() must not be retried on EINTR on Linux: the fd is gone either way.
    ::close(fd_);
  }
  fd_ = fd;
}

absl::StatusOr<UniqueFd> OpenFd(const char* path, int flags, int mode) {
  int fd = RetryOnEintr([&] { return ::open(path, flags | O_CLOEXEC, mode); });
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> OpenFdLeavingAtime(const char* path, int flags) {
  flags |= O_CLOEXEC;
  int fd = RetryOnEintr([&] { return ::open(path, flags | O_NOATIME); });
  // O_NOATIME is refused with EPERM to a caller that neither owns the file
  // nor has CAP_FOWNER.
  if (fd < 0 && errno == EPERM) {
    fd = RetryOnEintr([&] { return ::open(path, flags); });
  }
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  return UniqueFd(fd);
}

absl::StatusOr<std::pair<UniqueFd, UniqueFd>> MakePipe(int flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | flags) != 0)
    return ErrnoToStatus(errno, "pipe2");
  return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

absl::Status ForEachDirEntry(const char* path,
                             absl::FunctionRef<void(absl::string_view)> fn) {
  absl::StatusOr<UniqueFd> dir =
      OpenFdLeavingAtime(path, O_RDONLY | O_DIRECTORY);
  if (!dir.ok()) return dir.status();
  alignas(struct dirent64) char buf[4096];
  for (;;) {
    const ssize_t n = RetryOnEintr(
        [&] { return ::getdents64(dir->get(), buf, sizeof(buf)); });
    if (n < 0) return ErrnoToStatus(errno, absl::StrCat("read ", path));
    if (n == 0) return absl::OkStatus();
    for (ssize_t offset = 0; offset < n;) {
      const auto* entry =
          reinterpret_cast<const struct dirent64*>(buf + offset);
      offset += entry->d_reclen;
      const absl::string_view name = entry->d_name;
      if (name != "." && name != "..") fn(name);
    }
  }
}

}  // namespace ocicni
