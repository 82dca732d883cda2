#include "types/validate.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ocicni::types {
namespace {

// Quote renders a value for an error message, escaping anything unprintable
// so that hostile input cannot forge log lines.
std::string Quote(absl::string_view value) {
  std::string out = "\"";
  for (unsigned char c : value.substr(0, 256)) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (value.size() > 256) out.append("...");
  out.push_back('"');
  return out;
}

absl::Status ValidateIdentifier(absl::string_view kind,
                                absl::string_view value) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " is empty"));
  }
  if (!absl::ascii_isalnum(static_cast<unsigned char>(value[0]))) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", kind, " ", Quote(value),
                     ": must start with a letter or digit"));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '.' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", kind, " ", Quote(value),
                       ": only letters, digits, '_', '.' and '-' are allowed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateContainerId(absl::string_view id) {
  return ValidateIdentifier("container ID", id);
}

absl::Status ValidateNetworkName(absl::string_view name) {
  return ValidateIdentifier("network name", name);
}

absl::Status ValidateInterfaceName(absl::string_view ifname) {
  if (ifname.empty()) {
    return absl::InvalidArgumentError("interface name is empty");
  }
  if (ifname.size() > 15) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid interface name ", Quote(ifname),
                     ": longer than 15 characters"));
  }
  if (ifname == "." || ifname == "..") {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid interface name ", Quote(ifname), ": must not be . or .."));
  }
  for (char c : ifname) {
    if (c == '/' || c == ':' || c == '\0' ||
        absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid interface name ", Quote(ifname),
                       ": must not contain '/', ':', NUL or whitespace"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePluginType(absl::string_view type) {
  if (type.empty()) {
    return absl::InvalidArgumentError("plugin type is empty");
  }
  if (type == "." || type == "..") {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid plugin type ", Quote(type), ": must not be . or .."));
  }
  for (char c : type) {
    if (c == '/' || c == '\\' || c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid plugin type ", Quote(type),
                       ": must be a file name, without '/', '\\' or NUL"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ocicni::types
