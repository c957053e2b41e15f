// oci-archive:PATH[:REF]: an OCI layout packed in a tar file (§3.4). Both
// directions go through an oci: layout in a temporary directory under
// --tmpdir: a source unpacks the archive there first; a destination builds
// the layout there and, at commit, tars it next to PATH and renames it over
// PATH, so PATH is either the old file or the complete new one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/types.h"

namespace ferry::oci_archive {

class OciArchiveReference : public ImageReference {
 public:
  OciArchiveReference(std::string file, std::string resolved_file, std::string image,
                      int source_index);

  std::string transport_name() const override { return "oci-archive"; }
  std::string string_within_transport() const override;
  std::string policy_identity() const override { return resolved_file_; }
  std::vector<std::string> policy_namespaces() const override;

  std::unique_ptr<ImageSource> new_source(const SystemContext& ctx) const override;
  std::unique_ptr<ImageDestination> new_destination(const SystemContext& ctx) const override;

  const std::string& file() const { return file_; }
  const std::string& resolved_file() const { return resolved_file_; }
  const std::string& image() const { return image_; }
  int source_index() const { return source_index_; }

 private:
  std::string file_;
  std::string resolved_file_;
  std::string image_;
  int source_index_;
};

// The part after "oci-archive:".
std::unique_ptr<ImageReference> parse_reference(std::string_view within);

// Writes the layout in dir as an uncompressed tar at path, entries in
// lexical order as Go's filepath.Walk gives them (blobs/, blobs/sha256/,
// blob files, index.json, oci-layout). Only directories and regular files.
void tar_layout(const std::string& dir, const std::string& path);

}  // namespace ferry::oci_archive
