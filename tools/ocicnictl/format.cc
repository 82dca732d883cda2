#include "tools/ocicnictl/format.h"

#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "ocicni/version.h"
#include "types/json.h"
#include "types/result.h"
#include "types/version.h"

namespace ocicni::ctl {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::NullValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// Small builders of JSON values.

Value Str(absl::string_view s) { return types::StringValue(s); }

Value Null() {
  Value v;
  v.set_null_value(NullValue::NULL_VALUE);
  return v;
}

Value OptStr(const std::optional<std::string>& s) {
  return s.has_value() ? Str(*s) : Null();
}

Value Num(double n) {
  Value v;
  v.set_number_value(n);
  return v;
}

Value Bool(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

Value List(std::vector<Value> items) {
  Value v;
  ListValue* list = v.mutable_list_value();
  for (Value& item : items) *list->add_values() = std::move(item);
  return v;
}

Value StrList(const std::vector<std::string>& items) {
  std::vector<Value> values;
  for (const std::string& s : items) values.push_back(Str(s));
  return List(std::move(values));
}

Value Obj(std::vector<std::pair<std::string, Value>> fields) {
  Struct s;
  for (auto& [key, value] : fields) {
    (*s.mutable_fields())[key] = std::move(value);
  }
  return types::ObjectValue(std::move(s));
}

std::string Json(const Value& v) { return types::WriteJson(v) + "\n"; }

// Table renders rows with columns padded to their widest cell; the last
// column is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 < row.size()) {
        absl::StrAppend(&line, row[i],
                        std::string(widths[i] - row[i].size() + 2, ' '));
      } else {
        absl::StrAppend(&line, row[i]);
      }
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return out;
}

// OneLine joins a multi-line message (some parser errors have a caret line)
// into one line.
std::string OneLine(absl::string_view message) {
  std::string out;
  for (absl::string_view part :
       absl::StrSplit(message, '\n', absl::SkipWhitespace())) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    absl::StripAsciiWhitespace(part));
  }
  return out;
}

