#include "image/reference_grammar.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/error.h"

namespace ferry {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kSha = "sha256:" + kHex;

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SplitTransport, Table) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(split_transport("docker://busybox"), P("docker", "//busybox"));
  EXPECT_EQ(split_transport("oci:/a:b:c"), P("oci", "/a:b:c"));
  EXPECT_EQ(split_transport(":"), P("", ""));
  EXPECT_EQ(split_transport(":::"), P("", "::"));
  EXPECT_EQ(split_transport("dir:"), P("dir", ""));
  EXPECT_EQ(split_transport(std::string("a\0:b", 4)), P(std::string("a\0", 2), "b"));
  EXPECT_EQ(error_of([] { split_transport("busybox"); }),
            "Invalid image name \"busybox\", expected colon-separated transport:reference");
  EXPECT_EQ(error_of([] { split_transport(""); }),
            "Invalid image name \"\", expected colon-separated transport:reference");
  std::string huge(1 << 20, 'x');
  EXPECT_EQ(split_transport(huge + ":" + huge), P(huge, huge));
}

struct OciCase {
  std::string within;
  bool allow_index;
  OciRefParts want;
  std::string error;
};

TEST(OciReference, Table) {
  std::vector<OciCase> cases = {
      {"/p", true, {"/p", "", -1}, ""},
      {"", true, {"", "", -1}, ""},
      {"/p:", true, {"/p", "", -1}, ""},
      {"rel/dir:latest", true, {"rel/dir", "latest", -1}, ""},
      {"/p:a/b", true, {"/p", "a/b", -1}, ""},
      // Separators: one of -._:@+ or a double dash.
      {"/p:v1.0-rc_1+b@x:y", true, {"/p", "v1.0-rc_1+b@x:y", -1}, ""},
      {"/p:a--b", true, {"/p", "a--b", -1}, ""},
      {"/p:Upper/CASE9", true, {"/p", "Upper/CASE9", -1}, ""},
      {"/p:quay.io/a/b:tag", true, {"/p", "quay.io/a/b:tag", -1}, ""},
      {"/p:a---b", true, {}, "Invalid image a---b"},
      {"/p:a__b", true, {}, "Invalid image a__b"},
      {"/p:a..b", true, {}, "Invalid image a..b"},
      {"/p:a::b", true, {}, "Invalid image a::b"},
      {"/p:a@@b", true, {}, "Invalid image a@@b"},
      {"/p:-a", true, {}, "Invalid image -a"},
      {"/p:a-", true, {}, "Invalid image a-"},
      {"/p:a/", true, {}, "Invalid image a/"},
      {"/p:/a", true, {}, "Invalid image /a"},
      {"/p:a//b", true, {}, "Invalid image a//b"},
      {"/p:a b", true, {}, "Invalid image a b"},
      {"/p::", true, {}, "Invalid image :"},
      {"/p:::", true, {}, "Invalid image ::"},
      {"/p:a\xc3\xa9", true, {}, "Invalid image a\xc3\xa9"},
      // what() stops at a NUL; the message itself carries the raw bytes.
      {std::string("/p:a\0b", 6), true, {}, "Invalid image a"},
      // Source index, oci only.
      {"/p:@0", true, {"/p", "", 0}, ""},
      {"/p:@42", true, {"/p", "", 42}, ""},
      {"/p:@+7", true, {"/p", "", 7}, ""},
      {"/p:@007", true, {"/p", "", 7}, ""},
      {"/p:@-0", true, {"/p", "", 0}, ""},
      {"/p:@2147483647", true, {"/p", "", 2147483647}, ""},
      {"/p:@-1", true, {}, "Invalid source index @-1: must not be negative"},
      {"/p:@-0005", true, {}, "Invalid source index @-5: must not be negative"},
      {"/p:@-9223372036854775808", true, {},
       "Invalid source index @-9223372036854775808: must not be negative"},
      {"/p:@", true, {}, "Invalid source index @: not an integer: strconv.Atoi: parsing \"\": invalid syntax"},
      {"/p:@x", true, {}, "Invalid source index @x: not an integer: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"/p:@-", true, {}, "Invalid source index @-: not an integer: strconv.Atoi: parsing \"-\": invalid syntax"},
      {"/p:@1x", true, {}, "Invalid source index @1x: not an integer: strconv.Atoi: parsing \"1x\": invalid syntax"},
      {"/p:@ 1", true, {}, "Invalid source index @ 1: not an integer: strconv.Atoi: parsing \" 1\": invalid syntax"},
      {"/p:@0:busybox", true, {},
       "Invalid source index @0:busybox: not an integer: strconv.Atoi: parsing \"0:busybox\": invalid syntax"},
      {"/p:@@1", true, {}, "Invalid source index @@1: not an integer: strconv.Atoi: parsing \"@1\": invalid syntax"},
      {std::string("/p:@\0", 5), true, {},
       "Invalid source index @"},
      {"/p:@\x01\x7f\"\\", true, {},
       "Invalid source index @\x01\x7f\"\\: not an integer: strconv.Atoi: parsing \"\\x01\\x7f\\\"\\\\\": invalid "
       "syntax"},
      {"/p:@\xff", true, {},
       "Invalid source index @\xff: not an integer: strconv.Atoi: parsing \"\\xff\": invalid syntax"},
      {"/p:@2147483648", true, {},
       "Invalid source index @2147483648: not an integer: strconv.Atoi: parsing \"2147483648\": value out of range"},
      {"/p:@99999999999999999999", true, {},
       "Invalid source index @99999999999999999999: not an integer: strconv.Atoi: parsing "
       "\"99999999999999999999\": value out of range"},
      // Overflow is noticed before a later bad character, as in Go.
      {"/p:@99999999999999999999x", true, {},
       "Invalid source index @99999999999999999999x: not an integer: strconv.Atoi: parsing "
       "\"99999999999999999999x\": value out of range"},
      {"/p:@-9223372036854775809", true, {},
       "Invalid source index @-9223372036854775809: not an integer: strconv.Atoi: parsing "
       "\"-9223372036854775809\": value out of range"},
      // oci-archive: "@N" is just an invalid name.
      {"/p:@1", false, {}, "Invalid image @1"},
      {"/p:a@1", false, {"/p", "a@1", -1}, ""},
      {"/p:latest", false, {"/p", "latest", -1}, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.within);
    if (!c.error.empty()) {
      EXPECT_EQ(error_of([&] { parse_oci_reference(c.within, c.allow_index); }), c.error);
    } else {
      EXPECT_EQ(parse_oci_reference(c.within, c.allow_index), c.want);
    }
  }
}

