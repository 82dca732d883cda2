#include "ocicni/result_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "types/json.h"

namespace ocicni {
namespace {

using ::ocicni::testutil::ReadFile;
using ::ocicni::testutil::WriteFile;

std::string Testdata(const std::string& name) {
  return std::string(getenv("TEST_SRCDIR")) + "/ocicni/types/testdata/" + name;
}

// OnDisk is the JSON in the bytes of an entry file, which must be padded
// with spaces and a final newline to a multiple of kPaddedSize bytes.
std::string OnDisk(const std::string& bytes) {
  EXPECT_EQ(bytes.size() % ResultCache::kPaddedSize, 0u) << bytes;
  EXPECT_TRUE(!bytes.empty() && bytes.back() == '\n') << bytes;
  return std::string(absl::StripTrailingAsciiWhitespace(bytes));
}

// OnDiskOnce returns what the entry at `path` holds once it is `want`
// (written in the background), or what it holds after 30 s.
std::string OnDiskOnce(const std::string& path, const std::string& want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  std::string held = OnDisk(ReadFile(path));
  while (held != want && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    held = OnDisk(ReadFile(path));
  }
  return held;
}

// The first entry of an ADD: `full` without its result.
types::CacheFile WithoutResult(types::CacheFile full) {
  full.clear_result();
  return full;
}

class ResultCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string base = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    dir_ = base + "/cache-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  types::CacheFile Entry(const std::string& net, const std::string& cid,
                         const std::string& ifname) {
    types::CacheFile f;
    f.set_network_name(net);
    f.set_container_id(cid);
    f.set_if_name(ifname);
    f.set_config(R"({"cniVersion":"1.0.0","name":")" + net +
                 R"(","plugins":[{"type":"bridge"}]})");
    auto result = types::ParseJsonObject(
        R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/16"}]})", "r");
    *f.mutable_result() = *result;
    return f;
  }

  std::string dir_;
};

TEST_F(ResultCacheTest, WriteReadRemove) {
  ResultCache cache(dir_);
  types::CacheFile f = Entry("net1", "cid1", "eth0");
  ASSERT_TRUE(cache.Write(f).ok());
  const std::string path = dir_ + "/results/net1-cid1-eth0";
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/results").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(f));

  auto read = cache.Read("net1", "cid1", "eth0");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(types::EncodeCacheFile((*read)->file), types::EncodeCacheFile(f));

  // No temporary file is left behind.
  DIR* d = opendir((dir_ + "/results").c_str());
  int entries = 0;
  while (dirent* e = readdir(d)) entries += e->d_name[0] != '.';
  closedir(d);
  EXPECT_EQ(entries, 1);

  ASSERT_TRUE(cache.Remove("net1", "cid1", "eth0").ok());
  EXPECT_FALSE(cache.Read("net1", "cid1", "eth0")->has_value());
  EXPECT_TRUE(cache.Remove("net1", "cid1", "eth0").ok());  // idempotent
}

// Reads and listings leave access times alone (O_NOATIME): every teardown
// reads its entry and lists results/, and each access time update would
// dirty an inode for the disk to write (a spare's, or the directory's).
TEST_F(ResultCacheTest, ReadsAndListingsLeaveAccessTimesAlone) {
  ResultCache cache(dir_);
  ASSERT_TRUE(cache.Write(Entry("net1", "cid1", "eth0")).ok());
  const std::string results = dir_ + "/results";
  const std::string entry = results + "/net1-cid1-eth0";
  const std::string control = dir_ + "/control";
  WriteFile(control, "x");
  for (const std::string& path : {results, entry, control}) {
    testutil::MakeAccessTimeStale(path);
  }
  const absl::Time stale_results = testutil::AccessTime(results);
  const absl::Time stale_entry = testutil::AccessTime(entry);
  const absl::Time stale_control = testutil::AccessTime(control);
  EXPECT_EQ(ReadFile(control), "x");
  if (testutil::AccessTime(control) == stale_control) {
    GTEST_SKIP() << "the file system of " << dir_
                 << " does not update access times (mounted noatime?): "
                    "nothing to check";
  }
  auto read = cache.Read("net1", "cid1", "eth0");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  auto listed = cache.ListAttachments("cid1");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_EQ(testutil::AccessTime(entry), stale_entry);
  EXPECT_EQ(testutil::AccessTime(results), stale_results);
}

TEST_F(ResultCacheTest, MissingDirectoryMeansNoEntries) {
  ResultCache cache(dir_ + "/never");
  auto read = cache.Read("n", "c", "eth0");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
  auto list = cache.ListAttachments("c");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(ResultCacheTest, ReadsGoLibcniEntry) {
  mkdir(dir_.c_str(), 0700);
  mkdir((dir_ + "/results").c_str(), 0700);
  WriteFile(dir_ + "/results/fixturenet-4f1b6a9c0e2d-eth0",
            ReadFile(Testdata("fixturenet-4f1b6a9c0e2d-eth0")));
  ResultCache cache(dir_);
  auto read = cache.Read("fixturenet", "4f1b6a9c0e2d", "eth0");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->file.config(), ReadFile(Testdata("10-fixture.conflist")));
  auto list = cache.ListAttachments("4f1b6a9c0e2d");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].network_name(), "fixturenet");
}

TEST_F(ResultCacheTest, CorruptAndHostileEntriesAreErrors) {
  ResultCache cache(dir_);
  ASSERT_TRUE(cache.Write(Entry("n", "c", "eth0")).ok());
  const std::string path = dir_ + "/results/n-c-eth0";
  for (const char* bad : {"", "{", "\x01garbage"}) {
    WriteFile(path, bad);
    auto read = cache.Read("n", "c", "eth0");
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(read.status().message().find(path), std::string::npos);
  }
  unlink(path.c_str());
  ASSERT_EQ(symlink("/etc/passwd", path.c_str()), 0);
  EXPECT_FALSE(cache.Read("n", "c", "eth0").ok());
  unlink(path.c_str());
  EXPECT_FALSE(cache.Read("n", "../../etc", "passwd").ok());
  EXPECT_FALSE(cache.Write(Entry("n", "c/../../x", "eth0")).ok());
  EXPECT_FALSE(cache.Remove("n", "c", "../x").ok());
}

