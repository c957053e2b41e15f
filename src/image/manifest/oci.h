// OCI image manifests (application/vnd.oci.image.manifest.v1+json), with
// the image-spec structs c/image 5.23 vendors (v1.1.0-rc2 era): descriptors
// carry mediaType, digest, size, urls, annotations, data, platform,
// artifactType in that order; the manifest carries schemaVersion,
// mediaType, config, layers, subject, annotations. A manifest-level
// "artifactType" is not in that struct and is dropped on re-serialization,
// as skopeo 1.9.3 drops it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/manifest.h"
#include "util/gotype.h"

namespace ferry::manifest {

const gojson::Type& oci_platform_type();
const gojson::Type& oci_descriptor_type();
const gojson::Type& oci_manifest_type();

// Go value <-> Descriptor. Going to Go drops nothing the Descriptor has;
// coming from Go drops "data" (callers keep the Go value when it matters).
Descriptor descriptor_from_oci(const gojson::Json& v);
gojson::Json oci_from_descriptor(const Descriptor& d);

class OciManifest : public ImageManifest {
 public:
  // c/image OCI1FromManifest.
  static std::unique_ptr<OciManifest> parse(std::string_view bytes);
  // OCI1FromComponents: a new manifest (mediaType set, schemaVersion 2).
  static std::unique_ptr<OciManifest> from_components(const Descriptor& config, const std::vector<Descriptor>& layers);

  std::string mime_type() const override;
  Descriptor config_info() const override;
  std::vector<LayerInfo> layer_infos() const override;
  void update_layer_infos(const std::vector<Descriptor>& layers) override;
  std::string serialize() const override;
  std::unique_ptr<ImageManifest> clone() const override;

  std::map<std::string, std::string> annotations() const;
  std::optional<Descriptor> subject() const;
  // The Go value (oci_manifest_type()).
  const gojson::Json& value() const { return v_; }
  gojson::Json& mutable_value() {
    modified_ = true;
    return v_;
  }

 private:
  gojson::Json v_;
};

}  // namespace ferry::manifest
