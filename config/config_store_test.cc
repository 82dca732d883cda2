#include "config/config_store.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "config/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_dir_watcher.h"

namespace ocicni::config {
namespace {

using testfiles::Conf;
using testfiles::ConfList;
using testfiles::MakeDir;
using testfiles::MakeTempDir;
using testfiles::RemoveAll;
using testfiles::WaitFor;
using testfiles::WriteFile;
using testfiles::WriteFileAtomically;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testutil::FakeDirWatcher;

std::vector<std::string> Names(const Snapshot& snapshot) {
  std::vector<std::string> names;
  for (const NetworkConfigList& n : snapshot.networks())
    names.push_back(n.name);
  return names;
}

// Counts the reloads a store announces.
class ReloadCounter {
 public:
  explicit ReloadCounter(ConfigStore* store) {
    store->Subscribe([this](const std::shared_ptr<const Snapshot>& s) {
      absl::MutexLock lock(&mu_);
      ++count_;
      last_ = s;
      last_time_ = absl::Now();
    });
  }
  int count() const {
    absl::MutexLock lock(&mu_);
    return count_;
  }
  std::shared_ptr<const Snapshot> last() const {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  absl::Time last_time() const {
    absl::MutexLock lock(&mu_);
    return last_time_;
  }

 private:
  mutable absl::Mutex mu_;
  int count_ = 0;
  std::shared_ptr<const Snapshot> last_;
  absl::Time last_time_;
};

class ConfigStoreFakeWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("store");
    options_.conf_dirs = {dir_};
    options_.debounce = absl::Milliseconds(10);
    options_.resync_interval = absl::Milliseconds(20);
  }

  std::unique_ptr<ConfigStore> NewStore() {
    auto watcher = std::make_unique<FakeDirWatcher>();
    watcher_ = watcher.get();
    return std::make_unique<ConfigStore>(options_, std::move(watcher));
  }

