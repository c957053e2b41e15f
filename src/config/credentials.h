// Where registry credentials come from (containers-auth.json(5)): explicit
// flags first, then auth files and credential helpers in containers/image's
// search order. Nothing here ever logs or prints a secret.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/system_context.h"

namespace ferry {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // refresh token (username "<token>" from helpers)
};

// The auth files read when neither --authfile nor $REGISTRY_AUTH_FILE is
// given, in order: ${XDG_RUNTIME_DIR}/containers/auth.json (or
// /run/containers/<uid>/auth.json), ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
// $DOCKER_CONFIG/config.json or ~/.docker/config.json, ~/.dockercfg.
std::vector<std::string> default_auth_file_paths();

// Credentials for an image on `registry` (host[:port]) in repository `repo`
// (path without host, e.g. "library/busybox"; "" when only the registry is
// known). Precedence: ctx.username/password (--creds) > ctx.no_creds
// (anonymous: nullopt) > the auth file(s) (ctx.authfile alone when set, else
// default_auth_file_paths()), most specific key first
// (host/ns/repo, host/ns, host), credHelpers running docker-credential-<name>.
std::optional<Credentials> lookup_credentials(const SystemContext& ctx, const std::string& registry,
                                              const std::string& repo);

}  // namespace ferry
