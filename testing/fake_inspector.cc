#include "testing/fake_inspector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ocicni::testutil {

void FakeInspector::AddLink(netns::Link link) {
  absl::MutexLock lock(&mu_);
  links_.push_back(std::move(link));
  std::stable_sort(links_.begin(), links_.end(),
                   [](const netns::Link& a, const netns::Link& b) {
                     return a.index < b.index;
                   });
}

void FakeInspector::AddAddress(netns::Address address) {
  absl::MutexLock lock(&mu_);
  addresses_.push_back(std::move(address));
  std::stable_sort(addresses_.begin(), addresses_.end(),
                   [](const netns::Address& a, const netns::Address& b) {
                     return a.ifindex < b.ifindex;
                   });
}

void FakeInspector::AddRoute(netns::Route route) {
  absl::MutexLock lock(&mu_);
  routes_.push_back(std::move(route));
}

void FakeInspector::FailWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  failure_ = std::move(status);
}

absl::StatusOr<std::vector<netns::Link>> FakeInspector::Links() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) {
    return failure_;
  }
  return links_;
}

absl::StatusOr<std::vector<netns::Address>> FakeInspector::Addresses() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) {
    return failure_;
  }
  return addresses_;
}

absl::StatusOr<std::vector<netns::Route>> FakeInspector::Routes() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) {
    return failure_;
  }
  return routes_;
}

absl::StatusOr<netns::Link> FakeInspector::LinkByName(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) {
    return failure_;
  }
  for (const netns::Link& link : links_) {
    if (link.name == name) {
      return link;
    }
  }
  return absl::NotFoundError(absl::StrCat("link ", name, ": no such link"));
}

}  // namespace ocicni::testutil
