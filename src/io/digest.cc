#include "io/digest.h"

#include <openssl/evp.h>

#include <utility>

#include "util/error.h"
#include "util/go_quote.h"

namespace ferry {

namespace {

constexpr const char* kInvalidFormat = "invalid checksum digest format";
constexpr const char* kInvalidLength = "invalid checksum digest length";
constexpr const char* kUnsupported = "unsupported digest algorithm";

// Fetched once: OpenSSL 3's implicit fetch inside EVP_sha256() costs a
// lock and a lookup per blob otherwise.
const EVP_MD* fetch_md(std::string_view algorithm) {
  static const EVP_MD* sha256 = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md ? md : EVP_sha256();
  }();
  static const EVP_MD* sha512 = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return md ? md : EVP_sha512();
  }();
  if (algorithm == "sha256") return sha256;
  if (algorithm == "sha512") return sha512;
  return nullptr;
}

size_t hex_length(std::string_view algorithm) {
  if (algorithm == "sha256") return 64;
  if (algorithm == "sha512") return 128;
  return 0;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_lower_hex(char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }

// [a-z0-9]+([+._-][a-z0-9]+)*
bool is_algorithm_grammar(std::string_view a) {
  if (a.empty()) return false;
  bool need_alnum = true;
  for (char c : a) {
    if (is_lower_alnum(c)) {
      need_alnum = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      if (need_alnum) return false;
      need_alnum = true;
    } else {
      return false;
    }
  }
  return !need_alnum;
}

// [a-zA-Z0-9=_-]+
bool is_encoded_grammar(std::string_view e) {
  if (e.empty()) return false;
  for (char c : e) {
    bool ok = is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Digest.Validate; sha384 counts as available only when asked for.
const char* validate(std::string_view d, bool with_sha384) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == d.size()) return kInvalidFormat;
  std::string_view algorithm = d.substr(0, colon);
  std::string_view encoded = d.substr(colon + 1);
  size_t want = with_sha384 && algorithm == "sha384" ? 96 : hex_length(algorithm);
  if (want == 0) {
    // go-digest tells a malformed digest from a well-formed one it merely
    // cannot compute; keep the distinction, users see it.
    if (!is_algorithm_grammar(algorithm) || !is_encoded_grammar(encoded)) return kInvalidFormat;
    return kUnsupported;
  }
  if (encoded.size() != want) return kInvalidLength;
  for (char c : encoded) {
    if (!is_lower_hex(c)) return kInvalidFormat;
  }
  return nullptr;
}

}  // namespace

Hasher::Hasher(std::string_view algorithm) : algorithm_(algorithm), md_(fetch_md(algorithm)) {
  if (!md_) throw Error("unsupported digest algorithm " + go_quote(algorithm));
  ctx_ = EVP_MD_CTX_new();
  if (!ctx_) throw Error("hashing with " + algorithm_ + ": out of memory");
  init();
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

Hasher::Hasher(Hasher&& other) noexcept
    : algorithm_(std::move(other.algorithm_)),
      md_(std::exchange(other.md_, nullptr)),
      ctx_(std::exchange(other.ctx_, nullptr)) {}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    algorithm_ = std::move(other.algorithm_);
    md_ = std::exchange(other.md_, nullptr);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void Hasher::init() {
  if (EVP_DigestInit_ex(ctx_, md_, nullptr) != 1) {
    throw Error("hashing with " + algorithm_ + ": OpenSSL EVP_DigestInit_ex failed");
  }
}

void Hasher::update(const void* data, size_t n) {
  if (n == 0) return;
  if (EVP_DigestUpdate(ctx_, data, n) != 1) {
    throw Error("hashing with " + algorithm_ + ": OpenSSL EVP_DigestUpdate failed");
  }
}

std::string Hasher::hex_final() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, raw, &len) != 1) {
    throw Error("hashing with " + algorithm_ + ": OpenSSL EVP_DigestFinal_ex failed");
  }
  init();
  static const char* hex = "0123456789abcdef";
  std::string out(len * 2, '\0');
  for (unsigned int i = 0; i < len; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  return out;
}

std::string Hasher::digest_final() { return algorithm_ + ":" + hex_final(); }

std::string sha256_digest(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.digest_final();
}

std::string sha512_digest(std::string_view bytes) {
  Sha512 h;
  h.update(bytes);
  return h.digest_final();
}

std::string digest_like(std::string_view like, std::string_view bytes) {
  Hasher h(digest_algorithm(like));
  h.update(bytes);
  return h.digest_final();
}

const char* digest_problem(std::string_view d) { return validate(d, false); }

const char* go_digest_problem(std::string_view d) { return validate(d, true); }

void validate_digest(std::string_view d) {
  if (const char* problem = digest_problem(d)) {
    throw Error("invalid digest " + go_quote(d) + ": " + problem);
  }
}

std::string digest_algorithm(std::string_view d) {
  validate_digest(d);
  return std::string(d.substr(0, d.find(':')));
}

std::string digest_hex(std::string_view d) {
  validate_digest(d);
  return std::string(d.substr(d.find(':') + 1));
}

}  // namespace ferry
