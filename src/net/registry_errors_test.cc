#include "net/registry_errors.h"

#include <gtest/gtest.h>

namespace ferry::net {
namespace {

std::string text_of(long status, std::string_view body, std::string_view berr = "",
                    std::string_view bdesc = "") {
  return classify_registry_failure(status, body, berr, bdesc).text();
}

TEST(RegistryErrors, DistributionManifestUnknown) {
  auto f = classify_registry_failure(
      404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]})");
  EXPECT_EQ(f.kind, RegistryHttpFailure::Kind::Errcode);
  EXPECT_EQ(f.code(), "MANIFEST_UNKNOWN");
  EXPECT_EQ(f.text(), "manifest unknown: manifest unknown");
}

TEST(RegistryErrors, BareCodeWhenDefaultMessageAndNoDetail) {
  EXPECT_EQ(text_of(404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})"),
            "name unknown");
  EXPECT_EQ(text_of(404, R"({"errors":[{"code":"BLOB_UNKNOWN","message":"","detail":null}]})"), "blob unknown");
  EXPECT_EQ(text_of(404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"other"}]})"), "name unknown: other");
}

TEST(RegistryErrors, UnknownCodeBecomesUnknown) {
  auto f = classify_registry_failure(404, R"({"errors":[{"code":"NOT_FOUND","message":"404 page not found"}]})");
  EXPECT_EQ(f.code(), "UNKNOWN");
  EXPECT_EQ(f.text(), "unknown: 404 page not found");
}

TEST(RegistryErrors, FirstOfSeveralErrors) {
  EXPECT_EQ(text_of(403, R"({"errors":[{"code":"DENIED","message":"no"},{"code":"UNKNOWN","message":"x"}]})"),
            "denied: no");
}

TEST(RegistryErrors, KeysMatchCaseInsensitively) {
  EXPECT_EQ(text_of(400, R"({"Errors":[{"Code":"MANIFEST_INVALID","MESSAGE":"bad","detail":1}]})"),
            "manifest invalid: bad");
}

TEST(RegistryErrors, DetailsField) {
  EXPECT_EQ(text_of(401, R"({"details":"go away"})"), "unauthorized: go away");
  EXPECT_EQ(text_of(429, R"({"details":"slow down"})"), "toomanyrequests: slow down");
  EXPECT_EQ(text_of(400, R"({"details":"hmm"})"), "unknown: hmm");
}

TEST(RegistryErrors, UnauthorizedWithoutJson) {
  auto f = classify_registry_failure(401, "");
  EXPECT_EQ(f.code(), "UNAUTHORIZED");
  EXPECT_EQ(f.text(), "unauthorized: authentication required");
  EXPECT_EQ(text_of(401, "<html>nope</html>"), "unauthorized: authentication required");
}

TEST(RegistryErrors, BearerChallengeErrorComesFirst) {
  std::string body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
  auto f = classify_registry_failure(401, body, "insufficient_scope", "");
  EXPECT_EQ(f.code(), "DENIED");
  EXPECT_EQ(f.errors.size(), 2u);
  EXPECT_EQ(f.text(), "denied: requested access to the resource is denied");
  EXPECT_EQ(text_of(401, body, "invalid_token", "token expired"), "unauthorized: token expired");
  // Other error values are ignored.
  EXPECT_EQ(text_of(401, body, "weird", "x"), "unauthorized");
}

TEST(RegistryErrors, UnexpectedResponseTruncatedAndQuoted) {
  EXPECT_EQ(text_of(404, "404 page not found\n"), "StatusCode: 404, \"404 page not found\\n\"");
  std::string long_body(80, 'a');
  EXPECT_EQ(text_of(400, long_body), "StatusCode: 400, \"" + std::string(50, 'a') + "...\"");
  EXPECT_EQ(text_of(400, R"({"errors":[]})"), "StatusCode: 400, \"{\\\"errors\\\":[]}\"");
  EXPECT_EQ(text_of(400, "null"), "StatusCode: 400, \"null\"");
}

