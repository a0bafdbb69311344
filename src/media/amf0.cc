#include "media/amf0.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace chiron::media {
namespace {

void put_u16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_double(std::string& out, double d) {
  const auto bits = std::bit_cast<uint64_t>(d);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
}
void put_key(std::string& out, std::string_view key) {
  // Property names are UTF-8-empty-terminated short strings; a longer key is cut (never sent).
  const size_t n = std::min<size_t>(key.size(), 0xFFFF);
  put_u16(out, static_cast<uint32_t>(n));
  out.append(key.data(), n);
}
void put_properties(std::string& out, const Amf0Properties& props) {
  for (const auto& [key, value] : props) {
    put_key(out, key);
    amf0_append(out, value);
  }
  out.append("\x00\x00\x09", 3);  // empty key + object-end marker (AMF0 §2.5)
}

}  // namespace

Amf0Value Amf0Value::number(double v) {
  Amf0Value a(Type::kNumber);
  a.number_ = v;
  return a;
}
Amf0Value Amf0Value::boolean(bool v) {
  Amf0Value a(Type::kBoolean);
  a.number_ = v ? 1 : 0;
  return a;
}
Amf0Value Amf0Value::string(std::string v) {
  Amf0Value a(Type::kString);
  a.string_ = std::move(v);
  return a;
}
Amf0Value Amf0Value::object(Amf0Properties props) {
  Amf0Value a(Type::kObject);
  a.properties_ = std::move(props);
  return a;
}
Amf0Value Amf0Value::ecma_array(Amf0Properties props) {
  Amf0Value a(Type::kEcmaArray);
  a.properties_ = std::move(props);
  return a;
}
Amf0Value Amf0Value::strict_array(std::vector<Amf0Value> items) {
  Amf0Value a(Type::kStrictArray);
  a.items_ = std::move(items);
  return a;
}
Amf0Value Amf0Value::date(double ms_since_epoch, int16_t timezone) {
  Amf0Value a(Type::kDate);
  a.number_ = ms_since_epoch;
  a.timezone_ = timezone;
  return a;
}

const std::string& Amf0Value::as_string() const {
  static const std::string kEmpty;
  return type_ == Type::kString ? string_ : kEmpty;
}

const Amf0Value* Amf0Value::find(std::string_view key) const {
  for (const auto& [k, v] : properties_)
    if (k == key) return &v;
  return nullptr;
}

Amf0Value& Amf0Value::add(std::string key, Amf0Value value) {
  properties_.emplace_back(std::move(key), std::move(value));
  return *this;
}

bool operator==(const Amf0Value& a, const Amf0Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Amf0Value::Type::kNull:
    case Amf0Value::Type::kUndefined: return true;
    case Amf0Value::Type::kNumber:
    case Amf0Value::Type::kBoolean: return a.number_ == b.number_;
    case Amf0Value::Type::kDate: return a.number_ == b.number_ && a.timezone_ == b.timezone_;
    case Amf0Value::Type::kString: return a.string_ == b.string_;
    case Amf0Value::Type::kObject:
    case Amf0Value::Type::kEcmaArray: return a.properties_ == b.properties_;
    case Amf0Value::Type::kStrictArray: return a.items_ == b.items_;
  }
  return false;
}

void amf0_append_number(std::string& out, double v) {
  out.push_back(static_cast<char>(Amf0Marker::kNumber));
  put_double(out, v);
}
void amf0_append_boolean(std::string& out, bool v) {
  out.push_back(static_cast<char>(Amf0Marker::kBoolean));
  out.push_back(v ? 1 : 0);
}
void amf0_append_string(std::string& out, std::string_view v) {
  if (v.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(Amf0Marker::kString));
    put_u16(out, static_cast<uint32_t>(v.size()));
  } else {
    out.push_back(static_cast<char>(Amf0Marker::kLongString));
    put_u32(out, static_cast<uint32_t>(v.size()));
  }
  out.append(v);
}
void amf0_append_null(std::string& out) { out.push_back(static_cast<char>(Amf0Marker::kNull)); }

