// containers-registries.conf(5): registry-wide settings (mirrors, location
// rewrites, insecure, blocked) and the credential-helper list, read from
// registries.conf plus registries.conf.d drop-ins as containers/image reads
// them (sysregistriesv2), with its validation rules and error texts.
//
// skopeo never resolves short names, but the short-name settings are still
// parsed and validated: c/image rejects a file with a bad alias, so must we.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/docker_reference.h"
#include "image/system_context.h"

namespace ferry {

// Larger files are refused unread; a real registries.conf is a few KiB.
inline constexpr std::size_t kMaxRegistriesConfSize = 4 << 20;

// The reserved credential-helpers entry meaning "the auth files".
inline constexpr std::string_view kAuthFileCredentialHelper = "containers-auth.json";

struct RegistryMirror {
  std::string location;          // host[:port][/path], never empty
  bool insecure = false;         // plain HTTP / unverified TLS allowed
  std::string pull_from_mirror;  // "", "all", "digest-only", "tag-only"
  std::string proxy;             // forwarding proxy URL, "" = environment
  bool operator==(const RegistryMirror&) const = default;
};

struct RegistryEntry {
  // host[:port][/ns...][/repo][:tag|@digest] or "*.example.com"; defaults
  // to location. Trailing '/' removed.
  std::string prefix;
  std::string location;  // empty only with a "*." prefix (no rewrite)
  bool insecure = false;
  bool blocked = false;
  bool mirror_by_digest_only = false;
  std::string proxy;
  std::vector<RegistryMirror> mirrors;
  bool operator==(const RegistryEntry&) const = default;
};

// One place to try when reading an image: a mirror or the primary location,
// with the reference rewritten for it.
struct PullSource {
  DockerReference ref;
  bool insecure = false;
  bool is_mirror = false;
};

// Where load() looks. config_dir / user_config_dir may be "" (unused).
struct RegistriesConfPaths {
  std::string config_path;      // the main file
  std::string config_dir;       // system drop-in dir
  std::string user_config_dir;  // per-user drop-in dir, read after config_dir
  bool explicit_path = false;   // --registries-conf: a missing file is an error
};

class RegistriesConf {
 public:
  // Paths per §4.1: --registries-conf (ctx.registries_conf) plus both
  // drop-in dirs; else $HOME/.config/containers/registries.conf (if it
  // exists) with only the user drop-in dir; else
  // /etc/containers/registries.conf with the system then user drop-in dirs.
  static RegistriesConfPaths default_paths(const SystemContext& ctx);

  // Reads the main file (missing and not explicit: empty config) and every
  // *.conf drop-in (v2 format only) in name order; a drop-in's scalars
  // override, its [[registry]] entries replace those with the same prefix,
  // its aliases merge. Errors:
  //   loading registries configuration "PATH": <reason>
  //   loading drop-in registries configuration "PATH": <reason>
  //   reading registries.conf.d: <reason>
  static RegistriesConf load(const SystemContext& ctx);
  static RegistriesConf load_from(const RegistriesConfPaths& paths);

  // One file's text as a complete configuration (tests, fuzzing). Errors:
  //   loading registries configuration "NAME": <reason>
  static RegistriesConf parse(std::string_view toml, const std::string& name);

  // The [[registry]] entry whose prefix matches name (host, host/ns/repo, or
  // a full reference string) longest, or nullptr. A plain prefix matches
  // when followed by nothing, ':', '/' or '@'; "*.example.com" matches
  // subdomains of example.com.
  const RegistryEntry* find(std::string_view name) const;
  // The entry for ref.name() (as c/image looks up images).
  const RegistryEntry* find(const DockerReference& ref) const;

  // Mirrors (honouring mirror-by-digest-only and pull-from-mirror) then the
  // primary location, each with the reference rewritten to it (prefix
  // replaced by location), for READING an image. No entry: the reference
  // itself. Errors:
  //   registry PREFIX is blocked in CONF or DIR
  //   rewriting reference: <reference error>
  std::vector<PullSource> pull_sources(const DockerReference& ref) const;

  // insecure for a registry host (pushes, deletes, tag listing: the logical
  // registry) or for a reference's name.
  bool insecure(const std::string& host) const;
  bool insecure(const DockerReference& ref) const;
  // Throws `registry PREFIX is blocked in CONF or DIR` for a blocked entry.
  void check_not_blocked(const DockerReference& ref) const;

  const std::vector<RegistryEntry>& registries() const { return registries_; }  // sorted by prefix
  const std::vector<std::string>& unqualified_search_registries() const { return search_; }
  // "enforcing", "permissive" or "disabled"; permissive when unset.
  std::string short_name_mode() const;
  // Short name -> fully qualified name; "" means erased by a later file.
  const std::map<std::string, std::string>& aliases() const { return aliases_; }
  // Never empty: ["containers-auth.json"] unless configured.
  const std::vector<std::string>& credential_helpers() const { return helpers_; }
  const std::string& additional_layer_store_auth_helper() const { return als_helper_; }

 private:
  friend struct RegistriesConfParser;

  [[noreturn]] void throw_blocked(const RegistryEntry& entry) const;
  void merge(RegistriesConf&& drop_in);
  void finish();

  std::vector<RegistryEntry> registries_;
  std::vector<std::string> search_;
  bool search_set_ = false;
  std::string short_name_mode_;
  std::map<std::string, std::string> aliases_;
  std::vector<std::string> helpers_;
  bool helpers_set_ = false;
  std::string als_helper_;
  // For the blocked message: c/image's ConfigPath and ConfigDirPath.
  std::string config_path_;
  std::string config_dir_path_;
};

}  // namespace ferry
