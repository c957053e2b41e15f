#include "transports/oci/oci_destination.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/blob_store.h"
#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry::oci {

namespace {

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}


}  // namespace

OciDestination::OciDestination(const OciReference& ref, const SystemContext& ctx)
    : ref_(ref),
      paths_(ref.dir(), ctx.oci_shared_blob_dir),
      compression_(ctx.oci_accept_uncompressed_layers ? LayerCompression::Preserve
                                                      : LayerCompression::Compress) {
  if (ref.source_index() >= 0)
    throw Error("Destination reference must not contain a manifest index @" +
                std::to_string(ref.source_index()));
  if (paths_.index_exists()) (void)paths_.read_index();
  make_dirs(ref.dir());
  // The spec requires blobs/ even when it stays empty.
  make_dirs(join_path(ref.dir(), "blobs"));
}

std::vector<std::string> OciDestination::supported_manifest_mime_types() const {
  return {manifest::media_type::kOciManifest, manifest::media_type::kOciIndex};
}

std::optional<manifest::Descriptor> OciDestination::try_reuse_blob(
    const manifest::Descriptor& blob) {
  if (blob.digest.empty()) throw Error("Can not check for a blob with unknown digest");
  std::string path = paths_.blob_path(blob.digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw Error("stat " + path + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  manifest::Descriptor out = blob;
  out.size = st.st_size;
  return out;
}

manifest::Descriptor OciDestination::put_blob(Reader& stream, const manifest::Descriptor& blob,
                                              bool /*is_config*/) {
  StoredBlob stored = store_blob(stream, ref_.dir(), "oci-put-blob", blob.digest, blob.size,
                                 [&](const std::string& digest) {
                                   std::string path = paths_.blob_path(digest);
                                   make_dirs(parent_dir(path));
                                   return path;
                                 });
  manifest::Descriptor out = blob;
  out.digest = stored.digest;
  out.size = stored.size;
  return out;
}

void OciDestination::put_manifest(const std::string& bytes, const std::string& mime_type,
                                  const std::string& instance_digest) {
  std::string digest;
  if (instance_digest.empty()) {
    digest = sha256_digest(bytes);
  } else {
    validate_digest(instance_digest);
    digest = digest_like(instance_digest, bytes);
    if (digest != instance_digest)
      throw Error("manifest for instance " + instance_digest + " has digest " + digest);
  }
  std::string path = paths_.blob_path(digest);
  make_dirs(parent_dir(path));
  write_file_atomic(path, bytes, 0644);
  if (!instance_digest.empty()) return;

  IndexEntry e;
  e.desc.media_type = mime_type.empty() ? manifest::guess_mime_type(bytes) : mime_type;
  e.desc.digest = digest;
  e.desc.size = static_cast<int64_t>(bytes.size());
  if (!ref_.image().empty()) e.desc.annotations[kRefNameAnnotation] = ref_.image();
  std::lock_guard<std::mutex> lock(mu_);
  top_level_ = std::move(e);
}

void OciDestination::put_signatures(const std::vector<Signature>& sigs, const std::string&) {
  if (!sigs.empty()) throw Error("Pushing signatures for OCI images is not supported");
}

void OciDestination::commit() {
  std::lock_guard<std::mutex> guard(mu_);
  if (!top_level_)
    throw Error("internal error: committing " + ref_.to_string() + " without a manifest");
  LayoutLock lock(ref_.dir());
  write_file_atomic(paths_.oci_layout_path(), kOciLayoutBytes, 0644);
  Index index;  // schemaVersion 2, no entries
  if (paths_.index_exists()) index = paths_.read_index();
  add_manifest(index, *top_level_);
  write_file_atomic(paths_.index_path(), serialize_index(index), 0644);
}

}  // namespace ferry::oci
