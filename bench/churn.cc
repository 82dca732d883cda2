#include "bench/churn.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/posix.h"
#include "base/status_macros.h"
#include "netns/lifecycle.h"
#include "testing/runfiles.h"

ABSL_FLAG(std::string, impl, "", "Label of the implementation in RESULT.");
ABSL_FLAG(std::string, scenario, "noop",
          "noop: two no-op plugins; real: bridge + host-local.");
ABSL_FLAG(int, n, 2000, "Timed pod cycles (Setup + Remove).");
ABSL_FLAG(int, c, 1, "Concurrent pods (threads).");
ABSL_FLAG(int, warmup, 100, "Untimed cycles before the timed ones.");
ABSL_FLAG(std::string, noop_dir, "",
          "Directory holding the `noop` plugin binary; default: the "
          "project's no-op plugin (//testing:noop_plugin).");
ABSL_FLAG(std::string, real_plugin_dir, "/usr/lib/cni",
          "Directory of the real plugins (bridge, host-local).");
ABSL_FLAG(std::string, cache_dir, "",
          "Result cache dir; default: a fresh temp dir.");

namespace ocicni::bench {
namespace {

// The real scenario's bridge subnet. It lives in the driver's own network
// namespace, so no address on the host can clash with it.
constexpr char kRealSubnet[] = "10.213.0.0/16";
// Namespaces are made (and deleted) by this many threads.
constexpr int kNamespaceThreads = 2;
// How many error messages are printed.
constexpr size_t kMaxReportedErrors = 5;

[[noreturn]] void Die(absl::string_view message) {
  std::fprintf(stderr, "%s: %s\n",
               std::string(absl::ProgramUsageMessage()).c_str(),
               std::string(message).c_str());
  std::exit(2);
}

// SplitMix64 spreads a counter over 64 bits (IDs only need to be distinct
// and look random).
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Pod MakePod(uint64_t seed, int index, std::string netns) {
  Pod pod;
  for (int i = 0; i < 4; ++i) {
    absl::StrAppendFormat(&pod.id, "%016x",
                          SplitMix64(seed + 4 * static_cast<uint64_t>(index) +
                                     static_cast<uint64_t>(i)));
  }
  pod.name = absl::StrCat("churn-", index);
  pod.namespace_ = "bench";
  pod.uid = absl::StrCat(pod.id.substr(0, 8), "-", pod.id.substr(8, 4), "-",
                         pod.id.substr(12, 4), "-", pod.id.substr(16, 4), "-",
                         pod.id.substr(20, 12));
  pod.netns = std::move(netns);
  return pod;
}

absl::Status WriteFile(const std::string& path, absl::string_view data,
                       mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  if (::chmod(path.c_str(), mode) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("chmod ", path));
  }
  return absl::OkStatus();
}

// CopyFile copies in the kernel (sendfile): the harness's own setup must
// not weigh in the drivers' peak RSS, which a copy through a buffer the size
// of the plugin binary did (~0.6 MB in both drivers).
absl::Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::copy_file(from, to, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("copy ", from, " to ", to, ": ", error.message()));
  }
  if (::chmod(to.c_str(), 0755) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("chmod ", to));
  }
  return absl::OkStatus();
}

std::string NoopConflist() {
  // The shape of a usual pod network (a bridge with IPAM, then a port
  // mapper), run by the no-op plugin: about what runtimes send.
  return R"({"cniVersion":"1.0.0","name":"benchnet","plugins":[)"
         R"({"type":"noop","bridge":"cni0","isGateway":true,"ipMasq":true,)"
         R"("hairpinMode":true,"ipam":{"type":"host-local","ranges":)"
         R"([[{"subnet":"10.88.0.0/16","gateway":"10.88.0.1"}]],)"
         R"("routes":[{"dst":"0.0.0.0/0"}]}},)"
         R"({"type":"noop","capabilities":{"portMappings":true},)"
         R"("snat":true}]})";
}

std::string RealConflist(absl::string_view bridge, absl::string_view data_dir) {
  return absl::StrCat(
      R"({"cniVersion":"1.0.0","name":"benchnet","plugins":[)",
      R"({"type":"bridge","bridge":")", bridge,
      R"(","isGateway":true,"ipMasq":false,"ipam":{"type":"host-local",)",
      R"("ranges":[[{"subnet":")", kRealSubnet, R"("}]],"dataDir":")", data_dir,
      R"("}}]})");
}

