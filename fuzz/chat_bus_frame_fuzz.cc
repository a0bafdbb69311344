// libFuzzer target for the Redis bus frame (src/chat/redis_bus.h): the input is one channel
// payload as anyone with access to Redis could PUBLISH it on a room's channel. Checks that a
// rejected payload says why, that an accepted frame obeys the codec's invariants, and that
// encoding an accepted frame gives back exactly the input (one spelling per frame).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/redis_bus.h"
#include "common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chiron::chat;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_bus_frame(payload);
  if (!parsed.ok()) {
    CHIRON_CHECK(parsed.status().code() == chiron::StatusCode::kInvalidArgument, "unexpected error code");
    CHIRON_CHECK(!parsed.status().message().empty(), "error without a reason");
    return 0;
  }
  const BusFrame& f = *parsed;
  CHIRON_CHECK(!f.kind.empty() && f.kind.size() <= kMaxBusKindBytes, "kind bounds");
  CHIRON_CHECK(f.epoch.size() <= kMaxBusEpochBytes && f.origin.size() <= kMaxBusOriginBytes, "field bounds");
  CHIRON_CHECK(f.state_key.size() <= kMaxBusStateKeyBytes, "state key bound");
  CHIRON_CHECK(f.epoch.empty() == (f.seq == 0), "seq and epoch agree");
  CHIRON_CHECK(f.seq == 0 || f.state_key.empty(), "sequenced events carry no state key");
  CHIRON_CHECK(f.body.size() < size, "the body is a suffix of the payload");
  auto again = encode_bus_frame(f);
  CHIRON_CHECK(again.ok(), "an accepted frame does not encode");
  CHIRON_CHECK(*again == payload, "encoding changed the frame");
  return 0;
}
