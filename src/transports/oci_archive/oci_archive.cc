#include "transports/oci_archive/oci_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <random>

#include "image/reference_grammar.h"
#include "io/fs.h"
#include "io/tar.h"
#include "transports/oci/layout.h"
#include "transports/oci/oci_destination.h"
#include "transports/oci/oci_reference.h"
#include "transports/oci/oci_source.h"
#include "util/error.h"
#include "util/go_quote.h"

namespace ferry::oci_archive {

namespace {

constexpr const char* kTempPrefix = "container_images_oci_";

// The layout inside an archive is self-contained: a shared blob directory
// would leave the archive without its blobs (c/image passes it through and
// writes such broken archives), so it is not applied here.
SystemContext layout_context(const SystemContext& ctx) {
  SystemContext c = ctx;
  c.oci_shared_blob_dir.clear();
  return c;
}

std::unique_ptr<TempDir> make_temp(const SystemContext& ctx) {
  try {
    return std::make_unique<TempDir>(ctx.big_files_temp_dir, kTempPrefix);
  } catch (const Error& e) {
    rethrow_with_context("creating temp directory", e);
  }
}

// Bound on what an archive may unpack to: an uncompressed tar cannot grow,
// a compressed one of image layers (already compressed) barely does, so
// only a decompression bomb reaches this.
int64_t extract_limit(int64_t archive_size) {
  constexpr int64_t kSlack = int64_t{1} << 30;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (archive_size > (kMax - kSlack) / 100) return kMax;
  return archive_size * 100 + kSlack;
}

class OciArchiveSource : public ImageSource {
 public:
  OciArchiveSource(const OciArchiveReference& ref, const SystemContext& ctx) : ref_(ref) {
    struct stat st;
    if (::stat(ref.resolved_file().c_str(), &st) != 0) {
      if (errno == ENOENT)
        throw Error("archive file not found: " + go_quote(ref.resolved_file()));
      throw path_error("open", ref.resolved_file(), errno);
    }
    tmp_ = make_temp(ctx);
    try {
      extract_tar(ref.resolved_file(), tmp_->path(), extract_limit(st.st_size));
    } catch (const Error& e) {
      rethrow_with_context("untarring file " + go_quote(tmp_->path()), e);
    }
    oci::OciReference layout(tmp_->path(), tmp_->path(), ref.image(), ref.source_index());
    inner_ = std::make_unique<oci::OciSource>(layout, layout_context(ctx));
  }

  const ImageReference& reference() const override { return ref_; }
  ManifestBytes get_manifest(const std::string& instance_digest) override {
    return inner_->get_manifest(instance_digest);
  }
  std::unique_ptr<Reader> get_blob(const manifest::Descriptor& blob, int64_t* size) override {
    return inner_->get_blob(blob, size);
  }
  bool has_thread_safe_get_blob() const override { return true; }

 private:
  OciArchiveReference ref_;
  std::unique_ptr<TempDir> tmp_;  // outlives inner_ (declared before it)
  std::unique_ptr<oci::OciSource> inner_;
};

// A new, exclusively created file next to target, with the mode os.Create
// would give target (kept if target exists); removed unless released.
class SiblingTempFile {
 public:
  explicit SiblingTempFile(const std::string& target) {
    size_t slash = target.rfind('/');
    std::string dir = slash == std::string::npos ? "."
                      : slash == 0                 ? "/"
                                                   : target.substr(0, slash);
    std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
    struct stat st;
    bool keep_mode = ::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    std::random_device rd;
    std::mt19937_64 rng(rd());
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string candidate = dir + "/." + base + ".tmp" + std::to_string(rng() % 1000000000);
      int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0) {
        if (errno == EEXIST) continue;
        throw Error("creating tar file " + go_quote(target) + ": " +
                    path_error("open", candidate, errno).what());
      }
      if (keep_mode) (void)::fchmod(fd, st.st_mode & 07777);
      ::close(fd);
      path_ = candidate;
      return;
    }
    throw Error("creating tar file " + go_quote(target) + ": no free temporary name in " +
                dir);
  }
  ~SiblingTempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  SiblingTempFile(const SiblingTempFile&) = delete;
  SiblingTempFile& operator=(const SiblingTempFile&) = delete;
  const std::string& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

void fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw path_error("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw path_error("sync", path, err);
}

class OciArchiveDestination : public ImageDestination {
 public:
  OciArchiveDestination(const OciArchiveReference& ref, const SystemContext& ctx) : ref_(ref) {
    if (ref.source_index() >= 0)
      throw Error("Destination reference must not contain a manifest index @" +
                  std::to_string(ref.source_index()));
    tmp_ = make_temp(ctx);
    oci::OciReference layout(tmp_->path(), tmp_->path(), ref.image(), -1);
    inner_ = std::make_unique<oci::OciDestination>(layout, layout_context(ctx));
  }