TEST_F(ResultCacheTest, ResultsPathIsAFile) {
  mkdir(dir_.c_str(), 0700);
  WriteFile(dir_ + "/results", "x");
  ResultCache cache(dir_);
  absl::Status s = cache.Write(Entry("n", "c", "eth0"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir_ + "/results"), std::string::npos) << s;
}

TEST_F(ResultCacheTest, ListAttachmentsFiltersLikeLibcni) {
  ResultCache cache(dir_);
  ASSERT_TRUE(cache.Write(Entry("b-net", "pod1", "eth0")).ok());
  ASSERT_TRUE(cache.Write(Entry("a-net", "pod1", "net1")).ok());
  ASSERT_TRUE(cache.Write(Entry("a-net", "pod10", "eth0")).ok());
  ASSERT_TRUE(cache.Write(Entry("x", "pod1", "lo")).ok());
  ASSERT_TRUE(cache.Write(Entry("cni-loopback", "pod1", "lo0")).ok());
  // A legacy bare result and a file whose containerId disagrees.
  WriteFile(dir_ + "/results/old-pod1-eth1", R"({"cniVersion":"0.3.1"})");
  types::CacheFile liar = Entry("liar", "pod2", "eth0");
  WriteFile(dir_ + "/results/liar-pod1-eth0", types::EncodeCacheFile(liar));

  auto list = cache.ListAttachments("pod1");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].network_name(), "a-net");
  EXPECT_EQ((*list)[0].if_name(), "net1");
  EXPECT_EQ((*list)[1].network_name(), "b-net");

  auto all = cache.ListAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 6u);  // everything cniCacheV1, loopback included
  EXPECT_FALSE(cache.ListAttachments("").ok());
}

// Names in the results directory that start with `prefix`.
std::vector<std::string> Names(const std::string& dir,
                               const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  closedir(d);
  return out;
}

// Spares lists the files in the spares directories of the cache at `dir`
// (full paths), where removed entries and files being written live: one
// directory per instance, with its shards.
std::vector<std::string> Spares(const std::string& dir) {
  const std::string all = dir + "/results/.spares";
  std::vector<std::string> out;
  for (const std::string& own : Names(all, "")) {
    if (own == "." || own == "..") continue;
    for (const std::string& shard : Names(all + "/" + own, "")) {
      if (shard == "." || shard == "..") continue;
      const std::string sub = all + "/" + own + "/" + shard;
      for (const std::string& name : Names(sub, "")) {
        if (name != "." && name != "..") out.push_back(sub + "/" + name);
      }
    }
  }
  return out;
}

// Hidden lists the dot files in <dir>/results but the spares directory:
// nothing of the library's own but entries may show there.
std::vector<std::string> Hidden(const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& name : Names(dir + "/results", ".")) {
    if (name != "." && name != ".." && name != ".spares") out.push_back(name);
  }
  return out;
}

ino_t Inode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The spares directory is the cache's own: a file or a symlink there is an
// error naming it, and Remove still removes.
TEST_F(ResultCacheTest, SparesPathThatIsNotADirectory) {
  const std::string results = dir_ + "/results";
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(results.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir_ + "/elsewhere").c_str(), 0700), 0);
  for (bool as_symlink : {false, true}) {
    unlink((results + "/.spares").c_str());
    if (as_symlink) {
      ASSERT_EQ(symlink("../elsewhere", (results + "/.spares").c_str()), 0);
    } else {
      WriteFile(results + "/.spares", "x");
    }
    ResultCache cache(dir_);
    absl::Status s = cache.Write(Entry("n", "c", "eth0"));
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find(results + "/.spares"), std::string::npos) << s;
    WriteFile(results + "/n-c-eth0",
              types::EncodeCacheFile(Entry("n", "c", "eth0")));
    EXPECT_TRUE(cache.Remove("n", "c", "eth0").ok());
    EXPECT_NE(access((results + "/n-c-eth0").c_str(), F_OK), 0);
  }
  EXPECT_TRUE(Names(dir_ + "/elsewhere", "").size() == 2u);  // . and ..
}

TEST_F(ResultCacheTest, RemovedEntriesBecomeSparesThatWritesReuse) {
  const std::string results = dir_ + "/results";
  {
    constexpr size_t kMaxSpares = 16;
    ResultCache cache(dir_, /*durable=*/true, absl::ZeroDuration(),
                      ResultCache::kBehindHold, kMaxSpares);
    ASSERT_TRUE(cache.Write(Entry("n", "c1", "eth0")).ok());
    const ino_t first = Inode(results + "/n-c1-eth0");
    ASSERT_TRUE(cache.Remove("n", "c1", "eth0").ok());
    EXPECT_EQ(Inode(results + "/n-c1-eth0"), 0u);
    ASSERT_EQ(Spares(dir_).size(), 1u);
    // Hidden from every listing.
    EXPECT_TRUE(cache.ListAll()->empty());

    // The next write refills the spare: same inode, only the new content.
    types::CacheFile small = Entry("m", "c2", "eth1");
    small.clear_result();
    ASSERT_TRUE(cache.Write(small).ok());
    EXPECT_EQ(Inode(results + "/m-c2-eth1"), first);
    EXPECT_EQ(OnDisk(ReadFile(results + "/m-c2-eth1")),
              types::EncodeCacheFile(small));
    EXPECT_TRUE(Spares(dir_).empty());
    EXPECT_TRUE(Hidden(dir_).empty());

    // At most max_spares are kept; the rest are unlinked.
    const int n = static_cast<int>(kMaxSpares) + 5;
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          cache.Write(Entry("x", "c" + std::to_string(i), "eth0")).ok());
    }
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(cache.Remove("x", "c" + std::to_string(i), "eth0").ok());
    }
    EXPECT_EQ(Spares(dir_).size(), kMaxSpares);
    // Writes refill them, then create files once none is left.
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          cache.Write(Entry("y", "c" + std::to_string(i), "eth0")).ok());
    }
    EXPECT_TRUE(Spares(dir_).empty());
    EXPECT_EQ(Names(results, "y-").size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(cache.Remove("y", "c" + std::to_string(i), "eth0").ok());
    }
    EXPECT_EQ(Spares(dir_).size(), kMaxSpares);
    EXPECT_EQ(Names(results, "x-").size(), 0u);
  }
  // The destructor cleans up its spares, and their directory.
  EXPECT_TRUE(Spares(dir_).empty());
  EXPECT_NE(access((results + "/.spares").c_str(), F_OK), 0);
  EXPECT_EQ(Names(results, "m-").size(), 1u);
}

