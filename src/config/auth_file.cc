#include "config/auth_file.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "image/docker_reference.h"
#include "config/config_dir.h"
#include "io/fs.h"
#include "util/error.h"
#include "util/go_base64.h"
#include "util/go_quote.h"

extern char** environ;

namespace ferry {
namespace {

// Files are parsed into nlohmann::json, whose objects are sorted maps:
// ordered_json finds keys by linear search, and a hostile file with 100k
// keys would take minutes. Output order is sorted anyway (Go's map order).
using Json = nlohmann::json;
using OrderedJson = gojson::Json;

// An auth file nests three levels; anything much deeper is hostile.
constexpr int kMaxJsonDepth = 64;

// Bounds what a credential helper may print before it is killed.
constexpr std::size_t kMaxHelperStdout = 1 << 20;
constexpr std::size_t kMaxHelperStderr = 64 << 10;
// How much of a helper's message an error repeats.
constexpr std::size_t kMaxQuotedOutput = 1024;

constexpr std::string_view kNotFoundMessage = "credentials not found in native keychain";
constexpr std::string_view kDockerIOKey = "https://index.docker.io/v1/";

std::string json_kind(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "number";
  }
}

// The deepest [ / { nesting in JSON text, strings skipped; stops counting
// past limit. Checked before parsing because nlohmann's callback parser
// (the other way to see depth) is quadratic in an object's member count.
int max_nesting(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return deepest;
}

// Parses JSON text with a nesting bound; throws Error with the reason.
Json parse_json(std::string_view text) {
  // nlohmann stops at a NUL byte and would accept `{}\0garbage`.
  if (text.find('\0') != std::string_view::npos) {
    throw Error("invalid character '\\x00' in JSON text");
  }
  if (max_nesting(text, kMaxJsonDepth) > kMaxJsonDepth) {
    throw Error("JSON nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    std::string msg = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (size_t close = msg.find("] ");
        msg.rfind("[json.exception.", 0) == 0 && close != std::string::npos) {
      msg.erase(0, close + 2);
    }
    throw Error(msg);
  }
}

// Whether Go's encoding/json would decode a member named `name` into the
// struct field `field` (case folding included).
bool member_matches_field(const std::string& name, const std::string& field) {
  OrderedJson probe = OrderedJson::object();
  probe[name] = nullptr;
  return gojson::find_member_fold(probe, field) != nullptr;
}

// The member Go's encoding/json would decode into `field`. Go lets the
// last of several spellings in file order win; file order is not kept
// here, so an exact match is preferred, then the first folded one.
const Json* find_member(const Json& obj, const std::string& field) {
  if (auto it = obj.find(field); it != obj.end()) return &*it;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (member_matches_field(it.key(), field)) return &it.value();
  }
  return nullptr;
}

// nlohmann::json -> the ordered type gojson writes. Objects are appended
// directly (keys are already unique and sorted), avoiding ordered_map's
// linear-time insert. Depth is bounded by parse_json.
OrderedJson to_ordered(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      OrderedJson out = OrderedJson::object();
      auto& members = out.get_ref<OrderedJson::object_t&>();
      members.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it)
        members.emplace_back(it.key(), to_ordered(it.value()));
      return out;
    }
    case Json::value_t::array: {
      OrderedJson out = OrderedJson::array();
      for (const Json& item : v) out.push_back(to_ordered(item));
      return out;
    }
    case Json::value_t::string: return v.get<std::string>();
    case Json::value_t::boolean: return v.get<bool>();
    case Json::value_t::number_integer: return v.get<int64_t>();
    case Json::value_t::number_unsigned: return v.get<uint64_t>();
    case Json::value_t::number_float: return v.get<double>();
    default: return nullptr;
  }
}

std::string string_member(const Json& obj, const char* field, const std::string& where) {
  const Json* v = find_member(obj, field);
  if (v == nullptr || v->is_null()) return "";
  if (!v->is_string()) {
    throw Error("cannot unmarshal " + json_kind(*v) + " into " + where + "." + field +
                " of type string");
  }
  return v->get<std::string>();
}

