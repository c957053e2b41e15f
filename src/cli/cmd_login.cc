// `login REGISTRY` and `logout REGISTRY | --all`: c/common's pkg/auth as
// skopeo runs it (namespaced keys accepted), with the newer target-file
// rules (§2.6): --authfile > --compat-auth-file > $REGISTRY_AUTH_FILE >
// $DOCKER_CONFIG/config.json (Docker format) > the primary auth.json.
//
// Credentials are checked against the registry (GET /v2/ with them, through
// the same client and TLS set-up as docker:// images) before anything is
// stored. The password is only ever sent in an Authorization header and
// written into the auth file; it is never printed or logged.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>

#include "cli/command.h"
#include "cli/login_prompt.h"
#include "config/auth_file.h"
#include "config/credential_store.h"
#include "config/credentials.h"
#include "config/registries_conf.h"
#include "io/fs.h"
#include "net/net_error.h"
#include "net/registry_client.h"
#include "transports/docker/docker_reference.h"
#include "util/error.h"
#include "util/log.h"

namespace ferry::cli {

namespace {

constexpr const char* kAuthfileUsage =
    "path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override";
constexpr const char* kCompatAuthfileUsage = "path of a Docker-compatible config file to update instead";
constexpr const char* kTlsVerifyUsage = "require HTTPS and verify certificates when accessing the registry";

void out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The file login/logout write, and whether it alone is read back
// (c/image reads only a file the user named; the primary one is read along
// with the other default locations).
struct AuthTarget {
  bool user_specified = false;
  std::string path;  // "" when not user_specified: resolved when needed
  AuthFileFormat format = AuthFileFormat::kContainers;

  // The primary path is resolved late: a bad $XDG_RUNTIME_DIR only matters
  // when that file is actually written.
  LoginAuthFile file() const {
    if (user_specified) return {path, format};
    return default_login_auth_file();
  }
};

AuthTarget resolve_target(const std::string& authfile, const std::string& compat_authfile) {
  const std::string docker_default = env("HOME") + "/.docker/config.json";
  if (!authfile.empty() && !compat_authfile.empty()) {
    throw Error(
        "options for paths to the credential file and to the Docker-compatible credential file can "
        "not be set simultaneously");
  }
  if (!authfile.empty()) {
    if (authfile == docker_default)
      logging::log_warning("saving credentials to ~/.docker/config.json, but not using Docker-compatible file format");
    return {true, authfile, AuthFileFormat::kContainers};
  }
  if (!compat_authfile.empty()) return {true, compat_authfile, AuthFileFormat::kDockerCompat};
  const std::string registry_auth_file = env("REGISTRY_AUTH_FILE");
  if (!registry_auth_file.empty() && registry_auth_file == docker_default) {
    logging::log_warning(
        "$REGISTRY_AUTH_FILE points to ~/.docker/config.json, but the file format is not fully "
        "compatible; use the Docker-compatible file path option instead");
  }
  if (!registry_auth_file.empty() || !env("DOCKER_CONFIG").empty()) {
    LoginAuthFile f = default_login_auth_file();
    return {true, f.path, f.format};
  }
  return {};
}

// Where login/logout store and remove: a file the user named, alone
// (nullopt); otherwise registries.conf's credential-helpers, in order.
std::optional<std::vector<std::string>> credential_helpers_for(const SystemContext& ctx, const AuthTarget& target) {
  if (target.user_specified) return std::nullopt;
  return RegistriesConf::load(ctx).credential_helpers();
}

// The repository part of a credentials key ("quay.io/a/b" -> "a/b").
std::string key_repo(const CredentialsKey& k) {
  return k.key.size() > k.registry.size() ? k.key.substr(k.registry.size() + 1) : "";
}

// c/image's config.GetCredentials for the key: the target file alone when
// the user named one, else every default location.
std::optional<Credentials> stored_credentials(SystemContext ctx, const AuthTarget& target,
                                              const CredentialsKey& k) {
  ctx.authfile = target.user_specified ? target.path : "";
  ctx.username.reset();
  ctx.password.reset();
  ctx.no_creds = false;
  try {
    return lookup_credentials(ctx, k.registry, key_repo(k));
  } catch (const Error& e) {
    rethrow_with_context("get credentials", e);
  }
}

struct AuthCheck {
  bool valid = false;
  std::string detail;  // why the registry refused (never holds a secret)
};

// c/image's docker.CheckAuth: GET /v2/ on the registry with the credentials
// (Basic, or a token requested with them and no repository scope). A 401,
// from the registry or from its token server, means they are wrong; any
// other failure throws.
AuthCheck check_auth(SystemContext ctx, const std::string& registry, const std::string& username,
                     const std::string& password) {
  ctx.username = username;
  ctx.password = password;
  ctx.no_creds = false;
  ctx.registry_token.reset();
  DockerReference ref;
  ref.domain = registry;
  auto http = docker::make_http_client(ctx);
  std::unique_ptr<net::RegistryClient> client;
  try {
    client = docker::make_client(*http, ctx, ref, "");
  } catch (const Error& e) {
    rethrow_with_context("creating new docker client", e);
  }
  net::RegistryClient::Call call;
  call.target = "/v2/";
  std::string body;
  net::Response r;
  try {
    r = client->fetch(call, &body, net::kMaxErrorBodySize);
  } catch (const net::TokenRefusedError& e) {
    return {false, e.what()};  // the token server refused the credentials
  }
  if (r.status == 200) return {true, ""};
  net::RegistryHttpFailure f = net::RegistryClient::failure_of(r, body);
  if (r.status == 401) return {false, "unable to retrieve auth token: invalid username/password: " + f.text()};
  throw net::RegistryError(f.text(), f);
}

CredentialsKey parse_key_argument(const std::vector<std::string>& args, const char* none_msg,
                                  const char* many_msg) {
  if (args.empty()) throw Error(none_msg);
  if (args.size() > 1) throw Error(many_msg);
  return parse_credentials_key(args[0]);
}

class LoginCommand : public Command {
 public:
  explicit LoginCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "login [command options] REGISTRY";
    h.short_desc = "Login to a container registry";
    h.long_desc = "Login to a container registry on a specified server.";
    h.example = env_->program + " login quay.io";
    return h;
  }

