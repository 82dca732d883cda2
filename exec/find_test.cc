#include "exec/find.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/runfiles.h"

namespace ocicni::exec {
namespace {

using ::testing::HasSubstr;

class FindPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = testutil::MakeTempDir("find");
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = *root;
    a_ = root_ + "/a";
    b_ = root_ + "/b";
    ASSERT_EQ(mkdir(a_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(b_.c_str(), 0755), 0);
  }

  static void WriteFile(const std::string& path, mode_t mode) {
    std::ofstream(path) << "#!/bin/sh\n";
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }

  std::string root_, a_, b_;
};

TEST_F(FindPluginTest, FirstDirWins) {
  WriteFile(a_ + "/bridge", 0755);
  WriteFile(b_ + "/bridge", 0755);
  auto path = FindPlugin("bridge", {a_, b_});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, a_ + "/bridge");
}

TEST_F(FindPluginTest, DirectoryOfThatNameIsSkipped) {
  ASSERT_EQ(mkdir((a_ + "/bridge").c_str(), 0755), 0);
  WriteFile(b_ + "/bridge", 0755);
  auto path = FindPlugin("bridge", {a_, b_});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, b_ + "/bridge");
}

TEST_F(FindPluginTest, NonExecutableFileIsSkipped) {
  WriteFile(a_ + "/bridge", 0644);
  WriteFile(b_ + "/bridge", 0755);
  auto path = FindPlugin("bridge", {a_, b_});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, b_ + "/bridge");
}

TEST_F(FindPluginTest, SymlinkToRegularFileIsAccepted) {
  auto link = testutil::InstallPlugin(testutil::FakePluginPath(), a_, "fake");
  ASSERT_TRUE(link.ok()) << link.status();
  auto path = FindPlugin("fake", {a_});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, *link);
}

TEST_F(FindPluginTest, NotFoundNamesTypeAndEveryDir) {
  auto path = FindPlugin("macvlan", {a_, b_});
  EXPECT_EQ(path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(path.status().message(), HasSubstr("\"macvlan\""));
  EXPECT_THAT(path.status().message(), HasSubstr(a_));
  EXPECT_THAT(path.status().message(), HasSubstr(b_));
}

TEST_F(FindPluginTest, NoDirs) {
  auto path = FindPlugin("bridge", {});
  EXPECT_EQ(path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(path.status().message(), HasSubstr("no plugin dirs"));
}

TEST_F(FindPluginTest, InvalidTypesAreRejectedBeforeLookup) {
  // A file at each place a traversal would reach, to show none is returned.
  WriteFile(root_ + "/evil", 0755);
  for (const std::string& type :
       {std::string("../evil"), std::string("../../sbin/reboot"),
        std::string("a/b"), std::string("a\\b"), std::string(""),
        std::string("."), std::string(".."), std::string("br\0idge", 7),
        std::string("/bin/sh")}) {
    auto path = FindPlugin(type, {a_});
    EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument)
        << "type " << type << ": " << path.status();
  }
}

TEST_F(FindPluginTest, VendorDirIsSearchedFirst) {
  std::string vendor = root_ + "/opt/bridge/bin";
  ASSERT_EQ(mkdir((root_ + "/opt").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/opt/bridge").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(vendor.c_str(), 0755), 0);
  WriteFile(vendor + "/bridge", 0755);
  WriteFile(a_ + "/bridge", 0755);
  FindOptions options;
  options.vendor_prefix = root_;
  auto path = FindPlugin("bridge", {a_}, options);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, vendor + "/bridge");
  EXPECT_EQ(PluginSearchPath("bridge", {a_, "", b_}, options),
            (std::vector<std::string>{vendor, a_, b_}));
  // Without the option the vendor dir plays no part.
  EXPECT_EQ(*FindPlugin("bridge", {a_}), a_ + "/bridge");
}

TEST(VendorPluginDirTest, Template) {
  EXPECT_EQ(VendorPluginDir("/usr/libexec", "flannel"),
            "/usr/libexec/opt/flannel/bin");
}

}  // namespace
}  // namespace ocicni::exec
