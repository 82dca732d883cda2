// What a process of another user may do with a result cache. Runs outside
// Bazel's sandbox (tag no-sandbox), whose user namespace maps no user but
// the test's own.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "ocicni/result_cache.h"
#include "testing/files.h"
#include "testing/stranger.h"
#include "types/cache.h"
#include "types/json.h"

namespace ocicni {
namespace {

// Where O_NOATIME is refused (a process of another user, reading entries
// that others may read), entries are read and listed without it.
TEST(ResultCacheStranger, ReadsAnotherUsersEntries) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root, to run a child as another user";
  }
  std::string dir = ::testing::TempDir() + "/cacheXXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  types::CacheFile written;
  written.set_network_name("net1");
  written.set_container_id("cid1");
  written.set_if_name("eth0");
  written.set_config(R"({"cniVersion":"1.0.0","name":"net1","plugins":[]})");
  auto result = types::ParseJsonObject(
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/16"}]})", "r");
  ASSERT_TRUE(result.ok()) << result.status();
  *written.mutable_result() = *result;
  {
    ResultCache cache(dir);
    ASSERT_TRUE(cache.Write(written).ok());
  }
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod((dir + "/results").c_str(), 0755), 0);
  ASSERT_EQ(chmod((dir + "/results/net1-cid1-eth0").c_str(), 0644), 0);
  // The stranger enters the cache through this descriptor: the directories
  // above it may be closed to others.
  const int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::string want = types::EncodeCacheFile(written);
  absl::StatusOr<int> code = testutil::RunAsStranger([&] {
    if (fchdir(fd) != 0) return 3;
    const int probe = open("results/net1-cid1-eth0", O_RDONLY | O_NOATIME);
    if (probe >= 0) return 2;
    if (errno != EPERM) return 3;
    ResultCache reader(".");
    auto read = reader.Read("net1", "cid1", "eth0");
    if (!read.ok() || !read->has_value()) return 1;
    if (types::EncodeCacheFile((*read)->file) != want) return 4;
    auto listed = reader.ListAttachments("cid1");
    return listed.ok() && listed->size() == 1 ? 0 : 5;
  });
  close(fd);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << "1: the read failed; 2: O_NOATIME was allowed "
                         "(nothing to check); 3: the cache could not be "
                         "entered or the entry opened; 4: it read another "
                         "entry; 5: the listing failed";
  testutil::RemoveAll(dir);
}

}  // namespace
}  // namespace ocicni
