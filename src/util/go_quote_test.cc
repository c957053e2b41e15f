#include "util/go_quote.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

// Expected values come from Go 1.19.8's strconv, run on the same inputs.

TEST(GoQuote, MatchesStrconvQuote) {
  EXPECT_EQ(go_quote(""), "\"\"");
  EXPECT_EQ(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(go_quote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(go_quote(std::string("\0\x1f\x7f", 3)), "\"\\x00\\x1f\\x7f\"");
  EXPECT_EQ(go_quote("\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80"), "\"\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80\"");
  EXPECT_EQ(go_quote("\xC2\xA0\xC2\xAD\xE2\x80\xA8"), "\"\\u00a0\\u00ad\\u2028\"");
  EXPECT_EQ(go_quote("\xF3\xA0\x80\x81"), "\"\\U000e0001\"");          // tag character
  EXPECT_EQ(go_quote("\xFF\xC3"), "\"\\xff\\xc3\"");                  // invalid UTF-8
  EXPECT_EQ(go_quote("\xED\xA0\x80"), "\"\\xed\\xa0\\x80\"");         // surrogate
  EXPECT_EQ(go_quote("\xC0\xAF"), "\"\\xc0\\xaf\"");                  // overlong
  EXPECT_EQ(go_quote("\xF4\x90\x80\x80"), "\"\\xf4\\x90\\x80\\x80\"");  // > U+10FFFF
  EXPECT_EQ(go_quote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");            // real U+FFFD
}

// The cases the former copies in util/gotype and transports/oci tested.
TEST(GoQuote, ControlsAndMixedInvalidUtf8) {
  EXPECT_EQ(go_quote("a\"b\\c\n\x01\x7f"), R"("a\"b\\c\n\x01\x7f")");
  EXPECT_EQ(go_quote("é<>\xff"), "\"é<>\\xff\"");
  EXPECT_EQ(go_quote("\xc2\x80\xe2\x80\xa8"), R"("\u0080\u2028")");
  EXPECT_EQ(go_quote("\xff\xc3\xa9\xc2\x85"), R"("\xffé\u0085")");
  EXPECT_EQ(go_quote("\xE0\x80\x41"), R"("\xe0\x80A")");  // bad continuation: one byte at a time
  EXPECT_EQ(go_quote("\xF0\x9F\x98"), R"("\xf0\x9f\x98")");  // truncated
}

// Runes the former approximations of IsPrint got wrong: format characters,
// unassigned code points, private use, variation selectors.
TEST(GoQuote, NonPrintableRunesFollowGoTables) {
  EXPECT_EQ(go_quote("\u0600"), R"("\u0600")");
  EXPECT_EQ(go_quote("\u061c"), R"("\u061c")");
  EXPECT_EQ(go_quote("\u180e"), R"("\u180e")");
  EXPECT_EQ(go_quote("\u200b"), R"("\u200b")");
  EXPECT_EQ(go_quote("\u206f"), R"("\u206f")");
  EXPECT_EQ(go_quote("\u3000"), R"("\u3000")");
  EXPECT_EQ(go_quote("\ufeff"), R"("\ufeff")");
  EXPECT_EQ(go_quote("\ufff9"), R"("\ufff9")");
  EXPECT_EQ(go_quote("\ue000"), R"("\ue000")");
  EXPECT_EQ(go_quote("\xCD\xB8"), R"("\u0378")");  // unassigned U+0378
  EXPECT_EQ(go_quote("\U000f0000"), R"("\U000f0000")");
  EXPECT_EQ(go_quote("\U000e0100"), "\"\U000e0100\"");  // variation selector: printable
}

TEST(GoQuote, ToAscii) {
  EXPECT_EQ(go_quote_to_ascii("\u00e9"), R"("\u00e9")");
  EXPECT_EQ(go_quote_to_ascii("\U0001F600"), R"("\U0001f600")");
  EXPECT_EQ(go_quote_to_ascii("\U000e0100"), R"("\U000e0100")");
  EXPECT_EQ(go_quote_to_ascii(std::string("a\a\0\xff", 4)), R"("a\a\x00\xff")");
}

TEST(GoQuote, Rune) {
  EXPECT_EQ(go_quote_rune('\''), R"('\'')");
  EXPECT_EQ(go_quote_rune('"'), R"('"')");
  EXPECT_EQ(go_quote_rune('\\'), R"('\\')");
  EXPECT_EQ(go_quote_rune(0xC3), "'\u00c3'");  // a byte taken as U+00XX
  EXPECT_EQ(go_quote_rune(0x85), R"('\u0085')");
  EXPECT_EQ(go_quote_rune(0xAD), R"('\u00ad')");
  EXPECT_EQ(go_quote_rune(0), R"('\x00')");
  EXPECT_EQ(go_quote_rune('\n'), R"('\n')");
  EXPECT_EQ(go_quote_rune(0x7F), R"('\x7f')");
  EXPECT_EQ(go_quote_rune(0xD800), "'\ufffd'");
  EXPECT_EQ(go_quote_rune(0x110000), "'\ufffd'");
  EXPECT_EQ(go_quote_rune(0x1F600), "'\U0001F600'");
  EXPECT_EQ(go_quote_rune_to_ascii(0xE9), R"('\u00e9')");
  EXPECT_EQ(go_quote_rune_to_ascii(0xD800), R"('\ufffd')");
  EXPECT_EQ(go_quote_rune_to_ascii(0x1F600), R"('\U0001f600')");
}

TEST(GoQuote, TimeQuote) {
  EXPECT_EQ(go_time_quote("1x"), R"("1x")");
  EXPECT_EQ(go_time_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(go_time_quote("\n\x7f"), "\"\\x0a\x7f\"");           // DEL is left alone
  EXPECT_EQ(go_time_quote("\xC2\xB5s\xFF"), R"("\xc2\xb5s\xff")");  // valid UTF-8 too
}

TEST(GoQuote, DecodeAndAppendRune) {
  EXPECT_EQ(go_decode_rune("").width, 0u);
  EXPECT_EQ(go_decode_rune("\xE2\x82\xAC!").rune, U'\u20AC');
  EXPECT_EQ(go_decode_rune("\xE2\x82\xAC!").width, 3u);
  EXPECT_EQ(go_decode_rune("\xED\xA0\x80").rune, kGoRuneError);
  EXPECT_EQ(go_decode_rune("\xED\xA0\x80").width, 1u);
  std::string out;
  go_append_rune(out, 0x1F600);
  go_append_rune(out, 0xD800);
  EXPECT_EQ(out, "\U0001F600\uFFFD");
}

TEST(GoQuote, ReplaceInvalidUtf8) {
  EXPECT_EQ(go_replace_invalid_utf8(""), "");
  EXPECT_EQ(go_replace_invalid_utf8("a\xC3\xA9"), "a\xC3\xA9");
  EXPECT_EQ(go_replace_invalid_utf8("\xFF" "a\xED\xA0\x80"), "\uFFFDa\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(go_replace_invalid_utf8("\xF0\x9F\x98"), "\uFFFD\uFFFD\uFFFD");  // truncated
}

TEST(GoQuote, IsPrint) {
  EXPECT_TRUE(go_is_print(' '));
  EXPECT_FALSE(go_is_print(0x7F));
  EXPECT_FALSE(go_is_print(0xA0));
  EXPECT_TRUE(go_is_print(0xA1));
  EXPECT_FALSE(go_is_print(0xAD));
  EXPECT_TRUE(go_is_print(0x377));
  EXPECT_FALSE(go_is_print(0x378));
  EXPECT_TRUE(go_is_print(0xE01EF));
  EXPECT_FALSE(go_is_print(0xE01F0));
  EXPECT_FALSE(go_is_print(0x110000));
}

}  // namespace
}  // namespace ferry
