#include "config/policy_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

using namespace std::string_literals;

// The error parse_policy raises, without the `invalid policy in "p.json": `
// prefix, or "OK".
std::string parse_error(std::string_view json) {
  try {
    parse_policy(json, "p.json");
    return "OK";
  } catch (const Error& e) {
    std::string msg = e.what();
    const std::string prefix = "invalid policy in \"p.json\": ";
    if (msg.compare(0, prefix.size(), prefix) != 0) return "UNPREFIXED: " + msg;
    return msg.substr(prefix.size());
  }
}

// A one-requirement default policy around `requirement`.
std::string req(const std::string& requirement) {
  return R"({"default":[)" + requirement + "]}";
}

std::string signed_by_with_identity(const std::string& identity) {
  return req(R"({"type":"signedBy","keyType":"GPGKeys","keyPath":"/k","signedIdentity":)" +
             identity + "}");
}

std::string with_scope(const std::string& transport, const std::string& scope) {
  return R"({"default":[{"type":"reject"}],"transports":{")" + transport + R"(":{")" + scope +
         R"(":[{"type":"reject"}]}}})";
}

struct Case {
  std::string json;
  std::string want;
};

void expect_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(parse_error(c.json), c.want) << c.json;
}

TEST(PolicyFile, ParsesEveryRequirementType) {
  Policy p = parse_policy(R"({
    "default": [{"type": "reject"}],
    "transports": {
      "docker": {
        "": [{"type": "insecureAcceptAnything"}],
        "quay.io/a": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}],
        "quay.io/b": [{"type": "signedBy", "keyType": "signedByGPGKeys", "keyPaths": ["/1", "/2"],
                       "signedIdentity": {"type": "matchExact"}}],
        "quay.io/c": [{"type": "signedBy", "keyType": "X509Certificates", "keyData": "QUJD"}],
        "quay.io/d": [{"type": "sigstoreSigned", "keyData": [1, 2, 255],
                       "rekorPublicKeyPath": "/r", "signedIdentity": {"type": "matchRepository"}}],
        "quay.io/e": [{"type": "sigstoreSigned",
                       "fulcio": {"caData": "QUI=", "oidcIssuer": "https://i", "subjectEmail": "a@b"},
                       "rekorPublicKeyDatas": ["QQ==", "Qg=="]}],
        "quay.io/f": [{"type": "sigstoreSigned",
                       "pki": {"caRootsPath": "/roots", "caIntermediatesData": "QQ==",
                               "subjectHostname": "h.example"}}],
        "quay.io/g": [{"type": "signedBaseLayer",
                       "baseLayerIdentity": {"type": "exactRepository", "dockerRepository": "busybox"}}]
      },
      "dir": {"/srv/images": [{"type": "reject"}, {"type": "insecureAcceptAnything"}]}
    }
  })",
                          "p.json");
  ASSERT_EQ(p.default_requirements.size(), 1u);
  EXPECT_EQ(p.default_requirements[0].type_name(), "reject");
  ASSERT_EQ(p.transports.size(), 2u);
  const PolicyTransportScopes& docker = p.transports.at("docker");
  ASSERT_EQ(docker.size(), 8u);
  EXPECT_EQ(docker.at("")[0].type_name(), "insecureAcceptAnything");

  const auto& a = std::get<SignedByRequirement>(docker.at("quay.io/a")[0].spec);
  EXPECT_EQ(a.key_type, "GPGKeys");
  EXPECT_EQ(a.key_path, "/k.gpg");
  EXPECT_FALSE(a.key_paths.has_value());
  EXPECT_FALSE(a.key_data.has_value());
  EXPECT_EQ(a.signed_identity.type, SignedIdentity::Type::kMatchRepoDigestOrExact);

  const auto& b = std::get<SignedByRequirement>(docker.at("quay.io/b")[0].spec);
  EXPECT_EQ(b.key_type, "signedByGPGKeys");
  EXPECT_EQ(b.key_paths, (std::vector<std::string>{"/1", "/2"}));
  EXPECT_EQ(b.signed_identity.type, SignedIdentity::Type::kMatchExact);

  const auto& c = std::get<SignedByRequirement>(docker.at("quay.io/c")[0].spec);
  EXPECT_EQ(c.key_data, std::optional<std::string>("ABC"));

  const auto& d = std::get<SigstoreSignedRequirement>(docker.at("quay.io/d")[0].spec);
  EXPECT_EQ(d.key_data, std::optional<std::string>(std::string("\x01\x02\xff", 3)));
  EXPECT_EQ(d.rekor_public_key_path, "/r");
  EXPECT_EQ(d.signed_identity.type, SignedIdentity::Type::kMatchRepository);

  const auto& e = std::get<SigstoreSignedRequirement>(docker.at("quay.io/e")[0].spec);
  ASSERT_TRUE(e.fulcio.has_value());
  EXPECT_EQ(e.fulcio->ca_data, std::optional<std::string>("AB"));
  EXPECT_EQ(e.fulcio->oidc_issuer, "https://i");
  EXPECT_EQ(e.fulcio->subject_email, "a@b");
  EXPECT_EQ(e.rekor_public_key_datas, (std::vector<std::string>{"A", "B"}));

  const auto& f = std::get<SigstoreSignedRequirement>(docker.at("quay.io/f")[0].spec);
  ASSERT_TRUE(f.pki.has_value());
  EXPECT_EQ(f.pki->ca_roots_path, "/roots");
  EXPECT_EQ(f.pki->ca_intermediates_data, std::optional<std::string>("A"));
  EXPECT_EQ(f.pki->subject_hostname, "h.example");

  const auto& g = std::get<SignedBaseLayerRequirement>(docker.at("quay.io/g")[0].spec);
  EXPECT_EQ(g.base_layer_identity.type, SignedIdentity::Type::kExactRepository);
  EXPECT_EQ(g.base_layer_identity.docker_repository, "busybox");

  const PolicyRequirements& dir = p.transports.at("dir").at("/srv/images");
  ASSERT_EQ(dir.size(), 2u);
  EXPECT_EQ(dir[0].type_name(), "reject");
  EXPECT_EQ(dir[1].type_name(), "insecureAcceptAnything");
}

