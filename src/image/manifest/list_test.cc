#include "image/manifest/list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "image/manifest/media_types.h"
#include "image/manifest/test_fixtures.h"
#include "util/error.h"

namespace ferry::manifest {
namespace {

namespace mt = media_type;

std::string fixture(const std::string& name) { return test_data::read("list/" + name); }

Descriptor update(std::string digest, int64_t size, std::string media_type) {
  Descriptor d;
  d.digest = std::move(digest);
  d.size = size;
  d.media_type = std::move(media_type);
  return d;
}

// The updates a copy records after copying every instance unchanged.
std::vector<Descriptor> same_instances(const ManifestList& l) {
  std::vector<Descriptor> out;
  for (const Descriptor& d : l.instances()) out.push_back(update(d.digest, d.size, d.media_type));
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kD1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const std::string kD2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const std::string kD3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

// ------------------------------------------------------------ skopeo 1.9.3 bytes

// skopeo copy --all dir:A oci:B:t (instances converted to OCI manifests).
TEST(ManifestList, DockerListToOciIndexMatchesSkopeo) {
  ManifestList l = ManifestList::parse(fixture("docker_list.json"), mt::kDockerV2List);
  ASSERT_EQ(l.instances().size(), 3u);
  EXPECT_EQ(l.instances()[0].platform->features, std::vector<std::string>{"sse4"});
  l.update_instances({
      update("sha256:474b8a67161bdb11ca76877a291acaa8f36199263341a5a35325a2d0e703f8cd", 401, mt::kOciManifest),
      update("sha256:44b6250829e53c95c8f624bbe9dfac38cd0f46e1cf4f0557e5f1b02b8b5cea81", 401, mt::kOciManifest),
      update("sha256:4f76049e8dc31e6f2e2132cbc944ea79725e455483bea9d7b9f0d36aa3f65ad2", 401, mt::kOciManifest),
  });
  ManifestList oci = l.convert_to(mt::kOciIndex);
  EXPECT_EQ(oci.mime_type(), mt::kOciIndex);
  EXPECT_TRUE(oci.changed());
  EXPECT_EQ(oci.serialize(), fixture("docker_list_to_oci.json"));
}

// skopeo copy --all --format v2s2 oci:B:t dir:C.
TEST(ManifestList, OciIndexToDockerListMatchesSkopeo) {
  ManifestList l = ManifestList::parse(fixture("docker_list_to_oci.json"), mt::kOciIndex);
  l.update_instances({
      update("sha256:ac45b68cf8cc9d86bfcdee648db3f71fabf3889fb83fb7fe12298d6a955c12e6", 423, mt::kDockerV2Schema2),
      update("sha256:617622d71e5cfb1bbd31a9939e5e3878a646465ec6bb1893659c20064f1c0e5d", 423, mt::kDockerV2Schema2),
      update("sha256:8e770347a5b29bc0bb7ace6b03f4af576230043173e857196c7e5c4d8e405c34", 423, mt::kDockerV2Schema2),
  });
  ManifestList docker = l.convert_to(mt::kDockerV2List);
  EXPECT_EQ(docker.mime_type(), mt::kDockerV2List);
  EXPECT_EQ(docker.serialize(), fixture("oci_index_to_docker.json"));
}

// skopeo copy --all --dest-compress dir:S dir:T: the index stays OCI but its
// instances change; data / artifactType / subject / platform features are
// gone, annotations sorted.
TEST(ManifestList, OciIndexRewrittenAfterRecompressionMatchesSkopeo) {
  ManifestList l = ManifestList::parse(fixture("oci_index_extras.json"), mt::kOciIndex);
  ASSERT_EQ(l.instances().size(), 3u);
  EXPECT_FALSE(l.instances()[2].platform.has_value());
  EXPECT_EQ(l.annotations().at("k1"), "v");
  const std::string a = "sha256:e7062656bf5e587349c80800d333830042e5f000aef60f521bbb683fb83a751b";
  const std::string b = "sha256:f9b642cfaf6d1d5d9442ba6a9b2a3d2949725cad38fac99c6db6e2b25fb442da";
  l.update_instances({update(a, 401, mt::kOciManifest), update(b, 401, mt::kOciManifest),
                      update(a, 401, mt::kOciManifest)});
  EXPECT_EQ(l.serialize(), fixture("oci_index_extras_recompressed.json"));
}

// skopeo copy --all --format v2s2 dir:S dir:U: an instance without platform
// gets the runtime's os/architecture.
TEST(ManifestList, OciIndexWithoutPlatformToDockerMatchesSkopeo) {
  ManifestList l = ManifestList::parse(fixture("oci_index_extras.json"), mt::kOciIndex);
  const std::string a = "sha256:3680f90812e8dd540c95267d7c5e0b7e53b916010df334e39f9ac4bf97682867";
  const std::string b = "sha256:245b9e86f97cc82ca279c89f549469abe8ac7bb44a5954eac53d062fa69cd864";
  l.update_instances({update(a, 420, mt::kDockerV2Schema2), update(b, 420, mt::kDockerV2Schema2),
                      update(a, 420, mt::kDockerV2Schema2)});
  std::string expected = fixture("oci_index_extras_to_docker.json");
  const std::string recorded = R"("platform":{"architecture":"amd64","os":"linux"}}]})";
  ASSERT_TRUE(expected.ends_with(recorded));
  expected.replace(expected.size() - recorded.size(), recorded.size(),
                   R"("platform":{"architecture":")" + runtime_platform().arch + R"(","os":")" +
                       runtime_platform().os + R"("}}]})");
  EXPECT_EQ(l.convert_to(mt::kDockerV2List).serialize(), expected);
}

