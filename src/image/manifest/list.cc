#include "image/manifest/list.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "util/error.h"
#include "util/go_base64.h"
#include "util/go_quote.h"
#include "util/gojson.h"

namespace ferry::manifest {

namespace {

using gojson::Json;

enum class ListKind { DockerList, OciIndex };

// Go's encoding/json refuses documents nested deeper than this.
constexpr size_t kMaxNesting = 10000;

// ---------------------------------------------------------------- helpers

const char* go_type_name(ListKind kind) { return kind == ListKind::DockerList ? "Schema2List" : "OCI1Index"; }

// c/image's NormalizedMIMEType: unknown types are taken for signed schema 1.
std::string_view normalized_mime(std::string_view mime) {
  using namespace media_type;
  for (const char* known : {kDockerV2Schema1, kDockerV2Schema1Signed, kOciManifest, kOciIndex, kDockerV2Schema2,
                            kDockerV2List})
    if (mime == known) return known;
  return kDockerV2Schema1Signed;
}

// ---------------------------------------------------------------- decoding

// The list as Go's json.Unmarshal leaves it, before c/image clones it.
struct ParsedList {
  int64_t schema_version = 0;
  std::string media_type;
  bool manifests_null = false;
  std::vector<Descriptor> manifests;
  std::vector<std::string> data;  // OCI descriptor "data", decoded
  std::map<std::string, std::string> annotations;
};

// Where a value sits in the document; rendered only for an error message,
// so decoding a large list builds no path strings.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // member name; empty for an array element
  size_t index = 0;

  std::string str() const {
    std::string s = parent ? parent->str() : std::string();
    if (key.empty()) return s + "[" + std::to_string(index) + "]";
    if (!s.empty()) s += '.';
    s.append(key);
    return s;
  }
};

// Follows encoding/json into a Go struct: keys match case-insensitively,
// unknown keys are ignored, null leaves strings and numbers alone and
// clears slices, maps and pointers; anything else of the wrong type fails.
class Decoder {
 public:
  explicit Decoder(ListKind kind) : kind_(kind) {}

  ParsedList list(const Json& doc) {
    ParsedList p;
    if (kind_ == ListKind::OciIndex) {
      p.schema_version = 2;
      p.media_type = media_type::kOciIndex;
    }
    if (doc.is_null()) return p;
    if (!doc.is_object()) type_error(nullptr, doc, "object");
    if (const Json* v = field(doc, "schemaVersion")) integer(*v, {nullptr, "schemaVersion"}, p.schema_version);
    if (const Json* v = field(doc, "mediaType")) string(*v, {nullptr, "mediaType"}, p.media_type);
    if (const Json* v = field(doc, "manifests")) {
      const Path path{nullptr, "manifests"};
      if (v->is_null()) {
        p.manifests_null = true;
      } else if (!v->is_array()) {
        type_error(&path, *v, "array");
      } else {
        p.manifests.reserve(v->size());
        p.data.resize(v->size());
        for (size_t i = 0; i < v->size(); i++) p.manifests.push_back(descriptor((*v)[i], {&path, {}, i}, p.data[i]));
      }
    }
    if (kind_ == ListKind::OciIndex)
      if (const Json* v = field(doc, "annotations")) string_map(*v, {nullptr, "annotations"}, p.annotations);
    return p;
  }

 private:
  static const Json* field(const Json& obj, const char* key) { return gojson::find_member_fold(obj, key); }

  std::string prefix() const { return std::string("unmarshaling ") + go_type_name(kind_) + ": "; }

  [[noreturn]] void type_error(const Path* path, const Json& v, const char* go_type) const {
    std::string got;
    switch (v.type()) {
      case Json::value_t::object: got = "object"; break;
      case Json::value_t::array: got = "array"; break;
      case Json::value_t::string: got = "string"; break;
      case Json::value_t::boolean: got = "bool"; break;
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float: got = "number " + v.dump(); break;
      default: got = "value"; break;
    }
    std::string where = path ? "field " + path->str() : "the top level";
    throw Error(prefix() + "json: cannot unmarshal " + got + " into " + where + " of type " + go_type);
  }

  void string(const Json& v, const Path& path, std::string& out) const {
    if (v.is_null()) return;
    if (!v.is_string()) type_error(&path, v, "string");
    out = v.get<std::string>();
  }

