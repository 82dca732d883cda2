#include "ocicni/result_cache.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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
  EXPECT_EQ(ReadFile(path), types::EncodeCacheFile(f));

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

}  // namespace
}  // namespace ocicni
