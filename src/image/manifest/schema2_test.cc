#include "image/manifest/schema2.h"

#include <gtest/gtest.h>

#include "image/manifest/media_types.h"
#include "image/manifest/test_fixtures.h"

namespace ferry::manifest {
namespace {

using test_data::fixture;
using test_data::desc;

TEST(Schema2Manifest, ParsesAndKeepsOriginalBytes) {
  std::string bytes = fixture("v2s2.manifest.json");
  auto m = Schema2Manifest::parse(bytes);
  EXPECT_EQ(m->mime_type(), media_type::kDockerV2Schema2);
  EXPECT_FALSE(m->modified());
  EXPECT_EQ(m->serialize(), bytes);
  Descriptor config = m->config_info();
  EXPECT_EQ(config.media_type, media_type::kDockerV2Schema2Config);
  EXPECT_EQ(config.size, 1283);
  std::vector<LayerInfo> layers = m->layer_infos();
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].desc.media_type, media_type::kDockerLayerGzip);
  EXPECT_EQ(layers[0].desc.size, 103);
  EXPECT_EQ(layers[1].desc.media_type, media_type::kDockerForeignLayerGzip);
  EXPECT_EQ(layers[1].desc.urls, std::vector<std::string>{"https://example.com/<layer>&x"});
  EXPECT_FALSE(layers[2].empty_layer);
}

TEST(Schema2Manifest, UpdateLayerInfosAsSkopeo) {
  // `skopeo copy --dest-decompress dir: dir:` of the same image: the new
  // layers come without URLs, the media types turn uncompressed.
  auto m = Schema2Manifest::parse(fixture("v2s2.manifest.json"));
  std::vector<Descriptor> layers(3);
  layers[0] = desc(media_type::kDockerLayerTar,
               "sha256:58278a428e690d71b28e65b5fe387bcde1fb6306ef1c27706f009decaf11670c", 10240);
  layers[1] = desc(media_type::kDockerForeignLayer,
               "sha256:6ddc3b762e2d4f9a0caf80aebed0ae53891a1b4d6b08a0870cf35359fc71e84b", 10240);
  layers[2] = desc("", "sha256:e39ed249a07903ea0886ae0b8a9a2c897c5fb29b97e144a047b121e85496dfe0", 10240);
  auto copy = m->clone();
  copy->update_layer_infos(layers);
  EXPECT_TRUE(copy->modified());
  EXPECT_EQ(copy->serialize(), fixture("v2s2_decompressed.manifest.json"));
  // The original object is untouched.
  EXPECT_EQ(m->serialize(), fixture("v2s2.manifest.json"));
}

TEST(Schema2Manifest, UpdateLayerInfosValidates) {
  auto m = Schema2Manifest::parse(fixture("v2s2.manifest.json"));
  try {
    m->update_layer_infos({});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Error preparing updated manifest: layer count changed from 3 to 0");
  }
  std::vector<Descriptor> bad(3, desc("", "sha256:nothex", 1));
  EXPECT_THROW(m->update_layer_infos(bad), Error);
  EXPECT_FALSE(m->modified());
}

TEST(Schema2Manifest, FromComponents) {
  Descriptor config = desc(media_type::kDockerV2Schema2Config, "sha256:" + std::string(64, '1'), 5);
  config.urls = {"u"};
  Descriptor layer = desc(media_type::kDockerLayerGzip, "sha256:" + std::string(64, '2'), 7);
  layer.annotations = {{"dropped", "yes"}};
  auto m = Schema2Manifest::from_components(config, {layer});
  EXPECT_EQ(m->serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
            R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":5,"digest":"sha256:)" +
                std::string(64, '1') + R"(","urls":["u"]},"layers":[{"mediaType":)"
                R"("application/vnd.docker.image.rootfs.diff.tar.gzip","size":7,"digest":"sha256:)" +
                std::string(64, '2') + R"("}]})");
}

TEST(Schema2Manifest, GoStructSemantics) {
  // Unknown fields and formatting go; a null layer list stays null.
  std::string d = "sha256:" + std::string(64, 'c');
  auto m = Schema2Manifest::parse(R"({"SCHEMAVERSION":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
                                  R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                                  d + R"(","size":1,"annotations":{"a":"b"}},"layers":null,"extra":true})");
  m->update_layer_infos({});
  EXPECT_EQ(m->serialize(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
            R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":")" +
                d + R"("},"layers":[]})");
}

}  // namespace
}  // namespace ferry::manifest
