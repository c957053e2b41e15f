#include "config/auth_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int file_mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

std::string parse_error(const std::string& json, bool legacy = false) {
  return error_of([&] { parse_auth_file(json, "/a.json", legacy); });
}

const std::string kPrefix = "reading JSON file \"/a.json\": unmarshaling JSON at \"/a.json\": ";

// "user:pass" in base64.
const std::string kUserPass = "dXNlcjpwYXNz";

TEST(AuthFile, ParsesAuthsHelpersAndKeepsOtherMembers) {
  AuthFile f = parse_auth_file(R"({
    "auths": {"quay.io": {"auth": "dXNlcjpwYXNz", "identitytoken": "tok", "email": "x"},
              "empty.io": {}, "null.io": null},
    "credHelpers": {"gcr.io": "gcloud"},
    "credsStore": "desktop",
    "proxies": {"default": {"httpProxy": "http://p"}}
  })",
                               "/a.json", false);
  ASSERT_EQ(f.auths.size(), 3u);
  EXPECT_EQ(f.auths["quay.io"], (AuthEntry{"dXNlcjpwYXNz", "tok"}));
  EXPECT_EQ(f.auths["empty.io"], AuthEntry{});
  EXPECT_EQ(f.auths["null.io"], AuthEntry{});
  EXPECT_EQ(f.cred_helpers, (std::map<std::string, std::string>{{"gcr.io", "gcloud"}}));
  EXPECT_EQ(f.other.dump(),
            R"({"credsStore":"desktop","proxies":{"default":{"httpProxy":"http://p"}}})");
}

TEST(AuthFile, MatchesMemberNamesCaseInsensitivelyLikeGo) {
  AuthFile f =
      parse_auth_file(R"({"AUTHS": {"a.io": {"Auth": "dXNlcjpwYXNz", "IdentityToken": "t"}},
                                   "credhelpers": {"b.io": "x"}})",
                      "/a.json", false);
  EXPECT_EQ(f.auths["a.io"], (AuthEntry{"dXNlcjpwYXNz", "t"}));
  EXPECT_EQ(f.cred_helpers["b.io"], "x");
  EXPECT_TRUE(f.other.empty());
}

TEST(AuthFile, DuplicateKeysKeepTheLastValue) {
  AuthFile f = parse_auth_file(
      R"({"auths": {"a.io": {"auth": "first"}, "a.io": {"auth": "second"}}})", "/a.json", false);
  EXPECT_EQ(f.auths["a.io"].auth, "second");
}

TEST(AuthFile, LegacyFormatIsTheAuthsMapItself) {
  AuthFile f =
      parse_auth_file(R"({"https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz", "email": "e"}})",
                      "/a.json", true);
  ASSERT_EQ(f.auths.size(), 1u);
  EXPECT_EQ(f.auths["https://index.docker.io/v1/"].auth, kUserPass);
}

TEST(AuthFile, NullAndEmptyObjectAreEmpty) {
  EXPECT_TRUE(parse_auth_file("null", "/a.json", false).auths.empty());
  EXPECT_TRUE(parse_auth_file("{}", "/a.json", false).auths.empty());
  EXPECT_TRUE(
      parse_auth_file(R"({"auths": null, "credHelpers": null})", "/a.json", false).auths.empty());
}

TEST(AuthFile, RejectsWrongTypesNamingTheFileAndField) {
  EXPECT_EQ(parse_error("[]"),
            kPrefix + "cannot unmarshal array into the auth file's top-level object");
  EXPECT_EQ(parse_error(R"({"auths": 1})"),
            kPrefix + "cannot unmarshal number into auths of type map");
  EXPECT_EQ(parse_error(R"({"auths": {"a.io": "x"}})"),
            kPrefix + "cannot unmarshal string into auths[\"a.io\"] of type object");
  EXPECT_EQ(parse_error(R"({"auths": {"a.io": {"auth": 5}}})"),
            kPrefix + "cannot unmarshal number into auths[\"a.io\"].auth of type string");
  EXPECT_EQ(parse_error(R"({"auths": {"a.io": {"identitytoken": []}}})"),
            kPrefix + "cannot unmarshal array into auths[\"a.io\"].identitytoken of type string");
  EXPECT_EQ(parse_error(R"({"credHelpers": {"a.io": true}})"),
            kPrefix + "cannot unmarshal bool into credHelpers[\"a.io\"] of type string");
  EXPECT_EQ(parse_error(R"({"credHelpers": "x"})"),
            kPrefix + "cannot unmarshal string into credHelpers of type map");
  EXPECT_EQ(parse_error("[1]", true),
            kPrefix + "cannot unmarshal array into the auth file's top-level object");
}