  std::string dir_;
  ConfigStoreOptions options_;
  FakeDirWatcher* watcher_ = nullptr;
};

TEST_F(ConfigStoreFakeWatcherTest, LoadsAtStartAndWatchesTheDirs) {
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  options_.extra_watch_dirs = {"/opt/cni/bin", dir_};
  std::unique_ptr<ConfigStore> store = NewStore();
  EXPECT_THAT(Names(*store->Current()), ElementsAre("a"));
  EXPECT_THAT(watcher_->dirs(), ElementsAre(dir_, "/opt/cni/bin"));
}

TEST_F(ConfigStoreFakeWatcherTest, ReloadsOnChangeAndTellsSubscribers) {
  std::unique_ptr<ConfigStore> store = NewStore();
  ReloadCounter reloads(store.get());
  EXPECT_THAT(store->Current()->networks(), IsEmpty());

  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  watcher_->Notify();
  ASSERT_TRUE(WaitFor([&] { return reloads.count() >= 1; }));
  EXPECT_THAT(Names(*reloads.last()), ElementsAre("a"));
  EXPECT_EQ(store->Current(), reloads.last());
}

TEST_F(ConfigStoreFakeWatcherTest, BurstsAreDebounced) {
  // Long enough that the 10 ms gaps of the burst never look quiet.
  options_.debounce = absl::Seconds(1);
  options_.max_debounce = absl::Seconds(30);
  std::unique_ptr<ConfigStore> store = NewStore();
  ReloadCounter reloads(store.get());

  absl::Time last_notify;
  for (int i = 0; i < 10; ++i) {
    WriteFile(absl::StrCat(dir_, "/", i, ".conflist"),
              ConfList(absl::StrCat("n", i)));
    watcher_->Notify();
    last_notify = absl::Now();
    absl::SleepFor(absl::Milliseconds(10));  // a writer's pace, not a wait
  }
  ASSERT_TRUE(WaitFor([&] { return reloads.count() >= 1; }));
  EXPECT_EQ(reloads.count(), 1);
  EXPECT_EQ(reloads.last()->networks().size(), 10u);
  // Not before the burst had been quiet for the debounce interval.
  EXPECT_GE(reloads.last_time() - last_notify, absl::Milliseconds(990));
}

TEST_F(ConfigStoreFakeWatcherTest, EndlessChangesStillReloadAfterMaxDebounce) {
  options_.debounce = absl::Milliseconds(100);
  options_.max_debounce = absl::Milliseconds(200);
  std::unique_ptr<ConfigStore> store = NewStore();
  ReloadCounter reloads(store.get());
  EXPECT_TRUE(WaitFor([&] {
    watcher_->Notify();  // never quiet for 100 ms
    return reloads.count() >= 2;
  }));
}

TEST_F(ConfigStoreFakeWatcherTest,
       WatcherFailureFallsBackToPollingAndRecovers) {
  std::unique_ptr<ConfigStore> store = NewStore();
  const int set_dirs_before = watcher_->set_dirs_calls();
  ASSERT_TRUE(WaitFor([&] { return watcher_->waiting(); }));

  watcher_->FailSetDirs(absl::ResourceExhaustedError("no more watches"));
  watcher_->FailNextWait(absl::InternalError("read failed"));
  // Without events, polling still picks up new files.
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  EXPECT_TRUE(WaitFor([&] { return store->Current()->Find("a") != nullptr; }));
  // And keeps trying to watch again.
  EXPECT_TRUE(WaitFor(
      [&] { return watcher_->set_dirs_calls() >= set_dirs_before + 2; }));

  watcher_->FailSetDirs(absl::OkStatus());
  ASSERT_TRUE(WaitFor([&] { return watcher_->waiting(); }));
  WriteFile(dir_ + "/20-b.conflist", ConfList("b"));
  watcher_->Notify();
  EXPECT_TRUE(WaitFor([&] { return store->Current()->Find("b") != nullptr; }));
}

TEST_F(ConfigStoreFakeWatcherTest, UnwatchableAtStartPolls) {
  auto watcher = std::make_unique<FakeDirWatcher>();
  watcher->FailSetDirs(absl::PermissionDeniedError("no"));
  ConfigStore store(options_, std::move(watcher));
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  EXPECT_TRUE(WaitFor([&] { return store.Current()->Find("a") != nullptr; }));
}

TEST_F(ConfigStoreFakeWatcherTest, NoWatcherPolls) {
  ConfigStore store(options_, nullptr);
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  EXPECT_TRUE(WaitFor([&] { return store.Current()->Find("a") != nullptr; }));
}

TEST_F(ConfigStoreFakeWatcherTest, PluginConfDirsAreWatchedToo) {
  WriteFile(dir_ + "/10-pods.conflist", ConfList("pods"));
  MakeDir(dir_ + "/pods");
  WriteFile(dir_ + "/pods/1.conf", R"({"type":"tuning"})");
  std::unique_ptr<ConfigStore> store = NewStore();
  EXPECT_TRUE(WaitFor([&] {
    return watcher_->dirs() == std::vector<std::string>{dir_, dir_ + "/pods"};
  }));
  EXPECT_EQ(store->Current()->Find("pods")->plugins.size(), 2u);
}

TEST_F(ConfigStoreFakeWatcherTest, StopJoinsAndStoreStaysUsable) {
  std::unique_ptr<ConfigStore> store = NewStore();
  ASSERT_TRUE(WaitFor([&] { return watcher_->waiting(); }));
  store->Stop();
  store->Stop();
  EXPECT_FALSE(watcher_->waiting());
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  EXPECT_THAT(Names(*store->Reload()), ElementsAre("a"));
}

class ConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("store");
    options_.conf_dirs = {dir_};
    options_.watch = false;
  }

  std::string dir_;
  ConfigStoreOptions options_;
};

TEST_F(ConfigStoreTest, WithoutWatchingOnlyReloadRefreshes) {
  ConfigStore store(options_);
  ReloadCounter reloads(&store);
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  EXPECT_THAT(store.Current()->networks(), IsEmpty());
  std::shared_ptr<const Snapshot> reloaded = store.Reload();
  EXPECT_THAT(Names(*reloaded), ElementsAre("a"));
  EXPECT_EQ(store.Current(), reloaded);
  EXPECT_EQ(reloads.count(), 1);
}

