// docker-archive:PATH[:NAME[:TAG]|:@N] — a `docker save` tarball (§3.5 of
// the reference).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/types.h"

namespace ferry::docker_archive {

class ArchiveReference : public ImageReference {
 public:
  // ref: the image's name in the archive (read: which RepoTag to pick;
  // write: the RepoTag to record). index: @N, read only; -1 if none.
  ArchiveReference(std::string path, std::optional<DockerReference> ref, int index)
      : path_(std::move(path)), ref_(std::move(ref)), index_(index) {}

  std::string transport_name() const override { return "docker-archive"; }
  std::string string_within_transport() const override;
  std::optional<DockerReference> docker_reference() const override { return ref_; }
  // Policy can only be set for the transport as a whole: an archive's
  // contents say nothing trustworthy about where the image came from.
  std::string policy_identity() const override { return ""; }
  std::vector<std::string> policy_namespaces() const override { return {}; }
  std::unique_ptr<ImageSource> new_source(const SystemContext& ctx) const override;
  std::unique_ptr<ImageDestination> new_destination(const SystemContext& ctx) const override;

  const std::string& path() const { return path_; }
  const std::optional<DockerReference>& ref() const { return ref_; }
  int index() const { return index_; }

 private:
  std::string path_;
  std::optional<DockerReference> ref_;
  int index_;
};

std::unique_ptr<ImageReference> parse_reference(std::string_view within);

// `list-tags docker-archive:PATH`: the RepoTags of every image in archive
// order, as written in manifest.json; an untagged image i lists as "@i".
std::vector<std::string> list_tags(const std::string& path);
std::vector<std::string> list_tags(const std::string& path, const SystemContext& ctx);

}  // namespace ferry::docker_archive