TEST(AuthFile, RejectsHostileText) {
  auto starts_with_prefix = [](const std::string& msg) { return msg.rfind(kPrefix, 0) == 0; };
  for (const std::string& bad :
       {std::string(""), std::string("{"), std::string(R"({"auths": {"a)"),
        std::string("{\"auths\": \"\xff\xfe\"}"), std::string("{}\0{}", 5), std::string("{} x")}) {
    std::string msg = parse_error(bad);
    EXPECT_TRUE(starts_with_prefix(msg)) << msg;
  }
  std::string deep = R"({"other": )" + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_EQ(parse_error(deep), kPrefix + "JSON nesting is deeper than 64 levels");
  EXPECT_EQ(parse_error(std::string("{}\0{}", 5)),
            kPrefix + "invalid character '\\x00' in JSON text");
}

TEST(AuthFile, ReadMissingFileIsEmptyButOversizedIsAnError) {
  TempDir dir("/tmp", "authfile-test");
  EXPECT_TRUE(read_auth_file(dir.path() + "/missing.json", false).auths.empty());
  const std::string big = dir.path() + "/big.json";
  write(big, "{\"x\": \"" + std::string(kMaxAuthFileSize, 'a') + "\"}");
  std::string msg = error_of([&] { read_auth_file(big, false); });
  EXPECT_EQ(msg, "reading JSON file \"" + big + "\": reading " + big +
                     ": exceeded maximum allowed size of 4194304 bytes");
  msg = error_of([&] { read_auth_file(dir.path(), false); });
  EXPECT_EQ(msg,
            "reading JSON file \"" + dir.path() + "\": read " + dir.path() + ": is a directory");
}

TEST(AuthFile, NormalizesKeys) {
  EXPECT_EQ(normalize_auth_file_key("https://index.docker.io/v1/", false), "docker.io");
  EXPECT_EQ(normalize_auth_file_key("http://registry-1.docker.io/v2/x", false), "docker.io");
  EXPECT_EQ(normalize_auth_file_key("index.docker.io", false), "docker.io");
  EXPECT_EQ(normalize_auth_file_key("docker.io", false), "docker.io");
  EXPECT_EQ(normalize_auth_file_key("https://quay.io:443/v1/", false), "quay.io:443");
  // Without a scheme the path is a namespace, except in legacy files.
  EXPECT_EQ(normalize_auth_file_key("quay.io/ns", false), "quay.io/ns");
  EXPECT_EQ(normalize_auth_file_key("quay.io/ns", true), "quay.io");
  EXPECT_EQ(normalize_auth_registry("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(normalize_auth_registry("example.com"), "example.com");
}

TEST(AuthFile, KeysForLookupGoFromMostSpecific) {
  EXPECT_EQ(auth_keys_for("quay.io/a/b/c"),
            (std::vector<std::string>{"quay.io/a/b/c", "quay.io/a/b", "quay.io/a", "quay.io"}));
  EXPECT_EQ(auth_keys_for("localhost:5000"), (std::vector<std::string>{"localhost:5000"}));
}

TEST(AuthFile, DecodesAuthEntries) {
  auto decode = [](const std::string& auth, const std::string& token = "") {
    return decode_auth_entry(AuthEntry{auth, token}, "/a.json", "k");
  };
  std::optional<Credentials> c = decode(kUserPass, "tok");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->password, "pass");
  EXPECT_EQ(c->identity_token, "tok");
  // "user:pa:ss\0\0" - only the first colon splits; NULs are trimmed.
  c = decode("dXNlcjpwYTpzcwAA");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->password, "pa:ss");
  // Newlines inside base64 are skipped, as Go does.
  c = decode("dXNl\ncjpw\r\nYXNz\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "pass");
  // "u:p" with padding.
  c = decode("dTpw");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "u");
  c = decode("dTp4eQ==");  // "u:xy"
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "xy");
  c = decode("dTp4eXo=");  // "u:xyz"
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "xyz");
  EXPECT_FALSE(decode(""));
  EXPECT_FALSE(decode("", "token-only"));  // c/image needs "auth" too
  EXPECT_FALSE(decode("bm9jb2xvbg=="));    // "nocolon"
  EXPECT_FALSE(decode("Og=="));            // ":" - nothing at all
}

