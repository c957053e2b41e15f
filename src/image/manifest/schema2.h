// Docker v2 schema 2 manifests
// (application/vnd.docker.distribution.manifest.v2+json). c/image's
// Schema2 struct: schemaVersion, mediaType, config, layers; descriptors are
// mediaType, size, digest, urls (no annotations: they are dropped).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/manifest.h"
#include "util/gotype.h"

namespace ferry::manifest {

const gojson::Type& schema2_descriptor_type();
const gojson::Type& schema2_manifest_type();

Descriptor descriptor_from_schema2(const gojson::Json& v);
gojson::Json schema2_from_descriptor(const Descriptor& d);

// c/image SupportedSchema2MediaType (with the later Docker zstd layer type).
bool supported_schema2_media_type(std::string_view mime);

class Schema2Manifest : public ImageManifest {
 public:
  // c/image Schema2FromManifest.
  static std::unique_ptr<Schema2Manifest> parse(std::string_view bytes);
  // Schema2FromComponents.
  static std::unique_ptr<Schema2Manifest> from_components(const Descriptor& config,
                                                          const std::vector<Descriptor>& layers);

  std::string mime_type() const override;
  Descriptor config_info() const override;
  std::vector<LayerInfo> layer_infos() const override;
  void update_layer_infos(const std::vector<Descriptor>& layers) override;
  std::string serialize() const override;
  std::unique_ptr<ImageManifest> clone() const override;

  const gojson::Json& value() const { return v_; }

 private:
  gojson::Json v_;
};

}  // namespace ferry::manifest
