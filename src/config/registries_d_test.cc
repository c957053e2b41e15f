#include "config/registries_d.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

std::string parse_error(const std::string& yaml) {
  return error_of([&] { RegistriesD::parse(yaml, "r.yaml"); });
}

DockerReference ref(const std::string& s) { return tag_name_only(parse_normalized_named(s)); }

const char* kConfig = R"(
default-docker:
  lookaside: file:///default
  use-sigstore-attachments: yes
docker:
  example.com:
    lookaside: https://sigs.example.com/read
    lookaside-staging: file:///staging
  example.com/team:
    sigstore: https://old-style.example.com
    sigstore-staging: file:///old-staging
    use-sigstore-attachments: false
  example.com/team/app:tag:
    lookaside: https://exact.example.com
  example.com/nourl:
    use-sigstore-attachments: true
  "*.wild.io":
    lookaside: https://wild
  quiet.io:
)";

TEST(RegistriesD, MostSpecificScopeWins) {
  RegistriesD c = RegistriesD::parse(kConfig, "r.yaml");
  EXPECT_EQ(c.configured_lookaside(ref("example.com/team/app:tag"), false),
            "https://exact.example.com");
  EXPECT_EQ(c.configured_lookaside(ref("example.com/team/app:other"), false),
            "https://old-style.example.com");
  EXPECT_EQ(c.configured_lookaside(ref("example.com/team/app:other"), true), "file:///old-staging");
  EXPECT_EQ(c.configured_lookaside(ref("example.com/x"), false), "https://sigs.example.com/read");
  EXPECT_EQ(c.configured_lookaside(ref("example.com/x"), true), "file:///staging");
  // A scope without a URL falls through to its parents.
  EXPECT_EQ(c.configured_lookaside(ref("example.com/nourl/x"), false),
            "https://sigs.example.com/read");
  EXPECT_EQ(c.configured_lookaside(ref("a.wild.io/x"), false), "https://wild");
  EXPECT_EQ(c.configured_lookaside(ref("quiet.io/x"), false), "file:///default");
  EXPECT_EQ(c.configured_lookaside(ref("busybox"), true), "file:///default");
  EXPECT_EQ(c.lookaside_base_url(ref("example.com/team/app:tag")),
            "https://exact.example.com/team/app");

  EXPECT_TRUE(c.use_sigstore_attachments(ref("example.com/nourl/x")));
  EXPECT_FALSE(c.use_sigstore_attachments(ref("example.com/team/app:tag")));
  EXPECT_TRUE(c.use_sigstore_attachments(ref("other.io/x")));
  EXPECT_TRUE(c.docker().count("quiet.io"));
}

TEST(RegistriesD, DefaultsWithoutConfiguration) {
  RegistriesD c = RegistriesD::parse("", "r.yaml");
  EXPECT_EQ(c.configured_lookaside(ref("busybox"), false), "");
  EXPECT_FALSE(c.use_sigstore_attachments(ref("busybox")));
  EXPECT_EQ(c.lookaside_for(ref("busybox")), builtin_default_lookaside());
  if (geteuid() == 0) {
    EXPECT_EQ(builtin_default_lookaside(), "file:///var/lib/containers/sigstore");
  }
  ScopedEnv env;
  env.set("HOME", "/home/u");
  if (geteuid() != 0) {
    EXPECT_EQ(builtin_default_lookaside(), "file:///home/u/.local/share/containers/sigstore");
  }
  RegistriesD q =
      RegistriesD::parse("docker:\n  a.io:\n    lookaside: https://h/p?x=1\n", "r.yaml");
  EXPECT_EQ(q.lookaside_base_url(ref("a.io/ns/repo")), "https://h/p/ns/repo?x=1");
}

