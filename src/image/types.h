// The narrow interfaces every transport implements and the copy engine,
// inspect and delete are written against (DESIGN.md "The few interfaces").
// A transport knows nothing of the CLI; the copy engine knows nothing of a
// particular transport.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/docker_reference.h"
#include "image/manifest/descriptor.h"
#include "image/system_context.h"
#include "io/reader.h"
#include "util/error.h"

namespace ferry {

class ImageSource;
class ImageDestination;

// Thrown by ImageDestination::put_manifest when the destination does not
// accept that manifest type; the copy engine then tries the next candidate.
class ManifestTypeRejected : public Error {
 public:
  using Error::Error;
};

// A signature as stored: simple signing (OpenPGP bytes) or sigstore
// (payload + annotations). Kept opaque until the signatures issue lands.
struct Signature {
  enum class Kind { SimpleSigning, Sigstore };
  Kind kind = Kind::SimpleSigning;
  std::string bytes;       // simple signing: the OpenPGP message
  std::string mime_type;   // sigstore: payload media type
  std::string payload;     // sigstore
  std::vector<std::pair<std::string, std::string>> annotations;  // sigstore
};

// A parsed `transport:details` name. Knows its transport's grammar, its
// identity for policy lookups, and how to open the image.
class ImageReference {
 public:
  virtual ~ImageReference() = default;
  virtual std::string transport_name() const = 0;
  virtual std::string string_within_transport() const = 0;
  std::string to_string() const { return transport_name() + ":" + string_within_transport(); }

  // The docker reference this image is known by (docker://, named
  // docker-archive), used for inspect's Name and signature identities.
  virtual std::optional<DockerReference> docker_reference() const { return std::nullopt; }

  // containers-policy.json scope matching: most specific first.
  virtual std::string policy_identity() const = 0;
  virtual std::vector<std::string> policy_namespaces() const = 0;

  virtual std::unique_ptr<ImageSource> new_source(const SystemContext& ctx) const = 0;
  virtual std::unique_ptr<ImageDestination> new_destination(const SystemContext& ctx) const = 0;
  // Throws `Deleting images not implemented for <t>: images` where unsupported.
  virtual void delete_image(const SystemContext& ctx) const;
};

struct ManifestBytes {
  std::string bytes;
  std::string mime_type;  // as declared by the source, or guessed
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual const ImageReference& reference() const = 0;

  // The top-level manifest (instance empty) or one instance of a list by
  // digest. Missing image: throw NotFoundError.
  virtual ManifestBytes get_manifest(const std::string& instance_digest = "") = 0;

  // A blob as a stream, with its size (-1 if unknown). The copy engine wraps
  // it in a DigestVerifyingReader; sources need not verify.
  virtual std::unique_ptr<Reader> get_blob(const manifest::Descriptor& blob, int64_t* size) = 0;
  // Whether get_blob may be called from several threads at once.
  virtual bool has_thread_safe_get_blob() const { return false; }

  virtual std::vector<Signature> get_signatures(const std::string& instance_digest = "") {
    (void)instance_digest;
    return {};
  }

  // Some sources (docker-archive) serve layers whose stored form differs
  // from the manifest; they return the descriptors to copy instead. nullopt:
  // use the manifest's.
  virtual std::optional<std::vector<manifest::Descriptor>> layer_infos_for_copy(
      const std::string& instance_digest) {
    (void)instance_digest;
    return std::nullopt;
  }
};

enum class LayerCompression { Preserve, Compress, Decompress };

class ImageDestination {
 public:
  virtual ~ImageDestination() = default;
  virtual const ImageReference& reference() const = 0;

  // Manifest MIME types accepted, preferred first; empty = any.
  virtual std::vector<std::string> supported_manifest_mime_types() const = 0;
  // Empty if signatures can be stored, else the reason (for the
  // "Can not copy signatures" error).
  virtual std::string supports_signatures() const = 0;
  virtual LayerCompression desired_layer_compression() const = 0;
  virtual bool accepts_foreign_layer_urls() const { return false; }
  virtual bool supports_manifest_lists() const { return true; }
  // Whether put_blob / try_reuse_blob may run on several threads at once.
  virtual bool has_thread_safe_put_blob() const { return false; }

  // If the destination already has the blob (or can get it without
  // uploading), returns its stored descriptor.
  virtual std::optional<manifest::Descriptor> try_reuse_blob(const manifest::Descriptor& blob) = 0;
  // As try_reuse_blob, also trying to get the blob from other locations of
  // the same storage without an upload: for a registry, repositories on the
  // same host (from the blob-info cache) to mount it from. Destinations that
  // cannot do that ignore the candidates.
  virtual std::optional<manifest::Descriptor> try_reuse_blob_from(const manifest::Descriptor& blob,
                                                                  const std::vector<std::string>& candidates) {
    (void)candidates;
    return try_reuse_blob(blob);
  }

  // Stores the stream, read to its end. blob.digest may be empty when the
  // content was transformed on the fly; the returned descriptor carries the
  // digest and size actually stored. Must verify blob.digest when given.
  virtual manifest::Descriptor put_blob(Reader& stream, const manifest::Descriptor& blob,
                                        bool is_config) = 0;
  // The engine has decided to put_blob a blob it is about to start reading
  // from the source: work the destination needs per upload (a registry's
  // upload session) can start now, overlapping the source's first bytes.
  // Each call is followed by one put_blob unless the copy fails.
  virtual void prepare_put_blob() {}

  // instance_digest empty = the top-level manifest.
  virtual void put_manifest(const std::string& bytes, const std::string& mime_type,
                            const std::string& instance_digest = "") = 0;
  virtual void put_signatures(const std::vector<Signature>& sigs,
                              const std::string& instance_digest = "") = 0;

  // Makes the image visible atomically (tag, index entry, archive name).
  // Until commit nothing points at it; destroying an uncommitted destination
  // removes what it wrote.
  virtual void commit() = 0;
};

// Parses "transport:details" (§3 of the reference): throws
// `Invalid image name "X", unknown transport "t"` etc.
std::unique_ptr<ImageReference> parse_image_name(const std::string& name);

// Transport names in help order.
std::vector<std::string> known_transports();

}  // namespace ferry
