#include "transports/oci/layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "image/manifest/list.h"
#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"
#include "util/go_base64.h"
#include "util/go_quote.h"
#include "util/gojson.h"

namespace ferry::oci {

namespace {

using gojson::Json;
namespace mt = manifest::media_type;

// No index.json or manifest needs more than a few levels; refusing deep
// nesting before parsing keeps hostile input from building deep trees that
// cost stack wherever they are later walked or destroyed.
constexpr int kMaxJsonDepth = 64;

void check_depth(std::string_view bytes, const std::string& what) {
  int depth = 0;
  bool in_string = false, escaped = false, started = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      started = true;
      if (++depth > kMaxJsonDepth)
        throw Error("parsing " + what + ": JSON nested deeper than " +
                    std::to_string(kMaxJsonDepth) + " levels");
    } else if (c == '}' || c == ']') {
      if (--depth <= 0 && started) return;  // the first value ended; Go ignores the rest
    }
  }
}

// json.Decoder.Decode: the first JSON value of the input.
Json decode_first_value(std::string_view bytes, const std::string& what) {
  check_depth(bytes, what);
  std::istringstream in{std::string(bytes)};
  Json j;
  try {
    in >> j;
  } catch (const Json::exception& e) {
    std::string msg = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (!msg.empty() && msg[0] == '[') {
      size_t close = msg.find("] ");
      if (close != std::string::npos) msg = msg.substr(close + 2);
    }
    throw Error("parsing " + what + ": " + msg);
  }
  return j;
}

const char* type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    case Json::value_t::binary: return "binary";
    default: return "number";
  }
}

struct Decoder {
  const std::string& what;

  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw Error("parsing " + what + ": " + field + ": " + msg);
  }
  [[noreturn]] void wrong_type(const std::string& field, const char* want, const Json& got) const {
    fail(field, std::string("expected ") + want + ", got " + type_name(got));
  }

  // Struct field lookup as Go does it; null counts as absent.
  const Json* member(const Json& obj, const char* key) const {
    const Json* v = gojson::find_member_fold(obj, key);
    return (v && !v->is_null()) ? v : nullptr;
  }

  std::string str(const Json& obj, const char* key, const std::string& field) const {
    const Json* v = member(obj, key);
    if (!v) return "";
    if (!v->is_string()) wrong_type(field, "a string", *v);
    return v->get<std::string>();
  }

  int64_t int64(const Json& obj, const char* key, const std::string& field) const {
    const Json* v = member(obj, key);
    if (!v) return 0;
    if (!v->is_number()) wrong_type(field, "a number", *v);
    if (v->is_number_float()) fail(field, "expected an integer, got " + v->dump());
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      fail(field, "number " + v->dump() + " overflows int64");
    return v->get<int64_t>();
  }

  std::vector<std::string> str_list(const Json& obj, const char* key,
                                    const std::string& field) const {
    std::vector<std::string> out;
    const Json* v = member(obj, key);
    if (!v) return out;
    if (!v->is_array()) wrong_type(field, "an array", *v);
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& e = (*v)[i];
      if (e.is_null()) {
        out.emplace_back();
        continue;
      }
      if (!e.is_string()) wrong_type(field + "[" + std::to_string(i) + "]", "a string", e);
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  std::map<std::string, std::string> str_map(const Json& obj, const char* key,
                                             const std::string& field) const {
    std::map<std::string, std::string> out;
    const Json* v = member(obj, key);
    if (!v) return out;
    if (!v->is_object()) wrong_type(field, "an object", *v);
    for (const auto& [k, e] : v->items()) {
      if (e.is_null()) {
        out[k] = "";
        continue;
      }
      if (!e.is_string()) wrong_type(field + "." + go_quote(k), "a string", e);
      out[k] = e.get<std::string>();
    }
    return out;
  }

  manifest::Platform platform(const Json& j, const std::string& field) const {
    if (!j.is_object()) wrong_type(field, "an object", j);
    manifest::Platform p;
    p.architecture = str(j, "architecture", field + ".architecture");
    p.os = str(j, "os", field + ".os");
    p.os_version = str(j, "os.version", field + ".os.version");
    p.os_features = str_list(j, "os.features", field + ".os.features");
    p.variant = str(j, "variant", field + ".variant");
    return p;
  }

  IndexEntry entry(const Json& j, const std::string& field) const;
};