TEST(AuthFile, MalformedBase64NamesFileKeyAndOffset) {
  auto err = [](const std::string& auth) {
    return error_of([&] { decode_auth_entry(AuthEntry{auth, ""}, "/a.json", "quay.io"); });
  };
  const std::string p = "reading JSON file \"/a.json\": decoding \"auth\" of \"quay.io\": ";
  EXPECT_EQ(err("dXNlcjpwYXN"), p + "illegal base64 data at input byte 8");
  EXPECT_EQ(err("dX*l"), p + "illegal base64 data at input byte 2");
  EXPECT_EQ(err("d==="), p + "illegal base64 data at input byte 1");
  EXPECT_EQ(err("dTp4eQ="), p + "illegal base64 data at input byte 7");
  EXPECT_EQ(err("dTp4eQ==dTp4"), p + "illegal base64 data at input byte 8");
  EXPECT_EQ(err("dTp4e=x="), p + "illegal base64 data at input byte 5");
  EXPECT_EQ(err("\xff\xfe"), p + "illegal base64 data at input byte 0");
}

TEST(AuthFile, FindsTheMostSpecificKey) {
  TempDir dir("/tmp", "authfile-test");
  const std::string path = dir.path() + "/auth.json";
  // a:1, b:2, c:3, d:4
  write(path, R"({"auths": {
    "quay.io": {"auth": "YTox"},
    "quay.io/ns": {"auth": "YjoyCg=="},
    "quay.io/ns/repo": {"auth": "YzozAA=="},
    "https://index.docker.io/v1/": {"auth": "ZDo0"},
    "quay.io/empty": {"auth": ""}
  }})");
  auto user = [&](const std::string& key) -> std::string {
    auto c = find_credentials_in_file(path, false, key);
    return c ? c->username + "/" + c->password : "none";
  };
  EXPECT_EQ(user("quay.io/ns/repo"), "c/3");
  EXPECT_EQ(user("quay.io/ns/other"), "b/2\n");
  EXPECT_EQ(user("quay.io/x/y"), "a/1");
  EXPECT_EQ(user("quay.io"), "a/1");
  EXPECT_EQ(user("docker.io/library/busybox"), "d/4");
  // An exact entry without credentials ends the search in this file.
  EXPECT_EQ(user("quay.io/empty/repo"), "none");
  EXPECT_EQ(user("other.io/x"), "none");
  EXPECT_EQ(user("quay.io:5000/x"), "none");
}

