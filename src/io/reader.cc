#include "io/reader.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "io/fs.h"
#include "util/error.h"

namespace ferry {

std::string read_all(Reader& r, size_t max_bytes) {
  std::string out;
  // Grow with what actually arrives rather than reserving max_bytes, so a
  // generous limit costs nothing for small documents.
  std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    // Ask for one byte more than allowed so "exactly at the limit" and "over
    // it" can be told apart without reading further.
    size_t want = buf.size();
    const size_t left = max_bytes - out.size();
    if (left < want) want = left + 1;
    size_t got = r.read(buf.data(), want);
    if (got == 0) return out;
    if (out.size() + got > max_bytes)
      throw Error("exceeded maximum allowed size of " + std::to_string(max_bytes) + " bytes");
    out.append(reinterpret_cast<const char*>(buf.data()), got);
  }
}

size_t StringReader::read(uint8_t* buf, size_t n) {
  size_t left = data_.size() - pos_;
  if (n > left) n = left;
  memcpy(buf, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

FileReader::FileReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw path_error("open", path, errno);
  struct stat st;
  if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = st.st_size;
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

size_t FileReader::read(uint8_t* buf, size_t n) {
  for (;;) {
    ssize_t got = ::read(fd_, buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) throw path_error("read", path_, errno);
  }
}

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// The algorithms OCI registers digests for.
const EVP_MD* digest_algorithm(const std::string& name, size_t* hex_len) {
  if (name == "sha256") {
    *hex_len = 64;
    return EVP_sha256();
  }
  if (name == "sha384") {
    *hex_len = 96;
    return EVP_sha384();
  }
  if (name == "sha512") {
    *hex_len = 128;
    return EVP_sha512();
  }
  return nullptr;
}

MdCtx new_md_ctx(const EVP_MD* md) {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    throw Error("initializing digest computation failed");
  return ctx;
}

std::string final_hex(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md, &len) != 1) throw Error("finishing digest computation failed");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; i++) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return hex;
}

void update(EVP_MD_CTX* ctx, const uint8_t* buf, size_t n) {
  if (n > 0 && EVP_DigestUpdate(ctx, buf, n) != 1) throw Error("updating digest failed");
}

}  // namespace

struct DigestVerifyingReader::Impl {
  std::unique_ptr<Reader> inner;
  std::string digest;
  std::string algorithm;
  int64_t size;
  int64_t total = 0;
  MdCtx ctx;
  bool done = false;
  // A failed stream keeps failing with the same message: a caller that
  // retries read() must never see a clean EOF after a mismatch.
  std::string failure;

  [[noreturn]] void fail(const std::string& msg) {
    failure = msg;
    throw Error(msg);
  }
  [[noreturn]] void fail_oversized(int64_t at_least) {
    fail("Size mismatch when copying " + digest + ", expected " + std::to_string(size) + ", got at least " +
         std::to_string(at_least));
  }
  // Reads from the source; its error sticks as a mismatch does.
  size_t read_inner(uint8_t* buf, size_t n) {
    try {
      return inner->read(buf, n);
    } catch (const Error& e) {
      failure = e.what();
      throw;
    }
  }
  // Compares the digest of everything read; afterwards read() returns 0.
  void verify() {
    const std::string actual = algorithm + ":" + final_hex(ctx.get());
    if (actual != digest) fail("Digest did not match, expected " + digest + ", got " + actual);
    done = true;
  }
};

DigestVerifyingReader::DigestVerifyingReader(std::unique_ptr<Reader> inner, std::string digest,
                                             int64_t size)
    : impl_(std::make_unique<Impl>()) {
  impl_->inner = std::move(inner);
  impl_->size = size;
  const size_t colon = digest.find(':');
  size_t hex_len = 0;
  const EVP_MD* md =
      colon == std::string::npos ? nullptr : digest_algorithm(digest.substr(0, colon), &hex_len);
  if (md == nullptr) throw Error("unsupported digest algorithm in \"" + digest + "\"");
  const std::string hex = digest.substr(colon + 1);
  bool valid = hex.size() == hex_len;
  for (char c : hex) valid = valid && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!valid) throw Error("invalid digest \"" + digest + "\"");
  impl_->algorithm = digest.substr(0, colon);
  impl_->digest = std::move(digest);
  impl_->ctx = new_md_ctx(md);
}

DigestVerifyingReader::~DigestVerifyingReader() = default;

std::string DigestVerifyingReader::vouched_digest() const { return impl_->digest; }

size_t DigestVerifyingReader::read(uint8_t* buf, size_t n) {
  Impl& s = *impl_;
  if (!s.failure.empty()) throw Error(s.failure);
  if (s.done || n == 0) return 0;
  // Never ask for more than one byte past the declared size, so an
  // oversized source is caught at the first surplus byte.
  if (s.size >= 0) {
    const uint64_t room = static_cast<uint64_t>(s.size - s.total) + 1;
    if (room < n) n = static_cast<size_t>(room);
  }
  const size_t got = s.read_inner(buf, n);
  s.total += static_cast<int64_t>(got);
  if (s.size >= 0 && s.total > s.size) s.fail_oversized(s.total);
  if (got > 0) {
    update(s.ctx.get(), buf, got);
    // At the declared size the verdict comes now, before these last bytes
    // are handed on: a consumer that stops at the size it was told (curl
    // sending a body of known length) would otherwise never ask again, and
    // a corrupt blob's final bytes would already be on their way.
    if (s.size >= 0 && s.total == s.size) {
      uint8_t probe;
      if (s.read_inner(&probe, 1) > 0) s.fail_oversized(s.total + 1);
      s.verify();
    }
    return got;
  }
  if (s.size >= 0 && s.total != s.size)
    s.fail("Size mismatch when copying " + s.digest + ", expected " + std::to_string(s.size) +
           ", got " + std::to_string(s.total));
  s.verify();
  return 0;
}

struct DigestingReader::Impl {
  Reader* inner;
  MdCtx ctx;
  bool finished = false;
  std::string digest;
};

DigestingReader::DigestingReader(Reader& inner) : impl_(std::make_unique<Impl>()) {
  impl_->inner = &inner;
  impl_->ctx = new_md_ctx(EVP_sha256());
}

DigestingReader::~DigestingReader() = default;

size_t DigestingReader::read(uint8_t* buf, size_t n) {
  Impl& s = *impl_;
  if (s.finished || n == 0) return 0;
  size_t got = s.inner->read(buf, n);
  if (got == 0) {
    s.digest = "sha256:" + final_hex(s.ctx.get());
    s.finished = true;
    return 0;
  }
  update(s.ctx.get(), buf, got);
  size_ += static_cast<int64_t>(got);
  return got;
}

bool DigestingReader::finished() const { return impl_->finished; }

std::string DigestingReader::digest() const {
  if (!impl_->finished) throw Error("internal error: digest requested before end of stream");
  return impl_->digest;
}

}  // namespace ferry
