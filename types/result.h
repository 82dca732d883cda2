// Plugin results: decoding a plugin's ADD output and converting it between
// spec versions.
//
// A Result (types/cni.proto) holds any version's shape. DecodeResult reads a
// plugin's stdout in the version it claims (or the config's, when it claims
// none) and checks it; ConvertResult produces another version's shape:
//
//   OCICNI_ASSIGN_OR_RETURN(Result r,
//                           DecodeResult(stdout, "1.0.0", "bridge"));
//   OCICNI_ASSIGN_OR_RETURN(Result old, ConvertResult(r, "0.4.0"));
//   std::string json = WriteMessage(old);  // ips[].version filled in
//
// Conversion rules (spec and libcni):
//   1.x -> 0.3.x/0.4.0: ips[].version "4"/"6" added from the address family;
//     interfaces lose mtu, socketPath and pciID.
//   any -> 0.1.0/0.2.0: the first IPv4 and first IPv6 address become ip4 and
//     ip6, routes are split by the family of their destination, interfaces
//     are dropped; no address at all is an error.
//   0.1.0/0.2.0 -> newer: ip4/ip6 become ips (without an interface index) and
//     their routes are merged, IPv4 first.
//   1.0.0 <-> 1.1.0: only the version string changes.
#ifndef OCICNI_TYPES_RESULT_H_
#define OCICNI_TYPES_RESULT_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "types/cni.pb.h"
#include "types/json.h"

namespace ocicni::types {

// DecodeResult reads a plugin's ADD output. A missing cniVersion means the
// config's version `config_version`; the output `null` is an empty result in
// that version. Errors (kInvalidArgument, naming `plugin`): bad JSON, an
// unsupported version, an address or gateway that is not an IP (CIDR for
// addresses), an ips[].interface index outside interfaces.
absl::StatusOr<Result> DecodeResult(absl::string_view output,
                                    absl::string_view config_version,
                                    absl::string_view plugin);

// DecodeResult reads a result already parsed into an object (a cached
// result) exactly as the other overload reads that object written as JSON,
// without writing and parsing it.
absl::StatusOr<Result> DecodeResult(const google::protobuf::Struct& object,
                                    absl::string_view config_version,
                                    absl::string_view plugin);

// DecodedResult is a decoded result together with the JSON object it was
// read from, when that object can stand for it (see DecodeResultWithObject).
struct DecodedResult {
  Result result;
  // The parsed object, when every key the result type knows was read from it
  // directly; nullopt otherwise. It keeps the keys the result ignores.
  std::optional<google::protobuf::Struct> object;
};

// DecodeResultWithObject is DecodeResult (same result, same errors) that
// also keeps the parsed object for ConvertResultWithValue.
absl::StatusOr<DecodedResult> DecodeResultWithObject(
    absl::string_view output, absl::string_view config_version,
    absl::string_view plugin);
absl::StatusOr<DecodedResult> DecodeResultWithObject(
    google::protobuf::Struct object, absl::string_view config_version,
    absl::string_view plugin);

// ConvertedResult is a result in some version and its JSON value.
struct ConvertedResult {
  Result result;
  google::protobuf::Value value;
};

// ConvertResultWithValue is ConvertResult(decoded.result, to_version) and
// MessageToValue of its result (what plugins get as prevResult and the
// cache stores), with the same results and errors. When the decoded object
// is there and neither side is a legacy (0.1.0/0.2.0) version, the value is
// that object with what the conversion drops or adds changed in place,
// instead of a second walk over a message:
//
//   OCICNI_ASSIGN_OR_RETURN(DecodedResult d,
//                           DecodeResultWithObject(stdout, "1.0.0", "bridge"));
//   OCICNI_ASSIGN_OR_RETURN(ConvertedResult c,
//                           ConvertResultWithValue(std::move(d), "1.0.0"));
absl::StatusOr<ConvertedResult> ConvertResultWithValue(
    DecodedResult decoded, absl::string_view to_version);

// ValidateResult checks a result already in memory, as DecodeResult does.
absl::Status ValidateResult(const Result& result, absl::string_view what);

// ConvertResult returns `result` in the shape of `to_version`. Errors:
// kInvalidArgument for an unsupported version, or "cannot convert: no valid
// IP addresses" when converting to 0.1.0/0.2.0 a result without addresses.
absl::StatusOr<Result> ConvertResult(const Result& result,
                                     absl::string_view to_version);
// ConvertResult from a result the caller gives up: moves rather than copies.
absl::StatusOr<Result> ConvertResult(Result&& result,
                                     absl::string_view to_version);

// ResultReader reads a Result without protobuf's reflection (see
// MessageReader in types/json.h); DecodeResult and DecodeResultWithObject
// read through it.
const MessageReader& ResultReader();

// IPFamily returns 4 or 6 for an address with or without a /prefix, and 0
// when it is not an IP address.
int IPFamily(absl::string_view address);

}  // namespace ocicni::types

#endif  // OCICNI_TYPES_RESULT_H_