IndexEntry Decoder::entry(const Json& j, const std::string& field) const {
  if (!j.is_object()) wrong_type(field, "an object", j);
  IndexEntry e;
  e.desc.media_type = str(j, "mediaType", field + ".mediaType");
  e.desc.digest = str(j, "digest", field + ".digest");
  e.desc.size = int64(j, "size", field + ".size");
  e.desc.urls = str_list(j, "urls", field + ".urls");
  e.desc.annotations = str_map(j, "annotations", field + ".annotations");
  if (const Json* data = member(j, "data")) {
    if (!data->is_string()) wrong_type(field + ".data", "a string", *data);
    try {
      e.data = go_base64_decode(data->get<std::string>());
    } catch (const Error& err) {
      fail(field + ".data", err.what());
    }
  }
  if (const Json* p = member(j, "platform")) e.desc.platform = platform(*p, field + ".platform");
  e.desc.artifact_type = str(j, "artifactType", field + ".artifactType");
  return e;
}

Json entry_json(const IndexEntry& e) {
  // imgspecv1.Descriptor field order; mediaType, digest and size always.
  Json j = Json::object();
  j["mediaType"] = e.desc.media_type;
  j["digest"] = e.desc.digest;
  j["size"] = e.desc.size;
  if (!e.desc.urls.empty()) j["urls"] = e.desc.urls;
  if (!e.desc.annotations.empty()) {
    Json a = Json::object();
    for (const auto& [k, v] : e.desc.annotations) a[k] = v;  // std::map: Go's sorted keys
    j["annotations"] = std::move(a);
  }
  if (!e.data.empty()) j["data"] = go_base64_encode(e.data);
  if (e.desc.platform) {
    const manifest::Platform& p = *e.desc.platform;
    Json pj = Json::object();
    pj["architecture"] = p.architecture;
    pj["os"] = p.os;
    if (!p.os_version.empty()) pj["os.version"] = p.os_version;
    if (!p.os_features.empty()) pj["os.features"] = p.os_features;
    if (!p.variant.empty()) pj["variant"] = p.variant;
    j["platform"] = std::move(pj);
  }
  if (!e.desc.artifact_type.empty()) j["artifactType"] = e.desc.artifact_type;
  return j;
}

bool is_image_manifest(const std::string& t) {
  return t == mt::kOciManifest || t == mt::kDockerV2Schema2;
}

struct BlobWalker {
  const LayoutPaths& paths;
  std::set<std::string>& out;
  std::set<std::string> expanded;  // manifests already read: each adds the same blobs again

  void walk(const IndexEntry& e, int depth) {
    const std::string& digest = e.desc.digest;
    std::string path = paths.blob_path(digest);  // validates before touching the disk
    out.insert(digest);
    if (!is_image_manifest(e.desc.media_type) && !manifest::is_list_mime(e.desc.media_type))
      throw Error("unsupported mediaType in index: " + go_quote(e.desc.media_type));
    if (!expanded.insert(digest).second) return;
    std::string bytes = read_file(path, kMaxManifestBytes);
    if (manifest::is_list_mime(e.desc.media_type)) {
      if (depth >= kMaxIndexNesting)
        throw Error("index " + digest + " is nested deeper than " +
                    std::to_string(kMaxIndexNesting) + " levels");
      Index nested = parse_index(bytes, path);
      for (const IndexEntry& child : nested.manifests) walk(child, depth + 1);
      return;
    }
    Json j = decode_first_value(bytes, path);
    Decoder d{path};
    if (!j.is_object()) d.wrong_type("manifest", "an object", j);
    if (const Json* config = d.member(j, "config"))
      out.insert(d.entry(*config, "config").desc.digest);
    if (const Json* layers = d.member(j, "layers")) {
      if (!layers->is_array()) d.wrong_type("layers", "an array", *layers);
      for (size_t i = 0; i < layers->size(); ++i)
        out.insert(d.entry((*layers)[i], "layers[" + std::to_string(i) + "]").desc.digest);
    }
  }
};

}  // namespace


Index parse_index(std::string_view bytes, const std::string& what) {
  Json j = decode_first_value(bytes, what);
  Decoder d{what};
  if (!j.is_object()) d.wrong_type("index", "an object", j);
  Index index;
  index.schema_version = d.int64(j, "schemaVersion", "schemaVersion");
  index.media_type = d.str(j, "mediaType", "mediaType");
  index.artifact_type = d.str(j, "artifactType", "artifactType");
  if (const Json* m = d.member(j, "manifests")) {
    if (!m->is_array()) d.wrong_type("manifests", "an array", *m);
    index.manifests.reserve(m->size());
    for (size_t i = 0; i < m->size(); ++i)
      index.manifests.push_back(d.entry((*m)[i], "manifests[" + std::to_string(i) + "]"));
  }
  if (const Json* s = d.member(j, "subject")) index.subject = d.entry(*s, "subject");
  index.annotations = d.str_map(j, "annotations", "annotations");
  return index;
}

