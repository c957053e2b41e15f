#include "image/docker_reference.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/error.h"

namespace ferry {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kSha = "sha256:" + kHex;
const std::string kSha512 = "sha512:" + kHex + kHex;

const char* kInvalid = "invalid reference format";
const char* kUpper = "invalid reference format: repository name must be lowercase";

struct Case {
  std::string input;
  std::string domain, path, tag, digest;  // expected parts; tag/digest "" = absent
  std::string error;                      // non-empty: expected exception text
};

std::string parse_error(std::string_view s) {
  try {
    parse_normalized_named(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void run(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input.substr(0, 100));
    if (!c.error.empty()) {
      EXPECT_EQ(parse_error(c.input), c.error);
      continue;
    }
    DockerReference r;
    try {
      r = parse_normalized_named(c.input);
    } catch (const Error& e) {
      ADD_FAILURE() << "unexpected error: " << e.what();
      continue;
    }
    EXPECT_EQ(r.domain, c.domain);
    EXPECT_EQ(r.path, c.path);
    EXPECT_EQ(r.tag.value_or(""), c.tag);
    EXPECT_EQ(r.tag.has_value(), !c.tag.empty());
    EXPECT_EQ(r.digest.value_or(""), c.digest);
    EXPECT_EQ(r.digest.has_value(), !c.digest.empty());
    // Round trip: the canonical string parses back to the same value.
    EXPECT_EQ(parse_normalized_named(r.to_string()), r);
  }
}

TEST(DockerReference, Normalization) {
  run({
      {"busybox", "docker.io", "library/busybox", "", "", ""},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "", ""},
      {"library/busybox", "docker.io", "library/busybox", "", "", ""},
      {"docker.io/busybox", "docker.io", "library/busybox", "", "", ""},
      {"index.docker.io/busybox", "docker.io", "library/busybox", "", "", ""},
      {"index.docker.io/a/b", "docker.io", "a/b", "", "", ""},
      {"docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", "", ""},
      {"user/repo", "docker.io", "user/repo", "", "", ""},
      {"user/repo/sub", "docker.io", "user/repo/sub", "", "", ""},
      {"quay.io/a/b:t", "quay.io", "a/b", "t", "", ""},
      {"quay.io/b", "quay.io", "b", "", "", ""},
      {"localhost/foo", "localhost", "foo", "", "", ""},
      {"localhost:5000/foo:bar", "localhost:5000", "foo", "bar", "", ""},
      {"notlocalhost/foo", "docker.io", "notlocalhost/foo", "", "", ""},
      {"LOCALHOST/foo", "docker.io", "", "", "", kUpper},
      // A bare host:port is a name plus a tag.
      {"localhost:5000", "docker.io", "library/localhost", "5000", "", ""},
      {"foo:5000/bar", "foo:5000", "bar", "", "", ""},
      {"Example.COM/foo", "Example.COM", "foo", "", "", ""},
      {"a-b.c-d.e:1/f", "a-b.c-d.e:1", "f", "", "", ""},
      {"1.2.3.4:5000/x", "1.2.3.4:5000", "x", "", "", ""},
      {"busybox@" + kSha, "docker.io", "library/busybox", "", kSha, ""},
      {"busybox:t@" + kSha, "docker.io", "library/busybox", "t", kSha, ""},
      {"busybox@" + kSha512, "docker.io", "library/busybox", "", kSha512, ""},
      {"h.io:1/a/b:T_a.g-1@" + kSha, "h.io:1", "a/b", "T_a.g-1", kSha, ""},
      // A first component that is no valid host but a valid path component
      // leaves the domain empty, as in Go (skopeo then fails to connect).
      {"foo_bar.com/x", "", "foo_bar.com/x", "", "", ""},
      {"a__b.c/d/e:t", "", "a__b.c/d/e", "t", "", ""},
      // Path component separators.
      {"a.b", "docker.io", "library/a.b", "", "", ""},
      {"a_b", "docker.io", "library/a_b", "", "", ""},
      {"a__b", "docker.io", "library/a__b", "", "", ""},
      {"a-b", "docker.io", "library/a-b", "", "", ""},
      {"a---b", "docker.io", "library/a---b", "", "", ""},
      {"a___b", "", "", "", "", kInvalid},
      {"a..b", "", "", "", "", kInvalid},
      {"a.-b", "", "", "", "", kInvalid},
      {"a-.b", "", "", "", "", kInvalid},
      {"a_.b", "", "", "", "", kInvalid},
      {"-a", "", "", "", "", kInvalid},
      {"a-", "", "", "", "", kInvalid},
      {".a", "", "", "", "", kInvalid},
      {"a.", "", "", "", "", kInvalid},
      {"_a", "", "", "", "", kInvalid},
  });
}

TEST(DockerReference, Tags) {
  std::string t128(128, 't');
  run({
      {"a:" + t128, "docker.io", "library/a", t128, "", ""},
      {"a:" + t128 + "t", "", "", "", "", kInvalid},
      {"a:_x", "docker.io", "library/a", "_x", "", ""},
      {"a:X.Y-Z", "docker.io", "library/a", "X.Y-Z", "", ""},
      {"a:.x", "", "", "", "", kInvalid},
      {"a:-x", "", "", "", "", kInvalid},
      {"a:", "", "", "", "", kInvalid},
      {"a:b:c", "", "", "", "", kInvalid},
      {"a/b/c:d:e", "", "", "", "", kInvalid},
      {"a:b/c", "", "", "", "", kInvalid},
      {"a:t@", "", "", "", "", kInvalid},
      {"a@", "", "", "", "", kInvalid},
  });
}

TEST(DockerReference, Digests) {
  std::string hex32 = kHex.substr(0, 32);
  run({
      // The reference grammar admits these, go-digest then decides.
      {"a@sha256:" + kHex.substr(0, 63), "", "", "", "", "invalid checksum digest length"},
      {"a@sha256:" + kHex + "0", "", "", "", "", "invalid checksum digest length"},
      {"a@sha512:" + hex32, "", "", "", "", "invalid checksum digest length"},
      {"a@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "", "", "", "",
       "invalid checksum digest format"},
      {"a@md5:" + hex32, "", "", "", "", "unsupported digest algorithm"},
      {"a@sha384:" + kHex + hex32, "", "", "", "", "unsupported digest algorithm"},
      {"a@sha256+b64:" + hex32, "", "", "", "", "unsupported digest algorithm"},
      {"a@a.b:" + hex32, "", "", "", "", "unsupported digest algorithm"},
      // Upper-case algorithms pass the reference grammar but not go-digest's.
      {"example.com/a:t@Sha256:" + kHex, "", "", "", "", "invalid checksum digest format"},
      // ...but before the domain is split, "a@SHA256" is the "repository".
      {"a@SHA256:" + kHex, "", "", "", "", kUpper},
      // Rejected by the reference grammar itself.
      {"a@sha256:0123", "", "", "", "", kInvalid},
      {"a@a-1:" + hex32, "", "", "", "", kInvalid},
      {"a@1a:" + hex32, "", "", "", "", kInvalid},
      {"a@:" + hex32, "", "", "", "", kInvalid},
      {"a@sha256" + kHex, "", "", "", "", kInvalid},
      {"a@@" + kSha, "", "", "", "", kInvalid},
      {"a@" + kSha + "@" + kSha, "", "", "", "", kInvalid},
      {"a@" + kSha + ":t", "", "", "", "", kInvalid},
  });
}

TEST(DockerReference, Errors) {
  run({
      {"", "", "", "", "", kInvalid},
      {"/", "", "", "", "", kInvalid},
      {"/foo", "", "", "", "", kInvalid},
      {"foo/", "", "", "", "", kInvalid},
      {"foo//bar", "", "", "", "", kInvalid},
      {"Foo", "", "", "", "", kUpper},
      {"foo/Bar:x", "", "", "", "", kUpper},
      {"example.com/Foo", "", "", "", "", kUpper},
      // Only the part before the first ':' is checked for case; a tag may
      // be upper case.
      {"example.com/foo:ABC", "example.com", "foo", "ABC", "", ""},
      {kHex, "", "", "", "",
       "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings"},
      {kHex + ":tag", "docker.io", "library/" + kHex, "tag", "", ""},
      {"docker.io/" + kHex, "docker.io", "library/" + kHex, "", "", ""},
      {":::", "", "", "", "", kInvalid},
      {"@@", "", "", "", "", kInvalid},
      {"a:b@c", "", "", "", "", kInvalid},
      {"[::1]:5000/foo", "", "", "", "", kInvalid},
      {"[::1]/foo", "", "", "", "", kInvalid},
      {"fe80::1/foo", "", "", "", "", kInvalid},
      {"host:/foo", "", "", "", "", kInvalid},
      {"host:port/foo", "", "", "", "", kInvalid},
      {"-host.com/foo", "", "", "", "", kInvalid},
      {"host-.com/foo", "", "", "", "", kInvalid},
      {"host..com/foo", "", "", "", "", kInvalid},
      {"a b", "", "", "", "", kInvalid},
      {"a\tb", "", "", "", "", kInvalid},
      {std::string("a\0b", 3), "", "", "", "", kInvalid},
      {std::string("a:t\0", 4), "", "", "", "", kInvalid},
  });
}

TEST(DockerReference, Unicode) {
  run({
      // Go's strings.ToLower decides the "must be lowercase" message.
      {"\xc3\x89", "", "", "", "", kUpper},           // É
      {"\xc3\xbc", "", "", "", "", kInvalid},         // ü is already lower case
      {"\xc7\x85", "", "", "", "", kUpper},           // ǅ (title case)
      {"\xff", "", "", "", "", kUpper},               // invalid UTF-8 becomes U+FFFD
      {"\xef\xbf\xbd", "", "", "", "", kInvalid},     // a real U+FFFD does not change
      {"\xe2\x84\xaa", "", "", "", "", kUpper},       // KELVIN SIGN
      {"\xed\xa0\x80", "", "", "", "", kUpper},       // surrogate: invalid UTF-8
      // In a tag, case is only checked by Parse's lower-cased retry, which
      // succeeds for KELVIN SIGN (-> "k") and reports the bare message.
      {"foo:\xe2\x84\xaa", "", "", "", "", "repository name must be lowercase"},
      {"foo:x\xc4\xb0", "", "", "", "", "repository name must be lowercase"},
      {"foo:\xc3\x89", "", "", "", "", kInvalid},
      {"foo:\xff", "", "", "", "", kInvalid},
      {"\xe2\x84\xaa.com/foo", "", "", "", "", "repository name must be lowercase"},
  });
}

TEST(DockerReference, LengthLimit) {
  // 255 characters of name (domain included) are fine, 256 are not.
  std::string host = "example.com/";
  std::string ok_path(255 - host.size(), 'a');
  run({
      {host + ok_path, "example.com", ok_path, "", "", ""},
      {host + ok_path + "a", "", "", "", "", "repository name must not be more than 255 characters"},
      // "docker.io/library/" counts too.
      {std::string(255 - 18, 'b'), "docker.io", "library/" + std::string(255 - 18, 'b'), "", "", ""},
      {std::string(256 - 18, 'b'), "", "", "", "", "repository name must not be more than 255 characters"},
  });
  // Hostile sizes: linear time, no recursion, a clean error.
  std::string huge(1 << 20, 'a');
  EXPECT_EQ(parse_error(huge), "repository name must not be more than 255 characters");
  EXPECT_EQ(parse_error(huge + "/"), kInvalid);
  std::string many_components;
  for (int i = 0; i < 100000; i++) many_components += "a/";
  many_components += "a";
  EXPECT_EQ(parse_error(many_components), "repository name must not be more than 255 characters");
  EXPECT_EQ(parse_error(std::string(1 << 20, ':')), kInvalid);
  EXPECT_EQ(parse_error(std::string(1 << 20, '@')), kInvalid);
  EXPECT_EQ(parse_error("a@sha256:" + std::string(1 << 20, 'a')), "invalid checksum digest length");
  EXPECT_EQ(parse_error(std::string(1 << 20, '\xc3')), kUpper);
}

TEST(DockerReference, Strings) {
  struct S {
    std::string input, full, familiar, name;
  };
  std::vector<S> cases = {
      {"busybox", "docker.io/library/busybox", "busybox", "docker.io/library/busybox"},
      {"busybox:t", "docker.io/library/busybox:t", "busybox:t", "docker.io/library/busybox"},
      {"library/a/b:t", "docker.io/library/a/b:t", "library/a/b:t", "docker.io/library/a/b"},
      {"user/x@" + kSha, "docker.io/user/x@" + kSha, "user/x@" + kSha, "docker.io/user/x"},
      {"quay.io/library/x:t", "quay.io/library/x:t", "quay.io/library/x:t", "quay.io/library/x"},
      {"localhost:5000/x:t@" + kSha, "localhost:5000/x:t@" + kSha, "localhost:5000/x:t@" + kSha,
       "localhost:5000/x"},
      {"foo_bar.com/x", "foo_bar.com/x", "foo_bar.com/x", "foo_bar.com/x"},
  };
  for (const auto& c : cases) {
    DockerReference r = parse_normalized_named(c.input);
    EXPECT_EQ(r.to_string(), c.full) << c.input;
    EXPECT_EQ(r.familiar_string(), c.familiar) << c.input;
    EXPECT_EQ(r.name(), c.name) << c.input;
    EXPECT_EQ(parse_normalized_named(r.familiar_string()), r) << c.input;
  }
}

TEST(DockerReference, TransportParse) {
  DockerReference r = parse_docker_reference_for_transport("busybox");
  EXPECT_EQ(r.to_string(), "docker.io/library/busybox:latest");
  EXPECT_EQ(parse_docker_reference_for_transport("busybox:1").to_string(), "docker.io/library/busybox:1");
  r = parse_docker_reference_for_transport("busybox@" + kSha);
  EXPECT_EQ(r.to_string(), "docker.io/library/busybox@" + kSha);
  EXPECT_FALSE(r.tag.has_value());
  try {
    parse_docker_reference_for_transport("a:b@" + kSha);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Docker references with both a tag and digest are currently not supported");
  }
  try {
    parse_docker_reference_for_transport("//busybox");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), kInvalid);
  }
}