TEST_F(ResultCacheTest, RewritingAnEntryKeepsTheOldInodeAsASpare) {
  const std::string results = dir_ + "/results";
  ResultCache cache(dir_);
  types::CacheFile f = Entry("n", "c", "eth0");
  ASSERT_TRUE(cache.Write(f).ok());
  const ino_t first = Inode(results + "/n-c-eth0");
  const std::string old_bytes = ReadFile(results + "/n-c-eth0");
  f.set_netns("/var/run/netns/second");
  ASSERT_TRUE(cache.Write(f).ok());
  EXPECT_EQ(OnDisk(ReadFile(results + "/n-c-eth0")), types::EncodeCacheFile(f));
  std::vector<std::string> spares = Spares(dir_);
  ASSERT_EQ(spares.size(), 1u);
  // The old entry's inode, untouched.
  const std::string spare = spares[0];
  EXPECT_EQ(Inode(spare), first);
  EXPECT_EQ(ReadFile(spare), old_bytes);
}

// A reader that opened an entry just before it was removed or replaced
// reads the entry it opened, whatever other pods write meanwhile: the
// inode is not refilled before reuse_after.
TEST_F(ResultCacheTest, AReaderOfARetiredEntryReadsItWhole) {
  const std::string path = dir_ + "/results/n-c-eth0";
  const absl::Duration reuse_after = absl::Milliseconds(300);
  ResultCache cache(dir_, /*durable=*/true, reuse_after);
  auto other_pods_write = [&](const std::string& tag) {
    for (int i = 0; i < 3; ++i) {
      const std::string cid = absl::StrCat(tag, i);
      ASSERT_TRUE(cache.Write(Entry("n", cid, "eth0")).ok());
      ASSERT_TRUE(cache.Remove("n", cid, "eth0").ok());
    }
  };
  auto read_all = [](int fd) {
    std::string bytes(2 * ResultCache::kPaddedSize, '\0');
    ssize_t n = pread(fd, bytes.data(), bytes.size(), 0);
    bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return bytes;
  };

  types::CacheFile f = Entry("n", "c", "eth0");
  ASSERT_TRUE(cache.Write(f).ok());
  const std::string written = ReadFile(path);
  // Replaced (the old inode is exchanged out), then removed.
  for (int step = 0; step < 2; ++step) {
    const absl::Time opened = absl::Now();
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    const std::string before = read_all(fd.get());
    if (step == 0) {
      types::CacheFile again = f;
      again.set_netns("/var/run/netns/again");
      ASSERT_TRUE(cache.Write(again).ok());
    } else {
      ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
    }
    other_pods_write(absl::StrCat("s", step, "-"));
    if (absl::Now() - opened < reuse_after) {
      EXPECT_EQ(read_all(fd.get()), before) << "step " << step;
    }
  }
  EXPECT_EQ(OnDisk(written), types::EncodeCacheFile(f));

  // Once reuse_after has passed, spares are refilled (oldest first).
  absl::SleepFor(reuse_after);
  std::vector<std::string> spares = Spares(dir_);
  ASSERT_FALSE(spares.empty());
  const size_t kept = spares.size();
  ASSERT_TRUE(cache.Write(Entry("n", "later", "eth0")).ok());
  EXPECT_EQ(Spares(dir_).size(), kept - 1);
}

// Each instance keeps its spares in a directory of its own under a flock:
// the first write of an instance removes what instances that are gone left
// there, and nothing of a live one.
TEST_F(ResultCacheTest, WhatAGoneInstanceLeftIsSweptNotWhatALiveOneHas) {
  // A gone instance: a process that leaves a spare and dies without running
  // the destructor.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto* gone = new ResultCache(dir_, /*durable=*/false);
    const bool ok = gone->Write(Entry("n", "gone", "eth0")).ok() &&
                    gone->Remove("n", "gone", "eth0").ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::vector<std::string> left = Spares(dir_);
  ASSERT_EQ(left.size(), 1u);

  ResultCache live(dir_, /*durable=*/false);
  ASSERT_TRUE(live.Write(Entry("n", "live", "eth0")).ok());
  ASSERT_TRUE(live.Remove("n", "live", "eth0").ok());
  std::vector<std::string> now = Spares(dir_);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0], left[0]);
  // <instance>/<shard>/<spare>: the whole instance directory goes.
  const std::string shard_dir = left[0].substr(0, left[0].rfind('/'));
  const std::string gone_dir = shard_dir.substr(0, shard_dir.rfind('/'));
  EXPECT_NE(access(gone_dir.c_str(), F_OK), 0) << gone_dir;

  // Another instance (here, of the same process) leaves the live one's.
  {
    ResultCache other(dir_, /*durable=*/false);
    ASSERT_TRUE(other.Write(Entry("n", "other", "eth0")).ok());
    EXPECT_EQ(Spares(dir_), now);
  }
  // Only the entries and .spares are in results/.
  EXPECT_TRUE(Hidden(dir_).empty());
  EXPECT_EQ(Names(dir_ + "/results", "n-").size(), 1u);
}

// What an instance of an older layout left (spares right in its
// directory, no shards) is swept as well, and so are stray files.
TEST_F(ResultCacheTest, AGoneInstanceOfAnyLayoutIsSwept) {
  const std::string all = dir_ + "/results/.spares";
  ASSERT_TRUE(std::filesystem::create_directories(all + "/flatXX"));
  ASSERT_TRUE(std::filesystem::create_directories(all + "/shardY/3"));
  WriteFile(all + "/flatXX/17", "{}");
  WriteFile(all + "/shardY/3/35", "{}");
  WriteFile(all + "/shardY/stray", "x");
  ResultCache cache(dir_);
  ASSERT_TRUE(cache.Write(Entry("n", "c", "eth0")).ok());
  EXPECT_NE(access((all + "/flatXX").c_str(), F_OK), 0);
  EXPECT_NE(access((all + "/shardY").c_str(), F_OK), 0);
  EXPECT_EQ(Names(all, "").size(), 3u);  // ., .. and the live one's
}

