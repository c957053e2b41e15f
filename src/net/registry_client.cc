#include "net/registry_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <future>
#include <thread>

#include "net/link_header.h"
#include "net/net_error.h"
#include "util/error.h"

namespace ferry::net {

namespace {

constexpr int kMaxAttempts = 5;  // c/image backoffNumIterations
constexpr std::chrono::milliseconds kInitialDelay{2000};
constexpr std::chrono::milliseconds kMaxDelay{60000};

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string query_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Status handling of the token endpoint (c/image httpResponseToError).
[[noreturn]] void throw_token_failure(const Response& r, const std::string& body, const std::string& context) {
  if (r.status == 429) throw Error("too many requests to registry");
  if (r.status == 401) {
    throw TokenRefusedError("unable to retrieve auth token: invalid username/password: " +
                RegistryClient::failure_of(r, body).text());
  }
  std::string reason(http_status_text(r.status));
  throw Error(context + ": invalid status code from registry " + std::to_string(r.status) + " (" + reason + ")");
}

std::vector<AuthScope> scopes_for(const RegistryClientConfig& cfg, const std::optional<AuthScope>& extra) {
  std::vector<AuthScope> out;
  out.push_back(AuthScope{"repository", cfg.repository, cfg.actions});
  if (extra) out.push_back(*extra);
  return out;
}

void add_scopes(std::vector<std::pair<std::string, std::string>>* values, const std::vector<AuthScope>& scopes) {
  for (const AuthScope& s : scopes)
    if (!s.resource_type.empty() && !s.name.empty() && !s.actions.empty())
      values->emplace_back("scope", s.to_string());
}

}  // namespace

std::optional<AuthScope> parse_auth_scope(std::string_view s) {
  size_t first = s.find(':');
  size_t last = s.rfind(':');
  if (first == std::string_view::npos || first == last) return std::nullopt;
  AuthScope a{std::string(s.substr(0, first)), std::string(s.substr(first + 1, last - first - 1)),
              std::string(s.substr(last + 1))};
  if (a.resource_type.empty() || a.name.empty() || a.actions.empty()) return std::nullopt;
  return a;
}

std::optional<AuthScope> insufficient_scope(const std::vector<Challenge>& challenges) {
  for (const Challenge& c : challenges) {
    if (c.scheme != "bearer") continue;
    auto err = c.params.find("error");
    if (err == c.params.end() || err->second != "insufficient_scope") continue;
    auto scope = c.params.find("scope");
    if (scope == c.params.end()) continue;
    return parse_auth_scope(scope->second);
  }
  return std::nullopt;
}

std::string query_escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string encode_query(std::vector<std::pair<std::string, std::string>> values) {
  std::stable_sort(values.begin(), values.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [k, v] : values) {
    if (!out.empty()) out += '&';
    out += query_escape(k) + "=" + query_escape(v);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view k = part.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    out.emplace_back(query_unescape(k), query_unescape(v));
  }
  return out;
}

std::string token_request_url(const std::string& realm, const std::string& service,
                              const std::string& username, const std::vector<AuthScope>& scopes) {
  if (!istarts_with(realm, "https://") && !istarts_with(realm, "http://"))
    throw Error("unsupported bearer token realm \"" + realm + "\": not an http(s) URL");
  std::string base = realm.substr(0, realm.find('#'));
  std::string query;
  if (size_t q = base.find('?'); q != std::string::npos) {
    query = base.substr(q + 1);
    base.resize(q);
  }
  auto values = parse_query(query);
  if (!username.empty()) values.emplace_back("account", username);
  if (!service.empty()) values.emplace_back("service", service);
  add_scopes(&values, scopes);
  if (values.empty()) return base;
  return base + "?" + encode_query(std::move(values));
}

std::string oauth2_refresh_form(const std::string& identity_token, const std::string& service,
                                const std::vector<AuthScope>& scopes) {
  std::vector<std::pair<std::string, std::string>> values = {
      {"grant_type", "refresh_token"}, {"refresh_token", identity_token}, {"client_id", "containers/image"}};
  if (!service.empty()) values.emplace_back("service", service);
  add_scopes(&values, scopes);
  return encode_query(std::move(values));
}

std::chrono::milliseconds retry_after_delay(std::string_view v, std::chrono::milliseconds fallback,
                                            std::chrono::system_clock::time_point now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return fallback;
  {
    std::string_view num = v;
    if (num.front() == '+') num.remove_prefix(1);
    int64_t secs = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), secs);
    if (ec == std::errc() && p == num.data() + num.size()) {
      if (secs <= 0) return std::chrono::milliseconds(0);
      if (secs > 24 * 3600) secs = 24 * 3600;  // capped by the caller anyway
      return std::chrono::seconds(secs);
    }
  }
  // http.ParseTime: RFC 1123, RFC 850, ANSI C asctime.
  static const char* const kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                         "%a %b %e %H:%M:%S %Y"};
  std::string text(v);
  for (const char* fmt : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), fmt, &tm);
    if (!end || *end != '\0') continue;
    const time_t t = timegm(&tm);
    auto when = std::chrono::system_clock::from_time_t(t);
    if (when > now) return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
    return fallback;
  }
  return fallback;
}

