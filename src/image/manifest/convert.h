// Manifest format conversion as skopeo 1.9.3 / c/image does it when the
// destination needs another format (copy --format, or a destination that
// does not accept the source's type), together with the layer edits of the
// same copy (new digests after recompression), applied in c/image's order:
// OCI-only edits (zstd layers being recompressed) before converting, the
// rest after, in the target format.
//
//   schema 2 -> OCI       config re-serialized as an OCI config (new digest)
//   OCI -> schema 2       config kept, media types mapped; zstd, encrypted
//                         and artifact manifests fail
//   schema 1 -> 2 / OCI   config synthesized from v1Compatibility; needs
//                         the layers' DiffIDs and uploaded sizes
//   2 / OCI -> schema 1   v1Compatibility per config history entry, empty
//                         layers as the gzipped empty tar, fresh signature
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/manifest.h"

namespace ferry::manifest {

// One layer edit: the layer's new digest/size/urls/annotations, and how
// its compression changed (c/image types.BlobInfo as a layer update). The
// media type is derived from op/algorithm and the manifest format
// (updated_layer_media_type); desc.media_type is ignored.
struct LayerUpdate {
  Descriptor desc;
  CompressionOp op = CompressionOp::kPreserve;
  std::string algorithm;  // "gzip", "zstd", "zstd:chunked"; "" = none
};

struct ConvertOptions {
  // One per layer_infos() entry of the source, base first; nullopt: the
  // layers did not change.
  std::optional<std::vector<LayerUpdate>> layer_updates;
  // Schema 1 sources: the uncompressed digest and the uploaded size of each
  // layer, base first, either one per layer_infos() entry or one per
  // non-empty layer. Missing values become "" / 0 as in c/image.
  std::vector<std::string> diff_ids;
  std::vector<int64_t> layer_sizes;
  // Schema 1 targets: the destination's repository path and tag for the
  // manifest's "name" / "tag" ("" for transports without a reference).
  std::string reference_name;
  std::string reference_tag;
};

struct Converted {
  std::unique_ptr<ImageManifest> manifest;  // serialize() gives the bytes
  std::optional<std::string> config;        // the new config blob, if it changed
  bool uses_empty_layer = false;            // gzipped_empty_layer() must exist at the destination
};

// Converts `m` (whose config blob is `config_bytes`; ignored for schema 1
// sources) to `target_mime` and applies opts.layer_updates. An empty target
// or the source's own type only applies the updates. Unknown targets throw
// "Unsupported conversion type: x".
Converted convert_manifest(const ImageManifest& m, std::string_view config_bytes, std::string_view target_mime,
                           const ConvertOptions& opts = {});

// Applies layer edits in `m`'s own format (c/image UpdateLayerInfos).
void apply_layer_updates(ImageManifest& m, const std::vector<LayerUpdate>& updates);

}  // namespace ferry::manifest