// Usage is the CPU time (user + system) used so far by this process's
// threads (`self`), by its reaped children (`plugins`: the plugin processes,
// from the clone that starts each one), and by the whole machine, busy and
// idle (/proc/stat, every CPU; busy includes interrupts and kernel threads
// such as the block layer's workers), plus this process's context switches
// (voluntary + involuntary). Of `self`, `self_user_s` is the time in user
// space: the rest is the kernel's work for the driver's threads (spawning,
// files, netlink, I/O).
struct Usage {
  double self_s = 0;
  double self_user_s = 0;
  double plugins_s = 0;
  double busy_s = 0;
  double idle_s = 0;
  int64_t switches = 0;
};

double Seconds(const struct timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

Usage GetUsage() {
  Usage usage;
  struct rusage self, children;
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  usage.self_user_s = Seconds(self.ru_utime);
  usage.self_s = usage.self_user_s + Seconds(self.ru_stime);
  usage.plugins_s = Seconds(children.ru_utime) + Seconds(children.ru_stime);
  usage.switches = static_cast<int64_t>(self.ru_nvcsw + self.ru_nivcsw);
  // "cpu  user nice system idle iowait irq softirq steal ..." in clock ticks.
  std::ifstream stat("/proc/stat");
  std::string label;
  double t[8] = {};
  stat >> label;
  for (double& v : t) stat >> v;
  if (stat && label == "cpu") {
    const double tick = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    usage.busy_s = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) * tick;
    usage.idle_s = (t[3] + t[4]) * tick;
  }
  return usage;
}

// DiskStatPath is the kernel's I/O counters of the block device that holds
// `dir` (or, when `dir` does not exist yet, its parent): /sys/dev/block/
// MAJOR:MINOR/stat. Empty when there is no such device (tmpfs, overlayfs).
std::string DiskStatPath(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 &&
      ::stat(std::filesystem::path(dir).parent_path().c_str(), &st) != 0) {
    return "";
  }
  std::string path = absl::StrCat("/sys/dev/block/", major(st.st_dev), ":",
                                  minor(st.st_dev), "/stat");
  return ::access(path.c_str(), R_OK) == 0 ? path : "";
}

// DiskIo is the write and flush requests completed so far by a block
// device, from its stat file (Documentation/block/stat.rst: field 5 is
// write I/Os, field 16 flush I/Os). The kernel counts each flush of the
// device's cache also as a write (an empty one that carries the flush):
// `writes` leaves those out. Both are device-wide, whoever issued them.
struct DiskIo {
  bool known = false;
  int64_t writes = 0;
  int64_t flushes = 0;
};

DiskIo GetDiskIo(const std::string& stat_path) {
  DiskIo io;
  if (stat_path.empty()) return io;
  std::ifstream stat(stat_path);
  int64_t field[17] = {};
  for (int64_t& v : field) stat >> v;
  if (!stat) return io;  // a kernel without flush counters (before 5.5)
  io.known = true;
  io.flushes = field[15];
  io.writes = field[4] - field[15];
  return io;
}

// HelperCpu is the CPU time (seconds) used so far by each of this
// process's threads named "ocicni-*" (the library's helper threads: the
// result cache's worker, the namespace workers that bring lo up), summed
// per name; from /proc/self/task/*/schedstat (time on a CPU, in ns). A
// helper that exited is no longer counted.
std::map<std::string, double> HelperCpu() {
  std::map<std::string, double> cpu;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task", error)) {
    std::ifstream comm_file(task.path() / "comm");
    std::string comm;
    if (!std::getline(comm_file, comm) || !absl::StartsWith(comm, "ocicni-")) {
      continue;
    }
    std::ifstream schedstat(task.path() / "schedstat");
    double ns = 0;
    if (schedstat >> ns) cpu[comm] += ns / 1e9;
  }
  return cpu;
}

int64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      int64_t kb = 0;
      std::string digits;
      for (char ch : line) {
        if (ch >= '0' && ch <= '9') digits.push_back(ch);
      }
      if (absl::SimpleAtoi(digits, &kb)) return kb;
    }
  }
  return -1;
}

// RunOn runs fn(i) for i in [0, count) on `threads` threads.
template <typename Fn>
void RunOn(int threads, int count, Fn fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(i);
    });
  }
  for (std::thread& th : pool) th.join();
}

}  // namespace