TEST(ManifestList, UnchangedListKeepsOriginalBytes) {
  for (auto [file, mime] : {std::pair{"docker_list.json", mt::kDockerV2List},
                            std::pair{"docker_list_to_oci.json", mt::kOciIndex}}) {
    std::string bytes = fixture(file);
    ManifestList l = ManifestList::parse(bytes, mime);
    l.update_instances(same_instances(l));
    EXPECT_FALSE(l.changed()) << file;
    EXPECT_EQ(l.serialize(), bytes) << file;
    EXPECT_EQ(l.original_bytes(), bytes);
    // Converting to its own type is a clone, still unchanged.
    EXPECT_EQ(l.convert_to(mime).serialize(), bytes) << file;
  }
}

// Which parsed lists skopeo 1.9.3 writes back byte for byte after an
// unchanged `copy --all` (observed with dir: -> dir:).
struct KeptCase {
  const char* name;
  const char* mime;
  std::string json;
  bool kept;
};

std::string oci_with(const std::string& desc_extra, const std::string& top_extra,
                     const std::string& platform_extra = "") {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":498,"digest":")" +
         kD1 + R"(","platform":{"architecture":"amd64","os":"linux")" + platform_extra + "}" + desc_extra + "}]" +
         top_extra + "}";
}

std::string docker_with(const std::string& desc_extra, const std::string& top_extra,
                        const std::string& platform = R"("platform":{"architecture":"amd64","os":"linux"})",
                        const std::string& schema = "2") {
  return R"({"schemaVersion":)" + schema +
         R"(,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":523,"digest":")" +
         kD1 + "\"" + (platform.empty() ? "" : "," + platform) + desc_extra + "}]" + top_extra + "}";
}

