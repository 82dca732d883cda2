#include "exec/posix_spawner.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "base/posix.h"
#include "base/status_macros.h"

namespace ocicni::exec {
namespace {

// Error messages quote at most this much of the child's stderr.
constexpr size_t kMessageExcerpt = 1024;
// Without a pidfd, child exit is polled at this interval.
constexpr absl::Duration kExitPollTick = absl::Milliseconds(5);
// A child still running this long after its spawn is watched through a
// pidfd too. Most plugins are done before: their exit closes the pipes and
// is reaped without one (a pidfd costs an inode, ~3 us to open and close).
constexpr absl::Duration kWatchAfter = absl::Milliseconds(5);
constexpr size_t kReadChunk = 64 << 10;
// At most this many reads per pipe per loop turn, so that a writer that
// keeps a pipe full cannot keep Run from its deadline or drain limit.
constexpr int kReadsPerTurn = 16;

// MonoNow is the monotonic clock as a Duration since an arbitrary epoch.
absl::Duration MonoNow() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::DurationFromTimespec(ts);
}

// PollTimeoutMs turns a wait into poll()'s milliseconds, rounding up so the
// loop does not spin just before a deadline.
int PollTimeoutMs(absl::Duration wait) {
  if (wait == absl::InfiniteDuration()) return -1;
  if (wait <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(wait + absl::Microseconds(999));
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

std::string Excerpt(absl::string_view text) {
  bool cut = text.size() > kMessageExcerpt;
  return absl::StrCat(absl::CHexEscape(text.substr(0, kMessageExcerpt)),
                      cut ? "..." : "");
}

bool HasNul(const std::string& s) {
  return std::memchr(s.data(), '\0', s.size()) != nullptr;
}

absl::Status NulError(absl::string_view what, absl::string_view s) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " contains a NUL byte: \"", Excerpt(s), "\""));
}

// CheckRequest runs once per call over every string: one memchr each, and a
// status only for the one that fails.
absl::Status CheckRequest(const SpawnRequest& request) {
  if (request.path.empty()) {
    return absl::InvalidArgumentError("spawn: empty program path");
  }
  if (HasNul(request.path)) return NulError("program path", request.path);
  for (const std::string& arg : request.argv) {
    if (HasNul(arg)) return NulError("argument", arg);
  }
  if (request.shared_env != nullptr) {
    for (const std::string& var : *request.shared_env) {
      if (HasNul(var)) return NulError("environment entry", var);
    }
  }
  for (const std::string& var : request.env) {
    if (HasNul(var)) return NulError("environment entry", var);
  }
  return absl::OkStatus();
}

// CStrings is a NULL-terminated char* array over strings that outlive it:
// those of `first` (if not null), then those of `second`.
class CStrings {
 public:
  explicit CStrings(const std::vector<std::string>& second,
                    const std::vector<std::string>* first = nullptr) {
    ptrs_.reserve((first != nullptr ? first->size() : 0) + second.size() + 1);
    if (first != nullptr) Add(*first);
    Add(second);
    ptrs_.push_back(nullptr);
  }
  char* const* get() { return ptrs_.data(); }

 private:
  void Add(const std::vector<std::string>& strings) {
    for (const std::string& s : strings) {
      ptrs_.push_back(const_cast<char*>(s.c_str()));
    }
  }
  std::vector<char*> ptrs_;
};

// The code between clone and exec: ChildMain runs in the child, which shares
// our memory and runs on a stack of its own (ChildStack) while the calling
// thread is suspended (CLONE_VFORK) until the child has exec'd or exited. It
// must be async-signal-safe: no allocation, no locks, no logging, nothing
// that may be interposed (sanitizers intercept libc calls), so it makes raw
// system calls only, like glibc's own posix_spawn child.

