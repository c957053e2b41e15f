#include "image/manifest/layered.h"

#include <string>
#include <utility>

#include "image/manifest/manifest.h"
#include "util/error.h"

namespace ferry::manifest {

void validate_config_and_layer_digests(const gojson::Json& manifest) {
  validate_digest_field("config.digest", manifest.at("config").at("digest").get<std::string>());
  const gojson::Json& layers = manifest.at("layers");
  if (!layers.is_array()) return;
  for (size_t i = 0; i < layers.size(); ++i) {
    validate_digest_field("layers[" + std::to_string(i) + "].digest", layers[i].at("digest").get<std::string>());
  }
}

gojson::Json manifest_from_components(const gojson::Type& type, std::string_view mime, const Descriptor& config,
                                      const std::vector<Descriptor>& layers,
                                      gojson::Json (*to_go)(const Descriptor&)) {
  gojson::Json v = gojson::zero_value(type);
  v["schemaVersion"] = 2;
  v["mediaType"] = std::string(mime);
  v["config"] = to_go(config);
  gojson::Json ls = gojson::Json::array();
  for (const Descriptor& d : layers) ls.push_back(to_go(d));
  v["layers"] = std::move(ls);
  return v;
}

void check_layer_count(const gojson::Json& old_layers, std::size_t updates) {
  const size_t count = old_layers.is_array() ? old_layers.size() : 0;
  if (count != updates) {
    throw Error("Error preparing updated manifest: layer count changed from " + std::to_string(count) + " to " +
                std::to_string(updates));
  }
}

}  // namespace ferry::manifest