TEST(PolicyFile, ParsesEveryIdentityType) {
  auto identity_of = [](const std::string& identity) {
    Policy p = parse_policy(signed_by_with_identity(identity), "p.json");
    return std::get<SignedByRequirement>(p.default_requirements[0].spec).signed_identity;
  };
  using T = SignedIdentity::Type;
  EXPECT_EQ(identity_of(R"({"type":"matchExact"})").type, T::kMatchExact);
  EXPECT_EQ(identity_of(R"({"type":"matchRepoDigestOrExact"})").type, T::kMatchRepoDigestOrExact);
  EXPECT_EQ(identity_of(R"({"type":"matchRepository"})").type, T::kMatchRepository);

  SignedIdentity ref = identity_of(R"({"type":"exactReference","dockerReference":"busybox:1"})");
  EXPECT_EQ(ref.type, T::kExactReference);
  EXPECT_EQ(ref.docker_reference, "busybox:1");

  SignedIdentity repo =
      identity_of(R"({"type":"exactRepository","dockerRepository":"quay.io/a/b"})");
  EXPECT_EQ(repo.type, T::kExactRepository);
  EXPECT_EQ(repo.docker_repository, "quay.io/a/b");

  SignedIdentity remap = identity_of(
      R"({"type":"remapIdentity","prefix":"mirror.local:5000/ns","signedPrefix":"docker.io"})");
  EXPECT_EQ(remap.type, T::kRemapIdentity);
  EXPECT_EQ(remap.prefix, "mirror.local:5000/ns");
  EXPECT_EQ(remap.signed_prefix, "docker.io");
}

TEST(PolicyFile, IdentityTypeNamesRoundTrip) {
  using T = SignedIdentity::Type;
  EXPECT_EQ(signed_identity_type_name(T::kMatchExact), "matchExact");
  EXPECT_EQ(signed_identity_type_name(T::kMatchRepoDigestOrExact), "matchRepoDigestOrExact");
  EXPECT_EQ(signed_identity_type_name(T::kMatchRepository), "matchRepository");
  EXPECT_EQ(signed_identity_type_name(T::kExactReference), "exactReference");
  EXPECT_EQ(signed_identity_type_name(T::kExactRepository), "exactRepository");
  EXPECT_EQ(signed_identity_type_name(T::kRemapIdentity), "remapIdentity");
}

TEST(PolicyFile, FullMessageNamesTheFile) {
  try {
    parse_policy(R"({"default":[{"type":"reject"}],"foo":1})", "/etc/containers/policy.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), R"(invalid policy in "/etc/containers/policy.json": Unknown key "foo")");
  }
  // The file name is quoted the way Go's %q does.
  try {
    parse_policy("{}", "we\tird\"name\xff.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), R"(invalid policy in "we\tird\"name\xff.json": Default policy is missing)");
  }
}

// Texts checked against skopeo 1.9.3 (c/image 5.23) unless marked newer.
TEST(PolicyFile, TopLevelErrors) {
  expect_cases({
      {R"({"default":[{"type":"insecureAcceptAnything"}],"foo":1})", R"(Unknown key "foo")"},
      {R"({"default":[{"type":"insecureAcceptAnything"}],"default":[]})",
       R"(Duplicate key "default")"},
      {R"({"default":[]})", "List of verification policy requirements must not be empty"},
      {R"({"default":null})", "List of verification policy requirements must not be empty"},
      {"{}", "Default policy is missing"},
      {R"({"transports":{"docker":{"":[{"type":"reject"}]}}})", "Default policy is missing"},
      {R"({"default":{}})", "json: cannot unmarshal object into Go value of type []json.RawMessage"},
      {R"({"default":"x"})", "json: cannot unmarshal string into Go value of type []json.RawMessage"},
      {R"({"default":true})", "json: cannot unmarshal bool into Go value of type []json.RawMessage"},
      {"[]", R"(JSON object expected, got "[")"},
      {R"("x")", R"(JSON object expected, got "x")"},
      {"1", "JSON object expected, got 1"},
      {"null", "JSON object expected, got null"},
      {R"({"default":[{"type":"reject"}],"transports":null})", "JSON object expected, got null"},
      {R"({"default":[{"type":"reject"}],"transports":[]})", R"(JSON object expected, got "[")"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":[]}})",
       R"(JSON object expected, got "[")"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{},"docker":{}}})",
       R"(Duplicate key "docker")"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{"a":[{"type":"reject"}],"a":[]}}})",
       R"(Duplicate key "a")"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{"":[]}}})",
       "List of verification policy requirements must not be empty"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{"":null}}})",
       "List of verification policy requirements must not be empty"},
      // Errors come in document order: the first bad member wins.
      {R"({"foo":1,"default":[]})", R"(Unknown key "foo")"},
      {R"({"default":[],"foo":1})", "List of verification policy requirements must not be empty"},
      // Transports ferry does not know are accepted, as c/image does.
      {R"({"default":[{"type":"reject"}],"transports":{"nosuch":{"a*b":[{"type":"reject"}]}}})",
       "OK"},
  });
}

