#include "net/header_tokens.h"

#include <gtest/gtest.h>

namespace ferry::net {
namespace {

TEST(HeaderTokens, Tchar) {
  for (char c : std::string("azAZ09!#$%&'*+-.^_`|~")) EXPECT_TRUE(is_tchar(static_cast<unsigned char>(c))) << c;
  for (char c : std::string(" \t\"(),/:;<=>?@[\\]{}\x7f\x01"))
    EXPECT_FALSE(is_tchar(static_cast<unsigned char>(c))) << static_cast<int>(c);
  EXPECT_FALSE(is_tchar(0xc3));  // no bytes of UTF-8 sequences
}

TEST(HeaderTokens, AsciiCaseFolding) {
  EXPECT_EQ(ascii_lower("WWW-Authenticate"), "www-authenticate");
  EXPECT_EQ(ascii_lower(std::string_view("\xc3\x89T\xc3\xa9")), "\xc3\x89t\xc3\xa9");  // non-ASCII untouched
  EXPECT_TRUE(ascii_iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(ascii_iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(ascii_iequals("a", std::string_view("A\0", 2)));
  EXPECT_TRUE(ascii_iequals("", ""));
}

TEST(HeaderTokens, QuotedStrings) {
  auto read = [](std::string_view s, size_t start, std::string* out, size_t* end) {
    size_t pos = start;
    out->clear();
    bool ok = read_quoted_string(s, pos, *out);
    *end = pos;
    return ok;
  };
  std::string out;
  size_t end = 0;
  EXPECT_TRUE(read(R"(x="a b", y)", 2, &out, &end));
  EXPECT_EQ(out, "a b");
  EXPECT_EQ(end, 7u);
  EXPECT_TRUE(read(R"("")", 0, &out, &end));
  EXPECT_EQ(out, "");
  EXPECT_EQ(end, 2u);
  EXPECT_TRUE(read(R"("say \"hi\" \\ \x")", 0, &out, &end));
  EXPECT_EQ(out, R"(say "hi" \ x)");
  // Hostile: never terminated, escape at the very end, not a quote at all.
  EXPECT_FALSE(read(R"("open)", 0, &out, &end));
  EXPECT_EQ(end, 5u);
  EXPECT_FALSE(read("\"trailing\\", 0, &out, &end));
  EXPECT_FALSE(read("abc", 0, &out, &end));
  EXPECT_EQ(end, 0u);
  EXPECT_FALSE(read("\"", 1, &out, &end));
  EXPECT_TRUE(read(std::string("\"a\0b\"", 5), 0, &out, &end));  // NUL is just a byte
  EXPECT_EQ(out, std::string("a\0b", 3));
}

}  // namespace
}  // namespace ferry::net
