// Fuzzes the single-image manifest model: type detection, digests (JWS
// payload extraction), parsing under every type, re-serialization, layer
// edits, conversions and config handling. The input is a manifest,
// optionally followed by a NUL byte and a config blob.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "image/manifest/config.h"
#include "image/manifest/convert.h"
#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "util/error.h"

using namespace ferry::manifest;

namespace {

void exercise(const ImageManifest& m, std::string_view config) {
  m.serialize();
  m.config_info();
  std::vector<LayerInfo> layers = m.layer_infos();
  try {
    inspect_data(m, config);
  } catch (const ferry::Error&) {
  }
  try {
    inspect_config_json(m, config);
  } catch (const ferry::Error&) {
  }
  // Re-serialize after an edit that keeps everything but the sizes.
  try {
    auto copy = m.clone();
    std::vector<Descriptor> descs;
    for (const LayerInfo& l : layers) {
      Descriptor d = l.desc;
      d.size += 1;
      descs.push_back(d);
    }
    copy->update_layer_infos(descs);
    std::string out = copy->serialize();
    parse_image_manifest(out, copy->mime_type())->serialize();
  } catch (const ferry::Error&) {
  }
  const char* targets[] = {media_type::kOciManifest, media_type::kDockerV2Schema2, media_type::kDockerV2Schema1Signed};
  for (const char* target : targets) {
    // Converting to schema 1 signs with a fresh key: keep it to small inputs.
    if (target == media_type::kDockerV2Schema1Signed && config.size() > 2048) continue;
    try {
      ConvertOptions opts;
      opts.layer_updates.emplace();
      for (const LayerInfo& l : layers) {
        LayerUpdate u;
        u.desc = l.desc;
        u.op = (l.desc.size & 1) ? CompressionOp::kCompress : CompressionOp::kDecompress;
        u.algorithm = (l.desc.size & 2) ? "gzip" : "zstd";
        opts.layer_updates->push_back(u);
      }
      for (const LayerInfo& l : layers) opts.diff_ids.push_back(l.desc.digest);
      Converted c = convert_manifest(m, config, target, opts);
      c.manifest->serialize();
      convert_manifest(m, config, target);
    } catch (const ferry::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view manifest = in, config;
  if (size_t nul = in.find('\0'); nul != std::string_view::npos) {
    manifest = in.substr(0, nul);
    config = in.substr(nul + 1);
  }
  guess_mime_type(manifest);
  try {
    manifest_digest(manifest);
  } catch (const ferry::Error&) {
  }
  try {
    docker_config_to_oci(config.empty() ? manifest : config);
  } catch (const ferry::Error&) {
  }
  const char* mimes[] = {"", media_type::kDockerV2Schema2, media_type::kOciManifest, media_type::kDockerV2Schema1};
  for (const char* mime : mimes) {
    try {
      auto m = parse_image_manifest(manifest, mime);
      exercise(*m, config);
    } catch (const ferry::Error&) {
    }
  }
  return 0;
}
