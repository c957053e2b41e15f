// Fuzzes the policy.json parser and, for inputs it accepts, scope lookup and
// evaluation. Only ferry::Error may escape the parser; anything else (or a
// sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/policy_file.h"
#include "image/policy.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ferry::Policy policy;
  try {
    policy = ferry::parse_policy(input, "fuzz.json");
  } catch (const ferry::Error&) {
    return 0;
  }
  if (policy.default_requirements.empty()) __builtin_trap();  // parsing must refuse this

  ferry::PolicyImage image{"docker",
                           "docker.io/library/busybox:latest",
                           {"docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"},
                           "docker://busybox:latest"};
  for (const auto& [transport, scopes] : policy.transports) {
    image.transport = transport;
    for (const auto& entry : scopes) {
      if (entry.second.empty()) __builtin_trap();
      image.identity = entry.first;
      if (&ferry::requirements_for(policy, image) != &entry.second) __builtin_trap();
      try {
        ferry::check_image_allowed(policy, image, nullptr);
      } catch (const ferry::Error&) {
      }
    }
  }
  return 0;
}
