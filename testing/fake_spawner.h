// FakeSpawner: an exec::Spawner that runs no process. Each Run is recorded
// and answered by a handler the test provides, so layers above the spawner
// (env building, output decoding) are tested without real plugins.
//
//   auto spawner = std::make_unique<testutil::FakeSpawner>(
//       [](const exec::SpawnRequest&) {
//         return testutil::FakeSpawner::Exited(0, R"({"cniVersion":"1.1.0"})");
//       });
//   testutil::FakeSpawner* fake = spawner.get();
//   exec::PluginInvoker invoker(std::move(spawner), {});
//   ... invoker.Invoke(request) ...;
//   EXPECT_EQ(fake->requests()[0].path, "/plugins/bridge");
#ifndef OCICNI_TESTING_FAKE_SPAWNER_H_
#define OCICNI_TESTING_FAKE_SPAWNER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exec/spawner.h"

namespace ocicni::testutil {

class FakeSpawner final : public exec::Spawner {
 public:
  using Handler = std::function<absl::StatusOr<exec::ProcessOutput>(
      const exec::SpawnRequest&)>;

  explicit FakeSpawner(Handler handler) : handler_(std::move(handler)) {}

  // Exited is the output of a child that exited with `code`.
  static exec::ProcessOutput Exited(int code, std::string out = "",
                                    std::string err = "") {
    exec::ProcessOutput output;
    output.exit_code = code;
    output.stdout_data = std::move(out);
    output.stderr_data = std::move(err);
    return output;
  }
  // Signaled is the output of a child killed by `signal`.
  static exec::ProcessOutput Signaled(int signal) {
    exec::ProcessOutput output;
    output.term_signal = signal;
    return output;
  }

  // Run records `request` and returns the handler's answer. Thread-safe.
  absl::StatusOr<exec::ProcessOutput> Run(
      const exec::SpawnRequest& request) override {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
    }
    return handler_(request);
  }

  std::vector<exec::SpawnRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  const Handler handler_;
  mutable absl::Mutex mu_;
  std::vector<exec::SpawnRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FAKE_SPAWNER_H_
