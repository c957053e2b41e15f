// Single-image manifests (Docker v2 schema 1, schema 2, OCI), as skopeo
// 1.9.3 / containers/image 5.23 read, edit and write them.
//
// A manifest is parsed the way c/image unmarshals it into its Go struct
// (util/gotype.h), so the same documents are accepted and rejected. It keeps
// its original bytes: serialize() returns them untouched until the manifest
// is edited, and Go's json.Marshal of the edited struct afterwards, which is
// what skopeo writes and what the destination's digest is computed over.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/descriptor.h"
#include "util/error.h"

namespace ferry::manifest {

// c/image manifest.GuessMIMEType: the type of untyped manifest bytes (a
// file in dir:, a registry answer without a usable Content-Type). "" when
// the bytes do not unmarshal.
std::string guess_mime_type(std::string_view bytes);

// c/image manifest.NormalizedMIMEType: the six manifest types map to
// themselves; "application/json", "text/plain" and anything else a registry
// may send is treated as signed schema 1, as docker/distribution does.
std::string normalized_mime_type(std::string_view mime);

// c/image manifest.Digest: sha256 of the bytes; for signed schema 1 the
// digest of the JWS payload, i.e. the manifest without its "signatures"
// (rebuilt from formatLength / formatTail in the protected headers).
// Throws ferry::Error when a signed schema 1 manifest's signatures are
// malformed.
std::string manifest_digest(std::string_view bytes);

// The payload of a signed schema 1 manifest (libtrust ParsePrettySignature
// + Payload): what manifest_digest hashes.
std::string schema1_jws_payload(std::string_view bytes);

struct LayerInfo {
  Descriptor desc;
  bool empty_layer = false;  // schema 1 "throwaway" history entries
};

class ImageManifest {
 public:
  virtual ~ImageManifest();

  virtual std::string mime_type() const = 0;
  // The config blob; schema 1 has none (empty digest, size -1).
  virtual Descriptor config_info() const = 0;
  // Base layer first. Schema 1 lists its empty (throwaway) layers too,
  // with size -1 and no media type.
  virtual std::vector<LayerInfo> layer_infos() const = 0;
  // Replaces the layers after the copy changed them (new digest, size,
  // compression), one entry per layer_infos() entry, in the same order.
  // As c/image does, each layer keeps only media type, digest, size, urls
  // and (OCI) annotations of the given descriptor; an empty media_type
  // keeps the layer's current one (see updated_layer_media_type). Throws
  // if the count differs or a digest is invalid; on error nothing changes.
  virtual void update_layer_infos(const std::vector<Descriptor>& layers) = 0;
  // The original bytes while unmodified; json.Marshal of the Go struct
  // after an edit (schema 1: plus a fresh throwaway JWS signature, as
  // c/image's AddDummyV2S1Signature).
  virtual std::string serialize() const = 0;
  virtual std::unique_ptr<ImageManifest> clone() const = 0;

  const std::string& original_bytes() const { return original_; }
  bool modified() const { return modified_; }

 protected:
  std::string original_;
  bool modified_ = false;
};

// c/image manifest.FromBlob: parses `bytes` as the single-image manifest
// type `mime` (normalized first; "" means guess_mime_type). Lists throw
// "Treating manifest lists as individual manifests is not implemented".
// Errors are Go's unmarshal errors, c/image's validation errors, or name the
// offending field ("layers[2].digest: invalid checksum digest format").
std::unique_ptr<ImageManifest> parse_image_manifest(std::string_view bytes, std::string_view mime);

// What a layer edit does to the blob's compression (c/image
// types.LayerCompression).
enum class CompressionOp { kPreserve, kCompress, kDecompress };

// c/image's ManifestLayerCompressionIncompatibilityError: the format cannot
// express the requested compression; the copy engine then tries the next
// manifest format.
class CompressionIncompatibleError : public Error {
 public:
  using Error::Error;
};

// c/image updatedMIMEType: the media type a layer of type `layer_mime` gets
// in a `manifest_mime` manifest after `op` with `algorithm` ("gzip",
// "zstd", "zstd:chunked"; "" = none). kPreserve with an algorithm forces
// that algorithm's variant. Throws CompressionIncompatibleError when the
// format has no such variant (zstd in Docker schema 2), Error for media
// types it does not know.
std::string updated_layer_media_type(std::string_view manifest_mime, std::string_view layer_mime, CompressionOp op,
                                     std::string_view algorithm);

// c/image CanChangeLayerCompression: whether layers of `layer_mime` can be
// recompressed in a `manifest_mime` manifest (OCI artifacts: never).
bool can_change_layer_compression(const ImageManifest& m, std::string_view layer_mime);

// Checks a digest field as go-digest's Validate, naming the field:
// "layers[2].digest: invalid checksum digest format".
void validate_digest_field(const std::string& field, const std::string& digest);

// The gzip-compressed empty tar that schema 1 uses for throwaway layers,
// and its digest (c/image GzippedEmptyLayer / GzippedEmptyLayerDigest).
const std::string& gzipped_empty_layer();
inline constexpr const char* kGzippedEmptyLayerDigest =
    "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

// c/image ValidateUnambiguousManifestFormat: rejects a manifest carrying
// fields of another format ("manifests" in an image manifest, "layers" in a
// list), so two parsers cannot read one document as different things.
enum AllowedField : unsigned {
  kFieldConfig = 1,
  kFieldFSLayers = 2,
  kFieldHistory = 4,
  kFieldLayers = 8,
  kFieldManifests = 16,
};
void validate_unambiguous_format(std::string_view bytes, std::string_view expected_mime, unsigned allowed);

}  // namespace ferry::manifest
