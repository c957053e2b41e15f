// Content digests ("sha256:<hex>") as OCI and go-digest define them.
//
// Only sha256 and sha512 are supported; every other algorithm is rejected
// with go-digest's "unsupported digest algorithm" so a hostile manifest
// cannot name a hash we would then fail to verify.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header
struct evp_md_st;

namespace ferry {

// Incremental hash over one of the supported algorithms. Reusable: each
// *_final() call returns the digest of everything since the previous one.
class Hasher {
 public:
  // algorithm: "sha256" or "sha512"; anything else throws ferry::Error
  // `unsupported digest algorithm "x"`.
  explicit Hasher(std::string_view algorithm);
  ~Hasher();
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(const void* data, size_t n);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }

  std::string hex_final();     // lowercase hex
  std::string digest_final();  // "<algorithm>:<hex>"
  const std::string& algorithm() const { return algorithm_; }

 private:
  void init();

  std::string algorithm_;
  const evp_md_st* md_ = nullptr;
  evp_md_ctx_st* ctx_ = nullptr;  // null only in a moved-from Hasher
};

class Sha256 : public Hasher {
 public:
  Sha256() : Hasher("sha256") {}
};

class Sha512 : public Hasher {
 public:
  Sha512() : Hasher("sha512") {}
};

std::string sha256_digest(std::string_view bytes);  // "sha256:<hex>"
std::string sha512_digest(std::string_view bytes);  // "sha512:<hex>"
// Digest of bytes with the algorithm of `like` (a validated digest), so a
// blob can be checked against whatever algorithm its descriptor names.
std::string digest_like(std::string_view like, std::string_view bytes);

// go-digest's Digest.Validate, restricted to sha256/sha512. Returns nullptr
// for a valid digest, else the go-digest message ("invalid checksum digest
// format", "invalid checksum digest length", "unsupported digest
// algorithm"); docker reference parsing reports these bare, as c/image does.
const char* digest_problem(std::string_view d);

// go-digest's Digest.Validate as skopeo runs it, sha384 included: for
// digests that must be accepted exactly when c/image accepts them but that
// ferry never computes (list instance updates, policy.json references).
const char* go_digest_problem(std::string_view d);

// Throws ferry::Error `invalid digest "x": <problem>` unless d is valid.
void validate_digest(std::string_view d);

// Parts of a digest. Both validate first (throwing as validate_digest):
// the hex part ends up in file names (blobs/sha256/<hex>), so it must never
// be able to carry "/" or "..".
std::string digest_algorithm(std::string_view d);
std::string digest_hex(std::string_view d);

}  // namespace ferry
