#include "transports/docker_archive/archive_destination.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "image/manifest/media_types.h"
#include "image/manifest/schema2.h"
#include "image/types.h"
#include "io/blob_store.h"
#include "io/digest.h"
#include "io/fs.h"
#include "transports/docker_archive/archive_reference.h"
#include "transports/docker_archive/legacy_ids.h"
#include "util/error.h"
#include "util/gojson.h"
#include "util/gotype.h"

namespace ferry::docker_archive {

// ---- GoTarWriter -------------------------------------------------------------

namespace {

constexpr size_t kBlock = 512;
constexpr int64_t kMaxUstarSize = 077777777777;  // 11 octal digits

// Go's formatter.formatString: copy, NUL-terminate if there is room.
void put_string(uint8_t* field, size_t len, std::string_view s) {
  memcpy(field, s.data(), s.size());
  if (s.size() < len) field[s.size()] = 0;
}

// Go's formatter.formatOctal: zero-padded to len-1 digits, then NUL.
void put_octal(uint8_t* field, size_t len, int64_t x) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + (x & 7));
    x >>= 3;
  } while (x > 0);
  size_t i = 0;
  for (; i + static_cast<size_t>(n) < len - 1; ++i) field[i] = '0';
  while (n > 0) field[i++] = static_cast<uint8_t>(digits[--n]);
  field[len - 1] = 0;
}

// The tar stores names as raw bytes; Go falls back to PAX for anything
// USTAR cannot hold, which never happens for c/image's fixed-shape names.
void check_ustar_string(const std::string& s, const char* what) {
  bool ascii = true;
  for (unsigned char c : s) ascii = ascii && c != 0 && c < 0x80;
  if (s.empty() || s.size() > 100 || !ascii)
    throw Error(std::string("tar ") + what + " " + gojson::go_quote(s) + " does not fit a USTAR header");
}

// Go's formatPAXRecord: "<len> key=value\n" where len counts itself.
std::string pax_record(const std::string& key, const std::string& value) {
  const size_t body = key.size() + value.size() + 3;
  size_t total = body + std::to_string(body).size();
  if (std::to_string(total).size() > std::to_string(body).size()) total = body + std::to_string(total).size();
  return std::to_string(total) + " " + key + "=" + value + "\n";
}

}  // namespace

std::string go_tar_header(const std::string& name, char type, int mode, int64_t size,
                          const std::string& link) {
  check_ustar_string(name, "entry name");
  if (!link.empty()) check_ustar_string(link, "link target");
  if (size < 0) throw Error("tar entry " + gojson::go_quote(name) + " has no size");

  auto checksum = [](uint8_t* blk) {
    memset(blk + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; ++i) sum += blk[i];
    put_octal(blk + 148, 7, sum);
    blk[155] = ' ';
  };

  std::string out;
  const bool pax = size > kMaxUstarSize;
  if (pax) {
    // Go's writePAXHeader: an 'x' entry named PaxHeaders.0/<base> with only
    // the fields that overflow, then the real header with them zeroed.
    const std::string data = pax_record("size", std::to_string(size));
    const size_t slash = name.rfind('/');
    const std::string xname = slash == std::string::npos
                                  ? "PaxHeaders.0/" + name
                                  : name.substr(0, slash) + "/PaxHeaders.0/" + name.substr(slash + 1);
    uint8_t x[kBlock] = {};
    put_string(x, 100, xname.substr(0, 100));
    put_octal(x + 100, 8, 0);
    put_octal(x + 108, 8, 0);
    put_octal(x + 116, 8, 0);
    put_octal(x + 124, 12, static_cast<int64_t>(data.size()));
    put_octal(x + 136, 12, 0);
    x[156] = 'x';
    memcpy(x + 257, "ustar\0" "00", 8);
    checksum(x);
    out.append(reinterpret_cast<const char*>(x), kBlock);
    out += data;
    out.append((kBlock - data.size() % kBlock) % kBlock, '\0');
  }

  uint8_t h[kBlock] = {};
  put_string(h, 100, name);
  put_octal(h + 100, 8, mode);
  put_octal(h + 108, 8, 0);                // uid
  put_octal(h + 116, 8, 0);                // gid
  put_octal(h + 124, 12, pax ? 0 : size);  // size
  put_octal(h + 136, 12, 0);               // mtime
  h[156] = static_cast<uint8_t>(type);
  put_string(h + 157, 100, link);
  memcpy(h + 257, "ustar\0" "00", 8);
  put_octal(h + 329, 8, 0);  // devmajor
  put_octal(h + 337, 8, 0);  // devminor
  checksum(h);
  out.append(reinterpret_cast<const char*>(h), kBlock);
  return out;
}

GoTarWriter::GoTarWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
  buf_.reserve(kCopyBufferSize);
}

