#include "types/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace ocicni::types {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// How deep the fast paths go (objects and arrays); deeper input is left to
// protobuf, whose own limit is higher.
constexpr int kMaxFastDepth = 32;

absl::Status InvalidJson(absl::string_view what, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": invalid JSON: ", reason));
}

// kVerbatim marks the bytes AppendString copies as they are: all but '"',
// '\\', control characters, the HTML characters Go escapes, and 0xe2 (the
// first byte of U+2028/U+2029, looked at separately).
struct VerbatimTable {
  bool is[256] = {};
  constexpr VerbatimTable() {
    for (int c = 0x20; c < 256; ++c) {
      is[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' &&
              c != 0xe2;
    }
  }
  constexpr bool operator[](unsigned char c) const { return is[c]; }
};
constexpr VerbatimTable kVerbatim;

void AppendString(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // Start of the bytes not yet appended.
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (kVerbatim[c]) continue;
    if (c == 0xe2) {
      // U+2028 and U+2029, escaped as Go does; other sequences as they are.
      if (i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
           static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
        out->append(s.data() + run, i - run);
        out->append(static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028"
                                                                 : "\\u2029");
        i += 2;
        run = i + 1;
      }
      continue;
    }
    out->append(s.data() + run, i - run);
    run = i + 1;
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
      default:  // Other control characters, '<', '>', '&'.
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s.data() + run, s.size() - run);
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
  absl::InlinedVector<const google::protobuf::MapPair<std::string, Value>*, 16>
      fields;
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

// The well-known JSON types' descriptors, looked up once (each
// Foo::descriptor() call goes through a once-flag).
const google::protobuf::Descriptor* StructType() {
  static const google::protobuf::Descriptor* const type = Struct::descriptor();
  return type;
}
const google::protobuf::Descriptor* ListValueType() {
  static const google::protobuf::Descriptor* const type =
      ListValue::descriptor();
  return type;
}
const google::protobuf::Descriptor* ValueType() {
  static const google::protobuf::Descriptor* const type = Value::descriptor();
  return type;
}

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
  if (type == StructType()) {
    out->mutable_struct_value()->CopyFrom(message);
    return true;
  }
  if (type == ListValueType()) {
    out->mutable_list_value()->CopyFrom(message);
    return true;
  }
  if (type == ValueType()) {
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

// kPlain marks the bytes that stand for themselves in a JSON string:
// printable ASCII other than '"' and '\\'.
struct PlainTable {
  bool is[256] = {};
  constexpr PlainTable() {
    for (int c = 0x20; c < 0x80; ++c) is[c] = c != '"' && c != '\\';
  }
  constexpr bool operator[](unsigned char c) const { return is[c]; }
};
constexpr PlainTable kPlain;

// FastParser reads strict RFC 8259 JSON into a Value. It is the fast path
// of ParseJson: it accepts only input that protobuf's JSON parser accepts
// too and reads to the same Value, and gives up (returns false) on anything
// else, so that protobuf's parser decides and words the error. It gives up
// on: any syntax error or extension (trailing commas, comments, single
// quotes, bare keys), duplicate keys, integers of more than 15 digits
// (protobuf reads integers as int64 and rejects those a double cannot hold
// exactly), numbers out of double range, raw control characters, \u0000 and
// surrogate escapes in strings, invalid UTF-8, and nesting deeper than
// kMaxFastDepth.
class FastParser {
 public:
  explicit FastParser(absl::string_view in)
      : p_(in.data()), end_(in.data() + in.size()) {}

  bool ParseDocument(Value* out) {
    SkipSpace();
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ != end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  bool Literal(absl::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool ParseValue(Value* out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return ParseObject(out->mutable_struct_value(), depth + 1);
      case '[':
        return ParseArray(out->mutable_list_value(), depth + 1);
      case '"':
        return ParseString(out->mutable_string_value());
      case 't':
        if (!Literal("true")) return false;
        out->set_bool_value(true);
        return true;
      case 'f':
        if (!Literal("false")) return false;
        out->set_bool_value(false);
        return true;
      case 'n':
        if (!Literal("null")) return false;
        out->set_null_value(google::protobuf::NULL_VALUE);
        return true;
      default:
        return ParseNumber(out);
    }
  }

  // Open consumes an object's or array's opening bracket and the space
  // after it; true when it is empty (its `close` consumed too).
  bool Open(char close) {
    ++p_;
    SkipSpace();
    if (p_ == end_ || *p_ != close) return false;
    ++p_;
    return true;
  }

  // Next consumes what follows a member of an object or array: a comma and
  // the space after it, or `close` (then *closed is true). False on
  // anything else.
  bool Next(char close, bool* closed) {
    SkipSpace();
    if (p_ == end_) return false;
    *closed = *p_ == close;
    if (!*closed && *p_ != ',') return false;
    ++p_;
    if (!*closed) SkipSpace();
    return true;
  }

  bool ParseObject(Struct* out, int depth) {
    if (depth > kMaxFastDepth) return false;
    if (Open('}')) return true;
    auto& fields = *out->mutable_fields();
    std::string key;
    while (true) {
      if (p_ == end_ || *p_ != '"') return false;
      key.clear();
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipSpace();
      const size_t before = fields.size();
      Value& value = fields[key];
      if (fields.size() == before) return false;  // A duplicate key.
      if (!ParseValue(&value, depth)) return false;
      bool closed;
      if (!Next('}', &closed)) return false;
      if (closed) return true;
    }
  }

  bool ParseArray(ListValue* out, int depth) {
    if (depth > kMaxFastDepth) return false;
    if (Open(']')) return true;
    while (true) {
      if (!ParseValue(out->add_values(), depth)) return false;
      bool closed;
      if (!Next(']', &closed)) return false;
      if (closed) return true;
    }
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Utf8Length returns the length of the well-formed UTF-8 sequence at p
  // (first byte >= 0x80), or 0.
  static int Utf8Length(const unsigned char* p, const unsigned char* end) {
    const unsigned char c = p[0];
    int n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;  // No surrogates.
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return 0;
    }
    if (end - p < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    }
    return n;
  }

  bool ParseString(std::string* out) {
    ++p_;  // '"'
    const char* run = p_;
    while (true) {
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out->append(run, p_);
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (kPlain[c]) {
        ++p_;
        while (p_ != end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
        continue;
      }
      if (c >= 0x80) {
        const int n = Utf8Length(reinterpret_cast<const unsigned char*>(p_),
                                 reinterpret_cast<const unsigned char*>(end_));
        if (n == 0) return false;
        p_ += n;
        continue;
      }
      // An escape.
      out->append(run, p_);
      ++p_;
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          if (end_ - p_ < 4) return false;
          unsigned int cp = 0;
          for (int i = 0; i < 4; ++i) {
            const int d = HexDigit(p_[i]);
            if (d < 0) return false;
            cp = cp << 4 | static_cast<unsigned int>(d);
          }
          p_ += 4;
          if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) return false;
          if (cp < 0x80) {
            out->push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out->push_back(static_cast<char>(0xc0 | cp >> 6));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          } else {
            out->push_back(static_cast<char>(0xe0 | cp >> 12));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          }
          break;
        }
        default:
          return false;
      }
      run = p_;
    }
  }

  bool ParseNumber(Value* out) {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !absl::ascii_isdigit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && absl::ascii_isdigit(*p_)) ++p_;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !absl::ascii_isdigit(*p_)) return false;
      while (p_ != end_ && absl::ascii_isdigit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !absl::ascii_isdigit(*p_)) return false;
      while (p_ != end_ && absl::ascii_isdigit(*p_)) ++p_;
    }
    if (integer) {
      // As protobuf: an int64, then a double (exact below 10^15).
      const bool negative = *start == '-';
      const char* digits = start + (negative ? 1 : 0);
      if (p_ - digits > 15) return false;
      int64_t n = 0;
      for (const char* d = digits; d != p_; ++d) n = n * 10 + (*d - '0');
      out->set_number_value(static_cast<double>(negative ? -n : n));
      return true;
    }
    double d;
    const std::from_chars_result r = std::from_chars(start, p_, d);
    if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(d)) return false;
    out->set_number_value(d);
    return true;
  }

  const char* p_;
  const char* const end_;
};

