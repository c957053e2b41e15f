#include "ops/layer_media_type.h"

#include <gtest/gtest.h>

#include "image/manifest/media_types.h"
#include "util/error.h"

namespace ferry {
namespace {

namespace mt = manifest::media_type;

TEST(LayerMediaType, Oci) {
  EXPECT_EQ(layer_media_type_for(mt::kOciLayerTar, Compression::Gzip), mt::kOciLayerGzip);
  EXPECT_EQ(layer_media_type_for(mt::kOciLayerGzip, Compression::None), mt::kOciLayerTar);
  EXPECT_EQ(layer_media_type_for(mt::kOciLayerGzip, Compression::Zstd), mt::kOciLayerZstd);
  // zstd:chunked is zstd as far as media types go.
  EXPECT_EQ(layer_media_type_for(mt::kOciLayerGzip, Compression::ZstdChunked), mt::kOciLayerZstd);
  EXPECT_EQ(layer_media_type_for(mt::kDockerLayerGzip, Compression::ZstdChunked), mt::kDockerLayerZstd);
  EXPECT_EQ(layer_media_type_for(mt::kOciLayerNondistributableGzip, Compression::None),
            mt::kOciLayerNondistributableTar);
}

TEST(LayerMediaType, Docker) {
  EXPECT_EQ(layer_media_type_for(mt::kDockerLayerGzip, Compression::None), mt::kDockerLayerTar);
  EXPECT_EQ(layer_media_type_for(mt::kDockerLayerTar, Compression::Gzip), mt::kDockerLayerGzip);
  EXPECT_EQ(layer_media_type_for(mt::kDockerForeignLayerGzip, Compression::None), mt::kDockerForeignLayer);
}

TEST(LayerMediaType, RejectsUnknownAndEncrypted) {
  EXPECT_THROW(layer_media_type_for("application/octet-stream", Compression::Gzip), Error);
  EXPECT_THROW(layer_media_type_for(std::string(mt::kOciLayerGzip) + "+encrypted", Compression::None),
               Error);
  EXPECT_THROW(layer_media_type_for(mt::kDockerForeignLayer, Compression::Zstd), Error);
}

}  // namespace
}  // namespace ferry
