// containers-registries.d(5): where simple signatures live (lookaside
// storage) and whether sigstore attachments are used, per registry scope,
// merged from every *.yaml file of one directory as containers/image does.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "image/docker_reference.h"
#include "image/system_context.h"

namespace ferry {

// Larger files are refused unread.
inline constexpr std::size_t kMaxRegistriesDFileSize = 4 << 20;

// One `default-docker:` or `docker: <scope>:` section.
struct LookasideSection {
  std::string lookaside;          // read (and write, without a staging URL)
  std::string lookaside_staging;  // write only
  std::string sigstore;           // deprecated alias of lookaside
  std::string sigstore_staging;   // deprecated alias of lookaside-staging
  std::optional<bool> use_sigstore_attachments;
  bool operator==(const LookasideSection&) const = default;

  // The URL this section gives for reading or writing, "" if none:
  // writing prefers lookaside-staging, sigstore-staging; then both use
  // lookaside, sigstore.
  std::string top_level(bool write) const;
};

class RegistriesD {
 public:
  // ctx.registries_d, else $HOME/.config/containers/registries.d if it
  // exists, else /etc/containers/registries.d.
  static std::string default_dir(const SystemContext& ctx);

  // Every *.yaml in the directory (a missing directory is empty). A scope,
  // or default-docker, defined in two files is an error:
  //   Error parsing signature storage configuration: "docker" namespace "S" defined both in "A" and
  //   "B" Error parsing signature storage configuration: "default-docker" defined both in "A" and
  //   "B"
  // Syntax and type errors: `parsing PATH: yaml: line N: <reason>`.
  static RegistriesD load(const SystemContext& ctx);
  static RegistriesD load_dir(const std::string& dir);

  // One file's text (tests, fuzzing); errors as load's, with name as PATH.
  static RegistriesD parse(std::string_view yaml, const std::string& name);

  // The lookaside URL configured for ref, or "". Scopes are tried from the
  // exact identity (name:tag / name@digest) through the repository, its
  // namespaces, the host and "*.domain" wildcards, then default-docker; a
  // matching scope without a URL falls through to the next.
  std::string configured_lookaside(const DockerReference& ref, bool write) const;

  // configured_lookaside, else the built-in default:
  // file:///var/lib/containers/sigstore for root,
  // file://$HOME/.local/share/containers/sigstore otherwise.
  std::string lookaside_for(const DockerReference& ref, bool write = false) const;

  // lookaside_for with "/<repository path>" appended to the URL path
  // ("file:///sigs" + docker.io/library/busybox -> "file:///sigs/library/busybox"),
  // the base that signature-N URLs hang off.
  std::string lookaside_base_url(const DockerReference& ref, bool write = false) const;

  // use-sigstore-attachments of the most specific scope that sets it, then
  // default-docker's; false when none does.
  bool use_sigstore_attachments(const DockerReference& ref) const;

  const std::optional<LookasideSection>& default_docker() const { return default_docker_; }
  const std::map<std::string, LookasideSection>& docker() const { return docker_; }

 private:
  void merge(RegistriesD&& file, const std::string& path);

  std::optional<LookasideSection> default_docker_;
  std::string default_docker_from_;
  std::map<std::string, LookasideSection> docker_;
  std::map<std::string, std::string> docker_from_;
};

// The lookaside used when registries.d configures none.
std::string builtin_default_lookaside();

}  // namespace ferry