TEST(ManifestList, WhichFieldsForceARewrite) {
  const std::vector<KeptCase> cases = {
      {"oci clean", mt::kOciIndex, oci_with("", ""), true},
      {"oci descriptor data", mt::kOciIndex, oci_with(R"(,"data":"e30=")", ""), false},
      {"oci empty data", mt::kOciIndex, oci_with(R"(,"data":"")", ""), true},
      {"oci descriptor artifactType", mt::kOciIndex, oci_with(R"(,"artifactType":"x/y")", ""), false},
      {"oci subject", mt::kOciIndex, oci_with("", R"(,"subject":{"digest":")" + kD2 + R"(","size":1})"), true},
      {"oci index artifactType", mt::kOciIndex, oci_with("", R"(,"artifactType":"x/y")"), true},
      {"oci platform features", mt::kOciIndex, oci_with("", "", R"(,"features":["sse4"])"), true},
      {"oci empty annotations", mt::kOciIndex, oci_with(R"(,"annotations":{})", R"(,"annotations":{})"), true},
      {"oci empty variant", mt::kOciIndex, oci_with("", "", R"(,"variant":"")"), true},
      {"oci empty mediaType", mt::kOciIndex,
       R"({"schemaVersion":2,"mediaType":"","manifests":[]})", false},
      {"oci no mediaType", mt::kOciIndex, R"({"schemaVersion":2,"manifests":[]})", true},
      {"oci null platform", mt::kOciIndex,
       R"({"schemaVersion":2,"manifests":[{"digest":")" + kD1 + R"(","size":1,"platform":null}]})", true},
      {"oci MANIFESTS", mt::kOciIndex,
       R"({"schemaVersion":2,"MANIFESTS":[{"digest":")" + kD1 + R"(","size":1}]})", true},
      {"docker clean", mt::kDockerV2List, docker_with("", ""), true},
      {"docker features", mt::kDockerV2List,
       docker_with("", "", R"("platform":{"architecture":"amd64","os":"linux","features":["x"]})"), true},
      {"docker descriptor annotations", mt::kDockerV2List, docker_with(R"(,"annotations":{"a":"b"})", ""), true},
      {"docker null platform", mt::kDockerV2List, docker_with("", "", R"("platform":null)"), true},
      {"docker no platform", mt::kDockerV2List, docker_with("", "", ""), true},
      {"docker empty urls", mt::kDockerV2List, docker_with(R"(,"urls":[])", ""), true},
      {"docker schemaVersion 3", mt::kDockerV2List, docker_with("", "", R"("platform":{})", "3"), false},
      {"docker unknown field", mt::kDockerV2List, docker_with("", R"(,"foo":1)"), true},
      {"docker Platform", mt::kDockerV2List,
       docker_with("", "", R"("Platform":{"architecture":"amd64","os":"linux"})"), true},
      {"docker duplicate key", mt::kDockerV2List, docker_with("", R"(,"schemaVersion":2)"), true},
  };
  for (const KeptCase& c : cases) {
    ManifestList l = ManifestList::parse(c.json, c.mime);
    // An identity update (c/image refuses an empty media type, and so do we).
    if (std::ranges::none_of(l.instances(), [](const Descriptor& d) { return d.media_type.empty(); }))
      l.update_instances(same_instances(l));
    EXPECT_EQ(!l.changed(), c.kept) << c.name;
    EXPECT_EQ(l.serialize() == c.json, c.kept) << c.name << ": " << l.serialize();
  }
}

TEST(ManifestList, RewriteIsGoMarshalOfTheClone) {
  ManifestList l = ManifestList::parse(docker_with("", "", R"("platform":{"architecture":"arm","os":"linux","variant":"v7","features":["f"]})", "3"),
                                       mt::kDockerV2List);
  EXPECT_EQ(l.serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":523,"digest":")" +
                kD1 + R"(","platform":{"architecture":"arm","os":"linux","variant":"v7","features":["f"]}}]})");
}

// Conversion alone keeps instance media types (the copy engine updates them).
TEST(ManifestList, ConvertWithoutUpdatesKeepsInstanceTypes) {
  ManifestList l = ManifestList::parse(docker_with("", "", R"("platform":{"architecture":"arm","os":"linux","variant":"v7","os.version":"1","os.features":["a"],"features":["f"]})"),
                                       mt::kDockerV2List);
  EXPECT_EQ(l.convert_to(mt::kOciIndex).serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
                kD1 + R"(","size":523,"platform":{"architecture":"arm","os":"linux","os.version":"1","os.features":["a"],"variant":"v7"}}]})");

  ManifestList oci = ManifestList::parse(
      oci_with(R"(,"annotations":{"b":"1","a":"2"},"urls":["u"])", R"(,"annotations":{"x":"y"})"), mt::kOciIndex);
  EXPECT_EQ(oci.convert_to(mt::kDockerV2List).serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":498,"digest":")" +
                kD1 + R"(","urls":["u"],"platform":{"architecture":"amd64","os":"linux"}}]})");
  // And back again: annotations are gone for good.
  EXPECT_EQ(oci.convert_to(mt::kDockerV2List).convert_to(mt::kOciIndex).serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                kD1 + R"(","size":498,"urls":["u"],"platform":{"architecture":"amd64","os":"linux"}}]})");
}