void parse_auths(const Json& v, const std::string& where, std::map<std::string, AuthEntry>* out) {
  if (v.is_null()) return;
  if (!v.is_object()) {
    throw Error("cannot unmarshal " + json_kind(v) + " into " + where + " of type map");
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string entry_where = where + "[" + go_quote(it.key()) + "]";
    AuthEntry entry;
    if (!it.value().is_null()) {
      if (!it.value().is_object()) {
        throw Error("cannot unmarshal " + json_kind(it.value()) + " into " + entry_where +
                    " of type object");
      }
      entry.auth = string_member(it.value(), "auth", entry_where);
      entry.identity_token = string_member(it.value(), "identitytoken", entry_where);
    }
    (*out)[it.key()] = std::move(entry);
  }
}

void parse_cred_helpers(const Json& v, std::map<std::string, std::string>* out) {
  if (v.is_null()) return;
  if (!v.is_object()) {
    throw Error("cannot unmarshal " + json_kind(v) + " into credHelpers of type map");
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.value().is_null()) {
      (*out)[it.key()] = "";
    } else if (it.value().is_string()) {
      (*out)[it.key()] = it.value().get<std::string>();
    } else {
      throw Error("cannot unmarshal " + json_kind(it.value()) + " into credHelpers[" +
                  go_quote(it.key()) + "] of type string");
    }
  }
}

// ---------------------------------------------------------------------------
// Running a credential helper.

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct HelperRun {
  std::string failure;  // Go-style err text ("exit status 1"); "" on success
  std::string out;      // stdout
  std::string err;      // stderr
};

// exec.LookPath without the relative-directory results Go refuses anyway.
std::string look_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  if (env == nullptr) return "";
  std::string_view path(env);
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string_view::npos) colon = path.size();
    std::string_view dir = path.substr(start, colon - start);
    start = colon + 1;
    if (dir.empty() || dir.front() != '/') continue;
    std::string candidate = std::string(dir) + "/" + name;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string format_seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// Runs `docker-credential-<helper> <action>` with input on stdin. Never
// throws for the helper's own failures: they are reported in `failure`.
HelperRun run_helper(const std::string& helper, const char* action, std::string_view input,
                     std::chrono::milliseconds timeout) {
  const std::string program = "docker-credential-" + helper;
  HelperRun run;
  // A name with '/' would make Go run a path relative to the working
  // directory; an auth file should not be able to pick any binary.
  std::string exe = helper.find('/') == std::string::npos ? look_path(program) : "";
  if (exe.empty()) {
    run.failure = "exec: " + go_quote(program) + ": executable file not found in $PATH";
    return run;
  }

  // stdin is a socket so that writing to a helper that exits without
  // reading fails with EPIPE instead of raising SIGPIPE in ferry.
  int in_pair[2], out_pipe[2], err_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    throw Error("running " + program + ": socketpair: " + errno_text(errno));
  }
  UniqueFd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    throw Error("running " + program + ": pipe: " + errno_text(errno));
  UniqueFd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw Error("running " + program + ": pipe: " + errno_text(errno));
  UniqueFd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_child.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_child.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_child.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string arg0 = program, arg1 = action;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    run.failure = "fork/exec " + exe + ": " + errno_text(rc);
    return run;
  }
  in_child.reset();
  out_child.reset();
  err_child.reset();
  set_nonblocking(in_parent.get());
  set_nonblocking(out_parent.get());
  set_nonblocking(err_parent.get());

  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  auto remaining_ms = [&]() -> int {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
  };
  size_t written = 0;
  if (input.empty()) in_parent.reset();
  bool killed = false;
  std::string kill_reason;
  char buf[16384];
  while (out_parent.get() >= 0 || err_parent.get() >= 0 || in_parent.get() >= 0) {
    pollfd fds[3];
    int n = 0;
    int in_idx = -1, out_idx = -1, err_idx = -1;
    if (in_parent.get() >= 0) in_idx = n, fds[n++] = {in_parent.get(), POLLOUT, 0};
    if (out_parent.get() >= 0) out_idx = n, fds[n++] = {out_parent.get(), POLLIN, 0};
    if (err_parent.get() >= 0) err_idx = n, fds[n++] = {err_parent.get(), POLLIN, 0};
    int wait = remaining_ms();
    if (wait == 0) {
      kill_reason = program + " " + action + " timed out after " + format_seconds(timeout);
      break;
    }
    int ready = ::poll(fds, static_cast<nfds_t>(n), wait);
    if (ready < 0) {
      if (errno == EINTR) continue;
      kill_reason = "poll: " + errno_text(errno);
      break;
    }
    if (in_idx >= 0 && fds[in_idx].revents != 0) {
      ssize_t w =
          ::send(in_parent.get(), input.data() + written, input.size() - written, MSG_NOSIGNAL);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) in_parent.reset();  // helper stopped reading
      if (written == input.size()) in_parent.reset();
    }
    auto drain = [&](int idx, UniqueFd& fd, std::string& sink, size_t limit) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got > 0) {
        sink.append(buf, static_cast<size_t>(got));
        if (sink.size() > limit) {
          kill_reason =
              program + " " + action + " wrote more than " + std::to_string(limit) + " bytes";
          killed = true;
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        fd.reset();
      }
    };
    drain(out_idx, out_parent, run.out, kMaxHelperStdout);
    drain(err_idx, err_parent, run.err, kMaxHelperStderr);
    if (killed) break;
  }
  in_parent.reset();
  out_parent.reset();
  err_parent.reset();

  int status = 0;
  if (kill_reason.empty()) {
    // Output is closed; give the helper until the deadline to exit.
    for (;;) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) {
        kill_reason = "wait: " + errno_text(errno);
        break;
      }
      if (remaining_ms() == 0) {
        kill_reason = program + " " + action + " timed out after " + format_seconds(timeout);
        break;
      }
      ::usleep(2000);
    }
  }
  if (!kill_reason.empty()) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.failure = kill_reason;
    return run;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    run.failure = "exit status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    run.failure = "signal: " + std::string(strsignal(WTERMSIG(status)));
    if (!run.failure.empty()) {
      // Go prints strsignal lower-cased ("signal: killed").
      std::transform(run.failure.begin(), run.failure.end(), run.failure.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
  }
  return run;
}