ChurnFlags ParseChurnFlags(int argc, char** argv,
                           absl::string_view default_impl) {
  absl::SetProgramUsageMessage(
      "pod churn driver: -impl NAME -scenario noop|real -n N -c C -warmup W "
      "[-noop-dir DIR] [-real-plugin-dir DIR] [-cache-dir DIR]");
  // The flags are documented with dashes (-noop-dir); Abseil's names have
  // underscores. Accept both.
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    size_t start = arg.find_first_not_of('-');
    size_t end = std::min(arg.find('='), arg.size());
    if (start == std::string::npos || start >= end) continue;
    std::replace(arg.begin() + static_cast<std::ptrdiff_t>(start),
                 arg.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
  }
  std::vector<char*> ptrs;
  for (std::string& arg : args) ptrs.push_back(arg.data());
  ptrs.push_back(nullptr);
  std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(args.size()), ptrs.data());
  if (rest.size() > 1) Die(absl::StrCat("unexpected argument: ", rest[1]));

  ChurnFlags flags;
  flags.impl = absl::GetFlag(FLAGS_impl);
  if (flags.impl.empty()) flags.impl = std::string(default_impl);
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (scenario == "noop") {
    flags.scenario = Scenario::kNoop;
  } else if (scenario == "real") {
    flags.scenario = Scenario::kReal;
  } else {
    Die(absl::StrCat("-scenario must be noop or real, not ", scenario));
  }
  flags.n = absl::GetFlag(FLAGS_n);
  flags.c = absl::GetFlag(FLAGS_c);
  flags.warmup = absl::GetFlag(FLAGS_warmup);
  if (flags.n < 1 || flags.c < 1 || flags.warmup < 0) {
    Die("-n and -c must be positive, -warmup not negative");
  }
  flags.noop_dir = absl::GetFlag(FLAGS_noop_dir);
  flags.real_plugin_dir = absl::GetFlag(FLAGS_real_plugin_dir);
  flags.cache_dir = absl::GetFlag(FLAGS_cache_dir);
  return flags;
}

absl::StatusOr<Workspace> Workspace::Create(const ChurnFlags& flags) {
  if (::geteuid() != 0) {
    return absl::PermissionDeniedError(
        "needs root: the driver creates network namespaces");
  }
  // A private mount namespace: the namespace bind mounts never reach the
  // host's mount table and disappear with this process however it ends.
  int clone_flags = CLONE_NEWNS;
  if (flags.scenario == Scenario::kReal) clone_flags |= CLONE_NEWNET;
  if (::unshare(clone_flags) != 0) return ErrnoToStatus(errno, "unshare");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoToStatus(errno, "make / a private mount");
  }

  Workspace ws;
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(
      tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/ocicni-bench.XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return ErrnoToStatus(errno, absl::StrCat("mkdtemp ", templ));
  }
  ws.root_ = templ;
  ws.netns_dir_ = ws.root_ + "/netns";
  ws.conf_dir_ = ws.root_ + "/net.d";
  for (const std::string& dir : {ws.netns_dir_, ws.conf_dir_}) {
    if (::mkdir(dir.c_str(), 0755) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("mkdir ", dir));
    }
  }
  ws.own_cache_dir_ = flags.cache_dir.empty();
  ws.cache_dir_ = ws.own_cache_dir_ ? ws.root_ + "/cache" : flags.cache_dir;
  struct statfs fs;
  if (::statfs(ws.own_cache_dir_ ? ws.root_.c_str() : ws.cache_dir_.c_str(),
               &fs) == 0 &&
      fs.f_type == 0x01021994 /* TMPFS_MAGIC */) {
    std::fprintf(stderr,
                 "note: the cache dir is on tmpfs, where its durable writes "
                 "cost no disk requests (-cache-dir on a disk measures "
                 "them)\n");
  }

  if (flags.scenario == Scenario::kNoop) {
    if (flags.noop_dir.empty()) {
      ws.plugin_dir_ = ws.root_ + "/plugins";
      if (::mkdir(ws.plugin_dir_.c_str(), 0755) != 0) {
        return ErrnoToStatus(errno, absl::StrCat("mkdir ", ws.plugin_dir_));
      }
      OCICNI_RETURN_IF_ERROR(
          CopyFile(testutil::NoopPluginPath(), ws.plugin_dir_ + "/noop"));
    } else {
      ws.plugin_dir_ = flags.noop_dir;
    }
    ws.conflist_ = NoopConflist();
    ws.types_ = {"noop", "noop"};
  } else {
    ws.plugin_dir_ = flags.real_plugin_dir;
    const std::string data_dir = ws.root_ + "/ipam";
    ws.conflist_ =
        RealConflist(absl::StrCat("ocb", ::getpid() % 10000000), data_dir);
    ws.types_ = {"bridge"};
  }
  for (const std::string& type : ws.types_) {
    const std::string path = absl::StrCat(ws.plugin_dir_, "/", type);
    if (::access(path.c_str(), X_OK) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("plugin ", path));
    }
  }
  OCICNI_RETURN_IF_ERROR(
      WriteFile(ws.conf_dir_ + "/10-benchnet.conflist", ws.conflist_, 0644));
  return ws;
}