// Spares spread over the shards of the instance's directory, spare `id`
// in shard `id % kSpareShards`, so that no directory holds many names.
TEST_F(ResultCacheTest, SparesAreSpreadOverShards) {
  const size_t n = ResultCache::kSpareShards + 3;
  {
    ResultCache cache(dir_, /*durable=*/false);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(cache.Write(Entry("n", absl::StrCat("c", i), "eth0")).ok());
    }
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(cache.Remove("n", absl::StrCat("c", i), "eth0").ok());
    }
    const std::vector<std::string> spares = Spares(dir_);
    ASSERT_EQ(spares.size(), n);
    std::set<std::string> shards;
    for (const std::string& spare : spares) {
      const std::string dir = spare.substr(0, spare.rfind('/'));
      const std::string shard = dir.substr(dir.rfind('/') + 1);
      uint64_t id = 0, number = 0;
      ASSERT_TRUE(absl::SimpleAtoi(spare.substr(spare.rfind('/') + 1), &id));
      ASSERT_TRUE(absl::SimpleAtoi(shard, &number)) << spare;
      EXPECT_EQ(number, id % ResultCache::kSpareShards) << spare;
      shards.insert(dir);
    }
    EXPECT_EQ(shards.size(), ResultCache::kSpareShards);
  }
  // The destructor removes the shards with the spares.
  EXPECT_NE(access((dir_ + "/results/.spares").c_str(), F_OK), 0);
}

// Shards removed behind the instance's back (its own directory stays) are
// made again: writes and removals go on, removed entries become spares.
TEST_F(ResultCacheTest, ShardsRemovedBehindItsBackAreMadeAgain) {
  ResultCache cache(dir_, /*durable=*/true, absl::ZeroDuration());
  ASSERT_TRUE(cache.Write(Entry("n", "a", "eth0")).ok());
  ASSERT_TRUE(cache.Remove("n", "a", "eth0").ok());
  const std::vector<std::string> spares = Spares(dir_);
  ASSERT_EQ(spares.size(), 1u);
  const std::string shard = spares[0].substr(0, spares[0].rfind('/'));
  const std::string own = shard.substr(0, shard.rfind('/'));
  for (const std::string& name : Names(own, "")) {
    if (name != "." && name != "..") {
      std::filesystem::remove_all(own + "/" + name);
    }
  }
  // The spare is gone: the write creates a file, in a shard made again.
  for (const char* id : {"b", "c"}) {
    types::CacheFile f = Entry("n", id, "eth0");
    absl::Status written = cache.Write(f);
    ASSERT_TRUE(written.ok()) << written;
    EXPECT_EQ(OnDisk(ReadFile(dir_ + "/results/n-" + id + "-eth0")),
              types::EncodeCacheFile(f));
  }
  for (const std::string& name : Names(own, "")) {
    if (name != "." && name != "..") {
      std::filesystem::remove_all(own + "/" + name);
    }
  }
  // A removal whose shard is missing unlinks the entry; the next ones
  // retire to spares again.
  ASSERT_TRUE(cache.Remove("n", "b", "eth0").ok());
  ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
  EXPECT_NE(access((dir_ + "/results/n-b-eth0").c_str(), F_OK), 0);
  EXPECT_NE(access((dir_ + "/results/n-c-eth0").c_str(), F_OK), 0);
  EXPECT_EQ(Spares(dir_).size(), 1u);
  EXPECT_TRUE(Hidden(dir_).empty());
}

// The results directory removed while an instance lives (by hand, by a
// cleanup tool): later writes make it again, with a new spares directory.
TEST_F(ResultCacheTest, ResultsRemovedBehindItsBackAreMadeAgain) {
  const std::string results = dir_ + "/results";
  ResultCache cache(dir_, /*durable=*/true, absl::ZeroDuration());
  ASSERT_TRUE(cache.Write(Entry("n", "a", "eth0")).ok());
  ASSERT_TRUE(cache.Remove("n", "a", "eth0").ok());  // one spare
  ASSERT_EQ(Spares(dir_).size(), 1u);
  std::filesystem::remove_all(results);
  types::CacheFile f = Entry("n", "b", "eth0");
  absl::Status written = cache.Write(f);
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(OnDisk(ReadFile(results + "/n-b-eth0")), types::EncodeCacheFile(f));
  // Removal retires to the new spares directory again.
  ASSERT_TRUE(cache.Remove("n", "b", "eth0").ok());
  EXPECT_EQ(Spares(dir_).size(), 1u);
  EXPECT_TRUE(Hidden(dir_).empty());
}

TEST_F(ResultCacheTest, SpareRemovedOrReplacedBehindItsBackIsSkipped) {
  const std::string results = dir_ + "/results";
  ResultCache cache(dir_, /*durable=*/true, absl::ZeroDuration());
  ASSERT_TRUE(cache.Write(Entry("n", "a", "eth0")).ok());
  ASSERT_TRUE(cache.Write(Entry("n", "b", "eth0")).ok());
  ASSERT_TRUE(cache.Remove("n", "a", "eth0").ok());
  ASSERT_TRUE(cache.Remove("n", "b", "eth0").ok());
  std::vector<std::string> spares = Spares(dir_);
  ASSERT_EQ(spares.size(), 2u);
  // One vanishes, the other becomes a directory.
  ASSERT_EQ(unlink(spares[0].c_str()), 0);
  ASSERT_EQ(unlink(spares[1].c_str()), 0);
  ASSERT_EQ(mkdir(spares[1].c_str(), 0700), 0);
  types::CacheFile f = Entry("n", "c", "eth0");
  ASSERT_TRUE(cache.Write(f).ok());
  EXPECT_EQ(OnDisk(ReadFile(results + "/n-c-eth0")), types::EncodeCacheFile(f));
  rmdir(spares[1].c_str());
}

