// Fuzzes the auth.json parser (both formats) and, for files it accepts, the
// writer and the "auth" decoder. Only ferry::Error may escape; a file that
// parses must serialize to text that parses back to the same model.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/auth_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool legacy : {false, true}) {
    ferry::AuthFile file;
    try {
      file = ferry::parse_auth_file(input, "fuzz.json", legacy);
    } catch (const ferry::Error&) {
      continue;
    }
    for (const auto& [key, entry] : file.auths) {
      try {
        ferry::decode_auth_entry(entry, "fuzz.json", key);
      } catch (const ferry::Error&) {
      }
      ferry::normalize_auth_file_key(key, legacy);
      ferry::auth_keys_for(key);
      try {
        ferry::validate_auth_key(key);
        ferry::parse_credentials_key(key);
      } catch (const ferry::Error&) {
      }
    }
    if (legacy) continue;
    // What the writer produces must read back as the same model.
    std::string text = ferry::serialize_auth_file(file);
    ferry::AuthFile again;
    try {
      again = ferry::parse_auth_file(text, "fuzz.json", false);
    } catch (const ferry::Error&) {
      __builtin_trap();
    }
    if (again.auths.size() != file.auths.size() ||
        again.cred_helpers.size() != file.cred_helpers.size()) {
      __builtin_trap();
    }
  }
  return 0;
}
