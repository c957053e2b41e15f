// oci:PATH[:REF|:@N]: an image in an OCI layout directory (§3.4).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/types.h"

namespace ferry::oci {

class OciReference : public ImageReference {
 public:
  // dir as the user gave it (used for every file operation), resolved_dir
  // its fully explicit form (policy only). image and source_index are
  // exclusive; source_index -1 = none.
  OciReference(std::string dir, std::string resolved_dir, std::string image, int source_index);

  std::string transport_name() const override { return "oci"; }
  std::string string_within_transport() const override;
  std::string policy_identity() const override { return resolved_dir_; }
  std::vector<std::string> policy_namespaces() const override;

  std::unique_ptr<ImageSource> new_source(const SystemContext& ctx) const override;
  std::unique_ptr<ImageDestination> new_destination(const SystemContext& ctx) const override;
  // Removes the index.json entry and every local blob no other entry needs.
  void delete_image(const SystemContext& ctx) const override;

  const std::string& dir() const { return dir_; }
  const std::string& resolved_dir() const { return resolved_dir_; }
  const std::string& image() const { return image_; }
  int source_index() const { return source_index_; }

 private:
  std::string dir_;
  std::string resolved_dir_;
  std::string image_;
  int source_index_;
};

// The part after "oci:".
std::unique_ptr<ImageReference> parse_reference(std::string_view within);

// c/image's PolicyConfigurationNamespaces for path-based transports: each
// parent of the explicit path, most specific first, without "/".
std::vector<std::string> path_namespaces(const std::string& resolved);

}  // namespace ferry::oci
