// ocicni: put pod sandboxes on networks through CNI plugins.
//
// A container runtime makes one CNIPlugin with InitCNI and calls it for every
// pod: SetUpPod when the sandbox starts, GetPodNetworkStatus to learn its
// addresses, TearDownPod when it stops, GC now and then with the pods that
// still exist. Network configurations are read from conf dirs
// (/etc/cni/net.d) and followed live; plugins are run from plugin dirs
// (/opt/cni/bin) per the CNI spec (0.1.0 to 1.1.0); results are cached in
// libcni's on-disk format (/var/lib/cni/results) so that other CNI tools on
// the node see the same attachments.
//
//   ocicni::Options options;
//   options.plugin_dirs = {"/usr/lib/cni"};
//   OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<ocicni::CNIPlugin> cni,
//                           ocicni::InitCNI(options));
//   ocicni::PodNetwork pod;
//   pod.name = "web-0";
//   pod.namespace_ = "default";
//   pod.id = "4f1b6a9c0e2d";            // the infra (sandbox) container ID
//   pod.netns = "/var/run/netns/web-0";
//   OCICNI_ASSIGN_OR_RETURN(std::vector<ocicni::NetResult> results,
//                           cni->SetUpPod(pod));
//   ...
//   OCICNI_RETURN_IF_ERROR(cni->TearDownPod(pod));
//
// Errors are absl::Status values whose message names the network, the plugin
// and the reason. The codes:
//   kInvalidArgument   bad input (IDs, interface names, duplicate ifnames,
//                      malformed config or plugin output)
//   kNotFound          no such network / no default network / plugin binary
//                      not found
//   kDeadlineExceeded  the call's deadline passed (the plugin was killed)
//   kFailedPrecondition the plugin was shut down
//   a CNI error's code when a plugin failed with one (e.g. 11 "try again
//                      later" -> kUnavailable); the CNI error itself (code,
//                      msg, details) is attached: see CniErrorOf.
// FailureOf tells which network and plugin failed.
//
// Thread-safety: every method of CNIPlugin may be called from any thread.
// Operations on different pods run in parallel; operations on one pod (all of
// its networks) are serialized; GC excludes SetUpPod and TearDownPod. No lock
// is held while plugins run except the pod's own.
#ifndef OCICNI_OCICNI_OCICNI_H_
#define OCICNI_OCICNI_OCICNI_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "types/cni.pb.h"

