// Image configuration blobs: the Docker config (c/image Schema2Image /
// Schema2V1Image), the OCI config (image-spec v1.1.0-rc2 imgspecv1.Image),
// converting the first into the second as skopeo does, the schema 1 config
// synthesis, and what `inspect` reads from them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/manifest.h"
#include "util/gotype.h"

namespace ferry::manifest {

class Schema1Manifest;

// imgspecv1.Image: created, author, architecture, variant, os, os.version,
// os.features, config{User, ExposedPorts, Env, Entrypoint, Cmd, Volumes,
// WorkingDir, Labels, StopSignal, ArgsEscaped}, rootfs{type, diff_ids},
// history[{created, created_by, author, comment, empty_layer}].
const gojson::Type& oci_image_type();
// c/image Schema2Image (Schema2V1Image + parent, rootfs, history,
// os.version, os.features) and its parts.
const gojson::Type& schema2_image_type();
const gojson::Type& schema2_v1_image_type();
const gojson::Type& schema2_config_type();
const gojson::Type& schema2_history_type();

// json.Marshal(json.Unmarshal(config) into imgspecv1.Image): the config
// blob skopeo writes when converting a Docker image to OCI. Docker-only
// fields go, keys are matched case-insensitively, times are re-printed.
std::string docker_config_to_oci(std::string_view docker_config_bytes);

// What `skopeo inspect --config` prints (before its trailing newline):
// the config as imgspecv1.Image, json.MarshalIndent with 4 spaces.
// `config_bytes` is the config blob of a schema 2 / OCI image; for schema 1
// use inspect_config_json.
std::string oci_config_json_for_inspect(std::string_view config_bytes);
// The same for any image: schema 1 first synthesizes its config from
// v1Compatibility (without diff IDs, as c/image's OCIConfig does).
std::string inspect_config_json(const ImageManifest& m, std::string_view config_bytes);

// The config-derived fields of `skopeo inspect` (c/image Inspect per
// manifest format). nullopt stands for JSON null.
struct InspectData {
  std::string tag;                      // schema 1 "tag"; "" otherwise
  std::optional<std::string> created;   // RFC3339Nano as Go prints it
  std::string docker_version;
  std::optional<std::map<std::string, std::string>> labels;
  std::string architecture;
  std::string variant;
  std::string os;
  std::string author;
  std::optional<std::vector<std::string>> env;
};
// `config_bytes` is ignored for schema 1. OCI artifacts (config type other
// than the OCI image config) fail as in c/image.
InspectData inspect_data(const ImageManifest& m, std::string_view config_bytes);

// c/image Schema1.ToSchema2Config: a Docker config built from the newest
// v1Compatibility entry, with history from all entries and rootfs.diff_ids
// = diff_ids (one per non-empty layer, base first).
std::string schema1_to_schema2_config(const Schema1Manifest& m, const std::vector<std::string>& diff_ids);

// docker's versions.LessThan, used for the pre-1.8.3 config quirk.
bool docker_version_less(std::string_view a, std::string_view b);

// c/image NonImageArtifactError text for an OCI manifest whose config is
// `config_media_type`.
std::string non_image_artifact_message(std::string_view config_media_type);

}  // namespace ferry::manifest