  void define(FlagSet& fs) override {
    fs.add_optional_bool("tls-verify", 0, &tls_verify_, kTlsVerifyUsage);
    fs.add_string("authfile", 0, &authfile_, kAuthfileUsage);
    fs.add_string("compat-auth-file", 0, &compat_authfile_, kCompatAuthfileUsage);
    fs.add_string("cert-dir", 0, &cert_dir_, "use certificates at the specified path to access the registry");
    fs.add_string("password", 'p', &password_, "Password for registry");
    fs.add_string("username", 'u', &username_, "Username for registry");
    fs.add_bool("password-stdin", 0, &password_stdin_, "Take the password from stdin");
    fs.add_bool("get-login", 0, &get_login_, "Return the current login user for the registry");
    fs.add_bool("verbose", 'v', &verbose_, "Write more detailed information to stdout");
  }

  int run(const std::vector<std::string>& args) override {
    SystemContext ctx = env_->global->base_context();
    if (tls_verify_) ctx.tls_verify = tls_verify_;
    const AuthTarget target = resolve_target(authfile_, compat_authfile_);
    if (!cert_dir_.empty()) ctx.cert_dir = cert_dir_;
    const CredentialsKey k =
        parse_key_argument(args, "please provide a registry to log in to", "login accepts only one registry to log in to");

    const std::optional<Credentials> stored = stored_credentials(ctx, target, k);
    const Credentials none;
    const Credentials& have = stored ? *stored : none;
    if (get_login_) {
      if (have.username.empty()) throw Error("not logged into " + k.key);
      out(have.username + "\n");
      return 0;
    }
    if (!have.identity_token.empty()) throw Error("currently logged in, auth file contains an Identity token");

    std::string password = password_;
    if (password_stdin_) {
      if (!password_.empty()) throw Error("can't specify both --password-stdin and --password");
      if (username_.empty()) throw Error("must provide --username with --password-stdin");
      password = read_stdin_password(STDIN_FILENO);
    }

    if (username_.empty() && password.empty() && !have.username.empty() && !have.password.empty()) {
      out("Authenticating with existing credentials for " + k.key + "\n");
      bool valid = false;
      try {
        valid = check_auth(ctx, k.registry, have.username, have.password).valid;
      } catch (const Error& e) {
        logging::log_debug("checking existing credentials for " + go_quote(k.key) + ": " + e.what());
      }
      if (valid) {
        out("Existing credentials are valid. Already logged in to " + k.registry + "\n");
        return 0;
      }
      out("Existing credentials are invalid, please enter valid username and password\n");
    }

    std::string username = username_;
    ask(&username, &password, have.username);

    AuthCheck check;
    try {
      check = check_auth(ctx, k.registry, username, password);
    } catch (const Error& e) {
      rethrow_with_context("authenticating creds for " + go_quote(k.key), e);
    }
    if (!check.valid) {
      logging::log_debug("error logging into " + go_quote(k.key) + ": " + check.detail);
      throw Error("logging into " + go_quote(k.key) + ": invalid username/password");
    }
    std::string used;
    if (auto helpers = credential_helpers_for(ctx, target)) {
      used = store_credentials(*helpers, [&] { return target.file(); }, k, username, password);
    } else {
      const LoginAuthFile file = target.file();
      used = set_credentials(file.path, k.key, username, password, file.format);
    }
    if (verbose_) out("Used:  " + used + "\n");
    out("Login Succeeded!\n");
    return 0;
  }

