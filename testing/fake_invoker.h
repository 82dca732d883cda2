// FakeInvoker: an exec::Invoker for tests of the layers above exec/ (chain
// execution, caching, GC): every Invoke is recorded and answered by a handler,
// so results and failures (CNI errors, timeouts) can be injected per call.
//
//   testutil::FakeInvoker invoker([](const exec::InvokeRequest& r)
//                                     -> absl::StatusOr<std::string> {
//     if (r.command == exec::Command::kAdd) return R"({"cniVersion":"1.1.0"})";
//     return std::string();
//   });
//   ... code under test calls invoker.Invoke(...) ...
//   EXPECT_EQ(invoker.requests().size(), 2);
#ifndef OCICNI_TESTING_FAKE_INVOKER_H_
#define OCICNI_TESTING_FAKE_INVOKER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exec/invoker.h"

namespace ocicni::testutil {

class FakeInvoker final : public exec::Invoker {
 public:
  using Handler =
      std::function<absl::StatusOr<std::string>(const exec::InvokeRequest&)>;

  explicit FakeInvoker(Handler handler) : handler_(std::move(handler)) {}

  // Invoke records `request` and returns the handler's answer. Thread-safe.
  absl::StatusOr<std::string> Invoke(
      const exec::InvokeRequest& request) override {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
    }
    return handler_(request);
  }

  std::vector<exec::InvokeRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  const Handler handler_;
  mutable absl::Mutex mu_;
  std::vector<exec::InvokeRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FAKE_INVOKER_H_
