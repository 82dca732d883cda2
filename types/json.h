// JSON reading and writing for CNI wire data.
//
// Parsing accepts what protobuf's JSON utilities accept and reads it the
// same: they reject duplicate keys and trailing garbage; they tolerate a
// trailing comma in an array or object. A small strict parser reads plain
// RFC 8259 JSON (what plugins and files hold) without protobuf's converter;
// anything it is not sure of (extensions, duplicates, errors, huge integers,
// odd escapes, deep nesting) goes to protobuf's parser, which words every
// error. Writing goes through one canonical writer so that the
// same input always gives the same bytes: object keys sorted byte-wise at
// every level, no insignificant whitespace, numbers in their shortest
// round-trip form (negative zero as 0), and the same string escaping as Go's
// encoding/json (so what plugins receive matches libcni).
//
//   OCICNI_ASSIGN_OR_RETURN(google::protobuf::Value conf,
//                           ParseJson(bytes, "/etc/cni/net.d/10-a.conflist"));
//   std::string out = WriteJson(conf);
//
//   OCICNI_ASSIGN_OR_RETURN(Error err, ParseMessage<Error>(stdout, "bridge"));
//   std::string json = WriteMessage(err);
#ifndef OCICNI_TYPES_JSON_H_
#define OCICNI_TYPES_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace ocicni::types {

// ParseJson parses any JSON text (object, array, scalar or null) into a
// Value. `what` names the source (a file, a plugin) in the error.
// Errors: kInvalidArgument "<what>: invalid JSON: <reason>".
absl::StatusOr<google::protobuf::Value> ParseJson(absl::string_view json,
                                                  absl::string_view what);

// ParseJsonObject is ParseJson that also requires an object.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(
    absl::string_view json, absl::string_view what);

// WriteJson writes `value` canonically (see the file comment).
std::string WriteJson(const google::protobuf::Value& value);
std::string WriteJson(const google::protobuf::Struct& object);

// AppendJson and AppendJsonString append what WriteJson writes (for a
// string: the JSON string) to `out`, for writers that build a larger text.
void AppendJson(const google::protobuf::Value& value, std::string* out);
void AppendJson(const google::protobuf::Struct& object, std::string* out);
void AppendJson(const google::protobuf::ListValue& list, std::string* out);
void AppendJsonString(absl::string_view s, std::string* out);

// MessageToValue converts a typed message to its JSON value (json_names as
// keys, unset/empty fields left out).
absl::StatusOr<google::protobuf::Value> MessageToValue(
    const google::protobuf::Message& message);

// WriteMessage writes a typed message canonically.
std::string WriteMessage(const google::protobuf::Message& message);

// ParseMessageInto reads JSON into a typed message. Unknown keys are ignored
// (CNI requires tolerating them). Errors: kInvalidArgument naming `what`.
absl::Status ParseMessageInto(absl::string_view json, absl::string_view what,
                              google::protobuf::Message* message);

// ParseMessageInto with `object` reads `json` as the other overload does
// and also hands back the JSON object it read `message` from, when the fast
// path read it (plain JSON, every known key of the type and shape the field
// wants, no nulls); otherwise (protobuf's parser decided, or an error)
// `*object` is nullopt. With an object, `message` holds exactly the object's
// known keys, and every other key of the object is one the message ignores.
absl::Status ParseMessageInto(absl::string_view json, absl::string_view what,
                              google::protobuf::Message* message,
                              std::optional<google::protobuf::Struct>* object);

// ValueToMessage reads a Value (or an object) into a typed message, as
// ParseMessageInto does with its JSON text.
absl::Status ValueToMessage(const google::protobuf::Value& value,
                            absl::string_view what,
                            google::protobuf::Message* message);
absl::Status ValueToMessage(const google::protobuf::Struct& object,
                            absl::string_view what,
                            google::protobuf::Message* message);

// ValueToMessage with `direct` also says whether the object was read by the
// fast path (as ParseMessageInto's `object` above), not by protobuf's parser.
absl::Status ValueToMessage(const google::protobuf::Struct& object,
                            absl::string_view what,
                            google::protobuf::Message* message, bool* direct);