TEST(ManifestList, ConvertToNonListFails) {
  ManifestList docker = ManifestList::parse(docker_with("", ""), mt::kDockerV2List);
  EXPECT_EQ(error_of([&] { docker.convert_to(mt::kOciManifest); }),
            "Can not convert manifest list to MIME type \"application/vnd.oci.image.manifest.v1+json\", which is not "
            "a list type");
  ManifestList oci = ManifestList::parse(oci_with("", ""), mt::kOciIndex);
  EXPECT_EQ(error_of([&] { oci.convert_to("text/plain\n"); }),
            "Can not convert image index to MIME type \"text/plain\\n\", which is not a list type");
}

TEST(ManifestList, ParseRejectsSingleImageTypes) {
  for (const char* mime : {mt::kDockerV2Schema2, mt::kOciManifest, mt::kDockerV2Schema1Signed, "application/json", ""})
    EXPECT_EQ(error_of([&] { ManifestList::parse("{}", mime); }),
              "Treating single images as manifest lists is not implemented")
        << mime;
  EXPECT_TRUE(is_list_mime(mt::kDockerV2List));
  EXPECT_TRUE(is_list_mime(mt::kOciIndex));
  EXPECT_FALSE(is_list_mime(mt::kOciManifest));
  EXPECT_FALSE(is_list_mime(""));
}

// ------------------------------------------------------------ hostile input

