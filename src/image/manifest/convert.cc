#include "image/manifest/convert.h"

#include <algorithm>

#include "image/manifest/config.h"
#include "image/manifest/media_types.h"
#include "image/manifest/oci.h"
#include "image/manifest/schema1.h"
#include "image/manifest/schema2.h"
#include "io/digest.h"
#include "util/gotype.h"

namespace ferry::manifest {

using gojson::Json;

namespace {

using media_type::is_schema1;

using Updates = std::optional<std::vector<LayerUpdate>>;

// ---------------------------------------------------------------------------
// schema 2 -> OCI (c/image manifestSchema2.convertToManifestOCI1)

std::unique_ptr<OciManifest> schema2_to_oci(const Schema2Manifest& m, std::string_view config_bytes,
                                            std::optional<std::string>& new_config) {
  std::string oci_config = docker_config_to_oci(config_bytes);
  Descriptor config;
  config.media_type = media_type::kOciConfig;
  config.size = static_cast<int64_t>(oci_config.size());
  config.digest = sha256_digest(oci_config);
  std::vector<Descriptor> layers;
  for (const LayerInfo& info : m.layer_infos()) {
    Descriptor d;
    d.media_type = info.desc.media_type;
    d.digest = info.desc.digest;
    d.size = info.desc.size;
    d.urls = info.desc.urls;
    const std::string& t = info.desc.media_type;
    if (t == media_type::kDockerForeignLayer) {
      d.media_type = media_type::kOciLayerNondistributableTar;
    } else if (t == media_type::kDockerForeignLayerGzip) {
      d.media_type = media_type::kOciLayerNondistributableGzip;
    } else if (t == media_type::kDockerLayerTar) {
      d.media_type = media_type::kOciLayerTar;
    } else if (t == media_type::kDockerLayerGzip) {
      d.media_type = media_type::kOciLayerGzip;
    } else if (t == media_type::kDockerLayerZstd) {
      d.media_type = media_type::kOciLayerZstd;
    } else {
      throw Error("Unknown media type during manifest conversion: " + gojson::go_quote(t));
    }
    layers.push_back(std::move(d));
  }
  new_config = std::move(oci_config);
  return OciManifest::from_components(config, layers);
}

// ---------------------------------------------------------------------------
// OCI -> schema 2 (c/image manifestOCI1.convertToManifestSchema2)

bool is_encrypted_oci_layer(std::string_view t) {
  return t == "application/vnd.oci.image.layer.v1.tar+encrypted" ||
         t == "application/vnd.oci.image.layer.v1.tar+gzip+encrypted" ||
         t == "application/vnd.oci.image.layer.v1.tar+zstd+encrypted" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+encrypted" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip+encrypted" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd+encrypted";
}

std::unique_ptr<Schema2Manifest> oci_to_schema2(const OciManifest& m, Updates& updates) {
  Descriptor config = m.config_info();
  if (config.media_type != media_type::kOciConfig) throw Error(non_image_artifact_message(config.media_type));
  std::vector<LayerInfo> infos = m.layer_infos();
  // zstd has no Docker media type: a zstd layer being recompressed in this
  // copy takes its new type before the conversion, and keeps it after.
  if (updates) {
    if (updates->size() != infos.size()) {
      throw Error("preparing to decrypt before conversion: " + std::to_string(infos.size()) + " layers vs. " +
                  std::to_string(updates->size()) + " layer edits");
    }
    for (size_t i = 0; i < infos.size(); ++i) {
      const std::string& t = infos[i].desc.media_type;
      if (t != media_type::kOciLayerZstd && t != media_type::kOciLayerNondistributableZstd) continue;
      LayerUpdate& u = (*updates)[i];
      infos[i].desc.media_type = updated_layer_media_type(media_type::kOciManifest, t, u.op, u.algorithm);
      u.op = CompressionOp::kPreserve;
      u.algorithm.clear();
    }
  }
  config.media_type = media_type::kDockerV2Schema2Config;
  config.annotations.clear();
  std::vector<Descriptor> layers;
  for (const LayerInfo& info : infos) {
    Descriptor d;
    d.digest = info.desc.digest;
    d.size = info.desc.size;
    d.urls = info.desc.urls;
    const std::string& t = info.desc.media_type;
    if (t == media_type::kOciLayerNondistributableTar) {
      d.media_type = media_type::kDockerForeignLayer;
    } else if (t == media_type::kOciLayerNondistributableGzip) {
      d.media_type = media_type::kDockerForeignLayerGzip;
    } else if (t == media_type::kOciLayerNondistributableZstd) {
      throw Error("Error during manifest conversion: " + gojson::go_quote(t) +
                  ": zstd compression is not supported for docker images");
    } else if (t == media_type::kOciLayerTar) {
      d.media_type = media_type::kDockerLayerTar;
    } else if (t == media_type::kOciLayerGzip) {
      d.media_type = media_type::kDockerLayerGzip;
    } else if (t == media_type::kOciLayerZstd) {
      throw Error("Error during manifest conversion: " + gojson::go_quote(t) +
                  ": zstd compression is not officially supported for docker images");
    } else if (is_encrypted_oci_layer(t)) {
      throw Error("during manifest conversion: encrypted layers (" + gojson::go_quote(t) +
                  ") are not supported in docker images");
    } else {
      throw Error("Unknown media type during manifest conversion: " + gojson::go_quote(t));
    }
    layers.push_back(std::move(d));
  }
  return Schema2Manifest::from_components(config, layers);
}

// ---------------------------------------------------------------------------
// schema 1 -> schema 2 (c/image manifestSchema1.convertToManifestSchema2)

std::unique_ptr<Schema2Manifest> schema1_to_schema2(const Schema1Manifest& m, const ConvertOptions& opts,
                                                    Updates& updates, std::optional<std::string>& new_config) {
  std::vector<LayerInfo> infos = m.layer_infos();  // base first
  size_t n = infos.size();
  size_t non_empty = static_cast<size_t>(std::count_if(infos.begin(), infos.end(), [](const LayerInfo& l) {
    return !l.empty_layer;
  }));
  auto per_layer = [&](const auto& values, const char* what) {
    if (!values.empty() && values.size() != n && values.size() != non_empty) {
      throw Error(std::string("Internal error: collected ") + std::to_string(values.size()) + " " + what +
                  " values, but schema1 manifest has " + std::to_string(n) + " fsLayers");
    }
  };
  per_layer(opts.diff_ids, "DiffID");
  per_layer(opts.layer_sizes, "layer size");
  if (updates && updates->size() != n) {
    throw Error("Error converting image: layer edits for " + std::to_string(updates->size()) + " layers vs " +
                std::to_string(n) + " layers in manifest");
  }

  std::vector<std::string> diff_ids;
  std::vector<Descriptor> layers;
  std::vector<LayerUpdate> kept_updates;
  size_t k = 0;  // index among non-empty layers
  for (size_t i = 0; i < n; ++i) {
    if (infos[i].empty_layer) continue;
    size_t at = opts.diff_ids.size() == n ? i : k;
    size_t size_at = opts.layer_sizes.size() == n ? i : k;
    Descriptor d;
    d.media_type = media_type::kDockerLayerGzip;
    d.size = opts.layer_sizes.empty() ? 0 : opts.layer_sizes[size_at];
    d.digest = infos[i].desc.digest;
    layers.push_back(std::move(d));
    diff_ids.push_back(opts.diff_ids.empty() ? std::string() : opts.diff_ids[at]);
    if (updates) kept_updates.push_back((*updates)[i]);
    ++k;
  }
  std::string config = schema1_to_schema2_config(m, diff_ids);
  Descriptor config_desc;
  config_desc.media_type = media_type::kDockerV2Schema2Config;
  config_desc.size = static_cast<int64_t>(config.size());
  config_desc.digest = sha256_digest(config);
  if (updates) updates = std::move(kept_updates);
  new_config = std::move(config);
  return Schema2Manifest::from_components(config_desc, layers);
}

// ---------------------------------------------------------------------------
// schema 2 -> schema 1 (c/image manifestSchema2.convertToManifestSchema1)

std::string v1_id(const std::string& blob_digest, const std::vector<std::string_view>& others) {
  validate_digest(blob_digest);
  std::string joined = digest_hex(blob_digest);
  for (std::string_view o : others) {
    joined += ' ';
    joined += o;
  }
  return digest_hex(sha256_digest(joined));
}

std::unique_ptr<Schema1Manifest> schema2_to_schema1(const Schema2Manifest& m, std::string_view config_bytes,
                                                    const ConvertOptions& opts, Updates& updates,
                                                    bool& uses_empty_layer) {
  std::vector<LayerInfo> infos = m.layer_infos();
  if (updates && updates->size() != infos.size()) {
    throw Error("Error converting image: layer edits for " + std::to_string(updates->size()) +
                " layers vs " + std::to_string(infos.size()) + " existing layers");
  }
  Json image = gojson::unmarshal(config_bytes, schema2_image_type());
  const Json& history = image["history"];
  size_t count = history.is_array() ? history.size() : 0;
  if (count == 0) {
    throw Error(std::string("Cannot convert an image with 0 history entries to ") + media_type::kDockerV2Schema1Signed);
  }
  std::vector<std::string> fs_layers(count), v1_history(count);
  std::vector<LayerUpdate> converted_updates;
  size_t non_empty = 0;
  std::string parent, id;
  for (size_t v2 = 0; v2 < count; ++v2) {
    const Json& entry = history[v2];
    parent = id;
    size_t v1 = count - 1 - v2;
    std::string blob;
    bool empty = entry["empty_layer"].get<bool>();
    if (empty) {
      uses_empty_layer = true;
      blob = kGzippedEmptyLayerDigest;
      if (updates) {
        LayerUpdate u;
        u.desc.digest = blob;
        u.desc.size = static_cast<int64_t>(gzipped_empty_layer().size());
        converted_updates.push_back(std::move(u));
      }
    } else {
      if (non_empty >= infos.size()) {
        throw Error("Invalid image configuration, needs more than the " + std::to_string(infos.size()) +
                    " distributed layers");
      }
      if (updates) converted_updates.push_back((*updates)[non_empty]);
      blob = infos[non_empty].desc.digest;
      ++non_empty;
    }
    id = v1_id(blob, {parent});
    Json fake = gojson::zero_value(schema1_v1_compatibility_type());
    fake["id"] = id;
    fake["parent"] = parent;
    fake["comment"] = entry["comment"];
    fake["created"] = entry["created"];
    fake["author"] = entry["author"];
    fake["throwaway"] = empty;
    fake["container_config"]["Cmd"] = Json::array({entry["created_by"]});
    fs_layers[v1] = blob;
    v1_history[v1] = gojson::marshal_value(fake, schema1_v1_compatibility_type());
  }

  // The top entry carries the real configuration, minus rootfs/history.
  id = v1_id(fs_layers[0], {parent, config_bytes});
  std::vector<std::pair<std::string, std::string>> raw = gojson::unmarshal_raw_object(config_bytes);
  std::erase_if(raw, [](const auto& p) { return p.first == "rootfs" || p.first == "history" || p.first == "id"; });
  raw.emplace_back("id", gojson::marshal(Json(id)));
  if (!parent.empty()) {
    std::erase_if(raw, [](const auto& p) { return p.first == "parent"; });
    raw.emplace_back("parent", gojson::marshal(Json(parent)));
  }
  if (history[count - 1]["empty_layer"].get<bool>()) {
    std::erase_if(raw, [](const auto& p) { return p.first == "throwaway"; });
    raw.emplace_back("throwaway", "true");
  }
  std::sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string top = "{";
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i) top += ',';
    top += gojson::marshal(Json(raw[i].first));
    top += ':';
    top += gojson::compact_raw(raw[i].second);
  }
  top += '}';
  v1_history[0] = std::move(top);

