// fake_plugin: a CNI plugin whose behaviour the test chooses per call.
//
// The behaviour is a JSON object built, per invocation, from (later entries
// override earlier ones key by key):
//   1. the file "<argv[0]>.fake.json" next to the binary, if present (the only
//      way to shape VERSION, whose stdin carries no config);
//   2. the "fake" object of the config on stdin;
//   3. the file named by the merged "controlFile", if set (lets a test change
//      behaviour without changing the config);
//   4. the object under the key named like CNI_COMMAND ("ADD", "DEL", ...)
//      of the merged behaviour, if present.
//
// Keys (all optional):
//   recordTo          path: append one JSON line {"argv", "env", "stdin",
//                     "fds"} describing this invocation (env: every entry,
//                     in order; fds: the open descriptors)
//   skipStdin         true: do not read stdin at all
//   sleepSeconds      n: sleep first (a hung plugin)
//   ignoreSigterm     true: ignore SIGTERM (forces the SIGKILL escalation)
//   spawnGrandchild   true: fork a grandchild that keeps stdout and stderr
//                     open and sleeps grandchildSleepSeconds (default 30);
//                     with grandchildEscapes it leaves the process group first
//   floodStdoutBytes  n: write n bytes ('x') to stdout first
//   floodStderrBytes  n: write n bytes ('e') to stderr first
//   stderr            text written to stderr
//   crashSignal       n: die by signal n
//   error             {code, msg, details}: print it as a CNI error, exit 1
//   exitCode          n: exit status (after any output)
//   stdout            text printed instead of a result
//   garbage           true: print non-JSON instead of a result
//   printNull         true: print `null` instead of a result
//   result            object printed as the ADD result
//   addInterface      {name, mac, sandbox}: appended to the result's
//                     interfaces (the result defaults to prevResult, else
//                     {"cniVersion": <config's cniVersion>})
//   addIp             {address, gateway}: appended to the result's ips
//                     (pointing at the added interface, if any)
//   versionReply      text printed for VERSION
//   supportedVersions [..] for the VERSION reply
//   legacyNoVersion   true: fail VERSION as a pre-VERSION plugin does
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "types/json.h"

namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::ocicni::types::ObjectValue;
using ::ocicni::types::ParseJsonObject;
using ::ocicni::types::StringValue;
using ::ocicni::types::WriteJson;

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void Print(int fd, const std::string& text) {
  WriteAll(fd, text.data(), text.size());
}

bool ReadFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

