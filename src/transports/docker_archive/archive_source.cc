#include "transports/docker_archive/archive_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <map>
#include <mutex>
#include <set>

#include "image/manifest/config.h"
#include "image/manifest/media_types.h"
#include "image/manifest/schema2.h"
#include "io/compression.h"
#include "io/digest.h"
#include "io/fs.h"
#include "io/tar.h"
#include "transports/docker_archive/archive_reference.h"
#include "util/error.h"
#include "util/gojson.h"
#include "util/gotype.h"

namespace ferry::docker_archive {

namespace {

using gojson::Json;
using gojson::Kind;
using gojson::Type;

// Links inside an archive are followed this many times at most; docker save
// needs one (`<id>/layer.tar` -> `../<diffID>.tar`), so more is hostile.
constexpr int kMaxLinkHops = 8;

// The component itself is absent (as opposed to a link target): c/image
// reports missing layers differently from broken ones.
class ComponentMissing : public Error {
 public:
  using Error::Error;
};

// c/image's tarfile.ManifestItem, so manifest.json is accepted and rejected
// exactly as Go's json.Unmarshal does.
const Type& manifest_type() {
  static const Type image_id{Kind::kString, "tarfile.imageID", {}, nullptr};
  static const Type layer_sources{Kind::kMap, "map[digest.Digest]manifest.Schema2Descriptor", {},
                                  &manifest::schema2_descriptor_type()};
  static const Type item{Kind::kStruct,
                         "tarfile.ManifestItem",
                         {
                             {"Config", &gojson::string_type()},
                             {"RepoTags", &gojson::string_slice_type()},
                             {"Layers", &gojson::string_slice_type()},
                             {"Parent", &image_id, true},
                             {"LayerSources", &layer_sources, true},
                         },
                         nullptr};
  static const Type t{Kind::kSlice, "[]tarfile.ManifestItem", {}, &item};
  return t;
}

std::vector<std::string> strings_of(const Json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const Json& s : v) out.push_back(s.get<std::string>());
  }
  return out;
}

std::string parent_dir(const std::string& clean_name) {
  size_t slash = clean_name.rfind('/');
  return slash == std::string::npos ? "." : clean_name.substr(0, slash);
}

// The data of the entry a TarReader is positioned at; owns the reader (and
// so its file descriptor), which is what makes concurrent reads safe.
class ComponentReader : public Reader {
 public:
  explicit ComponentReader(std::unique_ptr<TarReader> tar) : tar_(std::move(tar)) {}
  size_t read(uint8_t* buf, size_t n) override { return tar_->data().read(buf, n); }

 private:
  std::unique_ptr<TarReader> tar_;
};

// Copies `in` to a new temporary file under dir; returns its path.
std::string copy_to_temp_file(Reader& in, const std::string& dir) {
  std::string tmpl = dir + "/container_images_docker-tar";
  std::string pattern = tmpl + "XXXXXX";
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(std::string("creating temporary file: ") + path_error("open", tmpl + "*", err).what());
  }
  const std::string path = pattern;
  try {
    std::vector<uint8_t> buf(kCopyBufferSize);
    for (;;) {
      size_t n = in.read(buf.data(), buf.size());
      if (n == 0) break;
      const uint8_t* p = buf.data();
      while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          throw path_error("write", path, errno);
        }
        p += w;
        n -= static_cast<size_t>(w);
      }
    }
    if (::close(fd) != 0) {
      fd = -1;
      throw path_error("close", path, errno);
    }
    fd = -1;
  } catch (const Error& e) {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    rethrow_with_context("copying contents to temporary file " + gojson::go_quote(path), e);
  }
  return path;
}

}  // namespace

// ---- ArchiveReader -----------------------------------------------------------