TEST(AuthFile, LegacyFilesMatchRegistriesOnly) {
  TempDir dir("/tmp", "authfile-test");
  const std::string path = dir.path() + "/.dockercfg";
  write(path, R"({"https://quay.io/v1/": {"auth": "YTox"}, "quay.io/ns": {"auth": "YjoyCg=="}})");
  auto c = find_credentials_in_file(path, true, "quay.io/ns/repo");
  ASSERT_TRUE(c);
  // quay.io/ns is not a namespace key in a legacy file; it normalizes to
  // quay.io like the URL key, and the first in key order wins.
  EXPECT_EQ(c->username, "a");
}

TEST(AuthFile, SerializesLikeGoMarshalIndent) {
  AuthFile f;
  f.auths["quay.io"] = {"YTox", ""};
  f.auths["a.io"] = {"", "tok<en>"};
  f.auths["b.io"] = {};
  f.other["credsStore"] = "desktop";
  f.other["HttpHeaders"] = {{"X", "y"}};
  EXPECT_EQ(serialize_auth_file(f),
            "{\n\t\"HttpHeaders\": {\n\t\t\"X\": \"y\"\n\t},\n\t\"auths\": {\n"
            "\t\t\"a.io\": {\n\t\t\t\"identitytoken\": \"tok\\u003cen\\u003e\"\n\t\t},\n"
            "\t\t\"b.io\": {},\n"
            "\t\t\"quay.io\": {\n\t\t\t\"auth\": \"YTox\"\n\t\t}\n\t},\n"
            "\t\"credsStore\": \"desktop\"\n}");
  EXPECT_EQ(serialize_auth_file(AuthFile{}), "{\n\t\"auths\": {}\n}");
  AuthFile h;
  h.cred_helpers["gcr.io"] = "gcloud";
  EXPECT_EQ(serialize_auth_file(h),
            "{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}");
}

TEST(AuthFile, ValidatesKeys) {
  EXPECT_FALSE(validate_auth_key("quay.io"));
  EXPECT_FALSE(validate_auth_key("localhost:5000"));
  EXPECT_TRUE(validate_auth_key("localhost:5000/ns/repo"));
  EXPECT_EQ(error_of([] { validate_auth_key("https://quay.io"); }),
            "key https://quay.io contains http[s]:// prefix");
  EXPECT_EQ(error_of([] { validate_auth_key("quay.io/a@sha256:x"); }),
            "key quay.io/a@sha256:x contains a '@' character");
  EXPECT_EQ(error_of([] { validate_auth_key("quay.io/a:tag"); }),
            "key quay.io/a:tag contains a ':' character after host[:port]");
}

TEST(AuthFile, ParsesLoginArguments) {
  auto key = [](const std::string& arg) {
    CredentialsKey k = parse_credentials_key(arg);
    return k.key + "|" + k.registry;
  };
  EXPECT_EQ(key("quay.io"), "quay.io|quay.io");
  EXPECT_EQ(key("https://quay.io/v2/foo"), "quay.io|quay.io");
  EXPECT_EQ(key("http://user@localhost:5000?x"), "localhost:5000|localhost:5000");
  EXPECT_EQ(key("quay.io/ns/repo"), "quay.io/ns/repo|quay.io");
  EXPECT_EQ(key("docker.io/vendor"), "docker.io/vendor|docker.io");
  EXPECT_EQ(error_of([] { parse_credentials_key("quay.io/ns/repo:tag"); }),
            "reference \"quay.io/ns/repo:tag\" contains tag or digest");
  EXPECT_EQ(error_of([] { parse_credentials_key("docker.io/busybox:1"); }),
            "reference \"docker.io/library/busybox:1\" contains tag or digest");
  EXPECT_EQ(error_of([] { parse_credentials_key("quay.io/NS"); }),
            "parse reference from \"quay.io/NS\": invalid reference format: repository name must "
            "be lowercase");
}

class AuthFileWrite : public ::testing::Test {
 protected:
  TempDir dir_{"/tmp", "authfile-test"};
  std::string path_ = dir_.path() + "/sub/dir/auth.json";
};

TEST_F(AuthFileWrite, SetCredentialsCreatesPrivateFileAndDirectories) {
  EXPECT_EQ(set_credentials(path_, "quay.io", "user", "pass"), path_);
  EXPECT_EQ(
      slurp(path_),
      "{\n\t\"auths\": {\n\t\t\"quay.io\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t}\n}");
  EXPECT_EQ(file_mode(path_), 0600);
  EXPECT_EQ(file_mode(dir_.path() + "/sub/dir") & 0077, 0);
  auto c = find_credentials_in_file(path_, false, "quay.io/x");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "pass");
}

TEST_F(AuthFileWrite, SetCredentialsKeepsOtherMembersAndReplacesTokens) {
  make_dirs(dir_.path() + "/sub/dir");
  write(path_,
        R"({"credsStore": "desktop", "auths": {"quay.io": {"auth": "YTox", "identitytoken": "old"},
                    "b.io": {"auth": "YTox"}}})");
  set_credentials(path_, "quay.io/ns", "user", "pass");
  set_credentials(path_, "quay.io", "u", "p");
  EXPECT_EQ(slurp(path_),
            "{\n\t\"auths\": {\n"
            "\t\t\"b.io\": {\n\t\t\t\"auth\": \"YTox\"\n\t\t},\n"
            "\t\t\"quay.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n"
            "\t\t\"quay.io/ns\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t},\n"
            "\t\"credsStore\": \"desktop\"\n}");
}