// Signals as the kernel numbers them: 1 .. kSignalLimit - 1.
constexpr int kSignalLimit = 65;
// glibc keeps SIGCANCEL (32) and SIGSETXID (33) for itself; its posix_spawn
// leaves them ignored in the child, and so do we.
constexpr int kGlibcCancelSignal = 32;
constexpr int kGlibcSetxidSignal = 33;
// The kernel's sigset_t is 64 bits; rt_sigprocmask and rt_sigaction take its
// size.
constexpr size_t kKernelSigsetBytes = sizeof(uint64_t);

#if defined(__mips__) || defined(__alpha__) || defined(__sparc__)
#error "KernelSigaction below assumes the handler-first struct sigaction"
#endif
// KernelSigaction is the kernel's struct sigaction where the handler comes
// first. Only the handler is ever read; what is written is SIG_DFL or
// SIG_IGN with no flags, no restorer and an empty mask, so all-zero fields
// are right whether or not the architecture has a restorer field.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

// ChildArgs is what the child needs, all prepared before the clone.
struct ChildArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  // The descriptors that become the child's 0, 1 and 2.
  int stdio[3];
  // Signals (bit sig - 1) the child resets to SIG_DFL even when ignored.
  uint64_t default_signals;
  // Set by the child to the errno of a step that failed before exec; the
  // parent reads it once clone has returned (the child has exited by then).
  int err;
};

#define OCICNI_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

OCICNI_NO_SANITIZE long Sys(long nr, long a = 0, long b = 0, long c = 0,
                            long d = 0) {
  return ::syscall(nr, a, b, c, d);
}

// CloseFromFallback closes every descriptor from `lowest` up, listing them
// in /proc/self/fd, for kernels without close_range (before 5.9). Returns 0
// or an errno.
OCICNI_NO_SANITIZE int CloseFromFallback(int lowest) {
  int dir = static_cast<int>(Sys(SYS_openat, AT_FDCWD,
                                 reinterpret_cast<long>("/proc/self/fd"),
                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir < 0) return errno;
  alignas(8) char buf[1024];
  for (;;) {
    long n = Sys(SYS_getdents64, dir, reinterpret_cast<long>(buf), sizeof(buf));
    if (n < 0) return errno;
    if (n == 0) break;
    bool closed = false;
    for (long off = 0; off < n;) {
      // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
      unsigned short reclen;
      __builtin_memcpy(&reclen, buf + off + 16, sizeof(reclen));
      const char* name = buf + off + 19;
      off += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      int fd = 0;
      for (const char* c = name; *c >= '0' && *c <= '9'; ++c) {
        fd = fd * 10 + (*c - '0');
      }
      if (fd >= lowest && fd != dir) {
        Sys(SYS_close, fd);
        closed = true;
      }
    }
    // Closing changed the directory: list it again from the start.
    if (closed && Sys(SYS_lseek, dir, 0, SEEK_SET) < 0) return errno;
  }
  Sys(SYS_close, dir);
  return 0;
}

// ChildMain sets the child up and execs the program. On failure it stores
// the errno in `err` and exits with 127, like glibc's posix_spawn child.
OCICNI_NO_SANITIZE int ChildMain(void* arg) {
  ChildArgs* args = static_cast<ChildArgs*>(arg);
  // Every signal arrives blocked (the parent blocked all around the clone).
  // A handler of the parent must not run here, in its memory: reset every
  // caught signal to SIG_DFL, and the listed ones even when ignored.
  for (int sig = 1; sig < kSignalLimit; ++sig) {
    KernelSigaction action = {};
    if ((args->default_signals >> (sig - 1)) & 1) {
      action.handler = SIG_DFL;
    } else if (sig == kGlibcCancelSignal || sig == kGlibcSetxidSignal) {
      action.handler = SIG_IGN;
    } else {
      if (Sys(SYS_rt_sigaction, sig, 0, reinterpret_cast<long>(&action),
              kKernelSigsetBytes) != 0 ||
          action.handler == SIG_DFL || action.handler == SIG_IGN) {
        continue;
      }
      action = {};
      action.handler = SIG_DFL;
    }
    Sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&action), 0,
        kKernelSigsetBytes);
  }
  int err = 0;
  if (Sys(SYS_setpgid, 0, 0) != 0) err = errno;
  for (int target = 0; err == 0 && target < 3; ++target) {
    const int fd = args->stdio[target];
    // dup3 refuses fd == target; then only FD_CLOEXEC has to go.
    long rc = fd == target ? Sys(SYS_fcntl, fd, F_SETFD, 0)
                           : Sys(SYS_dup3, fd, target, 0);
    if (rc < 0) err = errno;
  }
  if (err == 0) {
#ifdef SYS_close_range
    if (Sys(SYS_close_range, STDERR_FILENO + 1, ~0U, 0) != 0) {
      err = CloseFromFallback(STDERR_FILENO + 1);
    }
#else
    err = CloseFromFallback(STDERR_FILENO + 1);
#endif
  }
  if (err == 0) {
    const uint64_t empty = 0;
    Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&empty), 0,
        kKernelSigsetBytes);
    Sys(SYS_execve, reinterpret_cast<long>(args->path),
        reinterpret_cast<long>(args->argv), reinterpret_cast<long>(args->envp));
    err = errno;
  }
  args->err = err;
  Sys(SYS_exit_group, 127);
  return 127;
}

