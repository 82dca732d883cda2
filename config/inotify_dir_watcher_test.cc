#include "config/inotify_dir_watcher.h"

#include <stdio.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "config/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ocicni::config {
namespace {

using testfiles::MakeDir;
using testfiles::MakeTempDir;
using testfiles::RemoveAll;
using testfiles::WriteFile;
using ::testing::ElementsAre;
using Event = DirWatcher::Event;

// Generous: only catches a watcher that missed the event.
constexpr absl::Duration kEventTimeout = absl::Seconds(10);
// How long "nothing happens" is observed for.
constexpr absl::Duration kQuiet = absl::Milliseconds(100);

class InotifyDirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir("watch");
    absl::StatusOr<std::unique_ptr<InotifyDirWatcher>> watcher =
        InotifyDirWatcher::Create();
    ASSERT_TRUE(watcher.ok()) << watcher.status();
    watcher_ = *std::move(watcher);
  }

  // Changed waits for the next report and says whether it is kChanged.
  bool Changed() {
    absl::StatusOr<Event> event = watcher_->Wait(absl::Now() + kEventTimeout);
    EXPECT_TRUE(event.ok()) << event.status();
    return event.ok() && *event == Event::kChanged;
  }

  // Quiet reports whether nothing is reported for kQuiet.
  bool Quiet() {
    absl::StatusOr<Event> event = watcher_->Wait(absl::Now() + kQuiet);
    EXPECT_TRUE(event.ok()) << event.status();
    return event.ok() && *event == Event::kTimeout;
  }

  // Drain swallows the reports of a burst of events.
  void Drain() {
    while (!Quiet()) {
    }
  }

  std::string base_;
  std::unique_ptr<InotifyDirWatcher> watcher_;
};

TEST_F(InotifyDirWatcherTest, ReportsFileChanges) {
  const std::string dir = base_ + "/net.d";
  MakeDir(dir);
  ASSERT_TRUE(watcher_->SetDirs({dir}).ok());
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(dir));
  EXPECT_TRUE(Quiet());

  WriteFile(dir + "/10-a.conflist", "{}");  // create + close-write
  EXPECT_TRUE(Changed());
  Drain();
  WriteFile(dir + "/10-a.conflist", "{ }");  // modify in place
  EXPECT_TRUE(Changed());
  Drain();
  testfiles::WriteFileAtomically(dir + "/20-b.conflist", "{}");  // rename in
  EXPECT_TRUE(Changed());
  Drain();
  ASSERT_EQ(
      rename((dir + "/20-b.conflist").c_str(), (base_ + "/moved-out").c_str()),
      0);
  EXPECT_TRUE(Changed());
  Drain();
  RemoveAll(dir + "/10-a.conflist");
  EXPECT_TRUE(Changed());
  Drain();
}

TEST_F(InotifyDirWatcherTest, TimeoutAndInterrupt) {
  ASSERT_TRUE(watcher_->SetDirs({base_}).ok());
  EXPECT_TRUE(Quiet());

  // An Interrupt before Wait is not lost.
  watcher_->Interrupt();
  absl::StatusOr<Event> event = watcher_->Wait(absl::InfiniteFuture());
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event, Event::kInterrupted);

  // And one from another thread wakes an endless Wait.
  std::thread interrupter([&] { watcher_->Interrupt(); });
  event = watcher_->Wait(absl::InfiniteFuture());
  interrupter.join();
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event, Event::kInterrupted);
}

TEST_F(InotifyDirWatcherTest, MissingDirIsWatchedForAndFollowed) {
  const std::string dir = base_ + "/etc/cni/net.d";
  ASSERT_TRUE(watcher_->SetDirs({dir}).ok());
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(base_));

  // Unrelated things next to the stand-in watch are not changes.
  WriteFile(base_ + "/unrelated.txt", "x");
  MakeDir(base_ + "/unrelated-dir");
  EXPECT_TRUE(Quiet());

  MakeDir(base_ + "/etc");
  EXPECT_TRUE(Changed());
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(base_ + "/etc"));
  MakeDir(base_ + "/etc/cni");
  MakeDir(dir);
  // Both mkdirs may be seen one at a time.
  for (int i = 0; i < 2 && watcher_->WatchedPathsForTest() !=
                               std::vector<std::string>{dir};
       ++i) {
    EXPECT_TRUE(Changed());
  }
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(dir));
  Drain();
  WriteFile(dir + "/10-a.conflist", "{}");
  EXPECT_TRUE(Changed());
}

TEST_F(InotifyDirWatcherTest, DirDeletedAndRecreated) {
  const std::string dir = base_ + "/net.d";
  MakeDir(dir);
  WriteFile(dir + "/10-a.conflist", "{}");
  ASSERT_TRUE(watcher_->SetDirs({dir}).ok());

  RemoveAll(dir);
  EXPECT_TRUE(Changed());
  Drain();
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(base_));

  MakeDir(dir);
  EXPECT_TRUE(Changed());
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(dir));
  Drain();
  WriteFile(dir + "/10-a.conflist", "{}");
  EXPECT_TRUE(Changed());
  Drain();

  // Again, to be sure the watch was not a one-off.
  RemoveAll(dir);
  Drain();
  MakeDir(dir);
  Drain();
  WriteFile(dir + "/20-b.conflist", "{}");
  EXPECT_TRUE(Changed());
}

TEST_F(InotifyDirWatcherTest, DirReplacedByRename) {
  const std::string dir = base_ + "/net.d";
  MakeDir(dir);
  MakeDir(base_ + "/staging");
  ASSERT_TRUE(watcher_->SetDirs({dir}).ok());

  ASSERT_EQ(rename(dir.c_str(), (base_ + "/old").c_str()), 0);
  EXPECT_TRUE(Changed());
  Drain();
  ASSERT_EQ(rename((base_ + "/staging").c_str(), dir.c_str()), 0);
  EXPECT_TRUE(Changed());
  Drain();
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(dir));

  // The old directory is no longer watched; the new one is.
  WriteFile(base_ + "/old/x.conf", "{}");
  EXPECT_TRUE(Quiet());
  WriteFile(dir + "/x.conf", "{}");
  EXPECT_TRUE(Changed());
}

TEST_F(InotifyDirWatcherTest, SeveralDirsIncludingNested) {
  const std::string a = base_ + "/a";
  const std::string pods = a + "/pods";
  const std::string b = base_ + "/b";
  MakeDir(a);
  MakeDir(b);
  ASSERT_TRUE(watcher_->SetDirs({a + "/", pods, b}).ok());
  // pods is missing: a (a target already) stands in for it.
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(a, b));
  MakeDir(pods);
  EXPECT_TRUE(Changed());
  Drain();
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(a, pods, b));
  WriteFile(pods + "/1.conf", "{}");
  EXPECT_TRUE(Changed());
  Drain();
  WriteFile(b + "/1.conf", "{}");
  EXPECT_TRUE(Changed());
  Drain();

  // Dropping dirs from the set drops their watches.
  ASSERT_TRUE(watcher_->SetDirs({b}).ok());
  EXPECT_THAT(watcher_->WatchedPathsForTest(), ElementsAre(b));
  WriteFile(a + "/2.conf", "{}");
  EXPECT_TRUE(Quiet());
}

}  // namespace
}  // namespace ocicni::config