TEST_F(AuthFileWrite, DockerCompatFormatUsesTheIndexKeyAndRefusesNamespaces) {
  set_credentials(path_, "docker.io", "user", "pass", AuthFileFormat::kDockerCompat);
  EXPECT_NE(slurp(path_).find("\"https://index.docker.io/v1/\""), std::string::npos);
  EXPECT_EQ(error_of([&] {
              set_credentials(path_, "quay.io/ns", "u", "p", AuthFileFormat::kDockerCompat);
            }),
            "Credentials cannot be recorded in Docker-compatible format with namespaced key "
            "\"quay.io/ns\"");
  EXPECT_TRUE(remove_credentials(path_, "docker.io", AuthFileFormat::kDockerCompat));
  EXPECT_EQ(slurp(path_), "{\n\t\"auths\": {}\n}");
}

TEST_F(AuthFileWrite, RejectsBadKeysAndBrokenFiles) {
  EXPECT_EQ(error_of([&] { set_credentials(path_, "quay.io/a:b", "u", "p"); }),
            "key quay.io/a:b contains a ':' character after host[:port]");
  make_dirs(dir_.path() + "/sub/dir");
  write(path_, "{broken");
  std::string msg = error_of([&] { set_credentials(path_, "quay.io", "u", "p"); });
  EXPECT_EQ(
      msg.rfind("reading JSON file \"" + path_ + "\": unmarshaling JSON at \"" + path_ + "\": ", 0),
      0u)
      << msg;
  EXPECT_EQ(slurp(path_), "{broken");
}

TEST_F(AuthFileWrite, RemoveCredentialsReportsWhetherLoggedIn) {
  set_credentials(path_, "quay.io", "u", "p");
  set_credentials(path_, "b.io", "u", "p");
  EXPECT_FALSE(remove_credentials(path_, "c.io"));
  EXPECT_TRUE(remove_credentials(path_, "quay.io"));
  EXPECT_FALSE(remove_credentials(path_, "quay.io"));
  EXPECT_EQ(slurp(path_),
            "{\n\t\"auths\": {\n\t\t\"b.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t}\n}");
  // Nothing to remove from a missing file, and it is not created.
  const std::string other = dir_.path() + "/none.json";
  EXPECT_FALSE(remove_credentials(other, "quay.io"));
  EXPECT_FALSE(path_exists(other));
}

TEST_F(AuthFileWrite, RemoveAllKeepsOtherMembers) {
  make_dirs(dir_.path() + "/sub/dir");
  write(path_, R"({"auths": {"quay.io": {"auth": "YTox"}}, "proxies": {"a": 1}})");
  remove_all_credentials(path_);
  EXPECT_EQ(slurp(path_), "{\n\t\"auths\": {},\n\t\"proxies\": {\n\t\t\"a\": 1\n\t}\n}");
  const std::string missing = dir_.path() + "/missing/auth.json";
  remove_all_credentials(missing);
  EXPECT_FALSE(path_exists(missing));
}

TEST(AuthFilePaths, PrimaryFileFollowsXdgRuntimeDir) {
  TempDir dir("/tmp", "authfile-test");
  ScopedEnv env;
  env.set("XDG_RUNTIME_DIR", dir.path());
  EXPECT_EQ(primary_auth_file_path(), dir.path() + "/containers/auth.json");
  env.set("XDG_RUNTIME_DIR", dir.path() + "/gone");
  EXPECT_EQ(error_of([] { primary_auth_file_path(); }),
            "\"" + dir.path() +
                "/gone\" directory set by $XDG_RUNTIME_DIR does not exist. Either create the "
                "directory or "
                "unset $XDG_RUNTIME_DIR.");
  env.set("XDG_RUNTIME_DIR", std::nullopt);
  EXPECT_EQ(primary_auth_file_path(), "/run/containers/" + std::to_string(getuid()) + "/auth.json");
}

