#include "image/manifest/schema1.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <set>

#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "util/go_base64.h"

namespace ferry::manifest {

using gojson::Json;
using gojson::Kind;
using gojson::Type;

const Type& schema1_v1_compatibility_type() {
  static const Type container_config{Kind::kStruct, "struct { Cmd []string }", {{"Cmd", &gojson::string_slice_type()}},
                                     nullptr};
  static const Type t{Kind::kStruct,
                      "manifest.Schema1V1Compatibility",
                      {
                          {"id", &gojson::string_type()},
                          {"parent", &gojson::string_type(), true},
                          {"comment", &gojson::string_type(), true},
                          {"created", &gojson::time_type()},
                          {"container_config", &container_config, true},
                          {"author", &gojson::string_type(), true},
                          {"throwaway", &gojson::bool_type(), true},
                      },
                      nullptr};
  return t;
}

const Type& schema1_manifest_type() {
  static const Type fs_layer{Kind::kStruct, "manifest.Schema1FSLayers", {{"blobSum", &gojson::digest_type()}}, nullptr};
  static const Type fs_layers{Kind::kSlice, "[]manifest.Schema1FSLayers", {}, &fs_layer};
  static const Type history{
      Kind::kStruct, "manifest.Schema1History", {{"v1Compatibility", &gojson::string_type()}}, nullptr};
  static const Type histories{Kind::kSlice, "[]manifest.Schema1History", {}, &history};
  static const Type t{Kind::kStruct,
                      "manifest.Schema1",
                      {
                          {"name", &gojson::string_type()},
                          {"tag", &gojson::string_type()},
                          {"architecture", &gojson::string_type()},
                          {"fsLayers", &fs_layers},
                          {"history", &histories},
                          {"schemaVersion", &gojson::int_type()},
                      },
                      nullptr};
  return t;
}

namespace {

size_t array_size(const Json& v) { return v.is_array() ? v.size() : 0; }

bool valid_v1_id(const std::string& id) {
  if (id.size() != 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

void Schema1Manifest::initialize() {
  const Json& fs = v_["fsLayers"];
  const Json& hist = v_["history"];
  if (array_size(fs) != array_size(hist)) throw Error("length of history not equal to number of layers");
  if (array_size(fs) == 0) throw Error("no FSLayers in manifest");
  compat_.clear();
  for (size_t i = 0; i < hist.size(); ++i) {
    try {
      compat_.push_back(gojson::unmarshal(hist[i]["v1Compatibility"].get<std::string>(), schema1_v1_compatibility_type()));
    } catch (const Error& e) {
      rethrow_with_context("parsing v2s1 history entry " + std::to_string(i), e);
    }
  }
}

// c/image fixManifestLayers: consecutive entries with the same v1 ID are one
// layer (the older duplicates go); any other repetition or a broken parent
// chain is an error.
void Schema1Manifest::fix_layers() {
  for (const Json& c : compat_) {
    const std::string& id = c["id"].get_ref<const std::string&>();
    if (!valid_v1_id(id)) throw Error("image ID " + gojson::go_quote(id) + " is invalid");
  }
  if (!compat_.back()["parent"].get_ref<const std::string&>().empty()) {
    throw Error("Invalid parent ID in the base layer of the image");
  }
  std::set<std::string> seen;
  std::string last;
  for (const Json& c : compat_) {
    const std::string& id = c["id"].get_ref<const std::string&>();
    if (id != last && seen.count(id)) throw Error("ID " + id + " appears multiple times in manifest");
    last = id;
    seen.insert(id);
  }
  Json& fs = v_["fsLayers"];
  Json& hist = v_["history"];
  for (size_t k = compat_.size() - 1; k-- > 0;) {
    const std::string& id = compat_[k]["id"].get_ref<const std::string&>();
    const std::string& next = compat_[k + 1]["id"].get_ref<const std::string&>();
    if (id == next) {
      fs.erase(k);
      hist.erase(k);
      compat_.erase(compat_.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (compat_[k]["parent"].get_ref<const std::string&>() != next) {
      throw Error("Invalid parent ID. Expected " + next + ", got " + compat_[k]["parent"].get<std::string>());
    }
  }
}

std::unique_ptr<Schema1Manifest> Schema1Manifest::parse(std::string_view bytes) {
  auto m = std::make_unique<Schema1Manifest>();
  m->v_ = gojson::unmarshal(bytes, schema1_manifest_type());
  int64_t version = m->v_["schemaVersion"].get<int64_t>();
  if (version != 1) throw Error("unsupported schema version " + std::to_string(version));
  validate_unambiguous_format(bytes, media_type::kDockerV2Schema1Signed, kFieldFSLayers | kFieldHistory);
  m->initialize();
  m->fix_layers();
  const Json& fs = m->v_["fsLayers"];
  for (size_t i = 0; i < fs.size(); ++i) {
    validate_digest_field("fsLayers[" + std::to_string(i) + "].blobSum", fs[i]["blobSum"].get<std::string>());
  }
  m->original_ = std::string(bytes);
  return m;
}

std::unique_ptr<Schema1Manifest> Schema1Manifest::from_components(const std::string& name, const std::string& tag,
                                                                  const std::string& architecture,
                                                                  const std::vector<std::string>& fs_layers,
                                                                  const std::vector<std::string>& history) {
  auto m = std::make_unique<Schema1Manifest>();
  m->v_ = gojson::zero_value(schema1_manifest_type());
  m->v_["name"] = name;
  m->v_["tag"] = tag;
  m->v_["architecture"] = architecture;
  Json fs = Json::array();
  for (const std::string& d : fs_layers) fs.push_back(Json{{"blobSum", d}});
  Json hist = Json::array();
  for (const std::string& h : history) hist.push_back(Json{{"v1Compatibility", h}});
  m->v_["fsLayers"] = std::move(fs);
  m->v_["history"] = std::move(hist);
  m->v_["schemaVersion"] = 1;
  m->initialize();
  m->modified_ = true;
  return m;
}

std::string Schema1Manifest::mime_type() const { return media_type::kDockerV2Schema1Signed; }

Descriptor Schema1Manifest::config_info() const { return Descriptor{}; }

std::vector<LayerInfo> Schema1Manifest::layer_infos() const {
  const Json& fs = v_.at("fsLayers");
  std::vector<LayerInfo> out(fs.size());
  for (size_t i = 0; i < fs.size(); ++i) {
    LayerInfo& info = out[fs.size() - 1 - i];
    info.desc.digest = fs[i]["blobSum"].get<std::string>();
    info.desc.size = -1;
    info.empty_layer = compat_[i]["throwaway"].get<bool>();
  }
  return out;
}

void Schema1Manifest::update_layer_infos(const std::vector<Descriptor>& layers) {
  Json& fs = v_["fsLayers"];
  if (fs.size() != layers.size()) {
    throw Error("Error preparing updated manifest: layer count changed from " + std::to_string(fs.size()) + " to " +
                std::to_string(layers.size()));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    validate_digest_field("layers[" + std::to_string(i) + "].digest", layers[i].digest);
  }
  // docker pull recomputes v1 IDs from the layer contents, so c/image leaves
  // the IDs in history alone; only the blob sums change.
  for (size_t i = 0; i < layers.size(); ++i) fs[layers.size() - 1 - i]["blobSum"] = layers[i].digest;
  modified_ = true;
}

std::string Schema1Manifest::unsigned_json() const { return gojson::marshal_value(v_, schema1_manifest_type()); }

std::string Schema1Manifest::serialize() const {
  return modified_ ? add_dummy_schema1_signature(unsigned_json()) : original_;
}

std::unique_ptr<ImageManifest> Schema1Manifest::clone() const { return std::make_unique<Schema1Manifest>(*this); }

std::string Schema1Manifest::name() const { return v_.at("name").get<std::string>(); }
std::string Schema1Manifest::tag() const { return v_.at("tag").get<std::string>(); }
std::string Schema1Manifest::architecture() const { return v_.at("architecture").get<std::string>(); }

std::vector<std::string> Schema1Manifest::fs_layers() const {
  std::vector<std::string> out;
  for (const Json& l : v_.at("fsLayers")) out.push_back(l["blobSum"].get<std::string>());
  return out;
}

std::vector<std::string> Schema1Manifest::history() const {
  std::vector<std::string> out;
  for (const Json& h : v_.at("history")) out.push_back(h["v1Compatibility"].get<std::string>());
  return out;
}

void Schema1Manifest::set_reference(const std::string& name, const std::string& tag) {
  v_["name"] = name;
  v_["tag"] = tag;
  modified_ = true;
}

// ---------------------------------------------------------------------------
// libtrust JWS signing

namespace {

// joseBase64UrlEncode: URL alphabet, padding trimmed.
std::string base64url(const unsigned char* data, size_t n) {
  return go_base64_raw_url_encode(std::string_view(reinterpret_cast<const char*>(data), n));
}

std::string base64url(std::string_view s) { return go_base64_raw_url_encode(s); }

// libtrust keyIDEncode: base32 of 30 bytes in 12 groups of 4.
std::string key_id(const unsigned char* sha256_digest) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b32;
  for (size_t i = 0; i < 30; i += 5) {
    uint64_t w = 0;
    for (size_t k = 0; k < 5; ++k) w = (w << 8) | sha256_digest[i + k];
    for (int k = 35; k >= 0; k -= 5) b32 += kAlphabet[(w >> k) & 31];
  }
  std::string out;
  for (size_t i = 0; i < b32.size(); i += 4) {
    if (i) out += ':';
    out += b32.substr(i, 4);
  }
  return out;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

[[noreturn]] void crypto_failure(const char* what) { throw Error(std::string("signing schema1 manifest: ") + what); }

std::string coordinate(EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) crypto_failure("reading the public key");
  std::unique_ptr<BIGNUM, BnDeleter> bn(raw);
  unsigned char buf[32];
  if (BN_bn2binpad(bn.get(), buf, sizeof buf) != sizeof buf) crypto_failure("encoding the public key");
  return base64url(buf, sizeof buf);
}

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

std::string add_dummy_schema1_signature(std::string_view content) {
  // libtrust NewJSONSignature: the signed payload is the whole text; the
  // protected header records how to rebuild it after "signatures" is
  // spliced in before the closing brace.
  gojson::check_valid(content);
  size_t close = content.size();
  while (close > 0 && is_space(static_cast<unsigned char>(content[close - 1]))) --close;
  if (close == 0 || content[close - 1] != '}') throw Error("invalid JSON content");
  size_t last = close - 1;
  while (last > 0 && is_space(static_cast<unsigned char>(content[last - 1]))) --last;
  if (last == 0 || content[last - 1] == ',') throw Error("invalid JSON content");
  size_t format_length = last;
  std::string_view format_tail = content.substr(format_length);
  std::string indent;
  if (content.size() > 2 && content[0] == '{' && content[1] == '\n') {
    size_t q = content.find('"', 1);
    if (q != std::string_view::npos && q > 1) indent = std::string(content.substr(2, q - 2));
  }

  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  if (!key) crypto_failure("generating a key");
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(key.get(), &der);
  if (der_len <= 0) crypto_failure("encoding the public key");
  std::string der_bytes(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  unsigned char kid_hash[32];
  unsigned int kid_len = 0;
  if (EVP_Digest(der_bytes.data(), der_bytes.size(), kid_hash, &kid_len, EVP_sha256(), nullptr) != 1) {
    crypto_failure("hashing the public key");
  }

  char now[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  Json protected_header = Json::object();  // a Go map: keys sorted
  protected_header["formatLength"] = format_length;
  protected_header["formatTail"] = base64url(format_tail);
  protected_header["time"] = now;
  std::string protected_b64 = base64url(gojson::marshal(protected_header));
  std::string sign_input = protected_b64 + "." + base64url(content);

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(sign_input.data()),
                     sign_input.size()) != 1) {
    crypto_failure("signing");
  }
  std::string sig_der(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig_der.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(sign_input.data()), sign_input.size()) != 1) {
    crypto_failure("signing");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig_der.data());
  std::unique_ptr<ECDSA_SIG, SigDeleter> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig_len)));
  if (!sig) crypto_failure("decoding the signature");
  unsigned char rs[64];
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), rs, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), rs + 32, 32) != 32) {
    crypto_failure("encoding the signature");
  }

  Json jwk = Json::object();  // libtrust marshals the JWK from a map: sorted
  jwk["crv"] = "P-256";
  jwk["kid"] = key_id(kid_hash);
  jwk["kty"] = "EC";
  jwk["x"] = coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  jwk["y"] = coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  Json signature = Json::object();
  signature["header"] = Json::object();
  signature["header"]["jwk"] = std::move(jwk);
  signature["header"]["alg"] = "ES256";
  signature["signature"] = base64url(rs, sizeof rs);
  signature["protected"] = protected_b64;
  Json signatures = Json::array({std::move(signature)});

  std::string out(content.substr(0, format_length));
  out += ',';
  if (indent.empty()) {
    out += "\"signatures\":";
    out += gojson::marshal(signatures);
  } else {
    out += '\n';
    out += indent;
    out += "\"signatures\": ";
    out += gojson::marshal_indent(signatures, indent, indent);
    out += '\n';
  }
  out += '}';
  return out;
}

}  // namespace ferry::manifest
