// A pod's path through the facade never uses protobuf's reflection: the
// first use of it in a process builds the descriptors of the types' .proto
// file, code and heap that then stay resident in every runtime linking the
// library. This binary runs nothing else before the check (a test that
// reflected on a message first would hide a regression), so it has a file
// of its own.
#include <sys/stat.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "ocicni/ocicni.h"
#include "ocicni/plugin_impl.h"
#include "testing/fake_netns_ops.h"
#include "testing/files.h"
#include "testing/runfiles.h"
#include "types/cni.pb.h"

namespace ocicni {
namespace {

bool TypesDescriptorsBuilt() {
  return google::protobuf::DescriptorPool::internal_generated_pool()
      ->InternalIsFileLoaded("types/cni.proto");
}

TEST(NoReflection, APodsPathBuildsNoDescriptors) {
  ASSERT_FALSE(TypesDescriptorsBuilt()) << "built before the test ran";

  auto dir = testutil::MakeTempDir("no_reflection");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string root = *dir;
  const std::string conf_dir = root + "/net.d", bin_dir = root + "/bin";
  mkdir(conf_dir.c_str(), 0755);
  mkdir(bin_dir.c_str(), 0755);
  for (const char* type : {"bridge", "portmap"}) {
    ASSERT_TRUE(
        testutil::InstallPlugin(testutil::FakePluginPath(), bin_dir, type)
            .ok());
  }
  // A result with every part a plugin's result has, and a plugin that
  // takes every capability whose value is a message.
  testutil::WriteFile(conf_dir + "/10-net.conflist", R"({
    "cniVersion": "1.0.0", "name": "net",
    "plugins": [
      {"type": "bridge", "fake": {"ADD": {
          "addInterface": {"name": "eth0", "mac": "0a:58:0a:05:00:02"},
          "addIp": {"address": "10.5.0.2/24", "gateway": "10.5.0.1"}}}},
      {"type": "portmap", "capabilities": {"portMappings": true,
          "bandwidth": true, "ipRanges": true, "dns": true}}
    ]})");

  Options options;
  options.watch = false;
  options.conf_dirs = {conf_dir};
  options.plugin_dirs = {bin_dir};
  options.cache_dir = root + "/cache";
  internal::Deps deps;
  deps.netns_ops = std::make_unique<testutil::FakeNetnsOps>();
  deps.inherited_cni_args = "";
  auto plugin = internal::NewPlugin(options, std::move(deps));
  ASSERT_TRUE(plugin.ok()) << plugin.status();

  PodNetwork pod;
  pod.name = "p";
  pod.namespace_ = "ns";
  pod.id = "c0ffee";
  pod.netns = root;
  RuntimeConfig& rc = pod.runtime_config["net"];
  rc.port_mappings.push_back({8080, 80, "tcp", "127.0.0.1"});
  rc.bandwidth = BandwidthConfig{1000000, 0, 0, 100000};
  rc.ip_ranges = {{IpRange{"10.5.0.0/24", "", "", "10.5.0.1"}}};
  rc.dns = DnsConfig{{"10.5.0.10"}, {"svc.local"}, {}};

  auto results = (*plugin)->SetUpPod(pod);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].result.ips(0).address(), "10.5.0.2/24");
  auto status = (*plugin)->GetPodNetworkStatus(pod);
  ASSERT_TRUE(status.ok()) << status.status();
  plugin->reset();

  // A runtime restarted: another instance reads the entry from disk.
  internal::Deps restarted;
  restarted.netns_ops = std::make_unique<testutil::FakeNetnsOps>();
  restarted.inherited_cni_args = "";
  auto again = internal::NewPlugin(options, std::move(restarted));
  ASSERT_TRUE(again.ok()) << again.status();
  status = (*again)->GetPodNetworkStatus(pod);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->size(), 1u);
  EXPECT_EQ((*status)[0].result.ips(0).address(), "10.5.0.2/24");
  ASSERT_TRUE((*again)->TearDownPod(pod).ok());
  again->reset();

  EXPECT_FALSE(TypesDescriptorsBuilt());
  // The check can fail: reflection builds them.
  EXPECT_NE(types::Result::descriptor(), nullptr);
  EXPECT_TRUE(TypesDescriptorsBuilt());
}

}  // namespace
}  // namespace ocicni