 private:
  // c/common's getUserAndPass: prompts on stdout for what is missing. A
  // password can only be typed at a terminal: without one, fail before
  // prompting for anything rather than wait on input that cannot come.
  static void ask(std::string* username, std::string* password, const std::string& stored_user) {
    try {
      if (password->empty() && ::isatty(STDIN_FILENO) == 0) {
        throw Error(
            "reading password: standard input is not a terminal; use --password-stdin or --password");
      }
      if (username->empty()) {
        out(stored_user.empty() ? "Username: " : "Username (" + stored_user + "): ");
        std::fflush(stdout);
        std::string line = read_prompt_line(STDIN_FILENO);
        *username = trim_space(line).empty() ? stored_user : line;
      }
      if (password->empty()) {
        out("Password: ");
        std::fflush(stdout);
        try {
          *password = read_password_no_echo(STDIN_FILENO);
        } catch (const Error& e) {
          throw Error(std::string("reading password: ") + e.what());
        }
        out("\n");
      }
    } catch (const Error& e) {
      rethrow_with_context("getting username and password", e);
    }
    *username = trim_space(*username);
  }

  CommandEnv* env_;
  std::optional<bool> tls_verify_;
  std::string authfile_, compat_authfile_, cert_dir_, password_, username_;
  bool password_stdin_ = false, get_login_ = false, verbose_ = false;
};

// c/common's CheckAuthFile: a file named on the command line must exist.
void check_auth_file(const std::string& path) {
  if (path.empty()) return;
  if (::faccessat(AT_FDCWD, path.c_str(), F_OK, 0) != 0) {
    throw Error(std::string("credential file is not accessible: ") + path_error("faccessat", path, errno).what());
  }
}

class LogoutCommand : public Command {
 public:
  explicit LogoutCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "logout [command options] REGISTRY";
    h.short_desc = "Logout of a container registry";
    h.long_desc = "Logout of a container registry on a specified server.";
    h.example = env_->program + " logout quay.io";
    return h;
  }

  void define(FlagSet& fs) override {
    fs.add_optional_bool("tls-verify", 0, &tls_verify_, kTlsVerifyUsage);
    fs.add_string("authfile", 0, &authfile_, kAuthfileUsage);
    fs.add_string("compat-auth-file", 0, &compat_authfile_, kCompatAuthfileUsage);
    fs.add_bool("all", 'a', &all_, "Remove the cached credentials for all registries in the auth file");
  }

  int run(const std::vector<std::string>& args) override {
    SystemContext ctx = env_->global->base_context();
    if (tls_verify_) ctx.tls_verify = tls_verify_;
    check_auth_file(authfile_);
    check_auth_file(compat_authfile_);
    const AuthTarget target = resolve_target(authfile_, compat_authfile_);

    if (all_) {
      if (!args.empty()) throw Error("--all takes no arguments");
      if (auto helpers = credential_helpers_for(ctx, target))
        remove_all_stored_credentials(*helpers, [&] { return target.file(); });
      else
        remove_all_credentials(target.file().path);
      out("Removed login credentials for all registries\n");
      return 0;
    }
    const CredentialsKey k = parse_key_argument(args, "please provide a registry to log out from",
                                                "logout accepts only one registry to log out from");
    bool removed = false;
    try {
      if (auto helpers = credential_helpers_for(ctx, target)) {
        removed = remove_stored_credentials(*helpers, [&] { return target.file(); }, k);
      } else {
        const LoginAuthFile file = target.file();
        removed = remove_credentials(file.path, k.key, file.format);
      }
    } catch (const Error& e) {
      rethrow_with_context("logging out of " + go_quote(k.key), e);
    }
    if (removed) {
      out("Removed login credentials for " + k.key + "\n");
      return 0;
    }
    // Credentials found elsewhere (a Docker config.json this tool does not
    // write) that the registry accepts: say where they come from.
    const std::optional<Credentials> stored = stored_credentials(ctx, target, k);
    if (stored && !stored->username.empty() && !stored->password.empty()) {
      bool valid = false;
      try {
        valid = check_auth(ctx, k.registry, stored->username, stored->password).valid;
      } catch (const Error& e) {
        logging::log_debug("checking existing credentials for " + go_quote(k.key) + ": " + e.what());
      }
      if (valid) {
        out("Not logged into " + k.key +
            " with current tool. Existing credentials were established via docker login. Please use "
            "docker logout instead.\n");
        return 0;
      }
    }
    throw Error("not logged into " + k.key);
  }

 private:
  CommandEnv* env_;
  std::optional<bool> tls_verify_;
  std::string authfile_, compat_authfile_;
  bool all_ = false;
};

}  // namespace

std::unique_ptr<Command> make_login_command(CommandEnv* env) { return std::make_unique<LoginCommand>(env); }
std::unique_ptr<Command> make_logout_command(CommandEnv* env) { return std::make_unique<LogoutCommand>(env); }

}  // namespace ferry::cli
