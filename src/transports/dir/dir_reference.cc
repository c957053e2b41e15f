#include "transports/dir/dir_reference.h"

#include "io/digest.h"
#include "io/fs.h"
#include "transports/oci/oci_reference.h"
#include "util/error.h"

namespace ferry::dir {

std::unique_ptr<ImageReference> parse_reference(std::string_view within) {
  std::string path(within);
  if (path.empty()) throw Error("dir: reference must not be empty");
  return std::make_unique<DirReference>(path, resolve_path_fully_explicit(path));
}

std::vector<std::string> DirReference::policy_namespaces() const {
  return oci::path_namespaces(resolved_);
}

std::string blob_file(const std::string& digest) {
  validate_digest(digest);  // never build a path from an unchecked digest
  const std::string alg = digest_algorithm(digest);
  const std::string hex = digest_hex(digest);
  return alg == "sha256" ? hex : alg + "-" + hex;
}

std::string manifest_file(const std::string& instance_digest) {
  if (instance_digest.empty()) return "manifest.json";
  return blob_file(instance_digest) + ".manifest.json";
}

std::string signature_file(const std::string& instance_digest, int index) {
  std::string base = "signature-" + std::to_string(index);
  if (instance_digest.empty()) return base;
  return blob_file(instance_digest) + "." + base;
}

}  // namespace ferry::dir