ArchiveReader::ArchiveReader(const std::string& path, const SystemContext& ctx) : path_(path) {
  std::unique_ptr<PeekReader> in;
  bool regular = false;
  try {
    auto file = std::make_unique<FileReader>(path);
    regular = file->size() >= 0;
    in = std::make_unique<PeekReader>(std::move(file));
  } catch (const Error& e) {
    rethrow_with_context("opening file " + gojson::go_quote(path), e);
  }
  std::string head;
  try {
    head = in->peek(8);
  } catch (const Error& e) {
    rethrow_with_context("detecting compression for file " + gojson::go_quote(path), e);
  }
  const Compression c = detect_compression(reinterpret_cast<const uint8_t*>(head.data()), head.size());
  if (regular && c == Compression::None) {
    tar_path_ = path;
  } else {
    // Random access needs a plain, seekable file; decompressing once here
    // beats decompressing from the start for every component.
    std::unique_ptr<Reader> plain = make_decompressor(std::move(in), c);
    tar_path_ = copy_to_temp_file(*plain, ctx.big_files_temp_dir);
    remove_on_close_ = true;
  }

  try {
    const std::string bytes = read_component("manifest.json", kMaxTarManifestSize);
    Json items;
    try {
      items = gojson::unmarshal(bytes, manifest_type());
    } catch (const Error& e) {
      rethrow_with_context("decoding tar manifest.json", e);
    }
    if (items.is_array()) {
      for (const Json& item : items) {
        ManifestItem m;
        m.config = item.at("Config").get<std::string>();
        m.repo_tags = strings_of(item.at("RepoTags"));
        m.layers = strings_of(item.at("Layers"));
        manifest_.push_back(std::move(m));
      }
    }
  } catch (...) {
    if (remove_on_close_) ::unlink(tar_path_.c_str());
    throw;
  }
}

ArchiveReader::~ArchiveReader() {
  if (remove_on_close_) ::unlink(tar_path_.c_str());
}

const ManifestItem& ArchiveReader::choose(const std::optional<DockerReference>& ref, int index,
                                          int* tag_index) const {
  *tag_index = -1;
  if (ref && index >= 0)
    throw Error("Internal error: Cannot have both ref " + ref->to_string() + " and source index @" +
                std::to_string(index));
  if (ref) {
    const std::string want = ref->to_string();
    for (size_t i = 0; i < manifest_.size(); ++i) {
      const std::vector<std::string>& tags = manifest_[i].repo_tags;
      for (size_t t = 0; t < tags.size(); ++t) {
        DockerReference parsed;
        try {
          parsed = parse_normalized_named(tags[t]);
        } catch (const Error& e) {
          rethrow_with_context("Invalid tag " + gojson::go_quote(tags[t]) + " in manifest.json item @" +
                                   std::to_string(i),
                               e);
        }
        if (parsed.to_string() == want) {
          *tag_index = static_cast<int>(t);
          return manifest_[i];
        }
      }
    }
    throw Error("Tag " + gojson::go_quote(want) + " not found");
  }
  if (index >= 0) {
    if (static_cast<size_t>(index) >= manifest_.size())
      throw Error("Invalid source index @" + std::to_string(index) + ", only " +
                  std::to_string(manifest_.size()) + " manifest items available");
    return manifest_[static_cast<size_t>(index)];
  }
  if (manifest_.size() != 1)
    throw Error("Unexpected tar manifest.json: expected 1 item, got " + std::to_string(manifest_.size()));
  return manifest_[0];
}

std::unique_ptr<Reader> ArchiveReader::open_component(const std::string& name, int64_t* size) const {
  std::string want = clean_path(name);
  for (int hop = 0;; ++hop) {
    auto tar = std::make_unique<TarReader>(tar_path_);
    TarReader::Entry e;
    bool found = false;
    // The first entry of that name wins, as in c/image.
    while (tar->next(&e)) {
      if (e.name == want) {
        found = true;
        break;
      }
    }
    if (!found) {
      if (hop == 0) throw ComponentMissing("file does not exist");
      throw Error("link target " + gojson::go_quote(want) + " does not exist");
    }
    switch (e.type) {
      case TarReader::Entry::Type::File:
        *size = e.size;
        return std::make_unique<ComponentReader>(std::move(tar));
      case TarReader::Entry::Type::Symlink:
      case TarReader::Entry::Type::Hardlink: {
        if (hop >= kMaxLinkHops)
          throw Error("too many levels of links at " + gojson::go_quote(e.name));
        // A symlink is relative to its directory (an absolute one to the
        // archive root, as Go's path.Join makes it); a hard link names an
        // entry from the archive root.
        std::string next = e.type == TarReader::Entry::Type::Symlink
                               ? clean_path(parent_dir(want) + "/" + e.link_target)
                               : e.link_target;
        if (next == ".." || next.rfind("../", 0) == 0)
          throw Error("link " + gojson::go_quote(e.name) + " points outside the archive");
        want = std::move(next);
        break;
      }
      default:
        throw Error("Error reading tar archive component " + gojson::go_quote(e.name) +
                    ": not a regular file");
    }
  }
}

