#include "io/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {

namespace {

class TempFile {
 public:
  TempFile(const std::string& dir, const std::string& prefix) {
    std::string tmpl = dir + "/" + prefix + "XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    fd_ = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd_ < 0) throw path_error("creating temporary file in", dir, errno);
    path_ = buf.data();
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write_all(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw path_error("write", path_, errno);
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  void finish(const std::string& dest) {
    if (::fsync(fd_) != 0) throw path_error("sync", path_, errno);
    if (::fchmod(fd_, 0644) != 0) throw path_error("chmod", path_, errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw path_error("close", path_, errno);
    struct stat st;
    if (::stat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return;  // destructor unlinks ours
    if (::rename(path_.c_str(), dest.c_str()) != 0) throw path_error("rename", path_, errno);
    path_.clear();
  }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace

StoredBlob store_blob(Reader& r, const std::string& temp_dir, const std::string& temp_prefix,
                      const std::string& expected_digest, int64_t expected_size,
                      const std::function<std::string(const std::string&)>& path_for) {
  // A hostile digest must fail before it names any file.
  if (!expected_digest.empty()) validate_digest(expected_digest);
  Hasher hasher(expected_digest.empty() ? "sha256" : digest_algorithm(expected_digest));
  // A stream that verifies itself against the expected digest (it throws
  // before its end otherwise) is not hashed a second time.
  const bool vouched = !expected_digest.empty() && r.vouched_digest() == expected_digest;
  TempFile tmp(temp_dir, temp_prefix);
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kCopyBufferSize);
  int64_t size = 0;
  for (;;) {
    size_t n = r.read(buf.get(), kCopyBufferSize);
    if (n == 0) break;
    if (!vouched) hasher.update(buf.get(), n);
    tmp.write_all(buf.get(), n);
    size += static_cast<int64_t>(n);
  }
  StoredBlob out{vouched ? expected_digest : hasher.digest_final(), size};
  if (expected_size >= 0 && size != expected_size)
    throw Error("Size mismatch when copying " + out.digest + ", expected " +
                std::to_string(expected_size) + ", got " + std::to_string(size));
  if (!expected_digest.empty() && out.digest != expected_digest)
    throw Error("Digest mismatch when copying " + expected_digest + ": got " + out.digest);
  tmp.finish(path_for(out.digest));
  return out;
}

}  // namespace ferry
