#include "config/registries_conf.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

// The reason parse() gives, without `loading registries configuration "r.conf": `.
std::string parse_error(const std::string& toml) {
  std::string msg = error_of([&] { RegistriesConf::parse(toml, "r.conf"); });
  const std::string prefix = "loading registries configuration \"r.conf\": ";
  if (msg.rfind(prefix, 0) != 0) return "UNPREFIXED: " + msg;
  return msg.substr(prefix.size());
}

DockerReference ref(const std::string& s) { return parse_normalized_named(s); }

// Pull sources as "ref [mirror] [insecure]" lines.
std::vector<std::string> sources(const RegistriesConf& conf, const std::string& r) {
  std::vector<std::string> out;
  for (const PullSource& s : conf.pull_sources(ref(r))) {
    out.push_back(s.ref.to_string() + (s.is_mirror ? " mirror" : "") +
                  (s.insecure ? " insecure" : ""));
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(RegistriesConf, ParsesTheV2Model) {
  RegistriesConf c = RegistriesConf::parse(R"(
unqualified-search-registries = ["quay.io", "localhost:5000/"]
short-name-mode = "enforcing"
credential-helpers = ["pass", "containers-auth.json"]
additional-layer-store-auth-helper = "als"
unknown-key = 1

[aliases]
"busybox" = "docker.io/library/busybox"
"gone" = ""

[[registry]]
prefix = "example.com/foo"
location = "internal.example.com/bar/"
insecure = true
mirror-by-digest-only = true
proxy = "socks5://p:1080"

[[registry.mirror]]
location = "mirror.example.com"
insecure = true

[[registry]]
location = "blocked.io"
blocked = true
)",
                                           "r.conf");
  EXPECT_EQ(c.unqualified_search_registries(), (Lines{"quay.io", "localhost:5000"}));
  EXPECT_EQ(c.short_name_mode(), "enforcing");
  EXPECT_EQ(c.credential_helpers(), (Lines{"pass", "containers-auth.json"}));
  EXPECT_EQ(c.additional_layer_store_auth_helper(), "als");
  EXPECT_EQ(c.aliases(), (std::map<std::string, std::string>{
                             {"busybox", "docker.io/library/busybox"}, {"gone", ""}}));
  ASSERT_EQ(c.registries().size(), 2u);
  // Sorted by prefix.
  EXPECT_EQ(c.registries()[0],
            (RegistryEntry{"blocked.io", "blocked.io", false, true, false, "", {}}));
  EXPECT_EQ(c.registries()[1],
            (RegistryEntry{"example.com/foo",
                           "internal.example.com/bar",
                           true,
                           false,
                           true,
                           "socks5://p:1080",
                           {RegistryMirror{"mirror.example.com", true, "", ""}}}));
}

TEST(RegistriesConf, DefaultsWhenEmpty) {
  RegistriesConf c = RegistriesConf::parse("", "r.conf");
  EXPECT_TRUE(c.registries().empty());
  EXPECT_EQ(c.credential_helpers(), (Lines{"containers-auth.json"}));
  EXPECT_EQ(c.short_name_mode(), "permissive");
  EXPECT_EQ(RegistriesConf::parse("credential-helpers = []", "r.conf").credential_helpers(),
            (Lines{"containers-auth.json"}));
}

TEST(RegistriesConf, FindsTheLongestMatchingPrefix) {
  RegistriesConf c = RegistriesConf::parse(R"(
[[registry]]
location = "example.com"
[[registry]]
location = "example.com/foo"
[[registry]]
prefix = "*.example.org"
location = "wild"
[[registry]]
prefix = "*.sub.example.org"
location = "wilder"
)",
                                           "r.conf");
  auto prefix_of = [&](std::string_view name) -> std::string {
    const RegistryEntry* e = c.find(name);
    return e ? e->prefix : "none";
  };
  EXPECT_EQ(prefix_of("example.com"), "example.com");
  EXPECT_EQ(prefix_of("example.com/foo"), "example.com/foo");
  EXPECT_EQ(prefix_of("example.com/foo/bar"), "example.com/foo");
  EXPECT_EQ(prefix_of("example.com/foobar"), "example.com");
  EXPECT_EQ(prefix_of("example.com@sha256:x"), "example.com");
  EXPECT_EQ(prefix_of("example.com:5000/x"), "example.com");  // c/image's documented quirk
  EXPECT_EQ(prefix_of("example.community/x"), "none");
  EXPECT_EQ(prefix_of("a.example.org/x"), "*.example.org");
  EXPECT_EQ(prefix_of("b.a.sub.example.org:99/x"), "*.sub.example.org");
  EXPECT_EQ(prefix_of("example.org/x"), "none");
  EXPECT_EQ(prefix_of("x.example.orgy/x"), "none");
  EXPECT_EQ(prefix_of("quay.io/a.example.org"), "none");
  EXPECT_EQ(c.find(ref("example.com/foo/bar:tag"))->prefix, "example.com/foo");
}

