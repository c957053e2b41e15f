// dir:PATH — an image as plain files in a directory (§3.3 of the reference).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/types.h"

namespace ferry::dir {

class DirReference : public ImageReference {
 public:
  DirReference(std::string path, std::string resolved)
      : path_(std::move(path)), resolved_(std::move(resolved)) {}

  std::string transport_name() const override { return "dir"; }
  std::string string_within_transport() const override { return path_; }
  std::string policy_identity() const override { return resolved_; }
  std::vector<std::string> policy_namespaces() const override;
  std::unique_ptr<ImageSource> new_source(const SystemContext& ctx) const override;
  std::unique_ptr<ImageDestination> new_destination(const SystemContext& ctx) const override;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string resolved_;
};

std::unique_ptr<ImageReference> parse_reference(std::string_view within);

// File names inside an image directory.
std::string blob_file(const std::string& digest);  // "<hex>" or "<alg>-<hex>"; validates the digest
std::string manifest_file(const std::string& instance_digest);  // "manifest.json" or "<hex>.manifest.json"
std::string signature_file(const std::string& instance_digest, int index);  // 1-based

inline constexpr const char* kVersionFileContents = "Directory Transport Version: 1.1\n";

}  // namespace ferry::dir
