#include "ops/manifest_choice.h"

#include <algorithm>

#include "image/manifest/media_types.h"
#include "util/error.h"

namespace ferry {

namespace mt = manifest::media_type;

std::string format_flag_to_mime(const std::string& format) {
  if (format.empty()) return "";
  if (format == "oci") return mt::kOciManifest;
  if (format == "v2s1") return mt::kDockerV2Schema1Signed;
  if (format == "v2s2") return mt::kDockerV2Schema2;
  throw Error("unknown format \"" + format +
              "\". Choose one of the supported formats: 'oci', 'v2s1', or 'v2s2'");
}

std::vector<std::string> choose_manifest_types(const ManifestChoiceInput& in) {
  // Unmodifiable: write the source's own type and hope the destination takes
  // it, exactly as containers/image does (so --preserve-digests --format X
  // keeps the source format).
  if (!in.cannot_modify_reason.empty()) return {in.source_mime};

  std::vector<std::string> allowed =
      in.forced_mime.empty() ? in.destination_supported : std::vector<std::string>{in.forced_mime};
  const bool any = allowed.empty();
  auto is_allowed = [&](const std::string& m) {
    if (in.requires_oci && m != mt::kOciManifest) return false;
    return any || std::find(allowed.begin(), allowed.end(), m) != allowed.end();
  };

  std::vector<std::string> out;
  auto add = [&](const std::string& m) {
    if (!m.empty() && is_allowed(m) && std::find(out.begin(), out.end(), m) == out.end())
      out.push_back(m);
  };
  add(in.source_mime);
  add(mt::kDockerV2Schema2);
  add(mt::kDockerV2Schema1Signed);
  if (any) {
    add(mt::kOciManifest);
  } else {
    for (const auto& m : allowed) add(m);
  }
  if (out.empty()) {
    std::string list;
    for (const auto& m : allowed) list += (list.empty() ? "" : " ") + m;
    if (in.requires_oci)
      throw Error("compression using zstd required together with format(s) [" + list +
                  "], which do(es) not support it");
    throw Error("no manifest type supported by the destination: [" + list + "]");
  }
  return out;
}

}  // namespace ferry
