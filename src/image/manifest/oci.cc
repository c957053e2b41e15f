#include "image/manifest/oci.h"

#include "image/manifest/layered.h"
#include "image/manifest/media_types.h"

namespace ferry::manifest {

using gojson::Field;
using gojson::Json;
using gojson::Kind;
using gojson::Type;

const Type& oci_platform_type() {
  static const Type t{Kind::kStruct,
                      "v1.Platform",
                      {
                          {"architecture", &gojson::string_type()},
                          {"os", &gojson::string_type()},
                          {"os.version", &gojson::string_type(), true},
                          {"os.features", &gojson::string_slice_type(), true},
                          {"variant", &gojson::string_type(), true},
                      },
                      nullptr};
  return t;
}

const Type& oci_descriptor_type() {
  static const Type platform_ptr{Kind::kPtr, "*v1.Platform", {}, &oci_platform_type()};
  static const Type t{Kind::kStruct,
                      "v1.Descriptor",
                      {
                          {"mediaType", &gojson::string_type()},
                          {"digest", &gojson::digest_type()},
                          {"size", &gojson::int64_type()},
                          {"urls", &gojson::string_slice_type(), true},
                          {"annotations", &gojson::string_map_type(), true},
                          {"data", &gojson::bytes_type(), true},
                          {"platform", &platform_ptr, true},
                          {"artifactType", &gojson::string_type(), true},
                      },
                      nullptr};
  return t;
}

const Type& oci_manifest_type() {
  static const Type layers{Kind::kSlice, "[]v1.Descriptor", {}, &oci_descriptor_type()};
  static const Type subject{Kind::kPtr, "*v1.Descriptor", {}, &oci_descriptor_type()};
  static const Type t{Kind::kStruct,
                      "v1.Manifest",
                      {
                          {"schemaVersion", &gojson::int_type()},
                          {"mediaType", &gojson::string_type(), true},
                          {"config", &oci_descriptor_type()},
                          {"layers", &layers},
                          {"subject", &subject, true},
                          {"annotations", &gojson::string_map_type(), true},
                      },
                      nullptr};
  return t;
}

namespace {

std::vector<std::string> strings_of(const Json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const Json& e : v) out.push_back(e.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> map_of(const Json& v) {
  std::map<std::string, std::string> out;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

Json json_strings(const std::vector<std::string>& v) {
  if (v.empty()) return nullptr;
  Json out = Json::array();
  for (const std::string& s : v) out.push_back(s);
  return out;
}

Json json_map(const std::map<std::string, std::string>& m) {
  if (m.empty()) return nullptr;
  Json out = Json::object();
  for (const auto& [k, val] : m) out[k] = val;
  return out;
}

}  // namespace

Descriptor descriptor_from_oci(const Json& v) {
  Descriptor d;
  d.media_type = v.at("mediaType").get<std::string>();
  d.digest = v.at("digest").get<std::string>();
  d.size = v.at("size").get<int64_t>();
  d.urls = strings_of(v.at("urls"));
  d.annotations = map_of(v.at("annotations"));
  const Json& p = v.at("platform");
  if (p.is_object()) {
    Platform plat;
    plat.architecture = p.at("architecture").get<std::string>();
    plat.os = p.at("os").get<std::string>();
    plat.os_version = p.at("os.version").get<std::string>();
    plat.os_features = strings_of(p.at("os.features"));
    plat.variant = p.at("variant").get<std::string>();
    d.platform = plat;
  }
  d.artifact_type = v.at("artifactType").get<std::string>();
  return d;
}

Json oci_from_descriptor(const Descriptor& d) {
  Json v = gojson::zero_value(oci_descriptor_type());
  v["mediaType"] = d.media_type;
  v["digest"] = d.digest;
  v["size"] = d.size;
  v["urls"] = json_strings(d.urls);
  v["annotations"] = json_map(d.annotations);
  if (d.platform) {
    Json p = gojson::zero_value(oci_platform_type());
    p["architecture"] = d.platform->architecture;
    p["os"] = d.platform->os;
    p["os.version"] = d.platform->os_version;
    p["os.features"] = json_strings(d.platform->os_features);
    p["variant"] = d.platform->variant;
    v["platform"] = std::move(p);
  }
  v["artifactType"] = d.artifact_type;
  return v;
}

std::unique_ptr<OciManifest> OciManifest::parse(std::string_view bytes) {
  auto m = std::make_unique<OciManifest>();
  m->v_ = gojson::unmarshal(bytes, oci_manifest_type());
  // c/image passes the index type here; its message names it, so does ours.
  validate_unambiguous_format(bytes, media_type::kOciIndex, kFieldConfig | kFieldLayers);
  validate_config_and_layer_digests(m->v_);
  m->original_ = std::string(bytes);
  return m;
}

std::unique_ptr<OciManifest> OciManifest::from_components(const Descriptor& config,
                                                          const std::vector<Descriptor>& layers) {
  auto m = std::make_unique<OciManifest>();
  m->v_ = manifest_from_components(oci_manifest_type(), media_type::kOciManifest, config, layers, oci_from_descriptor);
  m->modified_ = true;
  return m;
}

std::string OciManifest::mime_type() const { return media_type::kOciManifest; }

Descriptor OciManifest::config_info() const {
  Descriptor d = descriptor_from_oci(v_.at("config"));
  d.platform.reset();  // BlobInfoFromOCI1Descriptor keeps only these fields
  d.artifact_type.clear();
  return d;
}

std::vector<LayerInfo> OciManifest::layer_infos() const {
  std::vector<LayerInfo> out;
  const Json& layers = v_.at("layers");
  if (!layers.is_array()) return out;
  for (const Json& l : layers) {
    LayerInfo info;
    info.desc = descriptor_from_oci(l);
    info.desc.platform.reset();
    info.desc.artifact_type.clear();
    out.push_back(std::move(info));
  }
  return out;
}

void OciManifest::update_layer_infos(const std::vector<Descriptor>& layers) {
  const Json& old = v_.at("layers");
  check_layer_count(old, layers.size());
  Json fresh = Json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Descriptor& d = layers[i];
    validate_digest_field("layers[" + std::to_string(i) + "].digest", d.digest);
    Json l = gojson::zero_value(oci_descriptor_type());
    l["mediaType"] = d.media_type.empty() ? old[i]["mediaType"] : Json(d.media_type);
    l["digest"] = d.digest;
    l["size"] = d.size;
    l["annotations"] = json_map(d.annotations);
    l["urls"] = json_strings(d.urls);
    fresh.push_back(std::move(l));
  }
  v_["layers"] = std::move(fresh);
  modified_ = true;
}

std::string OciManifest::serialize() const {
  return modified_ ? gojson::marshal_value(v_, oci_manifest_type()) : original_;
}

std::unique_ptr<ImageManifest> OciManifest::clone() const { return std::make_unique<OciManifest>(*this); }

std::map<std::string, std::string> OciManifest::annotations() const { return map_of(v_.at("annotations")); }

std::optional<Descriptor> OciManifest::subject() const {
  const Json& s = v_.at("subject");
  if (s.is_null()) return std::nullopt;
  return descriptor_from_oci(s);
}

}  // namespace ferry::manifest