  void integer(const Json& v, const Path& path, int64_t& out) const {
    if (v.is_null()) return;
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > uint64_t(std::numeric_limits<int64_t>::max())) type_error(&path, v, "int64");
      out = int64_t(u);
    } else if (v.is_number_integer()) {
      out = v.get<int64_t>();
    } else {
      type_error(&path, v, "int64");
    }
  }

  void strings(const Json& v, const Path& path, std::vector<std::string>& out) const {
    out.clear();
    if (v.is_null()) return;
    if (!v.is_array()) type_error(&path, v, "[]string");
    out.resize(v.size());
    for (size_t i = 0; i < v.size(); i++) string(v[i], {&path, {}, i}, out[i]);
  }

  void string_map(const Json& v, const Path& path, std::map<std::string, std::string>& out) const {
    out.clear();
    if (v.is_null()) return;
    if (!v.is_object()) type_error(&path, v, "map[string]string");
    for (auto it = v.begin(); it != v.end(); ++it) string(it.value(), {&path, it.key()}, out[it.key()]);
  }

  Platform platform(const Json& v, const Path& path) const {
    Platform p;
    if (v.is_null()) return p;
    if (!v.is_object()) type_error(&path, v, "platform object");
    if (const Json* f = field(v, "architecture")) string(*f, {&path, "architecture"}, p.architecture);
    if (const Json* f = field(v, "os")) string(*f, {&path, "os"}, p.os);
    if (const Json* f = field(v, "os.version")) string(*f, {&path, "os.version"}, p.os_version);
    if (const Json* f = field(v, "os.features")) strings(*f, {&path, "os.features"}, p.os_features);
    if (const Json* f = field(v, "variant")) string(*f, {&path, "variant"}, p.variant);
    // image-spec 1.1.0-rc2 dropped "features" from the OCI platform.
    if (kind_ == ListKind::DockerList)
      if (const Json* f = field(v, "features")) strings(*f, {&path, "features"}, p.features);
    return p;
  }

  Descriptor descriptor(const Json& v, const Path& path, std::string& data) const {
    Descriptor d;
    d.size = 0;
    if (kind_ == ListKind::DockerList) d.platform = Platform{};
    if (v.is_null()) return d;
    if (!v.is_object()) type_error(&path, v, "descriptor object");
    if (const Json* f = field(v, "mediaType")) string(*f, {&path, "mediaType"}, d.media_type);
    if (const Json* f = field(v, "size")) integer(*f, {&path, "size"}, d.size);
    if (const Json* f = field(v, "digest")) string(*f, {&path, "digest"}, d.digest);
    if (const Json* f = field(v, "urls")) strings(*f, {&path, "urls"}, d.urls);
    if (const Json* f = field(v, "platform")) {
      if (kind_ == ListKind::DockerList || !f->is_null()) d.platform = platform(*f, {&path, "platform"});
    }
    if (kind_ == ListKind::OciIndex) {
      if (const Json* f = field(v, "annotations")) string_map(*f, {&path, "annotations"}, d.annotations);
      if (const Json* f = field(v, "artifactType")) string(*f, {&path, "artifactType"}, d.artifact_type);
      if (const Json* f = field(v, "data")) {
        const Path data_path{&path, "data"};
        std::string b64;
        string(*f, data_path, b64);
        try {
          data = go_base64_decode(b64);
        } catch (const Error&) {
          throw Error(prefix() + "field " + data_path.str() + ": illegal base64 data");
        }
      }
    }
    return d;
  }

  ListKind kind_;
};

Json parse_json(std::string_view bytes, ListKind kind) {
  const std::string prefix = std::string("unmarshaling ") + go_type_name(kind) + ": ";
  // nlohmann skips a UTF-8 byte order mark; Go does not.
  if (bytes.starts_with("\xEF\xBB\xBF")) throw Error(prefix + "invalid character at byte 0 (byte order mark)");
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < bytes.size(); i++) {
    char c = bytes[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxNesting)
        throw Error(prefix + "JSON nested deeper than " + std::to_string(kMaxNesting) + " levels at byte " +
                    std::to_string(i));
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  try {
    // Go decodes each byte of invalid UTF-8 inside a JSON string as U+FFFD;
    // nlohmann rejects the document instead. Outside strings such bytes are a
    // syntax error either way, so replacing them up front gives Go's result.
    return Json::parse(go_replace_invalid_utf8(bytes));
  } catch (const nlohmann::json::exception& e) {
    // Syntax errors, and numbers beyond a double's range (which Go would
    // only reject where a field reads them).
    std::string msg = e.what();
    if (size_t pos = msg.find("] "); msg.starts_with("[json.exception") && pos != std::string::npos)
      msg = msg.substr(pos + 2);
    throw Error(prefix + msg);
  }
}