namespace ocicni {

inline constexpr char kDefaultInterfaceName[] = "eth0";
inline constexpr char kCNIPluginName[] = "cni";
inline constexpr char kDefaultNetDir[] = "/etc/cni/net.d";
inline constexpr char kDefaultCNIDir[] = "/opt/cni/bin";
inline constexpr char kDefaultCacheDir[] = "/var/lib/cni";
// printf template of a vendor's plugin dir: (prefix, plugin type).
inline constexpr char kVendorCNIDirTemplate[] = "%s/opt/%s/bin";

// Options configure InitCNI.
struct Options {
  // The default network's name; empty = the first valid network in file
  // order (re-evaluated on every reload).
  std::string default_network;
  std::vector<std::string> conf_dirs = {kDefaultNetDir};
  std::vector<std::string> plugin_dirs = {kDefaultCNIDir};
  std::string cache_dir = kDefaultCacheDir;
  // Follow changes of the conf dirs live (inotify). Off: the configuration
  // is read once, and on Reload().
  bool watch = true;
  // The deadline of a call that does not set its own.
  absl::Duration default_timeout = absl::Seconds(60);
  // When set, <prefix>/opt/<type>/bin is searched first for each plugin.
  std::string vendor_prefix;
  // Durable result cache. Each attachment's entry is first written without
  // the ADD result (the config, CNI_ARGS and capability args DEL needs),
  // fsync'ed and renamed into place while the plugins run, and SetUpPod
  // returns only once that is on disk. The entry with the result is then
  // fsync'ed and renamed over it in the background 10 ms later (a pod
  // torn down sooner never has it written); this process sees it at once.
  // When the first write has not started by the time the plugins are done
  // (it waits behind other pods' writes), the entry with the result is
  // written in its place, once, and is on disk when SetUpPod returns.
  // TearDownPod does not wait for the background write: it drops it, or keeps
  // it from being renamed into place, and the entry is gone from disk when it
  // returns. A crash or power loss at any point leaves no entry (before the
  // first write) or one of the two complete entries, never a torn or 0-byte
  // one. Off: the same writes, each at once and without fsync.
  bool durable_cache = true;
  // Bring `lo` up inside the pod's namespace during SetUpPod (what runtimes
  // otherwise use the loopback plugin for). It happens on a library thread
  // while the plugins run; SetUpPod waits for it, and fails ("bringing up
  // lo: ...", its networks rolled back) if it fails.
  bool bring_up_loopback = true;
  // Checks of plugins while the configuration loads. kNone trusts the
  // configuration. kBinaries requires every plugin type of a network to
  // resolve to a binary in the plugin dirs; kVersions also asks each binary
  // (CNI VERSION, bounded by `validation_timeout`) whether it supports the
  // network's cniVersion. A network failing the check is invalid (never the
  // default; SetUpPod on it fails before anything runs), and the plugin dirs
  // are watched too, so it becomes valid once its binary arrives.
  enum class PluginValidation { kNone, kBinaries, kVersions };
  PluginValidation plugin_validation = PluginValidation::kNone;
  absl::Duration validation_timeout = absl::Seconds(5);
};

// NetAttachment names one network of a pod and the interface it gets.
struct NetAttachment {
  std::string name;
  // Empty: eth0, eth1, ... in order, skipping names already used.
  std::string ifname;
};

struct PortMapping {
  int32_t host_port = 0;
  int32_t container_port = 0;
  std::string protocol = "tcp";
  std::string host_ip;
};

// BandwidthConfig: rates in bit/s, bursts in bits.
struct BandwidthConfig {
  uint64_t ingress_rate = 0;
  uint64_t ingress_burst = 0;
  uint64_t egress_rate = 0;
  uint64_t egress_burst = 0;
};

struct IpRange {
  std::string subnet;
  std::string range_start;
  std::string range_end;
  std::string gateway;
};

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

// RuntimeConfig is what the runtime asks of one network attachment. Each set
// field reaches plugins that declare the matching capability (ip and mac also
// go into CNI_ARGS as IP= and MAC=).
struct RuntimeConfig {
  std::string ip;
  std::string mac;
  std::vector<PortMapping> port_mappings;
  std::optional<BandwidthConfig> bandwidth;
  // One inner list per address to allocate.
  std::vector<std::vector<IpRange>> ip_ranges;
  std::string cgroup_path;
  std::map<std::string, std::string> pod_annotations;
  std::optional<DnsConfig> dns;
  std::vector<std::string> aliases;
};

// PodNetwork describes a pod for every call.
struct PodNetwork {
  std::string name;
  std::string namespace_;
  // The infra (sandbox) container ID: CNI_CONTAINERID.
  std::string id;
  std::string uid;
  // Path of the pod's network namespace (may be empty or gone for teardown).
  std::string netns;
  // The networks to attach, in order; empty = the default network on eth0.
  std::vector<NetAttachment> networks;
  // Per network name.
  std::map<std::string, RuntimeConfig> runtime_config;
};

// NetResult is one network's outcome for a pod: the CNI result in the
// network's cniVersion (types/result.h converts; types/json.h writes it).
struct NetResult {
  std::string network;
  std::string ifname;
  types::Result result;
};

// CallOptions tune one call.
struct CallOptions {
  // Unset: now + Options::default_timeout.
  std::optional<absl::Time> deadline;
};

// Failure says where an operation failed; see FailureOf.
struct Failure {
  std::string network;
  std::string plugin;
};

// CniErrorOf returns the CNI error a plugin failed with, if `status` carries
// one.
std::optional<types::Error> CniErrorOf(const absl::Status& status);

// FailureOf returns the network and plugin an error of this library is
// about, if it is about one.
std::optional<Failure> FailureOf(const absl::Status& status);

class CNIPlugin {
 public:
  virtual ~CNIPlugin() = default;

