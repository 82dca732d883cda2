// Kernel tests for RunIn: fn runs inside the namespace, the caller never
// moves, and results and errors come back unchanged. Root only.
#include "netns/run_in.h"

#include <linux/capability.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/netns.h"
#include "netns/test_util.h"

namespace ocicni::netns {
namespace {

using ::ocicni::testutil::ScopedPodNamespace;
using ::ocicni::testutil::StatusIs;
using ::testing::HasSubstr;

// InsideOf reports whether the calling thread is in namespace `ns`.
bool InsideOf(const NetNS& ns) {
  absl::StatusOr<NetNS> current = NetNS::Current();
  if (!current.ok()) {
    return false;
  }
  absl::StatusOr<bool> same = SameNamespace(*current, ns);
  return same.ok() && *same;
}

class RunInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OCICNI_SKIP_UNLESS_ROOT();
    pod_ = std::make_unique<ScopedPodNamespace>("pod");
    ASSERT_TRUE(pod_->status().ok()) << pod_->status();
    absl::StatusOr<NetNS> self = NetNS::Current();
    ASSERT_TRUE(self.ok()) << self.status();
    self_.emplace(*std::move(self));
  }

  void TearDown() override {
    if (self_.has_value()) {
      EXPECT_TRUE(InsideOf(*self_)) << "the test thread changed namespace";
    }
    pod_.reset();
  }

  const NetNS& pod() const { return pod_->ns(); }

  std::unique_ptr<ScopedPodNamespace> pod_;
  std::optional<NetNS> self_;
};

TEST_F(RunInTest, RunsInsideAndLeavesTheCallerAlone) {
  absl::StatusOr<bool> inside = RunIn(pod(), [&] { return InsideOf(pod()); });
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_TRUE(*inside);
  EXPECT_FALSE(InsideOf(pod()));
  EXPECT_TRUE(InsideOf(*self_));
}

TEST_F(RunInTest, VoidFunction) {
  bool ran = false;
  absl::Status status = RunIn(pod(), [&] { ran = true; });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(ran);
}

TEST_F(RunInTest, StatusIsPassedThrough) {
  absl::Status status =
      RunIn(pod(), [] { return absl::UnavailableError("from inside"); });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable, "from inside"));
  EXPECT_TRUE(RunIn(pod(), [] { return absl::OkStatus(); }).ok());
}

TEST_F(RunInTest, StatusOrIsPassedThrough) {
  absl::StatusOr<std::string> value =
      RunIn(pod(), []() -> absl::StatusOr<std::string> { return "x"; });
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "x");
  absl::StatusOr<std::string> error =
      RunIn(pod(), []() -> absl::StatusOr<std::string> {
        return absl::NotFoundError("nope");
      });
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kNotFound, "nope"));
}

TEST_F(RunInTest, MoveOnlyValues) {
  absl::StatusOr<std::unique_ptr<int>> value =
      RunIn(pod(), [] { return std::make_unique<int>(7); });
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(**value, 7);
}

TEST_F(RunInTest, ConcurrentCallersEachGetTheirNamespace) {
  ScopedPodNamespace other("other");
  ASSERT_TRUE(other.status().ok()) << other.status();
  std::vector<std::thread> callers;
  std::vector<int> ok(16, 0);
  for (int i = 0; i < 16; ++i) {
    callers.emplace_back([&, i] {
      const NetNS& target = i % 2 == 0 ? pod() : other.ns();
      for (int j = 0; j < 20; ++j) {
        absl::StatusOr<bool> inside =
            RunIn(target, [&] { return InsideOf(target); });
        if (!inside.ok() || !*inside || !InsideOf(*self_)) {
          return;
        }
      }
      ok[i] = 1;
    });
  }
  for (std::thread& t : callers) {
    t.join();
  }
  EXPECT_THAT(ok, ::testing::Each(1));
}

TEST_F(RunInTest, NestedRunIn) {
  ScopedPodNamespace other("other");
  ASSERT_TRUE(other.status().ok()) << other.status();
  absl::StatusOr<bool> result = RunIn(pod(), [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<bool> inner =
        RunIn(other.ns(), [&] { return InsideOf(other.ns()); });
    if (!inner.ok()) {
      return inner;
    }
    return *inner && InsideOf(pod());
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(*result);
}

TEST_F(RunInTest, WithoutCapSysAdminFnDoesNotRun) {
  bool ran = false;
  testutil::RunWithoutCapabilities({CAP_SYS_ADMIN}, [&] {
    absl::Status status = RunIn(pod(), [&] { ran = true; });
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied,
                                 HasSubstr(pod().path())));
  });
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace ocicni::netns
