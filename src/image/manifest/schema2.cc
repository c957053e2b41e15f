#include "image/manifest/schema2.h"

#include "image/manifest/layered.h"
#include "image/manifest/media_types.h"

namespace ferry::manifest {

using gojson::Json;
using gojson::Kind;
using gojson::Type;

const Type& schema2_descriptor_type() {
  static const Type t{Kind::kStruct,
                      "manifest.Schema2Descriptor",
                      {
                          {"mediaType", &gojson::string_type()},
                          {"size", &gojson::int64_type()},
                          {"digest", &gojson::digest_type()},
                          {"urls", &gojson::string_slice_type(), true},
                      },
                      nullptr};
  return t;
}

const Type& schema2_manifest_type() {
  static const Type layers{Kind::kSlice, "[]manifest.Schema2Descriptor", {}, &schema2_descriptor_type()};
  static const Type t{Kind::kStruct,
                      "manifest.Schema2",
                      {
                          {"schemaVersion", &gojson::int_type()},
                          {"mediaType", &gojson::string_type()},
                          {"config", &schema2_descriptor_type()},
                          {"layers", &layers},
                      },
                      nullptr};
  return t;
}

Descriptor descriptor_from_schema2(const Json& v) {
  Descriptor d;
  d.media_type = v.at("mediaType").get<std::string>();
  d.size = v.at("size").get<int64_t>();
  d.digest = v.at("digest").get<std::string>();
  const Json& urls = v.at("urls");
  if (urls.is_array()) {
    for (const Json& u : urls) d.urls.push_back(u.get<std::string>());
  }
  return d;
}

Json schema2_from_descriptor(const Descriptor& d) {
  Json v = gojson::zero_value(schema2_descriptor_type());
  v["mediaType"] = d.media_type;
  v["size"] = d.size;
  v["digest"] = d.digest;
  if (!d.urls.empty()) {
    Json urls = Json::array();
    for (const std::string& u : d.urls) urls.push_back(u);
    v["urls"] = std::move(urls);
  }
  return v;
}

bool supported_schema2_media_type(std::string_view m) {
  return m == media_type::kDockerV2List || m == media_type::kDockerV2Schema1 ||
         m == media_type::kDockerV2Schema1Signed || m == media_type::kDockerV2Schema2Config ||
         m == media_type::kDockerForeignLayer || m == media_type::kDockerForeignLayerGzip ||
         m == media_type::kDockerLayerGzip || m == media_type::kDockerV2Schema2 || m == media_type::kDockerLayerTar ||
         m == media_type::kDockerLayerZstd;
}

namespace {

std::string quoted(const std::string& s) { return gojson::go_quote(s); }

}  // namespace

std::unique_ptr<Schema2Manifest> Schema2Manifest::parse(std::string_view bytes) {
  auto m = std::make_unique<Schema2Manifest>();
  m->v_ = gojson::unmarshal(bytes, schema2_manifest_type());
  validate_unambiguous_format(bytes, media_type::kDockerV2Schema2, kFieldConfig | kFieldLayers);
  const std::string& mt = m->v_["mediaType"].get_ref<const std::string&>();
  if (!supported_schema2_media_type(mt)) throw Error("unsupported docker v2s2 media type: " + quoted(mt));
  const Json& layers = m->v_["layers"];
  if (layers.is_array()) {
    for (const Json& l : layers) {
      const std::string& lt = l["mediaType"].get_ref<const std::string&>();
      if (!supported_schema2_media_type(lt)) throw Error("unsupported docker v2s2 media type: " + quoted(lt));
    }
  }
  validate_config_and_layer_digests(m->v_);
  m->original_ = std::string(bytes);
  return m;
}

std::unique_ptr<Schema2Manifest> Schema2Manifest::from_components(const Descriptor& config,
                                                                  const std::vector<Descriptor>& layers) {
  auto m = std::make_unique<Schema2Manifest>();
  m->v_ = manifest_from_components(schema2_manifest_type(), media_type::kDockerV2Schema2, config, layers,
                                   schema2_from_descriptor);
  m->modified_ = true;
  return m;
}

std::string Schema2Manifest::mime_type() const { return media_type::kDockerV2Schema2; }

Descriptor Schema2Manifest::config_info() const { return descriptor_from_schema2(v_.at("config")); }

std::vector<LayerInfo> Schema2Manifest::layer_infos() const {
  std::vector<LayerInfo> out;
  const Json& layers = v_.at("layers");
  if (!layers.is_array()) return out;
  for (const Json& l : layers) out.push_back(LayerInfo{descriptor_from_schema2(l), false});
  return out;
}

void Schema2Manifest::update_layer_infos(const std::vector<Descriptor>& layers) {
  const Json& old = v_.at("layers");
  check_layer_count(old, layers.size());
  Json fresh = Json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Descriptor& d = layers[i];
    const std::string& original_type = old[i]["mediaType"].get_ref<const std::string&>();
    if (!supported_schema2_media_type(original_type)) {
      throw Error("Error preparing updated manifest: unknown media type of original layer " + quoted(d.digest) +
                  ": " + quoted(original_type));
    }
    validate_digest_field("layers[" + std::to_string(i) + "].digest", d.digest);
    Descriptor nd = d;
    if (nd.media_type.empty()) nd.media_type = original_type;
    fresh.push_back(schema2_from_descriptor(nd));
  }
  v_["layers"] = std::move(fresh);
  modified_ = true;
}

std::string Schema2Manifest::serialize() const {
  return modified_ ? gojson::marshal_value(v_, schema2_manifest_type()) : original_;
}

std::unique_ptr<ImageManifest> Schema2Manifest::clone() const { return std::make_unique<Schema2Manifest>(*this); }

}  // namespace ferry::manifest
