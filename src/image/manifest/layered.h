// What OCI and Docker schema 2 manifests share: both are Go structs with a
// `config` descriptor and a `layers` array (held as a gotype value), and
// c/image's OCI1 and Schema2 code does the same checks on both.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "image/manifest/descriptor.h"
#include "util/gotype.h"

namespace ferry::manifest {

// The digest checks of OCI1FromManifest / Schema2FromManifest: config and
// every layer, each error naming its field ("layers[2].digest: ...").
void validate_config_and_layer_digests(const gojson::Json& manifest);

// OCI1FromComponents / Schema2FromComponents: a zero `type` value with
// schemaVersion 2, mediaType `mime`, and the descriptors converted by to_go.
gojson::Json manifest_from_components(const gojson::Type& type, std::string_view mime, const Descriptor& config,
                                      const std::vector<Descriptor>& layers,
                                      gojson::Json (*to_go)(const Descriptor&));

// UpdateLayerInfos' first check: one update per existing layer. Throws
// "Error preparing updated manifest: layer count changed from N to M".
void check_layer_count(const gojson::Json& old_layers, std::size_t updates);

}  // namespace ferry::manifest