TEST(AuthFilePaths, LoginFileOrder) {
  TempDir dir("/tmp", "authfile-test");
  ScopedEnv env;
  env.set("XDG_RUNTIME_DIR", dir.path())
      .set("REGISTRY_AUTH_FILE", "/r.json")
      .set("DOCKER_CONFIG", "/dc");
  LoginAuthFile f = default_login_auth_file();
  EXPECT_EQ(f.path, "/r.json");
  EXPECT_EQ(f.format, AuthFileFormat::kContainers);
  env.set("REGISTRY_AUTH_FILE", std::nullopt);
  f = default_login_auth_file();
  EXPECT_EQ(f.path, "/dc/config.json");
  EXPECT_EQ(f.format, AuthFileFormat::kDockerCompat);
  env.set("DOCKER_CONFIG", "");
  f = default_login_auth_file();
  EXPECT_EQ(f.path, dir.path() + "/containers/auth.json");
  EXPECT_EQ(f.format, AuthFileFormat::kContainers);
}

// Fake docker-credential-* programs in a temporary directory put first on
// $PATH.
class CredentialHelper : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.set("PATH",
             dir_.path() + ":" + std::string(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"));
  }
  void helper(const std::string& name, const std::string& body) {
    write(dir_.path() + "/docker-credential-" + name, "#!/bin/sh\n" + body, 0755);
  }
  TempDir dir_{"/tmp", "credhelper-test"};
  ScopedEnv env_;
};

TEST_F(CredentialHelper, GetParsesTheReply) {
  helper("ok",
         "read url; [ \"$1\" = get ] || exit 3\n"
         "printf '{\"ServerURL\":\"%s\",\"Username\":\"me\",\"Secret\":\"s3cret\"}' \"$url\"\n");
  auto c = credential_helper_get("ok", "quay.io");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "me");
  EXPECT_EQ(c->password, "s3cret");
  EXPECT_EQ(c->identity_token, "");
}

TEST_F(CredentialHelper, TokenUsernameMeansIdentityToken) {
  helper("tok", "cat >/dev/null; echo '{\"username\":\"<token>\",\"secret\":\"refresh\"}'\n");
  auto c = credential_helper_get("tok", "quay.io");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->identity_token, "refresh");
}

TEST_F(CredentialHelper, NotFoundIsNoCredentials) {
  helper("none", "echo 'credentials not found in native keychain'; exit 1\n");
  EXPECT_FALSE(credential_helper_get("none", "quay.io"));
  EXPECT_FALSE(credential_helper_erase("none", "quay.io"));
}

TEST_F(CredentialHelper, FailuresAreClearAndNeverQuoteTheReply) {
  helper("fail", "echo 'backend locked'; echo 'detail' >&2; exit 4\n");
  EXPECT_EQ(
      error_of([] { credential_helper_get("fail", "quay.io"); }),
      "error getting credentials - err: exit status 4, out: `backend locked`, stderr: `detail`");
  helper("badjson", "echo '{\"Username\":\"me\",\"Secret\":\"s3cret\"'\n");
  std::string msg = error_of([] { credential_helper_get("badjson", "quay.io"); });
  EXPECT_EQ(msg,
            "error getting credentials - err: invalid JSON reply from docker-credential-badjson");
  helper("wrongtype", "echo '{\"Username\":1,\"Secret\":\"s3cret\"}'\n");
  EXPECT_EQ(error_of([] { credential_helper_get("wrongtype", "quay.io"); }),
            "error getting credentials - err: invalid JSON reply from docker-credential-wrongtype");
  EXPECT_EQ(error_of([] { credential_helper_get("missing-helper", "quay.io"); }),
            "error getting credentials - err: exec: \"docker-credential-missing-helper\": "
            "executable file "
            "not found in $PATH, out: ``");
  EXPECT_EQ(error_of([] { credential_helper_get("../x", "quay.io"); }),
            "error getting credentials - err: exec: \"docker-credential-../x\": executable file "
            "not found "
            "in $PATH, out: ``");
  helper("killed", "kill -9 $$\n");
  EXPECT_EQ(error_of([] { credential_helper_get("killed", "quay.io"); }),
            "error getting credentials - err: signal: killed, out: ``");
}

