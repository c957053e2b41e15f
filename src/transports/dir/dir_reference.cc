#include "transports/dir/dir_reference.h"

#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry::dir {

std::unique_ptr<ImageReference> parse_reference(std::string_view within) {
  std::string path(within);
  if (path.empty()) throw Error("dir: reference must not be empty");
  return std::make_unique<DirReference>(path, resolve_path_fully_explicit(path));
}

// Each parent directory, most specific first, without "/" (unlike oci:,
// containers/image does not list the image directory itself here).
std::vector<std::string> DirReference::policy_namespaces() const {
  std::vector<std::string> out;
  std::string path = resolved_;
  for (;;) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    path.resize(slash);
    out.push_back(path);
  }
  return out;
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