std::string basic_authorization(const std::string& username, const std::string& password) {
  std::string plain = username + ":" + password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  std::fill(plain.begin(), plain.end(), '\0');
  return "Basic " + out;
}

std::string url_origin(std::string_view url) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return "";
  size_t end = url.find_first_of("/?#", colon + 3);
  std::string out(url.substr(0, end));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = out.find('@', colon + 3);  // drop userinfo
  if (at != std::string::npos) out.erase(colon + 3, at - colon - 2);
  return out;
}

RegistryClient::RegistryClient(HttpClient& http, RegistryClientConfig cfg) : http_(http), cfg_(std::move(cfg)) {
  if (!cfg_.sleep) cfg_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

RegistryHttpFailure RegistryClient::failure_of(const Response& r, std::string_view body) {
  std::vector<Challenge> challenges;
  try {
    challenges = parse_www_authenticate(r.header_values("www-authenticate"));
  } catch (const Error&) {
  }
  for (const Challenge& c : challenges) {
    if (c.scheme != "bearer") continue;
    auto err = c.params.find("error");
    if (err == c.params.end() || (err->second != "invalid_token" && err->second != "insufficient_scope")) continue;
    auto desc = c.params.find("error_description");
    return classify_registry_failure(r.status, body, err->second,
                                     desc == c.params.end() ? std::string_view() : desc->second);
  }
  return classify_registry_failure(r.status, body);
}

std::string RegistryClient::read_error_body(Reader& r) {
  std::string out;
  uint8_t buf[16384];
  try {
    while (out.size() < kMaxErrorBodySize) {
      size_t want = std::min(sizeof buf, kMaxErrorBodySize - out.size());
      size_t got = r.read(buf, want);
      if (got == 0) break;
      out.append(reinterpret_cast<const char*>(buf), got);
    }
  } catch (const Error&) {
  }
  return out;
}

std::string RegistryClient::base_url() {
  ensure_pinged();
  std::lock_guard<std::mutex> lock(mu_);
  return scheme_ + "://" + cfg_.api_host;
}

std::string RegistryClient::url_for(const std::string& target) {
  if (istarts_with(target, "https://") || istarts_with(target, "http://")) return target;
  std::string base = base_url();
  if (!target.empty() && target.front() == '/') return base + target;
  return resolve_url(base + "/v2/", target);
}

RegistryClient::Ping RegistryClient::ping_scheme(const std::string& scheme, const std::atomic<bool>* cancel) {
  Request req;
  req.url = scheme + "://" + cfg_.api_host + "/v2/";
  req.tls = cfg_.tls;
  req.cancel = cancel ? cancel : &closing_;
  std::chrono::milliseconds delay = kInitialDelay;
  for (int attempt = 1;; ++attempt) {
    std::string body;
    Response r = http_.fetch(req, &body, kMaxErrorBodySize);
    if (r.status == 429 && attempt < kMaxAttempts) {
      delay = std::min(retry_after_delay(r.header("retry-after"), delay, std::chrono::system_clock::now()), kMaxDelay);
      cfg_.sleep(delay);
      delay *= 2;
      continue;
    }
    if (r.status != 200 && r.status != 401) {
      RegistryHttpFailure f = failure_of(r, body);
      throw RegistryError(f.text(), f);
    }
    Ping p{scheme, {}};
    try {
      p.challenges = parse_www_authenticate(r.header_values("www-authenticate"));
    } catch (const Error&) {
      p.challenges.clear();
    }
    return p;
  }
}

void RegistryClient::ensure_pinged() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pinged_) return;
  auto wrap = [&](const Error& e) {
    std::string msg = "pinging container registry " + cfg_.registry + ": " + e.what();
    if (auto* ne = dynamic_cast<const NetworkError*>(&e)) throw NetworkError(msg, ne->retryable());
    if (auto* re = dynamic_cast<const RegistryError*>(&e)) throw RegistryError(msg, re->failure());
    throw Error(msg, e.exit_code());
  };
  Ping p;
  if (cfg_.tls.verify) {
    try {
      p = ping_scheme("https");
    } catch (const Error& e) {
      wrap(e);
    }
  } else {
    // Plain HTTP only where the user accepted unverified TLS (c/image's
    // rule): an attacker must not be able to downgrade a verified registry.
    // Both schemes are tried at once rather than http after https failed:
    // a plain-HTTP registry then costs one round trip, not three; https
    // still wins whenever it answers.
    auto plain = std::async(std::launch::async, [this] { return ping_scheme("http", &plain_probe_cancel_); });
    try {
      p = ping_scheme("https");
      // https answered, so the plain probe's answer is moot; a TLS-only
      // server (an SNI router, say) may never give one, and waiting for
      // it cost up to the 60 s stall timeout. It is cancelled instead.
      plain_probe_cancel_ = true;
      plain.wait();
    } catch (const Error&) {
      try {
        p = plain.get();
      } catch (const Error& e2) {
        wrap(e2);
      }
    }
  }
  scheme_ = std::move(p.scheme);
  challenges_ = std::move(p.challenges);
  pinged_ = true;
}