void amf0_append(std::string& out, const Amf0Value& v) {
  switch (v.type()) {
    case Amf0Value::Type::kNull: amf0_append_null(out); return;
    case Amf0Value::Type::kUndefined: out.push_back(static_cast<char>(Amf0Marker::kUndefined)); return;
    case Amf0Value::Type::kNumber: amf0_append_number(out, v.as_number()); return;
    case Amf0Value::Type::kBoolean: amf0_append_boolean(out, v.as_boolean()); return;
    case Amf0Value::Type::kString: amf0_append_string(out, v.as_string()); return;
    case Amf0Value::Type::kObject:
      out.push_back(static_cast<char>(Amf0Marker::kObject));
      put_properties(out, v.properties());
      return;
    case Amf0Value::Type::kEcmaArray:
      out.push_back(static_cast<char>(Amf0Marker::kEcmaArray));
      put_u32(out, static_cast<uint32_t>(v.properties().size()));  // a hint; readers use the end marker
      put_properties(out, v.properties());
      return;
    case Amf0Value::Type::kStrictArray:
      out.push_back(static_cast<char>(Amf0Marker::kStrictArray));
      put_u32(out, static_cast<uint32_t>(v.items().size()));
      for (const auto& item : v.items()) amf0_append(out, item);
      return;
    case Amf0Value::Type::kDate:
      out.push_back(static_cast<char>(Amf0Marker::kDate));
      put_double(out, v.as_number());
      put_u16(out, static_cast<uint16_t>(v.timezone()));
      return;
  }
}

Status Amf0Reader::need(size_t n) const {
  if (in_.size() - pos_ < n) return Status::out_of_range("amf0: truncated value");
  return {};
}

Status Amf0Reader::read_utf8(size_t length_bytes, std::string& out) {
  CHIRON_RETURN_IF_ERROR(need(length_bytes));
  size_t n = 0;
  for (size_t i = 0; i < length_bytes; ++i) n = (n << 8) | static_cast<uint8_t>(in_[pos_ + i]);
  pos_ += length_bytes;
  if (in_.size() - pos_ < n) return Status::out_of_range("amf0: string longer than the input");
  out.assign(in_.data() + pos_, n);
  pos_ += n;
  return {};
}

Status Amf0Reader::read_properties(Amf0Properties& out, size_t depth, bool end_may_be_missing) {
  for (;;) {
    std::string key;
    CHIRON_RETURN_IF_ERROR(read_utf8(2, key));
    if (key.empty()) {
      // Object end (AMF0 §2.11). Some encoders (old FMLE) end an ECMA array at the input's end
      // without the marker; accept that there.
      if (done() && end_may_be_missing) return {};
      CHIRON_RETURN_IF_ERROR(need(1));
      if (static_cast<uint8_t>(in_[pos_]) == static_cast<uint8_t>(Amf0Marker::kObjectEnd)) {
        ++pos_;
        return {};
      }
    }
    Amf0Value value;
    CHIRON_RETURN_IF_ERROR(read_value(value, depth + 1));
    out.emplace_back(std::move(key), std::move(value));
  }
}

Status Amf0Reader::read(Amf0Value& out) { return read_value(out, 0); }

Status Amf0Reader::read_string(std::string& out) {
  Amf0Value v;
  CHIRON_RETURN_IF_ERROR(read(v));
  if (!v.is_string()) return Status::invalid_argument("amf0: expected a string");
  out = v.as_string();
  return {};
}

Status Amf0Reader::read_all(std::vector<Amf0Value>& out) {
  while (!done()) {
    Amf0Value v;
    CHIRON_RETURN_IF_ERROR(read(v));
    out.push_back(std::move(v));
  }
  return {};
}

