#include "tools/ocicnictl/args.h"

#include <cstdint>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "types/result.h"
#include "types/validate.h"

namespace ocicni::ctl {
namespace {

// Bit sets of commands, for the flags each command takes.
using CommandSet = uint32_t;

constexpr CommandSet Bit(Command c) {
  return CommandSet{1} << static_cast<int>(c);
}

constexpr CommandSet kAll = ~CommandSet{0};
constexpr CommandSet kPodCommands = Bit(Command::kAdd) | Bit(Command::kCheck) |
                                    Bit(Command::kDel) | Bit(Command::kStatus);

struct FlagSpec {
  const char* name;
  // Takes no value (`--json`, `--nojson`, `--json=false`).
  bool boolean;
  // Shown in help: "--name VALUE_NAME".
  const char* value_name;
  const char* help;
  CommandSet commands;
};

// Every flag. Global ones (kAll) first; help lists them in this order.
constexpr FlagSpec kFlags[] = {
    {"conf-dir", false, "DIR[,DIR...]",
     "network config dirs, scanned in order (default /etc/cni/net.d)", kAll},
    {"plugin-dir", false, "DIR[,DIR...]",
     "plugin binary dirs, searched in order (default "
     "/opt/cni/bin,/usr/lib/cni)",
     kAll},
    {"cache-dir", false, "DIR",
     "the result cache, shared with other CNI tools (default /var/lib/cni)",
     kAll},
    {"default-network", false, "NAME",
     "the default network (default: the first valid one in file order)", kAll},
    {"timeout", false, "DURATION",
     "deadline of the operation, e.g. 30s (default 60s); a rollback after a "
     "failed add gets a fresh one as long",
     kAll},
    {"json", true, "",
     "machine-readable output on stdout; errors as a JSON "
     "object on stderr",
     kAll},
    {"netns-dir", false, "DIR",
     "where named namespaces live (default /var/run/netns, as `ip netns`)",
     kAll},
    {"v", false, "N", "log verbosity (glog's -v), logs go to stderr", kAll},
    {"help", true, "", "show help", kAll},
    {"h", true, "", "show help", kAll},

    {"netns", false, "PATH",
     "the pod's network namespace: a path, or a name in --netns-dir",
     kPodCommands | Bit(Command::kInspect)},
    {"id", false, "CONTAINER_ID", "the pod sandbox (infra container) ID",
     kPodCommands},
    {"pod", false, "NAMESPACE/NAME", "the pod, passed to plugins in CNI_ARGS",
     kPodCommands},
    {"uid", false, "UID", "the pod UID, passed to plugins in CNI_ARGS",
     kPodCommands},
    {"network", false, "NAME[:IFNAME][,...]",
     "networks to use, in order (default: the default network on eth0); "
     "without IFNAME interfaces are eth0, eth1, ...",
     kPodCommands},
    {"port", false, "HOST:CONTAINER[/PROTO][@HOSTIP][,...]",
     "port mappings (portMappings capability); PROTO tcp, udp or sctp",
     kPodCommands},
    {"ip", false, "IP", "request this IP (ips capability and CNI_ARGS IP=)",
     kPodCommands},
    {"mac", false, "MAC", "request this MAC (mac capability and CNI_ARGS MAC=)",
     kPodCommands},
    {"ingress-rate", false, "N", "bandwidth capability: ingress rate, bit/s",
     kPodCommands},
    {"ingress-burst", false, "N", "bandwidth capability: ingress burst, bits",
     kPodCommands},
    {"egress-rate", false, "N", "bandwidth capability: egress rate, bit/s",
     kPodCommands},
    {"egress-burst", false, "N", "bandwidth capability: egress burst, bits",
     kPodCommands},
    {"cgroup-path", false, "P", "cgroupPath capability", kPodCommands},

    {"valid", false, "ID[:IFNAME][,...]",
     "the attachments that are still in use (a bare ID keeps all of the "
     "container's); everything else cached is deleted",
     Bit(Command::kGc)},
    {"none-valid", true, "",
     "say explicitly that every cached attachment is stale", Bit(Command::kGc)},

    {"ifname", false, "IF", "show only this interface", Bit(Command::kInspect)},
};

const FlagSpec* FindFlag(absl::string_view name) {
  for (const FlagSpec& f : kFlags) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

struct CommandInfo {
  Command command;
  const char* name;
  const char* synopsis;
  const char* summary;
  const char* details;
};

constexpr CommandInfo kCommands[] = {
    {Command::kNetworks, "networks", "networks",
     "list every network config file: valid, invalid (why), shadowed, default",
     "Lists each *.conf, *.conflist and *.json file of the conf dirs in the\n"
     "order the library reads them: the network it defines, its cniVersion,\n"
     "its plugin chain, and whether it is valid, invalid (with the reason) or\n"
     "shadowed by an earlier file defining the same network. Marks the\n"
     "default network."},
    {Command::kAdd, "add",
     "add --netns PATH --id CONTAINER_ID [--pod NAMESPACE/NAME] [--uid UID]\n"
     "      [--network NAME[:IFNAME][,...]] [--port HOST:CONTAINER[/PROTO]"
     "[@HOSTIP][,...]]\n"
     "      [--ip IP] [--mac MAC] [--ingress-rate N --ingress-burst N\n"
     "      --egress-rate N --egress-burst N] [--cgroup-path P]",
     "attach a pod sandbox to its networks (CNI ADD)",
     "Runs each network's plugin chain with ADD (the library's SetUpPod) and\n"
     "prints per network the interfaces, IPs with gateways, routes and DNS.\n"
     "If a network fails, the networks already attached are detached again.\n"
     "--ip, --mac, --port, the bandwidth flags and --cgroup-path apply to\n"
     "every network of the call."},
    {Command::kCheck, "check",
     "check --netns PATH --id CONTAINER_ID [add's flags]",
     "verify a pod's attachments (CNI CHECK)",
     "Runs CHECK on each network against its cached result (spec >= 0.4.0)."},
    {Command::kDel, "del", "del --id CONTAINER_ID [--netns PATH] [add's flags]",
     "detach a pod from its networks (CNI DEL)",
     "Runs each network's plugin chain with DEL, in reverse. Without\n"
     "--network it detaches whatever the result cache holds for the ID.\n"
     "--netns may be empty or left out (the namespace may be gone already)."},
    {Command::kStatus, "status",
     "status --netns PATH --id CONTAINER_ID [--network ...]",
     "show a pod's network status (CHECK, then the cached results)",
     "Prints the same as add: per network the interfaces, IPs, routes and\n"
     "DNS. A network without a cached result is read live from the pod's\n"
     "namespace."},
    {Command::kGc, "gc", "gc --valid ID[:IFNAME][,...] | gc --none-valid",
     "delete cached attachments that are not in the valid set (CNI GC)",
     "Every cached attachment not listed as valid is deleted (DEL with its\n"
     "cached config), then networks at spec >= 1.1.0 get the GC command with\n"
     "the valid attachments. A bare `gc` is refused: it would detach every\n"
     "pod on the node; say --none-valid if that is what you want."},
    {Command::kInspect, "inspect", "inspect --netns PATH [--ifname IF]",
     "show links, addresses and routes inside a network namespace",
     "Reads the namespace live through netlink: links (name, MAC, MTU,\n"
     "state), their addresses, and routes. Needs root."},
    {Command::kNetnsAdd, "netns add", "netns add NAME",
     "create a named network namespace",
     "Creates --netns-dir/NAME (default /var/run/netns/NAME), like\n"
     "`ip netns add NAME`. Needs root."},
    {Command::kNetnsDel, "netns del", "netns del NAME",
     "delete a named network namespace",
     "Deletes --netns-dir/NAME, like `ip netns del NAME`. Deleting a name\n"
     "that does not exist is not an error. Needs root."},
    {Command::kNetnsList, "netns list", "netns list",
     "list the named network namespaces", "Lists the entries of --netns-dir."},
    {Command::kCacheList, "cache list", "cache list",
     "list the cached attachments",
     "Lists the attachments in the result cache (--cache-dir): container ID,\n"
     "network, interface, namespace and IPs. The cache is shared with other\n"
     "CNI tools on the node (CRI-O, containerd, podman, cnitool)."},
    {Command::kVersion, "version", "version",
     "print the ocicni version and the CNI spec versions it speaks", ""},
};

const CommandInfo* FindCommand(absl::string_view name) {
  for (const CommandInfo& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// Help text column and line width.
constexpr size_t kHelpColumn = 27;
constexpr size_t kLineWidth = 80;

// FlagLine is one flag's help: the flag on the left, its help wrapped in a
// column on the right (starting on the next line when the flag is wide).
std::string FlagLine(const FlagSpec& f) {
  std::string line = absl::StrCat(
      absl::string_view(f.name).size() == 1 ? "  -" : "  --", f.name);
  if (!f.boolean) absl::StrAppend(&line, " ", f.value_name);
  std::string out;
  if (line.size() + 1 > kHelpColumn) {
    absl::StrAppend(&out, line, "\n");
    line.clear();
  }
  line.resize(kHelpColumn, ' ');
  bool first = true;
  for (absl::string_view word : absl::StrSplit(f.help, ' ')) {
    if (!first && line.size() + 1 + word.size() > kLineWidth) {
      absl::StrAppend(&out, line, "\n");
      line = std::string(kHelpColumn, ' ');
      first = true;
    }
    absl::StrAppend(&line, first ? "" : " ", word);
    first = false;
  }
  absl::StrAppend(&out, line, "\n");
  return out;
}

std::string GlobalFlagsText() {
  std::string out = "Global flags (before or after the command):\n";
  for (const FlagSpec& f : kFlags) {
    if (f.commands != kAll || absl::string_view(f.name) == "h") continue;
    absl::StrAppend(&out, FlagLine(f));
  }
  return out;
}

std::string OverviewText() {
  std::string out =
      "ocicnictl: inspect and operate pod networking through CNI plugins, as "
      "the\nocicni library does it.\n\n"
      "Usage: ocicnictl [global flags] COMMAND [flags]\n\nCommands:\n";
  for (const CommandInfo& c : kCommands) {
    absl::StrAppend(&out, absl::StrFormat("  %-11s %s\n", c.name, c.summary));
  }
  absl::StrAppend(&out,
                  absl::StrFormat("  %-11s %s\n", "help [CMD]",
                                  "show a command's help (or CMD --help)"));
  absl::StrAppend(&out, "\n", GlobalFlagsText(),
                  "\nExit codes: 0 success; 1 the operation failed (plugin "
                  "error, timeout,\nnot found); 2 usage error.\n");
  return out;
}

std::string CommandText(const CommandInfo& c) {
  std::string out =
      absl::StrCat("Usage: ocicnictl ", c.synopsis, "\n\n", c.summary, ".\n");
  if (*c.details != '\0') absl::StrAppend(&out, "\n", c.details, "\n");
  std::string own;
  for (const FlagSpec& f : kFlags) {
    if (f.commands == kAll || (f.commands & Bit(c.command)) == 0) continue;
    absl::StrAppend(&own, FlagLine(f));
  }
  if (!own.empty()) absl::StrAppend(&out, "\nFlags:\n", own);
  absl::StrAppend(&out, "\n", GlobalFlagsText());
  return out;
}

// The typed parsing of flag values; each returns "" or a usage error.

std::string ParseDirs(absl::string_view flag, absl::string_view value,
                      std::vector<std::string>* out) {
  out->clear();
  for (absl::string_view d : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    out->emplace_back(d);
  }
  if (out->empty()) return absl::StrCat("--", flag, " needs a directory");
  return "";
}

std::string ParseNetworks(absl::string_view value,
                          std::vector<NetAttachment>* out) {
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(item, absl::MaxSplits(':', 1));
    NetAttachment a{std::string(parts.first), std::string(parts.second)};
    if (absl::Status s = types::ValidateNetworkName(a.name); !s.ok()) {
      return absl::StrCat("--network: ", s.message());
    }
    if (absl::StrContains(item, ':')) {
      if (absl::Status s = types::ValidateInterfaceName(a.ifname); !s.ok()) {
        return absl::StrCat("--network ", item, ": ", s.message());
      }
    }
    out->push_back(std::move(a));
  }
  if (out->empty()) return "--network needs at least one network name";
  return "";
}

std::string ParsePort(absl::string_view item, PortMapping* out) {
  const std::string bad = absl::StrCat(
      "--port \"", item, "\": want HOST:CONTAINER[/PROTO][@HOSTIP]");
  absl::string_view rest = item;
  if (size_t at = rest.find('@'); at != absl::string_view::npos) {
    out->host_ip = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (types::IPFamily(out->host_ip) == 0 ||
        absl::StrContains(out->host_ip, '/')) {
      return absl::StrCat(bad, " (\"", out->host_ip, "\" is not an IP)");
    }
  }
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    out->protocol = absl::AsciiStrToLower(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (out->protocol != "tcp" && out->protocol != "udp" &&
        out->protocol != "sctp") {
      return absl::StrCat(bad, " (protocol must be tcp, udp or sctp)");
    }
  }
  std::vector<absl::string_view> ports = absl::StrSplit(rest, ':');
  if (ports.size() != 2) return bad;
  for (int i = 0; i < 2; ++i) {
    int32_t port = 0;
    if (!absl::SimpleAtoi(ports[i], &port) || port < 1 || port > 65535) {
      return absl::StrCat(bad, " (ports are 1 to 65535)");
    }
    (i == 0 ? out->host_port : out->container_port) = port;
  }
  return "";
}

std::string ParseBool(absl::string_view flag, absl::string_view value,
                      bool* out) {
  if (!absl::SimpleAtob(value, out)) {
    return absl::StrCat("--", flag, "=", value, ": want true or false");
  }
  return "";
}

}  // namespace

std::string CommandName(Command command) {
  if (command == Command::kHelp) return "help";
  for (const CommandInfo& c : kCommands) {
    if (c.command == command) return c.name;
  }
  return "";
}

std::string UsageText(absl::string_view command) {
  if (const CommandInfo* c = FindCommand(command)) return CommandText(*c);
  if (command == "netns" || command == "cache") {
    std::string out = absl::StrCat("Usage: ocicnictl ", command,
                                   " SUBCOMMAND\n\nSubcommands:\n");
    for (const CommandInfo& c : kCommands) {
      if (absl::StartsWith(c.name, absl::StrCat(command, " "))) {
        absl::StrAppend(&out,
                        absl::StrFormat("  %-11s %s\n", c.synopsis, c.summary));
      }
    }
    return out;
  }
  return OverviewText();
}

ParseOutcome ParseArgs(const std::vector<std::string>& args) {
  ParseOutcome outcome;
  Invocation& inv = outcome.invocation;

  // Pass 1: split flags from positional arguments. Last value wins.
  std::map<std::string, std::string> values;
  std::vector<std::string> order;  // flag names in order of appearance
  std::vector<std::string> positional;
  std::string error;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--")) absl::ConsumePrefix(&body, "-");
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(body, absl::MaxSplits('=', 1));
    const bool has_value = absl::StrContains(body, '=');
    std::string name(kv.first);
    std::string value(kv.second);
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr && absl::StartsWith(name, "no") && !has_value) {
      const FlagSpec* negated = FindFlag(absl::string_view(name).substr(2));
      if (negated != nullptr && negated->boolean) {
        spec = negated;
        name = negated->name;
        value = "false";
      }
    } else if (spec != nullptr && spec->boolean && !has_value) {
      value = "true";
    } else if (spec != nullptr && !spec->boolean && !has_value) {
      if (i + 1 >= args.size()) {
        if (error.empty()) {
          error = absl::StrCat("flag --", name, " needs a value (--", name, " ",
                               spec->value_name, ")");
        }
        break;
      }
      value = args[++i];
    }
    if (spec == nullptr) {
      if (error.empty()) error = absl::StrCat("unknown flag ", arg);
      continue;
    }
    if (values.count(name) == 0) order.push_back(name);
    values[name] = value;
  }
  if (auto it = values.find("json"); it != values.end()) {
    bool json = false;
    outcome.json = absl::SimpleAtob(it->second, &json) && json;
  }
  auto fail = [&](std::string message) {
    outcome.error = std::move(message);
    return outcome;
  };

