// The process-spawning OS boundary of exec/: run one program to completion
// with given argv, environment and stdin bytes, and collect its stdout,
// stderr and exit status under a deadline and output caps.
//
// PosixSpawner (posix_spawner.h) is the one real implementation; tests of the
// layers above use testing/fake_spawner.h instead of real processes.
//
//   SpawnRequest request;
//   request.path = "/usr/lib/cni/bridge";
//   request.argv = {request.path};
//   request.env = {"PATH=/usr/bin", "CNI_COMMAND=VERSION"};
//   request.stdin_data = R"({"cniVersion":"1.1.0"})";
//   request.deadline = absl::Now() + absl::Seconds(10);
//   OCICNI_ASSIGN_OR_RETURN(ProcessOutput out, spawner.Run(request));
//   if (out.exited() && out.exit_code == 0) Use(out.stdout_data);
#ifndef OCICNI_EXEC_SPAWNER_H_
#define OCICNI_EXEC_SPAWNER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ocicni::exec {

// Default output caps. A CNI result is a few KiB; 4 MiB leaves room for
// large VERSION or GC outputs while bounding memory per call.
inline constexpr size_t kDefaultStdoutCap = 4 << 20;
inline constexpr size_t kDefaultStderrCap = 64 << 10;

// SpawnRequest describes one run.
struct SpawnRequest {
  // Absolute path of the program; executed as is (no PATH search).
  std::string path;
  // argv, including argv[0]. Empty means {path}.
  std::vector<std::string> argv;
  // The environment, as "KEY=VALUE" entries: those of `shared_env` (if set)
  // followed by those of `env` (see Environment below).
  std::vector<std::string> env;
  // Entries shared by many runs, such as the runtime's own environment
  // captured once: each run holds a reference instead of copying them.
  std::shared_ptr<const std::vector<std::string>> shared_env;
  // Written to the child's stdin, which is then closed.
  std::string stdin_data;
  // When the run must be over. On expiry the child's process group gets
  // SIGTERM, then SIGKILL after `kill_grace`. InfiniteFuture() = no limit.
  absl::Time deadline = absl::InfiniteFuture();
  // More stdout than this kills the child and fails the run.
  size_t stdout_cap = kDefaultStdoutCap;
  // stderr beyond this is read and dropped (ProcessOutput::stderr_truncated).
  size_t stderr_cap = kDefaultStderrCap;
};

// Environment is the child's complete environment for `request`:
// shared_env's entries, then env's.
inline std::vector<std::string> Environment(const SpawnRequest& request) {
  std::vector<std::string> env;
  if (request.shared_env != nullptr) env = *request.shared_env;
  env.insert(env.end(), request.env.begin(), request.env.end());
  return env;
}

// ProcessOutput is what a run that finished (by exiting or by a signal that
// was not ours) produced.
struct ProcessOutput {
  std::string stdout_data;
  std::string stderr_data;
  // stderr was longer than the cap; stderr_data holds its beginning.
  bool stderr_truncated = false;
  // The child exited, but a descendant kept stdout or stderr open past the
  // drain time: the data is what had arrived by then.
  bool pipes_left_open = false;
  // exit_code is valid when the child exited; term_signal when it was
  // killed by a signal (and then exit_code is -1).
  int exit_code = -1;
  int term_signal = 0;

  bool exited() const { return term_signal == 0; }
};

// Spawner runs programs. Implementations must be thread-safe: many pods are
// set up in parallel.
class Spawner {
 public:
  virtual ~Spawner() = default;

  // Run starts `request.path`, feeds it stdin, collects its output, and
  // returns once the child has been reaped. A child that exits non-zero or
  // dies by a signal is a successful Run (see ProcessOutput); errors are:
  //   kInvalidArgument    malformed request (empty path, NUL in a string)
  //   kNotFound, kPermissionDenied, ...  the program could not be executed
  //                       (errno mapped by ErrnoToStatus); IsExecFailure
  //   kUnavailable        still ETXTBSY after the bounded retries;
  //                       IsExecFailure
  //   kDeadlineExceeded   the deadline passed; the child was killed
  //   kResourceExhausted  stdout exceeded the cap; the child was killed
  // Blocks until the child is reaped (at most about deadline + kill grace).
  virtual absl::StatusOr<ProcessOutput> Run(const SpawnRequest& request) = 0;
};

// The payload that marks a Run error as an exec failure.
inline constexpr absl::string_view kExecFailurePayloadUrl =
    "type.ocicni.dev/exec.ExecFailure";

// MarkExecFailure marks `status`, an error of Run, as meaning that the
// program could not be executed: it never ran, so running it again (or
// another binary in its place) has no effect to undo.
inline absl::Status MarkExecFailure(absl::Status status) {
  status.SetPayload(kExecFailurePayloadUrl, absl::Cord());
  return status;
}

// IsExecFailure reports whether `status` was marked by MarkExecFailure.
inline bool IsExecFailure(const absl::Status& status) {
  return status.GetPayload(kExecFailurePayloadUrl).has_value();
}

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_SPAWNER_H_
