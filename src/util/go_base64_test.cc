#include "util/go_base64.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace ferry {
namespace {

// Expected values come from Go 1.19.8's encoding/base64, run on the same
// inputs.

std::string decode_error(const std::string& s, bool url = false) {
  try {
    go_base64_decode(s, url);
  } catch (const Error& e) {
    return e.what();
  }
  return "OK";
}

TEST(GoBase64, Decodes) {
  EXPECT_EQ(go_base64_decode(""), "");
  EXPECT_EQ(go_base64_decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(go_base64_decode("dXNl\r\ncjpw\nYXNz"), "user:pass");
  EXPECT_EQ(go_base64_decode("QQ==\n"), "A");
  EXPECT_EQ(go_base64_decode("QQ=\n="), "A");
  EXPECT_EQ(go_base64_decode("_-8=", true), "\xff\xef");
}

TEST(GoBase64, ErrorsGiveGosOffsets) {
  const std::string p = "illegal base64 data at input byte ";
  EXPECT_EQ(decode_error("dXNlcjpwYXN"), p + "8");
  EXPECT_EQ(decode_error("dX*l"), p + "2");
  EXPECT_EQ(decode_error("d==="), p + "1");
  EXPECT_EQ(decode_error("dTp4eQ="), p + "7");
  EXPECT_EQ(decode_error("dTp4eQ==dTp4"), p + "8");
  EXPECT_EQ(decode_error("dTp4e=x="), p + "5");
  EXPECT_EQ(decode_error("\xff\xfe"), p + "0");
  EXPECT_EQ(decode_error("QQ"), p + "0");
  EXPECT_EQ(decode_error("QQ="), p + "3");
  EXPECT_EQ(decode_error("aGk=x"), p + "4");
  EXPECT_EQ(decode_error("YQ", true), p + "0");
  EXPECT_EQ(decode_error("_-8="), p + "0");  // URL alphabet in standard input
}

TEST(GoBase64, Encodes) {
  EXPECT_EQ(go_base64_encode(""), "");
  EXPECT_EQ(go_base64_encode("a"), "YQ==");
  EXPECT_EQ(go_base64_encode("ab"), "YWI=");
  EXPECT_EQ(go_base64_encode("abc"), "YWJj");
  EXPECT_EQ(go_base64_encode("\xff\xef\xfe"), "/+/+");
  EXPECT_EQ(go_base64_raw_url_encode("a"), "YQ");
  EXPECT_EQ(go_base64_raw_url_encode("ab"), "YWI");
  EXPECT_EQ(go_base64_raw_url_encode("\xff\xef\xfe"), "_-_-");
}

}  // namespace
}  // namespace ferry
