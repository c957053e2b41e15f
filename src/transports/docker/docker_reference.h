// docker://NAME[:TAG|@DIGEST]: an image in a registry (§3.2).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/types.h"
#include "net/http_client.h"
#include "net/registry_client.h"
#include "net/registry_errors.h"

namespace ferry::docker {

// Appended to a name to push without a tag (+1.15): the manifest is stored
// by its own digest.
inline constexpr std::string_view kUnknownDigestSuffix = "@@unknown-digest@@";

class DockerImageReference : public ImageReference {
 public:
  // ref carries a tag or a digest unless unknown_digest.
  DockerImageReference(DockerReference ref, bool unknown_digest);

  std::string transport_name() const override { return "docker"; }
  // "//" + the familiar form ("//busybox:latest").
  std::string string_within_transport() const override;
  std::optional<DockerReference> docker_reference() const override { return ref_; }
  std::string policy_identity() const override;
  std::vector<std::string> policy_namespaces() const override;

  std::unique_ptr<ImageSource> new_source(const SystemContext& ctx) const override;
  std::unique_ptr<ImageDestination> new_destination(const SystemContext& ctx) const override;
  // GET the manifest, DELETE it by digest (every tag pointing at it goes).
  void delete_image(const SystemContext& ctx) const override;

  const DockerReference& ref() const { return ref_; }
  bool unknown_digest() const { return unknown_digest_; }
  // The manifest URL's last part: the digest if any, else the tag.
  std::string tag_or_digest() const;

 private:
  DockerReference ref_;
  bool unknown_digest_;
};

// The part after "docker:". Errors: `docker: image reference X does not
// start with //`, the reference grammar's, and for an unknown-digest name
// with a tag or digest `docker: image reference "X" has unknown digest set
// but it contains either a tag or digest`.
std::unique_ptr<ImageReference> parse_reference(std::string_view within);

// list-tags' argument ("docker://name", no tag or digest): the repository.
// Errors: `docker: image reference X does not start with docker://`,
// `No tag or digest allowed in reference`.
DockerReference parse_repository_reference(const std::string& image_name);

// The host the API is reached at: docker.io is served by registry-1.docker.io.
std::string api_host(const std::string& domain);

// Manifest / blob / tag-list / upload paths for a repository path.
std::string manifest_path(const std::string& repo, const std::string& tag_or_digest);
std::string blob_path(const std::string& repo, const std::string& digest);
std::string tags_path(const std::string& repo);
std::string upload_path(const std::string& repo);
// POST target that mounts digest from another repository of the registry.
std::string mount_path(const std::string& repo, const std::string& digest, const std::string& from_repo);

// The Accept header of manifest GETs: every manifest type ferry reads, in
// c/image's order.
const std::string& manifest_accept_header();

// A client for ref's registry and repository, configured from ctx (certs.d,
// --tls-verify, credentials, --registry-token, user agent) and
// registries.conf's `insecure` (insecure_override: a mirror's own setting).
// actions: "pull", "pull,push" or "*".
std::unique_ptr<net::RegistryClient> make_client(net::HttpClient& http, const SystemContext& ctx,
                                                 const DockerReference& ref, const std::string& actions,
                                                 std::optional<bool> insecure_override = std::nullopt);
// The HttpClient every docker source / destination uses (User-Agent from
// ctx, --debug request lines).
std::unique_ptr<net::HttpClient> make_http_client(const SystemContext& ctx);

// All tags of the repository, following Link pagination; registry order.
// Empty tags and tags shaped like digests are skipped; other invalid tags
// throw `registry returned invalid tag "X": invalid tag format`. A refused
// request throws net::RegistryError `fetching tags list: ...`.
std::vector<std::string> list_tags(const DockerReference& repo, const SystemContext& ctx);
// The same through a client already set up for pulling from repo.
std::vector<std::string> list_tags(net::RegistryClient& client, const DockerReference& repo);

// skopeo inspect tolerates registries that refuse tag listing: DENIED, or
// the UNKNOWN "404 page not found" of registries without the endpoint.
bool tag_listing_disallowed(const Error& e);

// The failure of a registry answer as the user sees it: "<context>: <text>",
// a NotFoundError (exit 2) when not_found_is_2 and the image does not exist
// (MANIFEST_UNKNOWN, NAME_UNKNOWN or a bare 404), else a RegistryError.
[[noreturn]] void throw_registry_failure(const std::string& context, const net::Response& r,
                                         const std::string& body, bool not_found_is_2 = false);

}  // namespace ferry::docker
