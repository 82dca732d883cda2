#include "testing/stranger.h"

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ocicni::testutil {

absl::StatusOr<int> RunAsStranger(absl::FunctionRef<int()> fn) {
  constexpr uid_t kStranger = 65534;
  // The child reports that it could not change user with this code.
  constexpr int kStillItself = 125;
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(kStranger) != 0 ||
        setuid(kStranger) != 0) {
      _exit(kStillItself);
    }
    _exit(fn() & 0xff);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("waitpid: ", std::strerror(errno)));
    }
  }
  if (!WIFEXITED(status)) {
    return absl::InternalError(
        absl::StrCat("the child was killed by signal ", WTERMSIG(status)));
  }
  if (WEXITSTATUS(status) == kStillItself) {
    return absl::InternalError(
        absl::StrCat("the child could not become uid ", kStranger,
                     " (not root, or a sandbox that maps no other user)"));
  }
  return WEXITSTATUS(status);
}

}  // namespace ocicni::testutil