TEST(DockerReference, TagNameOnly) {
  DockerReference r{"docker.io", "library/x", std::nullopt, std::nullopt};
  EXPECT_EQ(tag_name_only(r).tag, std::optional<std::string>("latest"));
  r.tag = "t";
  EXPECT_EQ(tag_name_only(r).tag, std::optional<std::string>("t"));
  r.tag.reset();
  r.digest = kSha;
  EXPECT_FALSE(tag_name_only(r).tag.has_value());
}

TEST(DockerReference, PolicyScopes) {
  struct P {
    std::string input;
    std::vector<std::string> namespaces;
  };
  // From c/image's naming_test.go expectations.
  std::vector<P> cases = {
      {"example.com/ns/repo", {"example.com/ns/repo", "example.com/ns", "example.com", "*.com"}},
      {"example.com/repo", {"example.com/repo", "example.com", "*.com"}},
      {"localhost/ns/repo", {"localhost/ns/repo", "localhost/ns", "localhost"}},
      {"localhost/repo", {"localhost/repo", "localhost"}},
      {"notlocalhost/repo", {"docker.io/notlocalhost/repo", "docker.io/notlocalhost", "docker.io", "*.io"}},
      {"docker.io/repo", {"docker.io/library/repo", "docker.io/library", "docker.io", "*.io"}},
      {"repo", {"docker.io/library/repo", "docker.io/library", "docker.io", "*.io"}},
      {"yet.another.example.com:8443/ns/repo",
       {"yet.another.example.com:8443/ns/repo", "yet.another.example.com:8443/ns", "yet.another.example.com:8443",
        "*.another.example.com", "*.example.com", "*.com"}},
      {"localhost:5000/a/b/c", {"localhost:5000/a/b/c", "localhost:5000/a/b", "localhost:5000/a", "localhost:5000"}},
      {"foo_bar.com/x", {"foo_bar.com/x", "foo_bar.com", "*.com"}},
  };
  for (const auto& c : cases) {
    for (const std::string& suffix : {std::string(":tag"), "@" + kSha}) {
      DockerReference r = parse_normalized_named(c.input + suffix);
      EXPECT_EQ(policy_identity(r), c.namespaces[0] + suffix) << c.input;
      EXPECT_EQ(policy_namespaces(r), c.namespaces) << c.input;
    }
  }
  try {
    policy_identity(parse_normalized_named("busybox"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Internal inconsistency: Docker reference busybox with neither a tag nor a digest");
  }
  try {
    policy_identity(parse_normalized_named("busybox:x@" + kSha));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "Unexpected Docker reference busybox:x@" + kSha + " with both a name and a digest");
  }
}

}  // namespace
}  // namespace ferry