std::string trim_space(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

// The helper's own words for an error message: bounded, trimmed, with a
// secret we know of masked.
std::string quoted_output(std::string_view text, std::string_view secret = {}) {
  std::string t = trim_space(text);
  if (!secret.empty()) {
    for (size_t p = t.find(secret); p != std::string::npos; p = t.find(secret, p + 3)) {
      t.replace(p, secret.size(), "***");
    }
  }
  if (t.size() > kMaxQuotedOutput) t = t.substr(0, kMaxQuotedOutput) + "...";
  return t;
}

Error helper_error(const std::string& what, const HelperRun& run, std::string_view secret = {}) {
  std::string msg = "error " + what + " credentials - err: " + run.failure + ", out: `" +
                    quoted_output(run.out, secret) + "`";
  std::string err = quoted_output(run.err, secret);
  if (!err.empty()) msg += ", stderr: `" + err + "`";
  return Error(msg);
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string compat_key(const std::string& key, bool namespaced, AuthFileFormat format) {
  if (format != AuthFileFormat::kDockerCompat) return key;
  if (namespaced) {
    throw Error("Credentials cannot be recorded in Docker-compatible format with namespaced key " +
                go_quote(key));
  }
  return key == "docker.io" ? std::string(kDockerIOKey) : key;
}

// Reads the file (missing: empty), lets `edit` change it and writes it back
// atomically if edit returns true, with c/image's error prefixes.
template <typename Edit>
void modify_auth_file(const std::string& path, Edit&& edit) {
  make_dirs(dir_of(path), 0700);
  AuthFile file = read_auth_file(path, false);
  bool updated;
  try {
    updated = edit(file);
  } catch (const Error& e) {
    throw Error("updating " + go_quote(path) + ": " + e.what(), e.exit_code());
  }
  if (!updated) return;
  try {
    write_file_atomic(path, serialize_auth_file(file), 0600);
  } catch (const Error& e) {
    throw Error("writing to file " + go_quote(path) + ": " + e.what(), e.exit_code());
  }
}

}  // namespace

AuthFile parse_auth_file(std::string_view json, const std::string& path, bool legacy_format) {
  try {
    Json root = parse_json(json);
    AuthFile file;
    if (root.is_null()) return file;
    if (!root.is_object()) {
      throw Error("cannot unmarshal " + json_kind(root) + " into the auth file's top-level object");
    }
    if (legacy_format) {
      parse_auths(root, "the legacy auth map", &file.auths);
      return file;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (member_matches_field(it.key(), "auths") ||
          member_matches_field(it.key(), "credHelpers")) {
        continue;
      }
      file.other[it.key()] = it.value();
    }
    if (const Json* auths = find_member(root, "auths")) {
      parse_auths(*auths, "auths", &file.auths);
    }
    if (const Json* helpers = find_member(root, "credHelpers")) {
      parse_cred_helpers(*helpers, &file.cred_helpers);
    }
    return file;
  } catch (const Error& e) {
    throw Error("reading JSON file " + go_quote(path) + ": unmarshaling JSON at " + go_quote(path) +
                ": " + e.what());
  }
}

AuthFile read_auth_file(const std::string& path, bool legacy_format) {
  // Only a missing file means "no credentials here"; anything else that
  // stops the read (permissions, a directory) is an error, as in c/image.
  std::optional<std::string> text;
  try {
    text = read_config_file(path, kMaxAuthFileSize);
  } catch (const Error& e) {
    throw Error("reading JSON file " + go_quote(path) + ": " + e.what(), e.exit_code());
  }
  if (!text) return AuthFile{};
  return parse_auth_file(*text, path, legacy_format);
}

std::string serialize_auth_file(const AuthFile& file) {
  // Go marshals a map with sorted keys; the struct fields and the kept
  // members are emitted as one sorted map, as c/image's raw-map writer does.
  Json top = file.other.is_object() ? file.other : Json::object();
  Json auths = Json::object();
  for (const auto& [key, entry] : file.auths) {
    Json e = Json::object();
    if (!entry.auth.empty()) e["auth"] = entry.auth;
    if (!entry.identity_token.empty()) e["identitytoken"] = entry.identity_token;
    auths[key] = std::move(e);
  }
  top["auths"] = std::move(auths);
  if (!file.cred_helpers.empty()) top["credHelpers"] = file.cred_helpers;
  return gojson::marshal_indent(to_ordered(top), "", "\t");
}

std::string normalize_auth_registry(std::string_view registry) {
  if (registry == "index.docker.io" || registry == "registry-1.docker.io") return "docker.io";
  return std::string(registry);
}

std::string normalize_auth_file_key(std::string_view key, bool legacy_format) {
  std::string_view stripped = key;
  if (stripped.substr(0, 7) == "http://") {
    stripped.remove_prefix(7);
  } else if (stripped.substr(0, 8) == "https://") {
    stripped.remove_prefix(8);
  }
  if (legacy_format || stripped.size() != key.size())
    stripped = stripped.substr(0, stripped.find('/'));
  return normalize_auth_registry(stripped);
}

std::vector<std::string> auth_keys_for(std::string_view key) {
  std::vector<std::string> keys;
  for (;;) {
    keys.emplace_back(key);
    size_t slash = key.rfind('/');
    if (slash == std::string_view::npos) return keys;
    key = key.substr(0, slash);
  }
}

std::optional<Credentials> decode_auth_entry(const AuthEntry& entry, const std::string& path,
                                             const std::string& key) {
  std::string decoded;
  try {
    decoded = go_base64_decode(entry.auth);
  } catch (const Error& e) {
    throw Error("reading JSON file " + go_quote(path) + ": decoding \"auth\" of " + go_quote(key) + ": " +
                e.what());
  }
  size_t colon = decoded.find(':');
  // Docker writes `{}` entries next to credential helpers and skips any
  // auth without a colon; so does c/image.
  if (colon == std::string::npos) return std::nullopt;
  Credentials creds;
  creds.username = decoded.substr(0, colon);
  std::string_view password = std::string_view(decoded).substr(colon + 1);
  while (!password.empty() && password.front() == '\0') password.remove_prefix(1);
  while (!password.empty() && password.back() == '\0') password.remove_suffix(1);
  creds.password = std::string(password);
  creds.identity_token = entry.identity_token;
  if (creds.username.empty() && creds.password.empty() && creds.identity_token.empty())
    return std::nullopt;
  return creds;
}

std::optional<Credentials> find_credentials_in_file(const std::string& path, bool legacy_format,
                                                    const std::string& key) {
  const std::string registry = key.substr(0, key.find('/'));
  AuthFile file = read_auth_file(path, legacy_format);
  // Helpers are keyed by registry only; namespaced keys are not a helper feature.
  if (auto it = file.cred_helpers.find(registry); it != file.cred_helpers.end()) {
    return credential_helper_get(it->second, registry);
  }
  std::vector<std::string> keys =
      legacy_format ? std::vector<std::string>{registry} : auth_keys_for(key);
  for (const std::string& k : keys) {
    if (auto it = file.auths.find(k); it != file.auths.end()) {
      return decode_auth_entry(it->second, path, k);
    }
  }
  // Keys written by old `docker login` (URLs) and the docker.io aliases.
  const std::string normalized = normalize_auth_registry(registry);
  for (const auto& [k, entry] : file.auths) {
    if (normalize_auth_file_key(k, legacy_format) == normalized)
      return decode_auth_entry(entry, path, k);
  }
  return std::nullopt;
}

std::optional<Credentials> credential_helper_get(const std::string& helper,
                                                 const std::string& server_url,
                                                 std::chrono::milliseconds timeout) {
  HelperRun run = run_helper(helper, "get", server_url, timeout);
  if (!run.failure.empty()) {
    if (trim_space(run.out) == kNotFoundMessage) return std::nullopt;
    throw helper_error("getting", run);
  }
  // The reply carries the secret: never quote it.
  const std::string bad_reply =
      "error getting credentials - err: invalid JSON reply from docker-credential-" + helper;
  Json reply = Json::parse(run.out, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) throw Error(bad_reply);
  std::string username, secret;
  try {
    username = string_member(reply, "Username", "reply");
    secret = string_member(reply, "Secret", "reply");
  } catch (const Error&) {
    throw Error(bad_reply);
  }
  Credentials creds;
  if (username == "<token>") {
    creds.identity_token = secret;
  } else {
    creds.username = username;
    creds.password = secret;
  }
  if (creds.username.empty() && creds.password.empty() && creds.identity_token.empty()) {
    return std::nullopt;
  }
  return creds;
}

void credential_helper_store(const std::string& helper, const std::string& server_url,
                             const std::string& username, const std::string& secret,
                             std::chrono::milliseconds timeout) {
  OrderedJson request = OrderedJson::object();
  request["ServerURL"] = server_url;
  request["Username"] = username;
  request["Secret"] = secret;
  HelperRun run = run_helper(helper, "store", gojson::marshal(request) + "\n", timeout);
  if (!run.failure.empty()) throw helper_error("storing", run, secret);
}

bool credential_helper_erase(const std::string& helper, const std::string& server_url,
                             std::chrono::milliseconds timeout) {
  HelperRun run = run_helper(helper, "erase", server_url, timeout);
  if (run.failure.empty()) return true;
  if (trim_space(run.out) == kNotFoundMessage) return false;
  throw helper_error("erasing", run);
}

std::vector<std::string> credential_helper_list(const std::string& helper, std::chrono::milliseconds timeout) {
  HelperRun run = run_helper(helper, "list", "", timeout);
  if (!run.failure.empty()) throw helper_error("listing", run);
  Json reply = Json::parse(run.out, nullptr, false);
  if (reply.is_discarded() || !reply.is_object())
    throw Error("error listing credentials - err: invalid JSON reply from docker-credential-" + helper);
  std::vector<std::string> out;
  for (auto it = reply.begin(); it != reply.end(); ++it) out.push_back(it.key());
  return out;
}

bool validate_auth_key(std::string_view key) {
  const std::string k(key);
  if (key.substr(0, 7) == "http://" || key.substr(0, 8) == "https://") {
    throw Error("key " + k + " contains http[s]:// prefix");
  }
  if (key.find('@') != std::string_view::npos)
    throw Error("key " + k + " contains a '@' character");
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return false;
  if (key.find(':', slash + 1) != std::string_view::npos) {
    throw Error("key " + k + " contains a ':' character after host[:port]");
  }
  return true;
}

CredentialsKey parse_credentials_key(std::string_view arg) {
  std::string key(arg);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (arg.substr(0, scheme.size()) != scheme) continue;
    // url.Parse(...).Host: the authority without user info.
    std::string_view rest = arg.substr(scheme.size());
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    key = std::string(rest);
    break;
  }
  CredentialsKey out;
  out.registry = key.substr(0, key.find('/'));
  out.key = key;
  if (out.registry == key) return out;
  DockerReference ref;
  try {
    ref = parse_normalized_named(key);
  } catch (const Error& e) {
    throw Error("parse reference from " + go_quote(key) + ": " + e.what());
  }
  if (ref.tag || ref.digest)
    throw Error("reference " + go_quote(ref.to_string()) + " contains tag or digest");
  if (ref.domain != out.registry) {
    throw Error("internal error: key " + go_quote(key) + " registry mismatch, " + go_quote(ref.name()) +
                " vs. " + go_quote(ref.domain));
  }
  return out;
}

