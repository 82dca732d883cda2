#include "ocicni/plugin_impl.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "config/config_store.h"
#include "config/network_config.h"
#include "exec/cni_args.h"
#include "exec/plugin_invoker.h"
#include "glog/logging.h"
#include "ocicni/failure.h"
#include "ocicni/plugin_validator.h"
#include "ocicni/pod_locks.h"
#include "ocicni/result_cache.h"
#include "types/json.h"
#include "types/request.h"
#include "types/result.h"
#include "types/validate.h"
#include "types/version.h"

namespace ocicni::internal {
namespace {

using config::NetworkConfigList;
using config::PluginConfig;
using google::protobuf::Struct;
using google::protobuf::Value;

using ArgPairs = std::vector<std::pair<std::string, std::string>>;

// Target is one (network, ifname) of a pod an operation works on.
struct Target {
  std::string network;
  std::string ifname;
  // The network's current configuration; null when it is not loaded (DEL
  // may still work from the cached configuration).
  const NetworkConfigList* conf = nullptr;
  RuntimeConfig runtime;
  // The attachment's cache entry when the caller has already read it.
  std::optional<types::CacheFile> cached;
  // SetUpPod: the CNI_ARGS pairs, built (and checked) before anything runs.
  ArgPairs args;
};

types::RuntimeConfig ToProto(const RuntimeConfig& in) {
  types::RuntimeConfig out;
  for (const PortMapping& pm : in.port_mappings) {
    types::PortMapping* p = out.add_port_mappings();
    p->set_host_port(pm.host_port);
    p->set_container_port(pm.container_port);
    p->set_protocol(pm.protocol);
    p->set_host_ip(pm.host_ip);
  }
  if (in.bandwidth.has_value()) {
    types::Bandwidth* b = out.mutable_bandwidth();
    b->set_ingress_rate(static_cast<double>(in.bandwidth->ingress_rate));
    b->set_ingress_burst(static_cast<double>(in.bandwidth->ingress_burst));
    b->set_egress_rate(static_cast<double>(in.bandwidth->egress_rate));
    b->set_egress_burst(static_cast<double>(in.bandwidth->egress_burst));
  }
  for (const std::vector<IpRange>& set : in.ip_ranges) {
    types::IPRangeSet* s = out.add_ip_ranges();
    for (const IpRange& r : set) {
      types::IPRange* range = s->add_ranges();
      range->set_subnet(r.subnet);
      range->set_range_start(r.range_start);
      range->set_range_end(r.range_end);
      range->set_gateway(r.gateway);
    }
  }
  if (in.dns.has_value()) {
    types::DNSConfig* d = out.mutable_dns();
    for (const auto& s : in.dns->servers) d->add_servers(s);
    for (const auto& s : in.dns->searches) d->add_searches(s);
    for (const auto& s : in.dns->options) d->add_options(s);
  }
  if (!in.ip.empty()) out.add_ips(in.ip);
  out.set_mac(in.mac);
  for (const auto& a : in.aliases) out.add_aliases(a);
  out.set_cgroup_path(in.cgroup_path);
  for (const auto& [k, v] : in.pod_annotations) {
    (*out.mutable_pod_annotations())[k] = v;
  }
  return out;
}

bool ValidMac(absl::string_view mac) {
  std::vector<absl::string_view> parts = absl::StrSplit(mac, ':');
  if (parts.size() != 6 && parts.size() != 8 && parts.size() != 20) {
    return false;
  }
  for (absl::string_view p : parts) {
    if (p.size() != 2 || !absl::ascii_isxdigit(p[0]) ||
        !absl::ascii_isxdigit(p[1])) {
      return false;
    }
  }
  return true;
}

absl::Status Aggregate(const std::vector<absl::Status>& errors) {
  if (errors.empty()) return absl::OkStatus();
  if (errors.size() == 1) return errors[0];
  std::vector<std::string> messages;
  for (const absl::Status& e : errors) messages.emplace_back(e.message());
  absl::Status out(
      errors[0].code(),
      absl::StrCat(errors.size(), " errors: ", absl::StrJoin(messages, "; ")));
  errors[0].ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) {
        out.SetPayload(url, payload);
      });
  return out;
}

std::string JoinArgs(const ArgPairs& pairs) {
  return absl::StrJoin(pairs, ";", absl::PairFormatter("="));
}

class CniPluginImpl final : public CNIPlugin {
 public:
  CniPluginImpl(Options options, Deps deps,
                std::unique_ptr<PluginValidator> validator,
                ArgPairs inherited_args)
      : options_(std::move(options)),
        invoker_(std::move(deps.invoker)),
        netns_ops_(std::move(deps.netns_ops)),
        validator_(std::move(validator)),
        store_(MakeStore(options_, validator_.get(), std::move(deps.watcher))),
        cache_(options_.cache_dir, options_.durable_cache),
        inherited_args_(std::move(inherited_args)) {}

  ~CniPluginImpl() override { Shutdown(); }

  std::string Name() const override { return kCNIPluginName; }

  std::string GetDefaultNetworkName() const override {
    absl::StatusOr<const NetworkConfigList*> net = store_->Current()->Default();
    return net.ok() ? (*net)->name : "";
  }

