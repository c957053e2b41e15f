#include "config/credentials.h"

#include <cstdlib>

#include "config/auth_file.h"
#include "config/config_dir.h"
#include "config/registries_conf.h"
#include "util/error.h"

namespace ferry {
namespace {

struct AuthPath {
  std::string path;
  bool legacy_format = false;
};

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::vector<AuthPath> default_paths() {
  std::vector<AuthPath> paths;
  try {
    paths.push_back({primary_auth_file_path()});
  } catch (const Error&) {
    // c/image only warns: a missing $XDG_RUNTIME_DIR must not stop a pull
    // of a public image.
  }
  const std::string home = home_dir();
  std::string config_home = env_or_empty("XDG_CONFIG_HOME");
  if (config_home.empty()) config_home = home + "/.config";
  paths.push_back({config_home + "/containers/auth.json"});
  const std::string docker_config = env_or_empty("DOCKER_CONFIG");
  paths.push_back(
      {docker_config.empty() ? home + "/.docker/config.json" : docker_config + "/config.json"});
  paths.push_back({home + "/.dockercfg", true});
  return paths;
}

}  // namespace

std::vector<std::string> default_auth_file_paths() {
  std::vector<std::string> out;
  for (const AuthPath& p : default_paths()) out.push_back(p.path);
  return out;
}

std::optional<Credentials> lookup_credentials(const SystemContext& ctx, const std::string& registry,
                                              const std::string& repo) {
  if (ctx.username || ctx.password) {
    return Credentials{ctx.username.value_or(""), ctx.password.value_or(""), ""};
  }
  if (ctx.no_creds) return std::nullopt;

  const std::string key = repo.empty() ? registry : registry + "/" + repo;
  validate_auth_key(key);
  const std::vector<AuthPath> paths =
      ctx.authfile.empty() ? default_paths() : std::vector<AuthPath>{{ctx.authfile}};

  // registries.conf's credential-helpers, in order; one that fails does not
  // hide a later one that has credentials.
  const RegistriesConf conf = RegistriesConf::load(ctx);
  std::vector<std::string> errors;
  for (const std::string& helper : conf.credential_helpers()) {
    try {
      if (helper == kAuthFileCredentialHelper) {
        for (const AuthPath& p : paths) {
          if (auto creds = find_credentials_in_file(p.path, p.legacy_format, key)) return creds;
        }
      } else if (auto creds = credential_helper_get(helper, registry)) {
        // Helpers are keyed by registry: namespaced keys are a file feature.
        return creds;
      }
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
  }
  // As c/image's GetCredentials: every helper's failure, Go's multierror text.
  if (!errors.empty()) throw Error(go_multierror_text(errors));
  return std::nullopt;
}

}  // namespace ferry
