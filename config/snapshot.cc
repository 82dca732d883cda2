#include "config/snapshot.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ocicni::config {
namespace {

std::string DirList(const std::vector<ConfigDir>& dirs) {
  if (dirs.empty()) return "(no conf dirs)";
  return absl::StrJoin(dirs, ", ", [](std::string* out, const ConfigDir& d) {
    out->append(d.path);
  });
}

}  // namespace

absl::string_view FileStateName(FileState state) {
  switch (state) {
    case FileState::kValid:
      return "valid";
    case FileState::kInvalid:
      return "invalid";
    case FileState::kShadowed:
      return "shadowed";
  }
  return "unknown";
}

Snapshot::Snapshot(Parts parts, absl::string_view default_network)
    : parts_(std::move(parts)) {
  by_name_.reserve(parts_.networks.size());
  for (size_t i = 0; i < parts_.networks.size(); ++i) {
    by_name_.emplace(parts_.networks[i].name, i);
  }

  if (default_network.empty()) {
    if (!parts_.networks.empty()) {
      default_index_ = 0;
    } else {
      default_error_ = absl::NotFoundError(absl::StrCat(
          "no valid network configuration in ", DirList(parts_.dirs), " (",
          parts_.files.size(), " config files found)"));
    }
    return;
  }
  if (auto it = by_name_.find(default_network); it != by_name_.end()) {
    default_index_ = static_cast<int>(it->second);
    return;
  }
  default_error_ = NotLoaded("default network", default_network);
}

absl::Status Snapshot::NotLoaded(absl::string_view what,
                                 absl::string_view name) const {
  std::string why =
      absl::StrCat("no config file in ", DirList(parts_.dirs), " defines it");
  for (const ConfigFile& file : parts_.files) {
    if (file.network == name && file.state == FileState::kInvalid) {
      why = std::string(file.error.message());
      break;
    }
  }
  return absl::NotFoundError(
      absl::StrCat(what, " \"", name, "\" is not loaded: ", why));
}

const NetworkConfigList* Snapshot::Find(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &parts_.networks[it->second];
}

absl::StatusOr<const NetworkConfigList*> Snapshot::Get(
    absl::string_view name) const {
  if (const NetworkConfigList* network = Find(name)) return network;
  return NotLoaded("network", name);
}

absl::StatusOr<const NetworkConfigList*> Snapshot::Default() const {
  if (default_index_ < 0) return default_error_;
  return &parts_.networks[default_index_];
}

std::string Snapshot::DebugString() const {
  std::string out;
  for (const ConfigDir& dir : parts_.dirs) {
    absl::StrAppend(
        &out, "dir ", dir.path, dir.exists ? "" : " (missing)",
        dir.error.ok() ? "" : absl::StrCat(" (", dir.error.message(), ")"),
        "\n");
  }
  for (const ConfigFile& file : parts_.files) {
    absl::StrAppend(&out, "  ", file.path, ": ", FileStateName(file.state));
    switch (file.state) {
      case FileState::kValid:
        absl::StrAppend(&out, " network ", file.network);
        break;
      case FileState::kInvalid:
        absl::StrAppend(&out, ": ", file.error.message());
        break;
      case FileState::kShadowed:
        absl::StrAppend(&out, " by ", file.shadowed_by);
        break;
    }
    out.push_back('\n');
  }
  absl::StatusOr<const NetworkConfigList*> def = Default();
  absl::StrAppend(&out, "default: ",
                  def.ok() ? (*def)->name : std::string(def.status().message()),
                  "\n");
  return out;
}

}  // namespace ocicni::config