TEST_F(ResultCacheTest, RemoveOfANonRegularEntryStillFails) {
  const std::string results = dir_ + "/results";
  ResultCache cache(dir_);
  ASSERT_TRUE(cache.Write(Entry("n", "c", "eth0")).ok());
  ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
  ASSERT_EQ(mkdir((results + "/n-d-eth0").c_str(), 0700), 0);
  EXPECT_FALSE(cache.Remove("n", "d", "eth0").ok());
  EXPECT_EQ(Spares(dir_).size(), 1u);
  rmdir((results + "/n-d-eth0").c_str());
}

TEST_F(ResultCacheTest, RememberedDecodingEqualsAFreshParse) {
  ResultCache writer(dir_);
  types::CacheFile f = Entry("n", "c", "eth0");
  f.set_netns("/var/run/netns/p");
  auto* pair = f.add_cni_args();
  *pair->add_values() = types::StringValue("K8S_POD_NAME");
  *pair->add_values() = types::StringValue("p");
  auto caps = types::ParseJsonObject(
      R"({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})",
      "caps");
  ASSERT_TRUE(caps.ok());
  *f.mutable_capability_args() = *caps;
  ASSERT_TRUE(writer.Write(f).ok());
  auto remembered = writer.Read("n", "c", "eth0");
  ResultCache fresh(dir_);
  auto parsed = fresh.Read("n", "c", "eth0");
  ASSERT_TRUE(remembered.ok() && parsed.ok());
  ASSERT_TRUE(remembered->has_value() && parsed->has_value());
  EXPECT_EQ((*remembered)->legacy, (*parsed)->legacy);
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare((*parsed)->file, (*remembered)->file)) << diff;
}

TEST_F(ResultCacheTest, AnEntryChangedByAnotherToolIsReadAfresh) {
  const std::string path = dir_ + "/results/n-c-eth0";
  ResultCache cache(dir_);
  ASSERT_TRUE(cache.Write(Entry("n", "c", "eth0")).ok());
  ASSERT_TRUE(cache.Read("n", "c", "eth0").ok());
  // Another tool rewrites it in place with a different netns.
  types::CacheFile other = Entry("n", "c", "eth0");
  other.set_netns("/var/run/netns/other");
  WriteFile(path, types::EncodeCacheFile(other));
  auto read = cache.Read("n", "c", "eth0");
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->file.netns(), "/var/run/netns/other");
  auto listed = cache.ListAttachments("c");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].netns(), "/var/run/netns/other");
  // Read again: the same bytes, remembered.
  ASSERT_TRUE(cache.Write(Entry("n", "c", "eth0")).ok());
  const std::string written = ReadFile(path);
  ASSERT_TRUE(cache.Read("n", "c", "eth0").ok());
  // The same JSON and size, but not all padding after it: an error.
  std::string tail_changed = written;
  tail_changed[tail_changed.size() - 2] = 'x';
  WriteFile(path, tail_changed);
  EXPECT_EQ(cache.Read("n", "c", "eth0").status().code(),
            absl::StatusCode::kInvalidArgument);
  // The same JSON without its padding: read (and remembered) afresh.
  WriteFile(path, OnDisk(written));
  read = cache.Read("n", "c", "eth0");
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status();
  EXPECT_EQ((*read)->file.netns(), Entry("n", "c", "eth0").netns());
  read = cache.Read("n", "c", "eth0");
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status();
  // And then corrupted: an error, not the remembered entry.
  WriteFile(path, "{");
  EXPECT_EQ(cache.Read("n", "c", "eth0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ResultCacheTest, FirstEntryThenResultWrittenBehind) {
  const std::string path = dir_ + "/results/n-c-eth0";
  types::CacheFile full = Entry("n", "c", "eth0");
  types::CacheFile first = WithoutResult(full);
  {
    ResultCache cache(dir_);
    ResultCache::Pending pending = cache.StartWrite(first);
    ASSERT_TRUE(pending.Wait().ok());
    EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(first));

    ASSERT_TRUE(cache.WriteBehind(full).ok());
    // This instance sees the result at once, on disk it follows.
    auto read = cache.Read("n", "c", "eth0");
    ASSERT_TRUE(read.ok() && read->has_value());
    EXPECT_TRUE((*read)->file.has_result());
    auto listed = cache.ListAttachments("c");
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_TRUE((*listed)[0].has_result());
    EXPECT_EQ(OnDisk(testutil::ReadFileOnceItHas(path, "\"result\":")),
              types::EncodeCacheFile(full));

    // A second write behind, then Remove: it drops the write if still
    // queued, or calls it off, so nothing reappears after it.
    full.set_netns("/var/run/netns/again");
    ASSERT_TRUE(cache.WriteBehind(full).ok());
    ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
    EXPECT_EQ(Inode(path), 0u);
    EXPECT_FALSE(cache.Read("n", "c", "eth0")->has_value());

    // The destructor waits for writes still in flight.
    ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
    ASSERT_TRUE(cache.WriteBehind(full).ok());
  }
  EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(full));
  EXPECT_TRUE(Hidden(dir_).empty());
  EXPECT_TRUE(Spares(dir_).empty());
}

// Complete of an ADD entry whose first write is still queued writes the
// complete entry in its place: once, durable when Complete returns.
// Otherwise the first lands and the complete entry follows behind. Either
// way this instance reads the result at once, and the disk has it in the
// end.
TEST_F(ResultCacheTest, CompleteWritesAQueuedEntryOnceWithItsResult) {
  const std::string path = dir_ + "/results/n-c-eth0";
  types::CacheFile full = Entry("n", "c", "eth0");
  types::CacheFile first = WithoutResult(full);
  ResultCache cache(dir_);
  // Right after StartWrite the worker has usually not taken the job yet;
  // a few rounds make sure the queued case happens.
  for (int round = 0; round < 200; ++round) {
    full.set_netns(absl::StrCat("/var/run/netns/p", round));
    first.set_netns(full.netns());
    const ResultCache::CommitStats before = cache.Stats();
    ResultCache::Pending pending = cache.StartWrite(first);
    ASSERT_TRUE(cache.Complete(pending, full.result()).ok());
    auto read = cache.Read("n", "c", "eth0");
    ASSERT_TRUE(read.ok() && read->has_value());
    EXPECT_EQ(types::EncodeCacheFile((*read)->file),
              types::EncodeCacheFile(full));
    const ResultCache::CommitStats after = cache.Stats();
    if (after.completed_before_written == before.completed_before_written) {
      // Written twice: the first entry, then the complete one behind it.
      // The first one landed before Complete returned.
      EXPECT_EQ(OnDisk(testutil::ReadFileOnceItHas(path, "\"result\":")),
                types::EncodeCacheFile(full));
      continue;
    }
    EXPECT_EQ(after.completed_before_written,
              before.completed_before_written + 1);
    // Written once, and on disk already.
    EXPECT_EQ(after.in_place + after.synced,
              before.in_place + before.synced + 1);
    EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(full));
    return;
  }
  FAIL() << "in 200 rounds, Complete never found the first write queued";
}