std::string Plural(size_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string ScopeName(int scope) {
  switch (scope) {
    case 0:
      return "global";
    case 200:
      return "site";
    case 253:
      return "link";
    case 254:
      return "host";
    case 255:
      return "nowhere";
    default:
      return absl::StrCat(scope);
  }
}

int FamilyNumber(int af) { return af == AF_INET6 ? 6 : 4; }

std::string RouteDst(const std::string& dst) {
  return dst == "0.0.0.0/0" || dst == "::/0" ? "default" : dst;
}

// One network's result, for people. Shown in the 1.1.0 shape whatever the
// network's version (older shapes convert losslessly for display).
std::string HumanResult(const NetResult& r) {
  std::string out =
      absl::StrCat("network ", r.network, ", interface ", r.ifname,
                   " (cniVersion ", r.result.cni_version(), ")\n");
  absl::StatusOr<types::Result> converted =
      types::ConvertResult(r.result, types::kCurrentVersion);
  if (!converted.ok()) {
    absl::StrAppend(&out, "  result: ", types::WriteMessage(r.result), "\n");
    return out;
  }
  const types::Result& res = *converted;
  if (res.interfaces_size() > 0) {
    absl::StrAppend(&out, "  interfaces:\n");
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < res.interfaces_size(); ++i) {
      const types::Interface& itf = res.interfaces(i);
      std::vector<std::string> row = {absl::StrCat("    [", i, "]"), itf.name(),
                                      itf.mac().empty() ? "-" : itf.mac()};
      std::string where;
      if (!itf.sandbox().empty()) where = absl::StrCat("in ", itf.sandbox());
      if (itf.mtu() != 0)
        absl::StrAppend(&where, where.empty() ? "" : ", ", "mtu ", itf.mtu());
      row.push_back(where.empty() ? "on the host" : where);
      rows.push_back(std::move(row));
    }
    absl::StrAppend(&out, Table(rows));
  }
  absl::StrAppend(&out, "  ips:");
  if (res.ips_size() == 0) absl::StrAppend(&out, " none");
  absl::StrAppend(&out, "\n");
  {
    std::vector<std::vector<std::string>> rows;
    for (const types::IPConfig& ip : res.ips()) {
      std::vector<std::string> notes;
      if (!ip.gateway().empty()) {
        notes.push_back(absl::StrCat("gateway ", ip.gateway()));
      }
      if (ip.has_interface()) {
        std::string on = absl::StrCat("on [", ip.interface(), "]");
        if (ip.interface() >= 0 && ip.interface() < res.interfaces_size()) {
          absl::StrAppend(&on, " ", res.interfaces(ip.interface()).name());
        }
        notes.push_back(std::move(on));
      }
      rows.push_back(
          {absl::StrCat("    ", ip.address()), absl::StrJoin(notes, ", ")});
    }
    absl::StrAppend(&out, Table(rows));
  }
  if (res.routes_size() > 0) {
    absl::StrAppend(&out, "  routes:\n");
    for (const types::Route& route : res.routes()) {
      std::string line = absl::StrCat("    ", RouteDst(route.dst()));
      // Without gw the plugin's default gateway is meant (CNI spec).
      absl::StrAppend(&line, " via ",
                      route.gw().empty() ? "the gateway" : route.gw());
      if (route.mtu() != 0) absl::StrAppend(&line, " mtu ", route.mtu());
      if (route.priority() != 0)
        absl::StrAppend(&line, " metric ", route.priority());
      if (route.has_table()) absl::StrAppend(&line, " table ", route.table());
      absl::StrAppend(&out, line, "\n");
    }
  }
  const types::DNS& dns = res.dns();
  if (dns.nameservers_size() + dns.search_size() + dns.options_size() > 0 ||
      !dns.domain().empty()) {
    absl::StrAppend(&out, "  dns:\n");
    if (dns.nameservers_size() > 0) {
      absl::StrAppend(&out, "    nameservers ",
                      absl::StrJoin(dns.nameservers(), " "), "\n");
    }
    if (!dns.domain().empty())
      absl::StrAppend(&out, "    domain ", dns.domain(), "\n");
    if (dns.search_size() > 0) {
      absl::StrAppend(&out, "    search ", absl::StrJoin(dns.search(), " "),
                      "\n");
    }
    if (dns.options_size() > 0) {
      absl::StrAppend(&out, "    options ", absl::StrJoin(dns.options(), " "),
                      "\n");
    }
  }
  return out;
}

}  // namespace

std::string FormatNetworks(const NetworksView& view, Style style) {
  if (style == Style::kJson) {
    std::vector<Value> files;
    for (const NetworkFile& f : view.files) {
      files.push_back(Obj({{"file", Str(f.file)},
                           {"network", OptStr(f.network)},
                           {"cniVersion", OptStr(f.cni_version)},
                           {"plugins", StrList(f.plugins)},
                           {"valid", Bool(f.valid)},
                           {"error", OptStr(f.error)},
                           {"shadowedBy", OptStr(f.shadowed_by)}}));
    }
    return Json(Obj({{"default", OptStr(view.default_network)},
                     {"files", List(std::move(files))}}));
  }
  std::string out =
      absl::StrCat("Conf dirs: ", absl::StrJoin(view.conf_dirs, ", "), "\n");
  for (const std::string& note : view.dir_notes) {
    absl::StrAppend(&out, "  (", note, ")\n");
  }
  if (view.default_network.has_value()) {
    absl::StrAppend(&out, "Default network: ", *view.default_network, "\n");
  } else {
    absl::StrAppend(&out, "Default network: none (", view.no_default_reason,
                    ")\n");
  }
  if (view.files.empty()) {
    absl::StrAppend(&out, "\nNo network config files found.\n");
    return out;
  }
  std::vector<std::vector<std::string>> rows = {
      {"FILE", "NETWORK", "CNI", "PLUGINS", "STATE"}};
  std::vector<const NetworkFile*> invalid;
  for (const NetworkFile& f : view.files) {
    std::string state;
    if (!f.valid) {
      state = "invalid (see below)";
      invalid.push_back(&f);
    } else if (f.shadowed_by.has_value()) {
      state = absl::StrCat("shadowed by ", *f.shadowed_by);
    } else {
      state = f.network == view.default_network ? "valid, default" : "valid";
    }
    rows.push_back(
        {f.file, f.network.value_or("-"), f.cni_version.value_or("-"),
         f.plugins.empty() ? "-" : absl::StrJoin(f.plugins, ","), state});
  }
  absl::StrAppend(&out, "\n", Table(rows));
  if (!invalid.empty()) {
    absl::StrAppend(&out, "\nInvalid files:\n");
    for (const NetworkFile* f : invalid) {
      absl::StrAppend(&out, "  ", OneLine(f->error.value_or("invalid")), "\n");
    }
  }
  return out;
}

