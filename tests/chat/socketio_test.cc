// Engine.IO 4 / Socket.IO 5 codec: the frames socket.io-client sends, the frames the server sends,
// and hostile input. Bytes in, packets out; no sockets.

#include "chat/socketio.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace chiron::chat {
namespace {

namespace json = boost::json;

ClientPacket parse_ok(std::string_view text, const ParseLimits& limits = {}) {
  auto r = parse_client_frame(text, limits);
  EXPECT_TRUE(r.ok()) << "input: " << text << " error: " << r.status().to_string();
  return r.ok() ? std::move(r).value() : ClientPacket{};
}

StatusCode parse_code(std::string_view text, const ParseLimits& limits = {}) {
  return parse_client_frame(text, limits).status().code();
}

// ---- Engine.IO packets a client sends ----

TEST(SocketIoParseTest, AcceptsEngineIoHeartbeatCloseAndNoop) {
  EXPECT_EQ(parse_ok("2").eio, EioType::kPing);
  EXPECT_EQ(parse_ok("3").eio, EioType::kPong);
  EXPECT_EQ(parse_ok("1").eio, EioType::kClose);
  EXPECT_EQ(parse_ok("6").eio, EioType::kNoop);
  EXPECT_EQ(parse_ok("3").eio_data, "");
}

TEST(SocketIoParseTest, AcceptsProbeHeartbeats) {
  ClientPacket ping = parse_ok("2probe");
  EXPECT_EQ(ping.eio, EioType::kPing);
  EXPECT_EQ(ping.eio_data, "probe");
  EXPECT_EQ(parse_ok("3probe").eio_data, "probe");
}

TEST(SocketIoParseTest, RejectsServerOnlyAndUnknownEngineIoTypes) {
  for (std::string_view bad : {"0", "0{}", "5", "7", "9", "x", "{", " 2", "2 ", "2probe2", "3x", "1x", "6probe"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
}

TEST(SocketIoParseTest, RejectsBase64BinaryFrameAsUnimplemented) {
  EXPECT_EQ(parse_code("bAQID"), StatusCode::kUnimplemented);
}

// ---- Socket.IO packets in the exact forms socket.io-client emits ----

TEST(SocketIoParseTest, AcceptsConnectWithoutAuth) {
  ClientPacket p = parse_ok("40");
  EXPECT_EQ(p.eio, EioType::kMessage);
  EXPECT_EQ(p.sio.type, SioType::kConnect);
  EXPECT_TRUE(p.sio.default_namespace());
  EXPECT_FALSE(p.sio.data.has_value());
  EXPECT_FALSE(p.sio.ack_id.has_value());
}

TEST(SocketIoParseTest, AcceptsConnectWithAuthObject) {
  ClientPacket p = parse_ok(R"(40{"token":"x"})");
  ASSERT_TRUE(p.sio.data && p.sio.data->is_object());
  EXPECT_EQ(p.sio.data->at("token").as_string(), "x");
}

TEST(SocketIoParseTest, AcceptsConnectRecoveryPayload) {
  ClientPacket p = parse_ok(R"(40{"pid":"abc","offset":"MzUPkW0","token":"t"})");
  EXPECT_EQ(p.sio.data->at("offset").as_string(), "MzUPkW0");
}

TEST(SocketIoParseTest, AcceptsEventWithoutAck) {
  ClientPacket p = parse_ok(R"(42["new user","room1"])");
  EXPECT_EQ(p.sio.type, SioType::kEvent);
  EXPECT_FALSE(p.sio.ack_id.has_value());
  auto ev = event_view(p);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->name, "new user");
  ASSERT_EQ(ev->args.size(), 1u);
  EXPECT_EQ(ev->args[0].as_string(), "room1");
}

TEST(SocketIoParseTest, AcceptsEventWithAckId) {
  ClientPacket p = parse_ok(R"(4212["new message",{"text":"hi"}])");
  ASSERT_TRUE(p.sio.ack_id.has_value());
  EXPECT_EQ(*p.sio.ack_id, 12u);
  auto ev = event_view(p);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->name, "new message");
  EXPECT_EQ(ev->args[0].at("text").as_string(), "hi");
}

TEST(SocketIoParseTest, AcceptsEventWithOnlyAName) {
  ClientPacket p = parse_ok(R"(42["ping"])");
  auto ev = event_view(p);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->name, "ping");
  EXPECT_TRUE(ev->args.empty());
}