TEST(OciReference, Hostile) {
  std::string long_ref;
  for (int i = 0; i < 100000; i++) long_ref += "a.b/";
  long_ref += "c";
  EXPECT_EQ(parse_oci_reference("/p:" + long_ref, true).ref, long_ref);
  EXPECT_EQ(error_of([&] { parse_oci_reference("/p:" + long_ref + "/", true); }),
            "Invalid image " + long_ref + "/");
  std::string digits(1 << 20, '1');
  EXPECT_NE(error_of([&] { parse_oci_reference("/p:@" + digits, true); }).find("value out of range"),
            std::string::npos);
  EXPECT_EQ(parse_oci_reference(std::string(1 << 20, '/'), true).path, std::string(1 << 20, '/'));
}

struct ArchiveCase {
  std::string within;
  std::string path;
  std::string ref;  // expected to_string(), "" = none
  int index;
  std::string error;
};

TEST(DockerArchiveReference, Table) {
  std::vector<ArchiveCase> cases = {
      {"/path", "/path", "", -1, ""},
      {"/path:busybox:notlatest", "/path", "docker.io/library/busybox:notlatest", -1, ""},
      {"/path:busybox", "/path", "docker.io/library/busybox:latest", -1, ""},
      {"/path:docker.io/library/busybox:latest", "/path", "docker.io/library/busybox:latest", -1, ""},
      {"/path:example.com/ns/foo:bar", "/path", "example.com/ns/foo:bar", -1, ""},
      {"/path:localhost:5000/foo:bar", "/path", "localhost:5000/foo:bar", -1, ""},
      {"rel.tar:x", "rel.tar", "docker.io/library/x:latest", -1, ""},
      // An empty path is the transport's problem (it fails to open "").
      {":busybox", "", "docker.io/library/busybox:latest", -1, ""},
      {"/path:@0", "/path", "", 0, ""},
      {"/path:@999999", "/path", "", 999999, ""},
      {"", "", "", -1, "docker-archive reference  isn't of the form <path>[:<reference>]"},
      {"/path:busybox@" + kSha, "", "", -1, "reference does not include a tag: docker.io/library/busybox@" + kSha},
      {"/path:busybox:latest@" + kSha, "", "", -1,
       "docker-archive doesn't support digest references: docker.io/library/busybox:latest@" + kSha},
      {"/path:UPPERCASEISINVALID", "", "", -1,
       "docker-archive parsing reference: invalid reference format: repository name must be lowercase"},
      {"/path:", "", "", -1, "docker-archive parsing reference: invalid reference format"},
      {"/path:busybox@0", "", "", -1, "docker-archive parsing reference: invalid reference format"},
      {"/path:" + kHex, "", "", -1,
       "docker-archive parsing reference: invalid repository name (" + kHex +
           "), cannot specify 64-byte hexadecimal strings"},
      {"/path:a@md5:" + kHex.substr(0, 32), "", "", -1, "docker-archive parsing reference: unsupported digest algorithm"},
      {"/path:@", "", "", -1, "Invalid source index @: strconv.Atoi: parsing \"\": invalid syntax"},
      {"/path:@x", "", "", -1, "Invalid source index @x: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"/path:@0:busybox", "", "", -1,
       "Invalid source index @0:busybox: strconv.Atoi: parsing \"0:busybox\": invalid syntax"},
      {"/path:@-1", "", "", -1, "Invalid source index @-1: must not be negative"},
      {"/path:@-2", "", "", -1, "Invalid source index @-2: must not be negative"},
      {"/path:@99999999999999999999", "", "", -1,
       "Invalid source index @99999999999999999999: strconv.Atoi: parsing \"99999999999999999999\": value out of "
       "range"},
      {"/path:[::1]:5000/foo:t", "", "", -1, "docker-archive parsing reference: invalid reference format"},
      {"/path:::", "", "", -1, "docker-archive parsing reference: invalid reference format"},
      {"/path:@@", "", "", -1, "Invalid source index @@: strconv.Atoi: parsing \"@\": invalid syntax"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.within);
    if (!c.error.empty()) {
      EXPECT_EQ(error_of([&] { parse_docker_archive_reference(c.within); }), c.error);
      continue;
    }
    DockerArchiveRefParts p = parse_docker_archive_reference(c.within);
    EXPECT_EQ(p.path, c.path);
    EXPECT_EQ(p.ref.has_value(), !c.ref.empty());
    if (p.ref) {
      EXPECT_EQ(p.ref->to_string(), c.ref);
    }
    EXPECT_EQ(p.index, c.index);
    // StringWithinTransport form parses back to the same value.
    std::string again = p.path;
    if (p.ref) again += ":" + p.ref->to_string();
    if (p.index >= 0) again += ":@" + std::to_string(p.index);
    EXPECT_EQ(parse_docker_archive_reference(again), p);
  }
}

TEST(DockerArchiveReference, KeepsDockerParseErrorsExitCode) {
  try {
    parse_docker_archive_reference("/p:Foo");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
  }
}

}  // namespace
}  // namespace ferry