std::string FormatResults(const std::string& heading,
                          const std::vector<NetResult>& results, Style style) {
  if (style == Style::kJson) {
    std::vector<Value> items;
    for (const NetResult& r : results) {
      absl::StatusOr<Value> result = types::MessageToValue(r.result);
      items.push_back(Obj({{"network", Str(r.network)},
                           {"ifname", Str(r.ifname)},
                           {"result", result.ok() ? *result : Null()}}));
    }
    return Json(List(std::move(items)));
  }
  std::string out = absl::StrCat(
      heading, " ", Plural(results.size(), "network", "networks"), ":\n");
  for (const NetResult& r : results)
    absl::StrAppend(&out, "\n", HumanResult(r));
  return out;
}

std::string FormatCache(const std::vector<CacheEntry>& entries,
                        const std::string& cache_dir, Style style) {
  if (style == Style::kJson) {
    std::vector<Value> items;
    for (const CacheEntry& e : entries) {
      items.push_back(Obj({{"containerId", Str(e.container_id)},
                           {"network", Str(e.network)},
                           {"ifname", Str(e.ifname)},
                           {"netns", Str(e.netns)},
                           {"ips", StrList(e.ips)}}));
    }
    return Json(List(std::move(items)));
  }
  if (entries.empty()) {
    return absl::StrCat("No cached attachments in ", cache_dir, "/results.\n");
  }
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER", "NETWORK", "IFNAME", "NETNS", "IPS"}};
  for (const CacheEntry& e : entries) {
    rows.push_back({e.container_id, e.network, e.ifname,
                    e.netns.empty() ? "-" : e.netns,
                    e.ips.empty() ? "-" : absl::StrJoin(e.ips, ",")});
  }
  return absl::StrCat(
      Plural(entries.size(), "cached attachment", "cached attachments"), " in ",
      cache_dir, "/results:\n\n", Table(rows));
}

