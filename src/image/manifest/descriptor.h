// A content descriptor (OCI) / Schema2Descriptor (Docker), and a platform.
// One struct for both formats: the serializers in schema2.cc / oci.cc /
// list.cc decide which fields each format writes and in which order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ferry::manifest {

struct Platform {
  std::string architecture;
  std::string os;
  std::string os_version;                // "os.version"
  std::vector<std::string> os_features;  // "os.features"
  std::string variant;
  std::vector<std::string> features;     // Docker lists only
  bool operator==(const Platform&) const = default;
};

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = -1;   // -1: unknown
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;  // Go map: sorted on output
  std::optional<Platform> platform;
  std::string artifact_type;
  bool operator==(const Descriptor&) const = default;
};

}  // namespace ferry::manifest
