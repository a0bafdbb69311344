// libFuzzer target for the cluster payload codecs (src/cluster/messages.h): every decode_*
// runs on the input; whatever decodes must re-encode to exactly the input (the encoding is
// canonical), so nothing is silently dropped or misread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/messages.h"
#include "common/check.h"

namespace c = chiron::cluster;

namespace {

template <class R, class Encode>
void round_trip(std::string_view in, const R& r, Encode encode, const char* what) {
  if (!r.ok()) {
    CHIRON_CHECK(!r.status().message().empty(), what);
    return;
  }
  CHIRON_CHECK(encode(*r) == in, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  round_trip(in, c::decode_attach(in), [](const c::AttachMsg& m) { return c::encode(m); }, "ATTACH");
  round_trip(in, c::decode_records(in), [](const auto& m) { return c::encode_records(m); }, "RECORDS");
  round_trip(in, c::decode_positions(in), [](const auto& m) { return c::encode_positions(m); }, "RECORDS_GONE");
  round_trip(in, c::decode_kernel(in), [](const c::KernelMsg& m) { return c::encode(m); }, "KERNEL");
  auto kernel = c::decode_kernel(in);
  if (kernel.ok()) {
    CHIRON_CHECK(c::valid_kernel_type_name(kernel->kernel.type), "KERNEL with a bad type name");
    CHIRON_CHECK(!kernel->carries_parent || c::valid_kernel_type_name(kernel->parent.type), "bad parent type");
  }
  round_trip(in, c::decode_kernel_return(in), [](const c::KernelReturnMsg& m) { return c::encode(m); },
             "KERNEL_RETURN");
  round_trip(in, c::decode_cancel_job(in), [](const c::CancelJobMsg& m) { return c::encode(m); }, "CANCEL_JOB");
  round_trip(in, c::decode_error(in), [](const std::string& m) { return c::encode_error(m); }, "ERROR");
  return 0;
}
