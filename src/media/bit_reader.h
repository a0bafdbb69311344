#pragma once
// BitReader: MSB-first bits over a byte string, with the Exp-Golomb codes of H.264 (ISO/IEC
// 14496-10 §9.1). Bounds-checked: a read past the end returns 0 and marks the reader failed, so
// callers read a whole structure and check failed() once. Internal to the media module.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chiron::media {

class BitReader {
 public:
  explicit BitReader(std::string_view data) : data_(data) {}
  uint32_t bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= data_.size() * 8) {
        failed_ = true;
        return 0;
      }
      const auto byte = static_cast<uint8_t>(data_[pos_ / 8]);
      v = (v << 1) | ((byte >> (7 - pos_ % 8)) & 1);
      ++pos_;
    }
    return v;
  }
  bool flag() { return bits(1) != 0; }
  // ue(v), §9.1.
  uint32_t ue() {
    int zeros = 0;
    while (!failed_ && bits(1) == 0) {
      if (++zeros > 31) {
        failed_ = true;
        return 0;
      }
    }
    if (failed_) return 0;
    return static_cast<uint32_t>((uint64_t{1} << zeros) - 1 + bits(zeros));
  }
  // se(v), §9.1.1.
  int32_t se() {
    const uint32_t k = ue();
    return (k & 1) ? static_cast<int32_t>((k + 1) / 2) : -static_cast<int32_t>(k / 2);
  }
  bool failed() const { return failed_; }
  void fail() { failed_ = true; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace chiron::media