Workspace::Workspace(Workspace&& other) noexcept
    : root_(std::move(other.root_)),
      netns_dir_(std::move(other.netns_dir_)),
      cache_dir_(std::move(other.cache_dir_)),
      conf_dir_(std::move(other.conf_dir_)),
      plugin_dir_(std::move(other.plugin_dir_)),
      conflist_(std::move(other.conflist_)),
      types_(std::move(other.types_)),
      own_cache_dir_(other.own_cache_dir_) {
  other.root_.clear();
}

Workspace::~Workspace() {
  if (root_.empty()) return;
  std::error_code ignored;
  // Namespaces still mounted (a failed run) are detached first.
  for (const auto& entry :
       std::filesystem::directory_iterator(netns_dir_, ignored)) {
    netns::DeleteAt(entry.path().string()).IgnoreError();
  }
  std::filesystem::remove_all(root_, ignored);
}

std::string K8sCniArgs(const Pod& pod) {
  return absl::StrCat("IgnoreUnknown=1;K8S_POD_NAMESPACE=", pod.namespace_,
                      ";K8S_POD_NAME=", pod.name,
                      ";K8S_POD_INFRA_CONTAINER_ID=", pod.id,
                      ";K8S_POD_UID=", pod.uid);
}

int RunChurn(const ChurnFlags& flags, const Workspace& workspace, Cycle cycle) {
  const int total = flags.warmup + flags.n;
  const uint64_t seed = static_cast<uint64_t>(absl::GetCurrentTimeNanos());

  // One fresh namespace per cycle, made before any clock runs. Their paths
  // are made again where needed rather than kept: kept, they grew the
  // driver's peak RSS by ~100 bytes per cycle (~0.5 MB at 5000 warm-up
  // cycles), which is the harness's, not the library's.
  auto ns_path = [&](int i) {
    return absl::StrCat(workspace.netns_dir(), "/pod-", i);
  };
  std::atomic<int> ns_errors{0};
  std::string first_ns_error;
  absl::Mutex mu;
  RunOn(kNamespaceThreads, total, [&](int i) {
    absl::StatusOr<netns::NetNS> ns = netns::CreateAt(ns_path(i));
    if (!ns.ok()) {
      if (ns_errors.fetch_add(1) == 0) {
        absl::MutexLock lock(&mu);
        first_ns_error = ns.status().ToString();
      }
    }
  });
  if (ns_errors.load() > 0) {
    std::fprintf(stderr, "creating namespaces: %d failed, first: %s\n",
                 ns_errors.load(), first_ns_error.c_str());
    return 1;
  }

  std::atomic<int> errors{0};
  std::vector<std::string> messages;
  auto run_one = [&](int index) -> absl::Duration {
    Pod pod = MakePod(seed, index, ns_path(index));
    const absl::Time start = absl::Now();
    absl::Status status = cycle(pod);
    const absl::Duration took = absl::Now() - start;
    if (!status.ok()) {
      errors.fetch_add(1);
      absl::MutexLock lock(&mu);
      if (messages.size() < kMaxReportedErrors) {
        messages.push_back(status.ToString());
      }
    }
    return took;
  };

  // Warm-up: untimed, on the same number of threads.
  RunOn(flags.c, flags.warmup, [&](int i) { run_one(i); });
  const int warmup_errors = errors.exchange(0);

  // Timed: thread t runs cycles t, t + c, t + 2c, ...
  std::vector<std::vector<double>> latencies(static_cast<size_t>(flags.c));
  std::vector<absl::Time> finished(static_cast<size_t>(flags.c));
  absl::Notification go;
  std::vector<std::thread> workers;
  for (int t = 0; t < flags.c; ++t) {
    workers.emplace_back([&, t] {
      std::vector<double>& mine = latencies[static_cast<size_t>(t)];
      mine.reserve(static_cast<size_t>(flags.n / flags.c + 1));
      go.WaitForNotification();
      for (int i = t; i < flags.n; i += flags.c) {
        mine.push_back(absl::ToDoubleMicroseconds(run_one(flags.warmup + i)));
      }
      finished[static_cast<size_t>(t)] = absl::Now();
    });
  }
  const std::string disk_stat = DiskStatPath(workspace.cache_dir());
  const DiskIo disk_start = GetDiskIo(disk_stat);
  const Usage usage_start = GetUsage();
  const std::map<std::string, double> helpers_start = HelperCpu();
  const absl::Time start = absl::Now();
  go.Notify();
  for (std::thread& th : workers) th.join();
  const absl::Time end = *std::max_element(finished.begin(), finished.end());
  const Usage usage_end = GetUsage();
  const std::map<std::string, double> helpers_end = HelperCpu();
  const DiskIo disk_end = GetDiskIo(disk_stat);
  // The peak up to here: the harness's threads that delete the namespaces
  // next would add their stacks (~30 kB) to it.
  const int64_t peak_rss_kb = PeakRssKb();

  RunOn(kNamespaceThreads, total,
        [&](int i) { netns::DeleteAt(ns_path(i)).IgnoreError(); });

  std::vector<double> all;
  all.reserve(static_cast<size_t>(flags.n));
  for (const std::vector<double>& l : latencies) {
    all.insert(all.end(), l.begin(), l.end());
  }
  std::sort(all.begin(), all.end());
  double sum = 0;
  for (double v : all) sum += v;
  auto percentile = [&](double p) {
    size_t k = static_cast<size_t>(p * static_cast<double>(all.size() - 1));
    return all[k];
  };
  const double wall_s = absl::ToDoubleSeconds(end - start);
  const int error_count = errors.load();
  for (const std::string& m : messages) {
    std::fprintf(stderr, "error: %s\n", m.c_str());
  }
  if (warmup_errors > 0) {
    std::fprintf(stderr, "%d warm-up cycles failed\n", warmup_errors);
  }
  std::printf(
      "RESULT impl=%s scenario=%s conc=%d ops=%d wall_s=%.3f ops_s=%.1f "
      "mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f rss_kb=%lld "
      "errors=%d\n",
      flags.impl.c_str(), flags.scenario == Scenario::kNoop ? "noop" : "real",
      flags.c, flags.n, wall_s, static_cast<double>(flags.n) / wall_s,
      sum / static_cast<double>(all.size()), percentile(0.50), percentile(0.99),
      all.back(), static_cast<long long>(peak_rss_kb), error_count);
  std::fflush(stdout);
  // Where the machine's CPU time went per cycle: the driver's own threads,
  // the plugin processes, everything else that ran (interrupts, kernel
  // threads such as the block layer's, other processes), and idle. Steadier
  // than wall time on a busy machine, and it shows what an implementation
  // adds beyond the plugins it runs.
  const double ops = static_cast<double>(flags.n);
  auto per_op = [&](double start_s, double end_s) {
    return (end_s - start_s) * 1e6 / ops;
  };
  const double self_us = per_op(usage_start.self_s, usage_end.self_s);
  const double plugins_us = per_op(usage_start.plugins_s, usage_end.plugins_s);
  const double busy_us = per_op(usage_start.busy_s, usage_end.busy_s);
  // Of `self`, the library's helper threads by name ("ocicni-cache" ->
  // ocicni_cache_us_per_op=...); the callers' threads have the rest.
  std::string helpers;
  for (const auto& [name, end_s] : helpers_end) {
    auto found = helpers_start.find(name);
    const double start_s = found == helpers_start.end() ? 0 : found->second;
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    absl::StrAppendFormat(&helpers, " %s_us_per_op=%.1f", key,
                          per_op(start_s, end_s));
  }
  // The disk requests of the device that holds the cache (the durable
  // writes, and the kernel's writeback for them), per cycle.
  if (disk_start.known && disk_end.known) {
    absl::StrAppendFormat(
        &helpers, " disk_writes_per_op=%.2f disk_flushes_per_op=%.2f",
        static_cast<double>(disk_end.writes - disk_start.writes) / ops,
        static_cast<double>(disk_end.flushes - disk_start.flushes) / ops);
  }
  std::fprintf(
      stderr,
      "CPU impl=%s conc=%d self_us_per_op=%.1f self_user_us_per_op=%.1f "
      "switches_per_op=%.1f plugins_us_per_op=%.1f other_us_per_op=%.1f "
      "idle_us_per_op=%.1f%s\n",
      flags.impl.c_str(), flags.c, self_us,
      per_op(usage_start.self_user_s, usage_end.self_user_s),
      static_cast<double>(usage_end.switches - usage_start.switches) / ops,
      plugins_us, std::max(0.0, busy_us - self_us - plugins_us),
      per_op(usage_start.idle_s, usage_end.idle_s), helpers.c_str());
  return error_count == 0 && warmup_errors == 0 ? 0 : 1;
}

}  // namespace ocicni::bench
