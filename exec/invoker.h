// Invoking one CNI plugin: the interface the ocicni/ layer programs against.
//
// An InvokeRequest says which plugin to run (by type, found on the plugin
// dirs) with which CNI command, identifiers and stdin config. Invoke returns
// the plugin's result bytes (ADD, VERSION) or an error status that names the
// plugin, the network and the command and, when the plugin printed a CNI
// error, carries it (see cni_error.h).
//
// PluginInvoker (plugin_invoker.h) is the real implementation, which spawns
// the plugin binary; testing/fake_invoker.h lets higher layers inject results
// and failures without processes.
//
//   InvokeRequest request;
//   request.command = Command::kAdd;
//   request.plugin_type = "bridge";
//   request.network_name = "podnet";
//   request.container_id = "0123abcd";
//   request.netns = "/var/run/netns/pod1";
//   request.ifname = "eth0";
//   request.plugin_dirs = {"/usr/lib/cni"};
//   request.stdin_data = config_bytes;
//   request.deadline = absl::Now() + absl::Seconds(60);
//   OCICNI_ASSIGN_OR_RETURN(std::string result, invoker.Invoke(request));
//
//   OCICNI_ASSIGN_OR_RETURN(types::VersionInfo info,
//                           GetVersionInfo(invoker, request));
#ifndef OCICNI_EXEC_INVOKER_H_
#define OCICNI_EXEC_INVOKER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exec/find.h"
#include "types/cni.pb.h"

namespace ocicni::exec {

// Command is a CNI_COMMAND.
enum class Command { kAdd, kDel, kCheck, kGc, kStatus, kVersion };

// CommandName is the CNI_COMMAND value: "ADD", "DEL", "CHECK", "GC",
// "STATUS" or "VERSION".
absl::string_view CommandName(Command command);

// InvokeRequest is one plugin call.
struct InvokeRequest {
  Command command = Command::kAdd;
  // The plugin's `type`: a file name in one of the search dirs.
  std::string plugin_type;
  // When set, the binary to run, already found with FindPlugin (e.g. once
  // per config snapshot); the lookup is skipped.
  std::string plugin_path;
  // Used in messages only (the plugin reads it from its config).
  std::string network_name;
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS
  std::string ifname;        // CNI_IFNAME
  std::string cni_args;      // CNI_ARGS, see cni_args.h
  // The plugin search dirs, in order. Also the CNI_PATH the plugin sees
  // (with the vendor dir in front when `find_options` sets one).
  std::vector<std::string> plugin_dirs;
  FindOptions find_options;
  // When set, CNI_PATH exactly (the VERSION probe sends "dummy").
  std::optional<std::string> cni_path;
  // The plugin's config on stdin.
  std::string stdin_data;
  absl::Time deadline = absl::InfiniteFuture();
};

// Invoker runs plugins. Implementations are thread-safe.
class Invoker {
 public:
  virtual ~Invoker() = default;

  // Invoke runs the plugin once. On success returns its stdout for ADD and
  // VERSION (raw bytes, possibly empty or "null"; types/ decodes them) and
  // an empty string for DEL, CHECK, GC and STATUS, whose output the spec
  // says to ignore.
  //
  // Errors (the message always names the plugin, the network and the
  // command):
  //   kInvalidArgument   invalid plugin type (nothing was looked up), or a
  //                      NUL byte in an environment value
  //   kNotFound          the plugin is in none of the dirs (all are named)
  //   the CNI mapping    the plugin failed with a CNI error; the error is
  //                      attached (CniErrorFromStatus), see cni_error.h
  //   kUnknown           it failed without a CNI error: non-zero exit with
  //                      stderr text, unparsable stdout, or nothing at all
  //   kInternal          it died by a signal
  //   kDeadlineExceeded  it ran past `deadline` and was killed
  //   kResourceExhausted its stdout passed the cap and it was killed
  //   kUnavailable       its binary stayed busy (ETXTBSY) through the retries
  // Blocks while the plugin runs (at most about the deadline plus a short
  // kill grace). Holds no lock while the plugin runs.
  virtual absl::StatusOr<std::string> Invoke(const InvokeRequest& request) = 0;
};

// The message a plugin that predates the VERSION command fails with.
inline constexpr absl::string_view kUnknownVersionCommandMsg =
    "unknown CNI_COMMAND: VERSION";

// GetVersionInfo asks a plugin which spec versions it supports. It uses the
// plugin, dirs, network name and deadline of `request` and replaces the rest:
// CNI_COMMAND=VERSION, stdin {"cniVersion":"<kCurrentVersion>"}, and the
// dummy CNI_NETNS, CNI_IFNAME and CNI_PATH values older plugin frameworks
// insist on. A plugin failing with the CNI error msg
// "unknown CNI_COMMAND: VERSION" predates the command: it supports 0.1.0
// only (types::LegacyVersionInfo()).
// Errors: those of Invoke, and kInvalidArgument (from
// types::DecodeVersionInfo) for output that is not valid VERSION output.
absl::StatusOr<types::VersionInfo> GetVersionInfo(Invoker& invoker,
                                                  InvokeRequest request);

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_INVOKER_H_
