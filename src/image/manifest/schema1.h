// Docker v2 schema 1 manifests (application/vnd.docker.distribution.
// manifest.v1+json and the JWS-signed ...v1+prettyjws), as c/image's
// Schema1: fsLayers and history run newest first, each history entry's
// v1Compatibility is a JSON string describing one v1 image, and the
// registry wants a JWS signature even though nobody checks it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/manifest.h"
#include "util/gotype.h"

namespace ferry::manifest {

const gojson::Type& schema1_manifest_type();
// c/image Schema1V1Compatibility: the fields of a v1Compatibility entry
// c/image looks at (id, parent, comment, created, container_config.Cmd,
// author, throwaway).
const gojson::Type& schema1_v1_compatibility_type();

class Schema1Manifest : public ImageManifest {
 public:
  // c/image Schema1FromManifest: checks schemaVersion, the history /
  // fsLayers pairing, the v1 IDs and parent chain, and drops consecutive
  // duplicate IDs as docker does.
  static std::unique_ptr<Schema1Manifest> parse(std::string_view bytes);
  // Schema1FromComponents. fs_layers and history are newest first.
  static std::unique_ptr<Schema1Manifest> from_components(const std::string& name, const std::string& tag,
                                                          const std::string& architecture,
                                                          const std::vector<std::string>& fs_layers,
                                                          const std::vector<std::string>& history);

  std::string mime_type() const override;  // the signed type, as c/image
  Descriptor config_info() const override;
  std::vector<LayerInfo> layer_infos() const override;
  void update_layer_infos(const std::vector<Descriptor>& layers) override;
  std::string serialize() const override;
  std::unique_ptr<ImageManifest> clone() const override;

  std::string name() const;
  std::string tag() const;
  std::string architecture() const;
  // Newest first, after duplicate removal.
  std::vector<std::string> fs_layers() const;
  std::vector<std::string> history() const;
  // Parsed v1Compatibility entries (schema1_v1_compatibility_type()).
  const std::vector<gojson::Json>& v1_compatibility() const { return compat_; }

  // The embedded reference ("name"/"tag"), updated to the destination.
  void set_reference(const std::string& name, const std::string& tag);

  // The unsigned JSON the signature would cover (json.Marshal of the struct).
  std::string unsigned_json() const;

 private:
  void initialize();
  void fix_layers();

  gojson::Json v_;
  std::vector<gojson::Json> compat_;
};

// c/image AddDummyV2S1Signature: signs `manifest` (JSON object text) with
// a freshly generated ECDSA P-256 key, libtrust style, and returns the
// pretty-signature form (the text with a "signatures" member appended).
std::string add_dummy_schema1_signature(std::string_view manifest);

}  // namespace ferry::manifest