std::string ArchiveReader::read_component(const std::string& name, size_t limit) const {
  try {
    int64_t size = 0;
    std::unique_ptr<Reader> r = open_component(name, &size);
    return read_all(*r, limit);
  } catch (const Error& e) {
    rethrow_with_context("loading tar component " + gojson::go_quote(name), e);
  }
}

// ---- ArchiveSource -----------------------------------------------------------

namespace {

class ArchiveSource : public ImageSource {
 public:
  ArchiveSource(const ArchiveReference& ref, const SystemContext& ctx)
      : ref_(ref), archive_(ref.path(), ctx) {}

  const ImageReference& reference() const override { return ref_; }

  ManifestBytes get_manifest(const std::string& instance_digest) override {
    if (!instance_digest.empty())
      throw Error("Manifest lists are not supported by \"docker-daemon:\"");  // sic, c/image's text
    ensure_loaded();
    return {manifest_, manifest::media_type::kDockerV2Schema2};
  }

  std::unique_ptr<Reader> get_blob(const manifest::Descriptor& blob, int64_t* size) override {
    ensure_loaded();
    if (blob.digest == config_digest_) {
      *size = static_cast<int64_t>(config_.size());
      return std::make_unique<StringReader>(config_);
    }
    auto it = layers_.find(blob.digest);
    if (it == layers_.end()) throw Error("Unknown blob " + blob.digest);
    int64_t stored = 0;
    auto in = std::make_unique<PeekReader>(archive_.open_component(it->second.path, &stored));
    std::string head;
    try {
      head = in->peek(8);
    } catch (const Error& e) {
      rethrow_with_context("auto-decompressing blob " + blob.digest, e);
    }
    // The manifest names layers by diffID, so a compressed layer file is
    // served decompressed to match it.
    const Compression c = detect_compression(reinterpret_cast<const uint8_t*>(head.data()), head.size());
    *size = it->second.size;
    return make_decompressor(std::move(in), c);
  }

  // Every get_blob opens its own reader; the cached data is immutable once
  // loaded.
  bool has_thread_safe_get_blob() const override { return true; }

 private:
  struct Layer {
    std::string path;
    int64_t size = -1;
  };

