// Interop with Go libcni's result cache, with the real plugins: the cache
// entry this library writes for a pod holds what libcni writes for the same
// pod, and a cache entry written by Go libcni (types/testdata, from a node
// running CRI-O) drives GetPodNetworkStatus and TearDownPod.
//
// The fixture's network (10-fixture.conflist: bridge fxbr0 + portmap,
// host-local on 10.250.0.0/24) keeps host-local's data in
// /run/ocicni-fixture/ipam, and the cache entry carries that conflist,
// base64-encoded, as Go wrote it. The suite's /run is a private tmpfs
// (harness.h), so that path is made a symlink into this test's directory
// under $TEST_TMPDIR: the conflist and the cached config stay byte for byte
// what Go had. What no test can reproduce are the values the kernel and the
// runtime chose on that node (MAC addresses, the host veth's name, the
// namespace path); the Go entry gets this node's values for those before it
// is used, and nothing else of it changes.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/harness.h"
#include "netns/test_util.h"
#include "ocicni/ocicni.h"
#include "testing/files.h"
#include "testing/runfiles.h"
#include "types/json.h"

namespace ocicni::integration {
namespace {

using ::google::protobuf::Struct;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kFixtureDataDir[] = "/run/ocicni-fixture/ipam";
constexpr char kEntry[] = "fixturenet-4f1b6a9c0e2d-eth0";

using ::ocicni::testutil::TopLevelKeys;

class InteropTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    conflist_ =
        ReadFile(testutil::RunfilePath("types/testdata/10-fixture.conflist"));
    go_entry_ = ReadFile(
        testutil::RunfilePath(absl::StrCat("types/testdata/", kEntry)));
    ASSERT_THAT(conflist_, HasSubstr(kFixtureDataDir));
    ASSERT_THAT(go_entry_, HasSubstr("cniCacheV1"));
    WriteConfList("10-fixture.conflist", conflist_);
    // host-local's dataDir as the fixture names it, kept in this test's dir.
    ASSERT_EQ(mkdir(ipam_dir().c_str(), 0755), 0);
    ASSERT_EQ(mkdir("/run/ocicni-fixture", 0755), 0);
    ASSERT_EQ(symlink(ipam_dir().c_str(), kFixtureDataDir), 0);

    cni_ = Start();
    ASSERT_NE(cni_, nullptr);
    pod_.emplace(NewPod("fixture-pod"));
    // The pod the Go entry is about.
    pod_->net.name = "fixture";
    pod_->net.namespace_ = "default";
    pod_->net.id = "4f1b6a9c0e2d";
    pod_->net.uid = "7d6c";
    pod_->net.runtime_config["fixturenet"].port_mappings = {
        {18080, 80, "tcp", ""}};
    // This node's real attachment of that pod, made by the real plugins.
    absl::StatusOr<std::vector<NetResult>> results = cni_->SetUpPod(pod_->net);
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_THAT(*results, SizeIs(1));
    result_ = (*results)[0].result;
    entry_path_ = absl::StrCat(cache_dir(), "/results/", kEntry);
  }

  void TearDown() override {
    unlink(kFixtureDataDir);
    rmdir("/run/ocicni-fixture");
    IntegrationTest::TearDown();
  }

  static Struct Parse(const std::string& json) {
    absl::StatusOr<Struct> parsed = types::ParseJsonObject(json, "cache entry");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? *parsed : Struct();
  }

  static std::string Field(const Struct& s, const std::string& key) {
    auto it = s.fields().find(key);
    return it == s.fields().end() ? "<missing>" : types::WriteJson(it->second);
  }

  std::string conflist_, go_entry_, entry_path_;
  std::unique_ptr<CNIPlugin> cni_;
  std::optional<TestPod> pod_;
  types::Result result_;
};