TEST(ManifestList, WrongTypesNameTheField) {
  struct Case {
    const char* mime;
    std::string json;
    std::string error;
  };
  const std::vector<Case> cases = {
      {mt::kDockerV2List, R"({"schemaVersion":"2"})",
       "unmarshaling Schema2List: json: cannot unmarshal string into field schemaVersion of type int64"},
      {mt::kDockerV2List, R"({"schemaVersion":2.0})",
       "unmarshaling Schema2List: json: cannot unmarshal number 2.0 into field schemaVersion of type int64"},
      {mt::kDockerV2List, R"({"manifests":{}})",
       "unmarshaling Schema2List: json: cannot unmarshal object into field manifests of type array"},
      {mt::kDockerV2List, R"({"manifests":[{},{"size":"1"}]})",
       "unmarshaling Schema2List: json: cannot unmarshal string into field manifests[1].size of type int64"},
      {mt::kDockerV2List, R"({"manifests":[{"size":9223372036854775808}]})",
       "unmarshaling Schema2List: json: cannot unmarshal number 9223372036854775808 into field manifests[0].size of "
       "type int64"},
      {mt::kDockerV2List, R"({"manifests":[{"platform":{"os":5}}]})",
       "unmarshaling Schema2List: json: cannot unmarshal number 5 into field manifests[0].platform.os of type string"},
      {mt::kDockerV2List, R"({"manifests":[{"platform":{"features":"x"}}]})",
       "unmarshaling Schema2List: json: cannot unmarshal string into field manifests[0].platform.features of type "
       "[]string"},
      {mt::kDockerV2List, R"({"manifests":[{"urls":[1]}]})",
       "unmarshaling Schema2List: json: cannot unmarshal number 1 into field manifests[0].urls[0] of type string"},
      {mt::kDockerV2List, R"({"manifests":[7]})",
       "unmarshaling Schema2List: json: cannot unmarshal number 7 into field manifests[0] of type descriptor object"},
      {mt::kDockerV2List, R"([])",
       "unmarshaling Schema2List: json: cannot unmarshal array into the top level of type object"},
      {mt::kOciIndex, R"("x")",
       "unmarshaling OCI1Index: json: cannot unmarshal string into the top level of type object"},
      {mt::kOciIndex, R"({"annotations":{"a":1}})",
       "unmarshaling OCI1Index: json: cannot unmarshal number 1 into field annotations.a of type string"},
      {mt::kOciIndex, R"({"annotations":[]})",
       "unmarshaling OCI1Index: json: cannot unmarshal array into field annotations of type map[string]string"},
      {mt::kOciIndex, R"({"manifests":[{"platform":true}]})",
       "unmarshaling OCI1Index: json: cannot unmarshal bool into field manifests[0].platform of type platform "
       "object"},
      {mt::kOciIndex, R"({"manifests":[{"data":"e30"}]})",
       "unmarshaling OCI1Index: field manifests[0].data: illegal base64 data"},
      {mt::kOciIndex, R"({"manifests":[{"data":"e=0="}]})",
       "unmarshaling OCI1Index: field manifests[0].data: illegal base64 data"},
      {mt::kOciIndex, R"({"manifests":[{"artifactType":{}}]})",
       "unmarshaling OCI1Index: json: cannot unmarshal object into field manifests[0].artifactType of type string"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of([&] { ManifestList::parse(c.json, c.mime); }), c.error) << c.json;
  // A string in the annotation value position of the wrong map entry.
  EXPECT_EQ(error_of([&] { ManifestList::parse(R"({"annotations":{"a":"1","b":null,"c":[]}})", mt::kOciIndex); }),
            "unmarshaling OCI1Index: json: cannot unmarshal array into field annotations.c of type string");
}

TEST(ManifestList, MalformedJsonIsAnErrorWithPosition) {
  for (const std::string& bad : {std::string(""), std::string("{"), std::string(R"({"manifests":[)"),
                                 std::string(R"({"schemaVersion":2} x)"), std::string("{\"a\":\"\x01\"}"),
                                 std::string(R"({'a':1})"), std::string(R"({"manifests":[{"size":01}]})")}) {
    std::string e = error_of([&] { ManifestList::parse(bad, mt::kDockerV2List); });
    EXPECT_TRUE(e.starts_with("unmarshaling Schema2List: parse error at ")) << bad << " -> " << e;
  }
  EXPECT_EQ(error_of([] { ManifestList::parse(R"({"x":1e999})", mt::kOciIndex); }),
            "unmarshaling OCI1Index: number overflow parsing '1e999'");
  // Go rejects a byte order mark; nlohmann would skip it.
  EXPECT_EQ(error_of([] { ManifestList::parse("\xEF\xBB\xBF{}", mt::kOciIndex); }),
            "unmarshaling OCI1Index: invalid character at byte 0 (byte order mark)");
}

TEST(ManifestList, NestingLimitMatchesGo) {
  auto nested = [](size_t levels) {
    // The top-level object is one level.
    return R"({"x":)" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  EXPECT_NO_THROW(ManifestList::parse(nested(10000), mt::kOciIndex));
  EXPECT_EQ(error_of([&] { ManifestList::parse(nested(10001), mt::kOciIndex); }),
            "unmarshaling OCI1Index: JSON nested deeper than 10000 levels at byte 10004");
  // Brackets inside strings do not count.
  EXPECT_NO_THROW(ManifestList::parse(R"({"x":")" + std::string(20000, '[') + R"(\"["})", mt::kOciIndex));
  // Deep nesting inside a known field is a type error, not a crash.
  EXPECT_EQ(error_of([&] {
              ManifestList::parse(R"({"manifests":[)" + std::string(5000, '[') + std::string(5000, ']') + "]}",
                                  mt::kOciIndex);
            }),
            "unmarshaling OCI1Index: json: cannot unmarshal array into field manifests[0] of type descriptor object");
}

TEST(ManifestList, AmbiguousManifestsAreRejected) {
  EXPECT_EQ(error_of([] { ManifestList::parse(docker_with("", R"(,"layers":[])"), mt::kDockerV2List); }),
            "rejecting ambiguous manifest, unexpected fields []string{\"layers\"} in supposedly "
            "application/vnd.docker.distribution.manifest.list.v2+json");
  EXPECT_EQ(error_of([] {
              ManifestList::parse(R"({"Config":{},"history":null,"FSLayers":0,"manifests":[]})", mt::kOciIndex);
            }),
            "rejecting ambiguous manifest, unexpected fields []string{\"config\", \"fsLayers\"} in supposedly "
            "application/vnd.oci.image.index.v1+json");
  // Type errors come first, as in c/image.
  EXPECT_EQ(error_of([] { ManifestList::parse(R"({"layers":[],"schemaVersion":{}})", mt::kDockerV2List); }),
            "unmarshaling Schema2List: json: cannot unmarshal object into field schemaVersion of type int64");
}

TEST(ManifestList, NullsFollowGo) {
  // null manifests: nil slice, which the clone turns into [].
  ManifestList l = ManifestList::parse(
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":null})",
      mt::kDockerV2List);
  EXPECT_TRUE(l.instances().empty());
  EXPECT_TRUE(l.changed());
  EXPECT_EQ(l.serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})");
  // A null document decodes to the defaults; for an OCI index those are
  // exactly what the clone writes, so skopeo would keep "null".
  EXPECT_EQ(ManifestList::parse("null", mt::kOciIndex).serialize(), "null");
  EXPECT_EQ(ManifestList::parse(" null ", mt::kDockerV2List).serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})");
  // null strings and sizes keep their zero values; null array elements are "".
  ManifestList n = ManifestList::parse(
      R"({"manifests":[null,{"mediaType":null,"size":null,"digest":null,"urls":["a",null],"platform":{"os":null}}]})",
      mt::kDockerV2List);
  ASSERT_EQ(n.instances().size(), 2u);
  EXPECT_EQ(n.instances()[1].urls, (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(n.instances()[1].size, 0);
  EXPECT_TRUE(n.instances()[0].platform.has_value());
}

TEST(ManifestList, DuplicateKeysLastWins) {
  ManifestList l = ManifestList::parse(
      R"({"schemaVersion":2,"annotations":{"a":"1","a":"2"},"manifests":[],"SchemaVersion":5})", mt::kOciIndex);
  EXPECT_EQ(l.annotations(), (std::map<std::string, std::string>{{"a", "2"}}));
  EXPECT_TRUE(l.changed());  // 5 was read, the clone writes 2
  ManifestList d = ManifestList::parse(docker_with("", R"(,"schemaVersion":2)"), mt::kDockerV2List);
  EXPECT_FALSE(d.changed());
}

TEST(ManifestList, InvalidUtf8BecomesReplacementCharacter) {
  ManifestList l = ManifestList::parse("{\"annotations\":{\"k\":\"a\xFF\xC0\x80z\"},\"manifests\":[]}", mt::kOciIndex);
  EXPECT_EQ(l.annotations().at("k"), "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
  // The list as parsed is what skopeo compares against, so nothing changed.
  EXPECT_FALSE(l.changed());
  // Outside strings it is still a syntax error.
  EXPECT_TRUE(error_of([] { ManifestList::parse("{\xFF}", mt::kOciIndex); }).starts_with("unmarshaling OCI1Index: parse error"));
}

TEST(ManifestList, HugeListParsesAndChooses) {
  std::string json = R"({"schemaVersion":2,"manifests":[)";
  const size_t n = 10000;
  for (size_t i = 0; i < n; i++) {
    if (i) json += ",";
    json += R"({"digest":"sha256:)" + std::string(64 - std::to_string(i).size(), '0') + std::to_string(i) +
            R"(","size":1,"platform":{"architecture":")" + (i + 1 == n ? "riscv64" : "s390x") +
            R"(","os":"linux"}})";
  }
  json += "]}";
  ManifestList l = ManifestList::parse(json, mt::kOciIndex);
  EXPECT_EQ(l.instances().size(), n);
  EXPECT_EQ(l.choose_instance({"", "riscv64", ""}),
            "sha256:" + std::string(64 - std::to_string(n - 1).size(), '0') + std::to_string(n - 1));
  EXPECT_FALSE(l.changed());
}