TEST_F(CredentialHelper, HangingHelperIsKilled) {
  helper("hang", "exec sleep 30\n");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(
      error_of([] { credential_helper_get("hang", "quay.io", 300ms); }),
      "error getting credentials - err: docker-credential-hang get timed out after 300ms, out: ``");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(CredentialHelper, FloodingHelperIsStopped) {
  helper("flood", "exec yes\n");
  std::string msg = error_of([] { credential_helper_get("flood", "quay.io"); });
  EXPECT_EQ(msg.rfind("error getting credentials - err: docker-credential-flood get wrote more "
                      "than 1048576 bytes",
                      0),
            0u)
      << msg.substr(0, 200);
  EXPECT_LT(msg.size(), 2500u);
}

TEST_F(CredentialHelper, StoreSendsJsonAndMasksTheSecret) {
  const std::string log = dir_.path() + "/stored";
  helper("store", "cat > '" + log + "'\n");
  credential_helper_store("store", "quay.io", "me", "p<w>");
  EXPECT_EQ(slurp(log),
            "{\"ServerURL\":\"quay.io\",\"Username\":\"me\",\"Secret\":\"p\\u003cw\\u003e\"}\n");
  helper("echo", "cat; exit 1\n");
  std::string msg = error_of([] { credential_helper_store("echo", "quay.io", "me", "topsecret"); });
  EXPECT_EQ(msg.find("topsecret"), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind("error storing credentials - err: exit status 1, out: `", 0), 0u) << msg;
}

TEST_F(CredentialHelper, AuthFileCredHelpersDelegate) {
  const std::string log = dir_.path() + "/log";
  helper("reg", "echo \"$1 $(cat)\" >> '" + log +
                    "'\n"
                    "[ \"$1\" = get ] && echo '{\"Username\":\"hu\",\"Secret\":\"hs\"}'\nexit 0\n");
  const std::string path = dir_.path() + "/auth.json";
  write(path, R"({"auths": {"quay.io": {"auth": "YTox"}}, "credHelpers": {"quay.io": "reg"}})");
  auto c = find_credentials_in_file(path, false, "quay.io/ns/repo");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "hu");
  EXPECT_EQ(set_credentials(path, "quay.io", "nu", "np"), "credential helper: reg");
  EXPECT_TRUE(remove_credentials(path, "quay.io"));
  EXPECT_EQ(slurp(log),
            "get quay.io\nstore {\"ServerURL\":\"quay.io\",\"Username\":\"nu\",\"Secret\":\"np\"}\n"
            "erase quay.io\n");
  EXPECT_EQ(error_of([&] { set_credentials(path, "quay.io/ns", "u", "p"); }),
            "OK");  // no helper for the key
  remove_all_credentials(path);
  EXPECT_EQ(slurp(path), "{\n\t\"auths\": {}\n}");
}

TEST_F(CredentialHelper, ListGivesTheServersAndRefusesBadReplies) {
  helper("lister", "[ \"$1\" = list ] || exit 3\ncat >/dev/null\necho '{\"quay.io\":\"me\",\"127.0.0.1:5000\":\"you\"}'\n");
  auto servers = credential_helper_list("lister");
  std::sort(servers.begin(), servers.end());
  EXPECT_EQ(servers, (std::vector<std::string>{"127.0.0.1:5000", "quay.io"}));
  helper("listarray", "cat >/dev/null; echo '[\"quay.io\"]'\n");
  EXPECT_EQ(error_of([] { credential_helper_list("listarray"); }),
            "error listing credentials - err: invalid JSON reply from docker-credential-listarray");
  helper("listfails", "cat >/dev/null; echo nope; exit 2\n");
  EXPECT_EQ(error_of([] { credential_helper_list("listfails"); }),
            "error listing credentials - err: exit status 2, out: `nope`");
  helper("listnone", "cat >/dev/null; echo '{}'\n");
  EXPECT_TRUE(credential_helper_list("listnone").empty());
}

}  // namespace
}  // namespace ferry