// Remove does not wait for the write behind of the entry's result: still
// queued, it is dropped unwritten; being committed, it is not renamed into
// place (or Remove retires what it renamed). Either way the entry is gone
// when Remove returns, on disk and in this instance's reads, and nothing
// reappears afterwards.
TEST_F(ResultCacheTest, RemoveDoesNotWaitForAWriteBehind) {
  const std::string path = dir_ + "/results/n-c-eth0";
  types::CacheFile full = Entry("n", "c", "eth0");
  types::CacheFile first = WithoutResult(full);
  {
    // Writes behind not held: the worker takes them at once.
    ResultCache cache(dir_, /*durable=*/true, ResultCache::kReuseAfter,
                      /*behind_hold=*/absl::ZeroDuration());
    // Right after WriteBehind the worker has usually not taken the job yet;
    // a short pause before Remove lets it start committing. Rounds with
    // pauses of different lengths make sure both cases happen.
    uint64_t dropped = 0, called_off = 0;
    for (int round = 0; round < 2000 && (dropped == 0 || called_off == 0);
         ++round) {
      const ResultCache::CommitStats before = cache.Stats();
      ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
      ASSERT_TRUE(cache.WriteBehind(full).ok());
      if (round % 2 == 1) {
        absl::SleepFor(absl::Microseconds(20 * (round % 40)));
      }
      ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
      EXPECT_EQ(Inode(path), 0u);
      auto read = cache.Read("n", "c", "eth0");
      ASSERT_TRUE(read.ok());
      EXPECT_FALSE(read->has_value());
      auto listed = cache.ListAttachments("c");
      ASSERT_TRUE(listed.ok());
      EXPECT_TRUE(listed->empty());
      const ResultCache::CommitStats after = cache.Stats();
      dropped += after.dropped_behind - before.dropped_behind;
      called_off += after.called_off_behind - before.called_off_behind;
      // Placed: the first entry, and the complete one unless dropped or
      // called off in time (a write behind renamed into place just before
      // it was called off counts as placed).
      const uint64_t placed =
          after.in_place + after.synced - before.in_place - before.synced;
      EXPECT_GE(placed, 1u);
      EXPECT_LE(placed, 2u);
    }
    EXPECT_GT(dropped, 0u) << "Remove never found the write behind queued";
    EXPECT_GT(called_off, 0u)
        << "Remove never found the write behind being committed";
    // The entry is written again as usual afterwards.
    ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
    ASSERT_TRUE(cache.WriteBehind(full).ok());
    EXPECT_EQ(OnDisk(testutil::ReadFileOnceItHas(path, "\"result\":")),
              types::EncodeCacheFile(full));
    ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
    EXPECT_EQ(Inode(path), 0u);
  }
  // Once the worker is done with everything, nothing came back.
  EXPECT_EQ(Inode(path), 0u);
  EXPECT_TRUE(Hidden(dir_).empty());
  EXPECT_TRUE(Spares(dir_).empty());
}

// A write behind is held (kBehindHold): a group that forms meanwhile
// leaves it queued, a Remove drops it, and a write of the same entry or
// the destructor does not wait for the hold to end. Once the hold is over
// it is written, with no other write to go with, and also when the worker
// had gone idle.
TEST_F(ResultCacheTest, AWriteBehindIsHeldThenWritten) {
  const std::string path_a = dir_ + "/results/n-a-eth0";
  const std::string path_b = dir_ + "/results/n-b-eth0";
  types::CacheFile full_a = Entry("n", "a", "eth0");
  types::CacheFile full_b = Entry("n", "b", "eth0");
  {
    // Held for an hour: any wait for the hold would time the test out.
    ResultCache cache(dir_, /*durable=*/true, ResultCache::kReuseAfter,
                      /*behind_hold=*/absl::Hours(1));
    ASSERT_TRUE(cache.StartWrite(WithoutResult(full_a)).Wait().ok());
    ASSERT_TRUE(cache.WriteBehind(full_a).ok());
    // Held: not on disk yet, but read at once.
    EXPECT_EQ(OnDisk(ReadFile(path_a)),
              types::EncodeCacheFile(WithoutResult(full_a)));
    auto read = cache.Read("n", "a", "eth0");
    ASSERT_TRUE(read.ok() && read->has_value());
    EXPECT_TRUE((*read)->file.has_result());
    // Another entry's group leaves it queued.
    ASSERT_TRUE(cache.StartWrite(WithoutResult(full_b)).Wait().ok());
    EXPECT_EQ(OnDisk(ReadFile(path_a)),
              types::EncodeCacheFile(WithoutResult(full_a)));

    // A write of the same entry does not wait for the hold.
    ASSERT_TRUE(cache.WriteBehind(full_b).ok());
    ASSERT_TRUE(cache.StartWrite(WithoutResult(full_b)).Wait().ok());
    EXPECT_EQ(OnDisk(ReadFile(path_b)),
              types::EncodeCacheFile(WithoutResult(full_b)));

    // Removed while held: dropped.
    const ResultCache::CommitStats before = cache.Stats();
    ASSERT_TRUE(cache.WriteBehind(full_b).ok());
    ASSERT_TRUE(cache.Remove("n", "b", "eth0").ok());
    EXPECT_EQ(cache.Stats().dropped_behind, before.dropped_behind + 1);
    EXPECT_EQ(Inode(path_b), 0u);
  }
  // Held when the cache goes: the destructor lands it.
  EXPECT_EQ(OnDisk(ReadFile(path_a)), types::EncodeCacheFile(full_a));
  EXPECT_TRUE(Hidden(dir_).empty());

  // Held briefly: written once the hold is over, with nothing else to go
  // with.
  ResultCache brief(dir_ + "/brief", /*durable=*/true, ResultCache::kReuseAfter,
                    /*behind_hold=*/absl::Milliseconds(20));
  ASSERT_TRUE(brief.StartWrite(WithoutResult(full_a)).Wait().ok());
  ASSERT_TRUE(brief.WriteBehind(full_a).ok());
  EXPECT_EQ(OnDiskOnce(dir_ + "/brief/results/n-a-eth0",
                       types::EncodeCacheFile(full_a)),
            types::EncodeCacheFile(full_a));

  // The same once the worker has gone idle (nothing queued for longer
  // than the hold): queuing the write behind wakes it.
  ASSERT_TRUE(brief.StartWrite(WithoutResult(full_b)).Wait().ok());
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(brief.WriteBehind(full_b).ok());
  EXPECT_EQ(OnDiskOnce(dir_ + "/brief/results/n-b-eth0",
                       types::EncodeCacheFile(full_b)),
            types::EncodeCacheFile(full_b));
}

