// The pre-1.10 `docker save` metadata that c/image still writes next to the
// modern manifest.json: one directory per layer named by a synthetic "v1 ID",
// holding a `json` config, and a `repositories` file mapping tags to the top
// layer's ID. Old `docker load` and some scanners read only these, so the IDs
// and JSON bytes follow c/image's writer exactly (§3.5 of the reference).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::docker_archive {

struct LegacyLayer {
  std::string id;       // 64 hex digits: the directory name
  std::string json;     // the `<id>/json` file contents
  std::string diff_id;  // the layer digest it stands for
};

// docker's layer.CreateChainID step: chain₀ = diff₀, chainₙ =
// sha256("<chainₙ₋₁> <diffₙ>").
std::string next_chain_id(const std::string& previous_chain_id, const std::string& diff_id);

// One entry per layer digest (base first; duplicates get their own entry,
// as their chain IDs differ). The top layer's JSON carries the image
// config's architecture, config, container, container_config, created,
// docker_version and os members (their literal JSON, compacted, or null).
// Throws ferry::Error if config is not a JSON object (or null).
std::vector<LegacyLayer> legacy_layers(const std::vector<std::string>& layer_digests,
                                       std::string_view config);

// The `repositories` file: {"<name>":{"<tag>":"<top layer ID>"}} for each
// (name, tag) pair, keys sorted as Go prints maps. No layers: `{}`.
std::string repositories_json(const std::vector<std::pair<std::string, std::string>>& name_tags,
                              const std::string& top_layer_id);

}  // namespace ferry::docker_archive