// ValidateUnambiguousManifestFormat: a list must not also look like an
// image manifest, or two parsers could disagree about what it is.
void reject_ambiguous(const Json& doc, std::string_view mime) {
  if (!doc.is_object()) return;
  std::vector<std::string> unexpected;
  for (const char* key : {"config", "fsLayers", "history", "layers"}) {
    const Json* v = gojson::find_member_fold(doc, key);
    if (v && !v->is_null()) unexpected.push_back(key);
  }
  if (unexpected.empty()) return;
  std::string list = "[]string{";
  for (size_t i = 0; i < unexpected.size(); i++) list += (i ? ", \"" : "\"") + unexpected[i] + "\"";
  list += "}";
  throw Error("rejecting ambiguous manifest, unexpected fields " + list + " in supposedly " + std::string(mime));
}

// ---------------------------------------------------------------- encoding

Json strings_json(const std::vector<std::string>& v) {
  Json a = Json::array();
  for (const std::string& s : v) a.push_back(s);
  return a;
}

Json platform_json(const Platform& p, ListKind kind) {
  Json o = Json::object();
  o["architecture"] = p.architecture;
  o["os"] = p.os;
  if (!p.os_version.empty()) o["os.version"] = p.os_version;
  if (!p.os_features.empty()) o["os.features"] = strings_json(p.os_features);
  if (!p.variant.empty()) o["variant"] = p.variant;
  if (kind == ListKind::DockerList && !p.features.empty()) o["features"] = strings_json(p.features);
  return o;
}

// Schema2ManifestDescriptor / image-spec Descriptor, in Go field order.
Json descriptor_json(const Descriptor& d, ListKind kind, const std::string* data) {
  Json o = Json::object();
  if (kind == ListKind::DockerList) {
    o["mediaType"] = d.media_type;
    o["size"] = d.size;
    o["digest"] = d.digest;
    if (!d.urls.empty()) o["urls"] = strings_json(d.urls);
    o["platform"] = platform_json(d.platform.value_or(Platform{}), kind);
    return o;
  }
  if (!d.media_type.empty()) o["mediaType"] = d.media_type;
  o["digest"] = d.digest;
  o["size"] = d.size;
  if (!d.urls.empty()) o["urls"] = strings_json(d.urls);
  if (!d.annotations.empty()) {
    Json a = Json::object();
    for (const auto& [k, v] : d.annotations) a[k] = v;
    o["annotations"] = std::move(a);
  }
  if (data && !data->empty()) o["data"] = go_base64_encode(*data);
  if (d.platform) o["platform"] = platform_json(*d.platform, kind);
  if (!d.artifact_type.empty()) o["artifactType"] = d.artifact_type;
  return o;
}

std::string marshal_list(ListKind kind, int64_t schema_version, const std::string& media_type, bool manifests_null,
                         const std::vector<Descriptor>& manifests, const std::vector<std::string>* data,
                         const std::map<std::string, std::string>& annotations) {
  Json o = Json::object();
  o["schemaVersion"] = schema_version;
  if (kind == ListKind::DockerList || !media_type.empty()) o["mediaType"] = media_type;
  if (manifests_null) {
    o["manifests"] = nullptr;
  } else {
    Json a = Json::array();
    for (size_t i = 0; i < manifests.size(); i++)
      a.push_back(descriptor_json(manifests[i], kind, data && i < data->size() ? &(*data)[i] : nullptr));
    o["manifests"] = std::move(a);
  }
  if (kind == ListKind::OciIndex && !annotations.empty()) {
    Json a = Json::object();
    for (const auto& [k, v] : annotations) a[k] = v;
    o["annotations"] = std::move(a);
  }
  return gojson::marshal(o);
}

// What c/image's FromComponents keeps of a descriptor when it clones a list.
Descriptor clone_descriptor(const Descriptor& d, ListKind kind) {
  Descriptor c;
  c.media_type = d.media_type;
  c.digest = d.digest;
  c.size = d.size;
  c.urls = d.urls;
  if (kind == ListKind::DockerList) {
    c.platform = d.platform.value_or(Platform{});
  } else {
    c.annotations = d.annotations;
    if (d.platform) {
      Platform p = *d.platform;
      p.features.clear();
      c.platform = std::move(p);
    }
  }
  return c;
}

}  // namespace

bool is_list_mime(std::string_view mime) { return mime == media_type::kDockerV2List || mime == media_type::kOciIndex; }

