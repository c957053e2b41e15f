#include "cli/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "util/error.h"

namespace ferry::cli {
namespace {

int64_t ns(std::string_view s) { return parse_go_duration(s).count(); }

std::string error_of(std::string_view s) {
  try {
    parse_go_duration(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseGoDuration, AcceptsGoSyntax) {
  EXPECT_EQ(ns("0"), 0);
  EXPECT_EQ(ns("-0"), 0);
  EXPECT_EQ(ns("+0"), 0);
  EXPECT_EQ(ns("0s"), 0);
  EXPECT_EQ(ns("300ms"), 300'000'000);
  EXPECT_EQ(ns("1h2m3.5s"), 3'723'500'000'000);
  EXPECT_EQ(ns("-1.5h"), -5'400'000'000'000);
  EXPECT_EQ(ns("1ns"), 1);
  EXPECT_EQ(ns("2us"), 2'000);
  EXPECT_EQ(ns("2\xC2\xB5s"), 2'000);  // µs, micro sign
  EXPECT_EQ(ns("2\xCE\xBCs"), 2'000);  // μs, Greek mu
  EXPECT_EQ(ns(".5s"), 500'000'000);
  EXPECT_EQ(ns("5.s"), 5'000'000'000);
  EXPECT_EQ(ns("1m1m"), 120'000'000'000);  // units may repeat
  EXPECT_EQ(ns("1.0000000001h"), 3'600'000'000'360);
  EXPECT_EQ(ns("9223372036854775807ns"), INT64_MAX);
  EXPECT_EQ(ns("-9223372036854775808ns"), INT64_MIN);
  EXPECT_EQ(ns("2562047h47m16.854775807s"), INT64_MAX);
  // Fraction digits beyond uint64 precision are read but ignored.
  EXPECT_EQ(ns("1.000000000000000000000000000001s"), 1'000'000'000);
}

TEST(ParseGoDuration, ErrorsAsGoWordsThem) {
  EXPECT_EQ(error_of(""), "time: invalid duration \"\"");
  EXPECT_EQ(error_of("x"), "time: invalid duration \"x\"");
  EXPECT_EQ(error_of("-"), "time: invalid duration \"-\"");
  EXPECT_EQ(error_of(".s"), "time: invalid duration \".s\"");
  EXPECT_EQ(error_of("1"), "time: missing unit in duration \"1\"");
  EXPECT_EQ(error_of("1.5"), "time: missing unit in duration \"1.5\"");
  EXPECT_EQ(error_of("1d"), "time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_EQ(error_of("1s "), "time: unknown unit \"s \" in duration \"1s \"");
  EXPECT_EQ(error_of(" 1s"), "time: invalid duration \" 1s\"");
  EXPECT_EQ(error_of("1h-1m"), "time: unknown unit \"h-\" in duration \"1h-1m\"");
  EXPECT_EQ(error_of("9223372036854775808ns"),
            "time: invalid duration \"9223372036854775808ns\"");
  EXPECT_EQ(error_of("2562048h"), "time: invalid duration \"2562048h\"");
  EXPECT_EQ(error_of("99999999999999999999s"), "time: invalid duration \"99999999999999999999s\"");
  // The time package escapes every non-ASCII byte, unlike strconv.Quote.
  EXPECT_EQ(error_of("1\xC3\xA9"), "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"");
  EXPECT_EQ(error_of("\xE2\x80\x8B"), "time: invalid duration \"\\xe2\\x80\\x8b\"");
  EXPECT_EQ(error_of("\"\\\x01"), "time: invalid duration \"\\\"\\\\\\x01\"");
}

TEST(ParseGoDuration, HostileInput) {
  const std::string digits(100000, '9');
  EXPECT_EQ(error_of(digits + "s").substr(0, 26), "time: invalid duration \"99");
  // A long run of fraction digits is fine: precision simply stops growing.
  EXPECT_EQ(ns("1." + std::string(100000, '0') + "s"), 1'000'000'000);
  std::string many;
  for (int i = 0; i < 10000; i++) many += "1ns";
  EXPECT_EQ(ns(many), 10000);
  EXPECT_EQ(error_of(std::string("1\0s", 3)), "time: unknown unit \"\\x00s\" in duration \"1\\x00s\"");
}

TEST(ParseGoDuration, KeepsGoWraparound) {
  // Go sums the components in uint64 and checks only against 2^63, so two
  // halves of 2^64 wrap to zero and are accepted. Scripts never do this; it
  // is here so the arithmetic stays the same as Go's.
  EXPECT_EQ(ns("9223372036854775808ns9223372036854775808ns"), 0);
}

TEST(FormatGoDuration, MatchesGoString) {
  EXPECT_EQ(format_go_duration(Duration(0)), "0s");
  EXPECT_EQ(format_go_duration(Duration(1)), "1ns");
  EXPECT_EQ(format_go_duration(Duration(1'500)), "1.5\xC2\xB5s");
  EXPECT_EQ(format_go_duration(Duration(1'234'567)), "1.234567ms");
  EXPECT_EQ(format_go_duration(Duration(300'000'000)), "300ms");
  EXPECT_EQ(format_go_duration(Duration(1'000'000'000)), "1s");
  EXPECT_EQ(format_go_duration(Duration(90'000'000'000)), "1m30s");
  EXPECT_EQ(format_go_duration(Duration(3'723'500'000'000)), "1h2m3.5s");
  EXPECT_EQ(format_go_duration(Duration(3'600'000'000'000)), "1h0m0s");
  EXPECT_EQ(format_go_duration(Duration(-61'000'000'000)), "-1m1s");
  EXPECT_EQ(format_go_duration(Duration(INT64_MAX)), "2562047h47m16.854775807s");
  EXPECT_EQ(format_go_duration(Duration(INT64_MIN)), "-2562047h47m16.854775808s");
}

TEST(FormatGoDuration, RoundTrips) {
  for (int64_t v : {int64_t{1}, int64_t{999}, int64_t{1'001}, int64_t{999'999'999},
                    int64_t{86'400'000'000'000}, INT64_MAX, -INT64_MAX}) {
    EXPECT_EQ(parse_go_duration(format_go_duration(Duration(v))).count(), v);
  }
}

}  // namespace
}  // namespace ferry::cli
