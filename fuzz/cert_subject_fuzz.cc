// Fuzzes the partial DER walk that finds a certificate's subject for the
// trust store's index. Oracle: whenever OpenSSL decodes the input as a
// certificate and the walk finds a subject, they agree byte for byte.
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/cert_subject.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view der(reinterpret_cast<const char*>(data), size);
  const auto subject = ferry::net::certificate_subject_der(der);
  if (subject) {
    if (subject->data() < der.data() || subject->data() + subject->size() > der.data() + der.size()) __builtin_trap();
    const unsigned char* p = data;
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(size))) {
      unsigned char* enc = nullptr;
      const int n = i2d_X509_NAME(X509_get_subject_name(x), &enc);
      if (n > 0 && p == data + size && std::string_view(reinterpret_cast<char*>(enc), static_cast<size_t>(n)) != *subject)
        __builtin_trap();
      OPENSSL_free(enc);
      X509_free(x);
    }
  }
  ERR_clear_error();
  return 0;
}
