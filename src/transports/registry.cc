// The table of transports: the one place that knows every transport, so
// the CLI and the copy engine only ever see ImageReference.
#include <functional>
#include <map>

#include "image/reference_grammar.h"
#include "image/types.h"
#include "transports/dir/dir_reference.h"
#include "transports/docker/docker_reference.h"
#include "transports/docker_archive/archive_reference.h"
#include "transports/oci/oci_reference.h"
#include "transports/oci_archive/oci_archive.h"
#include "util/error.h"

namespace ferry {

namespace {

using Parser = std::function<std::unique_ptr<ImageReference>(std::string_view)>;

const std::map<std::string, Parser>& parsers() {
  static const std::map<std::string, Parser> table = {
      {"dir", dir::parse_reference},
      {"docker", docker::parse_reference},
      {"docker-archive", docker_archive::parse_reference},
      {"oci", oci::parse_reference},
      {"oci-archive", oci_archive::parse_reference},
  };
  return table;
}

// Transports skopeo knows that ferry does not implement (yet): named
// explicitly so the user gets "not supported" instead of "unknown".
bool known_but_unsupported(const std::string& t) {
  return t == "docker-daemon" || t == "containers-storage" || t == "sif" ||
         t == "tarball" || t == "ostree";
}

}  // namespace

void ImageReference::delete_image(const SystemContext&) const {
  // skopeo names oci-archive's as "oci" (a quirk we keep for compatibility).
  std::string t = transport_name() == "oci-archive" ? "oci" : transport_name();
  throw Error("Deleting images not implemented for " + t + ": images");
}

std::unique_ptr<ImageReference> parse_image_name(const std::string& name) {
  auto [transport, rest] = split_transport(name);
  auto it = parsers().find(transport);
  if (it == parsers().end()) {
    if (known_but_unsupported(transport))
      throw Error("Invalid image name \"" + name + "\": the \"" + transport +
                  "\" transport is not supported by ferry yet");
    throw Error("Invalid image name \"" + name + "\", unknown transport \"" + transport + "\"");
  }
  return it->second(rest);
}

std::vector<std::string> known_transports() {
  return {"containers-storage", "dir", "docker", "docker-archive", "docker-daemon",
          "oci", "oci-archive", "sif", "tarball"};
}

}  // namespace ferry
