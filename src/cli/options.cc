#include "cli/options.h"

#include <cstdlib>

#include "util/error.h"

namespace ferry::cli {

void GlobalOptions::define(FlagSet& fs) {
  auto persistent = [](Flag& f) { f.persistent = true; };
  persistent(fs.add_duration("command-timeout", 0, &command_timeout, "timeout for the command execution"));
  persistent(fs.add_bool("debug", 0, &debug, "enable debug output"));
  persistent(fs.add_bool("insecure-policy", 0, &insecure_policy, "run the tool without any policy check"));
  persistent(fs.add_string("override-arch", 0, &override_arch,
                           "use `ARCH` instead of the architecture of the machine for choosing images"));
  persistent(fs.add_string("override-os", 0, &override_os, "use `OS` instead of the running OS for choosing images"));
  persistent(fs.add_string("override-variant", 0, &override_variant,
                           "use `VARIANT` instead of the running architecture variant for choosing images"));
  persistent(fs.add_string("policy", 0, &policy, "Path to a trust policy file"));
  persistent(fs.add_string("registries.d", 0, &registries_d,
                           "use registry configuration files in `DIR` (e.g. for container signature storage)"));
  persistent(fs.add_string("tmpdir", 0, &tmpdir, "directory used to store temporary files"));
  persistent(fs.add_string("user-agent-prefix", 0, &user_agent_prefix,
                           "prefix to add to the user agent string"));
  Flag& rc = fs.add_string("registries-conf", 0, &registries_conf, "path to the registries.conf file");
  rc.persistent = true;
  fs.mark_hidden("registries-conf");
  // Root-only (accepted before the subcommand), hidden; main() logs skopeo's
  // deprecation warning when it is used.
  fs.add_optional_bool("tls-verify", 0, &tls_verify,
                       "require HTTPS and verify certificates when accessing the container registry");
  fs.mark_hidden("tls-verify");
  fs.add_bool("version", 'v', &version, "Version for Skopeo");
}

SystemContext GlobalOptions::base_context() const {
  SystemContext ctx;
  ctx.arch_choice = override_arch;
  ctx.os_choice = override_os;
  ctx.variant_choice = override_variant;
  if (!tmpdir.empty()) ctx.big_files_temp_dir = tmpdir;
  ctx.registries_conf = registries_conf;
  ctx.registries_d = registries_d;
  if (!user_agent_prefix.empty()) ctx.user_agent = user_agent_prefix + " " + ctx.user_agent;
  ctx.tls_verify = tls_verify;
  return ctx;
}

static const char* kAuthfileUsage =
    "path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json";

void SharedImageOptions::define(FlagSet& fs) {
  // Like skopeo, the default comes from $REGISTRY_AUTH_FILE at start-up.
  if (const char* env = std::getenv("REGISTRY_AUTH_FILE")) authfile = env;
  fs.add_string("authfile", 0, &authfile, kAuthfileUsage);
}

void DockerImageOptions::define(FlagSet& fs) {
  const std::string& p = prefix;
  if (!p.empty()) fs.add_string(p + "authfile", 0, &authfile, kAuthfileUsage);
  fs.add_optional_string(p + "creds", 0, &creds, "Use `USERNAME[:PASSWORD]` for accessing the registry");
  fs.add_optional_string(p + "username", 0, &username, "Username for accessing the registry");
  fs.add_optional_string(p + "password", 0, &password, "Password for accessing the registry");
  fs.add_string(p + "cert-dir", 0, &cert_dir,
                "use certificates at `PATH` (*.crt, *.cert, *.key) to connect to the registry or daemon");
  fs.add_optional_bool(p + "tls-verify", 0, &tls_verify,
                       "require HTTPS and verify certificates when talking to the container registry or daemon");
  fs.add_bool(p + "no-creds", 0, &no_creds, "Access the registry anonymously");
  fs.add_optional_string(p + "registry-token", 0, &registry_token,
                         "Provide a Bearer token for accessing the registry");
}

void DockerImageOptions::apply(const GlobalOptions& g, const SharedImageOptions& shared,
                               SystemContext& ctx) const {
  ctx.authfile = !authfile.empty() ? authfile : shared.authfile;
  ctx.cert_dir = cert_dir;
  ctx.tls_verify = tls_verify ? tls_verify : g.tls_verify;
  if (creds.present && no_creds) throw Error("creds and no-creds cannot be specified at the same time");
  if (username.present && no_creds)
    throw Error("username and no-creds cannot be specified at the same time");
  if (creds.present && username.present)
    throw Error("creds and username cannot be specified at the same time");
  if (username.present && !password.present)
    throw Error("password must be specified when username is specified");
  if (password.present && !username.present)
    throw Error("username must be specified when password is specified");
  if (creds.present) {
    if (creds.value.empty()) throw Error("credentials can't be empty");
    auto colon = creds.value.find(':');
    std::string user = creds.value.substr(0, colon);
    if (user.empty()) throw Error("username can't be empty");
    ctx.username = user;
    ctx.password = colon == std::string::npos ? "" : creds.value.substr(colon + 1);
  } else if (username.present) {
    ctx.username = username.value;
    ctx.password = password.value;
  }
  ctx.no_creds = no_creds;
  if (registry_token.present) ctx.registry_token = registry_token.value;
}

void ImageOptions::define(FlagSet& fs) {
  DockerImageOptions::define(fs);
  fs.add_string(prefix + "shared-blob-dir", 0, &shared_blob_dir,
                "`DIRECTORY` to use to share blobs across OCI repositories");
  fs.add_string(prefix + "daemon-host", 0, &daemon_host,
                "use docker daemon host at `HOST` (docker-daemon: only)");
}

void ImageOptions::apply(const GlobalOptions& g, const SharedImageOptions& shared,
                         SystemContext& ctx) const {
  DockerImageOptions::apply(g, shared, ctx);
  ctx.oci_shared_blob_dir = shared_blob_dir;
}

void ImageDestOptions::define(FlagSet& fs) {
  ImageOptions::define(fs);
  const std::string& p = prefix;
  fs.add_bool(p + "compress", 0, &compress,
              "Compress tarball image layers when saving to directory using the 'dir' transport. "
              "(default is same compression type as source)");
  fs.add_bool(p + "decompress", 0, &decompress,
              "Decompress tarball image layers when saving to directory using the 'dir' transport. "
              "(default is same compression type as source)");
  fs.add_bool(p + "oci-accept-uncompressed-layers", 0, &oci_accept_uncompressed,
              "Allow uncompressed image layers when saving to an OCI image using the 'oci' transport. "
              "(default is to compress things that aren't compressed)");
  fs.add_string(p + "compress-format", 0, &compress_format, "`FORMAT` to use for the compression");
  fs.add_optional_int(p + "compress-level", 0, &compress_level, "`LEVEL` to use for the compression");
  fs.add_bool(p + "precompute-digests", 0, &precompute_digests,
              "Precompute digests to prevent uploading layers already on the registry using the "
              "'docker' transport.");
  fs.add_bool(p + "force-compress-format", 0, &force_compress_format,
              "Enforce the compression format of the destination image (only with --" + p +
                  "compress-format)");
}

void ImageDestOptions::apply(const GlobalOptions& g, const SharedImageOptions& shared,
                             SystemContext& ctx) const {
  ImageOptions::apply(g, shared, ctx);
  if (compress && decompress) throw Error("Cannot compress and decompress at the same time");
  ctx.dir_force_compress = compress;
  ctx.dir_force_decompress = decompress;
  ctx.oci_accept_uncompressed_layers = oci_accept_uncompressed;
}

void RetryOptions::define(FlagSet& fs) {
  fs.add_int("retry-times", 0, &retry_times, "the number of times to possibly retry");
  fs.add_duration("retry-delay", 0, &retry_delay,
                  "Fixed delay between retries. If not set (or set to 0), exponential backoff is used");
}

}  // namespace ferry::cli
