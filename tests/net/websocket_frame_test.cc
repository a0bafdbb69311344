// Hostile-input tests for the RFC 6455 frame parser: bytes in, events out, no sockets.

#include "net/websocket_frame.h"

#include <gtest/gtest.h>

#include "common/strings.h"

#include <string>
#include <vector>

namespace chiron::net::detail {
namespace {

constexpr std::array<uint8_t, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};

std::string client_frame(WsOpcode op, std::string_view payload, bool fin = true) {
  return encode_ws_frame(op, payload, fin, kMask);
}

// Feeds data in pieces of `step` bytes and collects every event until the parser stops.
std::vector<WsEvent> feed(WsFrameParser& parser, std::string_view data, size_t step = SIZE_MAX) {
  std::vector<WsEvent> events;
  size_t pos = 0;
  while (pos < data.size() && !parser.failed()) {
    std::string_view chunk = data.substr(pos, std::min(step, data.size() - pos));
    size_t off = 0;
    while (off < chunk.size()) {
      std::optional<WsEvent> ev;
      size_t used = parser.parse(chunk.substr(off), ev);
      off += used;
      if (ev) events.push_back(std::move(*ev));
      if (used == 0) break;
    }
    pos += off;
    if (off < chunk.size()) break;
  }
  return events;
}

std::vector<WsEvent> feed_all(std::string_view data, size_t step = SIZE_MAX, size_t max_message = 1 << 20) {
  WsFrameParser parser(WsParserLimits{max_message});
  return feed(parser, data, step);
}

uint16_t error_code_of(const std::vector<WsEvent>& events) {
  if (events.empty() || events.back().kind != WsEvent::Kind::kError) return 0;
  return events.back().code;
}

TEST(WsFrameParserTest, ParsesMaskedTextMessage) {
  auto events = feed_all(client_frame(WsOpcode::kText, "Hello"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WsEvent::Kind::kMessage);
  EXPECT_EQ(events[0].opcode, WsOpcode::kText);
  EXPECT_EQ(events[0].payload, "Hello");
}

TEST(WsFrameParserTest, ParsesRfcExampleMaskedHello) {
  // RFC 6455 §5.7: a single-frame masked text message containing "Hello".
  const std::string bytes = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  auto events = feed_all(bytes);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "Hello");
}

TEST(WsFrameParserTest, EncoderMatchesRfcExamples) {
  // RFC 6455 §5.7: unmasked "Hello", and the 256-byte / 64 KiB binary headers.
  EXPECT_EQ(encode_ws_frame(WsOpcode::kText, "Hello"), std::string("\x81\x05Hello"));
  EXPECT_EQ(encode_ws_frame(WsOpcode::kText, "Hello", true, kMask), std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
  EXPECT_EQ(encode_ws_frame(WsOpcode::kBinary, std::string(256, 'x')).substr(0, 4), std::string("\x82\x7E\x01\x00", 4));
  EXPECT_EQ(encode_ws_frame(WsOpcode::kBinary, std::string(65536, 'x')).substr(0, 10),
            std::string("\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

TEST(WsFrameParserTest, ParsesEveryLengthEncodingOneByteAtATime) {
  for (size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    std::string payload(n, '\0');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7);
    auto events = feed_all(client_frame(WsOpcode::kBinary, payload), 1);
    ASSERT_EQ(events.size(), 1u) << n;
    EXPECT_EQ(events[0].payload, payload) << n;
  }
}

TEST(WsFrameParserTest, ReassemblesFragmentsInterleavedWithControlFrames) {
  std::string bytes = client_frame(WsOpcode::kText, "Hel", false) + client_frame(WsOpcode::kPing, "p") +
                      client_frame(WsOpcode::kContinuation, "lo ", false) +
                      client_frame(WsOpcode::kContinuation, "world", true);
  for (size_t step : {1u, 3u, 1000u}) {
    auto events = feed_all(bytes, step);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, WsEvent::Kind::kPing);
    EXPECT_EQ(events[0].payload, "p");
    EXPECT_EQ(events[1].kind, WsEvent::Kind::kMessage);
    EXPECT_EQ(events[1].payload, "Hello world");
  }
}

TEST(WsFrameParserTest, ParsesManyMessagesFromOneBuffer) {
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes += client_frame(WsOpcode::kText, "m" + std::to_string(i));
  auto events = feed_all(bytes);
  ASSERT_EQ(events.size(), 100u);
  EXPECT_EQ(events[99].payload, "m99");
}

TEST(WsFrameParserTest, RejectsUnmaskedClientFrame) {
  EXPECT_EQ(error_code_of(feed_all(encode_ws_frame(WsOpcode::kText, "hi"))), kWsProtocolError);
}

TEST(WsFrameParserTest, ClientSideRejectsMaskedServerFrame) {
  WsFrameParser parser(WsParserLimits{}, /*require_mask=*/false);
  EXPECT_EQ(error_code_of(feed(parser, client_frame(WsOpcode::kText, "hi"))), kWsProtocolError);
  WsFrameParser ok(WsParserLimits{}, false);
  auto events = feed(ok, encode_ws_frame(WsOpcode::kText, "hi"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "hi");
}

TEST(WsFrameParserTest, RejectsRsvBitsWithoutExtension) {
  for (uint8_t rsv : {0x40, 0x20, 0x10}) {
    std::string f = client_frame(WsOpcode::kText, "hi");
    f[0] = static_cast<char>(f[0] | rsv);
    EXPECT_EQ(error_code_of(feed_all(f)), kWsProtocolError);
  }
}

TEST(WsFrameParserTest, RejectsReservedOpcodes) {
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    std::string f = client_frame(WsOpcode::kText, "hi");
    f[0] = static_cast<char>(0x80 | op);
    EXPECT_EQ(error_code_of(feed_all(f)), kWsProtocolError) << int(op);
  }
}

TEST(WsFrameParserTest, RejectsFragmentedControlFrame) {
  EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kPing, "x", false))), kWsProtocolError);
  EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kClose, "", false))), kWsProtocolError);
}

