// Docker image references ("busybox", "quay.io/a/b:tag", "x@sha256:...")
// with the semantics of c/image's fork of distribution/reference: the same
// normalization, the same accept/reject decisions and the same messages,
// because users script against skopeo's errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

struct DockerReference {
  std::string domain;  // "docker.io", "localhost:5000"; empty only for names
                       // like "foo_bar.com/x" whose first part is no valid host
  std::string path;    // "library/busybox"
  std::optional<std::string> tag;
  std::optional<std::string> digest;

  std::string name() const;             // domain + "/" + path (path alone if no domain)
  std::string to_string() const;        // name[:tag][@digest]
  std::string familiar_string() const;  // docker.io/library/x:t -> x:t
  bool operator==(const DockerReference&) const = default;
};

// reference.ParseNormalizedNamed: adds "docker.io/" and "library/",
// maps index.docker.io to docker.io. Throws ferry::Error with the Go text:
//   invalid reference format
//   invalid reference format: repository name must be lowercase
//   invalid repository name (<s>), cannot specify 64-byte hexadecimal strings
//   repository name must not be more than 255 characters
//   repository name must be lowercase   (only via Unicode that lowercases to ASCII)
//   invalid checksum digest format|length / unsupported digest algorithm
DockerReference parse_normalized_named(std::string_view s);

// The docker transport's ParseReference, given the text after "docker://":
// parse_normalized_named, reject tag+digest ("Docker references with both a
// tag and digest are currently not supported"), then tag_name_only.
DockerReference parse_docker_reference_for_transport(std::string_view s);

// Adds ":latest" if there is neither tag nor digest.
DockerReference tag_name_only(DockerReference r);

// Policy lookup keys as c/image's docker/policyconfiguration computes them.
// Identity: "name:tag" or "name@digest"; throws if both or neither are set.
std::string policy_identity(const DockerReference& r);
// "host/a/b", "host/a", "host", then "*.b.c", "*.c" from the host without
// its port. The implicit "" is not included.
std::vector<std::string> policy_namespaces(const DockerReference& r);

}  // namespace ferry