TEST(RegistriesConf, PullSourcesRewriteAndHonourMirrorRules) {
  RegistriesConf c = RegistriesConf::parse(R"(
[[registry]]
prefix = "example.com/foo"
location = "internal.example.com/bar"
[[registry.mirror]]
location = "m1.io/cache"
[[registry.mirror]]
location = "m2.io"
insecure = true
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "m3.io"
pull-from-mirror = "tag-only"

[[registry]]
location = "docker.io/library"
mirror-by-digest-only = true
[[registry.mirror]]
location = "dmirror.io/lib"

[[registry]]
prefix = "*.wild.io"
location = ""
insecure = true

[[registry]]
prefix = "*.rewrite.io"
location = "central.io/all"
)",
                                           "r.conf");
  const std::string digest = "@sha256:" + std::string(64, 'a');
  EXPECT_EQ(
      sources(c, "example.com/foo/img:1"),
      (Lines{"m1.io/cache/img:1 mirror", "m3.io/img:1 mirror", "internal.example.com/bar/img:1"}));
  EXPECT_EQ(
      sources(c, "example.com/foo/img" + digest),
      (Lines{"m1.io/cache/img" + digest + " mirror", "m2.io/img" + digest + " mirror insecure",
             "internal.example.com/bar/img" + digest}));
  EXPECT_EQ(sources(c, "busybox:latest"), (Lines{"docker.io/library/busybox:latest"}));
  EXPECT_EQ(sources(c, "busybox" + digest), (Lines{"dmirror.io/lib/busybox" + digest + " mirror",
                                                   "docker.io/library/busybox" + digest}));
  EXPECT_EQ(sources(c, "a.wild.io/x:1"), (Lines{"a.wild.io/x:1 insecure"}));
  EXPECT_EQ(sources(c, "a.rewrite.io/x:1"), (Lines{"central.io/all/x:1"}));
  EXPECT_EQ(sources(c, "unrelated.io/x:1"), (Lines{"unrelated.io/x:1"}));
  EXPECT_TRUE(c.insecure("a.wild.io"));
  EXPECT_TRUE(c.insecure(ref("b.wild.io/x")));
  EXPECT_FALSE(c.insecure("example.com"));
}

TEST(RegistriesConf, RewritingToANonCanonicalNameFails) {
  RegistriesConf c = RegistriesConf::parse(R"(
[[registry]]
prefix = "example.com"
location = "nodots"
[[registry]]
prefix = "upper.io"
location = "Upper.io/UP"
)",
                                           "r.conf");
  EXPECT_EQ(error_of([&] { c.pull_sources(ref("example.com/x:1")); }),
            "rewriting reference: repository name must be canonical");
  EXPECT_EQ(error_of([&] { c.pull_sources(ref("upper.io/x:1")); }),
            "rewriting reference: invalid reference format: repository name must be lowercase");
}

TEST(RegistriesConf, BlockedRegistriesAreRefused) {
  RegistriesConf c = RegistriesConf::parse(R"(
[[registry]]
location = "evil.io"
blocked = true
[[registry]]
prefix = "evil.io/ok"
location = "evil.io/ok"
)",
                                           "r.conf");
  EXPECT_EQ(error_of([&] { c.pull_sources(ref("evil.io/x:1")); }),
            "registry evil.io is blocked in r.conf");
  EXPECT_EQ(error_of([&] { c.check_not_blocked(ref("evil.io/x")); }),
            "registry evil.io is blocked in r.conf");
  EXPECT_EQ(error_of([&] { c.check_not_blocked(ref("evil.io/ok/x")); }), "OK");
  EXPECT_EQ(error_of([&] { c.check_not_blocked(ref("good.io/x")); }), "OK");
}

