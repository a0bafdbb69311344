#pragma once
// AMF0 (Adobe "Action Message Format -- AMF 0", 2007): the encoding of RTMP command and data
// messages and of FLV script tags.
//
// DESIGN: a small tree value (Amf0Value) with objects and ECMA arrays as ordered vectors of
// (key, value) pairs: property order matters on the wire ("onMetaData" readers and Flash expect
// what the publisher sent) and the objects are tiny, so a vector beats a map. Decoding is
// bounded: nesting depth and the total number of values are capped (Amf0Limits), every declared
// length is checked against the bytes actually present before anything is allocated, and a
// declared element count never drives a reserve(). References (0x07), AMF3 switch (0x11),
// MovieClip and RecordSet are refused with a clear error; "unsupported" (0x0D) reads as
// undefined, XML documents as strings and typed objects as objects (class name dropped).
// Long strings are read as strings; strings over 65535 bytes are written as long strings.
//
// Not thread-safe (plain values and a one-shot reader). Fuzzed by fuzz/media_amf0_fuzz.cc.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chiron::media {

enum class Amf0Marker : uint8_t {
  kNumber = 0x00,
  kBoolean = 0x01,
  kString = 0x02,
  kObject = 0x03,
  kMovieClip = 0x04,
  kNull = 0x05,
  kUndefined = 0x06,
  kReference = 0x07,
  kEcmaArray = 0x08,
  kObjectEnd = 0x09,
  kStrictArray = 0x0A,
  kDate = 0x0B,
  kLongString = 0x0C,
  kUnsupported = 0x0D,
  kRecordSet = 0x0E,
  kXmlDocument = 0x0F,
  kTypedObject = 0x10,
  kAvmPlusObject = 0x11,
};

class Amf0Value;
using Amf0Property = std::pair<std::string, Amf0Value>;
using Amf0Properties = std::vector<Amf0Property>;

// One AMF0 value. Not thread-safe.
class Amf0Value {
 public:
  enum class Type : uint8_t { kNull, kUndefined, kNumber, kBoolean, kString, kObject, kEcmaArray, kStrictArray, kDate };

  Amf0Value() = default;  // null
  static Amf0Value null() { return Amf0Value(); }
  static Amf0Value undefined() { return Amf0Value(Type::kUndefined); }
  static Amf0Value number(double v);
  static Amf0Value boolean(bool v);
  static Amf0Value string(std::string v);
  static Amf0Value object(Amf0Properties props = {});
  static Amf0Value ecma_array(Amf0Properties props = {});
  static Amf0Value strict_array(std::vector<Amf0Value> items = {});
  static Amf0Value date(double ms_since_epoch, int16_t timezone = 0);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_boolean() const { return type_ == Type::kBoolean; }
  // Objects and ECMA arrays both hold properties.
  bool has_properties() const { return type_ == Type::kObject || type_ == Type::kEcmaArray; }

  // Accessors return a neutral value (0, false, "", empty) for a value of another type.
  double as_number() const { return type_ == Type::kNumber || type_ == Type::kDate ? number_ : 0; }
  bool as_boolean() const { return type_ == Type::kBoolean && number_ != 0; }
  const std::string& as_string() const;
  const Amf0Properties& properties() const { return properties_; }
  Amf0Properties& properties() { return properties_; }
  const std::vector<Amf0Value>& items() const { return items_; }
  int16_t timezone() const { return timezone_; }

  // The first property named `key` of an object/ECMA array, or nullptr.
  const Amf0Value* find(std::string_view key) const;
  // Property helpers for building values: appends (key, value).
  Amf0Value& add(std::string key, Amf0Value value);

  friend bool operator==(const Amf0Value& a, const Amf0Value& b);

 private:
  explicit Amf0Value(Type t) : type_(t) {}
  Type type_ = Type::kNull;
  int16_t timezone_ = 0;
  double number_ = 0;  // number, date, boolean (0/1)
  std::string string_;
  Amf0Properties properties_;
  std::vector<Amf0Value> items_;
};

// Encoding: appends to `out`.
void amf0_append(std::string& out, const Amf0Value& v);
void amf0_append_number(std::string& out, double v);
void amf0_append_boolean(std::string& out, bool v);
void amf0_append_string(std::string& out, std::string_view v);  // string or long string
void amf0_append_null(std::string& out);

struct Amf0Limits {
  size_t max_depth = 16;         // nested objects/arrays
  size_t max_values = 1u << 16;  // total values decoded by one reader
};

// Reads consecutive AMF0 values from a buffer it borrows. Not thread-safe.
class Amf0Reader {
 public:
  explicit Amf0Reader(std::string_view in, Amf0Limits limits = {}) : in_(in), limits_(limits) {}
  // Reads the next value. An error leaves the position unspecified.
  Status read(Amf0Value& out);
  // Reads the next value, which must be a string (or long string).
  Status read_string(std::string& out);
  // Reads values until the input ends.
  Status read_all(std::vector<Amf0Value>& out);
  bool done() const { return pos_ >= in_.size(); }
  size_t position() const { return pos_; }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  Status read_value(Amf0Value& out, size_t depth);
  Status read_properties(Amf0Properties& out, size_t depth, bool end_may_be_missing);
  Status read_utf8(size_t length_bytes, std::string& out);
  Status need(size_t n) const;
  std::string_view in_;
  size_t pos_ = 0;
  size_t values_ = 0;
  Amf0Limits limits_;
};

}  // namespace chiron::media
