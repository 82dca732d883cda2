#include "tools/ocicnictl/ocicnictl.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/posix.h"
#include "config/loader.h"
#include "config/snapshot.h"
#include "glog/logging.h"
#include "netns/lifecycle.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "ocicni/result_cache.h"
#include "tools/ocicnictl/args.h"
#include "tools/ocicnictl/format.h"
#include "types/json.h"

namespace ocicni::ctl {
namespace {

// Context is one run's parsed command line and streams.
struct Context {
  const Invocation& inv;
  Style style;
  std::ostream& out;
  std::ostream& err;
  const Env& env;
};

int Fail(const Context& c, const absl::Status& status) {
  c.err << FormatError(CommandName(c.inv.command), status, c.style);
  return kExitFailed;
}

int Usage(const Context& c, const std::string& message) {
  c.err << FormatUsageError(message, CommandName(c.inv.command), c.style);
  return kExitUsage;
}

int Done(const Context& c, const std::string& message) {
  c.out << FormatDone(message, c.style);
  return kExitOk;
}

// --- networks ----------------------------------------------------------

int RunNetworks(const Context& c) {
  const GlobalFlags& g = c.inv.global;
  config::LoadOptions load;
  load.default_network = g.default_network;
  std::shared_ptr<const config::Snapshot> snapshot =
      config::LoadDirs(g.conf_dirs, load);

  NetworksView view;
  view.conf_dirs = g.conf_dirs;
  for (const config::ConfigDir& dir : snapshot->dirs()) {
    if (!dir.exists) {
      view.dir_notes.push_back(absl::StrCat(dir.path, " does not exist"));
    } else if (!dir.error.ok()) {
      view.dir_notes.push_back(std::string(dir.error.message()));
    }
  }
  for (const config::ConfigFile& file : snapshot->files()) {
    NetworkFile f;
    f.file = file.path;
    if (!file.network.empty()) f.network = file.network;
    const config::NetworkConfigList* conf = nullptr;
    std::optional<config::NetworkConfigList> shadowed;
    switch (file.state) {
      case config::FileState::kValid:
        f.valid = true;
        conf = snapshot->Find(file.network);
        break;
      case config::FileState::kShadowed:
        f.valid = true;
        f.shadowed_by = file.shadowed_by;
        // The snapshot keeps only the network that is used; read this one
        // again to show its version and chain.
        if (auto loaded = config::LoadConfigFile(file.path); loaded.ok()) {
          shadowed = *std::move(loaded);
          conf = &*shadowed;
        }
        break;
      case config::FileState::kInvalid:
        f.error = std::string(file.error.message());
        break;
    }
    if (conf != nullptr) {
      f.cni_version = conf->cni_version;
      for (const config::PluginConfig& p : conf->plugins) {
        f.plugins.push_back(p.type);
      }
    }
    view.files.push_back(std::move(f));
  }
  absl::StatusOr<const config::NetworkConfigList*> def = snapshot->Default();
  if (def.ok()) {
    view.default_network = (*def)->name;
  } else {
    view.no_default_reason = std::string(def.status().message());
  }
  c.out << FormatNetworks(view, c.style);
  return kExitOk;
}

// --- pod commands ------------------------------------------------------

absl::StatusOr<std::unique_ptr<CNIPlugin>> MakePlugin(const Context& c) {
  const GlobalFlags& g = c.inv.global;
  Options options;
  options.default_network = g.default_network;
  options.conf_dirs = g.conf_dirs;
  options.plugin_dirs = g.plugin_dirs;
  options.cache_dir = g.cache_dir;
  // One operation per process: read the config once, follow nothing.
  options.watch = false;
  options.default_timeout = g.timeout;
  if (c.env.make_plugin) return c.env.make_plugin(options);
  return InitCNI(options);
}

bool HasRuntimeConfig(const RuntimeConfig& rc) {
  return !rc.ip.empty() || !rc.mac.empty() || !rc.port_mappings.empty() ||
         rc.bandwidth.has_value() || !rc.cgroup_path.empty();
}

PodNetwork BuildPod(const PodFlags& flags, const CNIPlugin& plugin) {
  PodNetwork pod;
  pod.name = flags.pod_name;
  pod.namespace_ = flags.pod_namespace;
  pod.id = flags.id;
  pod.uid = flags.uid;
  pod.netns = flags.netns;
  pod.networks = flags.networks;
  if (HasRuntimeConfig(flags.runtime)) {
    std::vector<std::string> names;
    for (const NetAttachment& a : flags.networks) names.push_back(a.name);
    if (names.empty()) names.push_back(plugin.GetDefaultNetworkName());
    for (const std::string& name : names) {
      if (!name.empty()) pod.runtime_config[name] = flags.runtime;
    }
  }
  return pod;
}

std::string NetworkList(const std::vector<NetAttachment>& networks) {
  std::vector<std::string> parts;
  for (const NetAttachment& a : networks) {
    parts.push_back(
        a.ifname.empty() ? a.name : absl::StrCat(a.name, " (", a.ifname, ")"));
  }
  return absl::StrJoin(parts, ", ");
}

int RunPodCommand(const Context& c) {
  absl::StatusOr<std::unique_ptr<CNIPlugin>> plugin = MakePlugin(c);
  if (!plugin.ok()) return Fail(c, plugin.status());
  const PodFlags& flags = c.inv.pod;
  const PodNetwork pod = BuildPod(flags, **plugin);
  switch (c.inv.command) {
    case Command::kAdd: {
      absl::StatusOr<std::vector<NetResult>> results = (*plugin)->SetUpPod(pod);
      if (!results.ok()) return Fail(c, results.status());
      c.out << FormatResults(absl::StrCat("Pod ", pod.id, " attached to"),
                             *results, c.style);
      return kExitOk;
    }
    case Command::kStatus: {
      absl::StatusOr<std::vector<NetResult>> results =
          (*plugin)->GetPodNetworkStatus(pod);
      if (!results.ok()) return Fail(c, results.status());
      c.out << FormatResults(absl::StrCat("Pod ", pod.id, " is attached to"),
                             *results, c.style);
      return kExitOk;
    }
    case Command::kCheck: {
      absl::Status s = (*plugin)->CheckPod(pod);
      if (!s.ok()) return Fail(c, s);
      return Done(c, absl::StrCat("Pod ", pod.id, ": check passed."));
    }
    case Command::kDel: {
      // Say what is being detached: the networks given, else what the cache
      // holds for the ID (TearDownPod reads the same).
      std::vector<NetAttachment> detached = flags.networks;
      if (detached.empty()) {
        auto cached =
            ResultCache(c.inv.global.cache_dir).ListAttachments(flags.id);
        if (cached.ok()) {
          for (const types::CacheFile& f : *cached) {
            detached.push_back({f.network_name(), f.if_name()});
          }
        }
      }
      absl::Status s = (*plugin)->TearDownPod(pod);
      if (!s.ok()) return Fail(c, s);
      if (detached.empty()) {
        return Done(
            c, absl::StrCat("Pod ", pod.id, ": nothing cached to detach."));
      }
      return Done(c, absl::StrCat("Pod ", pod.id, ": detached from ",
                                  NetworkList(detached), "."));
    }
    default:
      return Usage(c, "not a pod command");
  }
}

// --- gc ----------------------------------------------------------------

using AttachmentKey = std::tuple<std::string, std::string, std::string>;

std::set<AttachmentKey> Keys(const std::vector<types::CacheFile>& files) {
  std::set<AttachmentKey> keys;
  for (const types::CacheFile& f : files) {
    keys.emplace(f.network_name(), f.container_id(), f.if_name());
  }
  return keys;
}

int RunGc(const Context& c) {
  ResultCache cache(c.inv.global.cache_dir);
  absl::StatusOr<std::vector<types::CacheFile>> before = cache.ListAll();
  if (!before.ok()) return Fail(c, before.status());

  // A bare ID keeps all of the container's attachments; ID:IFNAME keeps
  // those cached for that interface (one PodNetwork each, as a pod may not
  // name one interface twice). An ID:IFNAME the cache does not know is
  // still in use: every loaded network's GC is told so, since which
  // network it belongs to is unknown.
  std::vector<PodNetwork> valid;
  std::shared_ptr<const config::Snapshot> snapshot;
  for (const auto& [id, ifname] : c.inv.valid) {
    if (ifname.empty()) {
      PodNetwork pod;
      pod.id = id;
      valid.push_back(std::move(pod));
      continue;
    }
    bool cached = false;
    for (const types::CacheFile& f : *before) {
      if (f.container_id() != id || f.if_name() != ifname) continue;
      PodNetwork pod;
      pod.id = id;
      pod.networks.push_back({f.network_name(), ifname});
      valid.push_back(std::move(pod));
      cached = true;
    }
    if (cached) continue;
    if (snapshot == nullptr) {
      config::LoadOptions load;
      load.default_network = c.inv.global.default_network;
      snapshot = config::LoadDirs(c.inv.global.conf_dirs, load);
    }
    for (const config::NetworkConfigList& conf : snapshot->networks()) {
      PodNetwork pod;
      pod.id = id;
      pod.networks.push_back({conf.name, ifname});
      valid.push_back(std::move(pod));
    }
  }

  absl::StatusOr<std::unique_ptr<CNIPlugin>> plugin = MakePlugin(c);
  if (!plugin.ok()) return Fail(c, plugin.status());
  absl::Status gc = (*plugin)->GC(valid);
  if (!gc.ok()) return Fail(c, gc);

  absl::StatusOr<std::vector<types::CacheFile>> after = cache.ListAll();
  if (!after.ok()) return Fail(c, after.status());
  std::set<AttachmentKey> kept = Keys(*after);
  std::vector<std::string> removed;
  for (const AttachmentKey& k : Keys(*before)) {
    if (kept.count(k) == 0) {
      removed.push_back(absl::StrCat(std::get<0>(k), "/", std::get<1>(k), "/",
                                     std::get<2>(k)));
    }
  }
  std::string message = absl::StrCat(
      "gc: deleted ", removed.size(), " stale attachment",
      removed.size() == 1 ? "" : "s",
      removed.empty() ? ""
                      : absl::StrCat(" (", absl::StrJoin(removed, ", "), ")"),
      "; ", kept.size(), " cached attachment", kept.size() == 1 ? "" : "s",
      " kept.");
  return Done(c, message);
}

// --- inspect, netns, cache, version ------------------------------------

int RunInspect(const Context& c) {
  absl::StatusOr<netns::NetNS> ns = netns::NetNS::Open(c.inv.netns);
  if (!ns.ok()) return Fail(c, ns.status());
  absl::StatusOr<std::unique_ptr<netns::Inspector>> inspector =
      netns::OpenInspector(*ns);
  if (!inspector.ok()) return Fail(c, inspector.status());
  InspectView view;
  view.netns = c.inv.netns;
  absl::StatusOr<std::vector<netns::Link>> links = (*inspector)->Links();
  if (!links.ok()) return Fail(c, links.status());
  absl::StatusOr<std::vector<netns::Address>> addrs = (*inspector)->Addresses();
  if (!addrs.ok()) return Fail(c, addrs.status());
  absl::StatusOr<std::vector<netns::Route>> routes = (*inspector)->Routes();
  if (!routes.ok()) return Fail(c, routes.status());
  view.links = *std::move(links);
  view.addresses = *std::move(addrs);
  view.routes = *std::move(routes);
  if (!c.inv.ifname.empty()) {
    auto it = std::find_if(
        view.links.begin(), view.links.end(),
        [&](const netns::Link& l) { return l.name == c.inv.ifname; });
    if (it == view.links.end()) {
      return Fail(c, absl::NotFoundError(absl::StrCat(
                         "no interface ", c.inv.ifname, " in ", c.inv.netns)));
    }
    const netns::Link link = *it;
    view.links = {link};
    view.addresses.erase(
        std::remove_if(
            view.addresses.begin(), view.addresses.end(),
            [&](const netns::Address& a) { return a.ifindex != link.index; }),
        view.addresses.end());
    view.routes.erase(std::remove_if(view.routes.begin(), view.routes.end(),
                                     [&](const netns::Route& r) {
                                       return r.ifindex != link.index;
                                     }),
                      view.routes.end());
  }
  c.out << FormatInspect(view, c.style);
  return kExitOk;
}

int RunNetns(const Context& c) {
  netns::NamedOptions options;
  options.runtime_dir = c.inv.global.netns_dir;
  if (c.inv.command == Command::kNetnsList) {
    std::vector<std::string> names;
    DIR* dir = opendir(options.runtime_dir.c_str());
    if (dir == nullptr) {
      if (errno != ENOENT) {
        return Fail(c, ErrnoToStatus(errno, absl::StrCat("cannot list ",
                                                         options.runtime_dir)));
      }
    } else {
      while (struct dirent* e = readdir(dir)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
      }
      closedir(dir);
    }
    std::sort(names.begin(), names.end());
    c.out << FormatNetnsList(names, options.runtime_dir, c.style);
    return kExitOk;
  }
  absl::StatusOr<std::string> path = netns::NamedPath(c.inv.name, options);
  if (!path.ok()) return Usage(c, std::string(path.status().message()));
  if (c.inv.command == Command::kNetnsAdd) {
    absl::StatusOr<netns::NetNS> ns = netns::CreateNamed(c.inv.name, options);
    if (!ns.ok()) return Fail(c, ns.status());
    return Done(c, absl::StrCat("Created network namespace ", c.inv.name, " (",
                                *path, ")."));
  }
  absl::Status s = netns::DeleteNamed(c.inv.name, options);
  if (!s.ok()) return Fail(c, s);
  return Done(c, absl::StrCat("Deleted network namespace ", c.inv.name, "."));
}

std::vector<std::string> CachedIps(const types::CacheFile& f) {
  std::vector<std::string> ips;
  if (!f.has_result()) return ips;
  types::Result result;
  if (!types::ValueToMessage(types::ObjectValue(f.result()), "cached result",
                             &result)
           .ok()) {
    return ips;
  }
  for (const types::IPConfig& ip : result.ips()) ips.push_back(ip.address());
  if (!result.ip4().ip().empty()) ips.push_back(result.ip4().ip());
  if (!result.ip6().ip().empty()) ips.push_back(result.ip6().ip());
  return ips;
}

int RunCacheList(const Context& c) {
  ResultCache cache(c.inv.global.cache_dir);
  absl::StatusOr<std::vector<types::CacheFile>> files = cache.ListAll();
  if (!files.ok()) return Fail(c, files.status());
  std::vector<CacheEntry> entries;
  for (const types::CacheFile& f : *files) {
    entries.push_back({f.container_id(), f.network_name(), f.if_name(),
                       f.netns(), CachedIps(f)});
  }
  c.out << FormatCache(entries, c.inv.global.cache_dir, c.style);
  return kExitOk;
}

}  // namespace

int Run(const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err, const Env& env) {
  ParseOutcome parsed = ParseArgs(args);
  const Style style = parsed.json ? Style::kJson : Style::kHuman;
  if (!parsed.error.empty()) {
    err << FormatUsageError(parsed.error, parsed.command, style);
    return kExitUsage;
  }
  const Invocation& inv = parsed.invocation;
  if (inv.global.verbosity.has_value()) FLAGS_v = *inv.global.verbosity;
  Context c{inv, style, out, err, env};
  switch (inv.command) {
    case Command::kHelp:
      out << UsageText(inv.help_topic);
      return kExitOk;
    case Command::kNetworks:
      return RunNetworks(c);
    case Command::kAdd:
    case Command::kCheck:
    case Command::kDel:
    case Command::kStatus:
      return RunPodCommand(c);
    case Command::kGc:
      return RunGc(c);
    case Command::kInspect:
      return RunInspect(c);
    case Command::kNetnsAdd:
    case Command::kNetnsDel:
    case Command::kNetnsList:
      return RunNetns(c);
    case Command::kCacheList:
      return RunCacheList(c);
    case Command::kVersion:
      out << FormatVersion(style);
      return kExitOk;
  }
  return kExitUsage;
}

}  // namespace ocicni::ctl