// A listing that runs while a result lands (the write behind renames the
// complete entry over the first one) returns the complete entry: either
// the one this instance holds in memory, or the file once it is renamed,
// never the first entry read just before the rename.
TEST_F(ResultCacheTest, AListingWhileAResultLandsSeesTheResult) {
  types::CacheFile full = Entry("n", "c", "eth0");
  types::CacheFile first = WithoutResult(full);
  ResultCache cache(dir_, /*durable=*/true, ResultCache::kReuseAfter,
                    /*behind_hold=*/absl::ZeroDuration());
  int without_result = 0;
  constexpr int kRounds = 2000;
  for (int i = 0; i < kRounds; ++i) {
    full.set_netns(absl::StrCat("/var/run/netns/p", i));
    first.set_netns(full.netns());
    ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
    ASSERT_TRUE(cache.WriteBehind(full).ok());
    // List until the entry has landed, so each round races the rename.
    for (;;) {
      auto listed = cache.ListAttachments("c");
      ASSERT_TRUE(listed.ok()) << listed.status();
      ASSERT_EQ(listed->size(), 1u);
      if (!(*listed)[0].has_result()) ++without_result;
      auto read = cache.Read("n", "c", "eth0");
      ASSERT_TRUE(read.ok() && read->has_value());
      if (!(*read)->file.has_result()) ++without_result;
      if (ReadFile(dir_ + "/results/n-c-eth0").find("\"result\":") !=
          std::string::npos) {
        break;
      }
    }
  }
  EXPECT_EQ(without_result, 0) << "of " << kRounds << " rounds";
}

TEST_F(ResultCacheTest, WithoutDurabilityEveryWriteIsImmediate) {
  const std::string path = dir_ + "/results/n-c-eth0";
  ResultCache cache(dir_, /*durable=*/false);
  types::CacheFile full = Entry("n", "c", "eth0");
  types::CacheFile first = WithoutResult(full);
  ResultCache::Pending pending = cache.StartWrite(first);
  EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(first));
  ASSERT_TRUE(pending.Wait().ok());
  ASSERT_TRUE(cache.WriteBehind(full).ok());
  EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(full));  // at once

  // StartWrite then Complete, as an ADD does.
  full.set_netns("/var/run/netns/again");
  pending = cache.StartWrite(WithoutResult(full));
  EXPECT_EQ(OnDisk(ReadFile(path)),
            types::EncodeCacheFile(WithoutResult(full)));
  ASSERT_TRUE(cache.Complete(pending, full.result()).ok());
  EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(full));
  auto read = cache.Read("n", "c", "eth0");
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(types::EncodeCacheFile((*read)->file),
            types::EncodeCacheFile(full));
}

TEST_F(ResultCacheTest, CompleteOfAnInvalidEntryReportsWhyItWasNotWritten) {
  ResultCache cache(dir_);
  types::CacheFile bad = Entry("n", "../c", "eth0");
  ResultCache::Pending pending = cache.StartWrite(WithoutResult(bad));
  absl::Status completed = cache.Complete(pending, bad.result());
  EXPECT_EQ(completed.code(), absl::StatusCode::kInvalidArgument) << completed;
  EXPECT_EQ(pending.Wait().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ResultCacheTest, AWriteBehindThatCannotLandLeavesTheFirstEntry) {
  const std::string results = dir_ + "/results";
  const std::string path = results + "/n-c-eth0";
  ResultCache cache(dir_);
  types::CacheFile first = Entry("n", "c", "eth0");
  first.clear_result();
  ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
  // The results directory turns read-only: the rename cannot happen (the
  // temporary file was already open for writing, so the write succeeds).
  ASSERT_EQ(chmod(results.c_str(), 0500), 0);
  bool root = geteuid() == 0;
  if (root) {
    // root ignores the mode: make the rename fail another way.
    ASSERT_EQ(unlink(path.c_str()), 0);
    ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
    ASSERT_EQ(mkdir((path + "/x").c_str(), 0700), 0);
  }
  ASSERT_TRUE(cache.WriteBehind(Entry("n", "c", "eth0")).ok());
  // Once it failed, this instance reads what is on disk again.
  EXPECT_TRUE(testutil::WaitFor([&] {
    auto read = cache.Read("n", "c", "eth0");
    return !read.ok() || !read->has_value() || !(*read)->file.has_result();
  }));
  ASSERT_EQ(chmod(results.c_str(), 0700), 0);
  if (root) {
    rmdir((path + "/x").c_str());
    rmdir(path.c_str());
  }
  EXPECT_TRUE(Hidden(dir_).empty());
}

// Whether `dir` is on a file system that overwrites files in place (ext2/3/4,
// XFS), where settled spares are committed without an fdatasync each.
bool InPlaceFileSystem(const std::string& dir) {
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) return false;
  const int64_t type = static_cast<int64_t>(fs.f_type);
  return type == 0xEF53 || type == 0x58465342;
}

