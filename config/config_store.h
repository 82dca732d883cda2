// ConfigStore: the current network configuration snapshot, kept up to date.
//
// The store loads the conf dirs (config/loader.h) when it is created and
// again on every Reload(). With watching on, a background thread reloads when
// the dirs change: directory events (DirWatcher) are debounced (a burst of
// writes becomes one reload), and if watching is impossible (no inotify, a
// watch limit) or fails, the thread falls back to reloading every
// `resync_interval` and keeps trying to watch again; it never silently stops.
//
// Readers take Current() and use that snapshot for as long as they like; a
// reload builds a new snapshot and swaps a pointer, so readers never wait for
// a reload and a running pod operation never holds up one.
//
//   ConfigStoreOptions options;
//   options.conf_dirs = {"/etc/cni/net.d"};
//   options.extra_watch_dirs = {"/opt/cni/bin"};  // plugins may come later
//   options.load.default_network = "pods";
//   ConfigStore store(std::move(options));
//
//   std::shared_ptr<const Snapshot> snapshot = store.Current();
//   OCICNI_ASSIGN_OR_RETURN(auto network, store.GetNetwork("pods"));
//   // `network` keeps its snapshot alive.
//
//   int id = store.Subscribe([](const std::shared_ptr<const Snapshot>& s) {
//     LOG(INFO) << "networks reloaded: " << s->networks().size();
//   });
#ifndef OCICNI_CONFIG_CONFIG_STORE_H_
#define OCICNI_CONFIG_CONFIG_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/dir_watcher.h"
#include "config/loader.h"
#include "config/network_config.h"
#include "config/snapshot.h"

namespace ocicni::config {

// ConfigStoreOptions configures a ConfigStore.
struct ConfigStoreOptions {
  // The conf dirs, scanned in this order.
  std::vector<std::string> conf_dirs = {"/etc/cni/net.d"};
  // More directories whose changes trigger a reload, e.g. the plugin binary
  // dirs when `load.validator` checks that plugins exist.
  std::vector<std::string> extra_watch_dirs;
  // Default network, validator and size limit.
  LoadOptions load;
  // Whether to run the background thread that follows changes. Without it,
  // only Reload() (and the resync of GetNetwork) refresh the snapshot.
  bool watch = true;
  // After a change, wait until the dirs have been quiet this long...
  absl::Duration debounce = absl::Milliseconds(50);
  // ...but reload at the latest this long after the first change of a burst.
  absl::Duration max_debounce = absl::Seconds(1);
  // While the dirs cannot be watched: how often to reload instead (and to
  // try watching again).
  absl::Duration resync_interval = absl::Seconds(10);
};

class ConfigStore {
 public:
  using Callback = std::function<void(const std::shared_ptr<const Snapshot>&)>;

  // Loads the dirs (blocking for the I/O and the validator) and, if
  // options.watch, starts watching them with inotify (or, if inotify is
  // unavailable, periodic reloads).
  explicit ConfigStore(ConfigStoreOptions options);

  // As above with the given watcher; a null watcher means periodic reloads.
  // For tests and for callers that bring their own DirWatcher.
  ConfigStore(ConfigStoreOptions options, std::unique_ptr<DirWatcher> watcher);

  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // Stops and joins the background thread.
  ~ConfigStore();

  // Current returns the current snapshot (never null). Thread-safe; takes a
  // mutex only for the pointer copy, never waits for a reload.
  std::shared_ptr<const Snapshot> Current() const;

  // Reload loads the dirs now, makes the result current, runs the
  // subscribers, and returns it. Thread-safe; blocks for the load; concurrent
  // reloads are serialized. Must not be called from a subscriber.
  std::shared_ptr<const Snapshot> Reload();

  // GetNetwork returns the network named `name` from the current snapshot.
  // If it is not there, the store reloads once (unless another reload
  // finished meanwhile) before giving up: the file may have arrived before
  // the watcher said so. The result shares ownership of its snapshot.
  // Errors: kNotFound, with the file's reason if a file defines it but is
  // invalid. Thread-safe; may block for a reload.
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> GetNetwork(
      absl::string_view name);

  // GetDefaultNetwork is GetNetwork for the default network. Errors:
  // kNotFound saying why there is no default.
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> GetDefaultNetwork();

  // Subscribe registers `callback` to run after every swap with the new
  // snapshot, on the thread that reloaded (the watcher's or Reload's
  // caller), one at a time. Returns an id for Unsubscribe. Thread-safe.
  int Subscribe(Callback callback);

  // Unsubscribe removes a callback. When it returns, the callback is not
  // running and will not run again. Thread-safe; must not be called from a
  // subscriber.
  void Unsubscribe(int id);

  // Stop ends watching and joins the background thread; idempotent. The
  // store stays usable (Current, Reload) afterwards.
  void Stop();

 private:
  std::shared_ptr<const Snapshot> ReloadLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // LookUpOrResync is GetNetwork, the default network for an empty name.
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> LookUpOrResync(
      absl::string_view name);
  // Run is the background thread: watch, debounce, reload; or poll.
  void Run();
  // UpdateWatches points the watcher at WatchDirs(Current()) when that set
  // changed, reloading after each change to catch what happened before the
  // new watches existed. Returns false if the watcher failed.
  bool UpdateWatches();
  // WatchDirs lists the conf dirs, the extra dirs and the snapshot's
  // plugin conf dirs.
  std::vector<std::string> WatchDirs(const Snapshot& snapshot) const;
  // SleepUnlessStopped waits `d` or until Stop; returns false on Stop.
  bool SleepUnlessStopped(absl::Duration d);
  bool stopping() const;
  // LookUp finds a network (or the default, for an empty name) in `s`.
  static absl::StatusOr<std::shared_ptr<const NetworkConfigList>> LookUp(
      const std::shared_ptr<const Snapshot>& s, absl::string_view name);

  const ConfigStoreOptions options_;
  const std::unique_ptr<DirWatcher> watcher_;

  // Serializes reloads and subscriber runs. Not held by readers.
  absl::Mutex reload_mu_;
  // Counts loads; lets GetNetwork tell whether a load began after it did.
  std::atomic<uint64_t> loads_started_{0};
  // Guards only the pointer.
  mutable absl::Mutex current_mu_;
  std::shared_ptr<const Snapshot> current_ ABSL_GUARDED_BY(current_mu_);

  absl::Mutex subscribers_mu_ ABSL_ACQUIRED_AFTER(reload_mu_);
  std::vector<std::pair<int, Callback>> subscribers_
      ABSL_GUARDED_BY(subscribers_mu_);
  int next_subscriber_id_ ABSL_GUARDED_BY(subscribers_mu_) = 1;

  // Set by the constructor, then touched by the background thread only.
  bool watching_ = false;
  std::vector<std::string> watched_dirs_;

  mutable absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::once_flag stop_once_;
  std::thread thread_;
};

}  // namespace ocicni::config

#endif  // OCICNI_CONFIG_CONFIG_STORE_H_