void GoTarWriter::flush() {
  const uint8_t* p = buf_.data();
  size_t n = buf_.size();
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw path_error("write", path_, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  buf_.clear();
}

void GoTarWriter::append(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (buf_.size() == kCopyBufferSize) flush();
    size_t take = std::min(n, kCopyBufferSize - buf_.size());
    buf_.insert(buf_.end(), p, p + take);
    p += take;
    n -= take;
  }
}

void GoTarWriter::pad_to_block(int64_t size) {
  static const uint8_t zeros[kBlock] = {};
  const size_t rem = static_cast<size_t>(size % static_cast<int64_t>(kBlock));
  if (rem != 0) append(zeros, kBlock - rem);
}

void GoTarWriter::add_file(const std::string& name, Reader& r, int64_t size) {
  const std::string header = go_tar_header(name, '0', 0444, size, "");
  append(header.data(), header.size());
  int64_t written = 0;
  for (;;) {
    if (buf_.size() == kCopyBufferSize) flush();
    const size_t old = buf_.size();
    buf_.resize(kCopyBufferSize);
    size_t got = 0;
    try {
      got = r.read(buf_.data() + old, kCopyBufferSize - old);
    } catch (...) {
      buf_.resize(old);
      throw;
    }
    buf_.resize(old + got);
    if (got == 0) break;
    written += static_cast<int64_t>(got);
    if (written > size) break;
  }
  if (written != size)
    throw Error("Size mismatch when copying " + name + ", expected " + std::to_string(size) + ", got " +
                (written > size ? "more" : std::to_string(written)));
  pad_to_block(size);
}

void GoTarWriter::add_file(const std::string& name, std::string_view data) {
  StringReader r{std::string(data)};
  add_file(name, r, static_cast<int64_t>(data.size()));
}

void GoTarWriter::add_symlink(const std::string& name, const std::string& target) {
  const std::string header = go_tar_header(name, '2', 0, 0, target);
  append(header.data(), header.size());
}

void GoTarWriter::finish() {
  static const uint8_t zeros[2 * kBlock] = {};
  append(zeros, sizeof zeros);
  flush();
}

// ---- ArchiveDestination ------------------------------------------------------

