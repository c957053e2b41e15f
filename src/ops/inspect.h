// `inspect`: the docker-inspect-like summary, the raw manifest, or the
// config, of any image reference.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "image/types.h"
#include "ops/retry.h"

namespace ferry {

struct InspectOptions {
  bool raw = false;
  bool config = false;
  bool no_tags = false;
  std::string format;  // Go template; "" = JSON
  // Lists the repository's tags for RepoTags (docker transport); empty
  // function = the transport has no tags. Given the open source, whose
  // connection and credentials it may reuse.
  std::function<std::vector<std::string>(ImageSource&)> list_tags;
  // --retry-times / --retry-delay, applied to each network step on its own
  // (opening the source, the manifest, the config, the tags), as skopeo's
  // inspect does: a step that failed is repeated, not the whole command.
  RetryPolicy retry;
};

// Returns exactly what skopeo writes to stdout.
std::string inspect_image(const ImageReference& ref, const SystemContext& ctx,
                          const InspectOptions& opts);

}  // namespace ferry
