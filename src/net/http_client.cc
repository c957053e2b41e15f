#include "net/http_client.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

#include "io/fs.h"
#include "net/header_tokens.h"
#include "net/net_error.h"
#include "net/trust_store.h"
#include "util/error.h"
#include "util/interrupt.h"

namespace ferry::net {

namespace {

// curl's own receive/send buffers: large enough for few syscalls, small
// enough that six parallel transfers stay within a few MiB. Against 128 KiB
// (8 alternating runs each of the 518 MB registry copy): peak RSS 11.4 ->
// 10.2 MiB, client CPU 0.83 -> 0.87 s, wall time the same.
constexpr long kCurlBuffer = 64 * 1024;
// The receive buffer of a request that uploads: its answer is a few
// headers, so curl's minimum will do (saves 112 KiB per parallel upload).
constexpr long kCurlSmallBuffer = 16 * 1024;
// Response body bytes buffered per stream before the transfer is paused;
// allocated only when a reader falls behind (most bytes go straight into
// the reader's buffer). curl hands over at most kCurlBuffer at a time and
// a stream holding data pauses before taking more, so one chunk is enough:
// at 512 KiB the six streams of a copy held 3 MiB that bought no speed.
constexpr size_t kStreamBuffer = kCurlBuffer;
// All header lines of one request (redirects and 1xx responses included).
// Below curl's own 300 KiB per-response limit, so this clearer error wins.
constexpr size_t kMaxHeaderBytes = 256 * 1024;
constexpr long kMaxRedirects = 10;
// Idle handle pairs kept for reuse; more are only needed under bursts.
constexpr size_t kMaxIdleHandles = 16;

void init_curl_once() {
  // curl_global_init is not thread-safe; a function-local static is.
  // (OpenSSL's error strings, ~0.4 MiB, stay loaded: the TLS error
  // classification reads their text, e.g. "wrong version number".)
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    throw Error(std::string("initializing libcurl: ") + curl_easy_strerror(rc));
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// The pieces of a URL that error messages need, split without validation
// (the URL may be the malformed one being reported).
struct UrlView {
  std::string scheme;     // lowercased
  std::string hostport;   // authority without userinfo
  std::string host;       // without port; IPv6 keeps its brackets
  std::string port;       // explicit or the scheme's default
  std::string path;
};

UrlView split_url(std::string_view url) {
  UrlView u;
  const size_t sep = url.find("://");
  std::string_view rest = url;
  if (sep != std::string_view::npos && url.substr(0, sep).find_first_of("/?#") == std::string_view::npos) {
    u.scheme = ascii_lower(url.substr(0, sep));
    rest = url.substr(sep + 3);
  }
  const size_t auth_end = rest.find_first_of("/?#");
  std::string_view auth = rest.substr(0, auth_end);
  rest.remove_prefix(auth_end == std::string_view::npos ? rest.size() : auth_end);
  const size_t at = auth.rfind('@');
  if (at != std::string_view::npos) auth.remove_prefix(at + 1);  // never show userinfo
  u.hostport = auth;
  const size_t bracket = auth.rfind(']');
  const size_t colon = auth.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    u.host = auth.substr(0, colon);
    u.port = auth.substr(colon + 1);
  } else {
    u.host = auth;
    u.port = u.scheme == "https" ? "443" : "80";
  }
  u.path = rest.substr(0, rest.find_first_of("?#"));
  return u;
}

// scheme://host[:port]/path: no userinfo, and no query, which for signed
// blob URLs (S3, GCS) carries credentials.
std::string redact_url(std::string_view url) {
  UrlView u = split_url(url);
  std::string out = u.scheme.empty() ? "" : u.scheme + "://";
  return out + u.hostport + u.path;
}

// Go's url.Error spells the operation "Get", "Put", ...
std::string go_method(std::string_view method) {
  std::string out = ascii_lower(method);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

bool valid_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  return true;
}

bool valid_header_value(std::string_view s) {
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

std::string x509_text(long verify_result, const std::string& host, const char* errbuf) {
  switch (verify_result) {
    case 18:  // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    case 19:  // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    case 20:  // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    case 21:  // X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
    case 2:   // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
      return "x509: certificate signed by unknown authority";
    case 9:   // X509_V_ERR_CERT_NOT_YET_VALID
    case 10:  // X509_V_ERR_CERT_HAS_EXPIRED
      return "x509: certificate has expired or is not yet valid";
    case 62:  // X509_V_ERR_HOSTNAME_MISMATCH
    case 64:  // X509_V_ERR_IP_ADDRESS_MISMATCH
      return "x509: certificate is not valid for " + host;
    default:
      break;
  }
  // curl checks the host name itself when OpenSSL did not.
  if (std::strstr(errbuf, "does not match target host") || std::strstr(errbuf, "no alternative certificate subject name"))
    return "x509: certificate is not valid for " + host;
  return std::string("x509: ") + (errbuf[0] ? errbuf : "certificate verification failed");
}

// One reusable transfer slot. The multi handle owns the connection cache, so
// keeping the pair together keeps its connections warm for the next request.
// (CURL_LOCK_DATA_CONNECT is deliberately not shared: libcurl does not
// support one connection cache used from several threads at once.)
struct HandlePair {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
};

class Pool {
 public:
  Pool() {
    init_curl_once();
    share_ = curl_share_init();
    if (!share_) throw Error("initializing libcurl: curl_share_init failed");
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Pool::lock_cb);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Pool::unlock_cb);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }

