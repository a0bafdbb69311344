// ByteWriter / ByteReader (wire.h): little-endian, bounds-checked.
#include <bit>
#include <cstring>

#include "cluster/wire.h"

namespace chiron::cluster {

namespace {

template <class T>
void put_le(std::string& out, T v) {
  static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  out.append(bytes, sizeof(T));
}

template <class T>
T get_le(const char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace

void ByteWriter::u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
void ByteWriter::u16(uint16_t v) { put_le(out_, v); }
void ByteWriter::u32(uint32_t v) { put_le(out_, v); }
void ByteWriter::u64(uint64_t v) { put_le(out_, v); }
void ByteWriter::i64(int64_t v) { put_le(out_, static_cast<uint64_t>(v)); }
void ByteWriter::f64(double v) { put_le(out_, std::bit_cast<uint64_t>(v)); }
void ByteWriter::boolean(bool v) { u8(v ? 1 : 0); }
void ByteWriter::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  out_.append(s);
}
void ByteWriter::raw(std::string_view s) { out_.append(s); }

bool ByteReader::need(size_t n, const char* what) {
  if (!error_.empty()) return false;
  if (remaining() < n) {
    fail(std::string("truncated ") + what + " at byte " + std::to_string(pos_));
    return false;
  }
  return true;
}

void ByteReader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

uint8_t ByteReader::u8() {
  if (!need(1, "u8")) return 0;
  return static_cast<uint8_t>(in_[pos_++]);
}

uint16_t ByteReader::u16() {
  if (!need(2, "u16")) return 0;
  auto v = get_le<uint16_t>(in_.data() + pos_);
  pos_ += 2;
  return v;
}

uint32_t ByteReader::u32() {
  if (!need(4, "u32")) return 0;
  auto v = get_le<uint32_t>(in_.data() + pos_);
  pos_ += 4;
  return v;
}

uint64_t ByteReader::u64() {
  if (!need(8, "u64")) return 0;
  auto v = get_le<uint64_t>(in_.data() + pos_);
  pos_ += 8;
  return v;
}

int64_t ByteReader::i64() { return static_cast<int64_t>(u64()); }

double ByteReader::f64() { return std::bit_cast<double>(u64()); }

bool ByteReader::boolean() {
  uint8_t v = u8();
  if (v > 1) fail("bad boolean at byte " + std::to_string(pos_ - 1));
  return v == 1;
}

std::string ByteReader::str() { return str(max_string_, "string"); }

std::string ByteReader::str(size_t max_bytes, const char* what) {
  size_t at = pos_;
  uint32_t n = u32();
  if (!ok()) return {};
  if (n > max_bytes) {
    fail(std::string(what) + " of " + std::to_string(n) + " bytes at byte " + std::to_string(at) +
         " exceeds the limit of " + std::to_string(max_bytes));
    return {};
  }
  if (!need(n, what)) return {};
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

uint32_t ByteReader::count(size_t min_element_bytes, const char* what) {
  size_t at = pos_;
  uint32_t n = u32();
  if (!ok()) return 0;
  if (min_element_bytes > 0 && n > remaining() / min_element_bytes) {
    fail(std::string(what) + " count " + std::to_string(n) + " at byte " + std::to_string(at) +
         " exceeds the " + std::to_string(remaining()) + " bytes left");
    return 0;
  }
  return n;
}

std::string_view ByteReader::raw(size_t n) {
  if (!need(n, "bytes")) return {};
  std::string_view s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

Status ByteReader::status(bool expect_end) const {
  if (!error_.empty()) return Status::invalid_argument(error_);
  if (expect_end && pos_ != in_.size()) {
    return Status::invalid_argument(std::to_string(in_.size() - pos_) + " unexpected trailing bytes");
  }
  return {};
}

}  // namespace chiron::cluster