// ------------------------------------------------------------ update_instances

TEST(ManifestList, UpdateInstancesValidatesLikeCImage) {
  ManifestList l = ManifestList::parse(fixture("docker_list.json"), mt::kDockerV2List);
  const std::string before = l.serialize();
  std::vector<Descriptor> u = same_instances(l);

  EXPECT_EQ(error_of([&] { l.update_instances({u[0]}); }),
            "incorrect number of update entries passed to Schema2List.UpdateInstances: expected 3, got 1");
  auto bad = u;
  bad[1].digest = "sha256:abc";
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 2 of 3 passed to Schema2List.UpdateInstances contained an invalid digest: invalid checksum digest "
            "length");
  bad = u;
  bad[2].digest = "sha256:" + std::string(64, 'A');
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 3 of 3 passed to Schema2List.UpdateInstances contained an invalid digest: invalid checksum digest "
            "format");
  bad[2].digest = "md5:abcd";
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 3 of 3 passed to Schema2List.UpdateInstances contained an invalid digest: unsupported digest "
            "algorithm");
  bad[2].digest = "sha256";
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 3 of 3 passed to Schema2List.UpdateInstances contained an invalid digest: invalid checksum digest "
            "format");
  bad[2].digest = "Sha256:abcd";
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 3 of 3 passed to Schema2List.UpdateInstances contained an invalid digest: invalid checksum digest "
            "format");
  bad = u;
  bad[0].size = -1;
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 1 of 3 passed to Schema2List.UpdateInstances had an invalid size (-1)");
  bad = u;
  bad[1].media_type.clear();
  EXPECT_EQ(error_of([&] { l.update_instances(bad); }),
            "update 2 of 3 passed to Schema2List.UpdateInstances had no media type (was "
            "\"application/vnd.docker.distribution.manifest.v2+json\")");
  // Nothing was applied by the failed calls.
  EXPECT_EQ(l.serialize(), before);
  EXPECT_FALSE(l.changed());

  ManifestList oci = ManifestList::parse(oci_with("", ""), mt::kOciIndex);
  EXPECT_EQ(error_of([&] { oci.update_instances({}); }),
            "incorrect number of update entries passed to OCI1Index.UpdateInstances: expected 1, got 0");
  oci.update_instances({update("sha512:" + std::string(128, 'f'), 0, "x/y")});
  EXPECT_EQ(oci.instances()[0].digest, "sha512:" + std::string(128, 'f'));
  EXPECT_EQ(oci.instances()[0].size, 0);
  EXPECT_EQ(oci.instances()[0].media_type, "x/y");
  EXPECT_TRUE(oci.changed());
}

