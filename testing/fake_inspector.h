// FakeInspector: an in-memory netns::Inspector for tests.
//
// Tests fill it with the links, addresses and routes a pod namespace would
// have, then hand it to code under test in place of the libnl inspector. The
// contract test (netns/inspector_contract_test.cc) runs the same assertions
// against this fake and the kernel, so the two agree on conventions
// (ordering, lo's fields, route and address formats).
//
//   ocicni::testutil::FakeInspector fake;
//   netns::Link eth0;
//   eth0.name = "eth0";
//   eth0.index = 2;
//   eth0.up = true;
//   fake.AddLink(eth0);
//   netns::Address ip;
//   ip.ifindex = 2;
//   ip.ifname = "eth0";
//   ip.family = AF_INET;
//   ip.address = "10.88.0.5";
//   ip.prefix_len = 16;
//   fake.AddAddress(ip);
//   fake.FailWith(absl::UnavailableError("netlink down"));  // optional
#ifndef OCICNI_TESTING_FAKE_INSPECTOR_H_
#define OCICNI_TESTING_FAKE_INSPECTOR_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "netns/inspector.h"

namespace ocicni::testutil {

// FakeInspector returns what the test put in. Links() is ordered by index
// and Addresses() by ifindex (stable), like the real one; Routes() keeps
// insertion order. Thread-safe.
class FakeInspector final : public netns::Inspector {
 public:
  FakeInspector() = default;

  void AddLink(netns::Link link);
  void AddAddress(netns::Address address);
  void AddRoute(netns::Route route);
  // FailWith makes every query return `status` (OK clears it).
  void FailWith(absl::Status status);

  absl::StatusOr<std::vector<netns::Link>> Links() override;
  absl::StatusOr<std::vector<netns::Address>> Addresses() override;
  absl::StatusOr<std::vector<netns::Route>> Routes() override;
  absl::StatusOr<netns::Link> LinkByName(absl::string_view name) override;

 private:
  absl::Mutex mu_;
  std::vector<netns::Link> links_ ABSL_GUARDED_BY(mu_);
  std::vector<netns::Address> addresses_ ABSL_GUARDED_BY(mu_);
  std::vector<netns::Route> routes_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FAKE_INSPECTOR_H_
