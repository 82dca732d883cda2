#include "exec/cni_args.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ocicni::exec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(BuildCniArgsTest, OrderAndExtras) {
  PodArgs pod{"default", "web-0", "0123abcd", "uid-1"};
  auto args = BuildCniArgs(pod, {{"IP", "10.0.0.5"}, {"MAC", "aa:bb"}});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(*args,
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
            "K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=uid-1;"
            "IP=10.0.0.5;MAC=aa:bb");
}

TEST(BuildCniArgsTest, EmptyPodFieldsStay) {
  auto args = BuildCniArgs(PodArgs{}, {});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args,
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=;K8S_POD_NAME=;"
            "K8S_POD_INFRA_CONTAINER_ID=;K8S_POD_UID=");
}

TEST(BuildCniArgsTest, ValueMayContainEquals) {
  auto args = BuildCniArgs(PodArgs{}, {{"K", "a=b"}});
  ASSERT_TRUE(args.ok());
  EXPECT_THAT(*args, HasSubstr(";K=a=b"));
}

TEST(BuildCniArgsTest, RejectsWhatCannotBeEncoded) {
  PodArgs pod{"ns;x", "n", "i", "u"};
  auto bad_pod = BuildCniArgs(pod, {});
  EXPECT_EQ(bad_pod.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_pod.status().message(), HasSubstr("K8S_POD_NAMESPACE"));
  EXPECT_EQ(BuildCniArgs(PodArgs{}, {{"K", "a;b"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildCniArgs(PodArgs{}, {{"K=", "v"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildCniArgs(PodArgs{}, {{"K;", "v"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildCniArgs(PodArgs{}, {{"", "v"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      BuildCniArgs(PodArgs{}, {{"K", std::string("a\0b", 3)}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ParseCniArgsTest, SplitsOnFirstEquals) {
  auto pairs = ParseCniArgs("A=1;B=x=y;;C=");
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  EXPECT_THAT(*pairs,
              ElementsAre(Pair("A", "1"), Pair("B", "x=y"), Pair("C", "")));
  EXPECT_EQ(ParseCniArgs("A").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCniArgs("=v").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseCniArgs("")->empty());
}

}  // namespace
}  // namespace ocicni::exec