TEST(PolicyFile, RequirementTypeErrors) {
  expect_cases({
      {req(R"({"type":"x"})"), R"(Unknown policy requirement type "x")"},
      {req("{}"), R"(Unknown policy requirement type "")"},
      {req(R"({"type":null})"), R"(Unknown policy requirement type "")"},
      {req("null"), R"(Unknown policy requirement type "")"},
      {req("1"), "json: cannot unmarshal number into Go value of type signature.prCommon"},
      {req(R"("reject")"), "json: cannot unmarshal string into Go value of type signature.prCommon"},
      {req("[]"), "json: cannot unmarshal array into Go value of type signature.prCommon"},
      {req(R"({"type":1})"),
       "json: cannot unmarshal number into Go struct field prCommon.type of type "
       "signature.prTypeIdentifier"},
      {req(R"({"type":["reject"]})"),
       "json: cannot unmarshal array into Go struct field prCommon.type of type "
       "signature.prTypeIdentifier"},
      {req(R"({"type":"reject","x":1})"), R"(Unknown key "x")"},
      {req(R"({"type":"insecureAcceptAnything","keyPath":"/k"})"), R"(Unknown key "keyPath")"},
      {req(R"({"type":"reject","type":"reject"})"), R"(Duplicate key "type")"},
      // Go matches the loose "type" lookup case-insensitively, last one wins;
      // the strict pass then rejects the odd spelling.
      {req(R"({"TYPE":"reject"})"), R"(Unknown key "TYPE")"},
      {req(R"({"type":"reject","Type":"x"})"), R"(Unknown policy requirement type "x")"},
      {req(R"({"Type":"x","type":"reject"})"), R"(Unknown key "Type")"},
  });
}

TEST(PolicyFile, SignedByErrors) {
  const std::string gpg = R"("type":"signedBy","keyType":"GPGKeys",)";
  expect_cases({
      {req(R"({"type":"signedBy"})"),
       "Exactly one of keyPath, keyPaths and keyData must be specified, none of them present"},
      {req(R"({"type":"signedBy","keyPath":"/k"})"), R"(invalid keyType "")"},
      {req(R"({"type":"signedBy","keyType":"x","keyPath":"/k"})"),
       R"(Unrecognized keyType value "x")"},
      {req(R"({"type":"signedBy","keyType":null,"keyPath":"/k"})"),
       R"(Unrecognized keyType value "")"},
      {req(R"({"type":"signedBy","keyType":1,"keyPath":"/k"})"),
       "json: cannot unmarshal number into Go value of type string"},
      {req("{" + gpg + R"("keyPath":1})"),
       "json: cannot unmarshal number into Go value of type string"},
      {req("{" + gpg + R"("keyPath":""})"),
       "exactly one of keyPath, keyPaths and keyData must be specified"},
      {req("{" + gpg + R"("keyPath":null})"),
       "exactly one of keyPath, keyPaths and keyData must be specified"},
      {req("{" + gpg + R"("keyPaths":null})"),
       "exactly one of keyPath, keyPaths and keyData must be specified"},
      {req("{" + gpg + R"("keyData":null})"),
       "exactly one of keyPath, keyPaths and keyData must be specified"},
      {req("{" + gpg + R"("keyPath":"/k","keyData":""})"),
       "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present"},
      {req("{" + gpg + R"("keyPath":"/k","keyPaths":["/k"]})"),
       "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present"},
      {req("{" + gpg + R"("keyPaths":{}})"),
       "json: cannot unmarshal object into Go value of type []string"},
      {req("{" + gpg + R"("keyPaths":[1]})"),
       "json: cannot unmarshal number into Go value of type string"},
      {req("{" + gpg + R"("keyData":1})"),
       "json: cannot unmarshal number into Go value of type []uint8"},
      {req("{" + gpg + R"("keyData":[1,300]})"),
       "json: cannot unmarshal number 300 into Go value of type uint8"},
      {req("{" + gpg + R"("keyData":[1,-1]})"),
       "json: cannot unmarshal number -1 into Go value of type uint8"},
      {req("{" + gpg + R"("keyData":[1,1.5]})"),
       "json: cannot unmarshal number 1.5 into Go value of type uint8"},
      {req("{" + gpg + R"("keyData":[1,"a"]})"),
       "json: cannot unmarshal string into Go value of type uint8"},
      {req("{" + gpg + R"("keyPath":"/k","extra":1})"), R"(Unknown key "extra")"},
      {req("{" + gpg + R"("keyPath":"/k","keyPath":"/j"})"), R"(Duplicate key "keyPath")"},
      // Present-but-empty sources still count, as in Go.
      {req("{" + gpg + R"("keyPaths":[]})"), "OK"},
      {req("{" + gpg + R"("keyData":""})"), "OK"},
      {req("{" + gpg + R"("keyData":[1,2]})"), "OK"},
      {req("{" + gpg + R"("keyPaths":["/a",null]})"), "OK"},
      {req(R"({"type":"signedBy","keyType":"signedByX509CAs","keyPath":"/k"})"), "OK"},
  });
}

