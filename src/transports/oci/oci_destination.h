// Writing an image into an OCI layout. Blobs and manifests land under
// blobs/ as they arrive (each renamed into place only once complete and
// verified); index.json, the only thing that names an image, is rewritten
// atomically at commit. An uncommitted destination leaves index.json as it
// was; its blobs stay, unreferenced and harmless, as with skopeo.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "image/types.h"
#include "transports/oci/layout.h"
#include "transports/oci/oci_reference.h"

namespace ferry::oci {

class OciDestination : public ImageDestination {
 public:
  // Creates the layout directory (and blobs/) if missing and reads an
  // existing index.json so a corrupt one fails before any copying. Throws
  // `Destination reference must not contain a manifest index @N`.
  OciDestination(const OciReference& ref, const SystemContext& ctx);

  const ImageReference& reference() const override { return ref_; }
  std::vector<std::string> supported_manifest_mime_types() const override;
  std::string supports_signatures() const override {
    return "Pushing signatures for OCI images is not supported";
  }
  LayerCompression desired_layer_compression() const override { return compression_; }
  bool accepts_foreign_layer_urls() const override { return true; }
  bool has_thread_safe_put_blob() const override { return true; }

  std::optional<manifest::Descriptor> try_reuse_blob(const manifest::Descriptor& blob) override;
  manifest::Descriptor put_blob(Reader& stream, const manifest::Descriptor& blob,
                                bool is_config) override;
  void put_manifest(const std::string& bytes, const std::string& mime_type,
                    const std::string& instance_digest = "") override;
  void put_signatures(const std::vector<Signature>& sigs,
                      const std::string& instance_digest = "") override;
  // Writes oci-layout, then index.json (re-read under a lock on the layout
  // directory, so concurrent writers into one layout do not lose entries).
  void commit() override;

 private:
  OciReference ref_;
  LayoutPaths paths_;
  LayerCompression compression_;
  std::mutex mu_;
  std::optional<IndexEntry> top_level_;  // set by put_manifest, applied by commit
};

}  // namespace ferry::oci
