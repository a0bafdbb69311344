// Payload codecs of the cluster frames (src/cluster/messages.h): round trips, and hostile
// payloads (truncated at every byte, oversized counts, bad names, bad enums) fail cleanly.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cluster/messages.h"
#include "cluster/wire.h"

namespace chiron::cluster {
namespace {

NodeRecord sample_record(uint64_t position) {
  NodeRecord r;
  r.position = position;
  r.uid = 0xABCDEF0123456789ull + position;
  r.endpoint = "10.77.0." + std::to_string(position) + ":7070";
  r.http = "127.0.0.1:7080";
  r.hostname = "node-" + std::to_string(position);
  r.superior = position / 2;
  r.threads = 8;
  r.memory_bytes = uint64_t{16} << 30;
  r.load = 0.75;
  r.jobs = 2;
  r.version = 41;
  return r;
}

KernelMsg sample_kernel(bool carries_parent) {
  KernelMsg m;
  m.id = {0x1111, 42};
  m.job = 7;
  m.origin = 3;
  m.kernel = {"ar.part", std::string("\0\1\2body", 7)};
  m.parent_id = {0x2222, 1};
  m.carries_parent = carries_parent;
  if (carries_parent) m.parent = {"ar.main", "parent-state"};
  return m;
}

KernelReturnMsg sample_return() {
  KernelReturnMsg m;
  m.id = {0x1111, 42};
  m.job = 7;
  m.exit_code = -3;
  m.status_code = static_cast<uint8_t>(StatusCode::kIoError);
  m.status_message = "write part 3: disk full";
  m.kernel = {"ndbc.station-year_2", "result"};
  return m;
}

// Every proper prefix of `payload` must fail to decode (with a message), never crash.
void expect_every_truncation_fails(const std::string& payload, const std::function<Status(std::string_view)>& decode) {
  for (size_t n = 0; n < payload.size(); ++n) {
    Status st = decode(std::string_view(payload).substr(0, n));
    EXPECT_FALSE(st.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_FALSE(st.message().empty());
  }
  EXPECT_TRUE(decode(payload).ok());
  Status trailing = decode(payload + "x");
  EXPECT_NE(trailing.message().find("1 unexpected trailing bytes"), std::string::npos) << trailing.to_string();
}

template <class F>
std::function<Status(std::string_view)> status_of(F decode) {
  return [decode](std::string_view p) { return decode(p).status(); };
}

TEST(MessagesTest, AttachRoundTrips) {
  auto m = decode_attach(encode(AttachMsg{12, 5}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->position, 12u);
  EXPECT_EQ(m->old_superior, 5u);
  expect_every_truncation_fails(encode(AttachMsg{12, 5}), status_of(decode_attach));
}

TEST(MessagesTest, RecordsRoundTrip) {
  std::vector<NodeRecord> recs = {sample_record(1), sample_record(2), sample_record(300)};
  recs[1].http.clear();
  auto got = decode_records(encode_records(recs));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, recs);
  auto none = decode_records(encode_records({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  expect_every_truncation_fails(encode_records(recs), status_of(decode_records));
}

TEST(MessagesTest, RecordsWithAHugeCountAreRefusedBeforeAllocating) {
  ByteWriter w;
  w.u32(0xFFFFFFFFu);
  w.raw(std::string(100, '\0'));
  auto got = decode_records(w.buffer());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().to_string(),
            "invalid_argument: RECORDS: record count 4294967295 at byte 0 exceeds the 100 bytes left");
}

TEST(MessagesTest, RecordsWithABadLoadOrLongHostnameAreRefused) {
  for (double load : {std::nan(""), std::numeric_limits<double>::infinity(), -1.0}) {
    NodeRecord r = sample_record(4);
    r.load = load;
    auto got = decode_records(encode_records({r}));
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.status().message().find("load is not a finite number"), std::string::npos);
  }
  NodeRecord r = sample_record(4);
  r.hostname = std::string(256, 'h');
  auto got = decode_records(encode_records({r}));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("hostname of 256 bytes"), std::string::npos) << got.status().to_string();
}

TEST(MessagesTest, PositionsRoundTripAndHostileCountsFail) {
  std::vector<uint64_t> p = {1, 2, 3, UINT64_MAX};
  auto got = decode_positions(encode_positions(p));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, p);
  expect_every_truncation_fails(encode_positions(p), status_of(decode_positions));
  ByteWriter w;
  w.u32(1u << 30);
  w.u64(1);
  auto bad = decode_positions(w.buffer());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("position count 1073741824"), std::string::npos);
}

TEST(MessagesTest, KernelRoundTripsWithAndWithoutItsParent) {
  for (bool carries : {false, true}) {
    KernelMsg m = sample_kernel(carries);
    auto got = decode_kernel(encode(m));
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got->id, m.id);
    EXPECT_EQ(got->job, 7u);
    EXPECT_EQ(got->origin, 3u);
    EXPECT_EQ(got->kernel.type, "ar.part");
    EXPECT_EQ(got->kernel.body, m.kernel.body);
    EXPECT_EQ(got->parent_id, m.parent_id);
    EXPECT_EQ(got->carries_parent, carries);
    EXPECT_EQ(got->parent.type, m.parent.type);
    EXPECT_EQ(got->parent.body, m.parent.body);
    expect_every_truncation_fails(encode(m), status_of(decode_kernel));
  }
}

