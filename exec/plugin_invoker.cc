#include "exec/plugin_invoker.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "exec/cni_error.h"
#include "exec/find.h"
#include "exec/posix_spawner.h"
#include "glog/logging.h"
#include "types/json.h"

namespace ocicni::exec {
namespace {

// Messages quote at most this much of a plugin's output.
constexpr size_t kExcerpt = 2048;
// At most this many (type, search path) pairs are remembered.
constexpr size_t kMaxRemembered = 1024;

constexpr absl::string_view kCniVariables[] = {
    "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
    "CNI_IFNAME",  "CNI_ARGS",        "CNI_PATH",
};

bool IsCniVariable(absl::string_view entry) {
  absl::string_view key = entry.substr(0, entry.find('='));
  for (absl::string_view name : kCniVariables) {
    if (key == name) return true;
  }
  return false;
}

std::shared_ptr<const std::vector<std::string>> BaseEnvironment(
    const std::optional<std::vector<std::string>>& injected) {
  auto env = std::make_shared<std::vector<std::string>>();
  if (injected.has_value()) {
    for (const std::string& entry : *injected) {
      if (!IsCniVariable(entry)) env->push_back(entry);
    }
    return env;
  }
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    if (!IsCniVariable(*p)) env->emplace_back(*p);
  }
  return env;
}

std::string Excerpt(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  bool cut = text.size() > kExcerpt;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kExcerpt)),
                      cut ? "...\"" : "\"");
}

// Context is how messages name the call:
// `CNI plugin "bridge" (network "podnet", ADD)`.
std::string Context(const InvokeRequest& request) {
  absl::string_view plugin =
      request.plugin_type.empty() ? request.plugin_path : request.plugin_type;
  if (request.network_name.empty()) {
    return absl::StrCat("CNI plugin \"", plugin, "\" (",
                        CommandName(request.command), ")");
  }
  return absl::StrCat("CNI plugin \"", plugin, "\" (network \"",
                      request.network_name, "\", ",
                      CommandName(request.command), ")");
}

// FailureStatus describes a run that did not exit 0.
absl::Status FailureStatus(absl::string_view context,
                           const ProcessOutput& out) {
  std::string stderr_note =
      out.stderr_data.empty()
          ? ""
          : absl::StrCat("; stderr: ", Excerpt(out.stderr_data));
  if (!out.exited()) {
    const char* name = ::strsignal(out.term_signal);
    return absl::InternalError(
        absl::StrCat(context, " was killed by signal ", out.term_signal, " (",
                     name != nullptr ? name : "unknown", ")", stderr_note));
  }
  absl::string_view stdout_text = absl::StripAsciiWhitespace(out.stdout_data);
  if (!stdout_text.empty()) {
    absl::StatusOr<types::Error> error =
        types::ParseMessage<types::Error>(stdout_text, context);
    if (error.ok() && (error->has_code() || !error->msg().empty())) {
      return CniErrorToStatus(
          *error,
          absl::StrCat(context, " failed (exit code ", out.exit_code, ")"));
    }
    return absl::UnknownError(absl::StrCat(
        context, " failed (exit code ", out.exit_code,
        ") and its diagnostic message could not be parsed: ",
        Excerpt(stdout_text),
        error.ok() ? " is not a CNI error"
                   : absl::StrCat(" (", error.status().message(), ")"),
        stderr_note));
  }
  if (!out.stderr_data.empty()) {
    return absl::UnknownError(absl::StrCat(context, " failed (exit code ",
                                           out.exit_code,
                                           "): ", Excerpt(out.stderr_data)));
  }
  return absl::UnknownError(absl::StrCat(context, " failed (exit code ",
                                         out.exit_code,
                                         ") with no error message"));
}

// FoundKey is the memory's key for `type` on `search`: each part prefixed by
// its length, so that no two pairs share a key.
std::string FoundKey(absl::string_view type,
                     const std::vector<std::string>& search) {
  std::string key = absl::StrCat(type.size(), ":", type);
  for (const std::string& dir : search) {
    absl::StrAppend(&key, dir.size(), ":", dir);
  }
  return key;
}

}  // namespace

std::shared_ptr<const PluginInvoker::Found> PluginInvoker::Remembered(
    const std::string& key) {
  std::shared_ptr<const Found> found;
  {
    absl::MutexLock lock(&mu_);
    auto it = found_.find(key);
    if (it == found_.end()) return nullptr;
    found = it->second;
  }
  for (const std::string& candidate : found->earlier) {
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0) return nullptr;
  }
  return found;
}

