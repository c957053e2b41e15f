#include "transports/oci/oci_source.h"

#include <sys/stat.h>

#include <cerrno>

#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"
#include "util/gojson.h"

namespace ferry::oci {

OciSource::OciSource(const OciReference& ref, const SystemContext& ctx)
    : ref_(ref), paths_(ref.dir(), ctx.oci_shared_blob_dir) {
  index_ = paths_.read_index();
  selected_ = select_entry(index_, ref.image(), ref.source_index());
}

ManifestBytes OciSource::get_manifest(const std::string& instance_digest) {
  std::string digest, mime;
  if (instance_digest.empty()) {
    digest = descriptor().desc.digest;
    mime = descriptor().desc.media_type;
  } else {
    digest = instance_digest;
    for (const IndexEntry& e : index_.manifests) {
      if (e.desc.digest == digest) {
        mime = e.desc.media_type;
        break;
      }
    }
  }
  std::string path = paths_.blob_path(digest);
  std::string bytes = read_file(path, kMaxManifestBytes);
  // The layout is content-addressed; a manifest that does not hash to its
  // name is corruption, and everything derived from it would be wrong.
  std::string actual = digest_like(digest, bytes);
  if (actual != digest)
    throw Error("manifest " + path + " does not match its digest " + digest + " (content is " +
                actual + ")");
  if (mime.empty()) mime = manifest::guess_mime_type(bytes);
  return {std::move(bytes), std::move(mime)};
}

std::unique_ptr<Reader> OciSource::get_blob(const manifest::Descriptor& blob, int64_t* size) {
  std::string path = paths_.blob_path(blob.digest);
  if (!blob.urls.empty()) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT)
      throw Error("blob " + blob.digest + " is not stored in " + paths_.dir() +
                  " and fetching foreign layers from " + blob.urls[0] + " is not supported yet");
  }
  auto reader = std::make_unique<FileReader>(path);
  if (size) *size = reader->size();
  return reader;
}

}  // namespace ferry::oci
