// Fuzzes the reading of CA files (certs.d *.crt, the system bundle): every
// certificate kept must parse again to the same text, and nothing may throw.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/trust_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string pem = ferry::net::certificates_pem(input);
  if (!pem.empty() && ferry::net::certificates_pem(pem) != pem) __builtin_trap();
  return 0;
}