std::string FormatInspect(const InspectView& view, Style style) {
  std::map<int, std::string> names;
  for (const netns::Link& l : view.links) names[l.index] = l.name;
  if (style == Style::kJson) {
    std::vector<Value> links;
    for (const netns::Link& l : view.links) {
      std::vector<Value> addrs;
      for (const netns::Address& a : view.addresses) {
        if (a.ifindex != l.index) continue;
        addrs.push_back(
            Obj({{"address", Str(absl::StrCat(a.address, "/", a.prefix_len))},
                 {"family", Num(FamilyNumber(a.family))},
                 {"scope", Str(ScopeName(a.scope))}}));
      }
      links.push_back(Obj({{"name", Str(l.name)},
                           {"index", Num(l.index)},
                           {"mac", Str(l.mac)},
                           {"mtu", Num(l.mtu)},
                           {"up", Bool(l.up)},
                           {"addresses", List(std::move(addrs))}}));
    }
    std::vector<Value> routes;
    for (const netns::Route& r : view.routes) {
      auto dev = names.find(r.ifindex);
      routes.push_back(
          Obj({{"dst", Str(r.dst)},
               {"gw", r.gateway.empty() ? Null() : Str(r.gateway)},
               {"dev", dev == names.end() ? Null() : Str(dev->second)},
               {"family", Num(FamilyNumber(r.family))}}));
    }
    return Json(Obj({{"links", List(std::move(links))},
                     {"routes", List(std::move(routes))}}));
  }
  std::string out = absl::StrCat("Network namespace ", view.netns, "\n\n");
  for (const netns::Link& l : view.links) {
    absl::StrAppend(&out, l.index, ": ", l.name, ": ", l.up ? "up" : "down",
                    " mtu ", l.mtu);
    if (!l.mac.empty()) absl::StrAppend(&out, " mac ", l.mac);
    if (!l.kind.empty()) absl::StrAppend(&out, " (", l.kind, ")");
    absl::StrAppend(&out, "\n");
    for (const netns::Address& a : view.addresses) {
      if (a.ifindex != l.index) continue;
      absl::StrAppend(&out, "    ", a.family == AF_INET6 ? "inet6 " : "inet ",
                      a.address, "/", a.prefix_len, " scope ",
                      ScopeName(a.scope), "\n");
    }
  }
  absl::StrAppend(&out, "\nRoutes:");
  if (view.routes.empty()) absl::StrAppend(&out, " none");
  absl::StrAppend(&out, "\n");
  for (const netns::Route& r : view.routes) {
    absl::StrAppend(&out, "  ", RouteDst(r.dst));
    if (!r.gateway.empty()) absl::StrAppend(&out, " via ", r.gateway);
    if (auto dev = names.find(r.ifindex); dev != names.end()) {
      absl::StrAppend(&out, " dev ", dev->second);
    }
    if (r.table != 254) absl::StrAppend(&out, " table ", r.table);
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string FormatNetnsList(const std::vector<std::string>& names,
                            const std::string& dir, Style style) {
  if (style == Style::kJson) return Json(StrList(names));
  if (names.empty()) {
    return absl::StrCat("No named network namespaces in ", dir, ".\n");
  }
  std::string out;
  for (const std::string& n : names) absl::StrAppend(&out, n, "\n");
  return out;
}

std::string FormatVersion(Style style) {
  std::vector<std::string> versions(std::begin(types::kSupportedVersions),
                                    std::end(types::kSupportedVersions));
  if (style == Style::kJson) {
    return Json(
        Obj({{"version", Str(kVersion)}, {"cniVersions", StrList(versions)}}));
  }
  return absl::StrCat("ocicni ", kVersion,
                      "\nCNI spec versions: ", absl::StrJoin(versions, ", "),
                      "\n");
}

std::string FormatDone(const std::string& message, Style style) {
  if (style == Style::kJson) return "{}\n";
  return absl::StrCat(message, "\n");
}

std::string FormatError(const std::string& command, const absl::Status& status,
                        Style style) {
  std::optional<Failure> failure = FailureOf(status);
  std::optional<types::Error> cni = CniErrorOf(status);
  const uint32_t code = cni.has_value() ? cni->code() : 0;
  if (style == Style::kJson) {
    return Json(
        Obj({{"error", Str(status.message())},
             {"code", Num(code)},
             {"network", failure.has_value() && !failure->network.empty()
                             ? Str(failure->network)
                             : Null()},
             {"plugin", failure.has_value() && !failure->plugin.empty()
                            ? Str(failure->plugin)
                            : Null()}}));
  }
  std::string out =
      absl::StrCat("ocicnictl ", command, " failed: ", status.message(), "\n");
  // The library's messages name the network, plugin and CNI code; add
  // whichever of them a message leaves out.
  const absl::string_view message = status.message();
  auto names = [&](const std::string& s) {
    return absl::StrContains(message, absl::StrCat("\"", s, "\""));
  };
  std::vector<std::string> where;
  if (failure.has_value() && !failure->network.empty() &&
      !names(failure->network)) {
    where.push_back(absl::StrCat("network \"", failure->network, "\""));
  }
  if (failure.has_value() && !failure->plugin.empty() &&
      !names(failure->plugin)) {
    where.push_back(absl::StrCat("plugin \"", failure->plugin, "\""));
  }
  if (code != 0 &&
      !absl::StrContains(message, absl::StrCat("CNI error code ", code))) {
    where.push_back(absl::StrCat("CNI error code ", code));
  }
  if (!where.empty())
    absl::StrAppend(&out, "  (", absl::StrJoin(where, ", "), ")\n");
  return out;
}

std::string FormatUsageError(const std::string& message,
                             const std::string& help_command, Style style) {
  if (style == Style::kJson) {
    return Json(Obj({{"error", Str(message)},
                     {"code", Num(0)},
                     {"network", Null()},
                     {"plugin", Null()}}));
  }
  return absl::StrCat(
      "ocicnictl: ", message, "\nRun 'ocicnictl ",
      help_command.empty() ? "" : absl::StrCat(help_command, " "),
      "--help' for usage.\n");
}

}  // namespace ocicni::ctl