// ------------------------------------------------------------ choose_instance

// Builds a list whose instance i has digest kDigits[i] and the given platform
// ("arch/os/variant", or "-" for none in an OCI index).
ManifestList list_of(const char* mime, const std::vector<std::string>& platforms) {
  std::string json = R"({"schemaVersion":2,"manifests":[)";
  for (size_t i = 0; i < platforms.size(); i++) {
    if (i) json += ",";
    json += R"({"digest":"sha256:)" + std::string(64, char('a' + i)) + R"(","size":1)";
    if (platforms[i] != "-") {
      std::string p = platforms[i];
      size_t s1 = p.find('/'), s2 = p.find('/', s1 + 1);
      std::string variant = s2 == std::string::npos ? "" : p.substr(s2 + 1);
      json += R"(,"platform":{"architecture":")" + p.substr(0, s1) + R"(","os":")" +
              p.substr(s1 + 1, s2 == std::string::npos ? std::string::npos : s2 - s1 - 1) + R"(","variant":")" +
              variant + R"(","os.features":["ignored"]})";
    }
    json += "}";
  }
  json += "]}";
  return ManifestList::parse(json, mime);
}

int chosen(const ManifestList& l, const PlatformChoice& c) {
  std::string d = l.choose_instance(c);
  return d.at(7) - 'a';
}