TEST(WsFrameParserTest, RejectsControlFrameOver125Bytes) {
  EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kPing, std::string(126, 'x')))), kWsProtocolError);
  auto ok = feed_all(client_frame(WsOpcode::kPing, std::string(125, 'x')));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].kind, WsEvent::Kind::kPing);
}

TEST(WsFrameParserTest, RejectsContinuationWithoutStart) {
  EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kContinuation, "x"))), kWsProtocolError);
}

TEST(WsFrameParserTest, RejectsNewDataFrameInsideFragmentedMessage) {
  std::string bytes = client_frame(WsOpcode::kText, "a", false) + client_frame(WsOpcode::kBinary, "b");
  EXPECT_EQ(error_code_of(feed_all(bytes)), kWsProtocolError);
}

TEST(WsFrameParserTest, RejectsSixtyFourBitLengthWithHighBitSet) {
  std::string f = "\x82\xFF";
  f += std::string("\x80\x00\x00\x00\x00\x00\x00\x01", 8);
  f += std::string(reinterpret_cast<const char*>(kMask.data()), 4);
  EXPECT_EQ(error_code_of(feed_all(f)), kWsProtocolError);
}

TEST(WsFrameParserTest, RejectsOversizedFrameBeforeItsPayloadArrives) {
  // Only the header of a 1 GiB frame: the parser must refuse without waiting for (or buffering) the body.
  std::string f = "\x82\xFF";
  f += std::string("\x00\x00\x00\x00\x40\x00\x00\x00", 8);
  f += std::string(reinterpret_cast<const char*>(kMask.data()), 4);
  EXPECT_EQ(error_code_of(feed_all(f, SIZE_MAX, 1024)), kWsMessageTooBig);
}

TEST(WsFrameParserTest, RejectsFragmentedMessageOverLimit) {
  std::string bytes = client_frame(WsOpcode::kBinary, std::string(600, 'a'), false) +
                      client_frame(WsOpcode::kContinuation, std::string(600, 'b'));
  EXPECT_EQ(error_code_of(feed_all(bytes, SIZE_MAX, 1000)), kWsMessageTooBig);
  auto ok = feed_all(bytes, SIZE_MAX, 1200);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].payload.size(), 1200u);
}

TEST(WsFrameParserTest, RejectsInvalidUtf8Text) {
  for (std::string bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80", "\xe2\x82"}) {
    EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kText, bad))), kWsInvalidPayload) << bad.size();
  }
}

TEST(WsFrameParserTest, AcceptsUtf8CharacterSplitAcrossFragments) {
  // "€" = E2 82 AC split over three frames.
  std::string bytes = client_frame(WsOpcode::kText, "\xe2", false) +
                      client_frame(WsOpcode::kContinuation, "\x82", false) +
                      client_frame(WsOpcode::kContinuation, "\xac");
  auto events = feed_all(bytes, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "\xe2\x82\xac");
}

TEST(WsFrameParserTest, RejectsInvalidUtf8SplitAcrossFragmentsEarly) {
  // The bad continuation byte arrives in the second fragment; the message is never finished.
  std::string bytes = client_frame(WsOpcode::kText, "ok\xe2", false) + client_frame(WsOpcode::kContinuation, "\x41", false);
  EXPECT_EQ(error_code_of(feed_all(bytes)), kWsInvalidPayload);
}

TEST(WsFrameParserTest, RejectsTextEndingInsideUtf8Sequence) {
  std::string bytes = client_frame(WsOpcode::kText, "ok\xe2\x82", false) + client_frame(WsOpcode::kContinuation, "");
  EXPECT_EQ(error_code_of(feed_all(bytes)), kWsInvalidPayload);
}

