#include "net/www_authenticate.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace ferry::net {
namespace {

using Params = std::map<std::string, std::string>;

TEST(WwwAuthenticate, DockerHubBearer) {
  auto c = parse_www_authenticate(
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params, (Params{{"realm", "https://auth.docker.io/token"},
                                 {"service", "registry.docker.io"},
                                 {"scope", "repository:library/alpine:pull"}}));
  EXPECT_EQ(c[0].token68, "");
}

TEST(WwwAuthenticate, BasicAndCaseInsensitivity) {
  auto c = parse_www_authenticate({R"(BASIC REALM="Registry Realm")", R"(bEaReR Realm="x")"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params, (Params{{"realm", "Registry Realm"}}));
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params, (Params{{"realm", "x"}}));
}

TEST(WwwAuthenticate, SeveralChallengesInOneValue) {
  // RFC 7235 §4.1's example.
  auto c = parse_www_authenticate(
      {R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple")"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "newauth");
  EXPECT_EQ(c[0].params, (Params{{"realm", "apps"}, {"type", "1"}, {"title", R"(Login to "apps")"}}));
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].params, (Params{{"realm", "simple"}}));
}

TEST(WwwAuthenticate, InsufficientScopeAndSpacing) {
  auto c = parse_www_authenticate(
      {"Bearer realm = \"https://a/t\" ,\tservice=\"reg\",error=\"insufficient_scope\" , "
       "scope=\"repository:a/b:pull,push\""});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params, (Params{{"realm", "https://a/t"},
                                 {"service", "reg"},
                                 {"error", "insufficient_scope"},
                                 {"scope", "repository:a/b:pull,push"}}));
}

TEST(WwwAuthenticate, Token68) {
  auto c = parse_www_authenticate({"Negotiate YIIx+/9==, Basic realm=x", "NTLM"});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].scheme, "negotiate");
  EXPECT_EQ(c[0].token68, "YIIx+/9==");
  EXPECT_TRUE(c[0].params.empty());
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].params, (Params{{"realm", "x"}}));
  EXPECT_EQ(c[2].scheme, "ntlm");
  EXPECT_TRUE(c[2].params.empty());
}

TEST(WwwAuthenticate, UnquotedUrlAndEmptyElements) {
  auto c = parse_www_authenticate({" , ,Bearer realm=https://h:5000/token,service=h:5000,,"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params, (Params{{"realm", "https://h:5000/token"}, {"service", "h:5000"}}));
}

TEST(WwwAuthenticate, RepeatedParamKeepsLast) {
  auto c = parse_www_authenticate({R"(Bearer realm="a",REALM="b")"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params, (Params{{"realm", "b"}}));
}

TEST(WwwAuthenticate, MalformedKeepsWhatParsed) {
  // Unterminated quote: the good param before it survives, the bad one and
  // everything after in that value is dropped; later values still parse.
  auto c = parse_www_authenticate({R"(Bearer realm="a", service="unterminated, Basic realm=\")",
                                   R"(Basic realm="ok")"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params, (Params{{"realm", "a"}}));
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].params, (Params{{"realm", "ok"}}));

  EXPECT_TRUE(parse_www_authenticate({""}).empty());
  EXPECT_TRUE(parse_www_authenticate({}).empty());
  EXPECT_TRUE(parse_www_authenticate({"=x", "\"", "\x01\x02", "(((", "\xff\xfe"}).empty());
  // A quoted string that closes where the value did not mean it to: what
  // follows is not a separator, so parsing of that value stops there.
  c = parse_www_authenticate({R"(Bearer realm="a", service="b, Basic realm="z")"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params, (Params{{"realm", "a"}, {"service", "b, Basic realm="}}));
  c = parse_www_authenticate({"Bearer\"x\""});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].params.empty());
  c = parse_www_authenticate({"Bearer realm=\"trailing backslash\\"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].params.empty());
  c = parse_www_authenticate({"Bearer realm=\"a\" junk, service=\"s\""});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params, (Params{{"realm", "a"}}));
}

TEST(WwwAuthenticate, BinaryInsideQuotesIsKept) {
  auto c = parse_www_authenticate({std::string("Bearer realm=\"\xff\x00z\"", 18)});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params.at("realm"), std::string("\xff\x00z", 3));
}

TEST(WwwAuthenticate, SizeLimit) {
  std::string big = "Bearer realm=\"" + std::string(kMaxChallengeHeaderBytes - 15, 'a') + "\"";
  EXPECT_EQ(parse_www_authenticate({big}).size(), 1u);  // exactly at the limit
  try {
    parse_www_authenticate({big, "x"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "WWW-Authenticate header is too large: 65537 bytes, limit 65536");
  }
}

TEST(WwwAuthenticate, ManyCommasAndSchemesTerminate) {
  std::string s;
  for (int i = 0; i < 5000; i++) s += "A, ";
  EXPECT_EQ(parse_www_authenticate({s}).size(), 5000u);
  EXPECT_TRUE(parse_www_authenticate({std::string(60000, ',')}).empty());
}

}  // namespace
}  // namespace ferry::net
