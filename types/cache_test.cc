#include "types/cache.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "types/json.h"

namespace ocicni::types {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(
      std::string(getenv("TEST_SRCDIR")) + "/ocicni/types/testdata/" + name,
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Cache, ReadsGoLibcniFileAndWritesItBackByteForByte) {
  const std::string bytes = ReadTestdata("fixturenet-4f1b6a9c0e2d-eth0");
  ASSERT_FALSE(bytes.empty());
  auto decoded = DecodeCacheFile(bytes, "fixturenet-4f1b6a9c0e2d-eth0");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_FALSE(decoded->legacy);
  const CacheFile& f = decoded->file;
  EXPECT_EQ(f.kind(), "cniCacheV1");
  EXPECT_EQ(f.container_id(), "4f1b6a9c0e2d");
  EXPECT_EQ(f.if_name(), "eth0");
  EXPECT_EQ(f.network_name(), "fixturenet");
  EXPECT_EQ(f.config(), ReadTestdata("10-fixture.conflist"));
  ASSERT_EQ(f.cni_args_size(), 5);
  EXPECT_EQ(f.cni_args(1).values(0).string_value(), "K8S_POD_NAMESPACE");
  EXPECT_EQ(f.cni_args(1).values(1).string_value(), "default");
  EXPECT_EQ(f.capability_args()
                .fields()
                .at("portMappings")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("hostPort")
                .number_value(),
            18080);
  EXPECT_EQ(EncodeCacheFile(f), bytes);
}

TEST(Cache, EncodeWithResultEqualsEncodingTheWholeFile) {
  auto decoded = DecodeCacheFile(ReadTestdata("fixturenet-4f1b6a9c0e2d-eth0"),
                                 "fixturenet-4f1b6a9c0e2d-eth0");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(decoded->file.has_result());
  CacheFile first = decoded->file;
  first.clear_result();
  EXPECT_EQ(EncodeWithResult(EncodeCacheFile(first), decoded->file.result()),
            EncodeCacheFile(decoded->file));
  // A first entry with nothing but its names, and an empty result.
  CacheFile bare;
  bare.set_container_id("c");
  bare.set_if_name("eth0");
  bare.set_network_name("n");
  CacheFile with_result = bare;
  with_result.mutable_result();
  EXPECT_EQ(EncodeWithResult(EncodeCacheFile(bare), with_result.result()),
            EncodeCacheFile(with_result));
}

TEST(Cache, CachedResultMatchesWhatLibcniReturned) {
  auto decoded =
      DecodeCacheFile(ReadTestdata("fixturenet-4f1b6a9c0e2d-eth0"), "f");
  ASSERT_TRUE(decoded.ok());
  auto returned = ParseJsonObject(ReadTestdata("add-result.json"), "r");
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(WriteJson(decoded->file.result()), WriteJson(*returned));
}

TEST(Cache, LegacyAndForeignFilesAreBareResults) {
  auto legacy = DecodeCacheFile(
      R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/8"}]})",
      "old");
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_TRUE(legacy->legacy);
  EXPECT_EQ(legacy->file.result().fields().at("cniVersion").string_value(),
            "0.3.1");
  auto foreign = DecodeCacheFile(R"({"kind":"cniCacheV9","x":1})", "f");
  ASSERT_TRUE(foreign.ok());
  EXPECT_TRUE(foreign->legacy);
}

TEST(Cache, CorruptFilesAreErrorsNamingThePath) {
  for (const char* bad : {"", "{", "[]", "null", "\x01\x02",
                          R"({"kind":"cniCacheV1","containerId":5})",
                          R"({"kind":"cniCacheV1","config":"not base64!"})"}) {
    auto d = DecodeCacheFile(bad, "/var/lib/cni/results/n-c-eth0");
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find("/var/lib/cni/results/n-c-eth0"),
              std::string::npos)
        << d.status();
  }
}

TEST(Cache, EncodeLeavesOutEmptyOptionalKeys) {
  CacheFile f;
  f.set_container_id("c1");
  f.set_if_name("eth0");
  f.set_network_name("n");
  f.set_config("{}");
  EXPECT_EQ(
      EncodeCacheFile(f),
      R"({"kind":"cniCacheV1","containerId":"c1","config":"e30=","ifName":"eth0","networkName":"n"})");
  f.set_netns("/var/run/netns/p");
  auto round = DecodeCacheFile(EncodeCacheFile(f), "x");
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->file.netns(), "/var/run/netns/p");
  EXPECT_EQ(EncodeCacheFile(round->file), EncodeCacheFile(f));
}

TEST(Cache, EmptyCapabilityArgsReadAsNone) {
  // A file with "capabilityArgs":{} (as another tool may write it) decodes
  // to the same fields as its encoding, which leaves the key out.
  auto decoded = DecodeCacheFile(
      R"({"kind":"cniCacheV1","containerId":"c1","config":"e30=",)"
      R"("ifName":"eth0","networkName":"n","capabilityArgs":{},"result":{}})",
      "x");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_FALSE(decoded->file.has_capability_args());
  EXPECT_TRUE(decoded->file.has_result());
  auto again = DecodeCacheFile(EncodeCacheFile(decoded->file), "y");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->file.SerializeAsString(), decoded->file.SerializeAsString());
}

TEST(Cache, PathRejectsTraversal) {
  EXPECT_EQ(*CacheFilePath("/var/lib/cni", "net", "abc", "eth0"),
            "/var/lib/cni/results/net-abc-eth0");
  EXPECT_FALSE(CacheFilePath("/var/lib/cni", "", "abc", "eth0").ok());
  EXPECT_FALSE(CacheFilePath("/var/lib/cni", "net", "", "eth0").ok());
  EXPECT_FALSE(CacheFilePath("/var/lib/cni", "net", "abc", "").ok());
  EXPECT_FALSE(CacheFilePath("/var/lib/cni", "../x", "abc", "eth0").ok());
  EXPECT_FALSE(CacheFilePath("/var/lib/cni", "n", "../../etc", "eth0").ok());
  EXPECT_FALSE(CacheFilePath("/var/lib/cni", "n", "abc", "a/b").ok());
  EXPECT_FALSE(CacheFilePath("", "n", "abc", "eth0").ok());
}

}  // namespace
}  // namespace ocicni::types