// One attachment's cycle as the library runs it: the entry without the
// result, durably; the entry with it, written behind; then, once that
// landed (a Remove while it is queued would drop it), removal.
void Cycle(ResultCache& cache, const std::string& dir,
           const types::CacheFile& full) {
  types::CacheFile first = WithoutResult(full);
  ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
  ASSERT_TRUE(cache.WriteBehind(full).ok());
  testutil::ReadFileOnceItHas(
      absl::StrCat(dir, "/results/", full.network_name(), "-",
                   full.container_id(), "-", full.if_name()),
      "\"result\":");
  ASSERT_TRUE(
      cache.Remove(full.network_name(), full.container_id(), full.if_name())
          .ok());
}

TEST_F(ResultCacheTest, SettledSparesAreCommittedInPlace) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  if (!InPlaceFileSystem(dir_)) {
    GTEST_SKIP() << dir_ << " is not on ext2/3/4 or XFS: every file gets "
                 << "its own fdatasync there";
  }
  ResultCache cache(dir_, /*durable=*/true, absl::ZeroDuration());
  for (int i = 0; i < 4; ++i) {
    Cycle(cache, dir_, Entry("n", absl::StrCat("c", i), "eth0"));
  }
  // New files are fdatasync'ed; the spares they become, once settled, are
  // refilled in place and share flushes.
  const ResultCache::CommitStats stats = cache.Stats();
  EXPECT_GE(stats.synced, 2u);
  EXPECT_GE(stats.in_place, 4u);
  EXPECT_GE(stats.shared_flushes, 1u);
  EXPECT_LE(stats.shared_flushes, stats.in_place);

  // What lands is the entry, whichever way it got there.
  types::CacheFile full = Entry("n", "last", "eth0");
  types::CacheFile first = WithoutResult(full);
  ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
  EXPECT_EQ(OnDisk(ReadFile(dir_ + "/results/n-last-eth0")),
            types::EncodeCacheFile(first));
  ASSERT_TRUE(cache.WriteBehind(full).ok());
  EXPECT_EQ(OnDisk(testutil::ReadFileOnceItHas(dir_ + "/results/n-last-eth0",
                                               "\"result\":")),
            types::EncodeCacheFile(full));
}

TEST_F(ResultCacheTest, AnEntryRewrittenByAnotherToolIsNotRefilledInPlace) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  if (!InPlaceFileSystem(dir_)) {
    GTEST_SKIP() << dir_ << " is not on ext2/3/4 or XFS: nothing is "
                 << "refilled in place there";
  }
  ResultCache cache(dir_, /*durable=*/true, absl::ZeroDuration());
  // Another tool rewrites an entry in place, as libcni does (O_TRUNC, no
  // fsync): its blocks may not be allocated on disk yet, so the spare it
  // becomes must get an fdatasync of its own when it is refilled.
  types::CacheFile full = Entry("n", "c", "eth0");
  types::CacheFile first = WithoutResult(full);
  ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
  const std::string path = dir_ + "/results/n-c-eth0";
  // Same size as ours, so only its identity tells: a later write time (file
  // times move in clock ticks, a few ms).
  std::string same_size = types::EncodeCacheFile(full);
  same_size.resize(ResultCache::kPaddedSize, ' ');
  absl::SleepFor(absl::Milliseconds(50));
  WriteFile(path, same_size);
  ASSERT_TRUE(cache.Remove("n", "c", "eth0").ok());
  const ResultCache::CommitStats before = cache.Stats();
  // The only spare: the write gets that file.
  ASSERT_EQ(Spares(dir_).size(), 1u);
  ASSERT_TRUE(cache.StartWrite(first).Wait().ok());
  const ResultCache::CommitStats after = cache.Stats();
  EXPECT_EQ(after.synced, before.synced + 1);
  EXPECT_EQ(after.in_place, before.in_place);
  EXPECT_EQ(OnDisk(ReadFile(path)), types::EncodeCacheFile(first));
}

// Two instances on one cache dir (a runtime and a CLI, say) churn entries
// while another process's reader reads every entry file by name, as libcni
// does: whatever it reads whole is the entry of that name, never zeros or
// another pod's entry.
TEST_F(ResultCacheTest, AReaderOfEntryFilesNeverSeesAnotherPodsEntry) {
  ResultCache durable(dir_);
  ResultCache quick(dir_, /*durable=*/false);
  const std::string results = dir_ + "/results";
  ASSERT_TRUE(quick.Write(Entry("n", "seed", "eth0")).ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, read_whole{0};
  std::thread reader([&] {
    while (!done.load()) {
      for (const std::string& name : Names(results, "n-")) {
        std::string bytes;
        {
          std::ifstream in(results + "/" + name, std::ios::binary);
          if (!in) continue;  // removed meanwhile
          std::stringstream all;
          all << in.rdbuf();
          bytes = all.str();
        }
        auto decoded = types::DecodeCacheFile(bytes, name);
        if (!decoded.ok() ||
            "n-" + decoded->file.container_id() + "-eth0" != name) {
          ADD_FAILURE() << name << ": " << bytes.substr(0, 120);
          ++bad;
        }
        ++read_whole;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      ResultCache& cache = t % 2 == 0 ? durable : quick;
      for (int i = 0; i < 40; ++i) {
        const std::string cid = absl::StrCat("c", t, "-", i);
        types::CacheFile full = Entry("n", cid, "eth0");
        types::CacheFile first = full;
        first.clear_result();
        if (!cache.StartWrite(first).Wait().ok() ||
            !cache.WriteBehind(full).ok() ||
            !cache.Remove("n", cid, "eth0").ok()) {
          ++bad;
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(read_whole.load(), 0);
}

TEST_F(ResultCacheTest, ConcurrentAttachmentsStayConsistent) {
  ResultCache cache(dir_);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        const std::string cid = absl::StrCat("c", t, "-", i);
        types::CacheFile full = Entry("n", cid, "eth0");
        types::CacheFile first = full;
        first.clear_result();
        ResultCache::Pending p = cache.StartWrite(first);
        if (!p.Wait().ok() || !cache.WriteBehind(full).ok()) ++bad;
        auto read = cache.Read("n", cid, "eth0");
        if (!read.ok() || !read->has_value() || !(*read)->file.has_result()) {
          ++bad;
        }
        if (!cache.Remove("n", cid, "eth0").ok()) ++bad;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_TRUE(cache.ListAll()->empty());
  EXPECT_TRUE(Hidden(dir_).empty());
}

}  // namespace
}  // namespace ocicni
