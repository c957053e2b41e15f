#include "transports/docker_archive/legacy_ids.h"

#include <gtest/gtest.h>

#include "io/digest.h"
#include "util/error.h"

namespace ferry::docker_archive {
namespace {

// Expected values come from running c/image's writeLegacyMetadataLocked
// logic under Go's encoding/json on the same inputs.

const std::string kA = sha256_digest("a");
const std::string kB = sha256_digest("b");

TEST(LegacyIds, ChainIds) {
  EXPECT_EQ(next_chain_id("", kA), kA);
  EXPECT_EQ(next_chain_id(kA, kB), sha256_digest(kA + " " + kB));
}

TEST(LegacyIds, NoLayersNoEntries) { EXPECT_TRUE(legacy_layers({}, "not even json").empty()); }

TEST(LegacyIds, TopLayerCarriesCompactedConfigAttributes) {
  // Whitespace dropped, numbers kept verbatim, <>& and a raw U+2028
  // escaped, unrelated members ignored, explicit null kept as null.
  const std::string config =
      "{\"os\" : \"linux\",\n \"architecture\":\"amd64\", \"created\": \"x\xe2\x80\xa8y<z>&\",\t"
      "\"config\": {\"n\": [1.0e2, -0, 1E+2, 0.5], \"s\":\"\\u00e9\\\"q\"}, \"docker_version\": null, "
      "\"extra\": 1}";
  std::vector<LegacyLayer> l = legacy_layers({kA, kB, kA}, config);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].id, "aaefd0a4e56e46f08664fcad37a25a7e8d66ef07c774dbf949f7cd93bd9ffc0d");
  EXPECT_EQ(l[0].json, R"({"id":"aaefd0a4e56e46f08664fcad37a25a7e8d66ef07c774dbf949f7cd93bd9ffc0d"})");
  EXPECT_EQ(l[0].diff_id, kA);
  EXPECT_EQ(l[1].id, "ec5b7ff165cfa12574791b04d1198857af683b4efe79c0383fe1a654c3eabdd8");
  EXPECT_EQ(l[1].json,
            R"({"id":"ec5b7ff165cfa12574791b04d1198857af683b4efe79c0383fe1a654c3eabdd8",)"
            R"("parent":"aaefd0a4e56e46f08664fcad37a25a7e8d66ef07c774dbf949f7cd93bd9ffc0d"})");
  EXPECT_EQ(l[2].id, "eb5381c166c7a4ec44a9b9bd3c3ce289ee1bfcf433a7d771eea64fe1840568ea");
  EXPECT_EQ(l[2].json,
            R"({"architecture":"amd64","config":{"n":[1.0e2,-0,1E+2,0.5],"s":"\u00e9\"q"},)"
            R"("container":null,"container_config":null,"created":"x\u2028y\u003cz\u003e\u0026",)"
            R"("docker_version":null,"id":"eb5381c166c7a4ec44a9b9bd3c3ce289ee1bfcf433a7d771eea64fe1840568ea",)"
            R"("os":"linux","parent":"ec5b7ff165cfa12574791b04d1198857af683b4efe79c0383fe1a654c3eabdd8"})");
  EXPECT_EQ(l[2].diff_id, kA);
}

TEST(LegacyIds, NullAndEmptyConfigsGiveNulls) {
  std::vector<LegacyLayer> l = legacy_layers({kA}, "null");
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].id, "0d84d990b4d757515169c03c6e1599f5a3b0a30b61334d7e1ad6651c6ba526a3");
  EXPECT_EQ(l[0].json,
            R"({"architecture":null,"config":null,"container":null,"container_config":null,)"
            R"("created":null,"docker_version":null,)"
            R"("id":"0d84d990b4d757515169c03c6e1599f5a3b0a30b61334d7e1ad6651c6ba526a3","os":null})");
  l = legacy_layers({kB}, "{}");
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].id, "f9dace5d7ea62764468f684695c82646eefb95d354fa40c8b2fbab618b3e7454");
}

TEST(LegacyIds, DuplicateKeysLastWinsAndCaseMatters) {
  std::vector<LegacyLayer> l = legacy_layers({kA, kB}, R"({"os":"a","os":"b","OS":"c"})");
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].id, "df21c5d8aa6aa44a7abb6abdf5a0897292e0b7e51de1e199c0b9adcbaca458b4");
  EXPECT_EQ(l[1].json,
            R"({"architecture":null,"config":null,"container":null,"container_config":null,)"
            R"("created":null,"docker_version":null,)"
            R"("id":"df21c5d8aa6aa44a7abb6abdf5a0897292e0b7e51de1e199c0b9adcbaca458b4","os":"b",)"
            R"("parent":"aaefd0a4e56e46f08664fcad37a25a7e8d66ef07c774dbf949f7cd93bd9ffc0d"})");
}

std::string error_of(const std::vector<std::string>& layers, const std::string& config) {
  try {
    legacy_layers(layers, config);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LegacyIds, BadConfigs) {
  EXPECT_EQ(error_of({kA}, "[1]"),
            "unmarshaling config: json: cannot unmarshal array into Go value of type "
            "map[string]*json.RawMessage");
  EXPECT_NE(error_of({kA}, "{\"os\":"), "");
  EXPECT_NE(error_of({kA}, ""), "");
  EXPECT_NE(error_of({kA}, std::string(20000, '[') + std::string(20000, ']')), "");
}

TEST(LegacyIds, RepositoriesSortedAndMerged) {
  EXPECT_EQ(repositories_json({}, "abc"), "{}");
  EXPECT_EQ(repositories_json({{"docker.io/x", "1"}}, ""), "{}");
  EXPECT_EQ(repositories_json({{"docker.io/z", "2"}, {"docker.io/a", "9"}, {"docker.io/z", "1"},
                               {"docker.io/z", "2"}},
                              "id"),
            R"({"docker.io/a":{"9":"id"},"docker.io/z":{"1":"id","2":"id"}})");
}

}  // namespace
}  // namespace ferry::docker_archive
