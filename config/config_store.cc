#include "config/config_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "config/inotify_dir_watcher.h"
#include "glog/logging.h"

namespace ocicni::config {
namespace {

std::unique_ptr<DirWatcher> MakeInotifyWatcher(bool watch) {
  if (!watch) return nullptr;
  absl::StatusOr<std::unique_ptr<InotifyDirWatcher>> watcher =
      InotifyDirWatcher::Create();
  if (!watcher.ok()) {
    LOG(WARNING) << "cannot watch the CNI conf dirs (" << watcher.status()
                 << "); reloading them periodically instead";
    return nullptr;
  }
  return *std::move(watcher);
}

void AppendUnique(const std::vector<std::string>& from,
                  std::vector<std::string>* to) {
  for (const std::string& s : from) {
    if (std::find(to->begin(), to->end(), s) == to->end()) to->push_back(s);
  }
}

}  // namespace

ConfigStore::ConfigStore(ConfigStoreOptions options)
    : ConfigStore(options, MakeInotifyWatcher(options.watch)) {}

ConfigStore::ConfigStore(ConfigStoreOptions options,
                         std::unique_ptr<DirWatcher> watcher)
    : options_(std::move(options)), watcher_(std::move(watcher)) {
  if (options_.watch && watcher_ != nullptr) {
    // Watch before the first load, so that nothing written meanwhile is
    // missed. The plugin conf dirs follow in UpdateWatches.
    std::vector<std::string> dirs = options_.conf_dirs;
    AppendUnique(options_.extra_watch_dirs, &dirs);
    absl::Status status = watcher_->SetDirs(dirs);
    if (status.ok()) {
      watching_ = true;
      watched_dirs_ = std::move(dirs);
    } else {
      LOG(WARNING) << "cannot watch the CNI conf dirs (" << status
                   << "); reloading every " << options_.resync_interval
                   << " until watching works";
    }
  }
  {
    absl::MutexLock lock(&reload_mu_);
    ReloadLocked();
  }
  if (options_.watch) thread_ = std::thread(&ConfigStore::Run, this);
}

ConfigStore::~ConfigStore() { Stop(); }

void ConfigStore::Stop() {
  std::call_once(stop_once_, [this] {
    {
      absl::MutexLock lock(&stop_mu_);
      stopping_ = true;
    }
    if (watcher_ != nullptr) watcher_->Interrupt();
    if (thread_.joinable()) thread_.join();
  });
}

bool ConfigStore::stopping() const {
  absl::MutexLock lock(&stop_mu_);
  return stopping_;
}

bool ConfigStore::SleepUnlessStopped(absl::Duration d) {
  absl::MutexLock lock(&stop_mu_);
  stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

std::shared_ptr<const Snapshot> ConfigStore::Current() const {
  absl::MutexLock lock(&current_mu_);
  return current_;
}

std::shared_ptr<const Snapshot> ConfigStore::Reload() {
  absl::MutexLock lock(&reload_mu_);
  return ReloadLocked();
}

std::shared_ptr<const Snapshot> ConfigStore::ReloadLocked() {
  loads_started_.fetch_add(1);
  std::shared_ptr<const Snapshot> next =
      LoadDirs(options_.conf_dirs, options_.load);
  std::shared_ptr<const Snapshot> previous;
  {
    absl::MutexLock lock(&current_mu_);
    previous = std::exchange(current_, next);
  }
  // The previous snapshot (if no reader holds it) is freed here, outside
  // current_mu_.
  previous.reset();
  VLOG(1) << "CNI config reloaded: " << next->networks().size()
          << " networks from " << next->files().size() << " files";

  std::vector<Callback> callbacks;
  {
    absl::MutexLock lock(&subscribers_mu_);
    for (const auto& [id, callback] : subscribers_)
      callbacks.push_back(callback);
  }
  for (const Callback& callback : callbacks) callback(next);
  return next;
}

absl::StatusOr<std::shared_ptr<const NetworkConfigList>> ConfigStore::LookUp(
    const std::shared_ptr<const Snapshot>& snapshot, absl::string_view name) {
  absl::StatusOr<const NetworkConfigList*> network =
      name.empty() ? snapshot->Default() : snapshot->Get(name);
  if (!network.ok()) return network.status();
  // Shares ownership of the snapshot that holds the network.
  return std::shared_ptr<const NetworkConfigList>(snapshot, *network);
}

absl::StatusOr<std::shared_ptr<const NetworkConfigList>>
ConfigStore::GetNetwork(absl::string_view name) {
  if (name.empty()) return absl::NotFoundError("empty network name");
  return LookUpOrResync(name);
}

absl::StatusOr<std::shared_ptr<const NetworkConfigList>>
ConfigStore::GetDefaultNetwork() {
  return LookUpOrResync("");
}

absl::StatusOr<std::shared_ptr<const NetworkConfigList>>
ConfigStore::LookUpOrResync(absl::string_view name) {
  const uint64_t loads_before = loads_started_.load();
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> found =
      LookUp(Current(), name);
  if (found.ok()) return found;

  absl::MutexLock lock(&reload_mu_);
  // A load that started after this request began has finished (loads hold
  // reload_mu_): it saw everything the caller could expect; do not repeat it.
  if (loads_started_.load() > loads_before) return LookUp(Current(), name);
  return LookUp(ReloadLocked(), name);
}

int ConfigStore::Subscribe(Callback callback) {
  absl::MutexLock lock(&subscribers_mu_);
  int id = next_subscriber_id_++;
  subscribers_.emplace_back(id, std::move(callback));
  return id;
}

void ConfigStore::Unsubscribe(int id) {
  // Callbacks run under reload_mu_: holding it means none is running.
  absl::MutexLock reload_lock(&reload_mu_);
  absl::MutexLock lock(&subscribers_mu_);
  subscribers_.erase(
      std::remove_if(subscribers_.begin(), subscribers_.end(),
                     [id](const auto& entry) { return entry.first == id; }),
      subscribers_.end());
}

std::vector<std::string> ConfigStore::WatchDirs(
    const Snapshot& snapshot) const {
  std::vector<std::string> dirs = options_.conf_dirs;
  AppendUnique(options_.extra_watch_dirs, &dirs);
  AppendUnique(snapshot.plugin_conf_dirs(), &dirs);
  return dirs;
}

bool ConfigStore::UpdateWatches() {
  // Each new set of watches is followed by a reload, which may name new
  // plugin conf dirs; a few rounds settle it.
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> dirs = WatchDirs(*Current());
    if (watching_ && dirs == watched_dirs_) return true;
    absl::Status status = watcher_->SetDirs(dirs);
    if (!status.ok()) {
      LOG(WARNING) << "cannot watch " << absl::StrJoin(dirs, ", ") << " ("
                   << status << "); reloading every "
                   << options_.resync_interval << " until watching works";
      watching_ = false;
      return false;
    }
    watching_ = true;
    watched_dirs_ = std::move(dirs);
    Reload();  // what changed before the new watches existed
  }
  return true;
}

void ConfigStore::Run() {
  while (!stopping()) {
    if (watcher_ == nullptr || !watching_) {
      if (!SleepUnlessStopped(options_.resync_interval)) return;
      Reload();
      if (watcher_ != nullptr) UpdateWatches();
      continue;
    }
    if (!UpdateWatches()) continue;

    absl::StatusOr<DirWatcher::Event> event =
        watcher_->Wait(absl::InfiniteFuture());
    if (event.ok() && *event == DirWatcher::Event::kChanged) {
      // Debounce: reload once the dirs have been quiet for `debounce`, or
      // `max_debounce` after the first change at the latest.
      const absl::Time latest = absl::Now() + options_.max_debounce;
      while (event.ok() && *event == DirWatcher::Event::kChanged &&
             absl::Now() < latest) {
        event =
            watcher_->Wait(std::min(absl::Now() + options_.debounce, latest));
      }
      if (stopping()) return;
      Reload();
    }
    if (!event.ok()) {
      LOG(WARNING) << "watching the CNI conf dirs failed (" << event.status()
                   << "); reloading every " << options_.resync_interval
                   << " until watching works again";
      watching_ = false;
    }
  }
}

}  // namespace ocicni::config