// FieldReader is one field of a MessageReader: its JSON and proto names,
// and `read`, which reads one value (one element when `repeated`) into the
// message, false when the fast path leaves the value to protobuf.
struct FieldReader {
  absl::string_view json_name;
  absl::string_view proto_name;
  bool repeated = false;
  bool (*read)(const google::protobuf::Value& value, int depth,
               google::protobuf::Message* message) = nullptr;
};

// MessageReader reads a JSON object into a message of one type through its
// generated accessors, without protobuf's reflection. The first use of
// reflection in a process builds the descriptors of protobuf's generated
// pool (code and heap that then stay resident), and reflection costs a
// lookup per key, so a type read on every pod gets a reader. It decides
// exactly as the reflection fast path of ParseMessageInto above does: the
// same keys read, the same input left to protobuf's parser. A reader lists
// every field of its type (a test checks it against the descriptor);
// types/result.h has the reader of a Result.
struct MessageReader {
  const FieldReader* fields = nullptr;
  size_t count = 0;
};

// ParseMessageInto and ValueToMessage with a reader read as the overloads
// above do, through `reader` (the reader of `message`'s type) on the fast
// path; what the fast path leaves goes to protobuf's parser.
absl::Status ParseMessageInto(absl::string_view json, absl::string_view what,
                              const MessageReader& reader,
                              google::protobuf::Message* message,
                              std::optional<google::protobuf::Struct>* object);
absl::Status ValueToMessage(const google::protobuf::Struct& object,
                            absl::string_view what, const MessageReader& reader,
                            google::protobuf::Message* message, bool* direct);

// The field readers a MessageReader is made of, by the field's kind:
// `set`/`add` is the field's generated setter, `mutable_`/`add_` accessor.
namespace field_reader {

// ReadInt32 and ReadString check `value` as the fast path does for such a
// field and store it; ReadObject reads a nested object with `reader`.
bool ReadInt32(const google::protobuf::Value& value, int32_t* out);
bool ReadString(const google::protobuf::Value& value, std::string* out);
bool ReadObject(const google::protobuf::Value& value, int depth,
                const MessageReader& reader, google::protobuf::Message* out);

template <typename M, void (M::*set)(int32_t)>
bool Int32(const google::protobuf::Value& value, int,
           google::protobuf::Message* message) {
  int32_t n;
  if (!ReadInt32(value, &n)) return false;
  (static_cast<M*>(message)->*set)(n);
  return true;
}

// For a string (`mutable_foo`) or an element of a repeated string
// (`add_foo`).
template <typename M, std::string* (M::*get)()>
bool String(const google::protobuf::Value& value, int,
            google::protobuf::Message* message) {
  return ReadString(value, (static_cast<M*>(message)->*get)());
}

// For a message (`mutable_foo`) or an element of a repeated message
// (`add_foo`), read by `reader()`.
template <typename M, typename Sub, Sub* (M::*get)(),
          const MessageReader& (*reader)()>
bool Object(const google::protobuf::Value& value, int depth,
            google::protobuf::Message* message) {
  return ReadObject(value, depth, reader(), (static_cast<M*>(message)->*get)());
}

}  // namespace field_reader

template <typename T>
absl::StatusOr<T> ParseMessage(absl::string_view json, absl::string_view what) {
  T message;
  absl::Status status = ParseMessageInto(json, what, &message);
  if (!status.ok()) return status;
  return message;
}

// ObjectValue wraps a Struct into a Value.
google::protobuf::Value ObjectValue(google::protobuf::Struct object);
// StringValue makes a string Value.
google::protobuf::Value StringValue(absl::string_view s);

namespace internal {

// ProtobufParseJsonForTest and ProtobufParseMessageIntoForTest are ParseJson
// and ParseMessageInto through protobuf's parser only: the reference the
// fast paths are tested against.
absl::StatusOr<google::protobuf::Value> ProtobufParseJsonForTest(
    absl::string_view json, absl::string_view what);
absl::Status ProtobufParseMessageIntoForTest(
    absl::string_view json, absl::string_view what,
    google::protobuf::Message* message);

}  // namespace internal

}  // namespace ocicni::types

#endif  // OCICNI_TYPES_JSON_H_