TEST(RegistriesD, ReportsBadDocuments) {
  EXPECT_EQ(parse_error("- a\n- b\n"),
            "parsing r.yaml: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into "
            "docker.registryConfiguration");
  EXPECT_EQ(parse_error("docker: [1]\n"),
            "parsing r.yaml: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into "
            "map[string]docker.registryNamespace");
  EXPECT_EQ(
      parse_error("docker:\n  a.io:\n    lookaside: [x]\n"),
      "parsing r.yaml: yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string");
  EXPECT_EQ(parse_error("default-docker:\n  use-sigstore-attachments: maybe\n"),
            "parsing r.yaml: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `maybe` "
            "into bool");
  EXPECT_EQ(parse_error("docker:\n  a.io: {}\n  a.io: {}\n"),
            "parsing r.yaml: yaml: unmarshal errors:\n  line 3: mapping key \"a.io\" already "
            "defined at line 2");
  for (const std::string& bad :
       {std::string("a: [b"), std::string("a: \"x"), std::string(100000, '['),
        std::string("a:\n- b\n c: d"), std::string("\xff\xfe: x")}) {
    std::string msg = parse_error(bad);
    EXPECT_EQ(msg.rfind("parsing r.yaml: yaml: ", 0), 0u) << msg;
  }
  // Anchors and aliases are shared, not expanded.
  EXPECT_EQ(parse_error("default-docker: &d\n  lookaside: x\ndocker:\n  a.io: *d\n  b.io: *d\n"),
            "OK");
}

TEST(RegistriesD, MergesFilesAndRefusesDuplicates) {
  TempDir dir("/tmp", "registries-d-test");
  write(dir.path() + "/a.yaml", "docker:\n  a.io:\n    lookaside: https://a\n");
  write(dir.path() + "/b.yaml", "default-docker:\n  lookaside: https://default\n");
  write(dir.path() + "/c.yml", "docker:\n  a.io:\n    lookaside: https://ignored\n");
  RegistriesD c = RegistriesD::load_dir(dir.path());
  EXPECT_EQ(c.configured_lookaside(ref("a.io/x"), false), "https://a");
  EXPECT_EQ(c.configured_lookaside(ref("b.io/x"), false), "https://default");

  write(dir.path() + "/d.yaml", "docker:\n  a.io:\n    lookaside: https://again\n");
  EXPECT_EQ(error_of([&] { RegistriesD::load_dir(dir.path()); }),
            "Error parsing signature storage configuration: \"docker\" namespace \"a.io\" defined "
            "both in \"" +
                dir.path() + "/a.yaml\" and \"" + dir.path() + "/d.yaml\"");
  write(dir.path() + "/d.yaml", "default-docker:\n  sigstore: https://again\n");
  EXPECT_EQ(error_of([&] { RegistriesD::load_dir(dir.path()); }),
            "Error parsing signature storage configuration: \"default-docker\" defined both in \"" +
                dir.path() + "/b.yaml\" and \"" + dir.path() + "/d.yaml\"");
  // A null default-docker is not a definition.
  write(dir.path() + "/d.yaml", "default-docker:\n");
  EXPECT_EQ(error_of([&] { RegistriesD::load_dir(dir.path()); }), "OK");
  write(dir.path() + "/d.yaml", "docker: {a: [\n");
  EXPECT_EQ(error_of([&] {
              RegistriesD::load_dir(dir.path());
            }).rfind("parsing " + dir.path() + "/d.yaml: yaml: line ", 0),
            0u);
  EXPECT_TRUE(RegistriesD::load_dir(dir.path() + "/missing").docker().empty());
}

TEST(RegistriesD, DirectorySearchOrder) {
  TempDir dir("/tmp", "registries-d-test");
  ScopedEnv env;
  env.set("HOME", dir.path());
  SystemContext ctx;
  EXPECT_EQ(RegistriesD::default_dir(ctx), "/etc/containers/registries.d");
  make_dirs(dir.path() + "/.config/containers/registries.d");
  EXPECT_EQ(RegistriesD::default_dir(ctx), dir.path() + "/.config/containers/registries.d");
  ctx.registries_d = "/custom";
  EXPECT_EQ(RegistriesD::default_dir(ctx), "/custom");
}

}  // namespace
}  // namespace ferry