TEST(PolicyFile, Base64MatchesGo) {
  const std::string head = R"({"type":"signedBy","keyType":"GPGKeys","keyData":")";
  auto data_error = [&](const std::string& b64) { return parse_error(req(head + b64 + "\"}")); };
  EXPECT_EQ(data_error("!!"), "illegal base64 data at input byte 0");
  EXPECT_EQ(data_error("QQ"), "illegal base64 data at input byte 0");
  EXPECT_EQ(data_error("QQ="), "illegal base64 data at input byte 3");
  EXPECT_EQ(data_error("QQ==QQ=="), "illegal base64 data at input byte 4");
  EXPECT_EQ(data_error("QUJDREVGR0g=x"), "illegal base64 data at input byte 12");
  EXPECT_EQ(data_error("QUJDREVGR0=="), "OK");  // non-strict: stray low bits ignored
  EXPECT_EQ(data_error("Q==="), "illegal base64 data at input byte 1");
  EXPECT_EQ(data_error("QUJDREVGR$g"), "illegal base64 data at input byte 9");
  EXPECT_EQ(data_error("QUJDREVGRw="), "illegal base64 data at input byte 11");
  EXPECT_EQ(data_error("QQ=="), "OK");
  EXPECT_EQ(data_error("QUJD\\nREVG"), "OK");
  EXPECT_EQ(data_error("QUJDREVGR0g\\r\\n="), "OK");

  Policy p = parse_policy(req(head + "QUJD\\r\\nREVGRw==\"}"), "p.json");
  EXPECT_EQ(std::get<SignedByRequirement>(p.default_requirements[0].spec).key_data,
            std::optional<std::string>("ABCDEFG"));
}

TEST(PolicyFile, SignedIdentityErrors) {
  expect_cases({
      {signed_by_with_identity("null"), R"(Unknown policy reference match type "")"},
      {signed_by_with_identity("{}"), R"(Unknown policy reference match type "")"},
      {signed_by_with_identity(R"({"type":"x"})"), R"(Unknown policy reference match type "x")"},
      {signed_by_with_identity("1"),
       "json: cannot unmarshal number into Go value of type signature.prmCommon"},
      {signed_by_with_identity(R"({"type":true})"),
       "json: cannot unmarshal bool into Go struct field prmCommon.type of type "
       "signature.prmTypeIdentifier"},
      {signed_by_with_identity(R"({"type":"matchExact","x":1})"), R"(Unknown key "x")"},
      {signed_by_with_identity(R"({"type":"matchRepository","type":"matchRepository"})"),
       R"(Duplicate key "type")"},
      {signed_by_with_identity(R"({"type":"exactReference"})"),
       R"(Key "dockerReference" missing in a JSON object)"},
      {signed_by_with_identity(R"({"type":"exactRepository"})"),
       R"(Key "dockerRepository" missing in a JSON object)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"a"})"),
       R"(Key "signedPrefix" missing in a JSON object)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","signedPrefix":"a"})"),
       R"(Key "prefix" missing in a JSON object)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":1})"),
       "json: cannot unmarshal number into Go value of type string"},
      // c/image >= 5.24 quotes the values (%q); 1.9.3 printed them bare.
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"busybox"})"),
       R"(dockerReference "busybox" contains neither a tag nor digest)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":""})"),
       R"(Invalid format of dockerReference "": invalid reference format)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":null})"),
       R"(Invalid format of dockerReference "": invalid reference format)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"Busybox:latest"})"),
       R"(Invalid format of dockerReference "Busybox:latest": invalid reference format: )"
       "repository name must be lowercase"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"foo.com/Bar:x"})"),
       R"(Invalid format of dockerReference "foo.com/Bar:x": invalid reference format: )"
       "repository name must be lowercase"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"busybox:lat@st"})"),
       R"(Invalid format of dockerReference "busybox:lat@st": invalid reference format)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"a___b:t"})"),
       R"(Invalid format of dockerReference "a___b:t": invalid reference format)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"a:-t"})"),
       R"(Invalid format of dockerReference "a:-t": invalid reference format)"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"[::1]:5000/x:y"})"),
       R"(Invalid format of dockerReference "[::1]:5000/x:y": invalid reference format)"},
      {signed_by_with_identity(
           R"({"type":"exactReference","dockerReference":"busybox@sha256:0123456789012345678901234567890123456789012345678901234567890123a"})"),
       R"(Invalid format of dockerReference "busybox@sha256:0123456789012345678901234567890123456789012345678901234567890123a": )"
       "invalid checksum digest length"},
      {signed_by_with_identity(
           R"({"type":"exactReference","dockerReference":"busybox@sha256:0123456789012345678901234567890123456789012345678901234567890ABC"})"),
       R"(Invalid format of dockerReference "busybox@sha256:0123456789012345678901234567890123456789012345678901234567890ABC": )"
       "invalid checksum digest format"},
      {signed_by_with_identity(
           R"({"type":"exactReference","dockerReference":"busybox@md5:0123456789012345678901234567890123456789012345678901234567890123"})"),
       R"(Invalid format of dockerReference "busybox@md5:0123456789012345678901234567890123456789012345678901234567890123": )"
       "unsupported digest algorithm"},
      {signed_by_with_identity(
           R"({"type":"exactReference","dockerReference":"busybox@sha256:abc"})"),
       R"(Invalid format of dockerReference "busybox@sha256:abc": invalid reference format)"},
      {signed_by_with_identity(
           R"({"type":"exactReference","dockerReference":"0123456789012345678901234567890123456789012345678901234567890abc"})"),
       R"(Invalid format of dockerReference "0123456789012345678901234567890123456789012345678901234567890abc": )"
       "invalid repository name (0123456789012345678901234567890123456789012345678901234567890abc), "
       "cannot specify 64-byte hexadecimal strings"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"a/)" +
                               std::string(260, 'b') + R"(:t"})"),
       R"(Invalid format of dockerReference "a/)" + std::string(260, 'b') +
           R"(:t": repository name must not be more than 255 characters)"},
      {signed_by_with_identity(R"({"type":"exactRepository","dockerRepository":"a//b"})"),
       R"(Invalid format of dockerRepository "a//b": invalid reference format)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"a//b","signedPrefix":"x"})"),
       R"(prefix "a//b" is not valid)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"a","signedPrefix":"a/B"})"),
       R"(prefix "a/B" is not valid)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"a:b","signedPrefix":"x"})"),
       R"(prefix "a:b" is not valid)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"a.com:","signedPrefix":"x"})"),
       R"(prefix "a.com:" is not valid)"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"","signedPrefix":"x"})"),
       R"(prefix "" is not valid)"},
      // Accepted forms.
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"localhost:5000/x:y"})"),
       "OK"},
      {signed_by_with_identity(R"({"type":"exactReference","dockerReference":"a__b/c-d.e:t"})"),
       "OK"},
      {signed_by_with_identity(
           R"({"type":"exactReference","dockerReference":"a/b/c:t@sha256:0123456789012345678901234567890123456789012345678901234567890123"})"),
       "OK"},
      {signed_by_with_identity(R"({"type":"exactRepository","dockerRepository":"busybox:x"})"),
       "OK"},
      {signed_by_with_identity(R"({"type":"remapIdentity","prefix":"a","signedPrefix":"x.com/y"})"),
       "OK"},
      {signed_by_with_identity(
           R"({"type":"remapIdentity","prefix":"a/b","signedPrefix":"x.com:5000/y/z"})"),
       "OK"},
  });
}