Status Amf0Reader::read_value(Amf0Value& out, size_t depth) {
  if (depth > limits_.max_depth) return Status::resource_exhausted("amf0: nesting too deep");
  if (++values_ > limits_.max_values) return Status::resource_exhausted("amf0: too many values");
  CHIRON_RETURN_IF_ERROR(need(1));
  const auto marker = static_cast<Amf0Marker>(in_[pos_++]);
  auto read_double = [&](double& d) -> Status {
    CHIRON_RETURN_IF_ERROR(need(8));
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += 8;
    d = std::bit_cast<double>(bits);
    return {};
  };
  switch (marker) {
    case Amf0Marker::kNumber: {
      double d = 0;
      CHIRON_RETURN_IF_ERROR(read_double(d));
      out = Amf0Value::number(d);
      return {};
    }
    case Amf0Marker::kBoolean:
      CHIRON_RETURN_IF_ERROR(need(1));
      out = Amf0Value::boolean(in_[pos_++] != 0);
      return {};
    case Amf0Marker::kString:
    case Amf0Marker::kLongString:
    case Amf0Marker::kXmlDocument: {
      std::string s;
      CHIRON_RETURN_IF_ERROR(read_utf8(marker == Amf0Marker::kString ? 2 : 4, s));
      out = Amf0Value::string(std::move(s));
      return {};
    }
    case Amf0Marker::kNull: out = Amf0Value::null(); return {};
    case Amf0Marker::kUndefined:
    case Amf0Marker::kUnsupported: out = Amf0Value::undefined(); return {};
    case Amf0Marker::kTypedObject: {
      std::string class_name;
      CHIRON_RETURN_IF_ERROR(read_utf8(2, class_name));
      out = Amf0Value::object();
      return read_properties(out.properties(), depth, false);
    }
    case Amf0Marker::kObject:
      out = Amf0Value::object();
      return read_properties(out.properties(), depth, false);
    case Amf0Marker::kEcmaArray:
      CHIRON_RETURN_IF_ERROR(need(4));
      pos_ += 4;  // associative-count: a hint only, never trusted for allocation
      out = Amf0Value::ecma_array();
      return read_properties(out.properties(), depth, true);
    case Amf0Marker::kStrictArray: {
      CHIRON_RETURN_IF_ERROR(need(4));
      uint32_t count = 0;
      for (int i = 0; i < 4; ++i) count = (count << 8) | static_cast<uint8_t>(in_[pos_ + i]);
      pos_ += 4;
      // Each element takes at least one byte: a count beyond the input is a lie.
      if (count > in_.size() - pos_) return Status::out_of_range("amf0: strict array longer than the input");
      std::vector<Amf0Value> items;
      items.reserve(std::min<size_t>(count, 256));
      for (uint32_t i = 0; i < count; ++i) {
        Amf0Value v;
        CHIRON_RETURN_IF_ERROR(read_value(v, depth + 1));
        items.push_back(std::move(v));
      }
      out = Amf0Value::strict_array(std::move(items));
      return {};
    }
    case Amf0Marker::kDate: {
      double ms = 0;
      CHIRON_RETURN_IF_ERROR(read_double(ms));
      CHIRON_RETURN_IF_ERROR(need(2));
      const auto tz = static_cast<int16_t>((static_cast<uint8_t>(in_[pos_]) << 8) | static_cast<uint8_t>(in_[pos_ + 1]));
      pos_ += 2;
      out = Amf0Value::date(ms, tz);
      return {};
    }
    case Amf0Marker::kObjectEnd: return Status::invalid_argument("amf0: object end outside an object");
    case Amf0Marker::kReference: return Status::unimplemented("amf0: references are not supported");
    case Amf0Marker::kAvmPlusObject: return Status::unimplemented("amf0: AMF3 values are not supported");
    case Amf0Marker::kMovieClip:
    case Amf0Marker::kRecordSet: return Status::unimplemented("amf0: reserved marker");
  }
  return Status::invalid_argument("amf0: unknown marker " + std::to_string(static_cast<int>(marker)));
}

}  // namespace chiron::media