TEST(MessagesTest, KernelTypeNamesAreValidated) {
  EXPECT_TRUE(valid_kernel_type_name("ar.part"));
  EXPECT_TRUE(valid_kernel_type_name("ndbc_station-2.x"));
  EXPECT_TRUE(valid_kernel_type_name(std::string(128, 'a')));
  EXPECT_FALSE(valid_kernel_type_name(""));
  EXPECT_FALSE(valid_kernel_type_name(std::string(129, 'a')));
  EXPECT_FALSE(valid_kernel_type_name("Ar.Part"));
  EXPECT_FALSE(valid_kernel_type_name("a/b"));
  EXPECT_FALSE(valid_kernel_type_name(std::string("a\0b", 3)));
  for (std::string bad : {std::string(""), std::string("../etc"), std::string("x y"), std::string(129, 'a')}) {
    KernelMsg m = sample_kernel(false);
    m.kernel.type = bad;
    auto got = decode_kernel(encode(m));
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_NE(got.status().message().find("kernel type"), std::string::npos) << got.status().to_string();
  }
  KernelMsg m = sample_kernel(true);
  m.parent.type = "Evil\n";
  auto got = decode_kernel(encode(m));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().to_string(),
            "invalid_argument: KERNEL: invalid parent type 'Evil?' (want 1-128 of [a-z0-9._-])");
}

TEST(MessagesTest, KernelWithABodyLongerThanThePayloadFails) {
  KernelMsg m = sample_kernel(false);
  std::string bytes = encode(m);
  // The body length sits after id (16), job, origin (16), the type (4 + 7).
  const size_t at = 16 + 16 + 4 + 7;
  for (int i = 0; i < 4; ++i) bytes[at + i] = '\xff';
  auto got = decode_kernel(bytes);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("KERNEL: string of 4294967295 bytes"), std::string::npos)
      << got.status().to_string();
}

TEST(MessagesTest, KernelWithABadBooleanFails) {
  std::string bytes = encode(sample_kernel(false));
  bytes.back() = 2;  // carries_parent
  auto got = decode_kernel(bytes);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("bad boolean"), std::string::npos);
}

TEST(MessagesTest, KernelReturnRoundTrips) {
  KernelReturnMsg m = sample_return();
  auto got = decode_kernel_return(encode(m));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->id, m.id);
  EXPECT_EQ(got->job, 7u);
  EXPECT_EQ(got->exit_code, -3);
  EXPECT_EQ(got->status_code, m.status_code);
  EXPECT_EQ(got->status_message, m.status_message);
  EXPECT_EQ(got->kernel.type, m.kernel.type);
  EXPECT_EQ(got->kernel.body, "result");
  expect_every_truncation_fails(encode(m), status_of(decode_kernel_return));
}

TEST(MessagesTest, KernelReturnWithAnUnknownStatusCodeFails) {
  KernelReturnMsg m = sample_return();
  m.status_code = 200;
  auto got = decode_kernel_return(encode(m));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().to_string(), "invalid_argument: KERNEL_RETURN: unknown status code 200");
}

TEST(MessagesTest, KernelReturnTruncatesAnOverlongStatusMessage) {
  KernelReturnMsg m = sample_return();
  m.status_message = std::string(10000, 'm');
  auto got = decode_kernel_return(encode(m));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->status_message.size(), 4096u);
}

TEST(MessagesTest, CancelJobAndErrorRoundTrip) {
  auto c = decode_cancel_job(encode(CancelJobMsg{99}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->job, 99u);
  expect_every_truncation_fails(encode(CancelJobMsg{99}), status_of(decode_cancel_job));
  auto e = decode_error(encode_error("cluster name mismatch"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, "cluster name mismatch");
  expect_every_truncation_fails(encode_error("why"), status_of(decode_error));
  auto capped = decode_error(encode_error(std::string(5000, 'e')));
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->size(), 4096u);
}

TEST(MessagesTest, EmptyAndGarbagePayloadsFailEveryDecoder) {
  for (std::string_view p : {std::string_view(""), std::string_view("\xff\xff\xff\xff\xff\xff\xff")}) {
    EXPECT_FALSE(decode_attach(p).ok());
    EXPECT_FALSE(decode_records(p).ok());
    EXPECT_FALSE(decode_positions(p).ok());
    EXPECT_FALSE(decode_kernel(p).ok());
    EXPECT_FALSE(decode_kernel_return(p).ok());
    EXPECT_FALSE(decode_cancel_job(p).ok());
    EXPECT_FALSE(decode_error(p).ok());
  }
}

}  // namespace
}  // namespace chiron::cluster
