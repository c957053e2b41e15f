#include "transports/docker_archive/legacy_ids.h"

#include <map>

#include "io/digest.h"
#include "util/error.h"
#include "util/gojson.h"
#include "util/gotype.h"

namespace ferry::docker_archive {

namespace {

// The attributes c/image copies from the image config into the top layer's
// legacy JSON.
constexpr const char* kTopLayerAttributes[] = {
    "architecture", "config", "container", "container_config", "created", "docker_version", "os",
};

std::string json_string(const std::string& s) { return gojson::marshal(gojson::Json(s)); }

// json.Marshal of a map[string]any: keys in byte order, values given as
// already-encoded JSON text.
std::string marshal_raw_map(const std::map<std::string, std::string>& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += json_string(key);
    out += ':';
    out += value;
  }
  return out + "}";
}

}  // namespace

std::string next_chain_id(const std::string& previous_chain_id, const std::string& diff_id) {
  if (previous_chain_id.empty()) return diff_id;
  return sha256_digest(previous_chain_id + " " + diff_id);
}

std::vector<LegacyLayer> legacy_layers(const std::vector<std::string>& layer_digests,
                                       std::string_view config) {
  std::vector<LegacyLayer> out;
  if (layer_digests.empty()) return out;

  // json.Unmarshal into map[string]*json.RawMessage: exact keys, the last
  // duplicate wins, absent or null members print as null.
  std::map<std::string, std::string> top_attributes;
  try {
    std::vector<std::pair<std::string, std::string>> members = gojson::unmarshal_raw_object(config);
    for (const char* attr : kTopLayerAttributes) {
      std::string value = "null";
      for (const auto& [key, raw] : members) {
        if (key == attr) value = gojson::compact_raw(raw);
      }
      top_attributes[attr] = value;
    }
  } catch (const Error& e) {
    rethrow_with_context("unmarshaling config", e);
  }

  std::string chain_id;
  std::string parent;
  for (size_t i = 0; i < layer_digests.size(); ++i) {
    std::map<std::string, std::string> members;
    if (!parent.empty()) members["parent"] = json_string(parent);
    if (i + 1 == layer_digests.size()) members.insert(top_attributes.begin(), top_attributes.end());
    chain_id = next_chain_id(chain_id, layer_digests[i]);
    // The ID is the digest of the JSON with the chain ID in place of the ID,
    // so identical layer stacks get identical IDs and different stacks
    // cannot collide.
    members["layer_id"] = json_string(chain_id);
    const std::string id = digest_hex(sha256_digest(marshal_raw_map(members)));
    members.erase("layer_id");
    members["id"] = json_string(id);
    out.push_back({id, marshal_raw_map(members), layer_digests[i]});
    parent = id;
  }
  return out;
}

std::string repositories_json(const std::vector<std::pair<std::string, std::string>>& name_tags,
                              const std::string& top_layer_id) {
  std::map<std::string, std::map<std::string, std::string>> repos;
  if (!top_layer_id.empty()) {
    for (const auto& [name, tag] : name_tags) repos[name][tag] = top_layer_id;
  }
  std::string out = "{";
  for (const auto& [name, tags] : repos) {
    if (out.size() > 1) out += ',';
    out += json_string(name) + ":{";
    bool first = true;
    for (const auto& [tag, id] : tags) {
      if (!first) out += ',';
      first = false;
      out += json_string(tag) + ":" + json_string(id);
    }
    out += '}';
  }
  return out + "}";
}

}  // namespace ferry::docker_archive
