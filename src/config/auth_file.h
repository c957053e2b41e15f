// containers-auth.json(5): containers' auth.json, Docker's config.json and
// the legacy ~/.dockercfg, read the way containers/image reads them and
// written the way it writes them (login/logout), plus the
// docker-credential-helpers protocol that a credHelpers entry hands a
// lookup to.
//
// Secrets never appear in an error message: errors name the file and the
// key, never the decoded "auth" value or a helper's JSON output.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/credentials.h"
#include "util/gojson.h"

namespace ferry {

// Larger auth files are refused unread; a real one is a few KiB.
inline constexpr std::size_t kMaxAuthFileSize = 4 << 20;

struct AuthEntry {
  std::string auth;            // base64("user:password"); "" means none here
  std::string identity_token;  // "identitytoken"
  bool operator==(const AuthEntry&) const = default;
};

struct AuthFile {
  // "auths" as written: key -> entry (a repeated key keeps its last value).
  std::map<std::string, AuthEntry> auths;
  // "credHelpers": registry (host[:port]) -> helper suffix ("pass" runs
  // docker-credential-pass).
  std::map<std::string, std::string> cred_helpers;
  // Every other top-level member ("credsStore", "proxies", ...), kept so a
  // login does not destroy the rest of a Docker config.json. Objects are
  // sorted maps: written back, their keys come out sorted.
  nlohmann::json other = nlohmann::json::object();
};

// How a file is written. kDockerCompat is Docker's config.json as Docker
// itself expects it: docker.io is stored under "https://index.docker.io/v1/"
// and namespaced keys (host/ns) are refused.
enum class AuthFileFormat { kContainers, kDockerCompat };

// Parses file text. legacy_format: ~/.dockercfg, whose top level is the
// "auths" map itself. Unknown top-level members go to `other`; member names
// match case-insensitively as Go's encoding/json does (when a file spells
// one member several ways, the exact spelling wins). Errors (ferry::Error):
//   reading JSON file "PATH": unmarshaling JSON at "PATH": <reason>
AuthFile parse_auth_file(std::string_view json, const std::string& path, bool legacy_format);

// Reads and parses a file; a missing file is an empty AuthFile (as c/image).
AuthFile read_auth_file(const std::string& path, bool legacy_format);

// The bytes c/image writes: json.MarshalIndent(v, "", "\t") of the file with
// top-level members sorted, "auths" always present, "credHelpers" only when
// non-empty, each entry {"auth", "identitytoken"} with empty fields omitted.
std::string serialize_auth_file(const AuthFile& file);

// docker.io, index.docker.io and registry-1.docker.io are one registry:
// they all normalize to "docker.io". Anything else is returned unchanged.
std::string normalize_auth_registry(std::string_view registry);

// A key as found in a file reduced to the registry it names: "http(s)://"
// and, for URLs (and every key of a legacy file), the path are stripped,
// then normalize_auth_registry. "https://index.docker.io/v1/" -> docker.io.
std::string normalize_auth_file_key(std::string_view key, bool legacy_format);

// The keys a lookup for `key` tries, most specific first:
// "quay.io/a/b" -> {"quay.io/a/b", "quay.io/a", "quay.io"}.
std::vector<std::string> auth_keys_for(std::string_view key);

// Decodes an entry's "auth" (strict standard base64; "user:password" with
// trailing NULs of the password trimmed). nullopt when there is nothing
// usable: empty auth, or decoded text without ':' (skipped, as Docker
// does). Malformed base64 throws
//   reading JSON file "PATH": decoding "auth" of "KEY": illegal base64 data at input byte N
std::optional<Credentials> decode_auth_entry(const AuthEntry& entry, const std::string& path,
                                             const std::string& key);

// The credentials a file holds for `key` (host[:port][/ns.../repo]):
// credHelpers[registry] wins and runs the helper; else the most specific
// exact key (auth_keys_for; a legacy file tries the registry only); else
// the first key whose normalize_auth_file_key equals the registry.
std::optional<Credentials> find_credentials_in_file(const std::string& path, bool legacy_format,
                                                    const std::string& key);

// ---------------------------------------------------------------------------
// docker-credential-helpers protocol: `docker-credential-<helper> get|store|erase`,
// searched on $PATH, request on stdin, reply on stdout. A helper that hangs
// is killed after `timeout`.

inline constexpr std::chrono::milliseconds kCredentialHelperTimeout{60000};

// `get` with server_url on stdin; reply {"ServerURL","Username","Secret"}.
// Username "<token>" makes Secret an identity token. nullopt when the helper
// answers "credentials not found in native keychain". Errors:
//   error getting credentials - err: exec: "docker-credential-X": executable file not found in
//   $PATH, out: `` error getting credentials - err: exit status N, out: `<helper's message>` error
//   getting credentials - err: docker-credential-X timed out after Ns, out: `` error getting
//   credentials - err: invalid JSON reply from docker-credential-X
std::optional<Credentials> credential_helper_get(
    const std::string& helper, const std::string& server_url,
    std::chrono::milliseconds timeout = kCredentialHelperTimeout);

// `store` with {"ServerURL","Username","Secret"} on stdin.
// Errors start `error storing credentials - err: `.
void credential_helper_store(const std::string& helper, const std::string& server_url,
                             const std::string& username, const std::string& secret,
                             std::chrono::milliseconds timeout = kCredentialHelperTimeout);

// `erase` with server_url on stdin. false when the helper had nothing
// stored. Errors start `error erasing credentials - err: `.
bool credential_helper_erase(const std::string& helper, const std::string& server_url,
                             std::chrono::milliseconds timeout = kCredentialHelperTimeout);

// `list`: the server URLs the helper holds credentials for (its reply maps
// them to usernames). Errors start `error listing credentials - err: `.
std::vector<std::string> credential_helper_list(const std::string& helper,
                                                std::chrono::milliseconds timeout = kCredentialHelperTimeout);

// ---------------------------------------------------------------------------
// login / logout

// c/image's key check for stored credentials:
//   key K contains http[s]:// prefix
//   key K contains a '@' character
//   key K contains a ':' character after host[:port]
// Returns whether the key is namespaced (has a '/').
bool validate_auth_key(std::string_view key);

// The login/logout argument as c/common reads it: "http(s)://host[:port]/..."
// becomes "host[:port]"; "host/ns/repo" keeps its namespace but must be a
// valid repository name without tag or digest. Errors:
//   parse reference from "K": <reference error>
//   reference "quay.io/a/b:t" contains tag or digest
struct CredentialsKey {
  std::string key;       // what is stored: "quay.io/a/b" or "quay.io"
  std::string registry;  // host[:port]
};
CredentialsKey parse_credentials_key(std::string_view arg);

// Stores auths[key].auth = base64(username:password) in the file at path
// (created 0600, parent directories 0700; written atomically; other members
// kept). If the file has credHelpers[key], that helper stores them instead.
// Returns where they went: path, or "credential helper: NAME". Errors are
// prefixed `reading JSON file "PATH": `, `updating "PATH": ` or
// `writing to file "PATH": `; kDockerCompat refuses namespaced keys:
//   Credentials cannot be recorded in Docker-compatible format with namespaced key "K"
std::string set_credentials(const std::string& path, const std::string& key,
                            const std::string& username, const std::string& password,
                            AuthFileFormat format = AuthFileFormat::kContainers);

// Removes auths[key] (and erases it from credHelpers[key]'s helper). Returns
// false when nothing was stored for key (logout prints "not logged into").
// The file is rewritten only when something changed.
bool remove_credentials(const std::string& path, const std::string& key,
                        AuthFileFormat format = AuthFileFormat::kContainers);

// logout --all: erases every credHelpers entry from its helper, then empties
// "auths" and drops "credHelpers"; other members stay. A missing file stays
// missing.
void remove_all_credentials(const std::string& path);

// c/image's default auth file (getPathToAuth): ${XDG_RUNTIME_DIR}/containers/auth.json,
// or /run/containers/<uid>/auth.json when XDG_RUNTIME_DIR is unset. Throws
//   "DIR" directory set by $XDG_RUNTIME_DIR does not exist. Either create the directory or unset
//   $XDG_RUNTIME_DIR.
// when XDG_RUNTIME_DIR names a missing directory.
std::string primary_auth_file_path();

// The file login/logout write without --authfile / --compat-auth-file:
// $REGISTRY_AUTH_FILE (containers format), else $DOCKER_CONFIG/config.json
// (Docker-compatible format, as skopeo >= 1.14), else primary_auth_file_path().
struct LoginAuthFile {
  std::string path;
  AuthFileFormat format = AuthFileFormat::kContainers;
};
LoginAuthFile default_login_auth_file();

}  // namespace ferry
