// HTTP over libcurl for the registry transport.
//
// One HttpClient per process side (source / destination); it keeps a pool of
// curl easy handles sharing one connection cache, DNS cache and TLS session
// cache (CURLSH), so parallel blob copies reuse connections and TLS
// sessions, and negotiates HTTP/2 where the server offers it.
//
// Bodies stream in both directions: a request body is pulled from a Reader,
// a response body is a Reader the caller pulls from, so blob size never
// shows up in memory.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/reader.h"

namespace ferry::net {

// TLS settings for one registry host (certs.d, --cert-dir, --tls-verify).
struct TlsConfig {
  bool verify = true;                   // false: skip certificate verification
  std::vector<std::string> ca_files;    // extra CA PEM files (*.crt), added to the system store
  std::string client_cert_file;         // *.cert (PEM)
  std::string client_key_file;          // *.key (PEM)
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;                // e.g. {"Accept", "..."}, {"Authorization", "Bearer x"}
  // Request body: either bytes, or a stream of body_size bytes (-1: unknown,
  // sent chunked). Not both. body_stream must outlive the ResponseStream
  // (curl may still pull from it after the response headers arrive); an
  // exception it throws is rethrown from open()/fetch()/read() unchanged.
  // A stream ending before body_size bytes is an Error.
  std::string body;
  Reader* body_stream = nullptr;
  int64_t body_size = -1;
  bool follow_redirects = true;   // Authorization is never sent to another host
  TlsConfig tls;
  // Range request for resuming downloads: bytes=range_start-
  int64_t range_start = -1;
  // Set (by another thread) to give up: the transfer fails within about
  // 50 ms with a NetworkError "request cancelled". Must outlive the stream.
  const std::atomic<bool>* cancel = nullptr;
};

struct Response {
  long status = 0;
  Headers headers;               // names lowercased, in arrival order (final response only)
  std::string effective_url;     // after redirects
  std::string http_version;      // "1.1", "2"

  // First value of a header (name case-insensitive), or "".
  std::string header(std::string_view name) const;
  // All values of a header (WWW-Authenticate may repeat).
  std::vector<std::string> header_values(std::string_view name) const;
};

// A response whose body is read incrementally.
class ResponseStream : public Reader {
 public:
  ~ResponseStream() override = default;
  virtual const Response& response() const = 0;
};

struct HttpClientOptions {
  std::string user_agent = "ferry";
  std::chrono::seconds connect_timeout{30};
  // Abort a transfer that moves fewer than 1 byte/s for this long (stalled
  // connection); 0 disables.
  std::chrono::seconds low_speed_time{60};
  bool debug = false;  // log request lines (never credentials) to stderr
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions opts = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole response body, failing if it
  // exceeds max_body bytes. Transport failures (DNS, connect, TLS, reset)
  // throw NetworkError; HTTP error statuses do not throw.
  Response fetch(const Request& req, std::string* body, size_t max_body);

  // Sends the request; returns once the response headers have arrived. The
  // body is read from the returned stream. Thread-safe: several streams may
  // be open at once on different threads (each stream on one thread at a
  // time); a stream may outlive the client. Destroying a stream before the
  // end of the body aborts the transfer.
  //
  // Transport failures throw NetworkError. Before the response headers the
  // message is Go's url.Error form, `Get "https://host/v2/": dial tcp
  // 127.0.0.1:5000: connect: connection refused` (URL without userinfo and
  // query); failures while reading the body carry only the cause
  // ("unexpected EOF"), for the caller to prefix with what was being read.
  std::unique_ptr<ResponseStream> open(const Request& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::net
