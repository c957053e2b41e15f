// JSON output byte-compatible with Go's encoding/json.
//
// skopeo writes manifests, configs, index.json and inspect output with Go's
// encoder; a converted manifest only has the digest skopeo would give it if
// every byte matches. nlohmann::ordered_json keeps insertion order, so callers
// insert keys in Go struct field order (and sorted, where Go has a map); this
// writer supplies Go's escaping and number formatting.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ferry::gojson {

using Json = nlohmann::ordered_json;

// json.Marshal: compact; '<' '>' '&' as \u003c \u003e \u0026; U+2028/U+2029
// escaped; invalid UTF-8 replaced by U+FFFD; keys in insertion order.
std::string marshal(const Json& v);

// json.MarshalIndent(v, prefix, indent). Empty arrays/objects print as [] / {}.
std::string marshal_indent(const Json& v, const std::string& prefix, const std::string& indent);

// Go's json.Unmarshal into a struct matches keys case-insensitively and the
// last duplicate wins; this returns the member matching `key` that way, or
// nullptr. Used when reading configs/manifests as skopeo would.
const Json* find_member_fold(const Json& obj, const std::string& key);

}  // namespace ferry::gojson
