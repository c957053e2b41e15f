#include "config/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <optional>
#include <string>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

// An auth file holding user:pass for key, as JSON text.
std::string auth_json(const std::string& key, const std::string& base64) {
  return R"({"auths": {")" + key + R"(": {"auth": ")" + base64 + R"("}}})";
}

// A private HOME / XDG layout, with registries.conf pointed at an empty
// file so the machine's configuration cannot interfere.
class CredentialsLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.set("HOME", home())
        .set("XDG_RUNTIME_DIR", runtime())
        .set("XDG_CONFIG_HOME", std::nullopt)
        .set("DOCKER_CONFIG", std::nullopt)
        .set("REGISTRY_AUTH_FILE", std::nullopt);
    make_dirs(home());
    make_dirs(runtime());
    write(conf(), "");
    ctx_.registries_conf = conf();
  }
  std::string home() const { return dir_.path() + "/home"; }
  std::string runtime() const { return dir_.path() + "/run"; }
  std::string conf() const { return dir_.path() + "/registries.conf"; }
  std::string user(const std::string& registry, const std::string& repo) {
    auto c = lookup_credentials(ctx_, registry, repo);
    if (!c) return "none";
    return c->username + ":" + c->password +
           (c->identity_token.empty() ? "" : "+" + c->identity_token);
  }

  TempDir dir_{"/tmp", "credentials-test"};
  ScopedEnv env_;
  SystemContext ctx_;
};

TEST_F(CredentialsLookup, DefaultPathsInOrder) {
  EXPECT_EQ(default_auth_file_paths(),
            (std::vector<std::string>{runtime() + "/containers/auth.json",
                                      home() + "/.config/containers/auth.json",
                                      home() + "/.docker/config.json", home() + "/.dockercfg"}));
  env_.set("XDG_CONFIG_HOME", "/xdg")
      .set("DOCKER_CONFIG", "/dc")
      .set("XDG_RUNTIME_DIR", "/nonexistent-run");
  // A missing $XDG_RUNTIME_DIR is skipped for reading (c/image warns).
  EXPECT_EQ(default_auth_file_paths(),
            (std::vector<std::string>{"/xdg/containers/auth.json", "/dc/config.json",
                                      home() + "/.dockercfg"}));
}

TEST_F(CredentialsLookup, ExplicitCredsWinThenNoCreds) {
  write(runtime() + "/containers/auth.json", auth_json("quay.io", "YTox"));
  ctx_.username = "flag";
  ctx_.password = "pw";
  ctx_.no_creds = true;
  EXPECT_EQ(user("quay.io", "a/b"), "flag:pw");
  ctx_.username.reset();
  ctx_.password.reset();
  EXPECT_EQ(user("quay.io", "a/b"), "none");
  ctx_.no_creds = false;
  EXPECT_EQ(user("quay.io", "a/b"), "a:1");
}

TEST_F(CredentialsLookup, FirstFileWithCredentialsWins) {
  write(home() + "/.dockercfg", R"({"https://legacy.io/v1/": {"auth": "bDps"}})");
  write(home() + "/.docker/config.json", auth_json("https://index.docker.io/v1/", "ZDo0"));
  write(home() + "/.config/containers/auth.json", auth_json("quay.io/ns", "YjoyCg=="));
  write(runtime() + "/containers/auth.json", auth_json("quay.io/ns/repo", "YzozAA=="));
  EXPECT_EQ(user("quay.io", "ns/repo"), "c:3");
  EXPECT_EQ(user("quay.io", "ns/other"), "b:2\n");
  EXPECT_EQ(user("docker.io", "library/busybox"), "d:4");
  EXPECT_EQ(user("legacy.io", "x"), "l:l");
  EXPECT_EQ(user("other.io", ""), "none");
}

TEST_F(CredentialsLookup, AuthfileAloneIsRead) {
  write(runtime() + "/containers/auth.json", auth_json("quay.io", "YTox"));
  const std::string explicit_file = dir_.path() + "/explicit.json";
  write(explicit_file, auth_json("b.io", "YjoyCg=="));
  ctx_.authfile = explicit_file;
  EXPECT_EQ(user("quay.io", "x"), "none");
  EXPECT_EQ(user("b.io", "x"), "b:2\n");
  ctx_.authfile = dir_.path() + "/missing.json";
  EXPECT_EQ(user("b.io", "x"), "none");
}

TEST_F(CredentialsLookup, BrokenFileIsAnErrorNamingIt) {
  const std::string path = runtime() + "/containers/auth.json";
  write(path, "{\"auths\": 1}");
  try {
    lookup_credentials(ctx_, "quay.io", "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "1 error occurred:\n\t* reading JSON file \"" + path +
                                         "\": unmarshaling JSON at \"" + path +
                                         "\": cannot unmarshal number into auths of type map\n\n");
  }
}

TEST_F(CredentialsLookup, RegistriesConfHelpersAreConsultedInOrder) {
  const std::string bin = dir_.path() + "/bin";
  write(bin + "/docker-credential-first",
        "#!/bin/sh\necho 'credentials not found in native keychain'; exit 1\n", 0755);
  write(bin + "/docker-credential-second",
        "#!/bin/sh\nread u; echo "
        "\"{\\\"Username\\\":\\\"<token>\\\",\\\"Secret\\\":\\\"for-$u\\\"}\"\n",
        0755);
  env_.set("PATH", bin + ":/usr/bin:/bin");
  write(conf(), "credential-helpers = [\"first\", \"second\", \"containers-auth.json\"]\n");
  write(runtime() + "/containers/auth.json", auth_json("quay.io", "YTox"));
  // Helpers get the registry, not the namespaced key.
  EXPECT_EQ(user("quay.io", "ns/repo"), ":+for-quay.io");
  write(conf(), "credential-helpers = [\"broken\", \"containers-auth.json\"]\n");
  EXPECT_EQ(user("quay.io", "ns/repo"), "a:1");
  write(conf(), "credential-helpers = [\"broken\"]\n");
  try {
    lookup_credentials(ctx_, "quay.io", "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "1 error occurred:\n\t* error getting credentials - err: exec: "
              "\"docker-credential-broken\": executable file not found in $PATH, out: ``\n\n");
  }
}

}  // namespace
}  // namespace ferry