#undef OCICNI_NO_SANITIZE

// ChildStack is the stack children run on between clone and exec: one per
// thread, mapped at the thread's first spawn and unmapped when it exits.
// The thread is suspended while its child uses the stack, so one is enough,
// and no spawn maps or unmaps memory (an munmap in a multi-threaded process
// costs a TLB shootdown on the other CPUs, which is why glibc's posix_spawn,
// mapping a fresh stack each time, is not used).
class ChildStack {
 public:
  // The child needs about a page; a guard page sits below.
  static constexpr size_t kSize = 64 << 10;

  ChildStack() = default;
  ~ChildStack() {
    if (base_ != nullptr) ::munmap(base_, mapped_);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;

  // Top is the stack's initial stack pointer; nullptr (with errno) when it
  // cannot be mapped.
  void* Top() {
    if (base_ == nullptr) {
      const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
      void* base = ::mmap(nullptr, kSize + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
      if (base == MAP_FAILED) return nullptr;
      if (::mprotect(base, page, PROT_NONE) != 0) {
        int err = errno;
        ::munmap(base, kSize + page);
        errno = err;
        return nullptr;
      }
      base_ = base;
      mapped_ = kSize + page;
    }
    return static_cast<char*>(base_) + mapped_;
  }

 private:
  void* base_ = nullptr;
  size_t mapped_ = 0;
};

// CloneChild starts one child with `args`: the parent blocks every signal
// (glibc's internal ones too) across the clone, as glibc does, so that none
// is handled in the child before it has reset the dispositions. Returns
// the pid, or -1 with the errno of clone or of the child's setup or exec in
// `*err` (a child that failed is reaped).
pid_t CloneChild(ChildArgs& args, int* err) {
  thread_local ChildStack stack;
  void* top = stack.Top();
  if (top == nullptr) {
    *err = errno;
    return -1;
  }
  const uint64_t all = ~uint64_t{0};
  uint64_t old = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, kKernelSigsetBytes);
  args.err = 0;
  pid_t pid = ::clone(ChildMain, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_err = errno;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, kKernelSigsetBytes);
  if (pid < 0) {
    *err = clone_err;
    return -1;
  }
  if (args.err != 0) {
    *err = args.err;
    // ECHILD when SIGCHLD is ignored: the kernel reaped it already.
    RetryOnEintr([&] { return ::waitpid(pid, nullptr, 0); });
    return -1;
  }
  return pid;
}

// ScopedSigpipeBlock keeps SIGPIPE from killing the process when the child
// closes its stdin before reading all of it: SIGPIPE is blocked on this
// thread, and one that our write raised is consumed before unblocking.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t old;
    ::pthread_sigmask(SIG_BLOCK, &pipe_set_, &old);
    was_blocked_ = sigismember(&old, SIGPIPE) == 1;
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~ScopedSigpipeBlock() {
    if (raised_ && !was_pending_) {
      struct timespec zero = {0, 0};
      while (::sigtimedwait(&pipe_set_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    if (!was_blocked_) ::pthread_sigmask(SIG_UNBLOCK, &pipe_set_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

  // NoteEpipe records that a write failed with EPIPE (and so raised SIGPIPE).
  void NoteEpipe() { raised_ = true; }

 private:
  sigset_t pipe_set_;
  bool was_blocked_ = false;
  bool was_pending_ = false;
  bool raised_ = false;
};

// MoveAboveStdio makes sure `fd` is not 0, 1 or 2, so the dup2 actions in the
// child cannot clobber one pipe with another when the parent runs with a
// standard descriptor closed.
absl::Status MoveAboveStdio(UniqueFd& fd) {
  if (fd.get() > STDERR_FILENO) return absl::OkStatus();
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) return ErrnoToStatus(errno, "fcntl(F_DUPFD_CLOEXEC)");
  fd.reset(moved);
  return absl::OkStatus();
}

absl::Status SetNonBlocking(const UniqueFd& fd) {
  if (::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoToStatus(errno, "fcntl(F_SETFL, O_NONBLOCK)");
  }
  return absl::OkStatus();
}

// Child tracks one spawned process until it is reaped. Its destructor makes
// sure of that on every path: a child still running then is killed (with its
// group) and reaped.
class Child {
 public:
  // Without `use_pidfd`, Watch never opens one.
  Child(pid_t pid, bool use_pidfd) : pid_(pid), pidfd_failed_(!use_pidfd) {}
  ~Child() {
    if (!reaped_) {
      KillGroup(SIGKILL);
      Reap();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // Unwatched: Watch has not been tried yet.
  bool Unwatched() const { return !pidfd_.valid() && !pidfd_failed_; }
  // Watch opens a pidfd for the child (once) and returns it; -1 when the
  // kernel has no pidfd_open (or it failed): then exit has to be polled.
  int Watch() {
    if (!pidfd_.valid() && !pidfd_failed_) {
#ifdef SYS_pidfd_open
      int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
      if (fd >= 0) pidfd_.reset(fd);
#endif
      pidfd_failed_ = !pidfd_.valid();
    }
    return pidfd_.get();
  }
  // pidfd is -1 until Watch opened one.
  int pidfd() const { return pidfd_.get(); }

  // Exited reports (without reaping) whether the child has terminated.
  bool Exited() {
    if (exited_) return true;
    siginfo_t info;
    std::memset(&info, 0, sizeof(info));
    int rc = RetryOnEintr([&] {
      return ::waitid(P_PID, static_cast<id_t>(pid_), &info,
                      WEXITED | WNOHANG | WNOWAIT);
    });
    if (rc != 0) {
      // ECHILD: reaped behind our back (SIGCHLD ignored); it is gone.
      exited_ = true;
    } else {
      exited_ = info.si_pid == pid_;
    }
    return exited_;
  }

  // WaitExit waits until the child has terminated or `until` (monotonic)
  // passes, and reports whether it terminated.
  bool WaitExit(absl::Duration until) {
    while (!Exited()) {
      absl::Duration left = until - MonoNow();
      if (left <= absl::ZeroDuration()) return false;
      if (Watch() >= 0) {
        struct pollfd pfd = {pidfd_.get(), POLLIN, 0};
        RetryOnEintr([&] { return ::poll(&pfd, 1, PollTimeoutMs(left)); });
      } else {
        absl::SleepFor(std::min(left, kExitPollTick));
      }
    }
    return true;
  }

  // KillGroup signals the child's process group (the child is its leader).
  // Only called before the leader is reaped, so the id is still ours.
  void KillGroup(int sig) {
    if (reaped_) return;
    if (::kill(-pid_, sig) != 0 && errno == ESRCH) {
      ::kill(pid_, sig);  // The child left its group (setpgid/setsid).
    }
  }

  // TryReap reaps the child if it has terminated, and reports whether it
  // is reaped now. Use only once the process group need not be signalled.
  bool TryReap() {
    if (reaped_) return true;
    int status = 0;
    pid_t rc = RetryOnEintr([&] { return ::waitpid(pid_, &status, WNOHANG); });
    if (rc == 0) return false;
    Reaped(rc, status);
    return true;
  }

  // Reap waits for the child on its exact pid and records how it ended.
  void Reap() {
    if (reaped_) return;
    int status = 0;
    pid_t rc = RetryOnEintr([&] { return ::waitpid(pid_, &status, 0); });
    Reaped(rc, status);
  }

  bool status_known() const { return status_known_; }
  int status() const { return status_; }

 private:
  // Reaped records the outcome of waitpid: `rc` is -1 (ECHILD) when the
  // kernel reaped the child itself.
  void Reaped(pid_t rc, int status) {
    reaped_ = true;
    exited_ = true;
    if (rc == pid_) {
      status_ = status;
      status_known_ = true;
    }
  }

  const pid_t pid_;
  UniqueFd pidfd_;
  bool pidfd_failed_;
  bool exited_ = false;
  bool reaped_ = false;
  bool status_known_ = false;
  int status_ = 0;
};

// Spawn starts the program, retrying while exec reports ETXTBSY. Exec
// failures are marked (MarkExecFailure): the program did not run.
absl::StatusOr<pid_t> Spawn(const SpawnRequest& request,
                            const PosixSpawner::Options& options,
                            ChildArgs& args, absl::Duration deadline) {
  absl::Duration backoff = options.busy_backoff;
  const int attempts = std::max(1, options.busy_attempts);
  for (int attempt = 1;; ++attempt) {
    int rc = 0;
    pid_t pid = CloneChild(args, &rc);
    if (pid > 0) return pid;
    if (rc != ETXTBSY) {
      return MarkExecFailure(
          ErrnoToStatus(rc, absl::StrCat("exec ", request.path)));
    }
    if (attempt >= attempts) {
      return MarkExecFailure(ErrnoToStatus(
          rc,
          absl::StrCat("exec ", request.path, " (", attempts, " attempts)")));
    }
    absl::Duration left = deadline - MonoNow();
    if (left <= backoff) {
      absl::SleepFor(left);
      return absl::DeadlineExceededError(absl::StrCat(
          "exec ", request.path, ": text file busy until the deadline"));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

// Why the supervision loop stopped.
enum class Stop { kFinished, kDeadline, kStdoutCap };

}  // namespace

absl::StatusOr<ProcessOutput> PosixSpawner::Run(const SpawnRequest& request) {
  OCICNI_RETURN_IF_ERROR(CheckRequest(request));
  const absl::Duration budget = request.deadline - absl::Now();
  if (budget <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError(
        absl::StrCat(request.path, ": deadline passed before the start"));
  }
  const absl::Duration start = MonoNow();
  const absl::Duration deadline = start + budget;

  std::vector<std::string> argv_storage;
  const std::vector<std::string>* argv_strings = &request.argv;
  if (request.argv.empty()) {
    argv_storage.push_back(request.path);
    argv_strings = &argv_storage;
  }
  CStrings argv(*argv_strings);
  CStrings envp(request.env, request.shared_env.get());

  OCICNI_ASSIGN_OR_RETURN(auto in_pipe, MakePipe());
  OCICNI_ASSIGN_OR_RETURN(auto out_pipe, MakePipe());
  OCICNI_ASSIGN_OR_RETURN(auto err_pipe, MakePipe());
  UniqueFd child_in = std::move(in_pipe.first);
  UniqueFd stdin_fd = std::move(in_pipe.second);
  UniqueFd stdout_fd = std::move(out_pipe.first);
  UniqueFd child_out = std::move(out_pipe.second);
  UniqueFd stderr_fd = std::move(err_pipe.first);
  UniqueFd child_err = std::move(err_pipe.second);
  for (UniqueFd* fd : {&child_in, &child_out, &child_err}) {
    OCICNI_RETURN_IF_ERROR(MoveAboveStdio(*fd));
  }
  for (UniqueFd* fd : {&stdout_fd, &stderr_fd}) {
    OCICNI_RETURN_IF_ERROR(SetNonBlocking(*fd));
  }

  // Stdin goes into the pipe before the child exists, as much as fits: a
  // write of at most PIPE_BUF bytes to an empty pipe cannot block, larger
  // stdin is written non-blocking, and while we hold the read end no write
  // can raise SIGPIPE. Whatever does not fit is written while the child runs.
  const std::string& stdin_data = request.stdin_data;
  size_t written = 0;
  bool stdin_blocking = true;
  if (stdin_data.size() > PIPE_BUF) {
    OCICNI_RETURN_IF_ERROR(SetNonBlocking(stdin_fd));
    stdin_blocking = false;
  }
  while (written < stdin_data.size()) {
    ssize_t n = RetryOnEintr([&] {
      return ::write(stdin_fd.get(), stdin_data.data() + written,
                     stdin_data.size() - written);
    });
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) break;
      return ErrnoToStatus(errno, "write to the stdin pipe");
    }
    written += static_cast<size_t>(n);
  }
  if (written == stdin_data.size()) {
    stdin_fd.reset();
  } else if (stdin_blocking) {
    OCICNI_RETURN_IF_ERROR(SetNonBlocking(stdin_fd));
  }

  ChildArgs args = {};
  args.path = request.path.c_str();
  args.argv = argv.get();
  args.envp = envp.get();
  args.stdio[STDIN_FILENO] = child_in.get();
  args.stdio[STDOUT_FILENO] = child_out.get();
  args.stdio[STDERR_FILENO] = child_err.get();
  for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGUSR1,
                  SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ}) {
    args.default_signals |= uint64_t{1} << (sig - 1);
  }

  // Only writes after the spawn can meet a closed read end.
  std::optional<ScopedSigpipeBlock> sigpipe;
  if (stdin_fd.valid()) sigpipe.emplace();
  OCICNI_ASSIGN_OR_RETURN(pid_t pid, Spawn(request, options_, args, deadline));
  Child child(pid, options_.use_pidfd);
  child_in.reset();
  // Our copies of the write ends go at once, so that the pipes report EOF
  // when the child closes them (as it exits, typically); a child still
  // running after kWatchAfter is also watched through its pidfd in the
  // same poll, which ends the run even when a descendant keeps the pipes
  // open (an earlier exit is then found at kWatchAfter). Holding our
  // copies until the pidfd reported the exit saves a wakeup per call, but
  // left CPUs idle under load: through this spawner the floor driver
  // (`floor -spawner`) reached 0.92-0.95 of posix_spawn's throughput at 8
  // concurrent pods on 2 CPUs, idle 210-360 us per cycle against 30-50;
  // now 0.98-1.11 at 1 to 32 concurrent pods. (A pipe's EOF wakes the
  // reader synchronously, a hint to run it on the CPU the writer is
  // leaving; a pidfd's wakeup is not.)
  child_out.reset();
  child_err.reset();
  const absl::Duration watch_at = MonoNow() + kWatchAfter;

  ProcessOutput output;
  // Reads land here first: small outputs then cost one small allocation.
  char buf[kReadChunk];

  // ReadOut reads what stdout has, up to a short read or, with `to_end`, up
  // to EAGAIN (at most kReadsPerTurn reads); false on EOF or error.
  auto read_out = [&](bool to_end) -> bool {
    for (int i = 0; i < kReadsPerTurn; ++i) {
      // Read at most one byte past the cap: enough to know it was passed.
      size_t room = std::min(
          sizeof(buf), request.stdout_cap + 1 - output.stdout_data.size());
      ssize_t n =
          RetryOnEintr([&] { return ::read(stdout_fd.get(), buf, room); });
      if (n > 0) {
        output.stdout_data.append(buf, static_cast<size_t>(n));
        if (output.stdout_data.size() > request.stdout_cap ||
            (!to_end && static_cast<size_t>(n) < room)) {
          return true;
        }
        continue;
      }
      return n < 0 && errno == EAGAIN;
    }
    return true;
  };
  auto read_err = [&](bool to_end) -> bool {
    for (int i = 0; i < kReadsPerTurn; ++i) {
      ssize_t n = RetryOnEintr(
          [&] { return ::read(stderr_fd.get(), buf, sizeof(buf)); });
      if (n > 0) {
        size_t keep =
            std::min(static_cast<size_t>(n),
                     request.stderr_cap - std::min(request.stderr_cap,
                                                   output.stderr_data.size()));
        output.stderr_data.append(buf, keep);
        if (keep < static_cast<size_t>(n)) output.stderr_truncated = true;
        if (!to_end && static_cast<size_t>(n) < sizeof(buf)) return true;
        continue;
      }
      return n < 0 && errno == EAGAIN;
    }
    return true;
  };
  auto write_in = [&]() {
    while (written < request.stdin_data.size()) {
      ssize_t n = RetryOnEintr([&] {
        return ::write(stdin_fd.get(), request.stdin_data.data() + written,
                       request.stdin_data.size() - written);
      });
      if (n > 0) {
        written += n;
        continue;
      }
      if (n < 0 && errno == EAGAIN) return;
      if (n < 0 && errno == EPIPE) sigpipe->NoteEpipe();
      // The child closed its stdin (or exited) without reading it all.
      break;
    }
    stdin_fd.reset();
  };

  Stop stop = Stop::kFinished;
  absl::Duration drain_until = absl::InfiniteDuration();
  bool exited = false;
  // Set when the pidfd polls readable, which means the child has exited.
  bool pidfd_ready = false;
  // Without a pidfd: whether to ask the kernel (waitid) before the next
  // poll, which timed out.
  bool check_exit = false;
  for (;;) {
    if (!exited && (pidfd_ready || (check_exit && child.Exited()))) {
      exited = true;
      stdin_fd.reset();
      // What the child left in the pipes, and their EOF unless a
      // descendant still holds them.
      if (stdout_fd.valid() && !read_out(/*to_end=*/true)) stdout_fd.reset();
      if (output.stdout_data.size() > request.stdout_cap) {
        stop = Stop::kStdoutCap;
        break;
      }
      if (stderr_fd.valid() && !read_err(/*to_end=*/true)) stderr_fd.reset();
    }
    check_exit = false;
    const absl::Duration now = MonoNow();
    if (exited) {
      if (drain_until == absl::InfiniteDuration()) {
        drain_until = now + options_.drain_after_exit;
      }
      if (!stdout_fd.valid() && !stderr_fd.valid()) break;
      if (now >= drain_until) {
        output.pipes_left_open = true;
        break;
      }
    } else if (now >= deadline) {
      stop = Stop::kDeadline;
      break;
    } else if (!stdin_fd.valid() && !stdout_fd.valid() && !stderr_fd.valid()) {
      // Only the exit is left to wait for. The pipes' EOF comes as the
      // child exits, often after its exit was reported: reap it then. When
      // it was not, the child is usually still exiting on this CPU, where
      // the EOF's wakeup preempted it: one yield lets it finish (in the
      // benchmark at one pod at a time, 79% of spawns got here, and all
      // but a handful were reaped after the yield). Else wait here on a
      // pidfd, or without one in WaitExit (below).
      if (child.TryReap()) break;
      ::sched_yield();
      if (child.TryReap()) break;
      if (child.Watch() < 0) break;
    }
    if (!exited && child.Unwatched() && now >= watch_at) child.Watch();

    struct pollfd fds[4];
    int nfds = 0;
    int in_slot = -1, out_slot = -1, err_slot = -1, pid_slot = -1;
    if (stdin_fd.valid()) {
      in_slot = nfds;
      fds[nfds++] = {stdin_fd.get(), POLLOUT, 0};
    }
    if (stdout_fd.valid()) {
      out_slot = nfds;
      fds[nfds++] = {stdout_fd.get(), POLLIN, 0};
    }
    if (stderr_fd.valid()) {
      err_slot = nfds;
      fds[nfds++] = {stderr_fd.get(), POLLIN, 0};
    }
    absl::Duration wait = exited ? drain_until - now : deadline - now;
    if (!exited) {
      if (child.pidfd() >= 0) {
        pid_slot = nfds;
        fds[nfds++] = {child.pidfd(), POLLIN, 0};
      } else if (child.Unwatched()) {
        wait = std::min(wait, watch_at - now);  // then its exit is checked
      } else {
        wait = std::min(wait, kExitPollTick);
      }
    }
    int ready =
        RetryOnEintr([&] { return ::poll(fds, nfds, PollTimeoutMs(wait)); });
    if (ready < 0) {
      return ErrnoToStatus(errno, "poll");  // ~Child kills and reaps.
    }
    if (ready == 0 && pid_slot < 0) check_exit = true;
    if (pid_slot >= 0 && fds[pid_slot].revents != 0) pidfd_ready = true;
    if (in_slot >= 0 && fds[in_slot].revents != 0) write_in();
    if (out_slot >= 0 && fds[out_slot].revents != 0) {
      if (!read_out(/*to_end=*/false)) stdout_fd.reset();
      if (output.stdout_data.size() > request.stdout_cap) {
        stop = Stop::kStdoutCap;
        break;
      }
    }
    if (err_slot >= 0 && fds[err_slot].revents != 0) {
      if (!read_err(/*to_end=*/false)) stderr_fd.reset();
    }
  }

  // Reap the child; without a pidfd it may not have exited yet (its pipes
  // closed first): wait for it until the deadline.
  if (stop == Stop::kFinished && !child.TryReap() &&
      !child.WaitExit(deadline)) {
    stop = Stop::kDeadline;
  }

  if (stop != Stop::kFinished) {
    child.KillGroup(SIGTERM);
    child.WaitExit(MonoNow() + options_.kill_grace);
    // Whether or not the leader is gone, descendants in its group that
    // ignored SIGTERM are not: SIGKILL the group before reaping the leader.
    child.KillGroup(SIGKILL);
    child.Reap();
    const absl::Duration ran = MonoNow() - start;
    std::string stderr_note =
        output.stderr_data.empty()
            ? ""
            : absl::StrCat("; stderr: \"", Excerpt(output.stderr_data), "\"");
    if (stop == Stop::kDeadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(request.path, ": still running at the deadline after ",
                       absl::FormatDuration(ran),
                       "; its process group was killed", stderr_note));
    }
    return absl::ResourceExhaustedError(absl::StrCat(
        request.path, ": wrote more than ", request.stdout_cap,
        " bytes to stdout; its process group was killed", stderr_note));
  }

  child.Reap();
  if (!child.status_known()) {
    return absl::InternalError(absl::StrCat(
        request.path,
        ": the child was reaped elsewhere (is SIGCHLD set to SIG_IGN?); "
        "its exit status is unknown"));
  }
  const int status = child.status();
  if (WIFEXITED(status)) {
    output.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    output.term_signal = WTERMSIG(status);
  }
  return output;
}

}  // namespace ocicni::exec