std::string ReadStdin() {
  std::string in;
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

[[noreturn]] void FailCni(int code, const std::string& msg) {
  Struct error;
  (*error.mutable_fields())["cniVersion"] = StringValue("1.1.0");
  (*error.mutable_fields())["code"].set_number_value(code);
  (*error.mutable_fields())["msg"] = StringValue(msg);
  Print(STDOUT_FILENO, WriteJson(error));
  _exit(1);
}

void Merge(const Struct& from, Struct* into) {
  for (const auto& [key, value] : from.fields()) {
    (*into->mutable_fields())[key] = value;
  }
}

void MergeFile(const std::string& path, Struct* into, bool required) {
  std::string text;
  if (!ReadFile(path, &text)) {
    if (required) FailCni(5, "fake_plugin: cannot read " + path);
    return;
  }
  auto parsed = ParseJsonObject(text, path);
  if (!parsed.ok()) FailCni(6, std::string(parsed.status().message()));
  Merge(*parsed, into);
}

const Value* Field(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

bool Flag(const Struct& s, const std::string& key) {
  const Value* v = Field(s, key);
  return v != nullptr && v->bool_value();
}

double Number(const Struct& s, const std::string& key, double fallback) {
  const Value* v = Field(s, key);
  return v != nullptr && v->has_number_value() ? v->number_value() : fallback;
}

std::string Text(const Struct& s, const std::string& key) {
  const Value* v = Field(s, key);
  return v != nullptr ? v->string_value() : std::string();
}

void SleepSeconds(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(seconds);
  ts.tv_nsec = static_cast<long>((seconds - ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void Flood(int fd, double bytes, char c) {
  std::string chunk(65536, c);
  size_t left = static_cast<size_t>(bytes);
  while (left > 0) {
    size_t n = std::min(left, chunk.size());
    WriteAll(fd, chunk.data(), n);
    left -= n;
  }
}

std::vector<int> OpenFds() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  int self = dirfd(dir);
  while (struct dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == self) continue;
    fds.push_back(fd);
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

void Record(const std::string& path, int argc, char** argv,
            const std::string& stdin_data) {
  std::vector<int> fds = OpenFds();  // Before opening the record file.
  Struct line;
  auto& fields = *line.mutable_fields();
  ListValue* args = fields["argv"].mutable_list_value();
  for (int i = 0; i < argc; ++i) *args->add_values() = StringValue(argv[i]);
  ListValue* env = fields["env"].mutable_list_value();
  for (char** p = environ; *p != nullptr; ++p) {
    *env->add_values() = StringValue(*p);
  }
  fields["stdin"] = StringValue(stdin_data);
  ListValue* fd_list = fields["fds"].mutable_list_value();
  for (int fd : fds) fd_list->add_values()->set_number_value(fd);
  std::string text = WriteJson(line) + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) FailCni(5, "fake_plugin: cannot open " + path);
  WriteAll(fd, text.data(), text.size());
  close(fd);
}

void SpawnGrandchild(const Struct& behaviour) {
  pid_t pid = fork();
  if (pid != 0) return;  // Parent (or a failed fork: carry on without).
  if (Flag(behaviour, "grandchildEscapes")) setsid();
  close(STDIN_FILENO);
  SleepSeconds(Number(behaviour, "grandchildSleepSeconds", 30));
  _exit(0);
}

std::string VersionReply(const Struct& behaviour) {
  if (Field(behaviour, "versionReply") != nullptr) {
    return Text(behaviour, "versionReply");
  }
  Struct reply;
  (*reply.mutable_fields())["cniVersion"] = StringValue("1.1.0");
  ListValue* list =
      (*reply.mutable_fields())["supportedVersions"].mutable_list_value();
  if (const Value* v = Field(behaviour, "supportedVersions")) {
    *list = v->list_value();
  } else {
    for (const char* version :
         {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
      *list->add_values() = StringValue(version);
    }
  }
  return WriteJson(reply);
}

std::string AddResult(const Struct& config, const Struct& behaviour) {
  Struct result;
  if (const Value* r = Field(behaviour, "result")) {
    result = r->struct_value();
  } else if (const Value* prev = Field(config, "prevResult")) {
    result = prev->struct_value();
  } else {
    std::string version = Text(config, "cniVersion");
    (*result.mutable_fields())["cniVersion"] =
        StringValue(version.empty() ? "1.1.0" : version);
  }
  int added_interface = -1;
  if (const Value* iface = Field(behaviour, "addInterface")) {
    ListValue* list =
        (*result.mutable_fields())["interfaces"].mutable_list_value();
    added_interface = list->values_size();
    *list->add_values() = *iface;
  }
  if (const Value* ip = Field(behaviour, "addIp")) {
    ListValue* list = (*result.mutable_fields())["ips"].mutable_list_value();
    Value entry = *ip;
    if (added_interface >= 0) {
      (*entry.mutable_struct_value()->mutable_fields())["interface"]
          .set_number_value(added_interface);
    }
    *list->add_values() = entry;
  }
  return WriteJson(result);
}

}  // namespace

int main(int argc, char** argv) {
  const char* command_env = getenv("CNI_COMMAND");
  const std::string command = command_env != nullptr ? command_env : "";

  Struct behaviour;
  MergeFile(std::string(argv[0]) + ".fake.json", &behaviour,
            /*required=*/false);

  // skipStdin can only come from the sidecar: the config is on stdin.
  std::string stdin_data;
  Struct config;
  if (!Flag(behaviour, "skipStdin")) {
    stdin_data = ReadStdin();
    if (!stdin_data.empty()) {
      auto parsed = ParseJsonObject(stdin_data, "stdin");
      if (!parsed.ok()) FailCni(6, std::string(parsed.status().message()));
      config = *std::move(parsed);
      if (const Value* fake = Field(config, "fake")) {
        Merge(fake->struct_value(), &behaviour);
      }
    }
  }
  std::string control = Text(behaviour, "controlFile");
  if (!control.empty()) MergeFile(control, &behaviour, /*required=*/true);
  if (const Value* per_command = Field(behaviour, command)) {
    Struct overrides = per_command->struct_value();
    Merge(overrides, &behaviour);
  }

  std::string record = Text(behaviour, "recordTo");
  if (!record.empty()) Record(record, argc, argv, stdin_data);

  if (Flag(behaviour, "ignoreSigterm")) signal(SIGTERM, SIG_IGN);
  if (Flag(behaviour, "spawnGrandchild")) SpawnGrandchild(behaviour);
  Flood(STDOUT_FILENO, Number(behaviour, "floodStdoutBytes", 0), 'x');
  Flood(STDERR_FILENO, Number(behaviour, "floodStderrBytes", 0), 'e');
  SleepSeconds(Number(behaviour, "sleepSeconds", 0));
  Print(STDERR_FILENO, Text(behaviour, "stderr"));

  if (int sig = static_cast<int>(Number(behaviour, "crashSignal", 0))) {
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
  }
  int exit_code = static_cast<int>(Number(behaviour, "exitCode", 0));
  if (const Value* error = Field(behaviour, "error")) {
    Struct out = error->struct_value();
    if (Field(out, "cniVersion") == nullptr) {
      (*out.mutable_fields())["cniVersion"] = StringValue("1.1.0");
    }
    Print(STDOUT_FILENO, WriteJson(out));
    return exit_code != 0 ? exit_code : 1;
  }
  if (Field(behaviour, "stdout") != nullptr) {
    Print(STDOUT_FILENO, Text(behaviour, "stdout"));
  } else if (Flag(behaviour, "garbage")) {
    Print(STDOUT_FILENO, "this is not {JSON");
  } else if (Flag(behaviour, "printNull")) {
    Print(STDOUT_FILENO, "null");
  } else if (command == "VERSION") {
    if (Flag(behaviour, "legacyNoVersion")) {
      FailCni(4, "unknown CNI_COMMAND: VERSION");
    }
    Print(STDOUT_FILENO, VersionReply(behaviour));
  } else if (command == "ADD") {
    Print(STDOUT_FILENO, AddResult(config, behaviour));
  } else if (command != "DEL" && command != "CHECK" && command != "GC" &&
             command != "STATUS") {
    FailCni(4, "unknown CNI_COMMAND: " + command);
  }
  return exit_code;
}
