#include "io/spooled_blob.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "io/fs.h"

namespace ferry {

namespace {

class FdReader : public Reader {
 public:
  FdReader(int fd, std::string where) : fd_(fd), where_(std::move(where)) {}
  size_t read(uint8_t* buf, size_t n) override {
    for (;;) {
      const ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) throw path_error("read", where_, errno);
    }
  }

 private:
  int fd_;
  std::string where_;
};

}  // namespace

SpooledBlob::SpooledBlob(const std::string& dir) {
  const std::string parent = dir.empty() ? std::string("/var/tmp") : dir;
  std::string path = parent + "/ferry-precompute-XXXXXX";
  fd_ = ::mkstemp(path.data());
  if (fd_ < 0) throw path_error("creating a temporary file in", parent, errno);
  ::unlink(path.c_str());
  where_ = path;
}

SpooledBlob::~SpooledBlob() { ::close(fd_); }

void SpooledBlob::fill(Reader& in) {
  DigestingReader hashed(in);
  std::vector<uint8_t> buf(kCopyBufferSize);
  for (;;) {
    const size_t got = hashed.read(buf.data(), buf.size());
    if (got == 0) break;
    for (size_t done = 0; done < got;) {
      const ssize_t w = ::write(fd_, buf.data() + done, got - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw path_error("write", where_, errno);
      done += static_cast<size_t>(w);
    }
  }
  digest_ = hashed.digest();
  size_ = hashed.size();
}

std::unique_ptr<Reader> SpooledBlob::reader() {
  if (::lseek(fd_, 0, SEEK_SET) != 0) throw path_error("seek", where_, errno);
  return std::make_unique<FdReader>(fd_, where_);
}

}  // namespace ferry
