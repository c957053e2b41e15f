// Registry error bodies and token responses are whatever a (possibly
// hostile) server sends: both parsers must end in a result or a
// ferry::Error, never a crash, hang or unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/registry_errors.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the status class and the Bearer error, so one
  // corpus covers every branch; the rest is the body.
  const uint8_t sel = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  static const long kStatuses[] = {400, 401, 403, 404, 429, 500};
  static const char* const kBearer[] = {"", "invalid_token", "insufficient_scope", "other"};
  long status = kStatuses[sel % 6];
  const char* bearer = kBearer[(sel / 6) % 4];
  auto f = ferry::net::classify_registry_failure(status, body, bearer, (sel & 0x80) ? "desc" : "");
  (void)f.text();
  try {
    auto t = ferry::net::parse_bearer_token_response(body);
    (void)t;
  } catch (const ferry::Error&) {
  }
  return 0;
}
