// ocicnictl's command line: the commands, their flags, and the parser that
// turns argv into an Invocation (or a usage error).
//
// The syntax is Abseil's flag syntax: `--flag=value`, `--flag value`, a
// single leading dash works too (`-flag`), booleans take `--json`,
// `--nojson` or `--json=true|false`, a repeated flag keeps its last value,
// and `--` ends the flags. Global flags may come before or after the
// command. glog's verbosity is `-v N` / `--v=N`.
//
//   ParseOutcome parsed = ParseArgs({"--json", "add", "--netns", "/run/x",
//                                    "--id", "c1"});
//   if (!parsed.error.empty()) { ... usage error: exit 2 ... }
//   const Invocation& inv = parsed.invocation;   // inv.command == kAdd
//
// The parser is hand-written rather than absl::ParseCommandLine because a
// CLI needs what the global flag registry cannot give: per-command flag sets
// (a flag of another command is an error), a usage error that exits 2
// instead of 1, per-command --help, and a parse that can run many times in
// one process (the golden tests). Values use Abseil's parsers (durations as
// absl::ParseDuration: "30s", "1m30s").
#ifndef OCICNI_TOOLS_OCICNICTL_ARGS_H_
#define OCICNI_TOOLS_OCICNICTL_ARGS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ocicni/ocicni.h"

namespace ocicni::ctl {

enum class Command {
  kHelp,
  kNetworks,
  kAdd,
  kCheck,
  kDel,
  kStatus,
  kGc,
  kInspect,
  kNetnsAdd,
  kNetnsDel,
  kNetnsList,
  kCacheList,
  kVersion,
};

// CommandName returns the command as typed ("add", "netns add", ...).
std::string CommandName(Command command);

// GlobalFlags apply to every command.
struct GlobalFlags {
  std::vector<std::string> conf_dirs = {kDefaultNetDir};
  std::vector<std::string> plugin_dirs = {kDefaultCNIDir, "/usr/lib/cni"};
  std::string cache_dir = kDefaultCacheDir;
  std::string default_network;
  absl::Duration timeout = absl::Seconds(60);
  bool json = false;
  // Where named namespaces live (`netns add|del|list`, and a bare name given
  // to --netns).
  std::string netns_dir = "/var/run/netns";
  // glog's -v, when given.
  std::optional<int> verbosity;
};

// PodFlags are the flags of add, check, del and status.
struct PodFlags {
  std::string netns;
  std::string id;
  std::string pod_namespace;
  std::string pod_name;
  std::string uid;
  // --network; empty = the default network.
  std::vector<NetAttachment> networks;
  // --ip, --mac, --port, bandwidth and --cgroup-path, given to every network
  // of the call.
  RuntimeConfig runtime;
};

// Invocation is a parsed command line.
struct Invocation {
  Command command = Command::kHelp;
  GlobalFlags global;
  // kHelp: the command asked about ("" = the overview).
  std::string help_topic;
  // kAdd, kCheck, kDel, kStatus.
  PodFlags pod;
  // kGc: the valid attachments (container ID, ifname or "" for all of the
  // container's); none_valid says every cached attachment is stale.
  std::vector<std::pair<std::string, std::string>> valid;
  bool none_valid = false;
  // kInspect: --netns and --ifname.
  std::string netns;
  std::string ifname;
  // kNetnsAdd, kNetnsDel: the namespace name.
  std::string name;
};

// ParseOutcome is ParseArgs' answer: an Invocation, or a usage error.
struct ParseOutcome {
  Invocation invocation;
  // Set on a usage error: what is wrong, for the user.
  std::string error;
  // The command the error is about, if one was recognized ("" otherwise),
  // so the hint can point at its --help.
  std::string command;
  // Whether the final value of --json was true, even on error.
  bool json = false;
};

// ParseArgs parses the arguments after the program name.
ParseOutcome ParseArgs(const std::vector<std::string>& args);

// UsageText returns the help of `command` (as typed, e.g. "netns add"; a
// group like "netns" or "cache" lists its subcommands), or the overview when
// `command` is empty or unknown.
std::string UsageText(absl::string_view command);

}  // namespace ocicni::ctl

#endif  // OCICNI_TOOLS_OCICNICTL_ARGS_H_
