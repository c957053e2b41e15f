// Which instance of a multi-arch list the user wants: the runtime platform,
// as Go's runtime.GOOS / runtime.GOARCH name it, overridden by
// --override-os / --override-arch / --override-variant, widened into the
// preference ladder containers/image walks (internal/pkg/platform).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/descriptor.h"

namespace ferry::manifest {

// What the user asked for; an empty field means "the runtime default".
struct PlatformChoice {
  std::string os, arch, variant;
  bool operator==(const PlatformChoice&) const = default;
};

// The platform this binary runs on: GOOS, GOARCH and, for arm / arm64, the
// CPU variant read from /proc/cpuinfo ("" when unknown). Detected once.
struct RuntimePlatform {
  std::string os, arch, variant;
};
const RuntimePlatform& runtime_platform();

// GOOS / GOARCH spelling of the platform this binary was compiled for.
std::string build_os();
std::string build_arch();

// The "Cpu architecture" line of /proc/cpuinfo mapped to an arm variant
// ("v8", "v7", "v6", ...; "" if absent or unknown), as c/image reads it.
std::string arm_variant_from_cpuinfo(std::string_view cpuinfo);

// Fills the defaults as c/image does. The variant is only auto-detected when
// the architecture is not overridden: a detected variant belongs to this
// machine's architecture, and once filled in the user could not override it
// back to "". Idempotent: resolving an already resolved choice changes nothing.
PlatformChoice platform_from_overrides(std::string os, std::string arch, std::string variant);
PlatformChoice platform_from_overrides(std::string os, std::string arch, std::string variant,
                                       const RuntimePlatform& runtime);

// The platforms acceptable for a resolved choice, most preferred first.
// A wanted variant walks down the architecture's compatibility list (arm:
// v8 v7 v6 v5; arm64: v8; amd64: v4 v3 v2) and then accepts "no variant";
// no wanted variant prefers "no variant", then any known variant (not for
// amd64, whose levels are not interchangeable downwards).
std::vector<Platform> wanted_platforms(const PlatformChoice& resolved);

// Whether an instance's platform satisfies one wanted entry. os.version and
// os.features are not compared (c/image ignores them); amd64 "v1" is the
// baseline and equals "".
bool platform_matches(const Platform& image, const Platform& wanted);

}  // namespace ferry::manifest
