// Reading an image out of an OCI layout.
#pragma once

#include <memory>
#include <string>

#include "image/types.h"
#include "transports/oci/layout.h"
#include "transports/oci/oci_reference.h"

namespace ferry::oci {

class OciSource : public ImageSource {
 public:
  // Reads index.json and picks the entry ref names; throws (NotFoundError
  // for a missing name) before anything else happens.
  OciSource(const OciReference& ref, const SystemContext& ctx);

  const ImageReference& reference() const override { return ref_; }
  ManifestBytes get_manifest(const std::string& instance_digest = "") override;
  std::unique_ptr<Reader> get_blob(const manifest::Descriptor& blob, int64_t* size) override;
  // Every get_blob opens its own file.
  bool has_thread_safe_get_blob() const override { return true; }

  const IndexEntry& descriptor() const { return index_.manifests[selected_]; }

 private:
  OciReference ref_;
  LayoutPaths paths_;
  Index index_;
  size_t selected_ = 0;
};

}  // namespace ferry::oci
