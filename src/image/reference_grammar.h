// Pure splitters for `transport:details` names and the local transports'
// reference syntax. No filesystem access: resolving PATH (absolute, clean,
// symlink-free) is the transports' job and happens after this.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "image/docker_reference.h"

namespace ferry {

// "transport:rest", split at the first ':'. No colon throws
// `Invalid image name "X", expected colon-separated transport:reference`.
std::pair<std::string, std::string> split_transport(std::string_view image_name);

// oci:PATH[:REF|:@N] (within = the text after "oci:"). PATH ends at the
// first ':'; REF must match the OCI ref.name grammar
// component(/component)*, component = [A-Za-z0-9]+ separated by one of
// -._:@+ or "--". With allow_index, "@N" selects manifests[N] instead.
// Errors (c/image's text):
//   Invalid image <ref>
//   Invalid source index @<n>: not an integer: strconv.Atoi: parsing "<n>": invalid syntax
//   Invalid source index @<n>: not an integer: strconv.Atoi: parsing "<n>": value out of range
//   Invalid source index @<n>: must not be negative
struct OciRefParts {
  std::string path;
  std::string ref;  // empty: none
  int index = -1;   // -1: none
  bool operator==(const OciRefParts&) const = default;
};
OciRefParts parse_oci_reference(std::string_view within, bool allow_index);

// docker-archive:PATH[:NAME[:TAG]|:@N]. The name is normalized like a
// docker reference and gets ":latest" if untagged. Errors:
//   docker-archive reference  isn't of the form <path>[:<reference>]   (empty input)
//   docker-archive parsing reference: <parse_normalized_named error>
//   reference does not include a tag: <ref>                  (name@digest)
//   docker-archive doesn't support digest references: <ref>  (name:tag@digest)
//   Invalid source index @<n>: strconv.Atoi: parsing "<n>": invalid syntax|value out of range
//   Invalid source index @<n>: must not be negative
struct DockerArchiveRefParts {
  std::string path;
  std::optional<DockerReference> ref;
  int index = -1;
  bool operator==(const DockerArchiveRefParts&) const = default;
};
DockerArchiveRefParts parse_docker_archive_reference(std::string_view within);

}  // namespace ferry
