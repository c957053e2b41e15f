#include "image/manifest/platform.h"

#include <gtest/gtest.h>

namespace ferry::manifest {
namespace {

// "os/arch/variant" of each wanted platform, joined by spaces.
std::string ladder(const PlatformChoice& c) {
  std::string out;
  for (const Platform& p : wanted_platforms(c)) {
    if (!out.empty()) out += ' ';
    out += p.os + "/" + p.architecture + "/" + p.variant;
  }
  return out;
}

TEST(Platform, WantedLadders) {
  EXPECT_EQ(ladder({"linux", "arm", "v7"}), "linux/arm/v7 linux/arm/v6 linux/arm/v5 linux/arm/");
  EXPECT_EQ(ladder({"linux", "arm", "v8"}), "linux/arm/v8 linux/arm/v7 linux/arm/v6 linux/arm/v5 linux/arm/");
  EXPECT_EQ(ladder({"linux", "arm", "v5"}), "linux/arm/v5 linux/arm/");
  EXPECT_EQ(ladder({"linux", "arm", ""}), "linux/arm/ linux/arm/v8 linux/arm/v7 linux/arm/v6 linux/arm/v5");
  EXPECT_EQ(ladder({"linux", "arm", "v9"}), "linux/arm/v9 linux/arm/");
  EXPECT_EQ(ladder({"linux", "arm64", ""}), "linux/arm64/ linux/arm64/v8");
  EXPECT_EQ(ladder({"linux", "arm64", "v8"}), "linux/arm64/v8 linux/arm64/");
  EXPECT_EQ(ladder({"linux", "arm64", "v7"}), "linux/arm64/v7 linux/arm64/");
  EXPECT_EQ(ladder({"linux", "amd64", ""}), "linux/amd64/");
  EXPECT_EQ(ladder({"linux", "amd64", "v1"}), "linux/amd64/");
  EXPECT_EQ(ladder({"linux", "amd64", "v2"}), "linux/amd64/v2 linux/amd64/");
  EXPECT_EQ(ladder({"linux", "amd64", "v4"}), "linux/amd64/v4 linux/amd64/v3 linux/amd64/v2 linux/amd64/");
  EXPECT_EQ(ladder({"windows", "s390x", ""}), "windows/s390x/");
  EXPECT_EQ(ladder({"linux", "s390x", "v2"}), "linux/s390x/v2 linux/s390x/");
}

TEST(Platform, OverridesFillRuntimeDefaults) {
  const RuntimePlatform arm_host{"linux", "arm", "v6"};
  EXPECT_EQ(platform_from_overrides("", "", "", arm_host), (PlatformChoice{"linux", "arm", "v6"}));
  // A detected variant belongs to the detected architecture only, even when
  // the override names the same architecture.
  EXPECT_EQ(platform_from_overrides("", "arm", "", arm_host), (PlatformChoice{"linux", "arm", ""}));
  EXPECT_EQ(platform_from_overrides("", "arm64", "", arm_host), (PlatformChoice{"linux", "arm64", ""}));
  EXPECT_EQ(platform_from_overrides("", "", "v7", arm_host), (PlatformChoice{"linux", "arm", "v7"}));
  EXPECT_EQ(platform_from_overrides("freebsd", "", "", arm_host), (PlatformChoice{"freebsd", "arm", "v6"}));
  EXPECT_EQ(platform_from_overrides("windows", "amd64", "v3", arm_host), (PlatformChoice{"windows", "amd64", "v3"}));
  EXPECT_EQ(platform_from_overrides("", "amd64", "v1", arm_host), (PlatformChoice{"linux", "amd64", ""}));

  const RuntimePlatform amd64_host{"linux", "amd64", ""};
  EXPECT_EQ(platform_from_overrides("", "", "", amd64_host), (PlatformChoice{"linux", "amd64", ""}));
  EXPECT_EQ(platform_from_overrides("", "", "v2", amd64_host), (PlatformChoice{"linux", "amd64", "v2"}));

  // Resolving twice changes nothing.
  for (const RuntimePlatform& rt : {arm_host, amd64_host, RuntimePlatform{"linux", "arm64", "v8"}}) {
    for (const PlatformChoice& c : {PlatformChoice{}, PlatformChoice{"", "arm", ""}, PlatformChoice{"", "", "v5"}}) {
      PlatformChoice once = platform_from_overrides(c.os, c.arch, c.variant, rt);
      EXPECT_EQ(platform_from_overrides(once.os, once.arch, once.variant, rt), once);
    }
  }
}

TEST(Platform, RuntimeMatchesTheBuild) {
  const RuntimePlatform& rt = runtime_platform();
  EXPECT_EQ(rt.os, build_os());
  EXPECT_EQ(rt.arch, build_arch());
#if defined(__x86_64__) && defined(__linux__)
  EXPECT_EQ(rt.os, "linux");
  EXPECT_EQ(rt.arch, "amd64");
  EXPECT_EQ(rt.variant, "");
  EXPECT_EQ(platform_from_overrides("", "", ""), (PlatformChoice{"linux", "amd64", ""}));
#endif
}

TEST(Platform, ArmVariantFromCpuinfo) {
  EXPECT_EQ(arm_variant_from_cpuinfo("processor\t: 0\nCPU architecture: 8\nCPU variant\t: 0x0\n"), "v8");
  EXPECT_EQ(arm_variant_from_cpuinfo("Cpu Architecture : AArch64\n"), "v8");
  EXPECT_EQ(arm_variant_from_cpuinfo("model name\t: ARMv7 Processor rev 4 (v7l)\nCPU architecture: 7\n"), "v7");
  // Raspberry Pi Zero: the kernel says 7, the model name says v6.
  EXPECT_EQ(arm_variant_from_cpuinfo("model name\t: ARMv6-compatible processor rev 7 (v6l)\nCPU architecture: 7\n"),
            "v6");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 7\n"), "");  // no model name to tell
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 7M\r\n"), "v7");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: ?(12)\n"), "v7");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 6TEJ\n"), "v6");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 5TE\n"), "v5");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 4T\n"), "v4");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 3"), "v3");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 9\n"), "");
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 8: extra\n"), "v8");  // value ends at a second colon
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture 8\n"), "");
  EXPECT_EQ(arm_variant_from_cpuinfo(""), "");
  // The first matching line wins.
  EXPECT_EQ(arm_variant_from_cpuinfo("CPU architecture: 6\nCPU architecture: 8\n"), "v6");
  // Go's line scanner fails on a line over 64 KiB before the field is found.
  EXPECT_EQ(arm_variant_from_cpuinfo(std::string(70000, 'x') + "\nCPU architecture: 8\n"), "");
  EXPECT_EQ(arm_variant_from_cpuinfo(std::string(1000, 'x') + "\nCPU architecture: 8\n"), "v8");
}

TEST(Platform, Matching) {
  Platform image;
  image.architecture = "amd64";
  image.os = "linux";
  image.os_version = "10.0";
  image.os_features = {"win32k"};
  Platform wanted;
  wanted.architecture = "amd64";
  wanted.os = "linux";
  EXPECT_TRUE(platform_matches(image, wanted));  // os.version / os.features ignored
  image.variant = "v1";
  EXPECT_TRUE(platform_matches(image, wanted));  // amd64 v1 == baseline
  image.variant = "v2";
  EXPECT_FALSE(platform_matches(image, wanted));
  wanted.variant = "v2";
  EXPECT_TRUE(platform_matches(image, wanted));
  wanted.os = "Linux";
  EXPECT_FALSE(platform_matches(image, wanted));  // case matters

  Platform arm_image{"arm", "linux", "", {}, "v1", {}};
  Platform arm_wanted{"arm", "linux", "", {}, "", {}};
  EXPECT_FALSE(platform_matches(arm_image, arm_wanted));  // only amd64 has the v1 baseline rule
}

}  // namespace
}  // namespace ferry::manifest