  ~Pool() {
    for (HandlePair& h : idle_) destroy(h);
    curl_share_cleanup(share_);
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  CURLSH* share() const { return share_; }

  HandlePair take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        HandlePair h = idle_.back();  // most recently used: warmest connections
        idle_.pop_back();
        return h;
      }
    }
    HandlePair h;
    h.multi = curl_multi_init();
    h.easy = curl_easy_init();
    if (!h.multi || !h.easy) {
      destroy(h);
      throw Error("initializing libcurl: out of memory");
    }
    return h;
  }

  // warm: its last transfer completed, so its connection is still open.
  // take() hands out the most recently returned slot first, so a slot
  // whose connection was closed (a failed or abandoned transfer, e.g. the
  // HTTPS half of a ping race against a plain-HTTP registry) goes to the
  // cold end: the next request reuses an open connection instead of
  // paying a new handshake (one round trip on a real link).
  void give(HandlePair h, bool warm) {
    curl_easy_reset(h.easy);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < kMaxIdleHandles) {
        if (warm)
          idle_.push_back(h);
        else
          idle_.insert(idle_.begin(), h);
        return;
      }
    }
    destroy(h);
  }

 private:
  static void lock_cb(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<Pool*>(self)->locks_[data].lock();
  }
  static void unlock_cb(CURL*, curl_lock_data data, void* self) {
    static_cast<Pool*>(self)->locks_[data].unlock();
  }
  static void destroy(HandlePair& h) {
    if (h.easy) curl_easy_cleanup(h.easy);
    if (h.multi) curl_multi_cleanup(h.multi);
  }

  CURLSH* share_ = nullptr;
  std::mutex locks_[CURL_LOCK_DATA_LAST];
  std::mutex mu_;
  std::vector<HandlePair> idle_;
};

