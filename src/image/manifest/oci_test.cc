#include "image/manifest/oci.h"

#include <gtest/gtest.h>

#include "image/manifest/media_types.h"
#include "image/manifest/test_fixtures.h"

namespace ferry::manifest {
namespace {

using test_data::fixture;
using test_data::desc;

TEST(OciManifest, Accessors) {
  std::string bytes = fixture("oci.manifest.json");
  auto m = OciManifest::parse(bytes);
  EXPECT_EQ(m->serialize(), bytes);
  Descriptor config = m->config_info();
  EXPECT_EQ(config.media_type, media_type::kOciConfig);
  EXPECT_EQ(config.size, 250);
  EXPECT_EQ(config.annotations, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_FALSE(config.platform);  // BlobInfo has no platform
  std::vector<LayerInfo> layers = m->layer_infos();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].desc.annotations, (std::map<std::string, std::string>{{"a", "<1>"}, {"b", "2"}}));
  EXPECT_EQ(layers[0].desc.urls, std::vector<std::string>{"https://example.com/x"});
  EXPECT_EQ(layers[1].desc.media_type, media_type::kOciLayerNondistributableTar);
  EXPECT_EQ(m->annotations(), (std::map<std::string, std::string>{{"a", "&"}, {"z", "1"}}));
  ASSERT_TRUE(m->subject());
  EXPECT_EQ(m->subject()->size, 7);
  // The Go value keeps what Descriptor does not model.
  EXPECT_TRUE(m->value()["config"]["data"].is_binary());
}

TEST(OciManifest, UpdateLayerInfosAsSkopeo) {
  // `skopeo copy --dest-compress dir: dir:`: the uncompressed layer was
  // compressed; everything else in the manifest (config data, platform,
  // artifactType, subject, annotations) survives, the top-level
  // artifactType and unknown fields do not.
  auto m = OciManifest::parse(fixture("oci.manifest.json"));
  std::vector<Descriptor> layers(2);
  layers[0] = m->layer_infos()[0].desc;
  layers[0].urls.clear();
  layers[1] = desc(updated_layer_media_type(media_type::kOciManifest, media_type::kOciLayerNondistributableTar,
                                            CompressionOp::kCompress, "gzip"),
                   "sha256:f4606eec535af89a7b6bb99e92bf99037a9fb757300348ad1060115c4f3bd49b", 115);
  m->update_layer_infos(layers);
  EXPECT_EQ(m->serialize(), fixture("oci_compressed.manifest.json"));
}

TEST(OciManifest, FromComponentsOmitsEmptyFields) {
  Descriptor config = desc(media_type::kOciConfig, "sha256:" + std::string(64, '1'), 5);
  Descriptor layer = desc(media_type::kOciLayerGzip, "sha256:" + std::string(64, '2'), 7);
  layer.platform = Platform{"arm", "linux", "", {}, "v7", {"dropped"}};
  auto m = OciManifest::from_components(config, {layer});
  EXPECT_EQ(m->serialize(), R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                            R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
                                std::string(64, '1') +
                                R"(","size":5},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",)"
                                R"("digest":"sha256:)" +
                                std::string(64, '2') +
                                R"(","size":7,"platform":{"architecture":"arm","os":"linux","variant":"v7"}}]})");
}

TEST(OciManifest, NoMediaTypeStaysOmitted) {
  std::string d = "sha256:" + std::string(64, 'e');
  auto m = OciManifest::parse(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
                              R"("digest":")" + d + R"(","size":2},"layers":[{"mediaType":)"
                              R"("application/vnd.oci.image.layer.v1.tar","digest":")" + d + R"(","size":3}],)"
                              R"("annotations":{}})");
  m->update_layer_infos({desc("", d, 4)});
  EXPECT_EQ(m->serialize(), R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
                            R"("digest":")" + d + R"(","size":2},"layers":[{"mediaType":)"
                            R"("application/vnd.oci.image.layer.v1.tar","digest":")" + d + R"(","size":4}]})");
}

TEST(OciManifest, BadData) {
  std::string d = "sha256:" + std::string(64, 'e');
  EXPECT_THROW(OciManifest::parse(R"({"schemaVersion":2,"config":{"digest":")" + d + R"(","data":"e30"},"layers":[]})"),
               Error);
  EXPECT_THROW(OciManifest::parse(R"({"schemaVersion":2,"config":{"digest":")" + d + R"("},"subject":[]})"), Error);
}

}  // namespace
}  // namespace ferry::manifest