std::string serialize_index(const Index& index) {
  // imgspecv1.Index field order.
  Json j = Json::object();
  j["schemaVersion"] = index.schema_version == 0 ? 2 : index.schema_version;
  j["mediaType"] = mt::kOciIndex;
  if (!index.artifact_type.empty()) j["artifactType"] = index.artifact_type;
  Json m = Json::array();
  for (const IndexEntry& e : index.manifests) m.push_back(entry_json(e));
  j["manifests"] = std::move(m);
  if (index.subject) j["subject"] = entry_json(*index.subject);
  if (!index.annotations.empty()) {
    Json a = Json::object();
    for (const auto& [k, v] : index.annotations) a[k] = v;
    j["annotations"] = std::move(a);
  }
  return gojson::marshal(j);
}

std::string join_path(std::string_view a, std::string_view b) {
  if (a.empty()) return b.empty() ? "" : clean_path(b);
  if (b.empty()) return clean_path(a);
  std::string s(a);
  s += '/';
  s += b;
  return clean_path(s);
}

LayoutPaths::LayoutPaths(std::string dir, std::string shared_blob_dir)
    : dir_(std::move(dir)), shared_(std::move(shared_blob_dir)) {}

std::string LayoutPaths::blob_path(std::string_view digest) const {
  if (shared_.empty()) return local_blob_path(digest);
  if (const char* problem = digest_problem(digest))
    throw Error("unexpected digest reference " + go_quote(digest) + ": " + problem);
  return join_path(join_path(shared_, digest_algorithm(digest)), digest_hex(digest));
}

std::string LayoutPaths::local_blob_path(std::string_view digest) const {
  if (const char* problem = digest_problem(digest))
    throw Error("unexpected digest reference " + go_quote(digest) + ": " + problem);
  std::string alg_dir = join_path(join_path(dir_, "blobs"), digest_algorithm(digest));
  return join_path(alg_dir, digest_hex(digest));
}

Index LayoutPaths::read_index() const {
  std::string path = index_path();
  return parse_index(read_file(path, kMaxIndexBytes), path);
}

bool LayoutPaths::index_exists() const {
  struct stat st;
  // As c/image's indexExists: only a definite "not there" counts as absent,
  // so an unreadable index.json fails loudly instead of being replaced.
  return ::stat(index_path().c_str(), &st) == 0 || errno != ENOENT;
}

LayoutLock::LayoutLock(const std::string& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw Error("open " + dir + ": " + errno_text(errno));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd_);
    throw Error("locking " + dir + ": " + errno_text(e));
  }
}

LayoutLock::~LayoutLock() { ::close(fd_); }

size_t select_entry(const Index& index, const std::string& image, int source_index) {
  if (source_index >= 0) {
    if (static_cast<size_t>(source_index) >= index.manifests.size())
      throw Error("index " + std::to_string(source_index) + " is too large, only " +
                  std::to_string(index.manifests.size()) + " entries available");
    return static_cast<size_t>(source_index);
  }
  if (image.empty()) {
    if (index.manifests.size() != 1) throw Error("more than one image in oci, choose an image");
    return 0;
  }
  std::vector<std::string> unsupported;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const manifest::Descriptor& d = index.manifests[i].desc;
    auto it = d.annotations.find(kRefNameAnnotation);
    if (it == d.annotations.end() || it->second != image) continue;
    if (is_image_manifest(d.media_type) || manifest::is_list_mime(d.media_type)) return i;
    unsupported.push_back(d.media_type);
  }
  if (!unsupported.empty()) {
    std::string list = "[";
    for (size_t i = 0; i < unsupported.size(); ++i) {
      if (i) list += ' ';
      list += go_quote(unsupported[i]);
    }
    throw Error("reference " + go_quote(image) + " matches unsupported manifest MIME types " +
                list + "]");
  }
  throw NotFoundError("no descriptor found for reference " + go_quote(image));
}

void add_manifest(Index& index, const IndexEntry& entry) {
  auto name_of = [](const IndexEntry& e) -> std::string {
    auto it = e.desc.annotations.find(kRefNameAnnotation);
    return it == e.desc.annotations.end() ? "" : it->second;
  };
  std::string name = name_of(entry);
  if (!name.empty()) {
    for (IndexEntry& e : index.manifests) {
      if (name_of(e) == name) {
        e.desc.annotations.erase(kRefNameAnnotation);
        break;
      }
    }
  }
  for (IndexEntry& e : index.manifests) {
    if (e.desc.digest == entry.desc.digest && name_of(e).empty()) {
      e = entry;
      return;
    }
  }
  index.manifests.push_back(entry);
}

std::set<std::string> referenced_blobs(const LayoutPaths& paths,
                                       const std::vector<IndexEntry>& entries) {
  std::set<std::string> out;
  BlobWalker w{paths, out, {}};
  for (const IndexEntry& e : entries) w.walk(e, 0);
  return out;
}

}  // namespace ferry::oci