TEST(PolicyFile, SignedBaseLayerErrors) {
  expect_cases({
      {req(R"({"type":"signedBaseLayer"})"), R"(Key "baseLayerIdentity" missing in a JSON object)"},
      {req(R"({"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchExact"},"x":1})"),
       R"(Unknown key "x")"},
      {req(R"({"type":"signedBaseLayer","baseLayerIdentity":null})"),
       R"(Unknown policy reference match type "")"},
      {req(R"({"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchExact"}})"), "OK"},
  });
}

// sigstoreSigned follows the newest c/image (keyPaths, keyDatas, pki);
// skopeo 1.9.3 knew only keyPath/keyData/fulcio.
TEST(PolicyFile, SigstoreSignedErrors) {
  const std::string t = R"("type":"sigstoreSigned",)";
  const std::string fulcio_ok = R"("fulcio":{"caPath":"/ca","oidcIssuer":"i","subjectEmail":"e"})";
  const std::string pki_ok = R"("pki":{"caRootsPath":"/r","subjectEmail":"e"})";
  const std::string exactly_one =
      "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, and pki must be specified";
  expect_cases({
      {req("{" + t + R"("keyPath":"/k"})"), "OK"},
      {req("{" + t + R"("keyPaths":["/a","/b"]})"), "OK"},
      {req("{" + t + R"("keyDatas":["QQ==",[1,2],null]})"), "OK"},
      {req("{" + t + fulcio_ok + R"(,"rekorPublicKeyPaths":["/r"]})"), "OK"},
      {req("{" + t + pki_ok + "}"), "OK"},
      {req("{" + t + R"("keyPath":"/k","signedIdentity":{"type":"matchRepository"}})"), "OK"},
      {req(R"({"type":"sigstoreSigned"})"), exactly_one},
      {req("{" + t + R"("keyPath":""})"), exactly_one},
      {req("{" + t + R"("keyPath":"/k","keyData":""})"), exactly_one},
      {req("{" + t + R"("keyPath":"/k",)" + pki_ok + "}"), exactly_one},
      {req("{" + t + R"("keyPaths":[]})"), R"("keyPaths" contains no entries)"},
      {req("{" + t + R"("keyPaths":null})"), R"("keyPaths" contains no entries)"},
      {req("{" + t + R"("keyDatas":[]})"), R"("keyDatas" contains no entries)"},
      {req("{" + t + R"("keyPath":"/k","rekorPublicKeyPaths":[]})"),
       R"("rekorPublickeyPaths" contains no entries)"},
      {req("{" + t + R"("keyPath":"/k","rekorPublicKeyDatas":[]})"),
       R"("rekorPublickeyDatas" contains no entries)"},
      {req("{" + t + R"("keyDatas":{}})"),
       "json: cannot unmarshal object into Go value of type [][]uint8"},
      {req("{" + t + R"("keyDatas":[1]})"),
       "json: cannot unmarshal number into Go value of type []uint8"},
      {req("{" + t + R"("keyPath":"/k","rekorPublicKeyPath":"/r","rekorPublicKeyData":""})"),
       "at most one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and "
       "rekorPublicKeyDatas can be used simultaneously"},
      {req("{" + t + fulcio_ok + "}"),
       "At least one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and "
       "rekorPublicKeyDatas must be specified if fulcio is used"},
      {req("{" + t + pki_ok + R"(,"rekorPublicKeyPath":"/r"})"),
       "rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas "
       "are not supported for pki"},
      {req("{" + t + R"("fulcio":null})"), "JSON object expected, got null"},
      {req("{" + t + R"("fulcio":{}})"), "At least one of caPath and caData must be specified"},
      {req("{" + t + R"("fulcio":{"caPath":"/a","caData":""}})"),
       "caPath and caData cannot be used simultaneously"},
      {req("{" + t + R"("fulcio":{"caPath":"/a"}})"), "oidcIssuer not specified"},
      {req("{" + t + R"("fulcio":{"caPath":"/a","oidcIssuer":"i"}})"),
       "at least one of subjectEmail or buildSignerURI must be specified"},
      {req("{" + t + R"("fulcio":{"caPath":"/a","oidcIssuer":"i","buildSignerURI":"u"},)" +
           R"("rekorPublicKeyPath":"/r"})"),
       "OK"},
      {req("{" + t + R"("fulcio":{"caPath":"/a","x":1}})"), R"(Unknown key "x")"},
      {req("{" + t + R"("pki":{}})"),
       "At least one of caRootsPath and caRootsData must be specified"},
      {req("{" + t + R"("pki":{"caRootsPath":"/r","caRootsData":""}})"),
       "caRootsPath and caRootsData cannot be used simultaneously"},
      {req("{" + t + R"("pki":{"caRootsPath":"/r","caIntermediatesPath":"/i","caIntermediatesData":""}})"),
       "caIntermediatesPath and caIntermediatesData cannot be used simultaneously"},
      {req("{" + t + R"("pki":{"caRootsPath":"/r"}})"),
       "At least one of subjectEmail, subjectHostname must be specified"},
      {req("{" + t + R"("pki":[]})"), R"(JSON object expected, got "[")"},
      {req("{" + t + R"("keyPath":"/k","bogus":1})"), R"(Unknown key "bogus")"},
      // The identity is parsed before key sources are counted.
      {req("{" + t + R"("signedIdentity":{"type":"nope"}})"),
       R"(Unknown policy reference match type "nope")"},
  });
}

TEST(PolicyFile, ScopesAreValidatedPerTransport) {
  expect_cases({
      // docker: what c/image's identity and namespaces can produce.
      {with_scope("docker", "docker.io"), "OK"},
      {with_scope("docker", "localhost:5000"), "OK"},
      {with_scope("docker", "docker.io/library"), "OK"},
      {with_scope("docker", "docker.io/library/busybox"), "OK"},
      {with_scope("docker", "docker.io/library/busybox:latest"), "OK"},
      {with_scope("docker", "quay.io/a/b@sha256:0123456789012345678901234567890123456789012345678901234567890123"),
       "OK"},
      {with_scope("docker", "*.io"), "OK"},
      {with_scope("docker", "*.example.com"), "OK"},
      {with_scope("docker", "example*.com"),
       R"(Unknown key "example*.com" (invalid scope for transport "docker": expected )"
       "HOST[:PORT], HOST[:PORT]/NAMESPACE, HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST or "
       "*.DOMAIN)"},
      {with_scope("docker", "*"), R"(Unknown key "*" (invalid scope for transport "docker": expected )"
                                  "HOST[:PORT], HOST[:PORT]/NAMESPACE, HOST[:PORT]/REPO:TAG, "
                                  "HOST[:PORT]/REPO@DIGEST or *.DOMAIN)"},
      {with_scope("docker", "*.example.com:5000"),
       R"(Unknown key "*.example.com:5000" (invalid scope for transport "docker": expected )"
       "HOST[:PORT], HOST[:PORT]/NAMESPACE, HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST or "
       "*.DOMAIN)"},
      {with_scope("docker", "quay.io/UPPER"),
       R"(Unknown key "quay.io/UPPER" (invalid scope for transport "docker": expected )"
       "HOST[:PORT], HOST[:PORT]/NAMESPACE, HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST or "
       "*.DOMAIN)"},
      {with_scope("docker", "quay.io/a:t@sha256:0123456789012345678901234567890123456789012345678901234567890123"),
       R"(Unknown key "quay.io/a:t@sha256:0123456789012345678901234567890123456789012345678901234567890123" )"
       R"((invalid scope for transport "docker": expected HOST[:PORT], HOST[:PORT]/NAMESPACE, )"
       "HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST or *.DOMAIN)"},
      {with_scope("docker", "quay.io//a"),
       R"(Unknown key "quay.io//a" (invalid scope for transport "docker": expected HOST[:PORT], )"
       "HOST[:PORT]/NAMESPACE, HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST or *.DOMAIN)"},
      // docker-daemon: named references like docker, never an image ID.
      {with_scope("docker-daemon", "docker.io/library/busybox:latest"), "OK"},
      {with_scope("docker-daemon",
                  "sha256:0123456789012345678901234567890123456789012345678901234567890123"),
       R"(Unknown key "sha256:0123456789012345678901234567890123456789012345678901234567890123" )"
       R"((invalid scope for transport "docker-daemon": an image ID (algorithm:digest) cannot be a scope))"},
      // Path transports: absolute, clean, not "/".
      {with_scope("dir", "/srv/images"), "OK"},
      {with_scope("oci", "/srv/oci:tag"), "OK"},
      {with_scope("dir", "rel"),
       R"(Unknown key "rel" (invalid scope for transport "dir": must be an absolute path))"},
      {with_scope("dir", "/"),
       R"(Unknown key "/" (invalid scope for transport "dir": "/" is not allowed, use the default scope ""))"},
      {with_scope("oci", "/a/../b"),
       R"(Unknown key "/a/../b" (invalid scope for transport "oci": not in canonical form, perhaps try "/b"))"},
      {with_scope("oci-archive", "/a/b/"),
       R"(Unknown key "/a/b/" (invalid scope for transport "oci-archive": not in canonical form, perhaps try "/a/b"))"},
      {with_scope("dir", "/a//./b"),
       R"(Unknown key "/a//./b" (invalid scope for transport "dir": not in canonical form, perhaps try "/a/b"))"},
      {with_scope("sif", "x"),
       R"(Unknown key "x" (invalid scope for transport "sif": must be an absolute path))"},
      // Only "" for the archive-like transports.
      {with_scope("docker-archive", ""), "OK"},
      {with_scope("docker-archive", "x"),
       R"(Unknown key "x" (invalid scope for transport "docker-archive": only the default scope "" is supported))"},
      {with_scope("tarball", "/x"),
       R"(Unknown key "/x" (invalid scope for transport "tarball": only the default scope "" is supported))"},
  });
}

TEST(PolicyFile, SyntaxErrors) {
  expect_cases({
      {"", "unexpected end of JSON input"},
      {"  ", "unexpected end of JSON input"},
      {R"({"default":[{"type":"reject"}])", "unexpected end of JSON input"},
      {R"({"default":[{"type":"reject"}]} x)", "invalid character 'x' at line 1, column 33"},
      {R"({"default":[{"type":"reject"}],})", "invalid character '}' at line 1, column 32"},
      {R"({"default" [{"type":"reject"}]})", "invalid character '[' at line 1, column 12"},
      {"{\"default\":[{\"type\":\"reject\"}],\n\n  \"x\": tru}",
       "invalid character '}' at line 3, column 11"},
      {R"({"default":[{"type":"reject"}]} /*c*/)", "invalid character '/' at line 1, column 33"},
      {"{\"default\":[{\"type\":\"x\x01\"}]}", "invalid character '\\x01' at line 1, column 23"},
      // A byte-order mark is not JSON (nlohmann alone would skip it).
      {"\xEF\xBB\xBF{\"default\":[{\"type\":\"reject\"}]}",
       "invalid character '\xC3\xAF' looking for beginning of value"},
      // NUL ends input for nlohmann; here it is an error wherever it is.
      {"{\"default\":[{\"type\":\"reject\"}]}\0garbage"s,
       "invalid character '\\x00' at line 1, column 32"},
      {"{\"default\":[{\"type\":\"re\0ject\"}]}"s,
       "invalid character '\\x00' at line 1, column 24"},
      {R"({"default":[{"type":"reject"}],"a":1e400})", "number out of range at line 1, column 40"},
      {R"({"default":[{"type":"reject"}],"a":"\ud800"})",
       "invalid \\u escape (unpaired surrogate) at line 1, column 43"},
  });
}

TEST(PolicyFile, NonUtf8IsReadAsGoDoes) {
  // encoding/json turns each invalid byte into U+FFFD, then c/image rejects
  // the unknown value; the message shows the replacement, as skopeo's does.
  EXPECT_EQ(parse_error(req("{\"type\":\"reject\xff\"}")),
            "Unknown policy requirement type \"reject\xEF\xBF\xBD\"");
  EXPECT_EQ(parse_error("{\"default\":[{\"type\":\"reject\"}],\"k\xc3\xa9\xe2\x80\xa8\xff\xc0\x80\":{}}"),
            "Unknown key \"k\xc3\xa9\\u2028\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(parse_error(R"({"default":[{"type":"reject"}],"k\u0001\u00a0\ud83d\ude00\u2029":{}})"),
            "Unknown key \"k\\x01\\u00a0\xF0\x9F\x98\x80\\u2029\"");
  // Invalid UTF-8 in a value that is otherwise fine loads, like skopeo.
  Policy p = parse_policy(req("{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/k\xfe\"}"),
                          "p.json");
  EXPECT_EQ(std::get<SignedByRequirement>(p.default_requirements[0].spec).key_path,
            "/k\xEF\xBF\xBD");
}

TEST(PolicyFile, HostileInputIsBounded) {
  EXPECT_EQ(parse_error(std::string(100000, '[')), "JSON nesting is deeper than 64 levels");
  std::string deep = R"({"default":[)";
  for (int i = 0; i < 70; ++i) deep += R"({"a":)";
  deep += "1" + std::string(70, '}') + "]}";
  EXPECT_EQ(parse_error(deep), "JSON nesting is deeper than 64 levels");

  std::string many = R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":[)";
  for (int i = 0; i < 300000; ++i) many += "1,";
  many += "1]}]}";
  EXPECT_EQ(parse_error(many), "JSON document has more than 200000 values");

  std::string huge(kMaxPolicyFileSize + 1, ' ');
  EXPECT_EQ(parse_error(huge), "policy is larger than 4194304 bytes");

  // Just under the limit is parsed (and found empty).
  std::string big(kMaxPolicyFileSize, ' ');
  EXPECT_EQ(parse_error(big), "unexpected end of JSON input");

  // Many distinct scopes are fine; a duplicate among them is found.
  std::string scopes = R"({"default":[{"type":"reject"}],"transports":{"x":{)";
  for (int i = 0; i < 5000; ++i) scopes += "\"s" + std::to_string(i) + R"(":[{"type":"reject"}],)";
  scopes += R"("s42":[{"type":"reject"}]}}})";
  EXPECT_EQ(parse_error(scopes), R"(Duplicate key "s42")");
}

TEST(PolicyFile, InsecurePolicy) {
  Policy p = insecure_accept_anything_policy();
  ASSERT_EQ(p.default_requirements.size(), 1u);
  EXPECT_EQ(p.default_requirements[0].type_name(), "insecureAcceptAnything");
  EXPECT_TRUE(p.transports.empty());
}

// Files and the default lookup.
class PolicyFileOnDisk : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& contents) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::string load_error(const std::optional<std::string>& path) {
    return error_of([&] { load_policy(path, false); });
  }

  TempDir tmp_{"/tmp", "ferry_policy_test"};
  std::string dir_ = tmp_.path();
  ScopedEnv env_;
};