  bool help = false;
  for (const char* h : {"help", "h"}) {
    if (auto it = values.find(h); it != values.end()) {
      bool b = false;
      if (absl::SimpleAtob(it->second, &b) && b) help = true;
    }
  }

  // The command: one word, or two for the netns and cache groups.
  size_t used = 0;
  std::string name;
  if (!positional.empty()) {
    name = positional[0];
    used = 1;
    if (name == "netns" || name == "cache") {
      outcome.command = name;
      if (positional.size() < 2) {
        if (help) {
          inv.command = Command::kHelp;
          inv.help_topic = name;
          return outcome;
        }
        return fail(
            absl::StrCat(name, " needs a subcommand: ",
                         name == "netns" ? "add, del or list" : "list"));
      }
      name = absl::StrCat(name, " ", positional[1]);
      used = 2;
    }
  }
  if (name == "help") {
    inv.command = Command::kHelp;
    std::vector<std::string> topic(positional.begin() + 1, positional.end());
    inv.help_topic = absl::StrJoin(topic, " ");
    if (!inv.help_topic.empty() && FindCommand(inv.help_topic) == nullptr &&
        inv.help_topic != "netns" && inv.help_topic != "cache") {
      return fail(
          absl::StrCat("no help for unknown command \"", inv.help_topic, "\""));
    }
    return outcome;
  }
  const CommandInfo* info = FindCommand(name);
  if (info == nullptr) {
    if (!error.empty()) return fail(error);
    if (help) {
      inv.command = Command::kHelp;
      return outcome;
    }
    if (name.empty()) return fail("no command given");
    return fail(absl::StrCat("unknown command \"", name, "\""));
  }
  outcome.command = info->name;
  if (help) {
    inv.command = Command::kHelp;
    inv.help_topic = info->name;
    return outcome;
  }
  if (!error.empty()) return fail(error);
  inv.command = info->command;
  for (const std::string& flag : order) {
    if ((FindFlag(flag)->commands & Bit(inv.command)) == 0) {
      return fail(
          absl::StrCat("--", flag, " is not a flag of \"", info->name, "\""));
    }
  }

