// The copy engine, written once for every transport (containers/image's
// copy.Image): policy check, manifest type choice, parallel blob copies
// through the verifying stream chain, config and manifest conversion,
// signatures, atomic commit.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "image/policy.h"
#include "image/types.h"
#include "io/compression.h"

namespace ferry {

enum class MultiArch { System, All, IndexOnly };

// Parses --multi-arch; throws skopeo's message for unknown values.
MultiArch parse_multi_arch(const std::string& v);

struct CopyOptions {
  std::string format_mime;  // from --format; "" = automatic
  bool remove_signatures = false;
  bool preserve_digests = false;
  MultiArch multi_arch = MultiArch::System;
  // --dest-compress-format / --dest-compress-level
  std::optional<Compression> compress_format;
  int compress_level = -1;
  // --dest-force-compress-format (skopeo 1.21): a layer the destination
  // already has (or could mount) is reused only if it is already in
  // compress_format; otherwise it is recompressed like any other. Without
  // it, skopeo reuses the destination's copy of the original as it is.
  bool force_compress_format = false;
  unsigned parallel_copies = 6;  // --image-parallel-copies (0 means 6)
  // --dest-precompute-digests: a registry destination gets a converted
  // layer's digest (via a temporary file in --tmpdir) before the upload,
  // which is skipped if the registry has it. Other destinations ignore it.
  bool precompute_digests = false;
  FILE* report = stdout;        // nullptr: --quiet
};

struct CopyResult {
  std::string manifest_digest;  // of the top-level manifest written
};

CopyResult copy_image(const Policy& policy, const ImageReference& src, const SystemContext& src_ctx,
                      const ImageReference& dst, const SystemContext& dst_ctx,
                      const CopyOptions& opts);

}  // namespace ferry