absl::StatusOr<std::string> PluginInvoker::Find(
    const InvokeRequest& request, const std::vector<std::string>& search,
    const std::string& key) {
  absl::StatusOr<std::string> path = FindPlugin(
      request.plugin_type, request.plugin_dirs, request.find_options);
  if (!path.ok()) {
    {
      absl::MutexLock lock(&mu_);
      found_.erase(key);
    }
    return absl::Status(
        path.status().code(),
        absl::StrCat(Context(request), ": ", path.status().message()));
  }
  auto found = std::make_shared<Found>();
  found->path = *path;
  for (const std::string& dir : search) {
    std::string candidate = PluginCandidate(dir, request.plugin_type);
    if (candidate == *path) break;
    found->earlier.push_back(std::move(candidate));
  }
  absl::MutexLock lock(&mu_);
  if (found_.size() >= kMaxRemembered) found_.clear();
  found_[key] = std::move(found);
  return path;
}

PluginInvoker::PluginInvoker() : PluginInvoker(Options()) {}

PluginInvoker::PluginInvoker(Options options)
    : PluginInvoker(std::make_unique<PosixSpawner>(), std::move(options)) {}

PluginInvoker::PluginInvoker(std::unique_ptr<Spawner> spawner, Options options)
    : spawner_(std::move(spawner)),
      options_(std::move(options)),
      base_env_(BaseEnvironment(options_.environment)) {}

absl::StatusOr<std::string> PluginInvoker::Invoke(
    const InvokeRequest& request) {
  const std::vector<std::string> search = PluginSearchPath(
      request.plugin_type, request.plugin_dirs, request.find_options);
  SpawnRequest spawn;
  std::string key;
  bool remembered = false;
  if (!request.plugin_path.empty()) {
    spawn.path = request.plugin_path;
  } else {
    key = FoundKey(request.plugin_type, search);
    if (std::shared_ptr<const Found> found = Remembered(key)) {
      spawn.path = found->path;
      remembered = true;
    } else {
      OCICNI_ASSIGN_OR_RETURN(spawn.path, Find(request, search, key));
    }
  }
  spawn.argv = {spawn.path};
  spawn.shared_env = base_env_;
  spawn.env.reserve(6);
  spawn.env.push_back(
      absl::StrCat("CNI_COMMAND=", CommandName(request.command)));
  spawn.env.push_back(absl::StrCat("CNI_CONTAINERID=", request.container_id));
  spawn.env.push_back(absl::StrCat("CNI_NETNS=", request.netns));
  spawn.env.push_back(absl::StrCat("CNI_IFNAME=", request.ifname));
  spawn.env.push_back(absl::StrCat("CNI_ARGS=", request.cni_args));
  if (request.cni_path.has_value()) {
    spawn.env.push_back(absl::StrCat("CNI_PATH=", *request.cni_path));
  } else {
    spawn.env.push_back(absl::StrCat("CNI_PATH=", absl::StrJoin(search, ":")));
  }
  spawn.stdin_data = request.stdin_data;
  spawn.deadline = request.deadline;
  spawn.stdout_cap = options_.stdout_cap;
  spawn.stderr_cap = options_.stderr_cap;

  absl::StatusOr<ProcessOutput> out = spawner_->Run(spawn);
  if (remembered && !out.ok() && IsExecFailure(out.status())) {
    // The remembered binary did not run: look again, as without the memory,
    // and run what is found if it is another binary.
    OCICNI_ASSIGN_OR_RETURN(std::string path, Find(request, search, key));
    if (path != spawn.path) {
      spawn.path = std::move(path);
      spawn.argv = {spawn.path};
      out = spawner_->Run(spawn);
    }
  }
  if (!out.ok()) {
    return absl::Status(
        out.status().code(),
        absl::StrCat(Context(request), ": ", out.status().message()));
  }
  if (!out->exited() || out->exit_code != 0) {
    return FailureStatus(Context(request), *out);
  }
  if (!out->stderr_data.empty()) {
    VLOG(1) << Context(request) << " stderr: " << Excerpt(out->stderr_data);
  }
  if (out->pipes_left_open) {
    VLOG(1) << Context(request)
            << " exited but a descendant kept its stdout/stderr open";
  }
  if (request.command == Command::kAdd ||
      request.command == Command::kVersion) {
    return std::move(out->stdout_data);
  }
  return std::string();
}

}  // namespace ocicni::exec
