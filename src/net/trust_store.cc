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

#include "io/fs.h"
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

// See certificates_pem.
Certs parse_certificates(std::string_view pem) {
  Certs out;
  if (pem.empty() || pem.size() > kMaxCaBytes) return out;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return out;
  for (;;) {
    const size_t before = BIO_pending(bio.get());
    if (before == 0) break;
    if (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      out.emplace_back(cert);
      continue;
    }
    // No further BEGIN line, or a block that did not decode (consumed
    // with its text): stop only once nothing more is read.
    if (static_cast<size_t>(BIO_pending(bio.get())) >= before) break;
  }
  // Parsing leaves errors on this thread's queue, where libcurl would
  // later read them as the reason a connection failed.
  ERR_clear_error();
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
  add_all(ts.store, parse_certificates(system_pem));
  Certs extras;
  for (const std::string& pem : extra_pems) {
    Certs more = parse_certificates(pem);
    for (auto& c : more) extras.push_back(std::move(c));
  }
  add_all(ts.store, extras);
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