std::string set_credentials(const std::string& path, const std::string& key,
                            const std::string& username, const std::string& password,
                            AuthFileFormat format) {
  const bool namespaced = validate_auth_key(key);
  const std::string stored = compat_key(key, namespaced, format);
  std::string description = path;
  modify_auth_file(path, [&](AuthFile& file) {
    if (auto it = file.cred_helpers.find(stored); it != file.cred_helpers.end()) {
      if (namespaced)
        throw Error("namespaced key is not supported for credential helper " + it->second);
      credential_helper_store(it->second, stored, username, password);
      description = "credential helper: " + it->second;
      return false;
    }
    file.auths[stored] = AuthEntry{go_base64_encode(username + ":" + password), ""};
    return true;
  });
  return description;
}

bool remove_credentials(const std::string& path, const std::string& key, AuthFileFormat format) {
  const bool namespaced = validate_auth_key(key);
  const std::string stored = compat_key(key, namespaced, format);
  bool logged_in = false;
  modify_auth_file(path, [&](AuthFile& file) {
    if (auto it = file.cred_helpers.find(stored); it != file.cred_helpers.end() && !namespaced) {
      try {
        if (credential_helper_erase(it->second, stored)) logged_in = true;
      } catch (const Error& e) {
        throw Error("removing credentials for " + stored + " from credential helper " + it->second +
                    ": " + e.what());
      }
    }
    if (file.auths.erase(stored) == 0) return false;
    logged_in = true;
    return true;
  });
  return logged_in;
}

