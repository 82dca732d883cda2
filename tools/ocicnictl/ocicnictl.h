// ocicnictl: the inspection and operation CLI of ocicni, as a library so
// that its parsing and output can be tested in-process.
//
//   std::vector<std::string> args(argv + 1, argv + argc);
//   return ocicni::ctl::Run(args, std::cout, std::cerr);
//
// Commands (see UsageText in args.h): networks, add, check, del, status, gc,
// inspect, netns add|del|list, cache list, version, help. Pod operations go
// through the public library (//ocicni); `networks` reads the config
// snapshot (//config:loader) and `cache list` the result cache
// (//ocicni:result_cache) for inspection; `inspect` and `netns` use //netns.
//
// Exit codes: kExitOk (0) success; kExitFailed (1) the operation failed
// (plugin error, timeout, not found); kExitUsage (2) usage error. Output goes
// to `out`; errors and logs to `err`. With --json, `out` gets the stable JSON
// shapes of format.h and a failure writes one JSON error object to `err`.
#ifndef OCICNI_TOOLS_OCICNICTL_OCICNICTL_H_
#define OCICNI_TOOLS_OCICNICTL_OCICNICTL_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ocicni/ocicni.h"

namespace ocicni::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Env holds what Run uses to reach the system; tests replace parts of it.
struct Env {
  // Makes the CNIPlugin of a pod command. Unset: ocicni::InitCNI.
  std::function<absl::StatusOr<std::unique_ptr<CNIPlugin>>(const Options&)>
      make_plugin;
};

// Run executes one command line (`args` without the program name) and
// returns the exit code. It sets glog's verbosity (FLAGS_v) when -v is
// given; otherwise it touches no global state, so it may run many times in
// one process (not concurrently).
int Run(const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err, const Env& env = {});

}  // namespace ocicni::ctl

#endif  // OCICNI_TOOLS_OCICNICTL_OCICNICTL_H_
