#include "image/manifest/config.h"

#include <algorithm>

#include "image/manifest/media_types.h"
#include "image/manifest/oci.h"
#include "image/manifest/schema1.h"

namespace ferry::manifest {

using gojson::Field;
using gojson::Json;
using gojson::Kind;
using gojson::Type;

namespace {

const Type& digest_slice_type() {
  static const Type t{Kind::kSlice, "[]digest.Digest", {}, &gojson::digest_type()};
  return t;
}

const Type& strslice_type() {
  static const Type t{Kind::kStrSlice, "strslice.StrSlice", {}, nullptr};
  return t;
}

}  // namespace

const Type& oci_image_type() {
  static const Type image_config{Kind::kStruct,
                                 "v1.ImageConfig",
                                 {
                                     {"User", &gojson::string_type(), true},
                                     {"ExposedPorts", &gojson::empty_struct_map_type(), true},
                                     {"Env", &gojson::string_slice_type(), true},
                                     {"Entrypoint", &gojson::string_slice_type(), true},
                                     {"Cmd", &gojson::string_slice_type(), true},
                                     {"Volumes", &gojson::empty_struct_map_type(), true},
                                     {"WorkingDir", &gojson::string_type(), true},
                                     {"Labels", &gojson::string_map_type(), true},
                                     {"StopSignal", &gojson::string_type(), true},
                                     {"ArgsEscaped", &gojson::bool_type(), true},
                                 },
                                 nullptr};
  static const Type rootfs{Kind::kStruct,
                           "v1.RootFS",
                           {
                               {"type", &gojson::string_type()},
                               {"diff_ids", &digest_slice_type()},
                           },
                           nullptr};
  static const Type history{Kind::kStruct,
                            "v1.History",
                            {
                                {"created", &gojson::time_ptr_type(), true},
                                {"created_by", &gojson::string_type(), true},
                                {"author", &gojson::string_type(), true},
                                {"comment", &gojson::string_type(), true},
                                {"empty_layer", &gojson::bool_type(), true},
                            },
                            nullptr};
  static const Type histories{Kind::kSlice, "[]v1.History", {}, &history};
  static const Type t{Kind::kStruct,
                      "v1.Image",
                      {
                          {"created", &gojson::time_ptr_type(), true},
                          {"author", &gojson::string_type(), true},
                          {"architecture", &gojson::string_type()},
                          {"variant", &gojson::string_type(), true},
                          {"os", &gojson::string_type()},
                          {"os.version", &gojson::string_type(), true},
                          {"os.features", &gojson::string_slice_type(), true},
                          {"config", &image_config, true},
                          {"rootfs", &rootfs},
                          {"history", &histories, true},
                      },
                      nullptr};
  return t;
}

const Type& schema2_config_type() {
  static const Type port_set{Kind::kMap, "manifest.Schema2PortSet", {}, gojson::empty_struct_map_type().elem};
  static const Type duration{Kind::kInt, "time.Duration", {}, nullptr};
  static const Type health{Kind::kStruct,
                           "manifest.Schema2HealthConfig",
                           {
                               {"Test", &gojson::string_slice_type(), true},
                               {"StartPeriod", &duration, true},
                               {"Interval", &duration, true},
                               {"Timeout", &duration, true},
                               {"Retries", &gojson::int_type(), true},
                           },
                           nullptr};
  static const Type health_ptr{Kind::kPtr, "*manifest.Schema2HealthConfig", {}, &health};
  static const Type int_ptr{Kind::kPtr, "*int", {}, &gojson::int_type()};
  static const Type t{Kind::kStruct,
                      "manifest.Schema2Config",
                      {
                          {"Hostname", &gojson::string_type()},
                          {"Domainname", &gojson::string_type()},
                          {"User", &gojson::string_type()},
                          {"AttachStdin", &gojson::bool_type()},
                          {"AttachStdout", &gojson::bool_type()},
                          {"AttachStderr", &gojson::bool_type()},
                          {"ExposedPorts", &port_set, true},
                          {"Tty", &gojson::bool_type()},
                          {"OpenStdin", &gojson::bool_type()},
                          {"StdinOnce", &gojson::bool_type()},
                          {"Env", &gojson::string_slice_type()},
                          {"Cmd", &strslice_type()},
                          {"Healthcheck", &health_ptr, true},
                          {"ArgsEscaped", &gojson::bool_type(), true},
                          {"Image", &gojson::string_type()},
                          {"Volumes", &gojson::empty_struct_map_type()},
                          {"WorkingDir", &gojson::string_type()},
                          {"Entrypoint", &strslice_type()},
                          {"NetworkDisabled", &gojson::bool_type(), true},
                          {"MacAddress", &gojson::string_type(), true},
                          {"OnBuild", &gojson::string_slice_type()},
                          {"Labels", &gojson::string_map_type()},
                          {"StopSignal", &gojson::string_type(), true},
                          {"StopTimeout", &int_ptr, true},
                          {"Shell", &strslice_type(), true},
                      },
                      nullptr};
  return t;
}

namespace {

std::vector<Field> v1_image_fields() {
  static const Type config_ptr{Kind::kPtr, "*manifest.Schema2Config", {}, &schema2_config_type()};
  return {
      {"id", &gojson::string_type(), true},
      {"parent", &gojson::string_type(), true},
      {"comment", &gojson::string_type(), true},
      {"created", &gojson::time_type()},
      {"container", &gojson::string_type(), true},
      {"container_config", &schema2_config_type(), true},
      {"docker_version", &gojson::string_type(), true},
      {"author", &gojson::string_type(), true},
      {"config", &config_ptr, true},
      {"architecture", &gojson::string_type(), true},
      {"variant", &gojson::string_type(), true},
      {"os", &gojson::string_type(), true},
      {"Size", &gojson::int64_type(), true},
  };
}

}  // namespace

const Type& schema2_v1_image_type() {
  static const Type t{Kind::kStruct, "manifest.Schema2V1Image", v1_image_fields(), nullptr};
  return t;
}

const Type& schema2_history_type() {
  static const Type t{Kind::kStruct,
                      "manifest.Schema2History",
                      {
                          {"created", &gojson::time_type()},
                          {"author", &gojson::string_type(), true},
                          {"created_by", &gojson::string_type(), true},
                          {"comment", &gojson::string_type(), true},
                          {"empty_layer", &gojson::bool_type(), true},
                      },
                      nullptr};
  return t;
}

const Type& schema2_image_type() {
  static const Type rootfs{Kind::kStruct,
                           "manifest.Schema2RootFS",
                           {
                               {"type", &gojson::string_type()},
                               {"diff_ids", &digest_slice_type(), true},
                           },
                           nullptr};
  static const Type rootfs_ptr{Kind::kPtr, "*manifest.Schema2RootFS", {}, &rootfs};
  static const Type histories{Kind::kSlice, "[]manifest.Schema2History", {}, &schema2_history_type()};
  static const Type t = [] {
    // Schema2V1Image is embedded; its "parent" is shadowed by the outer
    // digest-typed one, which Go orders after the embedded fields.
    std::vector<Field> fields;
    for (const Field& f : v1_image_fields()) {
      if (f.name != "parent") fields.push_back(f);
    }
    fields.push_back({"parent", &gojson::digest_type(), true});
    fields.push_back({"rootfs", &rootfs_ptr, true});
    fields.push_back({"history", &histories, true});
    fields.push_back({"os.version", &gojson::string_type(), true});
    fields.push_back({"os.features", &gojson::string_slice_type(), true});
    return Type{Kind::kStruct, "manifest.Schema2Image", std::move(fields), nullptr};
  }();
  return t;
}

std::string docker_config_to_oci(std::string_view docker_config_bytes) {
  return gojson::marshal_value(gojson::unmarshal(docker_config_bytes, oci_image_type()), oci_image_type());
}

std::string oci_config_json_for_inspect(std::string_view config_bytes) {
  Json v = gojson::unmarshal(config_bytes, oci_image_type());
  return gojson::marshal_indent(gojson::to_plain(v, oci_image_type()), "", "    ");
}

std::string inspect_config_json(const ImageManifest& m, std::string_view config_bytes) {
  if (const auto* s1 = dynamic_cast<const Schema1Manifest*>(&m)) {
    std::vector<std::string> diff_ids;
    for (const LayerInfo& l : s1->layer_infos()) {
      if (!l.empty_layer) diff_ids.emplace_back();
    }
    return oci_config_json_for_inspect(schema1_to_schema2_config(*s1, diff_ids));
  }
  return oci_config_json_for_inspect(config_bytes);
}

std::string non_image_artifact_message(std::string_view config_media_type) {
  return "unsupported image-specific operation on artifact with type " + gojson::go_quote(config_media_type);
}

namespace {

std::optional<std::map<std::string, std::string>> labels_of(const Json& v) {
  if (!v.is_object()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = it.value().get<std::string>();
  return out;
}

std::optional<std::vector<std::string>> strings_of(const Json& v) {
  if (!v.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const Json& e : v) out.push_back(e.get<std::string>());
  return out;
}

// Fields of a Schema2V1Image-shaped Go value (schema 1 and schema 2).
InspectData from_v1_image(const Json& img) {
  InspectData d;
  d.created = img["created"].get<std::string>();
  d.docker_version = img["docker_version"].get<std::string>();
  d.architecture = img["architecture"].get<std::string>();
  d.variant = img["variant"].get<std::string>();
  d.os = img["os"].get<std::string>();
  d.author = img["author"].get<std::string>();
  const Json& config = img["config"];
  if (config.is_object()) {
    d.labels = labels_of(config["Labels"]);
    d.env = strings_of(config["Env"]);
  }
  return d;
}

}  // namespace

InspectData inspect_data(const ImageManifest& m, std::string_view config_bytes) {
  if (const auto* s1 = dynamic_cast<const Schema1Manifest*>(&m)) {
    Json img = gojson::unmarshal(s1->history().at(0), schema2_v1_image_type());
    InspectData d = from_v1_image(img);
    d.tag = s1->tag();
    return d;
  }
  if (m.mime_type() == media_type::kOciManifest) {
    std::string config_type = m.config_info().media_type;
    if (config_type != media_type::kOciConfig) throw Error(non_image_artifact_message(config_type));
    Json v1 = gojson::unmarshal(config_bytes, oci_image_type());
    Json d1 = gojson::unmarshal(config_bytes, schema2_v1_image_type());
    InspectData d;
    if (!v1["created"].is_null()) d.created = v1["created"].get<std::string>();
    d.docker_version = d1["docker_version"].get<std::string>();
    d.labels = labels_of(v1["config"]["Labels"]);
    d.architecture = v1["architecture"].get<std::string>();
    d.variant = v1["variant"].get<std::string>();
    d.os = v1["os"].get<std::string>();
    d.author = v1["author"].get<std::string>();
    d.env = strings_of(v1["config"]["Env"]);
    return d;
  }
  return from_v1_image(gojson::unmarshal(config_bytes, schema2_image_type()));
}

bool docker_version_less(std::string_view a, std::string_view b) {
  if (a == b) return false;
  auto split = [](std::string_view s) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
      size_t dot = s.find('.', start);
      parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return parts;
  };
  // strconv.Atoi, with failures counting as 0 as in docker's compare.
  auto atoi = [](std::string_view s) -> int64_t {
    std::string_view digits = s;
    bool neg = false;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
      neg = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 18) return 0;
    int64_t n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return 0;
      n = n * 10 + (c - '0');
    }
    return neg ? -n : n;
  };
  std::vector<std::string_view> pa = split(a), pb = split(b);
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    int64_t x = i < pa.size() ? atoi(pa[i]) : 0;
    int64_t y = i < pb.size() ? atoi(pb[i]) : 0;
    if (x > y) return false;
    if (y > x) return true;
  }
  return false;
}

