// Helpers for //netns kernel tests: the root check and a pod namespace under
// $TEST_TMPDIR that is deleted when the test ends.
//
//   TEST(Foo, Bar) {
//     OCICNI_SKIP_UNLESS_ROOT();
//     ocicni::testutil::ScopedPodNamespace pod("pod");
//     ASSERT_TRUE(pod.status().ok()) << pod.status();
//     ... pod.ns() ...
//   }
#ifndef OCICNI_NETNS_TEST_UTIL_H_
#define OCICNI_NETNS_TEST_UTIL_H_

#include <unistd.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/netns.h"

// OCICNI_SKIP_UNLESS_ROOT skips the current test, saying why, when the
// process is not root. Kernel tests must run (not skip) as root: Bazel's
// linux-sandbox gives tests tagged "block-network" a private network and
// mount namespace to do so safely.
#define OCICNI_SKIP_UNLESS_ROOT()                                           \
  do {                                                                      \
    if (::geteuid() != 0) {                                                 \
      GTEST_SKIP() << "needs root (namespaces, mounts, netlink writes); "   \
                      "run as root, e.g. under Bazel's linux-sandbox with " \
                      "tags = [\"block-network\"]";                         \
    }                                                                       \
  } while (false)

// OCICNI_ASSERT_OK asserts that `expr` (an absl::Status) is OK, printing it
// otherwise.
#define OCICNI_ASSERT_OK(expr)                                        \
  do {                                                                \
    const ::absl::Status ocicni_assert_status_ = (expr);              \
    ASSERT_TRUE(ocicni_assert_status_.ok()) << ocicni_assert_status_; \
  } while (false)

namespace ocicni::testutil {

// GetStatus returns `status` itself, or the status of a StatusOr.
inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// StatusIs matches an absl::Status (or the status of an absl::StatusOr) with
// code `code` whose message matches `message` (a string or matcher).
MATCHER_P2(
    StatusIs, code, message,
    absl::StrCat("has code ", absl::StatusCodeToString(code),
                 " and a message that ",
                 ::testing::DescribeMatcher<const std::string&>(
                     ::testing::SafeMatcherCast<const std::string&>(message),
                     negation))) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code &&
         ::testing::Matches(::testing::SafeMatcherCast<const std::string&>(
             message))(std::string(status.message()));
}

// RunWithoutCapabilities runs `fn` on a new thread whose effective
// capability set lacks `caps` (CAP_* numbers). Capabilities are per thread,
// so the caller keeps its own.
void RunWithoutCapabilities(std::initializer_list<int> caps,
                            absl::FunctionRef<void()> fn);

// TestTmpDir returns $TEST_TMPDIR (or /tmp outside Bazel).
std::string TestTmpDir();

// ScopedPodNamespace creates a network namespace at $TEST_TMPDIR/NAME and
// deletes it (checking the delete) on destruction.
class ScopedPodNamespace {
 public:
  explicit ScopedPodNamespace(absl::string_view name);
  ~ScopedPodNamespace();
  ScopedPodNamespace(const ScopedPodNamespace&) = delete;
  ScopedPodNamespace& operator=(const ScopedPodNamespace&) = delete;

  const absl::Status& status() const { return status_; }
  const std::string& path() const { return path_; }
  // ns is the handle; only valid when status() is OK.
  const netns::NetNS& ns() const { return *ns_; }

 private:
  std::string path_;
  absl::Status status_;
  std::optional<netns::NetNS> ns_;
};

// PodNamespaceTest is a fixture for kernel tests that work in a pod
// namespace of their own: SetUp skips unless root and creates pod();
// TearDown checks that the test thread is back in the namespace it started
// in (work inside a namespace belongs on other threads).
class PodNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const netns::NetNS& pod() const { return pod_->ns(); }
  // The namespace the test thread started in.
  const netns::NetNS& self() const { return *self_; }
  // DeletePod deletes pod() (unmounts and removes its file) before the
  // test ends; pod() is invalid afterwards.
  void DeletePod() { pod_.reset(); }

 private:
  std::optional<netns::NetNS> self_;
  std::unique_ptr<ScopedPodNamespace> pod_;
};

}  // namespace ocicni::testutil

#endif  // OCICNI_NETNS_TEST_UTIL_H_
