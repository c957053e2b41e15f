// Writing a dir: image.
//
// skopeo deletes an existing image directory's contents first and then
// writes file by file, so a failed copy destroys the old image and leaves a
// half-written one. ferry writes the new image into a sibling staging
// directory and swaps it into place on commit: until then the destination
// is untouched, and a failure leaves it exactly as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <dirent.h>

#include "io/blob_store.h"
#include "io/digest.h"
#include "io/fs.h"
#include "transports/dir/dir_reference.h"
#include "util/error.h"

namespace ferry::dir {

namespace {

std::string parent_of(const std::string& path) {
  std::string clean = clean_path(path);
  auto slash = clean.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return clean.substr(0, slash);
}

std::string base_of(const std::string& path) {
  std::string clean = clean_path(path);
  auto slash = clean.rfind('/');
  return slash == std::string::npos ? clean : clean.substr(slash + 1);
}

bool directory_is_empty(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) throw path_error("open", path, errno);
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

class DirDestination : public ImageDestination {
 public:
  DirDestination(const DirReference& ref, const SystemContext& ctx) : ref_(ref) {
    if (ctx.dir_force_compress && ctx.dir_force_decompress)
      throw Error("Cannot compress and decompress at the same time");
    compression_ = ctx.dir_force_compress     ? LayerCompression::Compress
                   : ctx.dir_force_decompress ? LayerCompression::Decompress
                                              : LayerCompression::Preserve;
    const std::string& path = ref_.path();
    if (path_exists(path)) {
      if (!is_directory(path)) throw Error(path + " exists and is not a directory");
      if (!directory_is_empty(path)) {
        std::string v;
        try {
          v = read_file(path + "/version", 4096);
        } catch (const Error&) {
        }
        if (v.rfind("Directory Transport Version: ", 0) != 0)
          throw Error("not a containers image directory, don't want to overwrite important data");
      }
    }
    const std::string parent = parent_of(path);
    if (!is_directory(parent)) make_dirs(parent);
    staging_ = make_temp_dir(parent, "." + base_of(path) + ".ferry-");
    write_file_atomic(staging_ + "/version", kVersionFileContents);
  }

  ~DirDestination() override {
    if (!staging_.empty()) {
      try {
        remove_all(staging_);
      } catch (...) {
      }
    }
  }

  const ImageReference& reference() const override { return ref_; }
  std::vector<std::string> supported_manifest_mime_types() const override { return {}; }
  std::string supports_signatures() const override { return ""; }
  LayerCompression desired_layer_compression() const override { return compression_; }
  bool accepts_foreign_layer_urls() const override { return false; }
  bool has_thread_safe_put_blob() const override { return true; }

  std::optional<manifest::Descriptor> try_reuse_blob(const manifest::Descriptor& blob) override {
    if (blob.digest.empty()) return std::nullopt;
    struct stat st;
    if (::stat((staging_ + "/" + blob_file(blob.digest)).c_str(), &st) != 0) return std::nullopt;
    manifest::Descriptor d = blob;
    d.size = st.st_size;
    return d;
  }

  manifest::Descriptor put_blob(Reader& stream, const manifest::Descriptor& blob, bool) override {
    StoredBlob s = store_blob(stream, staging_, "dir-put-blob", blob.digest, blob.size,
                              [&](const std::string& d) { return staging_ + "/" + blob_file(d); });
    manifest::Descriptor out = blob;
    out.digest = s.digest;
    out.size = s.size;
    return out;
  }

  void put_manifest(const std::string& bytes, const std::string&,
                    const std::string& instance_digest) override {
    write_file_atomic(staging_ + "/" + manifest_file(instance_digest), bytes);
  }

  void put_signatures(const std::vector<Signature>& sigs, const std::string& instance) override {
    int i = 1;
    for (const auto& s : sigs) write_file_atomic(staging_ + "/" + signature_file(instance, i++), s.bytes);
  }

  void commit() override {
    const std::string& path = ref_.path();
    if (::chmod(staging_.c_str(), 0755) != 0) throw path_error("chmod", staging_, errno);
    std::string old;
    if (path_exists(path)) {
      // rename(2) may replace an empty directory: reserve a unique name.
      old = make_temp_dir(parent_of(path), "." + base_of(path) + ".ferry-old-");
      if (::rename(path.c_str(), old.c_str()) != 0) {
        int err = errno;
        ::rmdir(old.c_str());
        throw path_error("rename", path, err);
      }
    }
    if (::rename(staging_.c_str(), path.c_str()) != 0) {
      int err = errno;
      if (!old.empty()) ::rename(old.c_str(), path.c_str());
      throw path_error("rename", staging_, err);
    }
    staging_.clear();
    if (!old.empty()) remove_all(old);
  }

 private:
  const DirReference& ref_;
  LayerCompression compression_;
  std::string staging_;
};

}  // namespace

std::unique_ptr<ImageDestination> DirReference::new_destination(const SystemContext& ctx) const {
  return std::make_unique<DirDestination>(*this, ctx);
}

}  // namespace ferry::dir
