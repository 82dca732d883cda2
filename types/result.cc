#include "types/result.h"

#include <arpa/inet.h>

#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "types/json.h"
#include "types/version.h"

namespace ocicni::types {
namespace {

bool IsLegacy(absl::string_view version) {
  return !VersionAtLeast(version, "0.3.0");
}

bool IsPre100(absl::string_view version) {
  return !VersionAtLeast(version, "1.0.0");
}

absl::Status Invalid(absl::string_view what, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", reason));
}

// CidrFamily returns the family of "ip/prefix" with a valid prefix, else 0.
int CidrFamily(absl::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == absl::string_view::npos) return 0;
  int family = IPFamily(cidr.substr(0, slash));
  int prefix;
  absl::string_view digits = cidr.substr(slash + 1);
  if (family == 0 || digits.empty() || digits.size() > 3 ||
      !absl::SimpleAtoi(digits, &prefix) || prefix < 0 ||
      prefix > (family == 4 ? 32 : 128)) {
    return 0;
  }
  return family;
}

absl::Status CheckRoutes(
    const google::protobuf::RepeatedPtrField<Route>& routes,
    absl::string_view what) {
  for (const Route& route : routes) {
    if (CidrFamily(route.dst()) == 0) {
      return Invalid(what, absl::StrCat("route dst \"", route.dst(),
                                        "\" is not an IP/prefix"));
    }
    if (!route.gw().empty() && IPFamily(route.gw()) == 0) {
      return Invalid(what, absl::StrCat("route gw \"", route.gw(),
                                        "\" is not an IP address"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLegacyIP(const LegacyIPConfig& ip, int family,
                           absl::string_view key, absl::string_view what) {
  if (CidrFamily(ip.ip()) != family) {
    return Invalid(what, absl::StrCat(key, ".ip \"", ip.ip(),
                                      "\" is not an IPv", family, " CIDR"));
  }
  if (!ip.gateway().empty() && IPFamily(ip.gateway()) == 0) {
    return Invalid(what, absl::StrCat(key, ".gateway \"", ip.gateway(),
                                      "\" is not an IP address"));
  }
  return CheckRoutes(ip.routes(), what);
}

bool DnsEmpty(const DNS& dns) {
  return dns.nameservers().empty() && dns.domain().empty() &&
         dns.search().empty() && dns.options().empty();
}

// ToCurrent returns the result in the 1.x shape (no ips[].version, no
// ip4/ip6), keeping its version string. It takes `in` apart.
Result ToCurrent(Result in) {
  Result out;
  out.set_cni_version(std::move(*in.mutable_cni_version()));
  if (!DnsEmpty(in.dns())) out.mutable_dns()->Swap(in.mutable_dns());
  if (IsLegacy(out.cni_version())) {
    for (LegacyIPConfig* legacy : {in.mutable_ip4(), in.mutable_ip6()}) {
      if (legacy->ip().empty()) continue;
      IPConfig* ip = out.add_ips();
      ip->set_address(legacy->ip());
      ip->set_gateway(legacy->gateway());
      for (Route& route : *legacy->mutable_routes()) {
        out.add_routes()->Swap(&route);
      }
    }
    return out;
  }
  out.mutable_interfaces()->Swap(in.mutable_interfaces());
  out.mutable_ips()->Swap(in.mutable_ips());
  out.mutable_routes()->Swap(in.mutable_routes());
  for (IPConfig& ip : *out.mutable_ips()) ip.clear_version();
  return out;
}

// KeepScalar says whether a proto3 string or integer field without
// presence, read from `value`, is written out again: not when it holds its
// default. The fast reader has checked the value's type.
bool KeepScalar(const google::protobuf::Value& value) {
  return value.kind_case() == google::protobuf::Value::kStringValue
             ? !value.string_value().empty()
             : value.number_value() != 0;
}

// KeepList says the same of a repeated field: not when it is empty.
bool KeepList(const google::protobuf::Value& value) {
  return value.list_value().values_size() > 0;
}

using Fields = google::protobuf::Map<std::string, google::protobuf::Value>;

// Trim drops from `fields` each entry `keep` refuses.
template <typename Keep>
void Trim(Fields* fields, Keep keep) {
  for (auto it = fields->begin(); it != fields->end();) {
    it = keep(it->first, it->second) ? std::next(it) : fields->erase(it);
  }
}

// TrimElements applies `trim` to the objects of a list of messages.
template <typename TrimOne>
void TrimElements(google::protobuf::Value* list, TrimOne trim) {
  for (google::protobuf::Value& element :
       *list->mutable_list_value()->mutable_values()) {
    trim(element.mutable_struct_value()->mutable_fields());
  }
}

// TrimToValue turns the object a non-legacy result was read from (directly)
// into MessageToValue(ConvertResult(result, to_version)) for a non-legacy
// `to_version`: what ToCurrent and ConvertResult drop, and what the
// message's JSON leaves out (unknown keys, defaults, empty lists and an
// empty dns), is erased; ips[].version is set below 1.0.0.
void TrimToValue(Fields* top, absl::string_view to_version) {
  const bool pre100 = IsPre100(to_version);
  auto trim_interface = [pre100](Fields* f) {
    Trim(f, [pre100](const std::string& k, const google::protobuf::Value& v) {
      if (k == "name" || k == "mac" || k == "sandbox") return KeepScalar(v);
      if (k == "mtu" || k == "socketPath" || k == "pciID") {
        return !pre100 && KeepScalar(v);
      }
      return false;
    });
  };
  auto trim_ip = [pre100](Fields* f) {
    Trim(f, [](const std::string& k, const google::protobuf::Value& v) {
      if (k == "interface") return true;  // Has presence.
      if (k == "address" || k == "gateway") return KeepScalar(v);
      return false;  // version included: ToCurrent clears it.
    });
    if (pre100) {
      auto address = f->find("address");
      const int family =
          IPFamily(address == f->end() ? "" : address->second.string_value());
      (*f)["version"].set_string_value(family == 6 ? "6" : "4");
    }
  };
  auto trim_route = [](Fields* f) {
    Trim(f, [](const std::string& k, const google::protobuf::Value& v) {
      if (k == "table" || k == "scope") return true;  // Have presence.
      if (k == "dst" || k == "gw" || k == "mtu" || k == "advmss" ||
          k == "priority") {
        return KeepScalar(v);
      }
      return false;
    });
  };
  Trim(top, [&](const std::string& k, google::protobuf::Value& v) {
    if (k == "interfaces") {
      if (!KeepList(v)) return false;
      TrimElements(&v, trim_interface);
      return true;
    }
    if (k == "ips") {
      if (!KeepList(v)) return false;
      TrimElements(&v, trim_ip);
      return true;
    }
    if (k == "routes") {
      if (!KeepList(v)) return false;
      TrimElements(&v, trim_route);
      return true;
    }
    if (k == "dns") {
      Fields* dns = v.mutable_struct_value()->mutable_fields();
      Trim(dns, [](const std::string& dk, const google::protobuf::Value& dv) {
        if (dk == "domain") return KeepScalar(dv);
        if (dk == "nameservers" || dk == "search" || dk == "options") {
          return KeepList(dv);
        }
        return false;
      });
      return !dns->empty();  // ToCurrent drops an empty dns.
    }
    return false;  // cniVersion is set below; ip4/ip6 and unknown keys go.
  });
  (*top)["cniVersion"].set_string_value(std::string(to_version));
}

// FinishDecode fills in a missing version and validates.
absl::StatusOr<Result> FinishDecode(Result result,
                                    absl::string_view config_version,
                                    absl::string_view what) {
  if (result.cni_version().empty()) {
    result.set_cni_version(
        config_version.empty() ? "0.1.0" : std::string(config_version));
  }
  OCICNI_RETURN_IF_ERROR(ValidateResult(result, what));
  return result;
}

}  // namespace

int IPFamily(absl::string_view address) {
  size_t slash = address.find('/');
  std::string ip(address.substr(0, slash));
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return 4;
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return 6;
  return 0;
}

absl::Status ValidateResult(const Result& result, absl::string_view what) {
  if (!IsSupportedVersion(result.cni_version())) {
    return Invalid(what, absl::StrCat("unsupported result cniVersion \"",
                                      result.cni_version(), "\""));
  }
  if (IsLegacy(result.cni_version())) {
    if (result.has_ip4()) {
      OCICNI_RETURN_IF_ERROR(CheckLegacyIP(result.ip4(), 4, "ip4", what));
    }
    if (result.has_ip6()) {
      OCICNI_RETURN_IF_ERROR(CheckLegacyIP(result.ip6(), 6, "ip6", what));
    }
    return absl::OkStatus();
  }
  for (int i = 0; i < result.ips_size(); ++i) {
    const IPConfig& ip = result.ips(i);
    if (CidrFamily(ip.address()) == 0) {
      return Invalid(what, absl::StrCat("ips[", i, "].address \"", ip.address(),
                                        "\" is not an IP/prefix"));
    }
    if (!ip.gateway().empty() && IPFamily(ip.gateway()) == 0) {
      return Invalid(what, absl::StrCat("ips[", i, "].gateway \"", ip.gateway(),
                                        "\" is not an IP address"));
    }
    if (ip.has_interface() &&
        (ip.interface() < 0 || ip.interface() >= result.interfaces_size())) {
      return Invalid(what,
                     absl::StrCat("ips[", i, "].interface ", ip.interface(),
                                  " is out of range (the result has ",
                                  result.interfaces_size(), " interfaces)"));
    }
  }
  return CheckRoutes(result.routes(), what);
}

namespace {

namespace fr = field_reader;

// The readers of the messages in a Result (ResultReader).
const MessageReader& RouteReader() {
  using M = types::Route;
  static constexpr FieldReader kFields[] = {
      {"dst", "dst", false, fr::String<M, &M::mutable_dst>},
      {"gw", "gw", false, fr::String<M, &M::mutable_gw>},
      {"mtu", "mtu", false, fr::Int32<M, &M::set_mtu>},
      {"advmss", "advmss", false, fr::Int32<M, &M::set_advmss>},
      {"priority", "priority", false, fr::Int32<M, &M::set_priority>},
      {"table", "table", false, fr::Int32<M, &M::set_table>},
      {"scope", "scope", false, fr::Int32<M, &M::set_scope>},
  };
  static constexpr MessageReader kReader{kFields, std::size(kFields)};
  return kReader;
}

const MessageReader& InterfaceReader() {
  using M = types::Interface;
  static constexpr FieldReader kFields[] = {
      {"name", "name", false, fr::String<M, &M::mutable_name>},
      {"mac", "mac", false, fr::String<M, &M::mutable_mac>},
      {"mtu", "mtu", false, fr::Int32<M, &M::set_mtu>},
      {"sandbox", "sandbox", false, fr::String<M, &M::mutable_sandbox>},
      {"socketPath", "socket_path", false,
       fr::String<M, &M::mutable_socket_path>},
      {"pciID", "pci_id", false, fr::String<M, &M::mutable_pci_id>},
  };
  static constexpr MessageReader kReader{kFields, std::size(kFields)};
  return kReader;
}

const MessageReader& IPConfigReader() {
  using M = types::IPConfig;
  static constexpr FieldReader kFields[] = {
      {"interface", "interface", false, fr::Int32<M, &M::set_interface>},
      {"address", "address", false, fr::String<M, &M::mutable_address>},
      {"gateway", "gateway", false, fr::String<M, &M::mutable_gateway>},
      {"version", "version", false, fr::String<M, &M::mutable_version>},
  };
  static constexpr MessageReader kReader{kFields, std::size(kFields)};
  return kReader;
}

const MessageReader& DNSReader() {
  using M = types::DNS;
  static constexpr FieldReader kFields[] = {
      {"nameservers", "nameservers", true, fr::String<M, &M::add_nameservers>},
      {"domain", "domain", false, fr::String<M, &M::mutable_domain>},
      {"search", "search", true, fr::String<M, &M::add_search>},
      {"options", "options", true, fr::String<M, &M::add_options>},
  };
  static constexpr MessageReader kReader{kFields, std::size(kFields)};
  return kReader;
}

const MessageReader& LegacyIPConfigReader() {
  using M = types::LegacyIPConfig;
  static constexpr FieldReader kFields[] = {
      {"ip", "ip", false, fr::String<M, &M::mutable_ip>},
      {"gateway", "gateway", false, fr::String<M, &M::mutable_gateway>},
      {"routes", "routes", true,
       fr::Object<M, types::Route, &M::add_routes, RouteReader>},
  };
  static constexpr MessageReader kReader{kFields, std::size(kFields)};
  return kReader;
}

}  // namespace

const MessageReader& ResultReader() {
  using M = Result;
  static constexpr FieldReader kFields[] = {
      {"cniVersion", "cni_version", false,
       fr::String<M, &M::mutable_cni_version>},
      {"interfaces", "interfaces", true,
       fr::Object<M, Interface, &M::add_interfaces, InterfaceReader>},
      {"ips", "ips", true,
       fr::Object<M, IPConfig, &M::add_ips, IPConfigReader>},
      {"routes", "routes", true,
       fr::Object<M, Route, &M::add_routes, RouteReader>},
      {"dns", "dns", false, fr::Object<M, DNS, &M::mutable_dns, DNSReader>},
      {"ip4", "ip4", false,
       fr::Object<M, LegacyIPConfig, &M::mutable_ip4, LegacyIPConfigReader>},
      {"ip6", "ip6", false,
       fr::Object<M, LegacyIPConfig, &M::mutable_ip6, LegacyIPConfigReader>},
  };
  static constexpr MessageReader kReader{kFields, std::size(kFields)};
  return kReader;
}

absl::StatusOr<Result> DecodeResult(absl::string_view output,
                                    absl::string_view config_version,
                                    absl::string_view plugin) {
  std::string what = absl::StrCat("result of plugin ", plugin);
  Result result;
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(output), "{")) {
    // An object: read straight into the message (one parse).
    std::optional<google::protobuf::Struct> object;
    OCICNI_RETURN_IF_ERROR(
        ParseMessageInto(output, what, ResultReader(), &result, &object));
  } else {
    OCICNI_ASSIGN_OR_RETURN(google::protobuf::Value value,
                            ParseJson(output, what));
    if (value.kind_case() != google::protobuf::Value::kNullValue) {
      return Invalid(what, "expected a JSON object");
    }
  }
  return FinishDecode(std::move(result), config_version, what);
}

absl::StatusOr<Result> DecodeResult(const google::protobuf::Struct& object,
                                    absl::string_view config_version,
                                    absl::string_view plugin) {
  std::string what = absl::StrCat("result of plugin ", plugin);
  Result result;
  bool direct;
  OCICNI_RETURN_IF_ERROR(
      ValueToMessage(object, what, ResultReader(), &result, &direct));
  return FinishDecode(std::move(result), config_version, what);
}

absl::StatusOr<DecodedResult> DecodeResultWithObject(
    absl::string_view output, absl::string_view config_version,
    absl::string_view plugin) {
  std::string what = absl::StrCat("result of plugin ", plugin);
  DecodedResult decoded;
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(output), "{")) {
    OCICNI_RETURN_IF_ERROR(ParseMessageInto(output, what, ResultReader(),
                                            &decoded.result, &decoded.object));
  } else {
    OCICNI_ASSIGN_OR_RETURN(google::protobuf::Value value,
                            ParseJson(output, what));
    if (value.kind_case() != google::protobuf::Value::kNullValue) {
      return Invalid(what, "expected a JSON object");
    }
  }
  OCICNI_ASSIGN_OR_RETURN(
      decoded.result,
      FinishDecode(std::move(decoded.result), config_version, what));
  return decoded;
}

absl::StatusOr<DecodedResult> DecodeResultWithObject(
    google::protobuf::Struct object, absl::string_view config_version,
    absl::string_view plugin) {
  std::string what = absl::StrCat("result of plugin ", plugin);
  DecodedResult decoded;
  bool direct = false;
  OCICNI_RETURN_IF_ERROR(
      ValueToMessage(object, what, ResultReader(), &decoded.result, &direct));
  if (direct) decoded.object = std::move(object);
  OCICNI_ASSIGN_OR_RETURN(
      decoded.result,
      FinishDecode(std::move(decoded.result), config_version, what));
  return decoded;
}

absl::StatusOr<ConvertedResult> ConvertResultWithValue(
    DecodedResult decoded, absl::string_view to_version) {
  ConvertedResult out;
  const bool in_place =
      decoded.object.has_value() && IsSupportedVersion(to_version) &&
      !IsLegacy(to_version) && !IsLegacy(decoded.result.cni_version());
  OCICNI_ASSIGN_OR_RETURN(out.result,
                          ConvertResult(std::move(decoded.result), to_version));
  if (in_place) {
    TrimToValue(decoded.object->mutable_fields(), to_version);
    out.value = ObjectValue(*std::move(decoded.object));
    return out;
  }
  // A Result always converts (no map, enum or 64-bit field).
  OCICNI_ASSIGN_OR_RETURN(out.value, MessageToValue(out.result));
  return out;
}

absl::StatusOr<Result> ConvertResult(const Result& result,
                                     absl::string_view to_version) {
  return ConvertResult(Result(result), to_version);
}

absl::StatusOr<Result> ConvertResult(Result&& result,
                                     absl::string_view to_version) {
  if (!IsSupportedVersion(to_version)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot convert result to unsupported version \"", to_version, "\""));
  }
  std::string target(to_version.empty() ? "0.1.0" : to_version);
  Result current = ToCurrent(std::move(result));
  current.set_cni_version(target);
  if (!IsPre100(target)) return current;

  if (!IsLegacy(target)) {
    for (Interface& iface : *current.mutable_interfaces()) {
      iface.clear_mtu();
      iface.clear_socket_path();
      iface.clear_pci_id();
    }
    for (IPConfig& ip : *current.mutable_ips()) {
      ip.set_version(IPFamily(ip.address()) == 6 ? "6" : "4");
    }
    return current;
  }

  Result legacy;
  legacy.set_cni_version(target);
  if (current.has_dns()) *legacy.mutable_dns() = current.dns();
  for (const IPConfig& ip : current.ips()) {
    LegacyIPConfig* slot = IPFamily(ip.address()) == 6 ? legacy.mutable_ip6()
                                                       : legacy.mutable_ip4();
    if (!slot->ip().empty()) continue;  // Only the first of each family.
    slot->set_ip(ip.address());
    slot->set_gateway(ip.gateway());
  }
  if (!legacy.has_ip4() && !legacy.has_ip6()) {
    return absl::InvalidArgumentError("cannot convert: no valid IP addresses");
  }
  for (const Route& route : current.routes()) {
    LegacyIPConfig* slot = IPFamily(route.dst()) == 6 ? legacy.mutable_ip6()
                                                      : legacy.mutable_ip4();
    if (slot->ip().empty()) continue;  // No address of that family.
    Route* out = slot->add_routes();
    out->set_dst(route.dst());
    out->set_gw(route.gw());
  }
  // mutable_ip4()/ip6() above may have created an empty block.
  if (legacy.ip4().ip().empty()) legacy.clear_ip4();
  if (legacy.ip6().ip().empty()) legacy.clear_ip6();
  return legacy;
}

}  // namespace ocicni::types
