// `inspect`: the docker-inspect-like summary, the raw manifest, or the
// config, of any image reference.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "image/types.h"

namespace ferry {

struct InspectOptions {
  bool raw = false;
  bool config = false;
  bool no_tags = false;
  std::string format;  // Go template; "" = JSON
  // Lists the repository's tags for RepoTags (docker transport); empty
  // function = the transport has no tags.
  std::function<std::vector<std::string>()> list_tags;
};

// Returns exactly what skopeo writes to stdout.
std::string inspect_image(const ImageReference& ref, const SystemContext& ctx,
                          const InspectOptions& opts);

}  // namespace ferry
