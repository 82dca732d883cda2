#include "types/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace ocicni::types {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

absl::Status InvalidJson(absl::string_view what, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": invalid JSON: ", reason));
}

void AppendString(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '<':
      case '>':
      case '&':
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else if (c == 0xe2 && i + 2 < s.size() &&
                   static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
          // U+2028 and U+2029, escaped as Go does.
          out->append(static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028"
                                                                   : "\\u2029");
          i += 2;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void AppendNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {  // Not representable in JSON; cannot come from it.
    out->append("null");
    return;
  }
  // Negative zero is written as 0: the parser reads "-0" back as +0 (as an
  // integer), so "-0" would not survive a round trip and the output would
  // not be canonical. The sign of zero means nothing in CNI data.
  if (d == 0) d = 0;
  char buf[64];
  std::to_chars_result r;
  if (d == std::trunc(d) && std::fabs(d) < 1e21) {
    r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), d);
  }
  out->append(buf, r.ptr);
}

void AppendValue(const Value& value, std::string* out);

void AppendObject(const Struct& object, std::string* out) {
  std::vector<const google::protobuf::MapPair<std::string, Value>*> fields;
  fields.reserve(object.fields_size());
  for (const auto& field : object.fields()) fields.push_back(&field);
  std::sort(fields.begin(), fields.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  out->push_back('{');
  bool first = true;
  for (const auto* field : fields) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(field->first, out);
    out->push_back(':');
    AppendValue(field->second, out);
  }
  out->push_back('}');
}

void AppendList(const ListValue& list, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < list.values_size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendValue(list.values(i), out);
  }
  out->push_back(']');
}

void AppendValue(const Value& value, std::string* out) {
  switch (value.kind_case()) {
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      out->append("null");
      break;
    case Value::kNumberValue:
      AppendNumber(value.number_value(), out);
      break;
    case Value::kStringValue:
      AppendString(value.string_value(), out);
      break;
    case Value::kBoolValue:
      out->append(value.bool_value() ? "true" : "false");
      break;
    case Value::kStructValue:
      AppendObject(value.struct_value(), out);
      break;
    case Value::kListValue:
      AppendList(value.list_value(), out);
      break;
  }
}

// ReflectMessage converts `message` to its JSON value the way protobuf's
// JSON printer does with default options (json_name keys, fields without
// presence left out when they hold their default, bytes as base64), without
// printing and parsing text. False for what it does not handle (maps, 64-bit
// integers, enums, floats that are not finite, well-known types other than
// Struct/Value/ListValue); the caller then falls back to the printer.
bool ReflectMessage(const google::protobuf::Message& message, Value* out);

bool ReflectField(const google::protobuf::Message& message,
                  const google::protobuf::FieldDescriptor* field, int index,
                  Value* out) {
  using FD = google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FD::CPPTYPE_INT32:
      out->set_number_value(repeated
                                ? r->GetRepeatedInt32(message, field, index)
                                : r->GetInt32(message, field));
      return true;
    case FD::CPPTYPE_UINT32:
      out->set_number_value(repeated
                                ? r->GetRepeatedUInt32(message, field, index)
                                : r->GetUInt32(message, field));
      return true;
    case FD::CPPTYPE_DOUBLE: {
      double d = repeated ? r->GetRepeatedDouble(message, field, index)
                          : r->GetDouble(message, field);
      if (!std::isfinite(d)) return false;
      out->set_number_value(d);
      return true;
    }
    case FD::CPPTYPE_BOOL:
      out->set_bool_value(repeated ? r->GetRepeatedBool(message, field, index)
                                   : r->GetBool(message, field));
      return true;
    case FD::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s =
          repeated
              ? r->GetRepeatedStringReference(message, field, index, &scratch)
              : r->GetStringReference(message, field, &scratch);
      if (field->type() == FD::TYPE_BYTES) {
        out->set_string_value(absl::Base64Escape(s));
      } else {
        out->set_string_value(s);
      }
      return true;
    }
    case FD::CPPTYPE_MESSAGE:
      return ReflectMessage(repeated
                                ? r->GetRepeatedMessage(message, field, index)
                                : r->GetMessage(message, field),
                            out);
    default:
      return false;
  }
}

bool ReflectMessage(const google::protobuf::Message& message, Value* out) {
  const google::protobuf::Descriptor* type = message.GetDescriptor();
  if (type == Struct::descriptor()) {
    out->mutable_struct_value()->CopyFrom(message);
    return true;
  }
  if (type == ListValue::descriptor()) {
    out->mutable_list_value()->CopyFrom(message);
    return true;
  }
  if (type == Value::descriptor()) {
    out->CopyFrom(message);
    return true;
  }
  if (type->file()->package() == "google.protobuf") return false;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  auto& object = *out->mutable_struct_value()->mutable_fields();
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->is_map()) return false;
    Value& value = object[field->json_name()];
    if (!field->is_repeated()) {
      if (!ReflectField(message, field, -1, &value)) return false;
      continue;
    }
    ListValue* list = value.mutable_list_value();
    const int size = message.GetReflection()->FieldSize(message, field);
    for (int i = 0; i < size; ++i) {
      if (!ReflectField(message, field, i, list->add_values())) return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<Value> ParseJson(absl::string_view json,
                                absl::string_view what) {
  if (json.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return InvalidJson(what, "empty input");
  }
  Value value;
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value, options);
  if (!status.ok()) return InvalidJson(what, status.message().ToString());
  return value;
}

absl::StatusOr<Struct> ParseJsonObject(absl::string_view json,
                                       absl::string_view what) {
  absl::StatusOr<Value> value = ParseJson(json, what);
  if (!value.ok()) return value.status();
  if (value->kind_case() != Value::kStructValue) {
    return InvalidJson(what, "expected a JSON object");
  }
  return std::move(*value->mutable_struct_value());
}

std::string WriteJson(const Value& value) {
  std::string out;
  AppendValue(value, &out);
  return out;
}

std::string WriteJson(const Struct& object) {
  std::string out;
  AppendObject(object, &out);
  return out;
}

absl::StatusOr<Value> MessageToValue(const google::protobuf::Message& message) {
  Value value;
  if (ReflectMessage(message, &value)) return value;
  // A field kind the direct conversion does not handle: go through
  // protobuf's JSON printer.
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot encode ",
                                            message.GetTypeName(), ": ",
                                            status.message().ToString()));
  }
  return ParseJson(json, message.GetTypeName());
}

std::string WriteMessage(const google::protobuf::Message& message) {
  absl::StatusOr<Value> value = MessageToValue(message);
  // Encoding a well-formed message cannot fail; an empty object is the
  // conservative answer if it ever did.
  return value.ok() ? WriteJson(*value) : "{}";
}

absl::Status ParseMessageInto(absl::string_view json, absl::string_view what,
                              google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message,
      options);
  if (!status.ok()) return InvalidJson(what, status.message().ToString());
  return absl::OkStatus();
}

absl::Status ValueToMessage(const Value& value, absl::string_view what,
                            google::protobuf::Message* message) {
  return ParseMessageInto(WriteJson(value), what, message);
}

Value ObjectValue(Struct object) {
  Value v;
  *v.mutable_struct_value() = std::move(object);
  return v;
}

Value StringValue(absl::string_view s) {
  Value v;
  v.set_string_value(std::string(s));
  return v;
}

}  // namespace ocicni::types