// One request in flight, driven by its own multi handle on the caller's
// thread: the write callback fills a bounded buffer and pauses the transfer
// when it is full; read() drains it and resumes.
class CurlStream final : public ResponseStream {
 public:
  CurlStream(std::shared_ptr<Pool> pool, const HttpClientOptions& opts, const Request& req)
      : pool_(std::move(pool)), debug_(opts.debug), follow_(req.follow_redirects) {
    method_ = req.method;
    for (char& c : method_)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!valid_header_name(method_)) throw Error("invalid HTTP method \"" + req.method + "\"");
    if (req.body_stream && !req.body.empty())
      throw Error("HTTP request to " + redact_url(req.url) + " has both a body and a body stream");
    if ((method_ == "GET" || method_ == "HEAD") && (req.body_stream || !req.body.empty()))
      throw Error("HTTP " + method_ + " request to " + redact_url(req.url) + " cannot have a body");
    url_ = req.url;
    cancel_ = req.cancel;
    h_ = pool_->take();
    try {
      configure(opts, req);
    } catch (...) {
      cleanup();
      throw;
    }
  }

  ~CurlStream() override { cleanup(); }

  CurlStream(const CurlStream&) = delete;
  CurlStream& operator=(const CurlStream&) = delete;

  const Response& response() const override { return resp_; }

  // Starts the transfer and returns once the final response's headers are
  // in (or the body began, or the transfer ended).
  void start() {
    if (debug_) std::fprintf(stderr, "DEBU[0000] %s %s\n", method_.c_str(), redact_url(url_).c_str());
    CURLMcode mc = curl_multi_add_handle(h_.multi, h_.easy);
    if (mc != CURLM_OK) throw Error(std::string("starting HTTP request: ") + curl_multi_strerror(mc));
    added_ = true;
    while (!final_headers_ && buffered() == 0 && !done_) step();
    // Once the response is in, a failure belongs to the body and read()
    // reports it.
    if (done_ && result_ != CURLE_OK && !final_headers_ && buffered() == 0) fail(true);
    if (status_ == 0) {
      long code = 0;
      curl_easy_getinfo(h_.easy, CURLINFO_RESPONSE_CODE, &code);
      status_ = code;
    }
    resp_.status = status_;
    resp_.http_version = version_;
    char* eff = nullptr;
    if (curl_easy_getinfo(h_.easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) resp_.effective_url = eff;
    headers_fixed_ = true;
    if (debug_)
      std::fprintf(stderr, "DEBU[0000] %s %s: status %ld\n", method_.c_str(),
                   redact_url(resp_.effective_url.empty() ? url_ : resp_.effective_url).c_str(), resp_.status);
  }

  size_t read(uint8_t* out, size_t n) override {
    if (n == 0) return 0;
    for (;;) {
      if (size_t avail = buffered()) {
        const size_t k = avail < n ? avail : n;
        std::memcpy(out, buf_.get() + rpos_, k);
        rpos_ += k;
        if (rpos_ == wpos_) rpos_ = wpos_ = 0;
        // Resume once all is taken: the next chunk (up to kCurlBuffer) then
        // fits whole, and a transfer is paused at most once per chunk.
        if (paused_ && buffered() == 0) {
          paused_ = false;
          const CURLcode rc = curl_easy_pause(h_.easy, CURLPAUSE_CONT);
          if (rc != CURLE_OK && !done_) {
            done_ = true;
            result_ = rc;
          }
        }
        return k;
      }
      if (done_) {
        if (result_ != CURLE_OK) fail(false);
        return 0;
      }
      // Nothing buffered: let curl's write callback fill the caller's
      // buffer directly, so the common case copies each byte once (curl's
      // receive buffer -> out) instead of twice.
      direct_ = out;
      direct_cap_ = n;
      direct_len_ = 0;
      step();
      direct_ = nullptr;
      if (direct_len_ > 0) return direct_len_;
    }
  }

 private:
  size_t buffered() const { return wpos_ - rpos_; }

  void configure(const HttpClientOptions& opts, const Request& req) {
    CURL* e = h_.easy;
    errbuf_[0] = '\0';
    curl_easy_setopt(e, CURLOPT_SHARE, pool_->share());
    curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // HTTP/1.1 also over TLS: ferry runs transfers in parallel on
    // connections of their own and never multiplexes, and libcurl 7.88's
    // HTTP/2 took twice the CPU and 1.5x the time of HTTP/1.1 for the same
    // layers between two TLS registries (docs/architecture.md).
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts.connect_timeout.count() * 1000));
    if (opts.low_speed_time.count() > 0) {
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opts.low_speed_time.count()));
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, opts.user_agent.c_str());
    // Authorization set through CURLOPT_HTTPHEADER is only sent to the
    // original scheme, host and port (UNRESTRICTED_AUTH stays off); the
    // unit tests pin that down.
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, kMaxRedirects);
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    // A proxy's CONNECT response is not the server's response.
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    const bool uploads = req.body_stream != nullptr;
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, uploads ? kCurlSmallBuffer : kCurlBuffer);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, kCurlBuffer);
    // CURLOPT_ACCEPT_ENCODING stays unset and nothing is decoded, whatever
    // Content-Encoding a server claims: blobs must arrive byte-exact, and
    // their digests are over the bytes as stored.
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    // No GSSAPI towards a SOCKS5 proxy (curl's default allows it); the
    // static build does not link Kerberos (curl_unlinked_deps.cc).
    curl_easy_setopt(e, CURLOPT_SOCKS5_AUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlStream::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlStream::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &CurlStream::on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
    configure_proxy(req);
    configure_tls(req.tls);
    configure_method(req);
    if (req.range_start >= 0)
      curl_easy_setopt(e, CURLOPT_RANGE, (std::to_string(req.range_start) + "-").c_str());
    configure_headers(req);
  }

  // curl reads http_proxy only in lower case (httpoxy); Go also honours
  // HTTP_PROXY outside CGI. NO_PROXY is still applied by curl to a proxy set
  // this way.
  void configure_proxy(const Request& req) {
    if (!ascii_iequals(std::string_view(req.url).substr(0, 7), "http://")) return;
    const char* lower_env = std::getenv("http_proxy");
    const char* upper_env = std::getenv("HTTP_PROXY");
    if ((lower_env && *lower_env) || !upper_env || !*upper_env || std::getenv("REQUEST_METHOD")) return;
    curl_easy_setopt(h_.easy, CURLOPT_PROXY, upper_env);
  }

  void configure_tls(const TlsConfig& tls) {
    CURL* e = h_.easy;
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
    if (tls.verify) {
      // The certificates come from a store parsed once per process
      // (trust_store.h); curl is told to load nothing itself. The extra
      // CAs still go in as a blob, because curl compares the blob (and not
      // the store) before it reuses a connection or resumes a TLS session:
      // so a host's extra CAs never vouch for a connection made under
      // another trust configuration. Parsing them is cheap (a few
      // certificates, where the system bundle has ~140).
      const TrustStore& ts = trust_store(tls.ca_files);
      curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
      if (!ts.extras_pem.empty()) {
        curl_blob b{const_cast<char*>(ts.extras_pem.data()), ts.extras_pem.size(), CURL_BLOB_NOCOPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
      }
      if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &CurlStream::use_trust_store) != CURLE_OK)
        throw Error("libcurl is not built with OpenSSL (ferry needs CURLOPT_SSL_CTX_FUNCTION)");
      curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, ts.store);
    }
    if (!tls.client_cert_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(e, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
    }
    if (!tls.client_key_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(e, CURLOPT_SSLKEY, tls.client_key_file.c_str());
    }
  }

  void configure_method(const Request& req) {
    CURL* e = h_.easy;
    if (method_ == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
      return;
    }
    if (method_ == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
      return;
    }
    if (req.body_stream) {
      body_stream_ = req.body_stream;
      body_left_ = req.body_size;
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, &CurlStream::on_read);
      curl_easy_setopt(e, CURLOPT_READDATA, this);
      // Known size: Content-Length; unknown: chunked (HTTP/1.1).
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size >= 0 ? req.body_size : -1));
      if (method_ != "PUT") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_.c_str());
      return;
    }
    // Go sends Content-Length: 0 for a bodiless POST, PUT or PATCH, and no
    // body at all for other methods.
    if (!req.body.empty() || method_ == "POST" || method_ == "PUT" || method_ == "PATCH") {
      body_ = req.body;
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, body_.data());
      posts_ = true;
    }
    if (method_ != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_.c_str());
  }

  void configure_headers(const Request& req) {
    bool has_accept = false, has_content_type = false, has_expect = false;
    for (const auto& [name, value] : req.headers) {
      // The value may be a credential: name the header, never the value.
      if (!valid_header_name(name)) throw Error("invalid HTTP header name \"" + name + "\"");
      if (!valid_header_value(value)) throw Error("invalid value for HTTP header " + name);
      has_accept |= ascii_iequals(name, "accept");
      has_content_type |= ascii_iequals(name, "content-type");
      has_expect |= ascii_iequals(name, "expect");
      // "Name:" would tell curl to drop the header; "Name;" sends it empty.
      add_header(value.empty() ? name + ";" : name + ": " + value);
    }
    // Match Go's request headers: no default Accept, no form Content-Type
    // on POST, and no Expect: 100-continue, which stalls a second on servers
    // that ignore it.
    if (!has_accept) add_header("Accept:");
    if (posts_ && !has_content_type) add_header("Content-Type:");
    if (!has_expect) add_header("Expect:");
    curl_easy_setopt(h_.easy, CURLOPT_HTTPHEADER, headers_);
  }

  void add_header(const std::string& line) {
    curl_slist* l = curl_slist_append(headers_, line.c_str());
    if (!l) throw Error("out of memory building HTTP request headers");
    headers_ = l;
  }

  // One round of work: let curl move data, collect completion, and wait for
  // the sockets if nothing came of it.
  void step() {
    if ((cancel_ && cancel_->load()) || interrupt::requested()) {
      done_ = true;
      result_ = CURLE_ABORTED_BY_CALLBACK;
      std::snprintf(errbuf_, sizeof errbuf_, "request cancelled");
      return;
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(h_.multi, &running);
    if (mc != CURLM_OK) {
      done_ = true;
      result_ = CURLE_RECV_ERROR;
      std::snprintf(errbuf_, sizeof errbuf_, "%s", curl_multi_strerror(mc));
      return;
    }
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(h_.multi, &queued)) {
      if (m->msg == CURLMSG_DONE && m->easy_handle == h_.easy) {
        done_ = true;
        result_ = m->data.result;
      }
    }
    if (done_ || buffered() > 0 || (final_headers_ && !headers_fixed_)) return;
    // A cancellable request looks at its flag often; others sleep until
    // their sockets wake them, or a quarter second, so a stop
    // (util/interrupt.h) is noticed on a stalled connection too.
    curl_multi_poll(h_.multi, nullptr, 0, cancel_ ? 50 : 250, nullptr);
  }

  // Throws the error for a failed transfer. Before the response headers the
  // message carries Go's url.Error prefix (`Get "https://h/v2/": ...`);
  // afterwards it is the bare cause, as reading a Go response body reports.
  [[noreturn]] void fail(bool before_headers) {
    if (read_error_) std::rethrow_exception(read_error_);
    interrupt::check();
    long os_errno = 0;
    curl_easy_getinfo(h_.easy, CURLINFO_OS_ERRNO, &os_errno);
    char* eff = nullptr;
    std::string url = url_;
    if (curl_easy_getinfo(h_.easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff && *eff) url = eff;
    const UrlView u = split_url(url);
    std::string addr = dialed_;
    if (addr.empty()) addr = u.host + ":" + u.port;
    const std::string errno_part = os_errno ? errno_text(static_cast<int>(os_errno)) : std::string(errbuf_);
    std::string detail;
    bool retryable = true;
    switch (result_) {
      case CURLE_COULDNT_CONNECT:
        detail = "dial tcp " + addr + ": connect: " + errno_part;
        break;
      case CURLE_COULDNT_RESOLVE_HOST:
        // Like Go's *net.DNSError "no such host": not a passing fault.
        detail = "dial tcp: lookup " + u.host + ": no such host";
        retryable = false;
        break;
      case CURLE_COULDNT_RESOLVE_PROXY:
        detail = std::string("proxyconnect tcp: ") + errbuf_;
        retryable = false;
        break;
      case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connected = 0;
        curl_easy_getinfo(h_.easy, CURLINFO_CONNECT_TIME_T, &connected);
        detail = (connected > 0 ? "read tcp " : "dial tcp ") + addr + ": i/o timeout";
        if (errbuf_[0]) detail += std::string(" (") + errbuf_ + ")";
        break;
      }
      case CURLE_SEND_ERROR:
        detail = "write tcp " + addr + ": " + errno_part;
        break;
      case CURLE_RECV_ERROR:
        detail = "read tcp " + addr + ": " + errno_part;
        break;
      case CURLE_PARTIAL_FILE:
        detail = "unexpected EOF";
        break;
      case CURLE_GOT_NOTHING:
        detail = "EOF";
        break;
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
        detail = std::string("http2: stream error: ") + errbuf_;
        break;
      case CURLE_SSL_CONNECT_ERROR:
        if (os_errno) {
          detail = "read tcp " + addr + ": " + errno_part;
        } else if (std::strstr(errbuf_, "wrong version number") || std::strstr(errbuf_, "packet length too long")) {
          detail = "http: server gave HTTP response to HTTPS client";
          retryable = false;
        } else {
          detail = std::string("tls: ") + errbuf_;
          retryable = false;
        }
        break;
      case CURLE_PEER_FAILED_VERIFICATION: {
        long verify = 0;
        curl_easy_getinfo(h_.easy, CURLINFO_SSL_VERIFYRESULT, &verify);
        detail = "tls: failed to verify certificate: " + x509_text(verify, u.host, errbuf_);
        retryable = false;
        break;
      }
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_CRL_BADFILE:
      case CURLE_SSL_ENGINE_NOTFOUND:
      case CURLE_SSL_ENGINE_SETFAILED:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        detail = std::string("tls: ") + (errbuf_[0] ? errbuf_ : curl_easy_strerror(result_));
        retryable = false;
        break;
      case CURLE_UNSUPPORTED_PROTOCOL:
        detail = "unsupported protocol scheme \"" + u.scheme + "\"";
        retryable = false;
        break;
      case CURLE_URL_MALFORMAT:
        detail = std::string("invalid URL") + (errbuf_[0] ? std::string(": ") + errbuf_ : "");
        retryable = false;
        break;
      case CURLE_TOO_MANY_REDIRECTS:
        detail = "stopped after " + std::to_string(kMaxRedirects) + " redirects";
        retryable = false;
        break;
      case CURLE_WRITE_ERROR:
        if (headers_too_large_) {
          detail = "server response headers exceeded " + std::to_string(kMaxHeaderBytes) + " bytes";
          retryable = false;
          break;
        }
        [[fallthrough]];
      default:
        detail = errbuf_[0] ? errbuf_ : curl_easy_strerror(result_);
        break;
    }
    if (!before_headers) throw NetworkError(detail, retryable);
    throw NetworkError(go_method(method_) + " \"" + redact_url(url) + "\": " + detail, retryable);
  }

  void cleanup() {
    if (h_.easy) {
      // Removing an unfinished transfer makes curl close its connection
      // rather than return it half-read to the cache.
      const bool warm = done_ && result_ == CURLE_OK;
      if (added_) curl_multi_remove_handle(h_.multi, h_.easy);
      added_ = false;
      pool_->give(h_, warm);
      h_ = {};
    }
    curl_slist_free_all(headers_);
    headers_ = nullptr;
  }

  // CURLOPT_SSL_CTX_FUNCTION: curl has built this connection's SSL_CTX
  // (with only the extra CAs in it); verification uses the shared store.
  static CURLcode use_trust_store(CURL*, void* ssl_ctx, void* store) {
    SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_ctx), static_cast<X509_STORE*>(store));
    return CURLE_OK;
  }

  static size_t on_write(char* data, size_t size, size_t nmemb, void* self_ptr) {
    auto* self = static_cast<CurlStream*>(self_ptr);
    size_t n = size * nmemb;
    const size_t total = n;
    if (self->direct_ && self->buffered() == 0) {
      const size_t k = std::min(n, self->direct_cap_ - self->direct_len_);
      std::memcpy(self->direct_ + self->direct_len_, data, k);
      self->direct_len_ += k;
      if (self->direct_len_ == self->direct_cap_) self->direct_ = nullptr;
      data += k;
      n -= k;
      if (n == 0) return total;
    }
    if (self->wpos_ + n > self->buf_cap_ && self->rpos_ > 0) {
      std::memmove(self->buf_.get(), self->buf_.get() + self->rpos_, self->buffered());
      self->wpos_ -= self->rpos_;
      self->rpos_ = 0;
    }
    if (self->wpos_ + n > self->buf_cap_) {
      if (self->buffered() > 0 || total != n) {
        // curl keeps this chunk and offers it again after CURLPAUSE_CONT;
        // a chunk partly delivered directly cannot be paused (curl would
        // offer all of it again), so it is buffered whole below instead.
        if (total == n) {
          self->paused_ = true;
          return CURL_WRITEFUNC_PAUSE;
        }
      }
      // Allocated only when needed and never zero-filled: most streams
      // deliver straight into the reader's buffer and never get here.
      const size_t cap = std::max(self->wpos_ + n, kStreamBuffer);
      auto bigger = std::make_unique_for_overwrite<uint8_t[]>(cap);
      if (self->wpos_ > 0) std::memcpy(bigger.get(), self->buf_.get(), self->wpos_);
      self->buf_ = std::move(bigger);
      self->buf_cap_ = cap;
    }
    std::memcpy(self->buf_.get() + self->wpos_, data, n);
    self->wpos_ += n;
    // Keep curl off the socket until the reader has taken all of this. It
    // checks for a pause between receive calls, so it stops at once; the
    // alternative, refusing its next chunk with CURL_WRITEFUNC_PAUSE, makes
    // curl copy that chunk into a buffer of its own: a chunk more per
    // transfer, and a third of a copy's bytes copied twice more.
    if (!self->paused_) {
      if (curl_easy_pause(self->h_.easy, CURLPAUSE_RECV) != CURLE_OK) return 0;
      self->paused_ = true;
    }
    return total;
  }

  static size_t on_header(char* data, size_t size, size_t nmemb, void* self_ptr) {
    auto* self = static_cast<CurlStream*>(self_ptr);
    const size_t n = size * nmemb;
    self->header_bytes_ += n;
    if (self->header_bytes_ > kMaxHeaderBytes) {
      self->headers_too_large_ = true;
      return 0;
    }
    if (self->final_headers_) return n;  // trailers: not part of the response headers
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
      // A new response (after a redirect or a 1xx): forget the previous one.
      self->resp_.headers.clear();
      self->has_location_ = false;
      self->status_ = 0;
      std::string_view rest = line.substr(5);
      const size_t sp = rest.find(' ');
      self->version_ = std::string(rest.substr(0, sp));
      if (sp != std::string_view::npos) {
        long code = 0;
        size_t i = sp + 1;
        for (int digits = 0; digits < 3 && i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; digits++, i++)
          code = code * 10 + (rest[i] - '0');
        self->status_ = code;
      }
      return n;
    }
    std::string_view trimmed = trim_ows(line);
    if (line == "\r\n" || line == "\n" || (trimmed.empty() && !line.empty() && line.back() == '\n')) {
      const long s = self->status_;
      const bool redirect_followed = self->follow_ && s >= 300 && s < 400 && s != 304 && self->has_location_;
      if (s >= 200 && !redirect_followed) self->final_headers_ = true;
      return n;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !self->resp_.headers.empty()) {
      std::string& v = self->resp_.headers.back().second;  // obsolete line folding
      if (!v.empty() && !trimmed.empty()) v += ' ';
      v += trimmed;
      return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    std::string name = ascii_lower(trim_ows(line.substr(0, colon)));
    if (name == "location") self->has_location_ = true;
    self->resp_.headers.emplace_back(std::move(name), std::string(trim_ows(line.substr(colon + 1))));
    return n;
  }

  static size_t on_read(char* data, size_t size, size_t nitems, void* self_ptr) {
    auto* self = static_cast<CurlStream*>(self_ptr);
    size_t n = size * nitems;
    // Exceptions must not unwind through curl's C frames: park it and
    // rethrow once curl has returned.
    try {
      if (self->body_left_ >= 0 && static_cast<uint64_t>(self->body_left_) < n) n = static_cast<size_t>(self->body_left_);
      if (n == 0) return 0;
      const size_t got = self->body_stream_->read(reinterpret_cast<uint8_t*>(data), n);
      if (self->body_left_ >= 0) {
        if (got == 0)
          throw Error("request body ended " + std::to_string(self->body_left_) + " bytes short of its declared size");
        self->body_left_ -= static_cast<int64_t>(got);
      }
      return got;
    } catch (...) {
      self->read_error_ = std::current_exception();
      return CURL_READFUNC_ABORT;
    }
  }

  // Records the address being dialed, for Go-style "dial tcp ADDR" errors
  // (curl reports no address for a failed connect), and opens the socket
  // close-on-exec.
  static curl_socket_t on_open_socket(void* self_ptr, curlsocktype, curl_sockaddr* a) {
    auto* self = static_cast<CurlStream*>(self_ptr);
    char ip[INET6_ADDRSTRLEN] = "";
    if (a->family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&a->addr);
      inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
      self->dialed_ = std::string(ip) + ":" + std::to_string(ntohs(sin->sin_port));
    } else if (a->family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&a->addr);
      inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
      self->dialed_ = "[" + std::string(ip) + "]:" + std::to_string(ntohs(sin6->sin6_port));
    }
    const int fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
  }

  std::shared_ptr<Pool> pool_;
  HandlePair h_;
  bool added_ = false;
  const bool debug_;
  const bool follow_;
  std::string method_;
  std::string url_;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE];
  const std::atomic<bool>* cancel_ = nullptr;
  std::string dialed_;

  // Request body.
  std::string body_;
  bool posts_ = false;
  Reader* body_stream_ = nullptr;
  int64_t body_left_ = -1;
  std::exception_ptr read_error_;

  // Response body buffer: bytes [rpos_, wpos_) are unread.
  std::unique_ptr<uint8_t[]> buf_;
  size_t buf_cap_ = 0;
  size_t rpos_ = 0, wpos_ = 0;
  bool paused_ = false;
  // While read() waits in step() with nothing buffered: the caller's
  // buffer, which on_write fills first.
  uint8_t* direct_ = nullptr;
  size_t direct_cap_ = 0, direct_len_ = 0;
  bool done_ = false;
  CURLcode result_ = CURLE_OK;

  // Response headers.
  Response resp_;
  long status_ = 0;
  std::string version_;
  bool has_location_ = false;
  bool final_headers_ = false;
  bool headers_fixed_ = false;
  size_t header_bytes_ = 0;
  bool headers_too_large_ = false;
};

}  // namespace

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (ascii_iequals(k, name)) return v;
  return "";
}