  // Positional arguments after the command.
  const size_t want =
      (inv.command == Command::kNetnsAdd || inv.command == Command::kNetnsDel)
          ? 1
          : 0;
  if (positional.size() - used < want) {
    return fail(absl::StrCat(info->name, " needs a namespace NAME"));
  }
  if (positional.size() - used > want) {
    return fail(
        absl::StrCat("unexpected argument \"", positional[used + want], "\""));
  }
  if (want == 1) inv.name = positional[used];

  // Typed values.
  GlobalFlags& g = inv.global;
  std::string e;
  auto has = [&](const char* flag) { return values.count(flag) > 0; };
  auto get = [&](const char* flag) -> const std::string& {
    return values[flag];
  };
  if (has("conf-dir") &&
      !(e = ParseDirs("conf-dir", get("conf-dir"), &g.conf_dirs)).empty()) {
    return fail(e);
  }
  if (has("plugin-dir") &&
      !(e = ParseDirs("plugin-dir", get("plugin-dir"), &g.plugin_dirs))
           .empty()) {
    return fail(e);
  }
  if (has("cache-dir")) {
    g.cache_dir = get("cache-dir");
    if (g.cache_dir.empty()) return fail("--cache-dir needs a directory");
  }
  if (has("netns-dir")) {
    g.netns_dir = get("netns-dir");
    if (g.netns_dir.empty()) return fail("--netns-dir needs a directory");
  }
  if (has("default-network")) g.default_network = get("default-network");
  if (has("timeout")) {
    if (!absl::ParseDuration(get("timeout"), &g.timeout) ||
        g.timeout <= absl::ZeroDuration() ||
        g.timeout == absl::InfiniteDuration()) {
      return fail(absl::StrCat("--timeout \"", get("timeout"),
                               "\": want a positive duration like 30s or 2m"));
    }
  }
  if (has("json") && !(e = ParseBool("json", get("json"), &g.json)).empty()) {
    return fail(e);
  }
  if (has("v")) {
    int v = 0;
    if (!absl::SimpleAtoi(get("v"), &v) || v < 0) {
      return fail(absl::StrCat("-v \"", get("v"), "\": want a number >= 0"));
    }
    g.verbosity = v;
  }