// FieldByJsonName finds the field of `type` whose json_name is `key`. It sets
// `*ambiguous` when `key` is instead some field's proto name (protobuf's
// parser accepts those too; the fast path leaves them to it).
const google::protobuf::FieldDescriptor* FieldByJsonName(
    const google::protobuf::Descriptor* type, const std::string& key,
    bool* ambiguous) {
  const int count = type->field_count();
  for (int i = 0; i < count; ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    if (field->json_name() == key) return field;
  }
  *ambiguous = type->FindFieldByName(key) != nullptr;
  return nullptr;
}

bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Same rules as FastParser::Utf8Length.
    int n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i < static_cast<size_t>(n)) return false;
    const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (int k = 2; k < n; ++k) {
      const unsigned char ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xbf) return false;
    }
    i += static_cast<size_t>(n);
  }
  return true;
}

// SafeValue says whether protobuf's parser takes `value` as the fast path
// read it: valid UTF-8 and nesting at most kMaxFastDepth deep. The value of
// an unknown key is skipped whatever its numbers and nulls; a value read
// into a Struct/ListValue/Value field (`well_known`) must also have finite
// numbers and no nulls (protobuf keeps them in a Value, the fast path does
// not try).
bool SafeValue(const Value& value, int depth, bool well_known) {
  if (depth > kMaxFastDepth) return false;
  switch (value.kind_case()) {
    case Value::kStringValue:
      return ValidUtf8(value.string_value());
    case Value::kStructValue:
      for (const auto& [key, v] : value.struct_value().fields()) {
        if (!ValidUtf8(key) || !SafeValue(v, depth + 1, well_known)) {
          return false;
        }
      }
      return true;
    case Value::kListValue:
      for (const Value& v : value.list_value().values()) {
        if (!SafeValue(v, depth + 1, well_known)) return false;
      }
      return true;
    case Value::kNumberValue:
      return !well_known || std::isfinite(value.number_value());
    case Value::kBoolValue:
      return true;
    default:
      return !well_known;
  }
}