TEST_F(InteropTest, OurEntryHoldsWhatGoLibcniWrites) {
  // Where and how libcni keeps it.
  struct stat st;
  ASSERT_EQ(stat(entry_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((cache_dir() + "/results").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  const std::string ours_bytes =
      testutil::ReadFileOnceItHas(entry_path_, "\"result\":");
  // libcni's keys in libcni's order; Go's entry has no netns (omitempty).
  std::vector<std::string> ours_keys = TopLevelKeys(ours_bytes);
  std::vector<std::string> go_keys = TopLevelKeys(go_entry_);
  go_keys.insert(go_keys.begin() + 5, "netns");
  EXPECT_EQ(ours_keys, go_keys);

  const Struct ours = Parse(ours_bytes);
  const Struct go = Parse(go_entry_);
  for (const char* key : {"kind", "containerId", "ifName", "networkName",
                          "config", "cniArgs", "capabilityArgs"}) {
    EXPECT_EQ(Field(ours, key), Field(go, key)) << key;
  }
  EXPECT_EQ(Field(ours, "netns"), absl::StrCat("\"", pod_->path(), "\""));
  // The config is the conflist's bytes, base64 as Go encodes []byte.
  std::string config;
  ASSERT_TRUE(
      absl::Base64Unescape(ours.fields().at("config").string_value(), &config));
  EXPECT_EQ(config, conflist_);

  // The result has the shape and values of Go's, except what the kernel
  // chose (MACs, the host veth's name) and the namespace path.
  const Struct& ours_result = ours.fields().at("result").struct_value();
  const Struct& go_result = go.fields().at("result").struct_value();
  for (const char* key : {"cniVersion", "ips", "routes"}) {
    EXPECT_EQ(Field(ours_result, key), Field(go_result, key)) << key;
  }
  // No DNS: Go's struct field always prints as {}; this library leaves the
  // empty dns out (as the spec's examples do). Both read back as no DNS.
  EXPECT_EQ(Field(go_result, "dns"), "{}");
  EXPECT_EQ(Field(ours_result, "dns"), "<missing>");
  ASSERT_THAT(result_.interfaces(), SizeIs(3));
  EXPECT_EQ(result_.interfaces(0).name(), "fxbr0");
  EXPECT_EQ(result_.interfaces(2).name(), "eth0");
  EXPECT_EQ(result_.interfaces(2).sandbox(), pod_->path());

  OCICNI_ASSERT_OK(cni_->TearDownPod(pod_->net));
}

TEST_F(InteropTest, GoLibcniEntryDrivesStatusAndTeardown) {
  // Go's entry, with this node's kernel- and runtime-chosen values.
  const std::string go_entry = absl::StrReplaceAll(
      go_entry_, {{"8e:a9:e9:9f:35:8b", result_.interfaces(0).mac()},
                  {"veth436e0600", result_.interfaces(1).name()},
                  {"ae:3f:ba:d4:0e:aa", result_.interfaces(1).mac()},
                  {"e6:85:5d:4b:98:2e", result_.interfaces(2).mac()},
                  {"/var/run/netns/fixture-pod", pod_->path()}});
  // As another tool would, once our entry (with its result) has landed: a
  // write in place while it is still being written behind races with it.
  testutil::ReadFileOnceItHas(entry_path_, "\"result\":");
  std::ofstream(entry_path_, std::ios::trunc) << go_entry;

  // Status: CHECK by bridge and portmap with Go's result as prevResult,
  // then Go's result.
  PodNetwork by_id;
  by_id.id = pod_->net.id;
  by_id.netns = pod_->path();
  absl::StatusOr<std::vector<NetResult>> status =
      cni_->GetPodNetworkStatus(by_id);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_THAT(*status, SizeIs(1));
  const types::Result& r = (*status)[0].result;
  EXPECT_EQ((*status)[0].network, "fixturenet");
  ASSERT_THAT(r.ips(), SizeIs(1));
  EXPECT_EQ(r.ips(0).address(), "10.250.0.2/24");
  EXPECT_EQ(r.ips(0).gateway(), "10.250.0.1");
  EXPECT_EQ(r.ips(0).interface(), 2);
  EXPECT_EQ(r.interfaces(2).mac(), result_.interfaces(2).mac());
  EXPECT_EQ(r.interfaces(2).sandbox(), pod_->path());

  // Teardown from Go's entry alone: portmap removes its rules, bridge the
  // veth, host-local the address (in the dataDir the cached config names).
  EXPECT_THAT(NatRules(), HasSubstr("--dport 18080"));
  OCICNI_ASSERT_OK(cni_->TearDownPod(by_id));
  EXPECT_THAT(NatRules(), Not(HasSubstr("--dport 18080")));
  EXPECT_THAT(HostLocalReservations(ipam_dir()), IsEmpty());
  EXPECT_THAT(CacheEntries(cache_dir()), IsEmpty());
  EXPECT_THAT(HostLinks("veth"), IsEmpty());
}

}  // namespace
}  // namespace ocicni::integration
