// Fuzzes an OCI layout's index.json as a hostile directory presents it: the
// Go-compatible decoder, the writer (its output must decode to the same
// text again), entry selection by name and position, adding an entry, and
// the blob paths built from the index's digests, which must stay inside the
// layout's (or the shared) blob directory whatever the digest says.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transports/oci/layout.h"
#include "util/error.h"

namespace {

using ferry::oci::Index;
using ferry::oci::IndexEntry;
using ferry::oci::LayoutPaths;

void expect_inside(const std::string& path, std::string_view dir) {
  if (path.compare(0, dir.size(), dir) != 0 || path.size() <= dir.size() || path[dir.size()] != '/' ||
      path.find("/../") != std::string::npos || path.find("/./") != std::string::npos)
    __builtin_trap();
}

}  // namespace

// The input: a name to select (up to the first NUL), then index.json bytes.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string name;
  if (size_t nul = input.find('\0'); nul != std::string_view::npos && nul < 256) {
    name = std::string(input.substr(0, nul));
    input.remove_prefix(nul + 1);
  }
  Index index;
  try {
    index = ferry::oci::parse_index(input, "index.json");
  } catch (const ferry::Error&) {
    return 0;
  }

  std::string out = ferry::oci::serialize_index(index);
  Index again = ferry::oci::parse_index(out, "written index.json");  // must not throw
  if (ferry::oci::serialize_index(again) != out) __builtin_trap();

  const LayoutPaths local("/layout", "");
  const LayoutPaths shared("/layout", "/shared");
  for (const IndexEntry& e : index.manifests) {
    try {
      expect_inside(local.blob_path(e.desc.digest), "/layout/blobs");
      expect_inside(shared.blob_path(e.desc.digest), "/shared");
    } catch (const ferry::Error&) {
    }
  }

  for (int position : {-1, 0, static_cast<int>(index.manifests.size())}) {
    try {
      size_t at = ferry::oci::select_entry(index, name, position);
      if (at >= index.manifests.size()) __builtin_trap();
      // Re-adding the selected entry under the name keeps the index valid.
      IndexEntry entry = index.manifests[at];
      if (!name.empty()) entry.desc.annotations["org.opencontainers.image.ref.name"] = name;
      Index added = index;
      ferry::oci::add_manifest(added, entry);
      ferry::oci::parse_index(ferry::oci::serialize_index(added), "updated index.json");
    } catch (const ferry::Error&) {
    }
  }
  return 0;
}