  if (updates) updates = std::move(converted_updates);
  return Schema1Manifest::from_components(opts.reference_name, opts.reference_tag,
                                          image["architecture"].get<std::string>(), fs_layers, v1_history);
}

}  // namespace

void apply_layer_updates(ImageManifest& m, const std::vector<LayerUpdate>& updates) {
  std::vector<LayerInfo> infos = m.layer_infos();
  if (infos.size() != updates.size()) {
    throw Error("Error preparing updated manifest: layer count changed from " + std::to_string(infos.size()) +
                " to " + std::to_string(updates.size()));
  }
  std::vector<Descriptor> descs;
  for (size_t i = 0; i < updates.size(); ++i) {
    Descriptor d = updates[i].desc;
    try {
      d.media_type = updated_layer_media_type(m.mime_type(), infos[i].desc.media_type, updates[i].op,
                                              updates[i].algorithm);
    } catch (const CompressionIncompatibleError& e) {
      throw CompressionIncompatibleError("preparing updated manifest, layer " + gojson::go_quote(d.digest) + ": " +
                                         e.what());
    } catch (const Error& e) {
      rethrow_with_context("preparing updated manifest, layer " + gojson::go_quote(d.digest), e);
    }
    descs.push_back(std::move(d));
  }
  m.update_layer_infos(descs);
}

