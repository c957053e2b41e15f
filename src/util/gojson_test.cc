#include "util/gojson.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace ferry::gojson {
namespace {

// Expected strings below were produced by Go 1.19's encoding/json (the
// toolchain of skopeo 1.9.3).

TEST(GoJsonMarshal, EscapesLikeGo) {
  EXPECT_EQ(marshal(Json("<a href=\"x\">&</a>")), R"("\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e")");
  EXPECT_EQ(marshal(Json(std::string("\b\f\n\r\t\x01\x1f\x7f\\/", 10))), "\"\\u0008\\u000c\\n\\r\\t\\u0001\\u001f\x7f\\\\/\"");
  EXPECT_EQ(marshal(Json(std::string("\0", 1))), "\"\\u0000\"");
  EXPECT_EQ(marshal(Json("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa")), "\"\\u2028\\u2029\xe2\x80\xaa\"");
  EXPECT_EQ(marshal(Json("é😀")), "\"é😀\"");
}

TEST(GoJsonMarshal, InvalidUtf8BecomesReplacementPerByte) {
  EXPECT_EQ(marshal(Json("a\xff" "b")), "\"a\\ufffdb\"");
  // A surrogate encoded in UTF-8 is three invalid bytes to Go.
  EXPECT_EQ(marshal(Json("\xed\xa0\x80")), "\"\\ufffd\\ufffd\\ufffd\"");
  // Truncated sequence, overlong encoding, beyond U+10FFFF.
  EXPECT_EQ(marshal(Json("\xe2\x82")), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(marshal(Json("\xc0\xaf")), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(marshal(Json("\xf4\x90\x80\x80")), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
  // An encoded U+FFFD is valid and stays as is.
  EXPECT_EQ(marshal(Json("\xef\xbf\xbd")), "\"\xef\xbf\xbd\"");
}

TEST(GoJsonMarshal, Numbers) {
  EXPECT_EQ(marshal(Json(int64_t{-9223372036854775807 - 1})), "-9223372036854775808");
  EXPECT_EQ(marshal(Json(uint64_t{18446744073709551615u})), "18446744073709551615");
  EXPECT_EQ(marshal(Json(1.5)), "1.5");
  EXPECT_EQ(marshal(Json(0.1)), "0.1");
  EXPECT_EQ(marshal(Json(-0.0)), "-0");
  EXPECT_EQ(marshal(Json(1e20)), "100000000000000000000");
  EXPECT_EQ(marshal(Json(1e21)), "1e+21");
  EXPECT_EQ(marshal(Json(123456789e20)), "1.23456789e+28");
  EXPECT_EQ(marshal(Json(0.000001)), "0.000001");
  EXPECT_EQ(marshal(Json(0.0000001)), "1e-7");
  EXPECT_EQ(marshal(Json(1.5e-10)), "1.5e-10");
  EXPECT_EQ(marshal(Json(5e-324)), "5e-324");
  EXPECT_EQ(marshal(Json(1.7976931348623157e308)), "1.7976931348623157e+308");
  EXPECT_EQ(marshal(Json(-5.1763187364132395e+20)), "-517631873641323950000");
  EXPECT_THROW(marshal(Json(std::nan(""))), Error);
}

TEST(GoJsonMarshal, CompactKeepsInsertionOrder) {
  Json v = Json::object();
  v["z"] = 1;
  v["a"] = Json::array({true, false, nullptr});
  v["m"] = Json::object();
  v["e"] = Json::array();
  EXPECT_EQ(marshal(v), R"({"z":1,"a":[true,false,null],"m":{},"e":[]})");
}

TEST(GoJsonMarshal, BinaryIsBase64) {
  EXPECT_EQ(marshal(Json::binary({'{', '}'})), "\"e30=\"");
  EXPECT_EQ(marshal(Json::binary({'h', 'i', '!'})), "\"aGkh\"");
  EXPECT_EQ(marshal(Json::binary({0xff})), "\"/w==\"");
}

TEST(GoJsonMarshalIndent, MatchesGo) {
  Json v = Json::object();
  v["a"] = Json::array({1, Json::object(), Json::array()});
  v["b"] = Json::object({{"c", "<"}});
  EXPECT_EQ(marshal_indent(v, "", "    "),
            "{\n    \"a\": [\n        1,\n        {},\n        []\n    ],\n    \"b\": {\n        \"c\": \"\\u003c\"\n    }\n}");
  // The prefix starts every line but the first.
  EXPECT_EQ(marshal_indent(v, ">", "\t"),
            "{\n>\t\"a\": [\n>\t\t1,\n>\t\t{},\n>\t\t[]\n>\t],\n>\t\"b\": {\n>\t\t\"c\": \"\\u003c\"\n>\t}\n>}");
  EXPECT_EQ(marshal_indent(Json::array(), "", "  "), "[]");
  EXPECT_EQ(marshal_indent(Json("x"), "", "  "), "\"x\"");
}

TEST(GoJsonMarshal, DepthIsBounded) {
  Json deep = Json::array();
  for (int i = 0; i < 1500; ++i) deep = Json::array({std::move(deep)});
  EXPECT_EQ(marshal(deep).size(), 3002u);
  for (int i = 0; i < 1000; ++i) deep = Json::array({std::move(deep)});
  EXPECT_THROW(marshal(deep), Error);
  EXPECT_THROW(marshal_indent(deep, "", " "), Error);
}

TEST(GoJsonFindMemberFold, CaseInsensitiveLastWins) {
  Json v = Json::object();
  v["Architecture"] = "a";
  v["os"] = "linux";
  v["ARCHITECTURE"] = "b";
  ASSERT_NE(find_member_fold(v, "architecture"), nullptr);
  EXPECT_EQ(*find_member_fold(v, "architecture"), "b");
  EXPECT_EQ(*find_member_fold(v, "OS"), "linux");
  EXPECT_EQ(find_member_fold(v, "variant"), nullptr);
  EXPECT_EQ(find_member_fold(Json::array(), "x"), nullptr);
  // Go folds U+017F LONG S to 's' and U+212A KELVIN SIGN to 'k'.
  Json w = Json::object();
  w["\xc5\xbftopSignal"] = "TERM";
  w["\xe2\x84\xaa" "ey"] = "k";
  EXPECT_EQ(*find_member_fold(w, "StopSignal"), "TERM");
  EXPECT_EQ(*find_member_fold(w, "key"), "k");
  EXPECT_EQ(find_member_fold(w, "topSignal"), nullptr);
}

}  // namespace
}  // namespace ferry::gojson