  absl::StatusOr<std::vector<NetResult>> SetUpPod(
      const PodNetwork& pod, const CallOptions& call) override;
  absl::Status TearDownPod(const PodNetwork& pod,
                           const CallOptions& call) override;
  absl::Status CheckPod(const PodNetwork& pod,
                        const CallOptions& call) override;
  absl::StatusOr<std::vector<NetResult>> GetPodNetworkStatus(
      const PodNetwork& pod, const CallOptions& call) override;
  absl::Status GC(const std::vector<PodNetwork>& valid_pods,
                  const CallOptions& call) override;
  absl::Status Status() override;

  absl::Status Reload() override {
    OCICNI_RETURN_IF_ERROR(CheckRunning());
    store_->Reload();
    return absl::OkStatus();
  }

  void Shutdown() override {
    if (!shut_down_.exchange(true)) store_->Stop();
  }

 private:
  static std::unique_ptr<config::ConfigStore> MakeStore(
      const Options& options, PluginValidator* validator,
      std::unique_ptr<config::DirWatcher> watcher) {
    config::ConfigStoreOptions store_options;
    store_options.conf_dirs = options.conf_dirs;
    store_options.load.default_network = options.default_network;
    store_options.watch = options.watch;
    if (validator != nullptr) {
      store_options.load.validator = validator->AsNetworkValidator();
      // A configuration may arrive before its plugin binary.
      store_options.extra_watch_dirs = options.plugin_dirs;
    }
    if (watcher != nullptr) {
      return std::make_unique<config::ConfigStore>(std::move(store_options),
                                                   std::move(watcher));
    }
    return std::make_unique<config::ConfigStore>(std::move(store_options));
  }

  absl::Status CheckRunning() const {
    if (shut_down_.load()) {
      return absl::FailedPreconditionError("ocicni: the plugin is shut down");
    }
    return absl::OkStatus();
  }

  absl::Time Deadline(const CallOptions& call) const {
    return call.deadline.value_or(absl::Now() + options_.default_timeout);
  }

  // ResolveTargets applies the network list rules: empty = the default
  // network; missing ifnames get eth0, eth1, ... skipping used ones;
  // duplicates and invalid names are rejected. With `require_config`, every
  // network must be loaded.
  absl::StatusOr<std::vector<Target>> ResolveTargets(
      const PodNetwork& pod, const config::Snapshot& snapshot,
      bool require_config) const;

  absl::StatusOr<ArgPairs> BuildArgs(const PodNetwork& pod,
                                     const RuntimeConfig& runtime) const;

  exec::InvokeRequest MakeRequest(
      exec::Command command, const NetworkConfigList& conf,
      const PluginConfig& plugin, absl::string_view container_id,
      absl::string_view netns, absl::string_view ifname,
      absl::string_view cni_args, std::string stdin_data,
      absl::Time deadline) const;

  absl::StatusOr<NetResult> AddNetwork(const PodNetwork& pod,
                                       const Target& target,
                                       absl::Time deadline);

  // DelMode says what DelNetwork does when a plugin's DEL fails.
  enum class DelMode {
    // Stop there and keep the cache entry for a retry (libcni's rule).
    kStopAtFirstError,
    // Go on with the remaining plugins and report every error: the rollback
    // of a failed ADD, which has no cache entry to retry from.
    kBestEffort,
  };

  // DelNetwork runs DEL of one attachment, from its cached configuration
  // when there is one (else `target.conf`), and removes the cache entry on
  // success.
  absl::Status DelNetwork(const PodNetwork& pod, Target target,
                          absl::Time deadline,
                          DelMode mode = DelMode::kStopAtFirstError);

  // RollBack runs DEL (best effort) of targets[count-1] .. targets[0], the
  // networks a failed SetUpPod has added (or started to), under a fresh
  // deadline `budget` away, and returns the note for the error message:
  // "; rolled back" or "; rollback failed: <errors>".
  std::string RollBack(const PodNetwork& pod,
                       const std::vector<Target>& targets, size_t count,
                       absl::Duration budget);

  // LoopbackError is SetUpPod's error for `lo` failing to come up.
  static absl::Status LoopbackError(const PodNetwork& pod,
                                    const absl::Status& lo) {
    return absl::Status(lo.code(),
                        absl::StrCat("pod ", pod.namespace_, "/", pod.name,
                                     ": bringing up lo: ", lo.message()));
  }

  // CachedConfig parses a network configuration read from the cache.
  // Attachments of one network share the same bytes, so the last few parses
  // are kept (the parse is a pure function of the bytes).
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> CachedConfig(
      const std::string& bytes, absl::string_view label);

  // ReadCache reads an attachment's cache entry; a corrupt entry is removed
  // and reported as absent.
  std::optional<types::DecodedCacheFile> ReadCache(absl::string_view network,
                                                   absl::string_view id,
                                                   absl::string_view ifname);

  // CachedResult returns the cached result in `version`, if any.
  std::optional<types::Result> CachedResult(
      const types::DecodedCacheFile& cached, absl::string_view version);

  // PrevResult is a cached result (the `result` of a cache entry) in
  // `version` as a prevResult value.
  std::optional<Value> PrevResult(Struct cached_result,
                                  absl::string_view version);

  // CallArgs sets the CNI_ARGS and capability args of an attachment: as
  // recorded at ADD when its (cniCacheV1) cache entry exists, else built
  // from the pod. Errors: those of BuildArgs.
  absl::Status CallArgs(const PodNetwork& pod, const Target& target,
                        const std::optional<types::DecodedCacheFile>& cached,
                        std::string* cni_args, Struct* caps) const;