TEST_F(ConfigStoreTest, ReadersKeepTheirSnapshot) {
  WriteFile(dir_ + "/10-a.conflist", ConfList("a", "old"));
  ConfigStore store(options_);
  std::shared_ptr<const Snapshot> before = store.Current();
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> held =
      store.GetNetwork("a");
  ASSERT_TRUE(held.ok()) << held.status();

  WriteFile(dir_ + "/10-a.conflist", ConfList("a", "new"));
  WriteFile(dir_ + "/20-b.conflist", ConfList("b"));
  store.Reload();
  RemoveAll(dir_);
  store.Reload();

  EXPECT_THAT(store.Current()->networks(), IsEmpty());
  EXPECT_THAT(Names(*before), ElementsAre("a"));
  EXPECT_EQ(before->Find("a")->plugins[0].type, "old");
  before.reset();
  // The network alone keeps its snapshot alive.
  EXPECT_EQ((*held)->plugins[0].type, "old");
  EXPECT_EQ((*held)->Bytes(), ConfList("a", "old"));
}

TEST_F(ConfigStoreTest, UnknownNetworkTriggersOneResync) {
  ConfigStore store(options_);
  ReloadCounter reloads(&store);
  WriteFile(dir_ + "/10-late.conflist", ConfList("late"));

  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> late =
      store.GetNetwork("late");
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ((*late)->name, "late");
  EXPECT_EQ(reloads.count(), 1);

  // Found without a reload now.
  ASSERT_TRUE(store.GetNetwork("late").ok());
  EXPECT_EQ(reloads.count(), 1);

  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> missing =
      store.GetNetwork("missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      std::string(missing.status().message()),
      AllOf(HasSubstr("network \"missing\" is not loaded"), HasSubstr(dir_)));
  EXPECT_EQ(reloads.count(), 2);

  WriteFile(dir_ + "/20-bad.conflist",
            R"({"name":"bad","plugins":[{"type":"x/y"}]})");
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> bad =
      store.GetNetwork("bad");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr(dir_ + "/20-bad.conflist: plugins[0]: invalid plugin "
                               "type"));
}

TEST_F(ConfigStoreTest, NamedDefaultAppearingLater) {
  options_.load.default_network = "pods";
  WriteFile(dir_ + "/10-other.conflist", ConfList("other"));
  ConfigStore store(options_);
  absl::StatusOr<const NetworkConfigList*> def = store.Current()->Default();
  EXPECT_EQ(def.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(def.status().message()),
              HasSubstr("default network \"pods\" is not loaded"));

  WriteFile(dir_ + "/20-pods.conflist", ConfList("pods"));
  // The default lookup resyncs once.
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> pods =
      store.GetDefaultNetwork();
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_EQ((*pods)->name, "pods");

  RemoveAll(dir_ + "/20-pods.conflist");
  store.Reload();
  EXPECT_FALSE(store.Current()->Default().ok());
}

TEST_F(ConfigStoreTest, Unsubscribe) {
  ConfigStore store(options_);
  int calls = 0;
  int id =
      store.Subscribe([&](const std::shared_ptr<const Snapshot>&) { ++calls; });
  store.Reload();
  store.Unsubscribe(id);
  store.Reload();
  EXPECT_EQ(calls, 1);
}

TEST_F(ConfigStoreTest, ConcurrentReadersDuringReloads) {
  for (int i = 0; i < 20; ++i) {
    WriteFile(absl::StrCat(dir_, "/", 10 + i, ".conflist"),
              ConfList(absl::StrCat("n", i)));
  }
  ConfigStore store(options_);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        std::shared_ptr<const Snapshot> s = store.Current();
        size_t valid = 0;
        for (const ConfigFile& f : s->files()) {
          if (f.state == FileState::kValid) ++valid;
        }
        EXPECT_EQ(valid, s->networks().size());
        for (const NetworkConfigList& n : s->networks()) {
          EXPECT_EQ(s->Find(n.name), &n);
          EXPECT_FALSE(n.Bytes().empty());
          EXPECT_EQ(n.plugins[0].type, "bridge");
        }
        absl::StatusOr<std::shared_ptr<const NetworkConfigList>> n0 =
            store.GetNetwork("n0");
        EXPECT_TRUE(n0.ok()) << n0.status();
        reads.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    WriteFile(absl::StrCat(dir_, "/", 50 + i % 7, ".conflist"),
              ConfList(absl::StrCat("m", i)));
    store.Reload();
  }
  EXPECT_TRUE(WaitFor([&] { return reads.load() > 100; }));
  done = true;
  for (std::thread& t : readers) t.join();
}