// SafeUnknown says whether protobuf's parser would skip `value`, the value
// of an unknown key, without error.
bool SafeUnknown(const Value& value, int depth) {
  return SafeValue(value, depth, /*well_known=*/false);
}

// SafeWellKnown says whether protobuf's parser would read `value` into a
// Struct/ListValue/Value field unchanged.
bool SafeWellKnown(const Value& value, int depth) {
  return SafeValue(value, depth, /*well_known=*/true);
}

bool SafeString(const Value& value) {
  return value.kind_case() == Value::kStringValue &&
         ValidUtf8(value.string_value());
}

// IntegralIn says whether `d` is a whole number in [lo, hi] (and not -0),
// which protobuf's parser accepts for an integer field.
bool IntegralIn(double d, double lo, double hi) {
  return std::isfinite(d) && d == std::trunc(d) && d >= lo && d <= hi &&
         !(d == 0 && std::signbit(d));
}

bool FastStructToMessage(const Struct& object, int depth,
                         google::protobuf::Message* message);

// FastSetField reads one value of `field` (one element when repeated).
bool FastSetField(const Value& value,
                  const google::protobuf::FieldDescriptor* field, int depth,
                  google::protobuf::Message* message) {
  using FD = google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FD::CPPTYPE_INT32: {
      int32_t n;
      if (!field_reader::ReadInt32(value, &n)) return false;
      repeated ? r->AddInt32(message, field, n)
               : r->SetInt32(message, field, n);
      return true;
    }
    case FD::CPPTYPE_UINT32: {
      if (value.kind_case() != Value::kNumberValue) return false;
      const double d = value.number_value();
      if (!IntegralIn(d, 0, 4294967295.0)) return false;
      const auto n = static_cast<uint32_t>(d);
      repeated ? r->AddUInt32(message, field, n)
               : r->SetUInt32(message, field, n);
      return true;
    }
    case FD::CPPTYPE_DOUBLE: {
      if (value.kind_case() != Value::kNumberValue) return false;
      const double d = value.number_value();
      if (!std::isfinite(d)) return false;
      repeated ? r->AddDouble(message, field, d)
               : r->SetDouble(message, field, d);
      return true;
    }
    case FD::CPPTYPE_BOOL:
      if (value.kind_case() != Value::kBoolValue) return false;
      repeated ? r->AddBool(message, field, value.bool_value())
               : r->SetBool(message, field, value.bool_value());
      return true;
    case FD::CPPTYPE_STRING:
      // bytes (base64) are left to protobuf.
      if (field->type() != FD::TYPE_STRING || !SafeString(value)) return false;
      repeated ? r->AddString(message, field, value.string_value())
               : r->SetString(message, field, value.string_value());
      return true;
    case FD::CPPTYPE_MESSAGE: {
      const google::protobuf::Descriptor* type = field->message_type();
      google::protobuf::Message* sub = repeated
                                           ? r->AddMessage(message, field)
                                           : r->MutableMessage(message, field);
      if (type == StructType()) {
        if (value.kind_case() != Value::kStructValue ||
            !SafeWellKnown(value, depth)) {
          return false;
        }
        sub->CopyFrom(value.struct_value());
        return true;
      }
      if (type == ListValueType()) {
        if (value.kind_case() != Value::kListValue ||
            !SafeWellKnown(value, depth)) {
          return false;
        }
        sub->CopyFrom(value.list_value());
        return true;
      }
      if (type == ValueType()) {
        if (!SafeWellKnown(value, depth)) return false;
        sub->CopyFrom(value);
        return true;
      }
      if (type->file()->package() == "google.protobuf" ||
          value.kind_case() != Value::kStructValue) {
        return false;
      }
      return FastStructToMessage(value.struct_value(), depth + 1, sub);
    }
    default:
      return false;
  }
}