std::string schema1_to_schema2_config(const Schema1Manifest& m, const std::vector<std::string>& diff_ids) {
  std::vector<std::string> history = m.history();
  if (history.empty()) throw Error("image has no layers");
  std::string config = history[0];
  Json s1;
  try {
    s1 = gojson::unmarshal(config, schema2_v1_image_type());
  } catch (const Error& e) {
    rethrow_with_context("decoding configuration", e);
  }
  // Docker before 1.8.3 wrote v1Compatibility without some fields that are
  // not omitempty; re-encoding through the struct adds them.
  const std::string& docker_version = s1["docker_version"].get_ref<const std::string&>();
  if (!docker_version.empty() && docker_version_less(docker_version, "1.8.3")) {
    config = gojson::marshal_value(s1, schema2_v1_image_type());
  }

  Json converted_history = Json::array();
  const std::vector<Json>& compat = m.v1_compatibility();
  for (auto it = compat.rbegin(); it != compat.rend(); ++it) {
    const Json& c = *it;
    Json h = gojson::zero_value(schema2_history_type());
    h["created"] = c["created"];
    std::string created_by;
    const Json& cmd = c["container_config"]["Cmd"];
    if (cmd.is_array()) {
      for (size_t i = 0; i < cmd.size(); ++i) {
        if (i) created_by += ' ';
        created_by += cmd[i].get<std::string>();
      }
    }
    h["created_by"] = created_by;
    h["author"] = c["author"];
    h["comment"] = c["comment"];
    h["empty_layer"] = c["throwaway"];
    converted_history.push_back(gojson::to_plain(h, schema2_history_type()));
  }
  Json rootfs = Json::object();
  rootfs["type"] = "layers";
  if (!diff_ids.empty()) rootfs["diff_ids"] = diff_ids;

  // A map[string]*json.RawMessage round trip: members other than the ones
  // dropped or replaced keep their text (compacted), keys come out sorted.
  std::vector<std::pair<std::string, std::string>> raw = gojson::unmarshal_raw_object(config);
  std::erase_if(raw, [](const auto& p) {
    const std::string& k = p.first;
    return k == "id" || k == "parent" || k == "parent_id" || k == "layer_id" || k == "throwaway" || k == "Size" ||
           k == "rootfs" || k == "history";
  });
  raw.emplace_back("rootfs", gojson::marshal(rootfs));
  raw.emplace_back("history", gojson::marshal(converted_history));
  std::sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i) out += ',';
    out += gojson::marshal(Json(raw[i].first));
    out += ':';
    out += gojson::compact_raw(raw[i].second);
  }
  out += '}';
  return out;
}

}  // namespace ferry::manifest