// Live reload through the real inotify watcher.
class ConfigStoreLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir("live");
    dir_ = base_ + "/net.d";
    MakeDir(dir_);
    options_.conf_dirs = {dir_};
    options_.debounce = absl::Milliseconds(20);
  }

  bool Has(const ConfigStore& store, absl::string_view name,
           absl::string_view type = "bridge") {
    const NetworkConfigList* n = store.Current()->Find(name);
    return n != nullptr && n->plugins[0].type == type;
  }

  std::string base_;
  std::string dir_;
  ConfigStoreOptions options_;
};

TEST_F(ConfigStoreLiveTest, FollowsFileChanges) {
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  ConfigStore store(options_);
  EXPECT_TRUE(Has(store, "a"));

  WriteFile(dir_ + "/20-b.conflist", ConfList("b"));  // add
  EXPECT_TRUE(WaitFor([&] { return Has(store, "b"); }));
  WriteFile(dir_ + "/20-b.conflist", ConfList("b", "macvlan"));  // in place
  EXPECT_TRUE(WaitFor([&] { return Has(store, "b", "macvlan"); }));
  WriteFileAtomically(dir_ + "/10-a.conflist", ConfList("a", "ipvlan"));
  EXPECT_TRUE(WaitFor([&] { return Has(store, "a", "ipvlan"); }));
  WriteFileAtomically(dir_ + "/30-c.conf", Conf("c"));  // rename in
  EXPECT_TRUE(WaitFor([&] { return Has(store, "c"); }));
  RemoveAll(dir_ + "/20-b.conflist");  // delete
  EXPECT_TRUE(WaitFor([&] { return store.Current()->Find("b") == nullptr; }));
  ASSERT_EQ(rename((dir_ + "/30-c.conf").c_str(), (base_ + "/c.conf").c_str()),
            0);  // move out
  EXPECT_TRUE(WaitFor([&] { return store.Current()->Find("c") == nullptr; }));
  EXPECT_THAT(Names(*store.Current()), ElementsAre("a"));
}

TEST_F(ConfigStoreLiveTest, HalfWrittenFileIsReadAgainWhenComplete) {
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  WriteFile(dir_ + "/20-b.conflist", ConfList("b"));
  ConfigStore store(options_);
  const std::string full = ConfList("b", "macvlan");
  // A writer that closed halfway (or was seen mid-write).
  WriteFile(dir_ + "/20-b.conflist", full.substr(0, full.size() / 2));
  EXPECT_TRUE(WaitFor([&] { return store.Current()->Find("b") == nullptr; }));
  std::shared_ptr<const Snapshot> half = store.Current();
  EXPECT_EQ(half->files()[1].state, FileState::kInvalid);
  EXPECT_THAT(std::string(half->files()[1].error.message()),
              HasSubstr("invalid JSON"));
  EXPECT_TRUE(Has(store, "a"));  // the others stay
  WriteFile(dir_ + "/20-b.conflist", full);
  EXPECT_TRUE(WaitFor([&] { return Has(store, "b", "macvlan"); }));
}