  absl::Status CheckNetwork(
      const PodNetwork& pod, const Target& target,
      const std::optional<types::DecodedCacheFile>& cached,
      absl::Time deadline);

  absl::Status GCNetwork(const NetworkConfigList& conf,
                         const std::vector<types::Attachment>& valid,
                         absl::Time deadline);

  const Options options_;
  const std::unique_ptr<exec::Invoker> invoker_;
  const std::unique_ptr<NetnsOps> netns_ops_;
  // Used by store_'s loads: declared (so destroyed) before store_.
  const std::unique_ptr<PluginValidator> validator_;
  const std::unique_ptr<config::ConfigStore> store_;
  const ResultCache cache_;
  const ArgPairs inherited_args_;
  PodLocks locks_;
  std::atomic<bool> shut_down_{false};

  static constexpr size_t kMaxCachedConfigs = 16;
  absl::Mutex configs_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const NetworkConfigList>>
      cached_configs_ ABSL_GUARDED_BY(configs_mu_);
};

absl::StatusOr<std::vector<Target>> CniPluginImpl::ResolveTargets(
    const PodNetwork& pod, const config::Snapshot& snapshot,
    bool require_config) const {
  std::vector<NetAttachment> wanted = pod.networks;
  if (wanted.empty()) {
    OCICNI_ASSIGN_OR_RETURN(const NetworkConfigList* def, snapshot.Default());
    wanted.push_back({def->name, kDefaultInterfaceName});
  }
  absl::flat_hash_set<std::string> used;
  for (const NetAttachment& a : wanted) {
    if (a.ifname.empty()) continue;
    OCICNI_RETURN_IF_ERROR(types::ValidateInterfaceName(a.ifname));
    if (!used.insert(a.ifname).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pod ", pod.namespace_, "/", pod.name, ": interface name \"",
          a.ifname, "\" is requested for more than one network"));
    }
  }
  std::vector<Target> targets;
  int next = 0;
  for (const NetAttachment& a : wanted) {
    OCICNI_RETURN_IF_ERROR(types::ValidateNetworkName(a.name));
    Target t;
    t.network = a.name;
    t.ifname = a.ifname;
    while (t.ifname.empty()) {
      std::string candidate = absl::StrCat("eth", next++);
      if (used.insert(candidate).second) t.ifname = candidate;
    }
    t.conf = snapshot.Find(a.name);
    if (t.conf == nullptr && require_config) {
      // Says why: the rejection of the file defining it, if there is one.
      return WithFailure(snapshot.Get(a.name).status(), a.name, "");
    }
    auto rc = pod.runtime_config.find(a.name);
    if (rc != pod.runtime_config.end()) t.runtime = rc->second;
    targets.push_back(std::move(t));
  }
  return targets;
}

absl::StatusOr<ArgPairs> CniPluginImpl::BuildArgs(
    const PodNetwork& pod, const RuntimeConfig& runtime) const {
  ArgPairs pairs = {{"IgnoreUnknown", "1"},
                    {"K8S_POD_NAMESPACE", pod.namespace_},
                    {"K8S_POD_NAME", pod.name},
                    {"K8S_POD_INFRA_CONTAINER_ID", pod.id},
                    {"K8S_POD_UID", pod.uid}};
  ArgPairs extra = inherited_args_;
  if (!runtime.ip.empty()) {
    if (types::IPFamily(runtime.ip) == 0 ||
        absl::StrContains(runtime.ip, '/')) {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to parse IP address \"", runtime.ip, "\""));
    }
    extra.emplace_back("IP", runtime.ip);
  }
  if (!runtime.mac.empty()) {
    if (!ValidMac(runtime.mac)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to parse MAC address \"", runtime.mac, "\""));
    }
    extra.emplace_back("MAC", runtime.mac);
  }
  // Checks every key and value for what CNI_ARGS cannot carry.
  OCICNI_RETURN_IF_ERROR(
      exec::BuildCniArgs({pod.namespace_, pod.name, pod.id, pod.uid}, extra)
          .status());
  pairs.insert(pairs.end(), extra.begin(), extra.end());
  return pairs;
}

exec::InvokeRequest CniPluginImpl::MakeRequest(
    exec::Command command, const NetworkConfigList& conf,
    const PluginConfig& plugin, absl::string_view container_id,
    absl::string_view netns, absl::string_view ifname,
    absl::string_view cni_args, std::string stdin_data,
    absl::Time deadline) const {
  exec::InvokeRequest request;
  request.command = command;
  request.plugin_type = plugin.type;
  request.network_name = conf.name;
  request.container_id = std::string(container_id);
  request.netns = std::string(netns);
  request.ifname = std::string(ifname);
  request.cni_args = std::string(cni_args);
  request.plugin_dirs = options_.plugin_dirs;
  if (!options_.vendor_prefix.empty()) {
    request.find_options.vendor_prefix = options_.vendor_prefix;
  }
  request.stdin_data = std::move(stdin_data);
  request.deadline = deadline;
  return request;
}

