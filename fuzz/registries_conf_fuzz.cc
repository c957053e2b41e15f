// Fuzzes the registries.conf parser and, for configurations it accepts,
// registry lookup and pull-source rewriting. Only ferry::Error may escape.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/registries_conf.h"
#include "image/docker_reference.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ferry::RegistriesConf conf;
  try {
    conf = ferry::RegistriesConf::parse(input, "fuzz.conf");
  } catch (const ferry::Error&) {
    return 0;
  }
  if (conf.credential_helpers().empty()) __builtin_trap();
  const std::string digest = "@sha256:" + std::string(64, 'a');
  for (const ferry::RegistryEntry& r : conf.registries()) {
    std::string names[] = {r.prefix, r.location, r.prefix + "/x",
                           "sub" + r.prefix.substr(1) + "/x"};
    for (const std::string& name : names) {
      if (conf.find(name) == nullptr && name == r.prefix && r.prefix.rfind("*.", 0) != 0)
        __builtin_trap();
      for (const std::string& suffix : {std::string(":tag"), digest}) {
        try {
          ferry::DockerReference ref = ferry::parse_normalized_named(name + suffix);
          conf.pull_sources(ref);
          conf.check_not_blocked(ref);
          conf.insecure(ref);
        } catch (const ferry::Error&) {
        }
      }
    }
  }
  return 0;
}
