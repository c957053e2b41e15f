#include "ops/inspect.h"

#include "image/manifest/config.h"
#include "image/manifest/list.h"
#include "image/manifest/manifest.h"
#include "image/manifest/platform.h"
#include "util/error.h"
#include "util/gojson.h"
#include "util/gotemplate.h"

namespace ferry {

namespace {

using Json = gojson::Json;
using gotemplate::GoKind;

constexpr size_t kMaxConfigSize = 4 << 20;

std::string read_config(ImageSource& src, const manifest::Descriptor& d) {
  int64_t size = -1;
  auto raw = src.get_blob(d, &size);
  DigestVerifyingReader verified(std::move(raw), d.digest, d.size >= 0 ? d.size : size);
  return read_all(verified, kMaxConfigSize);
}

// skopeo's inspect output struct, field for field (cmd/skopeo/inspect/output.go).
Json inspect_output(const ImageReference& ref, const std::string& top_digest,
                    const manifest::ImageManifest& m, const std::string& config_bytes,
                    const std::vector<std::string>& repo_tags) {
  manifest::InspectData d = manifest::inspect_data(m, config_bytes);
  Json out = Json::object();
  if (auto dr = ref.docker_reference()) out["Name"] = dr->name();
  if (!d.tag.empty()) out["Tag"] = d.tag;
  out["Digest"] = top_digest;
  out["RepoTags"] = repo_tags;
  out["Created"] = d.created ? Json(*d.created) : Json(nullptr);
  out["DockerVersion"] = d.docker_version;
  if (d.labels) {
    Json labels = Json::object();
    for (const auto& [k, v] : *d.labels) labels[k] = v;  // std::map: Go's sorted order
    out["Labels"] = labels;
  } else {
    out["Labels"] = nullptr;
  }
  out["Architecture"] = d.architecture;
  out["Os"] = d.os;
  Json layers = Json::array();
  Json layers_data = Json::array();
  for (const auto& l : m.layer_infos()) {
    if (l.empty_layer) continue;
    layers.push_back(l.desc.digest);
    Json ld = Json::object();
    ld["MIMEType"] = l.desc.media_type;
    ld["Digest"] = l.desc.digest;
    ld["Size"] = l.desc.size;
    if (l.desc.annotations.empty()) {
      ld["Annotations"] = nullptr;
    } else {
      Json a = Json::object();
      for (const auto& [k, v] : l.desc.annotations) a[k] = v;
      ld["Annotations"] = a;
    }
    layers_data.push_back(ld);
  }
  out["Layers"] = layers;
  out["LayersData"] = layers_data;
  out["Env"] = d.env ? Json(*d.env) : Json(nullptr);
  return out;
}

const gotemplate::TypeHints& output_hints() {
  static const gotemplate::TypeHints h = {
      {"/Name", GoKind::OmitEmpty},
      {"/Tag", GoKind::OmitEmpty},
      {"/RepoTags", GoKind::Slice},
      {"/Created", GoKind::Time},
      {"/Labels", GoKind::Map},
      {"/Layers", GoKind::Slice},
      {"/LayersData", GoKind::Slice},
      {"/LayersData/*/Annotations", GoKind::Map},
      {"/Env", GoKind::Slice},
  };
  return h;
}

// Templates over `--config` see Go's imgspecv1.Image field names, not its
// JSON keys (.OS, .RootFS.DiffIDs, .History...).
Json oci_config_go_fields(const Json& c) {
  static const std::vector<std::pair<const char*, const char*>> top = {
      {"created", "Created"},       {"author", "Author"},          {"architecture", "Architecture"},
      {"variant", "Variant"},       {"os", "OS"},                  {"os.version", "OSVersion"},
      {"os.features", "OSFeatures"}, {"config", "Config"},          {"rootfs", "RootFS"},
      {"history", "History"}};
  Json out = Json::object();
  for (const auto& [json_key, go_name] : top) {
    auto it = c.find(json_key);
    Json v = it == c.end() ? Json(nullptr) : *it;
    if (std::string(json_key) == "rootfs" && v.is_object()) {
      Json r = Json::object();
      r["Type"] = v.value("type", "");
      r["DiffIDs"] = v.contains("diff_ids") ? v["diff_ids"] : Json(nullptr);
      v = r;
    } else if (std::string(json_key) == "history" && v.is_array()) {
      Json hs = Json::array();
      for (const auto& h : v) {
        Json e = Json::object();
        e["Created"] = h.contains("created") ? h["created"] : Json(nullptr);
        e["CreatedBy"] = h.value("created_by", "");
        e["Author"] = h.value("author", "");
        e["Comment"] = h.value("comment", "");
        e["EmptyLayer"] = h.value("empty_layer", false);
        hs.push_back(e);
      }
      v = hs;
    } else if (v.is_null()) {
      if (std::string(json_key) == "config") v = Json::object();
      else if (std::string(json_key) != "created") v = "";
    }
    out[go_name] = v;
  }
  return out;
}

const gotemplate::TypeHints& config_hints() {
  static const gotemplate::TypeHints h = {
      {"/Created", GoKind::Time},         {"/OSFeatures", GoKind::Slice},
      {"/Config/ExposedPorts", GoKind::Map}, {"/Config/Env", GoKind::Slice},
      {"/Config/Entrypoint", GoKind::Slice}, {"/Config/Cmd", GoKind::Slice},
      {"/Config/Volumes", GoKind::Map},   {"/Config/Labels", GoKind::Map},
      {"/RootFS/DiffIDs", GoKind::Slice}, {"/History", GoKind::Slice},
      {"/History/*/Created", GoKind::Time},
  };
  return h;
}

// skopeo's check: ^\s*(json|{{\s*json *\.?\s*}})\s*$ prints the plain JSON.
bool is_default_json_format(const std::string& f) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = f.size();
  while (b < e && is_space(f[b])) ++b;
  while (e > b && is_space(f[e - 1])) --e;
  std::string_view t(f.data() + b, e - b);
  if (t == "json") return true;
  if (t.substr(0, 2) != "{{" || t.size() < 4 || t.substr(t.size() - 2) != "}}") return false;
  t = t.substr(2, t.size() - 4);
  size_t i = 0;
  while (i < t.size() && is_space(t[i])) ++i;
  if (t.substr(i, 4) != "json") return false;
  i += 4;
  while (i < t.size() && t[i] == ' ') ++i;
  if (i < t.size() && t[i] == '.') ++i;
  while (i < t.size() && is_space(t[i])) ++i;
  return i == t.size();
}

std::string render_output(const Json& data, const std::string& indented_json,
                          const std::string& format, const gotemplate::TypeHints& hints) {
  if (format.empty() || is_default_json_format(format)) return indented_json + "\n";
  return gotemplate::render_report(format, data, hints);
}

}  // namespace

