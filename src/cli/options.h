// skopeo's reusable flag groups (§1.3-1.4 of the reference) and how they turn
// into a SystemContext. Each group registers its flags on a FlagSet and
// keeps the parsed values; the commands combine groups as skopeo does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "image/system_context.h"

namespace ferry::cli {

// Root (persistent) flags.
struct GlobalOptions {
  bool debug = false;
  bool insecure_policy = false;
  std::string policy;
  std::string registries_d;
  std::string registries_conf;
  std::string override_arch, override_os, override_variant;
  std::string tmpdir;
  std::string user_agent_prefix;
  Duration command_timeout{0};
  std::optional<bool> tls_verify;  // hidden, deprecated
  bool version = false;

  void define(FlagSet& fs);
  // The parts of a SystemContext every image side shares.
  SystemContext base_context() const;
};

// --authfile, shared by source and destination.
struct SharedImageOptions {
  std::string authfile;
  void define(FlagSet& fs);
};

// docker-image flags with a prefix ("", "src-", "dest-").
struct DockerImageOptions {
  std::string prefix;
  std::string authfile;  // only with a prefix
  OptionalString creds, username, password, registry_token;
  std::string cert_dir;
  std::optional<bool> tls_verify;
  bool no_creds = false;

  explicit DockerImageOptions(std::string p) : prefix(std::move(p)) {}
  void define(FlagSet& fs);
  // Validates the credential flags (skopeo's messages) and fills ctx.
  void apply(const GlobalOptions& g, const SharedImageOptions& shared, SystemContext& ctx) const;
};

// image flags = docker-image flags + shared blob dir + daemon host.
struct ImageOptions : DockerImageOptions {
  std::string shared_blob_dir;
  std::string daemon_host;
  using DockerImageOptions::DockerImageOptions;
  void define(FlagSet& fs);
  void apply(const GlobalOptions& g, const SharedImageOptions& shared, SystemContext& ctx) const;
};

// destination flags = image flags + compression controls.
struct ImageDestOptions : ImageOptions {
  bool compress = false, decompress = false, oci_accept_uncompressed = false;
  bool precompute_digests = false, force_compress_format = false;
  std::string compress_format;
  OptionalInt compress_level;
  using ImageOptions::ImageOptions;
  void define(FlagSet& fs);
  void apply(const GlobalOptions& g, const SharedImageOptions& shared, SystemContext& ctx) const;
};

struct RetryOptions {
  int64_t retry_times = 0;
  Duration retry_delay{0};
  void define(FlagSet& fs);
};

}  // namespace ferry::cli
