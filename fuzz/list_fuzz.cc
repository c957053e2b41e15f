// Manifest lists / OCI indexes from arbitrary bytes: parse as either type,
// then serialize, convert both ways, update and choose an instance. Only
// ferry::Error may escape the library.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/list.h"
#include "image/manifest/media_types.h"
#include "util/error.h"

namespace {

using ferry::manifest::Descriptor;
using ferry::manifest::ManifestList;
using ferry::manifest::PlatformChoice;
namespace mt = ferry::manifest::media_type;

void exercise(std::string_view bytes, const char* mime, uint8_t selector) {
  ManifestList list = ManifestList::parse(bytes, mime);
  std::string out = list.serialize();
  if (!list.changed() && out != bytes) __builtin_trap();

  // Re-parsing our own output must succeed and be stable.
  ManifestList again = ManifestList::parse(out, list.mime_type());
  if (again.serialize() != out) __builtin_trap();

  for (const char* target : {mt::kDockerV2List, mt::kOciIndex}) {
    ManifestList converted = list.convert_to(target);
    std::string converted_bytes = converted.serialize();
    ManifestList::parse(converted_bytes, target);
  }
  try {
    list.convert_to(mt::kOciManifest);
    __builtin_trap();
  } catch (const ferry::Error&) {
  }

  static const PlatformChoice kChoices[] = {
      {}, {"linux", "arm", ""}, {"linux", "arm", "v6"}, {"linux", "arm64", ""}, {"windows", "amd64", "v3"}, {"", "", "v1"},
  };
  try {
    list.choose_instance(kChoices[selector % std::size(kChoices)]);
  } catch (const ferry::Error&) {
  }

  std::vector<Descriptor> updates;
  for (const Descriptor& d : list.instances()) {
    Descriptor u;
    u.digest = (selector & 1) ? d.digest : "sha256:" + std::string(64, 'e');
    u.size = (selector & 2) ? d.size : 7;
    u.media_type = (selector & 4) ? d.media_type : mt::kOciManifest;
    updates.push_back(std::move(u));
  }
  list.update_instances(updates);
  ManifestList::parse(list.serialize(), list.mime_type());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  for (const char* mime : {mt::kDockerV2List, mt::kOciIndex}) {
    try {
      exercise(bytes, mime, selector);
    } catch (const ferry::Error&) {
    }
  }
  return 0;
}