// SkippableUnknown says whether protobuf's parser ignores the unknown key
// `key` with `value` (at `depth`) without error, as the fast paths do; not
// when the key is some field's proto name (`ambiguous`), and protobuf gives
// empty, "[extension]" and "@type" keys meanings of their own.
bool SkippableUnknown(const std::string& key, const Value& value, int depth,
                      bool ambiguous) {
  return !ambiguous && !key.empty() && key[0] != '[' && key[0] != '@' &&
         ValidUtf8(key) && SafeUnknown(value, depth + 1);
}

// FastStructToMessage is the fast path of ValueToMessage: it reads `object`
// into `message` by reflection where protobuf's parser (given the object
// written as JSON, unknown keys ignored) would read the same, and gives up
// (false) on anything else: nulls, maps, enums, 64-bit and float fields,
// bytes, a number that is not a whole number in range for an integer field,
// a type that does not match the field, keys that are proto rather than
// JSON names, and deep nesting.
bool FastStructToMessage(const Struct& object, int depth,
                         google::protobuf::Message* message) {
  if (depth > kMaxFastDepth) return false;
  const google::protobuf::Descriptor* type = message->GetDescriptor();
  for (const auto& [key, value] : object.fields()) {
    bool ambiguous = false;
    const google::protobuf::FieldDescriptor* field =
        FieldByJsonName(type, key, &ambiguous);
    if (field == nullptr) {
      if (!SkippableUnknown(key, value, depth, ambiguous)) return false;
      continue;
    }
    if (value.kind_case() == Value::kNullValue || field->is_map()) return false;
    if (!field->is_repeated()) {
      if (!FastSetField(value, field, depth + 1, message)) return false;
      continue;
    }
    if (value.kind_case() != Value::kListValue) return false;
    for (const Value& element : value.list_value().values()) {
      if (element.kind_case() == Value::kNullValue ||
          !FastSetField(element, field, depth + 1, message)) {
        return false;
      }
    }
  }
  return true;
}

// DirectStructToMessage is FastStructToMessage through `reader`, the
// generated accessors of `message`'s type, instead of reflection: the same
// checks in the same order (see field_reader in json.h).
bool DirectStructToMessage(const Struct& object, int depth,
                           const MessageReader& reader,
                           google::protobuf::Message* message) {
  if (depth > kMaxFastDepth) return false;
  const FieldReader* const end = reader.fields + reader.count;
  for (const auto& [key, value] : object.fields()) {
    const FieldReader* field = std::find_if(
        reader.fields, end,
        [&key = key](const FieldReader& f) { return f.json_name == key; });
    if (field == end) {
      const bool ambiguous = std::any_of(
          reader.fields, end,
          [&key = key](const FieldReader& f) { return f.proto_name == key; });
      if (!SkippableUnknown(key, value, depth, ambiguous)) return false;
      continue;
    }
    if (value.kind_case() == Value::kNullValue) return false;
    if (!field->repeated) {
      if (!field->read(value, depth + 1, message)) return false;
      continue;
    }
    if (value.kind_case() != Value::kListValue) return false;
    for (const Value& element : value.list_value().values()) {
      if (element.kind_case() == Value::kNullValue ||
          !field->read(element, depth + 1, message)) {
        return false;
      }
    }
  }
  return true;
}

absl::Status ProtobufParseMessageInto(absl::string_view json,
                                      absl::string_view what,
                                      google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message,
      options);
  if (!status.ok()) return InvalidJson(what, status.message().ToString());
  return absl::OkStatus();
}

// ParseObjectInto is ParseMessageInto with `fast`, a fast path that reads
// a parsed object into the message or gives up (false: the message is
// cleared and left to protobuf's parser).
absl::Status ParseObjectInto(absl::string_view json, absl::string_view what,
                             google::protobuf::Message* message,
                             std::optional<Struct>* object,
                             absl::FunctionRef<bool(const Struct&)> fast) {
  object->reset();
  message->Clear();
  Value value;
  if (FastParser(json).ParseDocument(&value) &&
      value.kind_case() == Value::kStructValue && fast(value.struct_value())) {
    object->emplace(std::move(*value.mutable_struct_value()));
    return absl::OkStatus();
  }
  message->Clear();
  return ProtobufParseMessageInto(json, what, message);
}

