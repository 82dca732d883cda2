// Config loading costs: a cold load of N conflist files, a reload after one
// of them changed, and Current() for readers (alone and contended).
//
//   bazel run -c opt //bench:config_bench
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "config/config_store.h"
#include "config/loader.h"

namespace ocicni::config {
namespace {

// A typical conflist: bridge with host-local IPAM, then portmap.
std::string TypicalConfList(int i, int version) {
  return absl::StrCat(
      R"({"cniVersion":"1.0.0","name":"net-)", i, R"(","plugins":[)",
      R"({"type":"bridge","bridge":"cni)", i, R"(","isGateway":true,)",
      R"("ipMasq":true,"hairpinMode":true,"ipam":{"type":"host-local",)",
      R"("routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"10.)", i % 250,
      R"(.0.0/16","gateway":"10.)", i % 250, R"(.0.1"}]]}},)",
      R"({"type":"portmap","capabilities":{"portMappings":true},"v":)", version,
      "}]}");
}

void WriteFile(const std::string& path, const std::string& contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, contents.data(), contents.size()) !=
                    static_cast<ssize_t>(contents.size())) {
    std::perror(path.c_str());
    std::abort();
  }
  close(fd);
}

// A conf dir with `n` conflist files, removed at exit.
class ConfDir {
 public:
  explicit ConfDir(int n) {
    const char* tmp = getenv("TEST_TMPDIR");
    path_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/config_bench.XXXXXX");
    if (mkdtemp(path_.data()) == nullptr) std::abort();
    for (int i = 0; i < n; ++i) WriteFile(File(i), TypicalConfList(i, 0));
  }
  ~ConfDir() {
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, struct FTW*) {
          return remove(p);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }
  std::string File(int i) const {
    char name[32];
    std::snprintf(name, sizeof(name), "/%05d-net.conflist", i);
    return path_ + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void BM_LoadDirs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  ConfDir dir(n);
  for (auto _ : state) {
    std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir.path()}, {});
    if (snapshot->networks().size() != static_cast<size_t>(n)) {
      state.SkipWithError("not every network loaded");
    }
    benchmark::DoNotOptimize(snapshot);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_LoadDirs)
    ->Arg(1)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond);

void BM_ReloadAfterOneChange(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  ConfDir dir(n);
  ConfigStoreOptions options;
  options.conf_dirs = {dir.path()};
  options.watch = false;
  ConfigStore store(options);
  int version = 0;
  for (auto _ : state) {
    state.PauseTiming();
    WriteFile(dir.File(n / 2), TypicalConfList(n / 2, ++version));
    state.ResumeTiming();
    benchmark::DoNotOptimize(store.Reload());
  }
}
BENCHMARK(BM_ReloadAfterOneChange)->Arg(1000)->Unit(benchmark::kMillisecond);

// Readers: what a pod operation pays to take the current snapshot.
void BM_Current(benchmark::State& state) {
  static ConfDir* dir = nullptr;
  static ConfigStore* store = nullptr;
  if (state.thread_index() == 0) {
    dir = new ConfDir(10);
    ConfigStoreOptions options;
    options.conf_dirs = {dir->path()};
    options.watch = false;
    store = new ConfigStore(options);
  }
  for (auto _ : state) benchmark::DoNotOptimize(store->Current());
  if (state.thread_index() == 0) {
    delete store;
    delete dir;
  }
}
BENCHMARK(BM_Current)->Threads(1)->Threads(2);

}  // namespace
}  // namespace ocicni::config
