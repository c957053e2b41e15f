// One repository on one registry, spoken to over the Docker Registry HTTP
// API V2 / OCI distribution-spec: the ping that finds the scheme and the
// auth challenges, Basic and Bearer auth with a per-scope token cache, the
// one retry on insufficient_scope, the 429 back-off, and error answers
// turned into c/image's messages.
//
// Credentials and tokens go into Authorization headers only: never into a
// message, a log line or a URL, and never to a host other than the
// registry's own (or the token realm's, for the token request).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <atomic>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/credentials.h"
#include "net/http_client.h"
#include "net/registry_errors.h"
#include "net/www_authenticate.h"

namespace ferry::net {

// Body limits (§5.1).
inline constexpr size_t kMaxManifestBodySize = 4 << 20;
inline constexpr size_t kMaxTokenBodySize = 1 << 20;

// A token scope: "repository:library/busybox:pull,push".
struct AuthScope {
  std::string resource_type = "repository";
  std::string name;
  std::string actions;
  std::string to_string() const { return resource_type + ":" + name + ":" + actions; }
  bool operator==(const AuthScope&) const = default;
};

// Parses "type:name:actions" as a server sends it in an insufficient_scope
// challenge (the name may hold ':' for host:port). nullopt if malformed.
std::optional<AuthScope> parse_auth_scope(std::string_view s);

// The scope a 401 answer asks for: a Bearer challenge with
// error="insufficient_scope" and a scope parameter. nullopt otherwise.
std::optional<AuthScope> insufficient_scope(const std::vector<Challenge>& challenges);

// Go's url.QueryEscape ("repository:a/b:pull" -> "repository%3Aa%2Fb%3Apull").
std::string query_escape(std::string_view s);

// Go's url.Values.Encode over ordered pairs: keys sorted (stable, so values
// of one key keep their order), each part query-escaped.
std::string encode_query(std::vector<std::pair<std::string, std::string>> values);

// Splits a query string into decoded pairs (Go's url.ParseQuery, lenient:
// malformed escapes are kept literally).
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q);

// The URL a token is requested from: realm with its own query plus
// account (if username), scope (each), service (if any), sorted as Go's
// url.Values.Encode does. Throws if realm is not an http(s) URL.
std::string token_request_url(const std::string& realm, const std::string& service,
                              const std::string& username, const std::vector<AuthScope>& scopes);

// The OAuth2 refresh-token form body for an identity token.
std::string oauth2_refresh_form(const std::string& identity_token, const std::string& service,
                                const std::vector<AuthScope>& scopes);

// How long a 429 answer asks to wait: Retry-After in seconds or as an HTTP
// date (relative to now), else fallback. Negative seconds mean no wait.
std::chrono::milliseconds retry_after_delay(std::string_view retry_after, std::chrono::milliseconds fallback,
                                            std::chrono::system_clock::time_point now);

// "Basic " + base64(user:password).
std::string basic_authorization(const std::string& username, const std::string& password);

// Scheme, host and port of a URL, lowercased ("https://h:5000"), "" if it is
// not absolute. Authorization is only attached when this matches the
// registry's.
std::string url_origin(std::string_view url);

struct RegistryClientConfig {
  std::string registry;    // host[:port] as in the reference; names errors
  std::string api_host;    // host[:port] contacted (docker.io: registry-1.docker.io)
  std::string repository;  // path in the registry, "library/busybox"
  std::string actions;     // token scope actions: "pull", "pull,push", "*"
  TlsConfig tls;           // verify == false also allows falling back to http://
  std::optional<Credentials> credentials;     // nullopt: anonymous
  std::optional<std::string> registry_token;  // --registry-token: Bearer as is
  // Sleeps between 429 retries; tests replace it.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class RegistryClient {
 public:
  // http must outlive the client.
  RegistryClient(HttpClient& http, RegistryClientConfig cfg);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // Pings the registry and fetches the token for the base scope on a
  // background thread, so a copy's destination is ready by the time its
  // first layer arrives instead of costing round trips then. Failures are
  // ignored here: the first real call repeats the step and reports them.
  // The destructor cancels whatever is still in flight.
  void warm_up();
  // Makes every request in flight, and every later one, fail at once
  // ("request cancelled"): for an owner shutting down with requests
  // still running on other threads.
  void cancel_pending() {
    closing_ = true;
    early_cancel_ = true;
    plain_probe_cancel_ = true;
  }

  struct Call {
    std::string method = "GET";
    // "/v2/..." on the registry, or an absolute URL (an upload Location).
    std::string target;
    Headers headers;
    std::string body;
    Reader* body_stream = nullptr;
    int64_t body_size = -1;
    int64_t range_start = -1;
    // A second scope for the token (cross-repository mount source).
    std::optional<AuthScope> extra_scope;
  };

  // Sends the call (pinging first if needed) and reads the whole answer,
  // which may be an HTTP error: callers decide by status. Transport failures,
  // ping and token failures throw.
  Response fetch(const Call& call, std::string* body, size_t max_body);
  // The same, streaming the answer's body.
  std::unique_ptr<ResponseStream> open(const Call& call);

  // The classified failure of an answer, with the Bearer error from its
  // WWW-Authenticate; body as read (bounded).
  static RegistryHttpFailure failure_of(const Response& r, std::string_view body);
  // Reads an error body from a stream, at most kMaxErrorBodySize bytes,
  // never throwing (a broken error body just ends it).
  static std::string read_error_body(Reader& r);

  // "https://host[:port]" once pinged (pings if needed).
  std::string base_url();
  // Absolute URL of a target (relative to the registry, or resolved against
  // base for a Location value).
  std::string url_for(const std::string& target);

  const RegistryClientConfig& config() const { return cfg_; }

 private:
  struct Ping {
    std::string scheme;
    std::vector<Challenge> challenges;
  };
  void ensure_pinged();
  // cancel: the flag that ends it early (closing_ when null).
  Ping ping_scheme(const std::string& scheme, const std::atomic<bool>* cancel = nullptr);
  std::unique_ptr<ResponseStream> open_alongside_ping(const Call& call);
  Request bare_request(const Call& call, std::string url);
  Request build_request(const Call& call, const std::optional<AuthScope>& extra);
  std::string authorization(const std::optional<AuthScope>& extra);
  std::string bearer_token(const Challenge& c, const std::optional<AuthScope>& extra);
  std::unique_ptr<ResponseStream> send(const Call& call);

  HttpClient& http_;
  RegistryClientConfig cfg_;

  std::mutex mu_;  // guards everything below
  bool pinged_ = false;
  std::string scheme_;
  std::vector<Challenge> challenges_;
  struct CachedToken {
    std::string token;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, CachedToken> tokens_;  // "" = the base scope alone

  std::atomic<bool> closing_{false};  // cancels warm_up's requests
  // The first call goes out alongside the ping at most once per client;
  // early_cancel_ ends it at once when the ping fails.
  std::atomic<bool> sent_early_{false};
  std::atomic<bool> early_cancel_{false};
  // Ends the plain-HTTP half of the ping race once https has answered.
  std::atomic<bool> plain_probe_cancel_{false};
  std::thread warm_;
};

}  // namespace ferry::net