Converted convert_manifest(const ImageManifest& m, std::string_view config_bytes, std::string_view target_mime,
                           const ConvertOptions& opts) {
  Converted out;
  Updates updates = opts.layer_updates;
  std::string source = m.mime_type();
  std::string target(target_mime);
  bool same = target.empty() || target == source || (is_schema1(target) && is_schema1(source));
  if (same) {
    out.manifest = m.clone();
  } else if (target != media_type::kOciManifest && target != media_type::kDockerV2Schema2 && !is_schema1(target)) {
    throw Error("Unsupported conversion type: " + target);
  } else if (const auto* s2 = dynamic_cast<const Schema2Manifest*>(&m)) {
    if (target == media_type::kOciManifest) {
      out.manifest = schema2_to_oci(*s2, config_bytes, out.config);
    } else {
      out.manifest = schema2_to_schema1(*s2, config_bytes, opts, updates, out.uses_empty_layer);
    }
  } else if (const auto* oci = dynamic_cast<const OciManifest*>(&m)) {
    std::unique_ptr<Schema2Manifest> docker = oci_to_schema2(*oci, updates);
    if (target == media_type::kDockerV2Schema2) {
      out.manifest = std::move(docker);
    } else {
      out.manifest = schema2_to_schema1(*docker, config_bytes, opts, updates, out.uses_empty_layer);
    }
  } else if (const auto* s1 = dynamic_cast<const Schema1Manifest*>(&m)) {
    std::unique_ptr<Schema2Manifest> docker = schema1_to_schema2(*s1, opts, updates, out.config);
    if (target == media_type::kDockerV2Schema2) {
      out.manifest = std::move(docker);
    } else {
      std::string docker_config = *out.config;
      out.manifest = schema2_to_oci(*docker, docker_config, out.config);
    }
  } else {
    throw Error("Unsupported conversion type: " + target);
  }
  if (updates) apply_layer_updates(*out.manifest, *updates);
  if (same && is_schema1(target) && (!opts.reference_name.empty() || !opts.reference_tag.empty())) {
    auto* s1 = dynamic_cast<Schema1Manifest*>(out.manifest.get());
    if (s1 && (s1->name() != opts.reference_name || s1->tag() != opts.reference_tag)) {
      s1->set_reference(opts.reference_name, opts.reference_tag);
    }
  }
  return out;
}

}  // namespace ferry::manifest