TEST(WsFrameParserTest, BinaryMessagesAreNotUtf8Checked) {
  auto events = feed_all(client_frame(WsOpcode::kBinary, "\xff\xfe"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].opcode, WsOpcode::kBinary);
}

TEST(WsFrameParserTest, ParsesCloseWithCodeAndReason) {
  auto events = feed_all(client_frame(WsOpcode::kClose, ws_close_payload(1000, "bye")));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WsEvent::Kind::kClose);
  EXPECT_EQ(events[0].code, 1000);
  EXPECT_EQ(events[0].payload, "bye");
}

TEST(WsFrameParserTest, EmptyCloseReportsNoStatusCode) {
  auto events = feed_all(client_frame(WsOpcode::kClose, ""));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].code, 1005);
}

TEST(WsFrameParserTest, StopsAfterClose) {
  WsFrameParser parser;
  std::string bytes = client_frame(WsOpcode::kClose, "") + client_frame(WsOpcode::kText, "late");
  std::optional<WsEvent> ev;
  size_t used = parser.parse(bytes, ev);
  ASSERT_TRUE(ev);
  EXPECT_EQ(used, 6u);
  EXPECT_EQ(parser.parse(std::string_view(bytes).substr(used), ev), 0u);
  EXPECT_FALSE(ev);
}

TEST(WsFrameParserTest, RejectsOneByteClosePayload) {
  EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kClose, "\x03"))), kWsProtocolError);
}

TEST(WsFrameParserTest, RejectsInvalidCloseCodes) {
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kClose, ws_close_payload(code, "")))), kWsProtocolError)
        << code;
  }
  for (uint16_t code : {1000, 1001, 1003, 1011, 3000, 4999}) {
    auto events = feed_all(client_frame(WsOpcode::kClose, ws_close_payload(code, "")));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].code, code);
  }
}

TEST(WsFrameParserTest, RejectsNonUtf8CloseReason) {
  std::string payload = ws_close_payload(1000, "") + "\xff";
  EXPECT_EQ(error_code_of(feed_all(client_frame(WsOpcode::kClose, payload))), kWsProtocolError);
}

TEST(WsFrameParserTest, TruncatedInputAtEveryOffsetYieldsNoEvent) {
  const std::string f = client_frame(WsOpcode::kText, std::string(300, 'z'));
  for (size_t cut = 0; cut < f.size(); ++cut) {
    auto events = feed_all(std::string_view(f).substr(0, cut), 1);
    EXPECT_TRUE(events.empty()) << cut;
  }
}

TEST(WsFrameParserTest, BadMaskKeyYieldsGarbageNotCrash) {
  // A frame masked with a different key than the header claims: the text is no longer UTF-8.
  std::string f = client_frame(WsOpcode::kText, "\x7f\x7f\x7f\x7f");
  f[2] = static_cast<char>(0x80);  // first mask byte changed → payload byte becomes ≥ 0x80
  EXPECT_EQ(error_code_of(feed_all(f)), kWsInvalidPayload);
}

TEST(WsFrameParserTest, ClosePayloadTruncatesLongReasonOnCharacterBoundary) {
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xe2\x82\xac";  // 300 bytes
  std::string p = ws_close_payload(1000, reason);
  EXPECT_LE(p.size(), 125u);
  auto events = feed_all(client_frame(WsOpcode::kClose, p));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WsEvent::Kind::kClose);
}

TEST(Utf8ValidatorTest, MatchesWholeStringValidatorOnSplits) {
  const std::vector<std::string> cases = {"h\xc3\xa9llo", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xe0\x80\x80",
                                          "\xf8\x88\x80\x80\x80", "\xed\x9f\xbf"};
  for (const auto& s : cases) {
    for (size_t cut = 0; cut <= s.size(); ++cut) {
      Utf8Validator v;
      bool ok = v.feed(s.substr(0, cut)) && v.feed(s.substr(cut)) && v.complete();
      EXPECT_EQ(ok, is_valid_utf8(s)) << cut;
    }
  }
}

TEST(Utf8ValidatorTest, AsciiFastPathAgreesWithWholeStringValidator) {
  // Multi-byte and invalid sequences placed around the 8-byte probe boundaries.
  const std::vector<std::string> inserts = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x80", "\xc3",
                                            "\xed\xa0\x80", "\xff"};
  for (const auto& ins : inserts) {
    for (size_t pos = 0; pos < 20; ++pos) {
      std::string s = std::string(pos, 'a') + ins + std::string(17, 'b');
      for (size_t cut = 0; cut <= s.size(); cut += 3) {
        Utf8Validator v;
        bool ok = v.feed(s.substr(0, cut)) && v.feed(s.substr(cut)) && v.complete();
        EXPECT_EQ(ok, is_valid_utf8(s)) << pos << " " << cut;
      }
    }
  }
}

}  // namespace
}  // namespace chiron::net::detail