void RegistryClient::warm_up() {
  if (warm_.joinable()) return;
  warm_ = std::thread([this] {
    try {
      ensure_pinged();
      authorization(std::nullopt);
    } catch (...) {
      // The first real request repeats what failed and reports it.
    }
  });
}

RegistryClient::~RegistryClient() {
  cancel_pending();
  if (warm_.joinable()) warm_.join();
}

std::string RegistryClient::bearer_token(const Challenge& c, const std::optional<AuthScope>& extra) {
  const std::string key = extra ? extra->to_string() : "";
  auto now = std::chrono::steady_clock::now();
  if (auto it = tokens_.find(key); it != tokens_.end() && now < it->second.expires) return it->second.token;

  auto realm = c.params.find("realm");
  if (realm == c.params.end()) throw Error("missing realm in bearer auth challenge");
  auto svc = c.params.find("service");
  const std::string service = svc == c.params.end() ? "" : svc->second;
  const std::vector<AuthScope> scopes = scopes_for(cfg_, extra);
  const Credentials none;
  const Credentials& creds = cfg_.credentials ? *cfg_.credentials : none;

  Request req;
  req.tls = cfg_.tls;
  req.cancel = &closing_;
  std::string context;
  if (!creds.identity_token.empty()) {
    req.method = "POST";
    req.url = realm->second;
    if (!istarts_with(req.url, "https://") && !istarts_with(req.url, "http://"))
      throw Error("unsupported bearer token realm \"" + req.url + "\": not an http(s) URL");
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = oauth2_refresh_form(creds.identity_token, service, scopes);
    context = "Trying to obtain access token";
  } else {
    req.url = token_request_url(realm->second, service, creds.username, scopes);
    if (!creds.username.empty() && !creds.password.empty())
      req.headers.emplace_back("Authorization", basic_authorization(creds.username, creds.password));
    context = "Requesting bearer token";
  }
  std::string body;
  Response r = http_.fetch(req, &body, kMaxTokenBodySize);
  if (r.status != 200) throw_token_failure(r, body, context);
  BearerTokenResponse t = parse_bearer_token_response(body);
  tokens_[key] = CachedToken{t.token, now + std::chrono::seconds(t.expires_in)};
  return t.token;
}

std::string RegistryClient::authorization(const std::optional<AuthScope>& extra) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Challenge& c : challenges_) {
    if (c.scheme == "basic") {
      if (!cfg_.credentials) return basic_authorization("", "");
      return basic_authorization(cfg_.credentials->username, cfg_.credentials->password);
    }
    if (c.scheme == "bearer") {
      if (cfg_.registry_token) return "Bearer " + *cfg_.registry_token;
      return "Bearer " + bearer_token(c, extra);
    }
  }
  return "";
}

Request RegistryClient::bare_request(const Call& call, std::string url) {
  Request req;
  req.method = call.method;
  req.url = std::move(url);
  req.headers = call.headers;
  req.body = call.body;
  req.body_stream = call.body_stream;
  req.body_size = call.body_size;
  req.range_start = call.range_start;
  req.cancel = &closing_;
  req.tls = cfg_.tls;
  return req;
}