  // Name is "cni".
  virtual std::string Name() const = 0;

  // GetDefaultNetworkName returns the current default network's name, or ""
  // when there is none.
  virtual std::string GetDefaultNetworkName() const = 0;

  // SetUpPod attaches the pod to its networks in order (ADD of each chain)
  // and returns one result per network. When a network fails, the networks
  // already attached and the failing one are torn down again (DEL, in
  // reverse) under a fresh deadline as long as the call's own; unlike
  // TearDownPod, the rollback goes on past a plugin whose DEL fails, so the
  // others still release what they hold. The error says whether that
  // rollback succeeded. With Options::bring_up_loopback, a failure to bring
  // `lo` up fails the call the same way, after the chain. Blocks while
  // plugins run.
  virtual absl::StatusOr<std::vector<NetResult>> SetUpPod(
      const PodNetwork& pod, const CallOptions& options = {}) = 0;

  // TearDownPod detaches the pod (DEL of each chain, networks in reverse).
  // With no networks given, the pod's attachments are found in the result
  // cache. Works when the netns is gone. Deleting twice is fine.
  virtual absl::Status TearDownPod(const PodNetwork& pod,
                                   const CallOptions& options = {}) = 0;

  // CheckPod runs CHECK for each network (spec >= 0.4.0, unless the network
  // disables it) against the cached result.
  virtual absl::Status CheckPod(const PodNetwork& pod,
                                const CallOptions& options = {}) = 0;

  // GetPodNetworkStatus runs CheckPod's CHECKs, then returns each network's
  // cached result; a network with no cached result is reported from the
  // live addresses of its interface in the pod's namespace (netlink).
  virtual absl::StatusOr<std::vector<NetResult>> GetPodNetworkStatus(
      const PodNetwork& pod, const CallOptions& options = {}) = 0;

  // GC removes every cached attachment that does not belong to one of
  // `valid_pods` (DEL with the cached config, so networks whose config was
  // removed are covered too), then runs the GC verb of each network at spec
  // >= 1.1.0 with the valid attachments. Goes on past errors and returns
  // them all. Networks with disableGC are left alone.
  virtual absl::Status GC(const std::vector<PodNetwork>& valid_pods,
                          const CallOptions& options = {}) = 0;

  // Status is OK when a default network exists and its plugins pass STATUS
  // (spec >= 1.1.0).
  virtual absl::Status Status() = 0;

  // Reload reads the conf dirs again now.
  virtual absl::Status Reload() = 0;

  // Shutdown stops following the conf dirs and waits for that to end. Later
  // calls fail with kFailedPrecondition.
  virtual void Shutdown() = 0;

  // The original (2017) interface, on the default network and eth0.
  absl::Status SetUpPod(const std::string& netns_path,
                        const std::string& pod_namespace,
                        const std::string& pod_name,
                        const std::string& container_id);
  absl::Status TearDownPod(const std::string& netns_path,
                           const std::string& pod_namespace,
                           const std::string& pod_name,
                           const std::string& container_id);
  // Returns the pod's first IPv4 address (else IPv6) on eth0, without
  // prefix length.
  absl::StatusOr<std::string> GetContainerNetworkStatus(
      const std::string& netns_path, const std::string& pod_namespace,
      const std::string& pod_name, const std::string& container_id);
};

// InitCNI makes a CNIPlugin. Errors: kInvalidArgument for unusable options
// (no conf dir, no plugin dir, empty cache dir). Missing dirs and an empty
// configuration are not errors: Status() reports them until they appear.
absl::StatusOr<std::unique_ptr<CNIPlugin>> InitCNI(const Options& options);

// InitCNI as the original interface had it: `conf_dir` holds the network
// configs (the seed named it pluginDir), `plugin_dirs` the binaries
// (kDefaultCNIDir when empty).
absl::StatusOr<std::unique_ptr<CNIPlugin>> InitCNI(
    const std::string& conf_dir, std::vector<std::string> plugin_dirs = {});

}  // namespace ocicni

#endif  // OCICNI_OCICNI_OCICNI_H_