ManifestList ManifestList::parse(std::string_view bytes, std::string_view mime) {
  std::string_view normalized = normalized_mime(mime);
  ListKind kind;
  if (normalized == media_type::kDockerV2List)
    kind = ListKind::DockerList;
  else if (normalized == media_type::kOciIndex)
    kind = ListKind::OciIndex;
  else
    throw Error("Treating single images as manifest lists is not implemented");

  Json doc = parse_json(bytes, kind);
  ParsedList parsed = Decoder(kind).list(doc);
  reject_ambiguous(doc, normalized);

  ManifestList list;
  list.kind_ = kind == ListKind::DockerList ? Kind::DockerList : Kind::OciIndex;
  list.original_bytes_ = std::string(bytes);
  list.original_marshal_ = marshal_list(kind, parsed.schema_version, parsed.media_type, parsed.manifests_null,
                                        parsed.manifests, &parsed.data, parsed.annotations);
  list.manifests_.reserve(parsed.manifests.size());
  for (const Descriptor& d : parsed.manifests) list.manifests_.push_back(clone_descriptor(d, kind));
  if (kind == ListKind::OciIndex) list.annotations_ = std::move(parsed.annotations);
  return list;
}

std::string ManifestList::mime_type() const {
  return kind_ == Kind::DockerList ? media_type::kDockerV2List : media_type::kOciIndex;
}

std::string ManifestList::marshal() const {
  ListKind kind = kind_ == Kind::DockerList ? ListKind::DockerList : ListKind::OciIndex;
  return marshal_list(kind, 2, mime_type(), false, manifests_, nullptr, annotations_);
}

bool ManifestList::changed() const { return marshal() != original_marshal_; }

std::string ManifestList::serialize() const {
  std::string now = marshal();
  return now == original_marshal_ ? original_bytes_ : now;
}

void ManifestList::update_instances(const std::vector<Descriptor>& updated) {
  const std::string who = kind_ == Kind::DockerList ? "Schema2List" : "OCI1Index";
  const size_t n = updated.size();
  if (n != manifests_.size())
    throw Error("incorrect number of update entries passed to " + who + ".UpdateInstances: expected " +
                std::to_string(manifests_.size()) + ", got " + std::to_string(n));
  for (size_t i = 0; i < n; i++) {
    const std::string which = "update " + std::to_string(i + 1) + " of " + std::to_string(n) + " passed to " + who +
                              ".UpdateInstances";
    if (const char* problem = go_digest_problem(updated[i].digest))
      throw Error(which + " contained an invalid digest: " + problem);
    if (updated[i].size < 0)
      throw Error(which + " had an invalid size (" + std::to_string(updated[i].size) + ")");
    if (updated[i].media_type.empty())
      throw Error(which + " had no media type (was " + go_quote(manifests_[i].media_type) + ")");
  }
  for (size_t i = 0; i < n; i++) {
    manifests_[i].digest = updated[i].digest;
    manifests_[i].size = updated[i].size;
    manifests_[i].media_type = updated[i].media_type;
  }
}

ManifestList ManifestList::convert_to(std::string_view target_mime) const {
  std::string_view normalized = normalized_mime(target_mime);
  const bool to_docker = normalized == media_type::kDockerV2List;
  if (!to_docker && normalized != media_type::kOciIndex)
    throw Error(std::string(kind_ == Kind::DockerList ? "Can not convert manifest list" : "Can not convert image index") +
                " to MIME type " + go_quote(target_mime) + ", which is not a list type");

  ManifestList out = *this;
  out.kind_ = to_docker ? Kind::DockerList : Kind::OciIndex;
  if ((kind_ == Kind::DockerList) == to_docker) return out;  // a clone, already normalized

  out.annotations_.clear();
  for (Descriptor& d : out.manifests_) {
    d.annotations.clear();
    d.artifact_type.clear();
    if (to_docker) {
      // A Docker list entry must name a platform; c/image assumes its own.
      if (!d.platform) {
        Platform p;
        p.os = runtime_platform().os;
        p.architecture = runtime_platform().arch;
        d.platform = std::move(p);
      }
    } else if (d.platform) {
      d.platform->features.clear();  // image-spec has no such field
    }
  }
  return out;
}

std::string ManifestList::choose_instance(const PlatformChoice& choice) const {
  std::vector<Platform> wanted = wanted_platforms(platform_from_overrides(choice.os, choice.arch, choice.variant));
  for (const Platform& w : wanted)
    for (const Descriptor& d : manifests_)
      if (d.platform && platform_matches(*d.platform, w)) return d.digest;
  if (kind_ == Kind::OciIndex)
    for (const Descriptor& d : manifests_)
      if (!d.platform) return d.digest;
  const Platform& first = wanted.front();
  throw Error(std::string("no image found in ") + (kind_ == Kind::DockerList ? "manifest list" : "image index") +
              " for architecture " + first.architecture + ", variant " + go_quote(first.variant) + ", OS " + first.os);
}

}  // namespace ferry::manifest
