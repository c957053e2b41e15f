// Where a certificate's subject name is in its DER encoding, found without
// parsing the certificate.
//
// OpenSSL 3 decodes a whole certificate, public key included, in ~100 us;
// the system bundle's 144 would cost every TLS process ~20 ms before its
// first handshake. The trust store (trust_store.cc) only indexes them by
// subject and decodes the few a chain asks for; this finds the subject for
// that index. Hand-written because no library exposes a partial decode.
#pragma once

#include <optional>
#include <string_view>

namespace ferry::net {

// The subject Name (its whole TLV) of the X.509 certificate `der`:
// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
// OPTIONAL, serialNumber INTEGER, signature SEQUENCE, issuer SEQUENCE,
// validity SEQUENCE, subject SEQUENCE, ... }, ... }. Definite lengths only
// (DER); nullopt for anything else, never reading outside `der`.
std::optional<std::string_view> certificate_subject_der(std::string_view der);

}  // namespace ferry::net
