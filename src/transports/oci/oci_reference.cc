#include "transports/oci/oci_reference.h"

#include <unistd.h>

#include <cerrno>

#include "image/reference_grammar.h"
#include "io/fs.h"
#include "transports/oci/layout.h"
#include "transports/oci/oci_destination.h"
#include "transports/oci/oci_source.h"
#include "util/error.h"

namespace ferry::oci {

OciReference::OciReference(std::string dir, std::string resolved_dir, std::string image,
                           int source_index)
    : dir_(std::move(dir)),
      resolved_dir_(std::move(resolved_dir)),
      image_(std::move(image)),
      source_index_(source_index) {}

std::string OciReference::string_within_transport() const {
  if (source_index_ >= 0) return dir_ + ":@" + std::to_string(source_index_);
  return dir_ + ":" + image_;
}

std::vector<std::string> OciReference::policy_namespaces() const {
  return path_namespaces(resolved_dir_);
}

std::unique_ptr<ImageSource> OciReference::new_source(const SystemContext& ctx) const {
  return std::make_unique<OciSource>(*this, ctx);
}

std::unique_ptr<ImageDestination> OciReference::new_destination(const SystemContext& ctx) const {
  return std::make_unique<OciDestination>(*this, ctx);
}

void OciReference::delete_image(const SystemContext& ctx) const {
  LayoutPaths paths(dir_, ctx.oci_shared_blob_dir);
  // Read once unlocked so a missing layout reports index.json, as skopeo
  // does, then again under the lock for the real decision.
  (void)paths.read_index();
  LayoutLock lock(dir_);
  Index index = paths.read_index();
  size_t pos = select_entry(index, image_, source_index_);

  std::vector<IndexEntry> doomed{index.manifests[pos]};
  std::vector<IndexEntry> remaining;
  for (size_t i = 0; i < index.manifests.size(); ++i)
    if (i != pos) remaining.push_back(index.manifests[i]);
  // Blobs only the deleted entry needs. With a shared blob dir nothing
  // outside this layout can be counted, so (like c/image) only blobs in
  // the layout's own blobs/ are ever removed.
  std::set<std::string> dead = referenced_blobs(paths, doomed);
  std::set<std::string> alive = referenced_blobs(paths, remaining);
  std::vector<std::string> files;
  for (const std::string& d : dead)
    if (!alive.count(d)) files.push_back(paths.local_blob_path(d));  // validates every digest first

  // The index first: if removing blobs fails half-way, what is left is
  // unreferenced files, never an entry pointing at missing blobs.
  index.manifests.erase(index.manifests.begin() + static_cast<std::ptrdiff_t>(pos));
  // c/image saves this one with json.Encoder, hence the newline.
  write_file_atomic(paths.index_path(), serialize_index(index) + "\n", 0644);
  for (const std::string& f : files)
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) throw path_error("remove", f, errno);
}

std::vector<std::string> path_namespaces(const std::string& resolved) {
  std::vector<std::string> out;
  std::string path = resolved;
  for (;;) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || path == "/") break;
    out.push_back(path);
    path = path.substr(0, slash);
  }
  return out;
}

std::unique_ptr<ImageReference> parse_reference(std::string_view within) {
  OciRefParts parts = parse_oci_reference(within, true);
  std::string resolved = resolve_path_fully_explicit(parts.path);
  return std::make_unique<OciReference>(parts.path, std::move(resolved), parts.ref, parts.index);
}

}  // namespace ferry::oci
