// The certificates a TLS connection is verified against, parsed once per
// process.
//
// libcurl builds a new SSL_CTX for every connection and, given a CA file or
// blob, parses all of it again each time: with Debian's bundle (~140
// certificates) that cost ~1 MiB of memory per live connection and ~5 ms
// of CPU per new one, 16 MiB and 0.6 CPU-seconds on a six-layer copy
// between two TLS registries. Go (skopeo) loads the system pool once per
// process; so does ferry: each trust configuration (system bundle plus a
// host's extra CA files) becomes one X509_STORE, shared by reference
// (SSL_CTX_set1_cert_store) by every connection that uses it.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

namespace ferry::net {

struct TrustStore {
  // The system bundle ($SSL_CERT_FILE, else libcurl's default), lazy
  // lookups in $SSL_CERT_DIR, and the extra CA files. Lives as long as the
  // process; shared between threads (OpenSSL locks it internally).
  X509_STORE* store = nullptr;
  // The extra files' certificates (PEM), empty when they hold none: what
  // makes this configuration's connections and TLS sessions differ from
  // another's in libcurl's eyes (see http_client.cc, configure_tls).
  std::string extras_pem;
};

// The certificates of a PEM file (CERTIFICATE blocks, in order), each
// re-encoded as PEM; blocks that do not parse, and text around them, are
// skipped, as Go's CertPool.AppendCertsFromPEM does (containers/image
// ignores what a .crt file does not contribute). Never throws on bad input.
std::string certificates_pem(std::string_view pem);

// The store for the system bundle plus `ca_files` (in order), built on
// first use. Throws Error("reading CA certificate: ...") for an unreadable
// extra file; malformed PEM blocks are skipped (as Go's AppendCertsFromPEM
// does), and a missing system bundle (minimal containers) just leaves the
// extra CAs.
const TrustStore& trust_store(const std::vector<std::string>& ca_files);

}  // namespace ferry::net