Request RegistryClient::build_request(const Call& call, const std::optional<AuthScope>& extra) {
  Request req = bare_request(call, url_for(call.target));
  // Credentials only ever go to the registry itself (an upload Location may
  // point at a storage backend on another host).
  if (url_origin(req.url) == url_origin(base_url())) {
    std::string auth = authorization(extra);
    if (!auth.empty()) req.headers.emplace_back("Authorization", std::move(auth));
  }
  return req;
}

// The first call to a registry (the manifest, for a copy or an inspect)
// would otherwise wait a round trip for the ping. It goes out at the same
// time, unauthenticated, on the scheme the ping is expected to choose, and
// its answer is kept only when the ping then finds exactly what the call
// assumed: that scheme, and no auth challenge. Then the request is
// byte-for-byte the one send() would have made after the ping (no
// Authorization header without a challenge), so nothing changes but the
// wait. Otherwise the answer is read to its (small) end and dropped: the
// connection it warmed up is reused by the real call, so even a registry
// that wants a token loses nothing. Skipped when credentials are configured
// (the registry most likely wants them) and for calls that could not be
// repeated (bodies) or leave the registry (absolute URLs).
std::unique_ptr<ResponseStream> RegistryClient::open_alongside_ping(const Call& call) {
  if (cfg_.credentials || cfg_.registry_token || !call.body.empty() || call.body_stream != nullptr ||
      call.extra_scope || call.target.empty() || call.target.front() != '/')
    return nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pinged_) return nullptr;
  }
  if (sent_early_.exchange(true)) return nullptr;
  // Plain HTTP is only ever tried with verification off; a registry the
  // user calls insecure is most often a plain-HTTP one.
  const std::string scheme = cfg_.tls.verify ? "https" : "http";
  Request req = bare_request(call, scheme + "://" + cfg_.api_host + call.target);
  req.cancel = &early_cancel_;
  auto early = std::async(std::launch::async, [this, req]() { return http_.open(req); });
  try {
    ensure_pinged();
  } catch (...) {
    early_cancel_ = true;
    early.wait();
    throw;
  }
  bool same_scheme, anonymous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    same_scheme = scheme_ == scheme;
    anonymous = challenges_.empty();
  }
  // Sent on the wrong scheme, it may never be answered (a TLS server
  // waiting for a hello): it is cancelled, not awaited.
  if (!same_scheme) early_cancel_ = true;
  std::unique_ptr<ResponseStream> stream;
  try {
    stream = early.get();
  } catch (const Error&) {
    return nullptr;  // the real call repeats it and reports what fails
  }
  if (same_scheme && anonymous) return stream;
  if (same_scheme) read_error_body(*stream);
  return nullptr;
}

std::unique_ptr<ResponseStream> RegistryClient::send(const Call& call) {
  std::unique_ptr<ResponseStream> early = open_alongside_ping(call);
  ensure_pinged();
  std::optional<AuthScope> extra = call.extra_scope;
  const bool restartable = call.body.empty() && call.body_stream == nullptr;
  std::chrono::milliseconds delay = kInitialDelay;
  for (int attempt = 1;; ++attempt) {
    auto stream = early ? std::move(early) : http_.open(build_request(call, extra));
    if (attempt == 1 && restartable && stream->response().status == 401) {
      std::vector<Challenge> challenges;
      try {
        challenges = parse_www_authenticate(stream->response().header_values("www-authenticate"));
      } catch (const Error&) {
      }
      if (auto scope = insufficient_scope(challenges)) {
        stream.reset();
        extra = scope;
        stream = http_.open(build_request(call, extra));
      }
    }
    const Response& r = stream->response();
    if (r.status != 429 || !restartable || attempt == kMaxAttempts) return stream;
    delay = std::min(retry_after_delay(r.header("retry-after"), delay, std::chrono::system_clock::now()), kMaxDelay);
    stream.reset();
    cfg_.sleep(delay);
    delay *= 2;
  }
}

std::unique_ptr<ResponseStream> RegistryClient::open(const Call& call) { return send(call); }

Response RegistryClient::fetch(const Call& call, std::string* body, size_t max_body) {
  auto stream = send(call);
  Response r = stream->response();
  body->clear();
  if (r.status >= 300) {
    *body = read_error_body(*stream);
    return r;
  }
  uint8_t buf[65536];
  for (;;) {
    size_t got = stream->read(buf, sizeof buf);
    if (got == 0) break;
    if (body->size() + got > max_body)
      throw Error("exceeded maximum allowed size of " + std::to_string(max_body) + " bytes");
    body->append(reinterpret_cast<const char*>(buf), got);
  }
  return r;
}

}  // namespace ferry::net