  // Namespaces given by name live in --netns-dir.
  auto netns_path = [&](const std::string& value) {
    if (value.empty() || absl::StrContains(value, '/')) return value;
    return absl::StrCat(g.netns_dir, "/", value);
  };

  switch (inv.command) {
    case Command::kAdd:
    case Command::kCheck:
    case Command::kDel:
    case Command::kStatus: {
      PodFlags& p = inv.pod;
      if (!has("id")) return fail(absl::StrCat(info->name, " needs --id"));
      p.id = get("id");
      if (absl::Status s = types::ValidateContainerId(p.id); !s.ok()) {
        return fail(absl::StrCat("--id: ", s.message()));
      }
      if (inv.command != Command::kDel) {
        if (!has("netns") || get("netns").empty()) {
          return fail(absl::StrCat(info->name, " needs --netns PATH"));
        }
      }
      p.netns = netns_path(get("netns"));
      if (has("pod")) {
        std::pair<std::string, std::string> parts =
            absl::StrSplit(get("pod"), absl::MaxSplits('/', 1));
        if (parts.first.empty() || parts.second.empty()) {
          return fail(
              absl::StrCat("--pod \"", get("pod"), "\": want NAMESPACE/NAME"));
        }
        p.pod_namespace = parts.first;
        p.pod_name = parts.second;
      }
      if (has("uid")) p.uid = get("uid");
      if (has("network") &&
          !(e = ParseNetworks(get("network"), &p.networks)).empty()) {
        return fail(e);
      }
      RuntimeConfig& rc = p.runtime;
      if (has("port")) {
        for (absl::string_view item :
             absl::StrSplit(get("port"), ',', absl::SkipEmpty())) {
          PortMapping m;
          if (!(e = ParsePort(item, &m)).empty()) return fail(e);
          rc.port_mappings.push_back(std::move(m));
        }
      }
      if (has("ip")) {
        rc.ip = get("ip");
        if (types::IPFamily(rc.ip) == 0) {
          return fail(absl::StrCat("--ip \"", rc.ip, "\" is not an IP"));
        }
      }
      if (has("mac")) rc.mac = get("mac");
      if (has("cgroup-path")) rc.cgroup_path = get("cgroup-path");
      struct Pair {
        const char* rate;
        const char* burst;
        uint64_t BandwidthConfig::*rate_field;
        uint64_t BandwidthConfig::*burst_field;
      };
      for (const Pair& pair :
           {Pair{"ingress-rate", "ingress-burst",
                 &BandwidthConfig::ingress_rate,
                 &BandwidthConfig::ingress_burst},
            Pair{"egress-rate", "egress-burst", &BandwidthConfig::egress_rate,
                 &BandwidthConfig::egress_burst}}) {
        if (!has(pair.rate) && !has(pair.burst)) continue;
        if (!has(pair.rate) || !has(pair.burst)) {
          return fail(absl::StrCat("--", pair.rate, " and --", pair.burst,
                                   " go together"));
        }
        if (!rc.bandwidth.has_value()) rc.bandwidth.emplace();
        for (const char* flag : {pair.rate, pair.burst}) {
          uint64_t n = 0;
          if (!absl::SimpleAtoi(get(flag), &n) || n == 0) {
            return fail(absl::StrCat("--", flag, " \"", get(flag),
                                     "\": want a positive number"));
          }
          (*rc.bandwidth).*
              (flag == pair.rate ? pair.rate_field : pair.burst_field) = n;
        }
      }
      break;
    }
    case Command::kGc: {
      if (has("none-valid") &&
          !(e = ParseBool("none-valid", get("none-valid"), &inv.none_valid))
               .empty()) {
        return fail(e);
      }
      if (has("valid") && inv.none_valid) {
        return fail("gc takes --valid or --none-valid, not both");
      }
      if (!has("valid") && !inv.none_valid) {
        return fail(
            "gc needs the valid set: --valid ID[:IFNAME][,...] lists the "
            "attachments in use; --none-valid says every cached attachment "
            "is stale (a bare gc would detach every pod on the node)");
      }
      if (has("valid")) {
        for (absl::string_view item :
             absl::StrSplit(get("valid"), ',', absl::SkipEmpty())) {
          std::pair<std::string, std::string> parts =
              absl::StrSplit(item, absl::MaxSplits(':', 1));
          if (absl::Status s = types::ValidateContainerId(parts.first);
              !s.ok()) {
            return fail(absl::StrCat("--valid: ", s.message()));
          }
          if (absl::StrContains(item, ':')) {
            if (absl::Status s = types::ValidateInterfaceName(parts.second);
                !s.ok()) {
              return fail(absl::StrCat("--valid ", item, ": ", s.message()));
            }
          }
          inv.valid.push_back(std::move(parts));
        }
        if (inv.valid.empty()) {
          return fail("--valid needs at least one ID (or use --none-valid)");
        }
      }
      break;
    }
    case Command::kInspect:
      if (!has("netns") || get("netns").empty()) {
        return fail("inspect needs --netns PATH");
      }
      inv.netns = netns_path(get("netns"));
      if (has("ifname")) {
        inv.ifname = get("ifname");
        if (absl::Status s = types::ValidateInterfaceName(inv.ifname);
            !s.ok()) {
          return fail(absl::StrCat("--ifname: ", s.message()));
        }
      }
      break;
    default:
      break;
  }
  return outcome;
}

}  // namespace ocicni::ctl