absl::StatusOr<NetResult> CniPluginImpl::AddNetwork(const PodNetwork& pod,
                                                    const Target& target,
                                                    absl::Time deadline) {
  const NetworkConfigList& conf = *target.conf;
  const ArgPairs& args = target.args;
  const std::string cni_args = JoinArgs(args);
  const Struct caps = types::CapabilityArgs(ToProto(target.runtime));

  // What DEL needs is on disk (durably, written while the plugins run)
  // before the first plugin's work can outlive a crash of this process.
  types::CacheFile entry;
  entry.set_container_id(pod.id);
  entry.set_config(conf.Bytes());
  entry.set_if_name(target.ifname);
  entry.set_network_name(conf.name);
  entry.set_netns(pod.netns);
  for (const auto& [key, value] : args) {
    google::protobuf::ListValue* pair = entry.add_cni_args();
    *pair->add_values() = types::StringValue(key);
    *pair->add_values() = types::StringValue(value);
  }
  *entry.mutable_capability_args() = caps;
  ResultCache::Pending first = cache_.StartWrite(std::move(entry));
  auto cache_error = [&](const absl::Status& s) {
    return WithFailure(
        absl::Status(s.code(),
                     absl::StrCat("network \"", conf.name,
                                  "\": caching the result: ", s.message())),
        conf.name, "");
  };

  std::optional<Value> prev;
  types::Result last;
  last.set_cni_version(conf.cni_version);
  for (const PluginConfig& plugin : conf.plugins) {
    auto fail = [&](const absl::Status& s) {
      // The rollback reads the first entry: it must have landed (or not).
      first.Wait().IgnoreError();
      return WithFailure(s, conf.name, plugin.type);
    };
    absl::StatusOr<std::string> request =
        types::BuildPluginRequest(plugin.conf, conf.name, conf.cni_version,
                                  prev ? &*prev : nullptr, caps);
    if (!request.ok()) return fail(request.status());
    absl::StatusOr<std::string> output = invoker_->Invoke(
        MakeRequest(exec::Command::kAdd, conf, plugin, pod.id, pod.netns,
                    target.ifname, cni_args, *std::move(request), deadline));
    if (!output.ok()) return fail(output.status());
    absl::StatusOr<types::DecodedResult> result =
        types::DecodeResultWithObject(*output, conf.cni_version, plugin.type);
    if (!result.ok()) return fail(result.status());
    absl::StatusOr<types::ConvertedResult> converted =
        types::ConvertResultWithValue(*std::move(result), conf.cni_version);
    if (!converted.ok()) return fail(converted.status());
    prev = std::move(converted->value);
    last = std::move(converted->result);
  }

  // The entry is durable when this returns: the first one (the complete one
  // follows behind), or the complete one when the first was still queued.
  // (A network has at least one plugin: there is a result.)
  Struct result;
  if (prev.has_value()) result = std::move(*prev->mutable_struct_value());
  absl::Status written = cache_.Complete(first, std::move(result));
  if (!written.ok()) return cache_error(written);
  return NetResult{conf.name, target.ifname, std::move(last)};
}

std::optional<types::DecodedCacheFile> CniPluginImpl::ReadCache(
    absl::string_view network, absl::string_view id, absl::string_view ifname) {
  absl::StatusOr<std::optional<types::DecodedCacheFile>> read =
      cache_.Read(network, id, ifname);
  if (read.ok()) return *std::move(read);
  if (read.status().code() == absl::StatusCode::kInvalidArgument) {
    LOG(WARNING) << "removing corrupt cache entry: " << read.status();
    absl::Status removed = cache_.Remove(network, id, ifname);
    if (!removed.ok()) LOG(WARNING) << removed;
  } else {
    LOG(WARNING) << "ignoring unreadable cache entry: " << read.status();
  }
  return std::nullopt;
}

std::optional<types::Result> CniPluginImpl::CachedResult(
    const types::DecodedCacheFile& cached, absl::string_view version) {
  if (!cached.file.has_result()) return std::nullopt;
  absl::StatusOr<types::Result> result =
      types::DecodeResult(cached.file.result(), version, "(cached result)");
  if (!result.ok()) {
    LOG(WARNING) << "unusable cached result: " << result.status();
    return std::nullopt;
  }
  absl::StatusOr<types::Result> converted =
      types::ConvertResult(*result, version);
  if (!converted.ok()) {
    LOG(WARNING) << "cannot convert cached result: " << converted.status();
    return std::nullopt;
  }
  return *std::move(converted);
}

std::optional<Value> CniPluginImpl::PrevResult(Struct cached_result,
                                               absl::string_view version) {
  // As CachedResult, then the value of the result.
  absl::StatusOr<types::DecodedResult> result = types::DecodeResultWithObject(
      std::move(cached_result), version, "(cached result)");
  if (!result.ok()) {
    LOG(WARNING) << "unusable cached result: " << result.status();
    return std::nullopt;
  }
  absl::StatusOr<types::ConvertedResult> converted =
      types::ConvertResultWithValue(*std::move(result), version);
  if (!converted.ok()) {
    LOG(WARNING) << "cannot convert cached result: " << converted.status();
    return std::nullopt;
  }
  return std::move(converted->value);
}