namespace {

constexpr size_t kMaxConfigBytes = 4 << 20;

std::string dir_part(const std::string& path) {
  const std::string clean = clean_path(path);
  const size_t slash = clean.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : clean.substr(0, slash);
}

std::string base_part(const std::string& path) {
  const std::string clean = clean_path(path);
  const size_t slash = clean.rfind('/');
  return slash == std::string::npos ? clean : clean.substr(slash + 1);
}

std::string random_suffix() {
  uint8_t bytes[6];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Uniqueness is still guaranteed by O_EXCL; this only avoids retries.
    const auto t = static_cast<uint64_t>(::getpid()) * 2654435761u;
    memcpy(bytes, &t, sizeof bytes);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

struct StoredLayer {
  std::string path;
  int64_t size = 0;
};

class ArchiveDestination : public ImageDestination {
 public:
  ArchiveDestination(const ArchiveReference& ref, const SystemContext& ctx) : ref_(ref) {
    if (ref.index() >= 0)
      throw Error("Destination reference must not contain a manifest index @" + std::to_string(ref.index()));
    resolve_target();

    std::vector<DockerReference> tags;
    if (ref.ref()) tags.push_back(*ref.ref());
    for (const std::string& extra : ctx.docker_archive_additional_tags) {
      DockerReference r;
      try {
        r = tag_name_only(parse_normalized_named(extra));
      } catch (const Error& e) {
        rethrow_with_context("additional tag " + gojson::go_quote(extra), e);
      }
      if (!r.tag || r.digest)
        throw Error("additional tag " + gojson::go_quote(extra) + " must be a name:tag reference");
      tags.push_back(std::move(r));
    }
    std::set<std::string> seen;
    for (const DockerReference& t : tags) {
      std::string s = t.name() + ":" + *t.tag;
      name_tags_.emplace_back(t.name(), *t.tag);
      if (seen.insert(s).second) repo_tags_.push_back(std::move(s));
    }

    blobs_dir_ = make_temp_dir(ctx.big_files_temp_dir, "ferry-docker-archive-");
  }

  ~ArchiveDestination() override {
    try {
      remove_all(blobs_dir_);
    } catch (...) {
    }
  }

  const ImageReference& reference() const override { return ref_; }
  std::vector<std::string> supported_manifest_mime_types() const override {
    return {manifest::media_type::kDockerV2Schema2};
  }
  std::string supports_signatures() const override {
    return "Storing signatures for docker tar files is not supported";
  }
  LayerCompression desired_layer_compression() const override { return LayerCompression::Decompress; }
  bool supports_manifest_lists() const override { return false; }
  // Each blob goes to its own temporary file; only the bookkeeping is
  // shared, under mu_. (The archive itself is written by commit alone.)
  bool has_thread_safe_put_blob() const override { return true; }

  std::optional<manifest::Descriptor> try_reuse_blob(const manifest::Descriptor& blob) override {
    if (blob.digest.empty()) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    manifest::Descriptor d = blob;
    if (auto it = layers_.find(blob.digest); it != layers_.end()) {
      d.size = it->second.size;
      return d;
    }
    if (auto it = configs_.find(blob.digest); it != configs_.end()) {
      d.size = static_cast<int64_t>(it->second.size());
      return d;
    }
    return std::nullopt;
  }

  manifest::Descriptor put_blob(Reader& stream, const manifest::Descriptor& blob, bool is_config) override {
    manifest::Descriptor out = blob;
    if (is_config) {
      std::string bytes;
      try {
        bytes = read_all(stream, kMaxConfigBytes);
      } catch (const Error& e) {
        rethrow_with_context("reading Config file stream", e);
      }
      const std::string digest = blob.digest.empty() ? sha256_digest(bytes) : digest_like(blob.digest, bytes);
      const auto size = static_cast<int64_t>(bytes.size());
      if (blob.size >= 0 && size != blob.size)
        throw Error("Size mismatch when copying " + digest + ", expected " + std::to_string(blob.size) +
                    ", got " + std::to_string(size));
      if (!blob.digest.empty() && digest != blob.digest)
        throw Error("Digest mismatch when copying " + blob.digest + ": got " + digest);
      out.digest = digest;
      out.size = size;
      std::lock_guard<std::mutex> lock(mu_);
      configs_[digest] = std::move(bytes);
      return out;
    }
    StoredBlob s = store_blob(stream, blobs_dir_, "layer-", blob.digest, blob.size, [&](const std::string& d) {
      return blobs_dir_ + "/" + digest_algorithm(d) + "-" + digest_hex(d);
    });
    out.digest = s.digest;
    out.size = s.size;
    std::lock_guard<std::mutex> lock(mu_);
    layers_[s.digest] =
        StoredLayer{blobs_dir_ + "/" + digest_algorithm(s.digest) + "-" + digest_hex(s.digest), s.size};
    return out;
  }

  void put_manifest(const std::string& bytes, const std::string& mime_type,
                    const std::string& instance_digest) override {
    if (!instance_digest.empty()) throw Error("Manifest lists are not supported for docker tar files");
    if (!mime_type.empty() && mime_type != manifest::media_type::kDockerV2Schema2)
      throw ManifestTypeRejected("Unsupported manifest type, need a Docker schema 2 manifest");
    gojson::Json m;
    try {
      m = gojson::unmarshal(bytes, manifest::schema2_manifest_type());
    } catch (const Error& e) {
      rethrow_with_context("parsing manifest", e);
    }
    if (m.at("schemaVersion").get<int64_t>() != 2 ||
        m.at("mediaType").get<std::string>() != manifest::media_type::kDockerV2Schema2)
      throw ManifestTypeRejected("Unsupported manifest type, need a Docker schema 2 manifest");
    std::string config = m.at("config").at("digest").get<std::string>();
    manifest::validate_digest_field("config.digest", config);
    std::vector<std::string> layers;
    const gojson::Json& ls = m.at("layers");
    if (ls.is_array()) {
      for (size_t i = 0; i < ls.size(); ++i) {
        std::string d = ls[i].at("digest").get<std::string>();
        manifest::validate_digest_field("layers[" + std::to_string(i) + "].digest", d);
        layers.push_back(std::move(d));
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    manifest_config_ = std::move(config);
    manifest_layers_ = std::move(layers);
    have_manifest_ = true;
  }

  void put_signatures(const std::vector<Signature>& sigs, const std::string& instance_digest) override {
    if (!instance_digest.empty()) throw Error("Manifest lists are not supported for docker tar files");
    if (!sigs.empty()) throw Error("Storing signatures for docker tar files is not supported");
  }

  void commit() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!have_manifest_) throw Error("docker-archive: committing an image without a manifest");
    auto config = configs_.find(manifest_config_);
    if (config == configs_.end())
      throw Error("docker-archive: config " + manifest_config_ + " was not written");
    for (const std::string& d : manifest_layers_) {
      if (!layers_.count(d)) throw Error("docker-archive: layer " + d + " was not written");
    }
    const std::vector<LegacyLayer> legacy = legacy_layers(manifest_layers_, config->second);

    if (special_) {
      int fd = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) throw Error("opening file " + gojson::go_quote(ref_.path()) + ": " + path_error("open", ref_.path(), errno).what());
      try {
        write_archive(fd, ref_.path(), config->second, legacy);
      } catch (...) {
        ::close(fd);
        throw;
      }
      if (::close(fd) != 0) throw path_error("close", ref_.path(), errno);
      return;
    }

    // A fresh file beside the target, renamed over it only when complete.
    const std::string dir = dir_part(target_);
    std::string temp;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
      temp = dir + "/." + base_part(target_) + ".ferry-" + random_suffix();
      fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST) throw path_error("open", temp, errno);
    }
    if (fd < 0) throw path_error("open", temp, EEXIST);
    try {
      write_archive(fd, temp, config->second, legacy);
      if (::fsync(fd) != 0) throw path_error("sync", temp, errno);
      const int to_close = fd;
      fd = -1;
      if (::close(to_close) != 0) throw path_error("close", temp, errno);
      if (::rename(temp.c_str(), target_.c_str()) != 0) throw path_error("rename", temp, errno);
    } catch (...) {
      if (fd >= 0) ::close(fd);
      ::unlink(temp.c_str());
      throw;
    }
    // Make the rename itself durable; failing here loses nothing written.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  // Where the archive will go: c/image opens PATH (following symlinks), so
  // a symlinked PATH replaces its target; FIFOs and devices are written in
  // place. Errors are reported now, before any blob is copied.
  void resolve_target() {
    const std::string& path = ref_.path();
    auto fail = [&](int err) {
      throw Error("opening file " + gojson::go_quote(path) + ": " + path_error("open", path, err).what());
    };
    struct stat st;
    target_ = path;
    if (::stat(path.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) fail(EISDIR);
      if (!S_ISREG(st.st_mode)) {
        special_ = true;
        if (::access(path.c_str(), W_OK) != 0) fail(errno);
        return;
      }
      char* real = ::realpath(path.c_str(), nullptr);
      if (real == nullptr) fail(errno);
      target_ = real;
      free(real);
    } else if (errno != ENOENT) {
      fail(errno);
    }
    const std::string dir = dir_part(target_);
    struct stat dst;
    if (::stat(dir.c_str(), &dst) != 0) fail(errno);
    if (!S_ISDIR(dst.st_mode)) fail(ENOTDIR);
    if (::access(dir.c_str(), W_OK) != 0) fail(errno);
  }

