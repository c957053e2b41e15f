// Reading a dir: image.
#include <memory>

#include "image/manifest/manifest.h"
#include "io/fs.h"
#include "transports/dir/dir_reference.h"
#include "util/error.h"

namespace ferry::dir {

namespace {

constexpr size_t kMaxManifest = 4 << 20;
constexpr size_t kMaxSignature = 4 << 20;
constexpr int kMaxSignatures = 128;

class DirSource : public ImageSource {
 public:
  explicit DirSource(const DirReference& ref) : ref_(ref), dir_(ref.path()) {
    // A missing version file is accepted (old skopeo wrote none); a present
    // one must be one we understand.
    const std::string vpath = dir_ + "/version";
    if (path_exists(vpath)) {
      std::string v = read_file(vpath, 4096);
      if (v.rfind("Directory Transport Version: ", 0) != 0 || v.back() != '\n')
        throw Error("invalid version file content in " + vpath);
      if (v != kVersionFileContents && v != "Directory Transport Version: 1.0\n" &&
          v != "Directory Transport Version: 1.2\n")
        throw Error("unsupported directory transport version in " + vpath + ": " + v.substr(0, v.size() - 1));
    }
  }

  const ImageReference& reference() const override { return ref_; }

  ManifestBytes get_manifest(const std::string& instance) override {
    ManifestBytes m;
    m.bytes = read_file(dir_ + "/" + manifest_file(instance), kMaxManifest);
    m.mime_type = manifest::guess_mime_type(m.bytes);
    return m;
  }

  std::unique_ptr<Reader> get_blob(const manifest::Descriptor& blob, int64_t* size) override {
    auto r = std::make_unique<FileReader>(dir_ + "/" + blob_file(blob.digest));
    *size = r->size();
    return r;
  }

  bool has_thread_safe_get_blob() const override { return true; }

  std::vector<Signature> get_signatures(const std::string& instance) override {
    std::vector<Signature> out;
    for (int i = 1;; ++i) {
      const std::string p = dir_ + "/" + signature_file(instance, i);
      if (!path_exists(p)) break;
      if (i > kMaxSignatures) throw Error("too many signatures in " + dir_);
      std::string bytes = read_file(p, kMaxSignature);
      out.push_back(decode_signature(bytes, p));
    }
    return out;
  }

 private:
  // Sigstore signatures carry a "\0sigstore-json\n" header; anything else
  // is a simple-signing OpenPGP message.
  static Signature decode_signature(const std::string& bytes, const std::string& path) {
    Signature s;
    static const std::string kSigstore = std::string("\0sigstore-json\n", 15);
    if (!bytes.empty() && bytes[0] == '\0') {
      if (bytes.rfind(kSigstore, 0) != 0)
        throw Error("unsupported signature format in " + path);
      s.kind = Signature::Kind::Sigstore;
      s.bytes = bytes;  // kept verbatim: it is re-written as-is
      return s;
    }
    s.kind = Signature::Kind::SimpleSigning;
    s.bytes = bytes;
    return s;
  }

  const DirReference& ref_;
  std::string dir_;
};

}  // namespace

std::unique_ptr<ImageSource> DirReference::new_source(const SystemContext&) const {
  if (!is_directory(path())) {
    if (!path_exists(path())) throw Error("open " + path() + ": no such file or directory");
    throw Error(path() + " is not a directory");
  }
  return std::make_unique<DirSource>(*this);
}

}  // namespace ferry::dir
