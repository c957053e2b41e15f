#include "image/manifest/platform.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <optional>

namespace ferry::manifest {

namespace {

// From most capable to most compatible; an architecture without variants
// has no entry.
struct Compat {
  std::string_view arch;
  std::array<std::string_view, 4> variants;
  size_t count;
};
constexpr Compat kCompatibility[] = {
    {"amd64", {"v4", "v3", "v2"}, 3},
    {"arm", {"v8", "v7", "v6", "v5"}, 4},
    {"arm64", {"v8"}, 1},
};

const Compat* compatibility(std::string_view arch) {
  for (const Compat& c : kCompatibility)
    if (c.arch == arch) return &c;
  return nullptr;
}

// amd64 "v1" is the x86-64 baseline: asking for it asks for nothing more.
std::string normalize_amd64_variant(std::string_view arch, std::string_view variant) {
  if (arch == "amd64" && variant == "v1") return "";
  return std::string(variant);
}

std::string_view trim_space(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool equal_fold_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of the first "key : value" line whose key is `key`. Like Go's
// strings.Split(line, ":")[1], the value stops at a second colon. Go's line
// scanner gives up on lines over 64 KiB, and so do we.
std::optional<std::string> cpuinfo_field(std::string_view text, std::string_view key) {
  constexpr size_t kMaxLine = 64 * 1024;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.size() >= kMaxLine) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!equal_fold_ascii(trim_space(line.substr(0, colon)), key)) continue;
    std::string_view value = line.substr(colon + 1);
    value = value.substr(0, value.find(':'));
    return std::string(trim_space(value));
  }
  return std::nullopt;
}

std::string detect_variant(const std::string& os, const std::string& arch) {
  // Darwin and Windows only run one variant per architecture.
  if (os == "darwin" || os == "windows") {
    if (arch == "arm64") return "v8";
    if (arch == "arm") return "v7";
    return "";
  }
  // amd64 levels are only detected on request in c/image (no skopeo flag
  // asks for it), so amd64 keeps wanting the baseline.
  if (arch != "arm" && arch != "arm64") return "";
  std::ifstream in("/proc/cpuinfo", std::ios::binary);
  if (!in) return "";
  std::string text(1 << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return arm_variant_from_cpuinfo(text);
}

}  // namespace

std::string build_os() {
#if defined(__linux__)
  return "linux";
#elif defined(__APPLE__)
  return "darwin";
#elif defined(__FreeBSD__)
  return "freebsd";
#elif defined(_WIN32)
  return "windows";
#else
  return "unknown";
#endif
}

std::string build_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__loongarch64)
  return "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
  return "mips64le";
#elif defined(__mips64)
  return "mips64";
#else
  return "unknown";
#endif
}

std::string arm_variant_from_cpuinfo(std::string_view cpuinfo) {
  std::optional<std::string> arch = cpuinfo_field(cpuinfo, "Cpu architecture");
  if (!arch) return "";
  std::string v = lower_ascii(*arch);
  if (v == "8" || v == "aarch64") return "v8";
  if (v == "7m" || v == "?(12)" || v == "?(13)" || v == "?(14)" || v == "?(15)" || v == "?(16)" || v == "?(17)")
    return "v7";
  if (v == "7") {
    // The kernel reports some ARMv6 boards (Raspberry Pi Zero) as 7; the
    // model name tells them apart.
    std::optional<std::string> model = cpuinfo_field(cpuinfo, "model name");
    if (!model) return "";
    return lower_ascii(*model).starts_with("armv6-compatible") ? "v6" : "v7";
  }
  if (v == "6" || v == "6tej") return "v6";
  if (v == "5" || v == "5t" || v == "5te" || v == "5tej") return "v5";
  if (v == "4" || v == "4t") return "v4";
  if (v == "3") return "v3";
  return "";
}

const RuntimePlatform& runtime_platform() {
  static const RuntimePlatform rt = [] {
    RuntimePlatform p{build_os(), build_arch(), ""};
    p.variant = detect_variant(p.os, p.arch);
    return p;
  }();
  return rt;
}

PlatformChoice platform_from_overrides(std::string os, std::string arch, std::string variant) {
  return platform_from_overrides(std::move(os), std::move(arch), std::move(variant), runtime_platform());
}

PlatformChoice platform_from_overrides(std::string os, std::string arch, std::string variant,
                                       const RuntimePlatform& runtime) {
  PlatformChoice c;
  if (!arch.empty()) {
    c.arch = std::move(arch);
  } else {
    c.arch = runtime.arch;
    c.variant = runtime.variant;
  }
  if (!variant.empty()) c.variant = std::move(variant);
  c.variant = normalize_amd64_variant(c.arch, c.variant);
  c.os = os.empty() ? runtime.os : std::move(os);
  return c;
}

std::vector<Platform> wanted_platforms(const PlatformChoice& resolved) {
  const std::string variant = normalize_amd64_variant(resolved.arch, resolved.variant);
  const Compat* compat = compatibility(resolved.arch);
  std::vector<std::string> variants;
  if (!variant.empty()) {
    bool known = false;
    if (compat) {
      for (size_t i = 0; i < compat->count; i++) {
        if (compat->variants[i] == variant) known = true;
        if (known) variants.emplace_back(compat->variants[i]);
      }
    }
    if (!known) variants.push_back(variant);
    variants.emplace_back();
  } else {
    variants.emplace_back();
    if (compat && resolved.arch != "amd64")
      for (size_t i = 0; i < compat->count; i++) variants.emplace_back(compat->variants[i]);
  }
  std::vector<Platform> out;
  out.reserve(variants.size());
  for (std::string& v : variants) {
    Platform p;
    p.os = resolved.os;
    p.architecture = resolved.arch;
    p.variant = std::move(v);
    out.push_back(std::move(p));
  }
  return out;
}

bool platform_matches(const Platform& image, const Platform& wanted) {
  return image.architecture == wanted.architecture && image.os == wanted.os &&
         normalize_amd64_variant(image.architecture, image.variant) ==
             normalize_amd64_variant(wanted.architecture, wanted.variant);
}

}  // namespace ferry::manifest