  // Entries in c/image's order: layers, config, legacy layer directories,
  // manifest.json, repositories.
  void write_archive(int fd, const std::string& path, const std::string& config,
                     const std::vector<LegacyLayer>& legacy) {
    GoTarWriter w(fd, path);
    std::set<std::string> written;
    std::vector<std::string> layer_paths;
    for (const std::string& d : manifest_layers_) {
      const std::string name = digest_hex(d) + ".tar";
      layer_paths.push_back(name);
      if (!written.insert(d).second) continue;
      const StoredLayer& l = layers_.at(d);
      FileReader r(l.path);
      w.add_file(name, r, l.size);
    }
    const std::string config_name = digest_hex(manifest_config_) + ".json";
    w.add_file(config_name, config);
    std::set<std::string> legacy_written;
    for (const LegacyLayer& l : legacy) {
      if (!legacy_written.insert(l.id).second) continue;
      w.add_symlink(l.id + "/layer.tar", "../" + digest_hex(l.diff_id) + ".tar");
      w.add_file(l.id + "/VERSION", std::string_view("1.0"));
      w.add_file(l.id + "/json", l.json);
    }

    gojson::Json item = gojson::Json::object();
    item["Config"] = config_name;
    item["RepoTags"] = gojson::Json::array();
    for (const std::string& t : repo_tags_) item["RepoTags"].push_back(t);
    item["Layers"] = gojson::Json::array();
    for (const std::string& p : layer_paths) item["Layers"].push_back(p);
    gojson::Json manifest = gojson::Json::array();
    manifest.push_back(std::move(item));
    w.add_file("manifest.json", gojson::marshal(manifest));
    w.add_file("repositories", repositories_json(name_tags_, legacy.empty() ? "" : legacy.back().id));
    w.finish();
  }

  const ArchiveReference ref_;  // a copy: outlives the caller's reference
  std::string target_;
  bool special_ = false;
  std::vector<std::string> repo_tags_;                            // "name:tag", deduplicated
  std::vector<std::pair<std::string, std::string>> name_tags_;  // for `repositories`
  std::string blobs_dir_;

  std::mutex mu_;
  std::map<std::string, StoredLayer> layers_;  // by digest
  std::map<std::string, std::string> configs_;  // by digest
  bool have_manifest_ = false;
  std::string manifest_config_;
  std::vector<std::string> manifest_layers_;
};

}  // namespace

std::unique_ptr<ImageDestination> ArchiveReference::new_destination(const SystemContext& ctx) const {
  return std::make_unique<ArchiveDestination>(*this, ctx);
}

}  // namespace ferry::docker_archive