TEST(RegistriesConf, ValidationErrors) {
  EXPECT_EQ(parse_error("[[registry]]\ninsecure = true\n"),
            "invalid condition: both location and prefix are unset");
  EXPECT_EQ(parse_error("[[registry]]\nprefix = \"a.io\"\n"),
            "invalid condition: location is unset and prefix is not in the format: *.example.com");
  EXPECT_EQ(parse_error("[[registry]]\nlocation = \"https://a.io\"\n"),
            "invalid location 'https://a.io': URI schemes are not supported");
  EXPECT_EQ(parse_error("[[registry]]\nprefix = \"http://a.io/\"\nlocation = \"a.io\"\n"),
            "invalid location 'http://a.io/': URI schemes are not supported");
  EXPECT_EQ(parse_error("[[registry]]\nlocation = \"a.io\"\npull-from-mirror = \"all\"\n"),
            "pull-from-mirror must not be set for a non-mirror registry \"a.io\"");
  EXPECT_EQ(
      parse_error("[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n"
                  "[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"tag-only\"\n"),
      "cannot set mirror usage mirror-by-digest-only for the registry (\"a.io\") and "
      "pull-from-mirror for "
      "per-mirror (\"m.io\") at the same time");
  EXPECT_EQ(
      parse_error("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\n"
                  "pull-from-mirror = \"sometimes\"\n"),
      "unsupported pull-from-mirror value \"sometimes\" for mirror \"m.io\"");
  EXPECT_EQ(
      parse_error("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n"),
      "invalid condition: mirror location is unset");
  EXPECT_EQ(
      parse_error("[[registry]]\nprefix = \"*.a.io/ns\"\nlocation = \"a.io\"\n"),
      "Wildcarded prefix should be in the format: *.example.com. Current prefix \"*.a.io/ns\" is "
      "incorrectly formatted");
  EXPECT_EQ(parse_error("[[registry]]\nprefix = \"x.io/a\"\nlocation = \"a.io\"\ninsecure = true\n"
                        "[[registry]]\nprefix = \"x.io/b\"\nlocation = \"a.io\"\n"),
            "registry 'a.io' is defined multiple times with conflicting 'insecure' setting");
  EXPECT_EQ(parse_error("[[registry]]\nprefix = \"x.io/a\"\nlocation = \"a.io\"\nblocked = true\n"
                        "[[registry]]\nprefix = \"x.io/b\"\nlocation = \"a.io\"\n"),
            "registry 'a.io' is defined multiple times with conflicting 'blocked' setting");
  EXPECT_EQ(
      parse_error("[[registry]]\nlocation = \"a.io\"\nproxy = \"ftp://p\"\n"),
      "proxy URL scheme \"ftp\" is not supported. Supported are http, https, socks5, socks5h");
  EXPECT_EQ(parse_error("unqualified-search-registries = [\"a.io/ns\"]\n"),
            "Invalid unqualified-search-registries entry \"a.io/ns\"");
  EXPECT_EQ(parse_error("short-name-mode = \"sometimes\"\n"),
            "invalid short-name mode: \"sometimes\"");
  EXPECT_EQ(
      parse_error(
          "[aliases]\n\"quay.io/x\" = \"quay.io/x\"\n\"y\" = \"y\"\n\"z:tag\" = \"a.io/z\"\n"),
      "validating short-name aliases: invalid short name \"quay.io/x\": must not contain registry\n"
      "invalid alias \"y\": must contain registry and repository\n"
      "invalid short name \"z:tag\": must not contain tag");
  EXPECT_EQ(parse_error("[aliases]\n\"x\" = \"a.io/x:1\"\n"),
            "validating short-name aliases: invalid alias \"a.io/x:1\": must not contain tag");
  // The first entry of a repeated prefix wins.
  RegistriesConf c = RegistriesConf::parse(
      "[[registry]]\nlocation = \"a.io\"\n[[registry]]\nprefix = \"a.io\"\n"
      "location = \"b.io\"\n",
      "r.conf");
  ASSERT_EQ(c.registries().size(), 1u);
  EXPECT_EQ(c.registries()[0].location, "a.io");
}

TEST(RegistriesConf, TypeAndSyntaxErrorsGiveTheLine) {
  EXPECT_EQ(parse_error("\n[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n"),
            "toml: line 4 (last key \"registry.insecure\"): incompatible types: TOML value has "
            "type string; "
            "destination has type bool");
  EXPECT_EQ(parse_error("[registry]\nlocation = \"a.io\"\n"),
            "toml: line 1 (last key \"registry\"): incompatible types: TOML value has type table; "
            "destination "
            "has type []sysregistriesv2.Registry");
  EXPECT_EQ(parse_error("unqualified-search-registries = \"quay.io\""),
            "toml: line 1 (last key \"unqualified-search-registries\"): incompatible types: TOML "
            "value has type "
            "string; destination has type []string");
  EXPECT_EQ(parse_error("credential-helpers = [1]"),
            "toml: line 1 (last key \"credential-helpers\"): incompatible types: TOML value has "
            "type integer; "
            "destination has type string");
  for (const std::string& bad :
       {std::string("[[registry"), std::string("a = "), std::string("a = \"\xff\""),
        std::string("x = ") + std::string(1000, '['), std::string("a = 1\na = 2"), std::string("[&")}) {
    std::string msg = parse_error(bad);
    EXPECT_EQ(msg.rfind("toml: line ", 0), 0u) << msg;
  }
}

