// floor: the physical floor of a pod Setup + Remove cycle. For each cycle it
// runs the plugin processes the library would run, with the same stdin
// bytes and the same environment, and nothing else: posix_spawn with three
// pipes, write stdin, read stdout and stderr to EOF, waitpid. In the noop
// scenario that is 4 spawns per cycle (ADD of both plugins, DEL of both in
// reverse); in the real scenario 2 (bridge ADD, then DEL with the ADD's
// output spliced in as prevResult; bridge itself runs host-local).
// Same flags and RESULT line as pod_churn (bench/churn.h).
//
// With -spawner, the same processes are run through the library's spawner
// (exec::PosixSpawner: its own clone, process group, signal reset,
// closefrom, pidfd, poll loop, deadline) instead of posix_spawn, which
// tells the spawner's cost apart from the rest of the library's.
//
//   floor -impl floor -scenario noop -n 2000 -c 8 -warmup 100
//   floor -impl floor-spawner -spawner -scenario noop -n 2000 -c 8
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "bench/churn.h"
#include "config/network_config.h"
#include "exec/posix_spawner.h"
#include "exec/spawner.h"
#include "types/json.h"
#include "types/request.h"
#include "types/result.h"

ABSL_FLAG(bool, spawner, false,
          "Run the plugins through exec::PosixSpawner instead of "
          "posix_spawn.");

namespace ocicni::bench {
namespace {

constexpr const char* kCniVariables[] = {
    "CNI_COMMAND=", "CNI_CONTAINERID=", "CNI_NETNS=",
    "CNI_IFNAME=",  "CNI_ARGS=",        "CNI_PATH="};

// SpawnThroughSpawner runs one plugin process through the library's
// spawner, with the same path, stdin and environment.
absl::StatusOr<std::string> SpawnThroughSpawner(const std::string& path,
                                                const std::string& stdin_data,
                                                char* const* envp) {
  static exec::PosixSpawner* const spawner = new exec::PosixSpawner();
  exec::SpawnRequest request;
  request.path = path;
  for (char* const* e = envp; *e != nullptr; ++e) request.env.emplace_back(*e);
  request.stdin_data = stdin_data;
  OCICNI_ASSIGN_OR_RETURN(exec::ProcessOutput out, spawner->Run(request));
  if (out.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(path, " failed: ", out.stdout_data.substr(0, 300)));
  }
  return std::move(out.stdout_data);
}

// One plugin process: the least any runtime must do per call.
absl::StatusOr<std::string> Spawn(const std::string& path,
                                  const std::string& stdin_data,
                                  char* const* envp) {
  static const bool through_spawner = absl::GetFlag(FLAGS_spawner);
  if (through_spawner) return SpawnThroughSpawner(path, stdin_data, envp);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe2");
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return absl::InternalError(absl::StrCat("posix_spawn ", path));
  }
  // A CNI config fits the pipe buffer: no need to interleave with reading.
  (void)!::write(in[1], stdin_data.data(), stdin_data.size());
  ::close(in[1]);
  std::string result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof(buf))) > 0) {
    result.append(buf, static_cast<size_t>(n));
  }
  while (::read(err[0], buf, sizeof(buf)) > 0) {
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(path, " failed: ", result.substr(0, 300)));
  }
  return result;
}

// The stdin bytes the library sends, computed once (untimed) with the
// library's own request builder.
struct Requests {
  std::vector<std::string> paths;  // per plugin
  std::vector<std::string> add;    // per plugin
  std::vector<std::string> del;    // per plugin (noop only)
};

