// PosixSpawner: the real Spawner, on posix_spawn(3).
//
// Each run:
//   * spawns with posix_spawn (glibc uses a vfork-style clone: no copy of the
//     parent's memory, nothing runs between clone and exec but glibc's own
//     async-signal-safe code). The child is the leader of a new process
//     group, starts with an empty signal mask and default dispositions for
//     the common signals, and gets exactly three descriptors: the stdin,
//     stdout and stderr pipes (every other fd is closed with
//     posix_spawn_file_actions_addclosefrom_np, and the project opens
//     everything O_CLOEXEC anyway);
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
// Child exit is observed through a pidfd (pidfd_open) when the kernel has it,
// else by polling waitid(WNOWAIT) on a short tick. With a pidfd, Run keeps
// its own copies of the stdout and stderr write ends until the child has
// exited, so it wakes for output and for the exit only, never for each
// pipe's EOF. A host process that sets SIGCHLD to SIG_IGN makes the kernel
// reap children itself: Run then reports kInternal.
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