TEST(SocketIoParseTest, AcceptsAckIdZeroAndMaximum) {
  EXPECT_EQ(*parse_ok(R"(420["a"])").sio.ack_id, 0u);
  EXPECT_EQ(*parse_ok(R"(429007199254740991["a"])").sio.ack_id, kMaxAckId);
}

TEST(SocketIoParseTest, AcceptsClientAcks) {
  ClientPacket p = parse_ok(R"(4313[{"ok":true},"x"])");
  EXPECT_EQ(p.sio.type, SioType::kAck);
  EXPECT_EQ(*p.sio.ack_id, 13u);
  EXPECT_EQ(p.sio.data->as_array().size(), 2u);
  EXPECT_TRUE(parse_ok("430[]").sio.data->as_array().empty());
  EXPECT_FALSE(event_view(p).has_value());
}

TEST(SocketIoParseTest, AcceptsDisconnect) {
  ClientPacket p = parse_ok("41");
  EXPECT_EQ(p.sio.type, SioType::kDisconnect);
  EXPECT_FALSE(p.sio.data.has_value());
}

TEST(SocketIoParseTest, ReportsForeignNamespaceWithoutRefusing) {
  ClientPacket c = parse_ok("40/admin,");
  EXPECT_EQ(c.sio.type, SioType::kConnect);
  EXPECT_EQ(c.sio.nsp, "/admin");
  EXPECT_FALSE(c.sio.default_namespace());
  ClientPacket e = parse_ok(R"(42/admin,["x"])");
  EXPECT_EQ(e.sio.nsp, "/admin");
  ClientPacket a = parse_ok(R"(42/admin,7["x"])");
  EXPECT_EQ(*a.sio.ack_id, 7u);
  EXPECT_EQ(parse_ok(R"(40/admin,{"token":"x"})").sio.data->at("token").as_string(), "x");
  EXPECT_EQ(parse_ok("41/admin,").sio.nsp, "/admin");
}

TEST(SocketIoParseTest, AcceptsUnicodeInJsonStrings) {
  ClientPacket p = parse_ok("42[\"new message\",{\"text\":\"h\xC3\xA9llo \\u2603 \xF0\x9F\x98\x80\"}]");
  EXPECT_EQ(event_view(p)->args[0].at("text").as_string(), "h\xC3\xA9llo \xE2\x98\x83 \xF0\x9F\x98\x80");
}

// ---- Hostile and malformed input ----