// toml++ 3.3 reached __builtin_unreachable() when it asked whether a
// non-ASCII character is whitespace (config/toml.h); under UBSan (make
// test) these aborted. They are plain syntax errors.
TEST(RegistriesConf, NonAsciiWhereWhitespaceMayBeIsASyntaxError) {
  for (const std::string& bad : {std::string("a = 1\xc3\xa9"),                          // U+00E9 after a value
                                 std::string("a = \"x\"\xef\xbb\xbc"),                 // U+FEFC
                                 std::string("\xc2\xa1 = 1"),                             // U+00A1 before a key
                                 std::string("[[registry]]\nlocation = \"a.io\" \xe3\x80\x81")}) {  // U+3001
    std::string msg = parse_error(bad);
    EXPECT_EQ(msg.rfind("toml: line ", 0), 0u) << msg;
  }
  // Valid: the line-ending backslash trims whitespace up to the U+00A7.
  EXPECT_EQ(parse_error("s = \"\"\"\\\n\xc2\xa7\"\"\""), "UNPREFIXED: OK");
  // Real non-ASCII whitespace is still refused, and non-ASCII text inside
  // strings and comments is still fine.
  EXPECT_EQ(parse_error("a = 1\xe3\x80\x80").rfind("toml: line ", 0), 0u);
  RegistriesConf c = RegistriesConf::parse("# caf\xc3\xa9\nunqualified-search-registries = [\"a.io\"] # \xef\xbb\xbc\n", "r.conf");
  EXPECT_EQ(c.unqualified_search_registries(), std::vector<std::string>{"a.io"});
}

TEST(RegistriesConf, V1FormatIsConverted) {
  RegistriesConf c = RegistriesConf::parse(R"(
[registries.search]
registries = ["quay.io", "docker.io"]
[registries.insecure]
registries = ["insecure.io", "both.io"]
[registries.block]
registries = ["blocked.io", "both.io/"]
)",
                                           "r.conf");
  EXPECT_EQ(c.unqualified_search_registries(), (Lines{"quay.io", "docker.io"}));
  ASSERT_EQ(c.registries().size(), 3u);
  EXPECT_EQ(c.registries()[0],
            (RegistryEntry{"blocked.io", "blocked.io", false, true, false, "", {}}));
  EXPECT_EQ(c.registries()[1], (RegistryEntry{"both.io", "both.io", true, true, false, "", {}}));
  EXPECT_EQ(c.registries()[2],
            (RegistryEntry{"insecure.io", "insecure.io", true, false, false, "", {}}));
  EXPECT_EQ(
      parse_error("[registries.search]\nregistries = []\n[[registry]]\nlocation = \"a.io\"\n"),
      "mixing sysregistry v1/v2 is not supported");
  EXPECT_EQ(parse_error("[registries.block]\nregistries = [\"https://x\"]\n"),
            "invalid location 'https://x': URI schemes are not supported");
}

class RegistriesConfFiles : public ::testing::Test {
 protected:
  RegistriesConfPaths paths() const {
    return {dir_.path() + "/registries.conf", dir_.path() + "/system.d", dir_.path() + "/user.d",
            false};
  }
  TempDir dir_{"/tmp", "registries-conf-test"};
};

TEST_F(RegistriesConfFiles, MissingFilesAreAnEmptyConfigUnlessExplicit) {
  RegistriesConf c = RegistriesConf::load_from(paths());
  EXPECT_TRUE(c.registries().empty());
  EXPECT_EQ(c.credential_helpers(), (Lines{"containers-auth.json"}));
  RegistriesConfPaths p = paths();
  p.explicit_path = true;
  EXPECT_EQ(error_of([&] { RegistriesConf::load_from(p); }),
            "loading registries configuration \"" + p.config_path + "\": open " + p.config_path +
                ": no such file or directory");
}