absl::StatusOr<Requests> Prepare(const Workspace& ws,
                                 const std::vector<std::string>& env) {
  OCICNI_ASSIGN_OR_RETURN(config::NetworkConfigList list,
                          config::ParseConfList(ws.conflist(), "benchnet"));
  Requests r;
  const google::protobuf::Struct no_caps;
  for (const config::PluginConfig& plugin : list.plugins) {
    r.paths.push_back(absl::StrCat(ws.plugin_dir(), "/", plugin.type));
  }
  if (list.plugins.size() == 1) {  // real: DEL is built per cycle
    OCICNI_ASSIGN_OR_RETURN(
        std::string add,
        types::BuildPluginRequest(list.plugins[0].conf, list.name,
                                  list.cni_version, nullptr, no_caps));
    r.add.push_back(std::move(add));
    return r;
  }
  // The no-op plugin's ADD output, as the next plugin and DEL see it.
  std::vector<char*> envp;
  std::vector<std::string> strings = env;
  strings.push_back("CNI_COMMAND=ADD");
  for (std::string& s : strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  OCICNI_ASSIGN_OR_RETURN(std::string output,
                          Spawn(r.paths[0], "{}", envp.data()));
  OCICNI_ASSIGN_OR_RETURN(
      types::Result result,
      types::DecodeResult(output, list.cni_version, "noop"));
  OCICNI_ASSIGN_OR_RETURN(types::Result converted,
                          types::ConvertResult(result, list.cni_version));
  OCICNI_ASSIGN_OR_RETURN(google::protobuf::Value prev,
                          types::MessageToValue(converted));
  for (size_t i = 0; i < list.plugins.size(); ++i) {
    OCICNI_ASSIGN_OR_RETURN(
        std::string add, types::BuildPluginRequest(
                             list.plugins[i].conf, list.name, list.cni_version,
                             i == 0 ? nullptr : &prev, no_caps));
    OCICNI_ASSIGN_OR_RETURN(
        std::string del,
        types::BuildPluginRequest(list.plugins[i].conf, list.name,
                                  list.cni_version, &prev, no_caps));
    r.add.push_back(std::move(add));
    r.del.push_back(std::move(del));
  }
  return r;
}

// BaseEnv is this process's environment without the CNI_* variables the
// runtime sets per call (as the library's invoker builds it).
std::vector<std::string> BaseEnv() {
  std::vector<std::string> env;
  for (char** p = environ; *p != nullptr; ++p) {
    bool cni = false;
    for (const char* v : kCniVariables) cni = cni || absl::StartsWith(*p, v);
    if (!cni) env.emplace_back(*p);
  }
  return env;
}

int Main(int argc, char** argv) {
  const ChurnFlags flags = ParseChurnFlags(argc, argv, "floor");
  absl::StatusOr<Workspace> workspace = Workspace::Create(flags);
  if (!workspace.ok()) {
    std::fprintf(stderr, "%s\n", workspace.status().ToString().c_str());
    return 1;
  }
  const std::vector<std::string> base_env = BaseEnv();
  absl::StatusOr<Requests> requests = Prepare(*workspace, base_env);
  if (!requests.ok()) {
    std::fprintf(stderr, "%s\n", requests.status().ToString().c_str());
    return 1;
  }
  const Requests& r = *requests;
  const std::string cni_path =
      absl::StrCat("CNI_PATH=", workspace->plugin_dir());
  static char kAdd[] = "CNI_COMMAND=ADD";
  static char kDel[] = "CNI_COMMAND=DEL";

  return RunChurn(flags, *workspace, [&](const Pod& pod) -> absl::Status {
    std::string vars[] = {
        absl::StrCat("CNI_CONTAINERID=", pod.id),
        absl::StrCat("CNI_NETNS=", pod.netns),
        absl::StrCat("CNI_IFNAME=", kIfName),
        absl::StrCat("CNI_ARGS=", K8sCniArgs(pod)),
    };
    std::vector<char*> envp;
    envp.reserve(base_env.size() + 7);
    for (const std::string& s : base_env) {
      envp.push_back(const_cast<char*>(s.c_str()));
    }
    const size_t command = envp.size();
    envp.push_back(kAdd);
    for (std::string& s : vars) envp.push_back(s.data());
    envp.push_back(const_cast<char*>(cni_path.c_str()));
    envp.push_back(nullptr);

    if (r.del.empty()) {  // real: bridge ADD, then DEL with its result
      OCICNI_ASSIGN_OR_RETURN(std::string out,
                              Spawn(r.paths[0], r.add[0], envp.data()));
      std::string del = r.add[0];
      del.pop_back();  // the closing brace
      absl::StrAppend(&del, ",\"prevResult\":", out, "}");
      envp[command] = kDel;
      return Spawn(r.paths[0], del, envp.data()).status();
    }
    for (size_t i = 0; i < r.paths.size(); ++i) {
      OCICNI_RETURN_IF_ERROR(Spawn(r.paths[i], r.add[i], envp.data()).status());
    }
    envp[command] = kDel;
    for (size_t i = r.paths.size(); i-- > 0;) {
      OCICNI_RETURN_IF_ERROR(Spawn(r.paths[i], r.del[i], envp.data()).status());
    }
    return absl::OkStatus();
  });
}

}  // namespace
}  // namespace ocicni::bench

int main(int argc, char** argv) { return ocicni::bench::Main(argc, argv); }
