#include "net/trust_store.h"

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "io/fs.h"
#include "net/cert_subject.h"
#include "util/error.h"

namespace ferry::net {

namespace {

constexpr size_t kMaxCaBytes = 16 << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using Certs = std::vector<std::unique_ptr<X509, X509Free>>;

// Calls f(der) for each CERTIFICATE block of `pem` that decodes from
// base64 (the names PEM_read_bio_X509 accepts); other blocks, text around
// them and blocks that do not decode are skipped. Clears the thread's
// OpenSSL errors afterwards, f's included.
template <class F>
void for_each_certificate_der(std::string_view pem, F&& f) {
  if (pem.empty() || pem.size() > kMaxCaBytes) return;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return;
  for (;;) {
    const size_t before = BIO_pending(bio.get());
    if (before == 0) break;
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (!PEM_read_bio(bio.get(), &name, &header, &data, &len)) {
      // No further BEGIN line, or a block that did not decode (consumed
      // with its text): stop only once nothing more is read.
      if (static_cast<size_t>(BIO_pending(bio.get())) >= before) break;
      continue;
    }
    const std::string_view block_name = name;
    if (block_name == PEM_STRING_X509 || block_name == PEM_STRING_X509_OLD)
      f(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(len)));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  // Parsing leaves errors on this thread's queue, where libcurl would
  // later read them as the reason a connection failed.
  ERR_clear_error();
}

X509* decode(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return d2i_X509(nullptr, &p, static_cast<long>(der.size()));
}

void add_der(X509_STORE* store, std::string_view der) {
  if (X509* x = decode(der)) {
    X509_STORE_add_cert(store, x);  // duplicates are fine
    X509_free(x);
  }
}

// See certificates_pem.
Certs parse_certificates(std::string_view pem) {
  Certs out;
  for_each_certificate_der(pem, [&](std::string_view der) {
    if (X509* x = decode(der)) out.emplace_back(x);
  });
  return out;
}

void add_all(X509_STORE* store, const Certs& certs) {
  for (const auto& c : certs) X509_STORE_add_cert(store, c.get());  // duplicates are fine
  ERR_clear_error();
}

std::string to_pem(const Certs& certs) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  for (const auto& c : certs) PEM_write_bio_X509(bio.get(), c.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

// The system bundle, indexed by the hash of each certificate's subject
// (OpenSSL's canonical X509_NAME_hash, the one its hashed directories use);
// a certificate is decoded and added to the store the first time a chain
// asks for its subject. Decoding all 144 of Debian's would cost every TLS
// process ~20 ms (OpenSSL 3 decodes each public key eagerly); indexing
// costs ~2 ms. Never freed, like the stores.
struct BundleIndex {
  struct Entry {
    std::string der;
    std::once_flag loaded;
  };
  std::unordered_multimap<unsigned long, std::unique_ptr<Entry>> by_hash;
};

unsigned long name_hash(const X509_NAME* name, bool* ok) {
  int good = 0;
  const unsigned long h = X509_NAME_hash_ex(name, nullptr, nullptr, &good);
  *ok = good != 0;
  return h;
}

// Adds every indexed certificate whose subject hashes as `name` does.
bool load_subject(BundleIndex& idx, X509_STORE* store, const X509_NAME* name) {
  bool ok = false;
  const unsigned long h = name_hash(name, &ok);
  if (!ok) return false;
  auto [first, last] = idx.by_hash.equal_range(h);
  if (first == last) return false;
  for (auto it = first; it != last; ++it) {
    BundleIndex::Entry& e = *it->second;
    std::call_once(e.loaded, [&] { add_der(store, e.der); });
  }
  ERR_clear_error();
  return true;
}

// X509_LOOKUP get_by_subject, as OpenSSL's hashed-directory lookup does it:
// load the candidates into the store, then hand back one of them without a
// reference of its own (the caller takes one; OpenSSL then looks through
// the store for the others with that subject).
int bundle_get_by_subject(X509_LOOKUP* lu, X509_LOOKUP_TYPE type, const X509_NAME* name, X509_OBJECT* ret) {
  if (type != X509_LU_X509 || name == nullptr || ret == nullptr) return 0;
  auto* idx = static_cast<BundleIndex*>(X509_LOOKUP_get_method_data(lu));
  X509_STORE* store = X509_LOOKUP_get_store(lu);
  if (!idx || !store || !load_subject(*idx, store, name)) return 0;
  int found = 0;
  if (X509_STORE_lock(store)) {
    X509_OBJECT* obj = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store), type, name);
    X509* x = obj ? X509_OBJECT_get0_X509(obj) : nullptr;
    if (x && X509_OBJECT_set1_X509(ret, x)) {
      X509_free(x);  // the store keeps its reference for the process' life
      found = 1;
    }
    X509_STORE_unlock(store);
  }
  return found;
}

X509_LOOKUP_METHOD* bundle_lookup_method() {
  static X509_LOOKUP_METHOD* m = [] {
    X509_LOOKUP_METHOD* lm = X509_LOOKUP_meth_new("ferry: CA bundle indexed by subject");
    if (lm) X509_LOOKUP_meth_set_get_by_subject(lm, &bundle_get_by_subject);
    return lm;
  }();
  return m;
}

// The hash X509_NAME_hash_ex gives the subject of certificate `der`, found
// without decoding the certificate.
std::optional<unsigned long> subject_hash(std::string_view der) {
  const auto subject = certificate_subject_der(der);
  if (!subject) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(subject->data());
  X509_NAME* n = d2i_X509_NAME(nullptr, &p, static_cast<long>(subject->size()));
  if (!n) return std::nullopt;
  bool ok = false;
  const unsigned long h = name_hash(n, &ok);
  X509_NAME_free(n);
  if (!ok) return std::nullopt;
  return h;
}

// Indexes the certificates of `pem` into `idx`; one whose subject cannot be
// found cheaply is decoded and added to `store` at once.
void index_bundle(const std::string& pem, X509_STORE* store, BundleIndex& idx) {
  for_each_certificate_der(pem, [&](std::string_view der) {
    const auto h = subject_hash(der);
    if (!h) return add_der(store, der);
    auto e = std::make_unique<BundleIndex::Entry>();
    e->der.assign(der);
    idx.by_hash.emplace(*h, std::move(e));
  });
}

std::string system_bundle_path() {
  if (const char* env = std::getenv("SSL_CERT_FILE"); env && *env) return env;
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  return v && v->cainfo ? v->cainfo : "/etc/ssl/certs/ca-certificates.crt";
}

TrustStore build(const std::string& bundle, const std::string& cert_dir, const std::vector<std::string>& ca_files) {
  // Read everything before building, so a failure leaks nothing.
  std::string system_pem;
  try {
    system_pem = read_file(bundle, kMaxCaBytes);
  } catch (const Error&) {
    // No system bundle (minimal containers): the extra CAs alone.
  }
  std::vector<std::string> extra_pems;
  for (const std::string& f : ca_files) {
    try {
      extra_pems.push_back(read_file(f, kMaxCaBytes));
    } catch (const Error& e) {
      throw Error(std::string("reading CA certificate: ") + e.what());
    }
  }

  TrustStore ts;
  ts.store = X509_STORE_new();
  if (!ts.store) throw Error("reading CA certificates: out of memory");
  auto* idx = new BundleIndex;
  index_bundle(system_pem, ts.store, *idx);
  X509_LOOKUP_METHOD* m = bundle_lookup_method();
  X509_LOOKUP* lu = m ? X509_STORE_add_lookup(ts.store, m) : nullptr;
  if (!lu) throw Error("reading CA certificates: out of memory");
  X509_LOOKUP_set_method_data(lu, idx);
  Certs extras;
  for (const std::string& pem : extra_pems) {
    Certs more = parse_certificates(pem);
    for (auto& c : more) extras.push_back(std::move(c));
  }
  add_all(ts.store, extras);
  // OpenSSL asks the lookups only for subjects not yet in the store: an
  // extra CA would hide a bundle certificate of the same subject (another
  // key, a cross-signature) that a chain may need. Load those now.
  for (const auto& c : extras) load_subject(*idx, ts.store, X509_get_subject_name(c.get()));
  ts.extras_pem = to_pem(extras);
  if (!cert_dir.empty()) {
    // Hashed-name lookups, made only when a chain needs them (as libcurl's
    // CURLOPT_CAPATH did).
    X509_STORE_load_path(ts.store, cert_dir.c_str());
    ERR_clear_error();
  }
  // What libcurl sets on the stores it builds: certificates in the store
  // are trust anchors even when not self-signed (Go's roots behave so too),
  // and the store is searched before the chain the server sent.
  X509_STORE_set_flags(ts.store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
  return ts;
}

}  // namespace

std::string certificates_pem(std::string_view pem) { return to_pem(parse_certificates(pem)); }

const TrustStore& trust_store(const std::vector<std::string>& ca_files) {
  // Never freed: connections may use a store until exit, and OpenSSL's own
  // clean-up at exit may already have run by the time statics are destroyed.
  static std::mutex* mu = new std::mutex;
  static auto* stores = new std::map<std::string, TrustStore>;

  const std::string bundle = system_bundle_path();
  const char* dir_env = std::getenv("SSL_CERT_DIR");
  const std::string cert_dir = dir_env ? dir_env : "";
  std::string key = bundle + '\0' + cert_dir;
  for (const std::string& f : ca_files) key += '\0' + f;

  std::lock_guard<std::mutex> lock(*mu);
  auto it = stores->find(key);
  if (it == stores->end()) it = stores->emplace(key, build(bundle, cert_dir, ca_files)).first;
  return it->second;
}

}  // namespace ferry::net