TEST_F(RegistriesConfFiles, DropInsOverrideInOrder) {
  const RegistriesConfPaths p = paths();
  write(p.config_path, R"(
unqualified-search-registries = ["main.io"]
credential-helpers = ["main"]
short-name-mode = "enforcing"
[aliases]
"a" = "main.io/a"
"b" = "main.io/b"
[[registry]]
location = "main.io"
insecure = true
[[registry]]
location = "keep.io"
)");
  write(p.config_dir + "/20-second.conf", R"(
unqualified-search-registries = ["second.io"]
[aliases]
"a" = ""
[[registry]]
location = "main.io"
blocked = true
)");
  write(p.config_dir + "/10-first.conf", "credential-helpers = [\"first\"]\n");
  write(p.config_dir + "/30-ignored.txt", "not = toml = at all");
  make_dirs(p.config_dir + "/40-dir.conf");
  write(p.user_config_dir + "/00-user.conf",
        "short-name-mode = \"disabled\"\n[[registry]]\nlocation = \"user.io\"\n");
  RegistriesConf c = RegistriesConf::load_from(p);
  EXPECT_EQ(c.unqualified_search_registries(), (Lines{"second.io"}));
  EXPECT_EQ(c.credential_helpers(), (Lines{"first"}));
  EXPECT_EQ(c.short_name_mode(), "disabled");
  EXPECT_EQ(c.aliases(), (std::map<std::string, std::string>{{"a", ""}, {"b", "main.io/b"}}));
  ASSERT_EQ(c.registries().size(), 3u);
  EXPECT_EQ(c.registries()[0].prefix, "keep.io");
  EXPECT_EQ(c.registries()[1], (RegistryEntry{"main.io", "main.io", false, true, false, "", {}}));
  EXPECT_EQ(c.registries()[2].prefix, "user.io");
  EXPECT_EQ(error_of([&] { c.check_not_blocked(ref("main.io/x")); }),
            "registry main.io is blocked in " + p.config_path + " or " + p.user_config_dir);
}

TEST_F(RegistriesConfFiles, DropInErrorsNameTheFile) {
  const RegistriesConfPaths p = paths();
  write(p.user_config_dir + "/v1.conf", "[registries.search]\nregistries = [\"a.io\"]\n");
  EXPECT_EQ(error_of([&] { RegistriesConf::load_from(p); }),
            "loading drop-in registries configuration \"" + p.user_config_dir +
                "/v1.conf\": registry must be in v2 format but is in v1");
  write(p.user_config_dir + "/v1.conf", "[[registry]]\n");
  EXPECT_EQ(error_of([&] { RegistriesConf::load_from(p); }),
            "loading drop-in registries configuration \"" + p.user_config_dir +
                "/v1.conf\": invalid condition: both location and prefix are unset");
  write(p.user_config_dir + "/v1.conf", "");
  write(p.config_path, std::string(kMaxRegistriesConfSize + 1, '#'));
  EXPECT_EQ(error_of([&] { RegistriesConf::load_from(p); }),
            "loading registries configuration \"" + p.config_path + "\": reading " + p.config_path +
                ": exceeded maximum allowed size of 4194304 bytes");
}

TEST(RegistriesConfPathsTest, FollowsTheSearchOrder) {
  TempDir dir("/tmp", "registries-conf-test");
  ScopedEnv env;
  env.set("HOME", dir.path());
  SystemContext ctx;
  RegistriesConfPaths p = RegistriesConf::default_paths(ctx);
  EXPECT_EQ(p.config_path, "/etc/containers/registries.conf");
  EXPECT_EQ(p.config_dir, "/etc/containers/registries.conf.d");
  EXPECT_EQ(p.user_config_dir, dir.path() + "/.config/containers/registries.conf.d");
  EXPECT_FALSE(p.explicit_path);
  write(dir.path() + "/.config/containers/registries.conf", "");
  p = RegistriesConf::default_paths(ctx);
  EXPECT_EQ(p.config_path, dir.path() + "/.config/containers/registries.conf");
  EXPECT_EQ(p.config_dir, "");
  EXPECT_EQ(p.user_config_dir, dir.path() + "/.config/containers/registries.conf.d");
  ctx.registries_conf = "/x.conf";
  p = RegistriesConf::default_paths(ctx);
  EXPECT_EQ(p.config_path, "/x.conf");
  EXPECT_EQ(p.config_dir, "/etc/containers/registries.conf.d");
  EXPECT_TRUE(p.explicit_path);
}

TEST(RegistriesConfSystem, TheInstalledConfigurationLoads) {
  if (!path_exists("/etc/containers/registries.conf")) GTEST_SKIP() << "no system registries.conf";
  TempDir dir("/tmp", "registries-conf-test");
  ScopedEnv env;
  env.set("HOME", dir.path());
  EXPECT_NO_THROW(RegistriesConf::load(SystemContext{}));
}

}  // namespace
}  // namespace ferry