std::string inspect_image(const ImageReference& ref, const SystemContext& ctx,
                          const InspectOptions& opts) {
  std::unique_ptr<ImageSource> src;
  try {
    run_with_retries(opts.retry, [&] { src = ref.new_source(ctx); });
  } catch (const Error& e) {
    rethrow_with_context("Error parsing image name \"" + ref.to_string() + "\"", e);
  }
  ManifestBytes top;
  try {
    run_with_retries(opts.retry, [&] { top = src->get_manifest(); });
  } catch (const Error& e) {
    rethrow_with_context("Error retrieving manifest for image", e);
  }
  if (opts.raw && !opts.config) return top.bytes;

  const std::string top_digest = manifest::manifest_digest(top.bytes);
  ManifestBytes single = top;
  std::unique_ptr<manifest::ImageManifest> m;
  try {
    if (manifest::is_list_mime(top.mime_type)) {
      auto list = manifest::ManifestList::parse(top.bytes, top.mime_type);
      std::string digest;
      try {
        digest = list.choose_instance(
            manifest::platform_from_overrides(ctx.os_choice, ctx.arch_choice, ctx.variant_choice));
      } catch (const Error& e) {
        throw Error(std::string("choosing image instance: ") + e.what());
      }
      single = src->get_manifest(digest);
    }
    m = manifest::parse_image_manifest(single.bytes, single.mime_type);
  } catch (const Error& e) {
    throw Error(std::string("Error parsing manifest for image: ") + e.what(), e.exit_code());
  }

  std::string config_bytes;
  const manifest::Descriptor cfg = m->config_info();
  if (!cfg.digest.empty()) {
    try {
      run_with_retries(opts.retry, [&] { config_bytes = read_config(*src, cfg); });
    } catch (const Error& e) {
      std::throw_with_nested(Error(std::string("Error reading configuration blob: ") + e.what()));
    }
  }

  if (opts.config) {
    if (opts.raw) return config_bytes;
    std::string indented = manifest::inspect_config_json(*m, config_bytes);
    Json data;
    if (!opts.format.empty() && !is_default_json_format(opts.format))
      data = oci_config_go_fields(Json::parse(indented));
    return render_output(data, indented, opts.format, config_hints());
  }

  std::vector<std::string> tags;
  if (!opts.no_tags && opts.list_tags) run_with_retries(opts.retry, [&] { tags = opts.list_tags(*src); });
  Json out = inspect_output(ref, top_digest, *m, config_bytes, tags);
  return render_output(out, gojson::marshal_indent(out, "", "    "), opts.format, output_hints());
}

}  // namespace ferry
