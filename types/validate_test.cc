#include "types/validate.h"

#include <string>

#include "gtest/gtest.h"

namespace ocicni::types {
namespace {

TEST(Validate, ContainerIdAndNetworkName) {
  const std::string long_id(64, 'f');
  for (const char* ok : {"a", "0", "abc-DEF_1.2", long_id.c_str()}) {
    EXPECT_TRUE(ValidateContainerId(ok).ok()) << ok;
    EXPECT_TRUE(ValidateNetworkName(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "-a", ".a", "_a", "a/b", "a b", "a;b", "../x", "a\nb", "é"}) {
    absl::Status s = ValidateContainerId(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("container ID"), std::string::npos);
    EXPECT_FALSE(ValidateNetworkName(bad).ok()) << bad;
  }
  EXPECT_NE(ValidateContainerId("a\nb").message().find("\\x0a"),
            std::string::npos);
}

TEST(Validate, InterfaceName) {
  for (const char* ok : {"eth0", "e", "net1", "123456789012345", "a.b", "-x"}) {
    EXPECT_TRUE(ValidateInterfaceName(ok).ok()) << ok;
  }
  for (const char* bad : {"", ".", "..", "1234567890123456", "a/b", "a:b",
                          "a b", "a\tb", "a\nb"}) {
    absl::Status s = ValidateInterfaceName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("interface name"), std::string::npos);
  }
  EXPECT_FALSE(ValidateInterfaceName(std::string("a\0b", 3)).ok());
}

TEST(Validate, PluginType) {
  for (const char* ok : {"bridge", "host-local", "my.plugin", "a..b"}) {
    EXPECT_TRUE(ValidatePluginType(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", ".", "..", "../../sbin/reboot", "a/b", "a\\b", "/bin/sh"}) {
    absl::Status s = ValidatePluginType(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("plugin type"), std::string::npos);
  }
  EXPECT_FALSE(ValidatePluginType(std::string("br\0idge", 7)).ok());
}

}  // namespace
}  // namespace ocicni::types
