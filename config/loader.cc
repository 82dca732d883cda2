#include "config/loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/posix.h"
#include "base/status_macros.h"
#include "config/internal/paths.h"
#include "types/json.h"

namespace ocicni::config {
namespace {

using config_internal::Dirname;
using config_internal::JoinPath;

constexpr absl::string_view kConfigExtensions[] = {".conf", ".conflist",
                                                   ".json"};
constexpr absl::string_view kPluginConfExtensions[] = {".conf"};

bool HasExtension(absl::string_view name,
                  absl::Span<const absl::string_view> extensions) {
  size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return false;
  absl::string_view ext = name.substr(dot);
  return std::find(extensions.begin(), extensions.end(), ext) !=
         extensions.end();
}

absl::string_view FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

absl::Status WithPrefix(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(),
                      absl::StrCat(prefix, ": ", status.message()));
}

// ParseListFile parses a `.conflist` read from `path`, appending the plugin
// configs of `<dir>/<name>/*.conf` and recording that dir if it exists.
absl::StatusOr<NetworkConfigList> ParseListFile(
    absl::string_view bytes, const std::string& path, size_t max_size,
    std::vector<std::string>* plugin_conf_dirs) {
  auto read_plugin_dir = [&](absl::string_view network)
      -> absl::StatusOr<std::vector<PluginConfig>> {
    std::string dir = JoinPath(Dirname(path), network);
    bool exists = false;
    OCICNI_ASSIGN_OR_RETURN(
        std::vector<std::string> files,
        ListConfigFiles(dir, kPluginConfExtensions, &exists));
    if (exists && plugin_conf_dirs != nullptr) plugin_conf_dirs->push_back(dir);
    std::vector<PluginConfig> plugins;
    for (const std::string& file : files) {
      OCICNI_ASSIGN_OR_RETURN(std::string plugin_bytes,
                              ReadConfigFile(file, max_size));
      OCICNI_ASSIGN_OR_RETURN(PluginConfig plugin,
                              ParsePluginConf(plugin_bytes, file));
      plugins.push_back(std::move(plugin));
    }
    return plugins;
  };
  return ParseConfList(bytes, path, read_plugin_dir);
}

// NameOf returns the string `name` of a JSON object, or "": which network an
// invalid file meant to define.
std::string NameOf(absl::string_view bytes) {
  absl::StatusOr<google::protobuf::Struct> object =
      types::ParseJsonObject(bytes, "");
  if (!object.ok()) return "";
  auto it = object->fields().find("name");
  if (it == object->fields().end()) return "";
  return it->second.string_value();
}

// LoadOne is LoadConfigFile that also records the plugin conf dirs it read
// and, when the file is invalid, the network name it meant to define (if it
// says).
absl::StatusOr<NetworkConfigList> LoadOne(
    const std::string& path, size_t max_size,
    std::vector<std::string>* plugin_conf_dirs, std::string* invalid_name) {
  OCICNI_ASSIGN_OR_RETURN(std::string bytes, ReadConfigFile(path, max_size));
  absl::StatusOr<NetworkConfigList> list =
      absl::EndsWith(path, ".conflist")
          ? ParseListFile(bytes, path, max_size, plugin_conf_dirs)
          : ParseConf(bytes, path);
  if (!list.ok() && invalid_name != nullptr) *invalid_name = NameOf(bytes);
  return list;
}

}  // namespace

