// Thin POSIX helpers: errno to absl::Status in one place, an owned file
// descriptor, and EINTR retry.
//
//   OCICNI_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(path, O_RDONLY | O_CLOEXEC));
//   // fd closes itself when it goes out of scope.
#ifndef OCICNI_BASE_POSIX_H_
#define OCICNI_BASE_POSIX_H_

#include <cerrno>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ocicni {

// ErrnoToStatus maps an errno value to a status whose message is
// "<what>: <strerror>". The mapping is stable:
//   ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied,
//   EEXIST -> kAlreadyExists, EINVAL/ENOTDIR/EISDIR/ELOOP/ENAMETOOLONG ->
//   kInvalidArgument, ETIMEDOUT -> kDeadlineExceeded, EAGAIN/EBUSY/ETXTBSY ->
//   kUnavailable, ENOSPC/EMFILE/ENFILE/ENOMEM -> kResourceExhausted,
//   anything else -> kInternal.
absl::Status ErrnoToStatus(int errno_value, absl::string_view what);

// RetryOnEintr calls `fn` until it returns something other than -1 with
// errno == EINTR, and returns that result.
template <typename Fn>
auto RetryOnEintr(Fn&& fn) -> decltype(fn()) {
  decltype(fn()) result;
  do {
    result = fn();
  } while (result == -1 && errno == EINTR);
  return result;
}

// UniqueFd owns a file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // release gives up ownership and returns the descriptor.
  int release() { return std::exchange(fd_, -1); }
  // reset closes the current descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// OpenFd opens `path` with `flags` (O_CLOEXEC is always added).
// Errors as ErrnoToStatus, naming the path.
absl::StatusOr<UniqueFd> OpenFd(const char* path, int flags, int mode = 0);

// OpenFdLeavingAtime is OpenFd with O_NOATIME, so that reading the file or
// listing the directory does not update its access time (and dirty its
// inode for the disk to write), where the kernel allows it: to the file's
// owner or with CAP_FOWNER. For any other caller it opens without.
absl::StatusOr<UniqueFd> OpenFdLeavingAtime(const char* path, int flags);

// MakePipe returns a {read, write} pipe, both ends O_CLOEXEC plus `flags`.
absl::StatusOr<std::pair<UniqueFd, UniqueFd>> MakePipe(int flags = 0);

// ForEachDirEntry calls `fn` with the name of every entry of the directory
// `path` but "." and "..", in the order the file system lists them. Unlike
// opendir(3), which allocates a 32 KiB buffer per stream, it reads with
// getdents64(2) into a buffer on the stack, and leaves the directory's access
// time alone where it may (OpenFdLeavingAtime). Errors as ErrnoToStatus,
// naming the path (kNotFound when it does not exist).
absl::Status ForEachDirEntry(const char* path,
                             absl::FunctionRef<void(absl::string_view)> fn);

}  // namespace ocicni

#endif  // OCICNI_BASE_POSIX_H_