void remove_all_credentials(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return;
  modify_auth_file(path, [&](AuthFile& file) {
    for (const auto& [registry, helper] : file.cred_helpers)
      credential_helper_erase(helper, registry);
    file.cred_helpers.clear();
    file.auths.clear();
    return true;
  });
}

std::string primary_auth_file_path() {
  const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
  if (runtime_dir != nullptr && *runtime_dir != '\0') {
    struct stat st;
    if (::stat(runtime_dir, &st) != 0 && errno == ENOENT) {
      throw Error(go_quote(runtime_dir) +
                  " directory set by $XDG_RUNTIME_DIR does not exist. Either create the directory "
                  "or unset $XDG_RUNTIME_DIR.");
    }
    return std::string(runtime_dir) + "/containers/auth.json";
  }
  return "/run/containers/" + std::to_string(::getuid()) + "/auth.json";
}

LoginAuthFile default_login_auth_file() {
  const char* registry_auth_file = std::getenv("REGISTRY_AUTH_FILE");
  if (registry_auth_file != nullptr && *registry_auth_file != '\0') {
    return {registry_auth_file, AuthFileFormat::kContainers};
  }
  const char* docker_config = std::getenv("DOCKER_CONFIG");
  if (docker_config != nullptr && *docker_config != '\0') {
    return {std::string(docker_config) + "/config.json", AuthFileFormat::kDockerCompat};
  }
  return {primary_auth_file_path(), AuthFileFormat::kContainers};
}

}  // namespace ferry