absl::Status CniPluginImpl::CallArgs(
    const PodNetwork& pod, const Target& target,
    const std::optional<types::DecodedCacheFile>& cached, std::string* cni_args,
    Struct* caps) const {
  if (cached.has_value() && !cached->legacy) {
    ArgPairs pairs;
    for (const auto& pair : cached->file.cni_args()) {
      if (pair.values_size() != 2) continue;
      pairs.emplace_back(pair.values(0).string_value(),
                         pair.values(1).string_value());
    }
    *cni_args = JoinArgs(pairs);
    *caps = cached->file.capability_args();
    return absl::OkStatus();
  }
  OCICNI_ASSIGN_OR_RETURN(ArgPairs pairs, BuildArgs(pod, target.runtime));
  *cni_args = JoinArgs(pairs);
  *caps = types::CapabilityArgs(ToProto(target.runtime));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const NetworkConfigList>>
CniPluginImpl::CachedConfig(const std::string& bytes, absl::string_view label) {
  {
    absl::MutexLock lock(&configs_mu_);
    auto it = cached_configs_.find(bytes);
    if (it != cached_configs_.end()) return it->second;
  }
  OCICNI_ASSIGN_OR_RETURN(NetworkConfigList parsed,
                          config::ParseConfList(bytes, label));
  // Shared between attachments: it must not name one of them.
  parsed.path = absl::StrCat("cached config of network ", parsed.name);
  auto shared = std::make_shared<const NetworkConfigList>(std::move(parsed));
  absl::MutexLock lock(&configs_mu_);
  if (cached_configs_.size() >= kMaxCachedConfigs) cached_configs_.clear();
  cached_configs_.emplace(bytes, shared);
  return shared;
}

absl::Status CniPluginImpl::DelNetwork(const PodNetwork& pod, Target target,
                                       absl::Time deadline, DelMode mode) {
  std::optional<types::DecodedCacheFile> cached;
  if (target.cached.has_value()) {
    cached.emplace();
    cached->file = *std::move(target.cached);
  } else {
    cached = ReadCache(target.network, pod.id, target.ifname);
  }
  const bool have_cache = cached.has_value() && !cached->legacy;

  // The configuration of the ADD, when cached; else the current one.
  std::shared_ptr<const NetworkConfigList> cached_conf;
  if (have_cache && !cached->file.config().empty()) {
    absl::StatusOr<std::shared_ptr<const NetworkConfigList>> parsed =
        CachedConfig(cached->file.config(),
                     absl::StrCat("cached config of ", target.network, "-",
                                  pod.id, "-", target.ifname));
    if (parsed.ok()) {
      cached_conf = *std::move(parsed);
    } else {
      LOG(WARNING) << parsed.status();
    }
  }
  const NetworkConfigList* conf =
      cached_conf != nullptr ? cached_conf.get() : target.conf;
  if (conf == nullptr) {
    return WithFailure(
        absl::NotFoundError(absl::StrCat(
            "network \"", target.network,
            "\": cannot delete: not loaded and no cached configuration")),
        target.network, "");
  }

  std::string cni_args;
  Struct caps;
  absl::Status args = CallArgs(pod, target, cached, &cni_args, &caps);
  if (!args.ok()) return WithFailure(args, conf->name, "");
  std::optional<Value> prev;
  if (types::VersionAtLeast(conf->cni_version, "0.4.0") && cached.has_value() &&
      cached->file.has_result()) {
    // The entry's result is not needed any more: moved, not copied.
    prev = PrevResult(std::move(*cached->file.mutable_result()),
                      conf->cni_version);
  }

  // A namespace that is gone is passed as "" so IPAM can still release.
  std::string netns = pod.netns;
  if (!netns.empty() && ::access(netns.c_str(), F_OK) != 0) netns.clear();

  std::vector<absl::Status> errors;
  for (auto it = conf->plugins.rbegin(); it != conf->plugins.rend(); ++it) {
    absl::StatusOr<std::string> request = types::BuildPluginRequest(
        it->conf, conf->name, conf->cni_version, prev ? &*prev : nullptr, caps);
    absl::StatusOr<std::string> output =
        request.ok()
            ? invoker_->Invoke(MakeRequest(
                  exec::Command::kDel, *conf, *it, pod.id, netns, target.ifname,
                  cni_args, *std::move(request), deadline))
            : request.status();
    if (output.ok()) continue;
    errors.push_back(WithFailure(output.status(), conf->name, it->type));
    if (mode == DelMode::kStopAtFirstError) break;
  }
  // On failure the cache entry stays, so that a retry has what it needs.
  if (!errors.empty()) return Aggregate(errors);
  absl::Status removed = cache_.Remove(target.network, pod.id, target.ifname);
  if (!removed.ok()) return WithFailure(removed, conf->name, "");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NetResult>> CniPluginImpl::SetUpPod(
    const PodNetwork& pod, const CallOptions& call) {
  OCICNI_RETURN_IF_ERROR(CheckRunning());
  const absl::Time start = absl::Now();
  const absl::Time deadline = Deadline(call);
  OCICNI_RETURN_IF_ERROR(types::ValidateContainerId(pod.id));
  std::shared_ptr<const config::Snapshot> snapshot = store_->Current();
  absl::StatusOr<std::vector<Target>> resolved =
      ResolveTargets(pod, *snapshot, true);
  if (absl::IsNotFound(resolved.status())) {
    // The file may have arrived before the watcher said so: look again.
    snapshot = store_->Reload();
    resolved = ResolveTargets(pod, *snapshot, true);
  }
  if (!resolved.ok()) return resolved.status();
  std::vector<Target> targets = *std::move(resolved);
  for (Target& t : targets) {
    // Rejects bad IP/MAC before anything runs.
    OCICNI_ASSIGN_OR_RETURN(t.args, BuildArgs(pod, t.runtime));
  }

  PodLocks::PodGuard guard = locks_.LockPod(pod.id);
  // lo comes up on a worker thread while the chain runs (the plugins do not
  // need it); it is waited for before returning, whatever happens.
  std::unique_ptr<PendingLoopback> lo;
  if (options_.bring_up_loopback && !pod.netns.empty()) {
    absl::StatusOr<std::unique_ptr<PendingLoopback>> started =
        netns_ops_->StartBringUpLoopback(pod.netns);
    if (!started.ok()) return LoopbackError(pod, started.status());
    lo = *std::move(started);
  }
  auto wait_for_lo = [&lo]() {
    return lo != nullptr ? lo->Wait() : absl::OkStatus();
  };

  std::vector<NetResult> results;
  for (size_t k = 0; k < targets.size(); ++k) {
    absl::StatusOr<NetResult> added = AddNetwork(pod, targets[k], deadline);
    if (added.ok()) {
      results.push_back(*std::move(added));
      continue;
    }
    std::string note = RollBack(pod, targets, k + 1, deadline - start);
    const absl::Status lo_status = wait_for_lo();
    if (!lo_status.ok()) {
      absl::StrAppend(&note,
                      "; bringing up lo also failed: ", lo_status.message());
    }
    absl::Status error = added.status();
    absl::Status out(error.code(), absl::StrCat(error.message(), note));
    error.ForEachPayload([&](absl::string_view url, const absl::Cord& p) {
      out.SetPayload(url, p);
    });
    return out;
  }
  const absl::Status lo_status = wait_for_lo();
  if (!lo_status.ok()) {
    const std::string note =
        RollBack(pod, targets, targets.size(), deadline - start);
    const absl::Status error = LoopbackError(pod, lo_status);
    return absl::Status(error.code(), absl::StrCat(error.message(), note));
  }
  return results;
}

std::string CniPluginImpl::RollBack(const PodNetwork& pod,
                                    const std::vector<Target>& targets,
                                    size_t count, absl::Duration budget) {
  const absl::Time deadline = absl::Now() + budget;
  std::vector<absl::Status> errors;
  for (size_t j = count; j-- > 0;) {
    absl::Status del =
        DelNetwork(pod, targets[j], deadline, DelMode::kBestEffort);
    if (!del.ok()) errors.push_back(del);
  }
  return errors.empty()
             ? std::string("; rolled back")
             : absl::StrCat("; rollback failed: ", Aggregate(errors).message());
}

absl::Status CniPluginImpl::TearDownPod(const PodNetwork& pod,
                                        const CallOptions& call) {
  OCICNI_RETURN_IF_ERROR(CheckRunning());
  const absl::Time deadline = Deadline(call);
  OCICNI_RETURN_IF_ERROR(types::ValidateContainerId(pod.id));
  std::shared_ptr<const config::Snapshot> snapshot = store_->Current();

  PodLocks::PodGuard guard = locks_.LockPod(pod.id);
  std::vector<Target> targets;
  if (pod.networks.empty()) {
    // The pod's attachments as the cache knows them (by content).
    OCICNI_ASSIGN_OR_RETURN(std::vector<types::CacheFile> attachments,
                            cache_.ListAttachments(pod.id));
    for (types::CacheFile& a : attachments) {
      Target t;
      t.network = a.network_name();
      t.ifname = a.if_name();
      t.conf = snapshot->Find(a.network_name());
      // Read under this pod's lock: DelNetwork need not read it again.
      t.cached = std::move(a);
      targets.push_back(std::move(t));
    }
    if (targets.empty()) {
      // Nothing cached: DEL on the default network, if there is one, so
      // that IPAM is released even when the cache was lost.
      absl::StatusOr<const NetworkConfigList*> def = snapshot->Default();
      if (!def.ok()) return absl::OkStatus();
      Target t;
      t.network = (*def)->name;
      t.ifname = kDefaultInterfaceName;
      t.conf = *def;
      auto rc = pod.runtime_config.find(t.network);
      if (rc != pod.runtime_config.end()) t.runtime = rc->second;
      targets.push_back(std::move(t));
    }
  } else {
    OCICNI_ASSIGN_OR_RETURN(targets, ResolveTargets(pod, *snapshot, false));
  }
  std::vector<absl::Status> errors;
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
    absl::Status s = DelNetwork(pod, std::move(*it), deadline);
    if (!s.ok()) errors.push_back(s);
  }
  return Aggregate(errors);
}

absl::Status CniPluginImpl::CheckNetwork(
    const PodNetwork& pod, const Target& target,
    const std::optional<types::DecodedCacheFile>& cached, absl::Time deadline) {
  const NetworkConfigList& conf = *target.conf;
  if (!types::VersionAtLeast(conf.cni_version, "0.4.0") || conf.disable_check) {
    return absl::OkStatus();
  }
  if (!cached.has_value()) {
    return WithFailure(
        absl::FailedPreconditionError(absl::StrCat(
            "network \"", conf.name, "\": no cached result for container ",
            pod.id, " on ", target.ifname, " (CHECK needs the ADD result)")),
        conf.name, "");
  }
  const std::optional<Value> prev =
      cached->file.has_result()
          ? PrevResult(cached->file.result(), conf.cni_version)
          : std::nullopt;
  std::string cni_args;
  Struct caps;
  absl::Status args = CallArgs(pod, target, cached, &cni_args, &caps);
  if (!args.ok()) return WithFailure(args, conf.name, "");
  for (const PluginConfig& plugin : conf.plugins) {
    absl::StatusOr<std::string> request =
        types::BuildPluginRequest(plugin.conf, conf.name, conf.cni_version,
                                  prev ? &*prev : nullptr, caps);
    if (!request.ok())
      return WithFailure(request.status(), conf.name, plugin.type);
    absl::StatusOr<std::string> output = invoker_->Invoke(
        MakeRequest(exec::Command::kCheck, conf, plugin, pod.id, pod.netns,
                    target.ifname, cni_args, *std::move(request), deadline));
    if (!output.ok())
      return WithFailure(output.status(), conf.name, plugin.type);
  }
  return absl::OkStatus();
}

absl::Status CniPluginImpl::CheckPod(const PodNetwork& pod,
                                     const CallOptions& call) {
  OCICNI_RETURN_IF_ERROR(CheckRunning());
  const absl::Time deadline = Deadline(call);
  OCICNI_RETURN_IF_ERROR(types::ValidateContainerId(pod.id));
  std::shared_ptr<const config::Snapshot> snapshot = store_->Current();
  OCICNI_ASSIGN_OR_RETURN(std::vector<Target> targets,
                          ResolveTargets(pod, *snapshot, true));
  PodLocks::PodGuard guard = locks_.LockPod(pod.id);
  for (const Target& t : targets) {
    OCICNI_RETURN_IF_ERROR(
        CheckNetwork(pod, t, ReadCache(t.network, pod.id, t.ifname), deadline));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NetResult>> CniPluginImpl::GetPodNetworkStatus(
    const PodNetwork& pod, const CallOptions& call) {
  OCICNI_RETURN_IF_ERROR(CheckRunning());
  const absl::Time deadline = Deadline(call);
  OCICNI_RETURN_IF_ERROR(types::ValidateContainerId(pod.id));
  std::shared_ptr<const config::Snapshot> snapshot = store_->Current();
  OCICNI_ASSIGN_OR_RETURN(std::vector<Target> targets,
                          ResolveTargets(pod, *snapshot, true));
  PodLocks::PodGuard guard = locks_.LockPod(pod.id);
  std::vector<NetResult> results;
  for (const Target& t : targets) {
    const NetworkConfigList& conf = *t.conf;
    std::optional<types::DecodedCacheFile> cached =
        ReadCache(t.network, pod.id, t.ifname);
    if (cached.has_value()) {
      OCICNI_RETURN_IF_ERROR(CheckNetwork(pod, t, cached, deadline));
      std::optional<types::Result> result =
          CachedResult(*cached, conf.cni_version);
      if (result.has_value()) {
        results.push_back({conf.name, t.ifname, *std::move(result)});
        continue;
      }
    }
    // No usable cache: read the interface live from the namespace.
    absl::StatusOr<InterfaceState> live =
        netns_ops_->GetInterfaceState(pod.netns, t.ifname);
    if (!live.ok()) {
      return WithFailure(
          absl::Status(
              live.status().code(),
              absl::StrCat("network \"", conf.name,
                           "\": no cached result, and reading ", t.ifname,
                           " in ", pod.netns, ": ", live.status().message())),
          conf.name, "");
    }
    types::Result r;
    r.set_cni_version(std::string(types::kCurrentVersion));
    types::Interface* iface = r.add_interfaces();
    iface->set_name(live->name);
    iface->set_mac(live->mac);
    iface->set_sandbox(pod.netns);
    for (const std::string& address : live->addresses) {
      types::IPConfig* ip = r.add_ips();
      ip->set_interface(0);
      ip->set_address(address);
    }
    absl::StatusOr<types::Result> converted =
        types::ConvertResult(r, conf.cni_version);
    if (!converted.ok()) {
      return WithFailure(
          absl::Status(converted.status().code(),
                       absl::StrCat("network \"", conf.name,
                                    "\": ", converted.status().message())),
          conf.name, "");
    }
    results.push_back({conf.name, t.ifname, *std::move(converted)});
  }
  return results;
}

absl::Status CniPluginImpl::GCNetwork(
    const NetworkConfigList& conf, const std::vector<types::Attachment>& valid,
    absl::Time deadline) {
  std::vector<absl::Status> errors;
  for (const PluginConfig& plugin : conf.plugins) {
    std::string request =
        types::BuildGCRequest(plugin.conf, conf.name, conf.cni_version, valid);
    absl::StatusOr<std::string> output =
        invoker_->Invoke(MakeRequest(exec::Command::kGc, conf, plugin, "", "",
                                     "", "", std::move(request), deadline));
    if (!output.ok()) {
      errors.push_back(WithFailure(output.status(), conf.name, plugin.type));
    }
  }
  return Aggregate(errors);
}

absl::Status CniPluginImpl::GC(const std::vector<PodNetwork>& valid_pods,
                               const CallOptions& call) {
  OCICNI_RETURN_IF_ERROR(CheckRunning());
  const absl::Time deadline = Deadline(call);
  std::shared_ptr<const config::Snapshot> snapshot = store_->Current();

  // Valid: (network, id, ifname) of pods that list networks; every
  // attachment of pods that do not.
  std::set<std::tuple<std::string, std::string, std::string>> valid;
  absl::flat_hash_set<std::string> whole_pods;
  for (const PodNetwork& pod : valid_pods) {
    OCICNI_RETURN_IF_ERROR(types::ValidateContainerId(pod.id));
    if (pod.networks.empty()) {
      whole_pods.insert(pod.id);
      continue;
    }
    OCICNI_ASSIGN_OR_RETURN(std::vector<Target> targets,
                            ResolveTargets(pod, *snapshot, false));
    for (const Target& t : targets) valid.emplace(t.network, pod.id, t.ifname);
  }

  PodLocks::GCGuard guard = locks_.LockAll();
  OCICNI_ASSIGN_OR_RETURN(std::vector<types::CacheFile> cached,
                          cache_.ListAll());
  std::vector<absl::Status> errors;
  std::map<std::string, std::vector<types::Attachment>> valid_by_network;
  for (const auto& [network, id, ifname] : valid) {
    valid_by_network[network].push_back({id, ifname});
  }
  for (const types::CacheFile& entry : cached) {
    if (whole_pods.contains(entry.container_id())) {
      valid_by_network[entry.network_name()].push_back(
          {entry.container_id(), entry.if_name()});
      continue;
    }
    if (valid.count({entry.network_name(), entry.container_id(),
                     entry.if_name()}) > 0) {
      continue;
    }
    absl::StatusOr<NetworkConfigList> conf = config::ParseConfList(
        entry.config(),
        absl::StrCat("cached config of ", entry.network_name(), "-",
                     entry.container_id(), "-", entry.if_name()));
    const NetworkConfigList* current = snapshot->Find(entry.network_name());
    if ((conf.ok() && conf->disable_gc) ||
        (!conf.ok() && current != nullptr && current->disable_gc)) {
      continue;
    }
    PodNetwork pod;
    pod.id = entry.container_id();
    pod.netns = entry.netns();
    Target t;
    t.network = entry.network_name();
    t.ifname = entry.if_name();
    t.conf = current;
    absl::Status del = DelNetwork(pod, std::move(t), deadline);
    if (!del.ok()) errors.push_back(del);
  }
  for (const NetworkConfigList& conf : snapshot->networks()) {
    if (conf.disable_gc || !types::VersionAtLeast(conf.cni_version, "1.1.0")) {
      continue;
    }
    absl::Status gc = GCNetwork(conf, valid_by_network[conf.name], deadline);
    if (!gc.ok()) errors.push_back(gc);
  }
  return Aggregate(errors);
}

absl::Status CniPluginImpl::Status() {
  OCICNI_RETURN_IF_ERROR(CheckRunning());
  std::shared_ptr<const config::Snapshot> snapshot = store_->Current();
  absl::StatusOr<const NetworkConfigList*> def = snapshot->Default();
  if (!def.ok()) {
    return absl::Status(
        def.status().code(),
        absl::StrCat("cni config uninitialized: ", def.status().message()));
  }
  const NetworkConfigList& conf = **def;
  if (!types::VersionAtLeast(conf.cni_version, "1.1.0")) {
    return absl::OkStatus();
  }
  const absl::Time deadline = absl::Now() + options_.default_timeout;
  for (const PluginConfig& plugin : conf.plugins) {
    absl::StatusOr<std::string> request = types::BuildPluginRequest(
        plugin.conf, conf.name, conf.cni_version, nullptr, Struct());
    if (!request.ok())
      return WithFailure(request.status(), conf.name, plugin.type);
    absl::StatusOr<std::string> output = invoker_->Invoke(
        MakeRequest(exec::Command::kStatus, conf, plugin, "", "", "", "",
                    *std::move(request), deadline));
    if (!output.ok())
      return WithFailure(output.status(), conf.name, plugin.type);
  }
  return absl::OkStatus();
}

ArgPairs InheritedArgs(const std::optional<std::string>& given) {
  std::string raw;
  if (given.has_value()) {
    raw = *given;
  } else if (const char* env = std::getenv("CNI_ARGS")) {
    raw = env;
  }
  ArgPairs pairs;
  for (absl::string_view item : absl::StrSplit(raw, ';', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.first.empty() || item.find('=') == absl::string_view::npos) {
      continue;
    }
    pairs.emplace_back(kv.first, kv.second);
  }
  return pairs;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CNIPlugin>> NewPlugin(const Options& options,
                                                     Deps deps) {
  if (options.conf_dirs.empty()) {
    return absl::InvalidArgumentError("ocicni: no conf dir given");
  }
  if (options.plugin_dirs.empty()) {
    return absl::InvalidArgumentError("ocicni: no plugin dir given");
  }
  if (options.cache_dir.empty()) {
    return absl::InvalidArgumentError("ocicni: the cache dir is empty");
  }
  if (options.default_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "ocicni: the default timeout must be positive");
  }
  if (deps.invoker == nullptr) {
    deps.invoker = std::make_unique<exec::PluginInvoker>();
  }
  if (deps.netns_ops == nullptr) deps.netns_ops = NewNetnsOps();

  std::unique_ptr<PluginValidator> validator;
  if (options.plugin_validation != Options::PluginValidation::kNone) {
    exec::FindOptions find;
    if (!options.vendor_prefix.empty())
      find.vendor_prefix = options.vendor_prefix;
    validator = std::make_unique<PluginValidator>(
        deps.invoker.get(), options.plugin_dirs, std::move(find),
        options.plugin_validation == Options::PluginValidation::kVersions,
        options.validation_timeout);
  }
  ArgPairs inherited = InheritedArgs(deps.inherited_cni_args);
  return std::unique_ptr<CNIPlugin>(new CniPluginImpl(
      options, std::move(deps), std::move(validator), std::move(inherited)));
}

}  // namespace ocicni::internal