// ObjectToMessage is ValueToMessage of an object with `fast` (as above).
absl::Status ObjectToMessage(const Struct& object, absl::string_view what,
                             google::protobuf::Message* message, bool* direct,
                             absl::FunctionRef<bool(const Struct&)> fast) {
  message->Clear();
  *direct = fast(object);
  if (*direct) return absl::OkStatus();
  message->Clear();
  return ProtobufParseMessageInto(WriteJson(object), what, message);
}

}  // namespace

absl::StatusOr<Value> ParseJson(absl::string_view json,
                                absl::string_view what) {
  if (json.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return InvalidJson(what, "empty input");
  }
  Value value;
  if (FastParser(json).ParseDocument(&value)) return value;
  value.Clear();
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

void AppendJson(const Value& value, std::string* out) {
  AppendValue(value, out);
}

void AppendJson(const Struct& object, std::string* out) {
  AppendObject(object, out);
}

void AppendJson(const ListValue& list, std::string* out) {
  AppendList(list, out);
}

void AppendJsonString(absl::string_view s, std::string* out) {
  AppendString(s, out);
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
  std::optional<Struct> object;
  return ParseMessageInto(json, what, message, &object);
}

absl::Status ParseMessageInto(absl::string_view json, absl::string_view what,
                              google::protobuf::Message* message,
                              std::optional<Struct>* object) {
  return ParseObjectInto(json, what, message, object,
                         [message](const Struct& s) {
                           return FastStructToMessage(s, 1, message);
                         });
}

absl::Status ValueToMessage(const Value& value, absl::string_view what,
                            google::protobuf::Message* message) {
  message->Clear();
  if (value.kind_case() == Value::kStructValue &&
      FastStructToMessage(value.struct_value(), 1, message)) {
    return absl::OkStatus();
  }
  message->Clear();
  return ProtobufParseMessageInto(WriteJson(value), what, message);
}

absl::Status ValueToMessage(const Struct& object, absl::string_view what,
                            google::protobuf::Message* message) {
  bool direct;
  return ValueToMessage(object, what, message, &direct);
}

absl::Status ValueToMessage(const Struct& object, absl::string_view what,
                            google::protobuf::Message* message, bool* direct) {
  return ObjectToMessage(object, what, message, direct,
                         [message](const Struct& s) {
                           return FastStructToMessage(s, 1, message);
                         });
}

absl::Status ParseMessageInto(absl::string_view json, absl::string_view what,
                              const MessageReader& reader,
                              google::protobuf::Message* message,
                              std::optional<Struct>* object) {
  return ParseObjectInto(json, what, message, object,
                         [&reader, message](const Struct& s) {
                           return DirectStructToMessage(s, 1, reader, message);
                         });
}

absl::Status ValueToMessage(const Struct& object, absl::string_view what,
                            const MessageReader& reader,
                            google::protobuf::Message* message, bool* direct) {
  return ObjectToMessage(object, what, message, direct,
                         [&reader, message](const Struct& s) {
                           return DirectStructToMessage(s, 1, reader, message);
                         });
}

namespace field_reader {

bool ReadInt32(const Value& value, int32_t* out) {
  if (value.kind_case() != Value::kNumberValue) return false;
  const double d = value.number_value();
  if (!IntegralIn(d, -2147483648.0, 2147483647.0)) return false;
  *out = static_cast<int32_t>(d);
  return true;
}

bool ReadString(const Value& value, std::string* out) {
  if (!SafeString(value)) return false;
  *out = value.string_value();
  return true;
}

bool ReadObject(const Value& value, int depth, const MessageReader& reader,
                google::protobuf::Message* out) {
  return value.kind_case() == Value::kStructValue &&
         DirectStructToMessage(value.struct_value(), depth + 1, reader, out);
}

}  // namespace field_reader

namespace internal {

absl::StatusOr<Value> ProtobufParseJsonForTest(absl::string_view json,
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

absl::Status ProtobufParseMessageIntoForTest(
    absl::string_view json, absl::string_view what,
    google::protobuf::Message* message) {
  return ProtobufParseMessageInto(json, what, message);
}

}  // namespace internal

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
