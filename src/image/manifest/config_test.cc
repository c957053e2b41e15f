#include "image/manifest/config.h"

#include <gtest/gtest.h>

#include "image/manifest/media_types.h"
#include "image/manifest/test_fixtures.h"
#include "util/gojson.h"

namespace ferry::manifest {
namespace {

using test_data::fixture;

using gojson::Json;

TEST(DockerConfigToOci, MatchesSkopeo) {
  EXPECT_EQ(docker_config_to_oci(fixture("v2s2.config.json")), fixture("v2s2_to_oci.config.json"));
  // Converting an OCI config again changes nothing.
  EXPECT_EQ(docker_config_to_oci(fixture("v2s2_to_oci.config.json")), fixture("v2s2_to_oci.config.json"));
}

TEST(DockerConfigToOci, MinimalAndHostile) {
  EXPECT_EQ(docker_config_to_oci("{}"), R"({"architecture":"","os":"","config":{},"rootfs":{"type":"","diff_ids":null}})");
  EXPECT_EQ(docker_config_to_oci(R"({"OS":"linux","os":null,"history":[{}],"config":{"ExposedPorts":{}}})"),
            R"({"architecture":"","os":"linux","config":{},"rootfs":{"type":"","diff_ids":null},"history":[{}]})");
}

TEST(DockerConfigToOci, Errors) {
  auto err = [](std::string_view in) {
    try {
      docker_config_to_oci(in);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // OCI's Cmd is []string, unlike Docker's StrSlice.
  EXPECT_EQ(err(R"({"config":{"Cmd":"sh"}})"),
            "json: cannot unmarshal string into Go struct field ImageConfig.config.Cmd of type []string");
  EXPECT_EQ(err(R"({"created":"2023-02-30T00:00:00Z"})"), "parsing time \"\\\"2023-02-30T00:00:00Z\\\"\": day out of range");
  EXPECT_EQ(err(R"({"rootfs":{"diff_ids":[1]}})"),
            "json: cannot unmarshal number into Go struct field RootFS.rootfs.diff_ids of type digest.Digest");
  EXPECT_EQ(err("{\"os\":\"linux\""), "unexpected end of JSON input");
  EXPECT_EQ(err(std::string(50000, '[')), "invalid character '[' exceeded max depth");
}

TEST(InspectConfig, MatchesSkopeo) {
  EXPECT_EQ(oci_config_json_for_inspect(fixture("v2s2.config.json")) + "\n", fixture("v2s2.inspect_config.json"));
  EXPECT_EQ(oci_config_json_for_inspect(fixture("oci.config.json")) + "\n", fixture("oci.inspect_config.json"));
  auto s1 = parse_image_manifest(fixture("schema1.manifest.json"), "");
  EXPECT_EQ(inspect_config_json(*s1, "") + "\n", fixture("schema1.inspect_config.json"));
}

void expect_inspect_matches(const InspectData& d, const std::string& skopeo_json) {
  Json want = Json::parse(skopeo_json);
  if (want["Created"].is_null()) {
    EXPECT_FALSE(d.created);
  } else {
    ASSERT_TRUE(d.created);
    EXPECT_EQ(*d.created, want["Created"]);
  }
  EXPECT_EQ(d.docker_version, want["DockerVersion"]);
  EXPECT_EQ(d.architecture, want["Architecture"]);
  EXPECT_EQ(d.os, want["Os"]);
  if (want["Labels"].is_null()) {
    EXPECT_FALSE(d.labels);
  } else {
    ASSERT_TRUE(d.labels);
    EXPECT_EQ(Json(*d.labels), want["Labels"]);
  }
  if (want["Env"].is_null()) {
    EXPECT_FALSE(d.env);
  } else {
    ASSERT_TRUE(d.env);
    EXPECT_EQ(Json(*d.env), want["Env"]);
  }
  EXPECT_EQ(d.tag, want.value("Tag", ""));
}

TEST(InspectData, MatchesSkopeo) {
  auto v2 = parse_image_manifest(fixture("v2s2.manifest.json"), "");
  expect_inspect_matches(inspect_data(*v2, fixture("v2s2.config.json")), fixture("v2s2.inspect.json"));
  auto oci = parse_image_manifest(fixture("oci.manifest.json"), "");
  expect_inspect_matches(inspect_data(*oci, fixture("oci.config.json")), fixture("oci.inspect.json"));
  auto s1 = parse_image_manifest(fixture("schema1.manifest.json"), "");
  expect_inspect_matches(inspect_data(*s1, ""), fixture("schema1.inspect.json"));
}

TEST(InspectData, FormatQuirks) {
  // Docker configs decode into a non-pointer time: absent means year 1.
  auto v2 = parse_image_manifest(fixture("v2s2.manifest.json"), "");
  InspectData d = inspect_data(*v2, R"({"architecture":"arm","config":{"Labels":null,"Env":[]}})");
  EXPECT_EQ(d.created, "0001-01-01T00:00:00Z");
  EXPECT_FALSE(d.labels);
  ASSERT_TRUE(d.env);
  EXPECT_TRUE(d.env->empty());
  InspectData none = inspect_data(*v2, "{}");
  EXPECT_FALSE(none.env);
  // Every Docker field is type-checked, as c/image unmarshals them all.
  EXPECT_THROW(inspect_data(*v2, R"({"config":{"Healthcheck":{"Retries":"3"}}})"), Error);
  EXPECT_THROW(inspect_data(*v2, R"({"container_config":{"Cmd":{}}})"), Error);
  // OCI images read created from the OCI struct (null when absent) and the
  // Docker version from the Docker one.
  auto oci = parse_image_manifest(fixture("oci.manifest.json"), "");
  InspectData o = inspect_data(*oci, R"({"docker_version":"1.2","created":"2020-01-01T00:00:00+00:00"})");
  EXPECT_EQ(o.docker_version, "1.2");
  EXPECT_EQ(o.created, "2020-01-01T00:00:00Z");
  std::string d1 = "sha256:" + std::string(64, '1');
  auto artifact = parse_image_manifest(R"({"schemaVersion":2,"config":{"mediaType":"application/x-art","digest":")" +
                                           d1 + R"(","size":1},"layers":[]})",
                                       media_type::kOciManifest);
  try {
    inspect_data(*artifact, "{}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unsupported image-specific operation on artifact with type \"application/x-art\"");
  }
}

TEST(DockerVersionLess, AsDocker) {
  EXPECT_TRUE(docker_version_less("1.8.2", "1.8.3"));
  EXPECT_TRUE(docker_version_less("1.6", "1.8.3"));
  EXPECT_FALSE(docker_version_less("1.8.3", "1.8.3"));
  EXPECT_FALSE(docker_version_less("1.10.0", "1.8.3"));
  EXPECT_FALSE(docker_version_less("18.09.7", "1.8.3"));
  EXPECT_TRUE(docker_version_less("1.8.3-dev", "1.8.3"));  // "3-dev" is not a number: 0
  EXPECT_TRUE(docker_version_less("", "1.8.3"));
}

}  // namespace
}  // namespace ferry::manifest