  const ImageReference& reference() const override { return ref_; }
  std::vector<std::string> supported_manifest_mime_types() const override {
    return inner_->supported_manifest_mime_types();
  }
  std::string supports_signatures() const override { return inner_->supports_signatures(); }
  LayerCompression desired_layer_compression() const override {
    return inner_->desired_layer_compression();
  }
  bool accepts_foreign_layer_urls() const override { return inner_->accepts_foreign_layer_urls(); }
  bool has_thread_safe_put_blob() const override { return inner_->has_thread_safe_put_blob(); }
  std::optional<manifest::Descriptor> try_reuse_blob(const manifest::Descriptor& blob) override {
    return inner_->try_reuse_blob(blob);
  }
  manifest::Descriptor put_blob(Reader& stream, const manifest::Descriptor& blob,
                                bool is_config) override {
    return inner_->put_blob(stream, blob, is_config);
  }
  void put_manifest(const std::string& bytes, const std::string& mime_type,
                    const std::string& instance_digest) override {
    inner_->put_manifest(bytes, mime_type, instance_digest);
  }
  void put_signatures(const std::vector<Signature>& sigs,
                      const std::string& instance_digest) override {
    inner_->put_signatures(sigs, instance_digest);
  }

  void commit() override {
    try {
      inner_->commit();
    } catch (const Error& e) {
      rethrow_with_context("storing image " + go_quote(ref_.image()), e);
    }
    const std::string& target = ref_.resolved_file();
    SiblingTempFile out(target);
    tar_layout(tmp_->path(), out.path());
    fsync_file(out.path());
    if (::rename(out.path().c_str(), target.c_str()) != 0)
      throw Error("creating tar file " + go_quote(target) + ": " +
                  path_error("rename", out.path(), errno).what());
    out.release();
  }

 private:
  OciArchiveReference ref_;
  std::unique_ptr<TempDir> tmp_;  // outlives inner_
  std::unique_ptr<oci::OciDestination> inner_;
};

constexpr int kMaxLayoutDepth = 8;

void add_tree(TarWriter& w, const std::string& dir, const std::string& prefix, int depth) {
  if (depth > kMaxLayoutDepth) throw Error("layout directory " + dir + " is nested too deeply");
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw path_error("open", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string full = dir + "/" + n;
    std::string name = prefix + n;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) throw path_error("lstat", full, errno);
    if (S_ISDIR(st.st_mode)) {
      w.add_directory(name, 0755);
      add_tree(w, full, name + "/", depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      FileReader r(full);
      w.add_file(name, r, st.st_size, 0644);
    } else {
      throw Error("unexpected file type of " + full + " in the layout");
    }
  }
}

}  // namespace

OciArchiveReference::OciArchiveReference(std::string file, std::string resolved_file,
                                         std::string image, int source_index)
    : file_(std::move(file)),
      resolved_file_(std::move(resolved_file)),
      image_(std::move(image)),
      source_index_(source_index) {}

std::string OciArchiveReference::string_within_transport() const {
  if (source_index_ >= 0) return file_ + ":@" + std::to_string(source_index_);
  return file_ + ":" + image_;
}

std::vector<std::string> OciArchiveReference::policy_namespaces() const {
  return oci::path_namespaces(resolved_file_);
}

std::unique_ptr<ImageSource> OciArchiveReference::new_source(const SystemContext& ctx) const {
  return std::make_unique<OciArchiveSource>(*this, ctx);
}

std::unique_ptr<ImageDestination> OciArchiveReference::new_destination(
    const SystemContext& ctx) const {
  return std::make_unique<OciArchiveDestination>(*this, ctx);
}

std::unique_ptr<ImageReference> parse_reference(std::string_view within) {
  OciRefParts parts = parse_oci_reference(within, false);
  std::string resolved = resolve_path_fully_explicit(parts.path);
  return std::make_unique<OciArchiveReference>(parts.path, std::move(resolved), parts.ref,
                                               parts.index);
}

void tar_layout(const std::string& dir, const std::string& path) {
  TarWriter w(path);
  add_tree(w, dir, "", 0);
  w.close();
}

}  // namespace ferry::oci_archive