TEST_F(ConfigStoreLiveTest, DirDeletedAndRecreated) {
  WriteFile(dir_ + "/10-a.conflist", ConfList("a"));
  ConfigStore store(options_);
  EXPECT_TRUE(Has(store, "a"));

  RemoveAll(dir_);
  EXPECT_TRUE(WaitFor([&] { return store.Current()->networks().empty(); }));
  EXPECT_FALSE(store.Current()->dirs()[0].exists);

  MakeDir(dir_);
  WriteFile(dir_ + "/10-b.conflist", ConfList("b"));
  EXPECT_TRUE(WaitFor([&] { return Has(store, "b"); }));

  // And once more: the watch was re-established, not lost.
  RemoveAll(dir_);
  EXPECT_TRUE(WaitFor([&] { return store.Current()->networks().empty(); }));
  MakeDir(dir_);
  EXPECT_TRUE(WaitFor([&] { return store.Current()->dirs()[0].exists; }));
  WriteFile(dir_ + "/10-c.conflist", ConfList("c"));
  EXPECT_TRUE(WaitFor([&] { return Has(store, "c"); }));
}

TEST_F(ConfigStoreLiveTest, DirMissingAtStart) {
  RemoveAll(dir_);
  options_.conf_dirs = {base_ + "/etc/cni/net.d"};
  ConfigStore store(options_);
  EXPECT_THAT(store.Current()->networks(), IsEmpty());

  // Created the way a package or a DaemonSet would: staged, then moved in.
  MakeDir(base_ + "/etc");
  MakeDir(base_ + "/etc/staging");
  WriteFile(base_ + "/etc/staging/10-a.conflist", ConfList("a"));
  MakeDir(base_ + "/etc/cni");
  ASSERT_EQ(rename((base_ + "/etc/staging").c_str(),
                   (base_ + "/etc/cni/net.d").c_str()),
            0);
  EXPECT_TRUE(WaitFor([&] { return Has(store, "a"); }));
}

TEST_F(ConfigStoreLiveTest, PluginConfDirChanges) {
  WriteFile(dir_ + "/10-pods.conflist", ConfList("pods"));
  ConfigStore store(options_);
  MakeDir(dir_ + "/pods");
  WriteFile(dir_ + "/pods/10-tuning.conf", R"({"type":"tuning"})");
  EXPECT_TRUE(WaitFor(
      [&] { return store.Current()->Find("pods")->plugins.size() == 2; }));
  WriteFile(dir_ + "/pods/20-portmap.conf", R"({"type":"portmap"})");
  EXPECT_TRUE(WaitFor(
      [&] { return store.Current()->Find("pods")->plugins.size() == 3; }));
}

TEST_F(ConfigStoreLiveTest, PluginBinaryAppearingLater) {
  const std::string bin = base_ + "/bin";
  MakeDir(bin);
  options_.extra_watch_dirs = {bin};
  options_.load.validator = [bin](const NetworkConfigList& list) {
    for (const PluginConfig& plugin : list.plugins) {
      std::string path = bin + "/" + plugin.type;
      if (access(path.c_str(), X_OK) != 0) {
        return absl::NotFoundError(
            absl::StrCat("plugin ", plugin.type, " not found in ", bin));
      }
    }
    return absl::OkStatus();
  };
  WriteFile(dir_ + "/10-a.conflist", ConfList("a", "bridge"));
  ConfigStore store(options_);
  EXPECT_THAT(std::string(store.Current()->files()[0].error.message()),
              HasSubstr("plugin bridge not found"));

  WriteFile(bin + "/bridge", "#!/bin/sh\n");
  ASSERT_EQ(chmod((bin + "/bridge").c_str(), 0755), 0);
  EXPECT_TRUE(WaitFor([&] { return Has(store, "a"); }));
}

TEST_F(ConfigStoreLiveTest, NamedDefaultAppearsLater) {
  options_.load.default_network = "pods";
  WriteFile(dir_ + "/10-other.conflist", ConfList("other"));
  ConfigStore store(options_);
  EXPECT_FALSE(store.Current()->Default().ok());
  WriteFileAtomically(dir_ + "/20-pods.conflist", ConfList("pods"));
  EXPECT_TRUE(WaitFor([&] {
    absl::StatusOr<const NetworkConfigList*> def = store.Current()->Default();
    return def.ok() && (*def)->name == "pods";
  }));
}

}  // namespace
}  // namespace ocicni::config