TEST_F(PolicyFileOnDisk, LoadsAFile) {
  std::string path = write("p.json", R"({"default":[{"type":"reject"}]})");
  Policy p = load_policy(path, false);
  EXPECT_EQ(p.default_requirements[0].type_name(), "reject");
  EXPECT_EQ(read_policy_file(path).default_requirements[0].type_name(), "reject");
}

TEST_F(PolicyFileOnDisk, ErrorsAsSkopeo193PrintsThem) {
  EXPECT_EQ(load_error(dir_ + "/missing.json"),
            "Error loading trust policy: open " + dir_ + "/missing.json: no such file or directory");
  EXPECT_EQ(load_error(dir_),
            "Error loading trust policy: read " + dir_ + ": is a directory");
  std::string bad = write("bad.json", R"({"default":[{"type":"reject"}],"foo":1})");
  EXPECT_EQ(load_error(bad),
            "Error loading trust policy: invalid policy in \"" + bad + "\": Unknown key \"foo\"");
  std::string big = write("big.json", std::string(kMaxPolicyFileSize + 10, ' '));
  EXPECT_EQ(load_error(big), "Error loading trust policy: invalid policy in \"" + big +
                                 "\": policy is larger than 4194304 bytes");
  // The default system path, missing: the 1.9.3 wording (newer skopeo says
  // "no policy.json file found at any of the following: ...").
  try {
    read_policy_file(dir_ + "/etc/containers/policy.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "open " + dir_ + "/etc/containers/policy.json: no such file or directory");
  }
  if (geteuid() != 0) {
    std::string locked = write("locked.json", "{}");
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    EXPECT_EQ(load_error(locked),
              "Error loading trust policy: open " + locked + ": permission denied");
  }
}

TEST_F(PolicyFileOnDisk, InsecurePolicyReadsNoFile) {
  Policy p = load_policy(std::string(dir_ + "/missing.json"), true);
  EXPECT_EQ(p.default_requirements[0].type_name(), "insecureAcceptAnything");
}

TEST_F(PolicyFileOnDisk, DefaultPathPrefersTheUserFile) {
  env_.set("HOME", dir_);
  EXPECT_EQ(default_policy_path(), "/etc/containers/policy.json");

  ASSERT_EQ(mkdir((dir_ + "/.config").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir_ + "/.config/containers").c_str(), 0700), 0);
  std::string user = write(".config/containers/policy.json", R"({"default":[{"type":"reject"}]})");
  EXPECT_EQ(default_policy_path(), user);

  // An absent or empty --policy means the default path.
  EXPECT_EQ(load_policy(std::nullopt, false).default_requirements[0].type_name(), "reject");
  EXPECT_EQ(load_policy(std::string(), false).default_requirements[0].type_name(), "reject");

  // Joined and cleaned like Go's filepath.Join.
  env_.set("HOME", dir_ + "/");
  EXPECT_EQ(default_policy_path(), user);
}

}  // namespace
}  // namespace ferry
