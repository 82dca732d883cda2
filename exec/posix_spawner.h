// PosixSpawner: the real Spawner, on clone(CLONE_VM | CLONE_VFORK) + execve.
//
// Each run:
//   * spawns the way glibc's posix_spawn does, without its per-spawn stack:
//     a clone that shares our memory (nothing is copied) and suspends the
//     calling thread until the child has exec'd, with every signal blocked
//     around the clone. The child runs on a stack kept per thread (mapped
//     once, at the thread's first run, and unmapped when the thread exits:
//     no spawn maps or unmaps memory, which in a multi-threaded process
//     costs a TLB shootdown) and makes only raw system calls until exec.
//     It resets every signal that has a handler to SIG_DFL (and the common
//     signals even when ignored; glibc's internal signals 32 and 33 stay
//     ignored, as with posix_spawn), becomes the leader of a new process
//     group, gets exactly three descriptors: the stdin, stdout and stderr
//     pipes (every other fd is closed with close_range, or through
//     /proc/self/fd on kernels before 5.9; the project opens everything
//     O_CLOEXEC anyway), unblocks every signal and execs. A failure before
//     or at exec reaches the parent as its errno (through the shared
//     memory), the child is reaped, and Run fails with IsExecFailure set.
//     (There is no posix_spawn fallback: on Linux it makes this same clone
//     call, so where the clone is refused, posix_spawn fails too);
//   * retries a few times with growing sleeps when exec fails with ETXTBSY
//     (a plugin binary being replaced), within the deadline;
//   * puts stdin into its pipe before the spawn, as much as the pipe takes
//     (a typical CNI config is all of it), and writes the rest while
//     draining stdout and stderr with poll(), so neither side can block the
//     other however large the data, then closes stdin (a child that exits
//     without reading it is fine: EPIPE is ignored and no SIGPIPE reaches
//     the process);
//   * on the deadline, or when stdout passes its cap, stops reading, sends
//     SIGTERM to the process group, waits `kill_grace`, sends SIGKILL to the
//     group and reaps the child;
//   * after the child has exited, reads what is left in the pipes for at most
//     `drain_after_exit`, so a descendant holding stdout open cannot stall
//     the call; descendants of a child that exited on its own are left alone;
//   * always reaps the child with waitpid on its exact pid. The process
//     group is signalled before the leader is reaped, so its id cannot have
//     been reused.
//
// Run closes its copies of the pipes' write ends right after the spawn, so
// that the pipes' EOF, which comes as the child exits, wakes it (see Run
// for why not a pidfd alone); a child that closed them is reaped, or its
// exit awaited. A child still running after a few milliseconds is also
// watched through a pidfd (pidfd_open) when the kernel has it, polled
// together with the pipes, else by polling waitid(WNOWAIT) on a short
// tick, so that a descendant holding the pipes cannot hide its exit. A host
// process that sets SIGCHLD to SIG_IGN makes the kernel reap children itself:
// Run then reports kInternal.
//
//   PosixSpawner spawner;
//   OCICNI_ASSIGN_OR_RETURN(ProcessOutput out, spawner.Run(request));
//
// Thread-safe and lock-free: any number of Runs may proceed in parallel.
#ifndef OCICNI_EXEC_POSIX_SPAWNER_H_
#define OCICNI_EXEC_POSIX_SPAWNER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exec/spawner.h"

namespace ocicni::exec {

class PosixSpawner final : public Spawner {
 public:
  struct Options {
    // Between SIGTERM and SIGKILL when a run is cut short.
    absl::Duration kill_grace = absl::Milliseconds(500);
    // How long to keep reading the pipes once the child has exited.
    absl::Duration drain_after_exit = absl::Milliseconds(200);
    // Attempts at exec while it fails with ETXTBSY, and the first sleep
    // between them (doubled each time, at most one second).
    int busy_attempts = 6;
    absl::Duration busy_backoff = absl::Milliseconds(50);
    // false: watch child exit without a pidfd, as on kernels that lack
    // pidfd_open (lets tests cover that path).
    bool use_pidfd = true;
  };

  PosixSpawner() : PosixSpawner(Options()) {}
  explicit PosixSpawner(Options options) : options_(options) {}

  // Run: see Spawner::Run for the contract and the status codes.
  absl::StatusOr<ProcessOutput> Run(const SpawnRequest& request) override;

 private:
  const Options options_;
};

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_POSIX_SPAWNER_H_