absl::StatusOr<std::string> ReadConfigFile(const std::string& path,
                                           size_t max_size) {
  OCICNI_ASSIGN_OR_RETURN(
      UniqueFd fd, OpenFd(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, path);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a regular file (", FileTypeName(st.st_mode), ")"));
  }
  auto too_large = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than the ", max_size, "-byte limit"));
  };
  if (static_cast<uint64_t>(st.st_size) > max_size) return too_large();

  // Read up to one byte past the limit, so that a file that grew since the
  // fstat is caught rather than silently truncated.
  std::string bytes(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t used = 0;
  while (true) {
    if (used == bytes.size()) {
      if (used > max_size) return too_large();
      bytes.resize(std::min(bytes.size() * 2, max_size + 1));
    }
    ssize_t n = RetryOnEintr(
        [&] { return read(fd.get(), &bytes[used], bytes.size() - used); });
    if (n < 0) return ErrnoToStatus(errno, path);
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_size) return too_large();
  bytes.resize(used);
  return bytes;
}

absl::StatusOr<std::vector<std::string>> ListConfigFiles(
    const std::string& dir, absl::Span<const absl::string_view> extensions,
    bool* exists) {
  if (exists != nullptr) *exists = false;
  absl::StatusOr<UniqueFd> fd =
      OpenFd(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd.ok()) {
    if (absl::IsNotFound(fd.status())) return std::vector<std::string>();
    return fd.status();
  }
  int dir_fd = fd->get();
  DIR* stream = fdopendir(dir_fd);
  if (stream == nullptr) return ErrnoToStatus(errno, dir);
  fd->release();  // owned by `stream` now

  std::vector<std::string> names;
  absl::Status status;
  while (true) {
    errno = 0;
    struct dirent* entry = readdir(stream);
    if (entry == nullptr) {
      if (errno != 0) status = ErrnoToStatus(errno, dir);
      break;
    }
    absl::string_view name = entry->d_name;
    if (!HasExtension(name, extensions)) continue;
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir =
          fstatat(dir_fd, entry->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
    }
    if (!is_dir) names.emplace_back(name);
  }
  closedir(stream);
  OCICNI_RETURN_IF_ERROR(status);
  if (exists != nullptr) *exists = true;

  std::sort(names.begin(), names.end());  // byte-wise, as memcmp
  for (std::string& name : names) name = JoinPath(dir, name);
  return names;
}

absl::StatusOr<NetworkConfigList> LoadConfigFile(const std::string& path,
                                                 size_t max_size) {
  return LoadOne(path, max_size, nullptr, nullptr);
}

std::shared_ptr<const Snapshot> LoadDirs(const std::vector<std::string>& dirs,
                                         const LoadOptions& options) {
  Snapshot::Parts parts;
  // Which file claimed each network name.
  absl::flat_hash_map<std::string, std::string> owner;
  for (const std::string& dir_path : dirs) {
    ConfigDir dir;
    dir.path = dir_path;
    absl::StatusOr<std::vector<std::string>> paths =
        ListConfigFiles(dir_path, kConfigExtensions, &dir.exists);
    if (!paths.ok()) {
      dir.exists = true;
      dir.error = paths.status();
      parts.dirs.push_back(std::move(dir));
      continue;
    }
    parts.dirs.push_back(std::move(dir));

    for (std::string& path : *paths) {
      ConfigFile file;
      file.path = std::move(path);
      absl::StatusOr<NetworkConfigList> list =
          LoadOne(file.path, options.max_file_size, &parts.plugin_conf_dirs,
                  &file.network);
      if (!list.ok()) {
        file.error = list.status();
      } else if (auto it = owner.find(list->name); it != owner.end()) {
        file.network = list->name;
        file.state = FileState::kShadowed;
        file.shadowed_by = it->second;
      } else {
        file.network = list->name;
        absl::Status valid =
            options.validator ? options.validator(*list) : absl::OkStatus();
        if (!valid.ok()) {
          file.error = WithPrefix(
              valid, absl::StrCat(file.path, ": network \"", list->name, "\""));
        } else {
          file.state = FileState::kValid;
          owner.emplace(list->name, file.path);
          parts.networks.push_back(*std::move(list));
        }
      }
      parts.files.push_back(std::move(file));
    }
  }
  return std::make_shared<const Snapshot>(std::move(parts),
                                          options.default_network);
}

}  // namespace ocicni::config