TEST(SocketIoParseTest, RejectsEmptyFrameAndEmptyMessage) {
  EXPECT_EQ(parse_code(""), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code("4"), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsSocketIoTypesOutOfRange) {
  for (std::string_view bad : {"47", "48", "49", "4a", "4-", "4/", "4 ", "4[\"a\"]"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
}

TEST(SocketIoParseTest, RejectsConnectErrorFromClient) {
  EXPECT_EQ(parse_code(R"(44{"message":"x"})"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code("44"), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsBinaryPacketsAsUnimplemented) {
  EXPECT_EQ(parse_code(R"(451-["ev",{"_placeholder":true,"num":0}])"), StatusCode::kUnimplemented);
  EXPECT_EQ(parse_code(R"(461-12[{"_placeholder":true,"num":0}])"), StatusCode::kUnimplemented);
  EXPECT_EQ(parse_code("45"), StatusCode::kUnimplemented);
}

TEST(SocketIoParseTest, RejectsEventsOfTheWrongShape) {
  for (std::string_view bad : {"42", "42[]", "42[1]", "42{}", R"(42"x")", "42null", R"(42[""])",
                               R"(42[null,"x"])", R"(42[["a"]])", R"(42[{"a":1}])", "4212"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
}

TEST(SocketIoParseTest, RejectsReservedEventNames) {
  for (std::string_view bad : {R"(42["connect"])", R"(42["disconnect"])", R"(42["connect_error"])",
                               R"(42["disconnecting"])", R"(42["newListener",1])", R"(42["removeListener"])"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
}

TEST(SocketIoParseTest, RejectsTooLongEventName) {
  ParseLimits limits;
  limits.max_event_name_bytes = 8;
  EXPECT_TRUE(parse_client_frame(R"(42["12345678"])", limits).ok());
  EXPECT_EQ(parse_code(R"(42["123456789"])", limits), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsTruncatedAndTrailingJson) {
  for (std::string_view bad : {R"(42["a")", R"(42["a)", "42[", R"(42["a"]])", R"(42["a"]x)", R"(42["a"][])",
                               R"(42["a"],)", R"(40{"a":1}{})", R"(42["a",])", R"(42['a'])"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
}

TEST(SocketIoParseTest, RejectsWrongPayloadsForConnectDisconnectAndAck) {
  for (std::string_view bad : {"40[]", "40null", R"(40"tok")", "401", "4012{}", "41{}", "41[]", "417",
                               "43", "43[]", "437", "437{}", R"(437"x")", "437null"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
}

TEST(SocketIoParseTest, RejectsBadAckIds) {
  EXPECT_EQ(parse_code(R"(429007199254740992["a"])"), StatusCode::kInvalidArgument);  // 2^53
  EXPECT_EQ(parse_code(R"(4299999999999999999999["a"])"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(R"(42018446744073709551617["a"])"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(R"(4207["a"])"), StatusCode::kInvalidArgument);   // leading zero
  EXPECT_EQ(parse_code(R"(42-1["a"])"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(R"(42 1["a"])"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(R"(421.5["a"])"), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsBadNamespaceSyntax) {
  for (std::string_view bad : {"40/admin", R"(42/admin["x"])", "40/,", R"(42/,["x"])", "40/ad min,",
                               "40/ad\x01min,", "40/\xC3\xA9,", "40admin,", "40,"})
    EXPECT_EQ(parse_code(bad), StatusCode::kInvalidArgument) << bad;
  ParseLimits limits;
  limits.max_namespace_bytes = 6;
  EXPECT_TRUE(parse_client_frame("40/admin,", limits).ok());
  EXPECT_EQ(parse_code("40/admins,", limits), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsNestingBeyondTheDepthLimit) {
  ParseLimits limits;
  limits.max_json_depth = 32;
  auto nested = [](int depth) {
    return "42[\"a\"," + std::string(static_cast<size_t>(depth - 1), '[') +
           std::string(static_cast<size_t>(depth - 1), ']') + "]";
  };
  EXPECT_TRUE(parse_client_frame(nested(32), limits).ok());
  EXPECT_EQ(parse_code(nested(33), limits), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code("42[\"a\"," + std::string(100000, '[')), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsInvalidUtf8AndNulWithoutCrashing) {
  EXPECT_EQ(parse_code("42[\"a\xFF\"]"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code("42[\"a\",\"\xC3\"]"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code("42[\"\xED\xA0\x80\"]"), StatusCode::kInvalidArgument);  // surrogate
  EXPECT_EQ(parse_code(std::string_view("42[\"a\0\"]", 7)), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(std::string_view("42[\"a\"]\0", 8)), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(std::string_view("2\0", 2)), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(std::string_view("\0", 1)), StatusCode::kInvalidArgument);
}

TEST(SocketIoParseTest, RejectsNumbersThatOverflowToInfinity) {
  EXPECT_EQ(parse_code(R"(42["a",1E400])"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(R"(42["a",{"x":[-1e999]}])"), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_code(R"(40{"x":1e309})"), StatusCode::kInvalidArgument);
  EXPECT_TRUE(parse_client_frame(R"(42["a",1e308,1e-400,18446744073709551616])").ok());
}

TEST(SocketIoParseTest, AcceptsEscapedNulInsideJsonStrings) {
  ClientPacket p = parse_ok(R"(42["a","x\u0000y"])");
  auto ev = event_view(p);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->args[0].as_string().size(), 3u);
}

TEST(SocketIoParseTest, RejectsOversizeFramesAsResourceExhausted) {
  ParseLimits limits;
  limits.max_frame_bytes = 16;
  EXPECT_TRUE(parse_client_frame(R"(42["abcdefghij"])", limits).ok());  // exactly 16 bytes
  EXPECT_EQ(parse_code(R"(42["abcdefghijk"])", limits), StatusCode::kResourceExhausted);
}

TEST(SocketIoParseTest, ErrorsCarryAShortReason) {
  auto r = parse_client_frame(R"(4299999999999999999999["a"])");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "ack id out of range");
}

// ---- Encoders ----

TEST(SocketIoEncodeTest, OpenPacketMatchesTheEngineIoHandshake) {
  EXPECT_EQ(eio_open("lv_VI97HAXpY6yYWAAAC", 25000, 20000, 1000000),
            R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");
}

TEST(SocketIoEncodeTest, HeartbeatsAndControlPackets) {
  EXPECT_EQ(eio_ping(), "2");
  EXPECT_EQ(eio_pong(), "3");
  EXPECT_EQ(eio_pong("probe"), "3probe");
  EXPECT_EQ(eio_noop(), "6");
  EXPECT_EQ(sio_disconnect(), "41");
}

TEST(SocketIoEncodeTest, ConnectOkAndErrors) {
  EXPECT_EQ(sio_connect_ok("G5p5aAbCdEfGhIjKlMnO"), R"(40{"sid":"G5p5aAbCdEfGhIjKlMnO"})");
  EXPECT_EQ(sio_connect_error("/", "Not authorized"), R"(44{"message":"Not authorized"})");
  EXPECT_EQ(sio_connect_error("/admin", "Invalid namespace"), R"(44/admin,{"message":"Invalid namespace"})");
}

TEST(SocketIoEncodeTest, ForeignNamespaceFromParserCanBeEchoedInConnectError) {
  ClientPacket p = parse_ok("40/a~b-c_d.e,");
  EXPECT_EQ(sio_connect_error(p.sio.nsp, "Invalid namespace"), R"(44/a~b-c_d.e,{"message":"Invalid namespace"})");
}

TEST(SocketIoEncodeTest, EventsEscapeNamesAndArguments) {
  json::array args;
  args.emplace_back(json::object{{"text", "say \"hi\"\n</script>"}, {"seq", 7}});
  EXPECT_EQ(sio_event("new message", args), R"(42["new message",{"text":"say \"hi\"\n</script>","seq":7}])");
  EXPECT_EQ(sio_event("a\"b\\c", json::array{}), R"(42["a\"b\\c"])");
  EXPECT_EQ(sio_event("x", json::array{1, "y", nullptr}), R"(42["x",1,"y",null])");
}

TEST(SocketIoEncodeTest, EventFromPreSerializedArguments) {
  std::vector<std::string_view> args = {R"({"text":"hi","seq":1})", "3"};
  EXPECT_EQ(sio_event_serialized("new message", args), R"(42["new message",{"text":"hi","seq":1},3])");
  EXPECT_EQ(sio_event_serialized("tick", {}), R"(42["tick"])");
}

TEST(SocketIoEncodeTest, AckCarriesIdThenArray) {
  EXPECT_EQ(sio_ack(12, json::array{json::object{{"ok", true}}}), R"(4312[{"ok":true}])");
  EXPECT_EQ(sio_ack(0, json::array{}), "430[]");
}

TEST(SocketIoEncodeTest, ServerEventsHaveTheShapeClientsExpect) {
  // A server EVENT uses the client EVENT grammar, so our own parser accepts it unchanged.
  const std::string frame = sio_event("new message", json::array{json::object{{"text", "h\xC3\xA9"}}});
  ClientPacket p = parse_ok(frame);
  auto ev = event_view(p);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->name, "new message");
  EXPECT_EQ(ev->args[0].at("text").as_string(), "h\xC3\xA9");
  auto ack = parse_ok(sio_ack(9, json::array{"done"}));
  EXPECT_EQ(*ack.sio.ack_id, 9u);
}

TEST(SocketIoEncodeTest, ClientEncodingRoundTripsEveryClientForm) {
  for (std::string_view frame :
       {"40", R"(40{"token":"x"})", R"(42["new user","room1"])", R"(4212["new message",{"text":"hi"}])",
        R"(4313[{"ok":true}])", "430[]", "41", "2", "3", "3probe", "2probe", "6", "1", "40/admin,",
        R"(42/admin,7["x",null,1.5E0,-2,true])", R"(40/admin,{"t":[1,{"a":{}}]})"}) {
    ClientPacket p = parse_ok(frame);
    EXPECT_EQ(encode_client_packet(p), frame);
  }
}

}  // namespace
}  // namespace chiron::chat
