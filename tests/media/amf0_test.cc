// AMF0 encoding and the bounded reader, on byte buffers.

#include "media/amf0.h"

#include <gtest/gtest.h>

namespace chiron::media {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

Amf0Value decode_one(std::string_view in, Status* st = nullptr) {
  Amf0Reader r(in);
  Amf0Value v;
  Status s = r.read(v);
  if (st) *st = s;
  return v;
}

TEST(Amf0Test, NumberIsBigEndianDouble) {
  std::string out;
  amf0_append_number(out, 1.0);
  EXPECT_EQ(out, bytes({0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(decode_one(out).as_number(), 1.0);
}

TEST(Amf0Test, RoundTripsEveryType) {
  Amf0Value obj = Amf0Value::object();
  obj.add("n", Amf0Value::number(-2.5));
  obj.add("b", Amf0Value::boolean(true));
  obj.add("s", Amf0Value::string("héllo"));
  obj.add("null", Amf0Value::null());
  obj.add("undef", Amf0Value::undefined());
  obj.add("ecma", Amf0Value::ecma_array({{"w", Amf0Value::number(1280)}}));
  obj.add("arr", Amf0Value::strict_array({Amf0Value::number(1), Amf0Value::string("x")}));
  obj.add("date", Amf0Value::date(1.7e12, -60));
  std::string out;
  amf0_append(out, obj);
  Status st;
  const Amf0Value back = decode_one(out, &st);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(back, obj);
  ASSERT_NE(back.find("ecma"), nullptr);
  EXPECT_EQ(back.find("ecma")->find("w")->as_number(), 1280);
  EXPECT_EQ(back.find("date")->timezone(), -60);
}

TEST(Amf0Test, KeepsPropertyOrder) {
  Amf0Value obj = Amf0Value::object({{"z", Amf0Value::number(1)}, {"a", Amf0Value::number(2)}});
  std::string out;
  amf0_append(out, obj);
  const Amf0Value back = decode_one(out);
  ASSERT_EQ(back.properties().size(), 2u);
  EXPECT_EQ(back.properties()[0].first, "z");
  EXPECT_EQ(back.properties()[1].first, "a");
}

TEST(Amf0Test, LongStringBothWays) {
  const std::string big(70000, 'q');
  std::string out;
  amf0_append_string(out, big);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x0C);
  EXPECT_EQ(decode_one(out).as_string(), big);
}

TEST(Amf0Test, XmlDocumentReadsAsStringAndUnsupportedAsUndefined) {
  EXPECT_EQ(decode_one(bytes({0x0F, 0, 0, 0, 2, 'h', 'i'})).as_string(), "hi");
  EXPECT_EQ(decode_one(bytes({0x0D})).type(), Amf0Value::Type::kUndefined);
}

TEST(Amf0Test, TypedObjectReadsAsObject) {
  const Amf0Value v = decode_one(bytes({0x10, 0, 1, 'C', 0, 1, 'k', 0x05, 0, 0, 0x09}));
  ASSERT_TRUE(v.has_properties());
  ASSERT_NE(v.find("k"), nullptr);
  EXPECT_TRUE(v.find("k")->is_null());
}

TEST(Amf0Test, EcmaArrayWithoutEndMarkerAtInputEnd) {
  // Old encoders end an ECMA array with the input: the count is a hint, the end is the end.
  const Amf0Value v = decode_one(bytes({0x08, 0, 0, 0, 5, 0, 1, 'a', 0x01, 1, 0, 0}));
  ASSERT_TRUE(v.has_properties());
  EXPECT_TRUE(v.find("a")->as_boolean());
}

TEST(Amf0Test, RejectsReferenceAndAmf3) {
  Status st;
  decode_one(bytes({0x07, 0, 1}), &st);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  decode_one(bytes({0x11, 0x02}), &st);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  decode_one(bytes({0x04}), &st);
  EXPECT_FALSE(st.ok());
  decode_one(bytes({0x09}), &st);
  EXPECT_FALSE(st.ok());
  decode_one(bytes({0x42}), &st);
  EXPECT_FALSE(st.ok());
}

TEST(Amf0Test, TruncatedInputIsAnError) {
  std::string out;
  Amf0Value obj = Amf0Value::object({{"key", Amf0Value::string("value")}, {"n", Amf0Value::number(3)}});
  amf0_append(out, obj);
  for (size_t n = 0; n < out.size(); ++n) {
    Status st;
    decode_one(std::string_view(out).substr(0, n), &st);
    EXPECT_FALSE(st.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Amf0Test, DeclaredStringLongerThanInputIsAnError) {
  Status st;
  decode_one(bytes({0x02, 0xFF, 0xFF, 'a'}), &st);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
  decode_one(bytes({0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 'a'}), &st);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
}

TEST(Amf0Test, StrictArrayCountBeyondInputIsRefusedBeforeAllocating) {
  Status st;
  decode_one(bytes({0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05}), &st);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
}

TEST(Amf0Test, DepthLimit) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += bytes({0x03, 0, 1, 'x'});
  deep += bytes({0x05});
  Status st;
  decode_one(deep, &st);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

TEST(Amf0Test, ValueCountLimit) {
  std::string many = bytes({0x0A, 0, 0, 0x10, 0});  // 4096 nulls
  many.append(4096, 0x05);
  Amf0Reader r(many, Amf0Limits{16, 1000});
  Amf0Value v;
  EXPECT_EQ(r.read(v).code(), StatusCode::kResourceExhausted);
  Amf0Reader ok(many);
  EXPECT_TRUE(ok.read(v).ok());
  EXPECT_EQ(v.items().size(), 4096u);
}

TEST(Amf0Test, ReadAllAndRest) {
  std::string out;
  amf0_append_string(out, "connect");
  amf0_append_number(out, 1);
  amf0_append_null(out);
  Amf0Reader r(out);
  std::string name;
  ASSERT_TRUE(r.read_string(name).ok());
  EXPECT_EQ(name, "connect");
  EXPECT_EQ(r.rest().size(), 10u);
  std::vector<Amf0Value> rest;
  ASSERT_TRUE(r.read_all(rest).ok());
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_TRUE(rest[1].is_null());
  EXPECT_TRUE(r.done());
}

TEST(Amf0Test, ReadStringRefusesOtherTypes) {
  std::string out;
  amf0_append_number(out, 3);
  Amf0Reader r(out);
  std::string s;
  EXPECT_EQ(r.read_string(s).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chiron::media
