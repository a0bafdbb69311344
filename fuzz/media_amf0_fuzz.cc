// libFuzzer target for the AMF0 reader (src/media/amf0.h). Checks its promises, not just "no
// crash": progress on every value, and every decoded value re-encodes and decodes to itself.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "media/amf0.h"

using chiron::media::Amf0Limits;
using chiron::media::Amf0Reader;
using chiron::media::Amf0Value;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Amf0Reader r(in, Amf0Limits{8, 4096});
  while (!r.done()) {
    const size_t before = r.position();
    Amf0Value v;
    if (!r.read(v).ok()) break;
    CHIRON_CHECK(r.position() > before, "a value consumed no bytes");
    std::string again;
    chiron::media::amf0_append(again, v);
    Amf0Reader r2(again, Amf0Limits{8, 1u << 20});
    Amf0Value back;
    CHIRON_CHECK(r2.read(back).ok(), "a decoded value does not decode after re-encoding");
    // NaN numbers are not equal to themselves; compare encodings instead.
    std::string twice;
    chiron::media::amf0_append(twice, back);
    CHIRON_CHECK(twice == again, "re-encoding is not stable");
  }
  return 0;
}