TEST(RegistryErrors, StatusOutside4xx) {
  EXPECT_EQ(text_of(500, R"({"errors":[{"code":"UNKNOWN"}]})"),
            "received unexpected HTTP status: 500 Internal Server Error");
  EXPECT_EQ(text_of(599, ""), "received unexpected HTTP status: 599");
}

TEST(RegistryErrors, HostileBodies) {
  // Wrong types, truncation, deep nesting, invalid UTF-8: never a crash,
  // always an UnexpectedResponse (or an errcode where Go accepts it).
  EXPECT_EQ(classify_registry_failure(400, R"({"errors":{"code":"X"}})").kind,
            RegistryHttpFailure::Kind::UnexpectedResponse);
  EXPECT_EQ(classify_registry_failure(400, R"({"errors":[{"code":5}]})").kind,
            RegistryHttpFailure::Kind::UnexpectedResponse);
  EXPECT_EQ(classify_registry_failure(400, R"({"errors":[{"code":"DENIED")").kind,
            RegistryHttpFailure::Kind::UnexpectedResponse);
  std::string deep = R"({"errors":[{"code":"DENIED","detail":)" + std::string(20000, '[') +
                     std::string(20000, ']') + "}]}";
  EXPECT_EQ(classify_registry_failure(403, deep).kind, RegistryHttpFailure::Kind::UnexpectedResponse);
  std::string bad_utf8 = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"\xff\xfe\"}]}";
  auto f = classify_registry_failure(403, bad_utf8);
  EXPECT_EQ(f.kind, RegistryHttpFailure::Kind::Errcode);
  EXPECT_EQ(f.text(), "denied: \xEF\xBF\xBD\xEF\xBF\xBD");
  std::string huge(kMaxErrorBodySize + 100, 'x');
  auto g = classify_registry_failure(400, huge);
  EXPECT_EQ(g.body.size(), kMaxErrorBodySize);
}

TEST(RegistryErrors, DefaultMessages) {
  EXPECT_EQ(errcode_default_message("MANIFEST_UNKNOWN"), "manifest unknown");
  EXPECT_EQ(errcode_default_message("NOPE"), "");
  EXPECT_EQ(http_status_text(404), "Not Found");
  EXPECT_EQ(http_status_text(999), "");
}

TEST(RegistryErrors, RegistryErrorKeepsFailure) {
  RegistryError e("reading manifest", classify_registry_failure(403, R"({"errors":[{"code":"DENIED"}]})"));
  EXPECT_EQ(e.code(), "DENIED");
  EXPECT_EQ(e.status(), 403);
  EXPECT_EQ(e.exit_code(), 1);
}

TEST(BearerToken, TokenOrAccessToken) {
  auto t = parse_bearer_token_response(R"({"token":"abc","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"})");
  EXPECT_EQ(t.token, "abc");
  EXPECT_EQ(t.expires_in, 300);
  t = parse_bearer_token_response(R"({"access_token":"xyz"})");
  EXPECT_EQ(t.token, "xyz");
  EXPECT_EQ(t.expires_in, 60);
  t = parse_bearer_token_response(R"({"token":"a","access_token":"b","expires_in":5})");
  EXPECT_EQ(t.token, "a");
  EXPECT_EQ(t.expires_in, 60);
  t = parse_bearer_token_response(R"({"Token":"upper"})");
  EXPECT_EQ(t.token, "upper");
}

TEST(BearerToken, RejectsWhatGoRejects) {
  EXPECT_THROW(parse_bearer_token_response(R"({"token":5})"), Error);
  EXPECT_THROW(parse_bearer_token_response(R"({"expires_in":"60"})"), Error);
  EXPECT_THROW(parse_bearer_token_response(R"({"expires_in":1.5})"), Error);
  EXPECT_THROW(parse_bearer_token_response(R"({"issued_at":"yesterday"})"), Error);
  EXPECT_THROW(parse_bearer_token_response(R"({"token":"a")"), Error);
  EXPECT_THROW(parse_bearer_token_response(""), Error);
  EXPECT_THROW(parse_bearer_token_response(std::string(20000, '[')), Error);
}

}  // namespace
}  // namespace ferry::net