std::vector<std::string> Response::header_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    if (ascii_iequals(k, name)) out.push_back(v);
  return out;
}

struct HttpClient::Impl {
  HttpClientOptions opts;
  std::shared_ptr<Pool> pool;
};

HttpClient::HttpClient(HttpClientOptions opts)
    : impl_(std::make_unique<Impl>(Impl{std::move(opts), std::make_shared<Pool>()})) {}

HttpClient::~HttpClient() = default;

std::unique_ptr<ResponseStream> HttpClient::open(const Request& req) {
  auto s = std::make_unique<CurlStream>(impl_->pool, impl_->opts, req);
  s->start();
  return s;
}

Response HttpClient::fetch(const Request& req, std::string* body, size_t max_body) {
  std::unique_ptr<ResponseStream> s = open(req);
  const std::string too_big = "exceeded maximum allowed size of " + std::to_string(max_body) + " bytes";
  if (body) body->clear();
  if (!ascii_iequals(req.method, "HEAD")) {
    // Refuse up front what is announced too large instead of reading it.
    const std::string cl = s->response().header("content-length");
    if (!cl.empty() && cl.size() <= 19 && cl.find_first_not_of("0123456789") == std::string::npos &&
        std::stoull(cl) > max_body)
      throw Error(too_big);
  }
  std::vector<uint8_t> chunk(64 * 1024);
  size_t total = 0;
  for (;;) {
    size_t want = chunk.size();
    if (max_body - total < want) want = max_body - total + 1;  // one more tells "at" from "over"
    const size_t got = s->read(chunk.data(), want);
    if (got == 0) break;
    total += got;
    if (total > max_body) throw Error(too_big);
    if (body) body->append(reinterpret_cast<const char*>(chunk.data()), got);
  }
  return s->response();
}

}  // namespace ferry::net
