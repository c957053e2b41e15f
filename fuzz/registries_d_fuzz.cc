// Fuzzes the registries.d YAML parser and, for files it accepts, scope
// lookup. Only ferry::Error may escape.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/registries_d.h"
#include "image/docker_reference.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ferry::RegistriesD conf;
  try {
    conf = ferry::RegistriesD::parse(input, "fuzz.yaml");
  } catch (const ferry::Error&) {
    return 0;
  }
  for (const auto& [scope, section] : conf.docker()) {
    try {
      ferry::DockerReference ref = ferry::tag_name_only(ferry::parse_normalized_named(scope));
      conf.configured_lookaside(ref, false);
      conf.configured_lookaside(ref, true);
      conf.lookaside_base_url(ref, true);
      conf.use_sigstore_attachments(ref);
    } catch (const ferry::Error&) {
    }
  }
  return 0;
}