  // Choosing the image and reading its config happen on first use, as in
  // c/image, so their errors carry the caller's context (e.g. "determining
  // manifest MIME type"); the outcome, success or error, is kept.
  void ensure_loaded() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!loaded_) {
      loaded_ = true;
      try {
        load();
      } catch (...) {
        load_error_ = std::current_exception();
      }
    }
    if (load_error_) std::rethrow_exception(load_error_);
  }

  void load() {
    int tag_index = -1;
    const ManifestItem& item = archive_.choose(ref_.ref(), ref_.index(), &tag_index);
    config_ = archive_.read_component(item.config, kMaxConfigSize);
    Json config;
    try {
      config = gojson::unmarshal(config_, manifest::schema2_image_type());
    } catch (const Error& e) {
      rethrow_with_context("decoding tar config " + gojson::go_quote(item.config), e);
    }
    const Json& rootfs = config.at("rootfs");
    if (rootfs.is_null())
      throw Error("Invalid image config (rootFS is not set): " + gojson::go_quote(item.config));
    const std::vector<std::string> diff_ids = strings_of(rootfs.at("diff_ids"));
    if (item.layers.size() != diff_ids.size())
      throw Error("Inconsistent layer count: " + std::to_string(item.layers.size()) + " in manifest, " +
                  std::to_string(diff_ids.size()) + " in config");
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      // They become manifest digests; catch garbage before a consumer does.
      if (const char* problem = digest_problem(diff_ids[i]))
        throw Error("Invalid image config " + gojson::go_quote(item.config) + ": rootfs.diff_ids[" +
                    std::to_string(i) + "] " + gojson::go_quote(diff_ids[i]) + ": " + problem);
    }

    std::vector<std::string> unique;  // diffIDs in first-seen order
    std::set<std::string> paths;
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      // The same layer may occur twice (docker save links the copies);
      // the diffID check makes any of its paths equally good.
      if (layers_.count(diff_ids[i])) continue;
      const std::string path = clean_path(item.layers[i]);
      if (!paths.insert(path).second)
        throw Error("Layer tarfile " + gojson::go_quote(path) + " used for two different DiffID values");
      layers_[diff_ids[i]] = Layer{path, -1};
      unique.push_back(diff_ids[i]);
    }
    for (const std::string& diff_id : unique) {
      Layer& layer = layers_[diff_id];
      layer.size = layer_size(layer.path);
    }

    config_digest_ = sha256_digest(config_);
    Json m = Json::object();
    m["schemaVersion"] = 2;
    m["mediaType"] = manifest::media_type::kDockerV2Schema2;
    Json cfg = Json::object();
    cfg["mediaType"] = manifest::media_type::kDockerV2Schema2Config;
    cfg["size"] = static_cast<int64_t>(config_.size());
    cfg["digest"] = config_digest_;
    m["config"] = std::move(cfg);
    Json layers = Json::array();
    for (const std::string& diff_id : diff_ids) {
      Json l = Json::object();
      // Uncompressed data under the gzip media type: c/image's long-standing
      // quirk, kept so manifest digests match skopeo's.
      l["mediaType"] = manifest::media_type::kDockerLayerGzip;
      l["size"] = layers_[diff_id].size;
      l["digest"] = diff_id;
      layers.push_back(std::move(l));
    }
    m["layers"] = std::move(layers);
    manifest_ = gojson::marshal(m);
  }

  // The size get_blob's stream will have: compressed layer files (umoci,
  // OCI-style archives) are counted decompressed.
  int64_t layer_size(const std::string& path) {
    std::unique_ptr<Reader> raw;
    int64_t stored = 0;
    try {
      raw = archive_.open_component(path, &stored);
    } catch (const ComponentMissing&) {
      throw Error("Some layer tarfiles are missing in the tarball: " + gojson::go_quote(path));
    } catch (const Error& e) {
      rethrow_with_context("opening " + gojson::go_quote(path) + " to determine its size", e);
    }
    auto in = std::make_unique<PeekReader>(std::move(raw));
    try {
      std::string head = in->peek(8);
      const Compression c = detect_compression(reinterpret_cast<const uint8_t*>(head.data()), head.size());
      if (c == Compression::None) return stored;
      std::unique_ptr<Reader> plain = make_decompressor(std::move(in), c);
      std::vector<uint8_t> buf(kCopyBufferSize);
      int64_t total = 0;
      while (size_t n = plain->read(buf.data(), buf.size())) total += static_cast<int64_t>(n);
      return total;
    } catch (const Error& e) {
      rethrow_with_context("reading " + gojson::go_quote(path) + " to find its size", e);
    }
  }

  const ArchiveReference ref_;  // a copy: outlives the caller's reference
  ArchiveReader archive_;

  std::mutex mu_;
  bool loaded_ = false;
  std::exception_ptr load_error_;
  std::string config_;
  std::string config_digest_;
  std::string manifest_;
  std::map<std::string, Layer> layers_;  // by diffID
};

}  // namespace

std::unique_ptr<ImageSource> ArchiveReference::new_source(const SystemContext& ctx) const {
  return std::make_unique<ArchiveSource>(*this, ctx);
}

}  // namespace ferry::docker_archive
