#include "util/gotype.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace ferry::gojson {
namespace {

// Expected values and messages below come from Go 1.19's encoding/json and
// time packages (skopeo 1.9.3's toolchain), run on the same inputs.

const Type& inner_type() {
  static const Type t{Kind::kStruct,
                      "pkg.Inner",
                      {
                          {"Name", &string_type(), true},
                          {"Tags", &string_slice_type(), true},
                          {"Labels", &string_map_type(), true},
                          {"Ports", &empty_struct_map_type(), true},
                      },
                      nullptr};
  return t;
}

const Type& outer_type() {
  static const Type items{Kind::kSlice, "[]pkg.Inner", {}, &inner_type()};
  static const Type inner_ptr{Kind::kPtr, "*pkg.Inner", {}, &inner_type()};
  static const Type t{Kind::kStruct,
                      "pkg.Outer",
                      {
                          {"id", &string_type()},
                          {"count", &int64_type(), true},
                          {"flag", &bool_type(), true},
                          {"when", &time_ptr_type(), true},
                          {"at", &time_type()},
                          {"data", &bytes_type(), true},
                          {"config", &inner_type()},
                          {"ptr", &inner_ptr, true},
                          {"items", &items},
                          {"os.version", &string_type(), true},
                      },
                      nullptr};
  return t;
}

std::string roundtrip(std::string_view in) { return marshal_value(unmarshal(in, outer_type()), outer_type()); }

std::string error_of(std::string_view in, const Type& t = outer_type()) {
  try {
    unmarshal(in, t);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(GoType, ZeroValueMarshal) {
  EXPECT_EQ(roundtrip("{}"), R"({"id":"","at":"0001-01-01T00:00:00Z","config":{},"items":null})");
  EXPECT_EQ(roundtrip("null"), R"({"id":"","at":"0001-01-01T00:00:00Z","config":{},"items":null})");
}

TEST(GoType, CaseInsensitiveKeysAndUnknownFieldsDropped) {
  EXPECT_EQ(roundtrip(R"({"ID":"x","COUNT":3,"Flag":true,"OS.VERSION":"1","unknown":{"a":[1,2,{}]},"Config":{"name":"n"}})"),
            R"({"id":"x","count":3,"flag":true,"at":"0001-01-01T00:00:00Z","config":{"Name":"n"},"items":null,"os.version":"1"})");
  // An exact match wins over an earlier folded one; escapes in keys count.
  EXPECT_EQ(roundtrip(R"({"\u0069d":"a","Id":"b"})"),
            R"({"id":"b","at":"0001-01-01T00:00:00Z","config":{},"items":null})");
}

TEST(GoType, RepeatedKeysMergeStructsAndMaps) {
  EXPECT_EQ(roundtrip(R"({"config":{"Name":"a","Labels":{"x":"1"}},"CONFIG":{"Labels":{"y":"2"},"Tags":["t"]}})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","config":{"Name":"a","Tags":["t"],"Labels":{"x":"1","y":"2"}},"items":null})");
  // Slices are decoded into element by element, then truncated.
  EXPECT_EQ(roundtrip(R"({"items":[{"Name":"a"},{"Name":"b"}],"items":[{"Tags":["t"]}]})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","config":{},"items":[{"Name":"a","Tags":["t"]}]})");
  EXPECT_EQ(roundtrip(R"({"items":[{"Name":"a"}],"items":[]})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","config":{},"items":[]})");
}

TEST(GoType, NullSemantics) {
  // null leaves strings, numbers, bools and structs alone, clears the rest.
  EXPECT_EQ(roundtrip(R"({"id":"x","id":null,"count":2,"count":null,"config":{"Name":"n"},"config":null,)"
                      R"("ptr":{},"ptr":null,"items":[],"items":null})"),
            R"({"id":"x","count":2,"at":"0001-01-01T00:00:00Z","config":{"Name":"n"},"items":null})");
  EXPECT_EQ(roundtrip(R"({"config":{"Labels":{"k":null},"Tags":[null],"Ports":{"80/tcp":null}}})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","config":{"Tags":[""],"Labels":{"k":""},"Ports":{"80/tcp":{}}},"items":null})");
}

TEST(GoType, MapsSortAndEmptyStructs) {
  EXPECT_EQ(roundtrip(R"({"config":{"Labels":{"b":"1","a":"2","\u2028":"3","B":"4"},"Ports":{"443/tcp":{"x":1},"80/tcp":{}}}})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","config":{"Labels":{"B":"4","a":"2","b":"1","\u2028":"3"},)"
            R"("Ports":{"443/tcp":{},"80/tcp":{}}},"items":null})");
}

TEST(GoType, StringsAreUnquotedAsGoDoes) {
  // Lone surrogates and invalid bytes become U+FFFD; pairs combine.
  Json v = unmarshal("{\"id\":\"\\ud800x\\udc00\\ud83d\\ude00\xff\xed\xa0\x80\"}", outer_type());
  EXPECT_EQ(v["id"], "\xef\xbf\xbdx\xef\xbf\xbd\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  v = unmarshal(R"({"id":"\ud800\ud800\udc00"})", outer_type());
  EXPECT_EQ(v["id"], "\xef\xbf\xbd\xf0\x90\x80\x80");
}

TEST(GoType, Times) {
  EXPECT_EQ(parse_go_time(R"("2023-04-05T06:07:08.123456780Z")"), "2023-04-05T06:07:08.12345678Z");
  EXPECT_EQ(parse_go_time(R"("2023-04-05T06:07:08.000Z")"), "2023-04-05T06:07:08Z");
  EXPECT_EQ(parse_go_time(R"("2023-04-05T06:07:08+02:00")"), "2023-04-05T06:07:08+02:00");
  EXPECT_EQ(parse_go_time(R"("2023-04-05T06:07:08-00:00")"), "2023-04-05T06:07:08Z");
  EXPECT_EQ(parse_go_time(R"("2023-04-05T06:07:08.1234567891234+00:00")"), "2023-04-05T06:07:08.123456789Z");
  // Go 1.19 is lenient: one-digit hour, comma fraction, offsets past 24h.
  EXPECT_EQ(parse_go_time(R"("2023-01-01T1:02:03,5+99:99")"), "2023-01-01T01:02:03.5+100:39");
  EXPECT_EQ(parse_go_time(R"("2024-02-29T00:00:00Z")"), "2024-02-29T00:00:00Z");
  EXPECT_EQ(roundtrip(R"({"when":null,"at":null})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","config":{},"items":null})");
  EXPECT_EQ(roundtrip(R"({"when":"2023-01-01T00:00:00+02:00"})"),
            R"({"id":"","when":"2023-01-01T00:00:00+02:00","at":"0001-01-01T00:00:00Z","config":{},"items":null})");
}

TEST(GoType, TimeErrors) {
  auto err = [](std::string_view t) {
    try {
      parse_go_time(t);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err(R"("2023-1x-01T00:00:00Z")"),
            R"(parsing time "\"2023-1x-01T00:00:00Z\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "1x-01T00:00:00Z\"" as "01")");
  EXPECT_EQ(err(R"("202x-01-01T00:00:00Z")"),
            R"(parsing time "\"202x-01-01T00:00:00Z\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "-01-01T00:00:00Z\"" as "2006")");
  EXPECT_EQ(err(R"("2023-01-01T00:00:00+00:0")"),
            R"(parsing time "\"2023-01-01T00:00:00+00:0\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "" as "Z07:00")");
  EXPECT_EQ(err(R"("2023-01-01T00:00:00+00:00x")"),
            R"(parsing time "\"2023-01-01T00:00:00+00:00x\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "x\"" as "\"")");
  EXPECT_EQ(err(R"("2023-00-01T00:00:00Z")"), R"(parsing time "\"2023-00-01T00:00:00Z\"": month out of range)");
  EXPECT_EQ(err(R"("2023-02-29T00:00:00Z")"), R"(parsing time "\"2023-02-29T00:00:00Z\"": day out of range)");
  EXPECT_EQ(err(R"("2023-01-01T24:00:00Z")"), R"(parsing time "\"2023-01-01T24:00:00Z\"": hour out of range)");
  EXPECT_EQ(err("123"), R"(parsing time "123" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "123" as "\"")");
  // Escapes are not decoded: time.Time sees the raw JSON text.
  EXPECT_NE(err(R"("\u0032023-01-01T00:00:00Z")"), "no error");
  EXPECT_EQ(err("\"\xff\""), R"(parsing time "\"\xff\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "\xff\"" as "2006")");
}

TEST(GoType, Bytes) {
  EXPECT_EQ(roundtrip(R"({"data":"e3\r\n0="})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","data":"e30=","config":{},"items":null})");
  EXPECT_EQ(roundtrip(R"({"data":[104,105]})"),
            R"({"id":"","at":"0001-01-01T00:00:00Z","data":"aGk=","config":{},"items":null})");
  EXPECT_EQ(roundtrip(R"({"data":""})"), R"({"id":"","at":"0001-01-01T00:00:00Z","config":{},"items":null})");
  EXPECT_EQ(error_of(R"({"data":"e30"})"), "illegal base64 data at input byte 0");
  EXPECT_EQ(error_of(R"({"data":"aGk=x"})"), "illegal base64 data at input byte 4");
  EXPECT_EQ(error_of(R"({"data":"e==="})"), "illegal base64 data at input byte 1");
  EXPECT_EQ(error_of(R"({"data":[256]})"),
            "json: cannot unmarshal number 256 into Go struct field Outer.data of type uint8");
}

TEST(GoType, TypeErrorsNameTheField) {
  EXPECT_EQ(error_of(R"({"count":"3"})"),
            "json: cannot unmarshal string into Go struct field Outer.count of type int64");
  EXPECT_EQ(error_of(R"({"count":1.0})"),
            "json: cannot unmarshal number 1.0 into Go struct field Outer.count of type int64");
  EXPECT_EQ(error_of(R"({"count":9223372036854775808})"),
            "json: cannot unmarshal number 9223372036854775808 into Go struct field Outer.count of type int64");
  EXPECT_EQ(error_of(R"({"config":{"Tags":"x"}})"),
            "json: cannot unmarshal string into Go struct field Inner.config.Tags of type []string");
  EXPECT_EQ(error_of(R"({"config":{"Labels":{"a":1}}})"),
            "json: cannot unmarshal number into Go struct field Inner.config.Labels of type string");
  EXPECT_EQ(error_of("[]"), "json: cannot unmarshal array into Go value of type pkg.Outer");
  // The first type error is reported once decoding ends, unless a fatal
  // error (a bad time) comes later.
  EXPECT_EQ(error_of(R"({"id":1,"flag":"x"})"),
            "json: cannot unmarshal number into Go struct field Outer.id of type string");
  EXPECT_EQ(error_of(R"({"id":1,"at":"x"})"),
            R"(parsing time "\"x\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "x\"" as "2006")");
}

TEST(GoType, SyntaxErrorsAsGo) {
  EXPECT_EQ(error_of(""), "unexpected end of JSON input");
  EXPECT_EQ(error_of("{\"a\":1"), "unexpected end of JSON input");
  EXPECT_EQ(error_of("{\"a\" 1}"), "invalid character '1' after object key");
  EXPECT_EQ(error_of("{\"a\":1 x}"), "invalid character 'x' after object key:value pair");
  EXPECT_EQ(error_of("[1 2]"), "invalid character '2' after array element");
  EXPECT_EQ(error_of("{} {}"), "invalid character '{' after top-level value");
  EXPECT_EQ(error_of("{'a':1}"), "invalid character '\\'' looking for beginning of object key string");
  EXPECT_EQ(error_of("01"), "invalid character '1' after top-level value");
  EXPECT_EQ(error_of("-x"), "invalid character 'x' in numeric literal");
  EXPECT_EQ(error_of("1.e5"), "invalid character 'e' after decimal point in numeric literal");
  EXPECT_EQ(error_of("tru"), "invalid character ' ' in literal true (expecting 'e')");
  EXPECT_EQ(error_of("nul!"), "invalid character '!' in literal null (expecting 'l')");
  EXPECT_EQ(error_of("\"\\"), "invalid character ' ' in string escape code");
  EXPECT_EQ(error_of("\"\\x\""), "invalid character 'x' in string escape code");
  EXPECT_EQ(error_of("\"\\u12g4\""), "invalid character 'g' in \\u hexadecimal character escape");
  EXPECT_EQ(error_of("\"a\nb\""), "invalid character '\\n' in string literal");
  EXPECT_EQ(error_of("\"abc"), "unexpected end of JSON input");
  EXPECT_EQ(error_of("\xff"), "invalid character '\xc3\xbf' looking for beginning of value");
  EXPECT_EQ(error_of("\x01"), "invalid character '\\x01' looking for beginning of value");
}

TEST(GoType, DepthLimit) {
  std::string ok(10000, '[');
  ok += std::string(10000, ']');
  EXPECT_NO_THROW(check_valid(ok));
  std::string deep(10001, '[');
  deep += std::string(10001, ']');
  EXPECT_EQ(error_of(deep), "invalid character '[' exceeded max depth");
  // Far deeper input fails the same way without recursion.
  std::string huge(1000000, '{');
  EXPECT_THROW(check_valid(huge), Error);
}

TEST(GoType, StrSlice) {
  static const Type strslice{Kind::kStrSlice, "strslice.StrSlice", {}, nullptr};
  static const Type t{Kind::kStruct, "pkg.C", {{"Cmd", &strslice, true}}, nullptr};
  EXPECT_EQ(marshal_value(unmarshal(R"({"Cmd":"sh"})", t), t), R"({"Cmd":["sh"]})");
  EXPECT_EQ(marshal_value(unmarshal(R"({"Cmd":["a",null]})", t), t), R"({"Cmd":["a",""]})");
  EXPECT_EQ(marshal_value(unmarshal(R"({"Cmd":[]})", t), t), R"({})");
  EXPECT_EQ(error_of(R"({"Cmd":[1]})", t), "json: cannot unmarshal array into Go struct field C.Cmd of type string");
  EXPECT_EQ(error_of(R"({"Cmd":1})", t), "json: cannot unmarshal number into Go struct field C.Cmd of type string");
}

TEST(GoType, RawObjects) {
  auto raw = unmarshal_raw_object(R"({"b" : [1, 2], "a":{"x" : "<&>"},"b":null})");
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[0].first, "b");
  EXPECT_EQ(raw[0].second, "null");
  EXPECT_EQ(compact_raw(raw[1].second), R"({"x":"\u003c\u0026\u003e"})");
  EXPECT_EQ(compact_raw("[ \"a b\" ,\n\t\"\xe2\x80\xa8\\u0041\" ]"), R"(["a b","\u2028\u0041"])");
  EXPECT_TRUE(unmarshal_raw_object("null").empty());
  EXPECT_THROW(unmarshal_raw_object("[]"), Error);
}

}  // namespace
}  // namespace ferry::gojson
