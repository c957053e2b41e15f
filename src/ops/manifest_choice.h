// Which manifest type a copy writes (§5.2 of the reference): pure logic,
// separate from the engine so every rule has a unit test.
#pragma once

#include <string>
#include <vector>

namespace ferry {

// "oci" / "v2s1" / "v2s2" (--format) → MIME type; "" → "". Throws
// `unknown format "x". Choose one of the supported formats: 'oci', 'v2s1', or 'v2s2'`.
std::string format_flag_to_mime(const std::string& format);

struct ManifestChoiceInput {
  std::string source_mime;
  std::vector<std::string> destination_supported;  // empty = any
  std::string forced_mime;                          // from --format
  // Empty when the manifest may be modified; else why not ("Would
  // invalidate signatures", "Instructed to preserve digests", ...).
  std::string cannot_modify_reason;
  bool requires_oci = false;  // zstd output: only OCI can carry it
};

// The MIME types to try, in order. Throws when no type can work.
std::vector<std::string> choose_manifest_types(const ManifestChoiceInput& in);

}  // namespace ferry