// The cases observed with skopeo 1.9.3 (`--override-arch/variant inspect`),
// plus the amd64 levels of newer c/image.
TEST(ManifestList, ChooseInstanceFollowsTheLadder) {
  const char* docker = mt::kDockerV2List;
  EXPECT_EQ(chosen(list_of(docker, {"arm64/linux/v8", "arm64/linux"}), {"", "arm64", ""}), 1);
  EXPECT_EQ(chosen(list_of(docker, {"arm64/linux/v8", "arm64/linux"}), {"", "arm64", "v8"}), 0);
  EXPECT_EQ(chosen(list_of(docker, {"arm/linux/v6", "arm/linux/v7"}), {"", "arm", ""}), 1);
  EXPECT_EQ(chosen(list_of(docker, {"arm/linux/v6", "arm/linux/v7", "arm/linux"}), {"", "arm", ""}), 2);
  EXPECT_EQ(chosen(list_of(docker, {"amd64/linux/v2", "amd64/linux/v3"}), {"", "amd64", "v3"}), 1);
  EXPECT_EQ(chosen(list_of(docker, {"amd64/linux/v2", "amd64/linux"}), {"linux", "amd64", ""}), 1);
  EXPECT_EQ(chosen(list_of(docker, {"arm/linux/v5", "arm/linux/v8", "arm/linux/v6"}), {"", "arm", "v7"}), 2);
  EXPECT_EQ(chosen(list_of(docker, {"arm/linux/v5", "arm/linux/v8", "arm/linux/v6"}), {"", "arm", "v8"}), 1);
  EXPECT_EQ(chosen(list_of(docker, {"amd64/windows", "amd64/linux"}), {"windows", "amd64", ""}), 0);
  EXPECT_EQ(chosen(list_of(docker, {"arm/linux/v7", "arm/linux"}), {"", "arm", "v8"}), 0);
  // Unknown variant: that one, then none.
  EXPECT_EQ(chosen(list_of(docker, {"arm/linux", "arm/linux/v9"}), {"", "arm", "v9"}), 1);
  // Newer c/image: amd64 levels walk down, and v1 is the baseline "".
  EXPECT_EQ(chosen(list_of(docker, {"amd64/linux/v2"}), {"", "amd64", "v3"}), 0);
  EXPECT_EQ(chosen(list_of(docker, {"amd64/linux/v1", "amd64/linux"}), {"", "amd64", ""}), 0);
  EXPECT_EQ(chosen(list_of(docker, {"amd64/linux/v3", "amd64/linux/v1"}), {"", "amd64", "v1"}), 1);

  EXPECT_EQ(error_of([&] { list_of(docker, {"amd64/linux/v2"}).choose_instance({"", "amd64", ""}); }),
            "no image found in manifest list for architecture amd64, variant \"\", OS linux");
  EXPECT_EQ(error_of([&] { list_of(docker, {"arm64/linux/v9"}).choose_instance({"", "arm64", ""}); }),
            "no image found in manifest list for architecture arm64, variant \"\", OS linux");
  EXPECT_EQ(error_of([&] { list_of(docker, {"arm/linux/v7"}).choose_instance({"", "arm", "v5"}); }),
            "no image found in manifest list for architecture arm, variant \"v5\", OS linux");
  EXPECT_EQ(error_of([&] { list_of(docker, {"arm64/linux/v8"}).choose_instance({"", "arm64", "v7"}); }),
            "no image found in manifest list for architecture arm64, variant \"v7\", OS linux");
  EXPECT_EQ(error_of([&] { list_of(docker, {}).choose_instance({"linux", "s390x", ""}); }),
            "no image found in manifest list for architecture s390x, variant \"\", OS linux");
}

TEST(ManifestList, OciIndexFallsBackToInstanceWithoutPlatform) {
  const char* oci = mt::kOciIndex;
  EXPECT_EQ(chosen(list_of(oci, {"arm64/linux", "-"}), {"", "amd64", ""}), 1);
  EXPECT_EQ(chosen(list_of(oci, {"-", "amd64/linux"}), {"", "amd64", ""}), 1);
  EXPECT_EQ(chosen(list_of(oci, {"-", "-"}), {"", "amd64", ""}), 0);
  EXPECT_EQ(error_of([&] { list_of(oci, {"arm64/linux/v8"}).choose_instance({"linux", "s390x", "v9"}); }),
            "no image found in image index for architecture s390x, variant \"v9\", OS linux");
  // A Docker list entry without platform never matches.
  EXPECT_EQ(error_of([&] {
              ManifestList::parse(R"({"manifests":[{"digest":")" + kD1 + R"("}]})", mt::kDockerV2List)
                  .choose_instance({"linux", "amd64", ""});
            }),
            "no image found in manifest list for architecture amd64, variant \"\", OS linux");
}

TEST(ManifestList, ChooseInstanceDefaultsToRuntime) {
  const RuntimePlatform& rt = runtime_platform();
  ManifestList l = list_of(mt::kOciIndex, {"s390x/plan9", rt.arch + "/" + rt.os + "/" + rt.variant});
  EXPECT_EQ(chosen(l, {}), 1);
  EXPECT_EQ(error_of([&] { l.choose_instance({"plan9", "", ""}); }),
            "no image found in image index for architecture " + rt.arch + ", variant \"" + rt.variant +
                "\", OS plan9");
}

}  // namespace
}  // namespace ferry::manifest
