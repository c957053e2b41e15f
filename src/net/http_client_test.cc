#include "net/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "config/test_env.h"
#include "net/net_error.h"
#include "net/test_http_server.h"
#include "util/error.h"
#include "util/interrupt.h"

namespace ferry::net {
namespace {

using test_server::Conn;
using test_server::Handler;
using test_server::response;
using test_server::SrvRequest;
using test_server::TestServer;

// Deterministic bytes, so a body can be checked without keeping a copy.
uint8_t pattern(uint64_t i) { return static_cast<uint8_t>((i * 131) ^ (i >> 11) ^ (i >> 23)); }

std::string pattern_string(uint64_t offset, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>(pattern(offset + i));
  return s;
}

class PatternReader : public Reader {
 public:
  explicit PatternReader(uint64_t size, uint64_t throw_at = UINT64_MAX) : size_(size), throw_at_(throw_at) {}
  size_t read(uint8_t* buf, size_t n) override {
    if (pos_ >= throw_at_) throw Error("source blob read failed");
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, size_ - pos_));
    for (size_t i = 0; i < k; i++) buf[i] = pattern(pos_ + i);
    pos_ += k;
    return k;
  }

 private:
  uint64_t size_, throw_at_, pos_ = 0;
};

// Request has members without default initializers, which designated
// initializers would warn about; this mirror has them all.
struct Req {
  std::string method = "GET";
  std::string url;
  std::string body{};
  Reader* body_stream = nullptr;
  int64_t body_size = -1;
  int64_t range_start = -1;
  operator Request() const {
    Request r;
    r.method = method;
    r.url = url;
    r.body = body;
    r.body_stream = body_stream;
    r.body_size = body_size;
    r.range_start = range_start;
    return r;
  }
};

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Keeps a proxy configured in the test environment out of these tests.
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kProxyVars) {
      const char* val = std::getenv(v);
      saved_.emplace_back(v, val ? std::optional<std::string>(val) : std::nullopt);
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    for (const auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
  }
  static constexpr const char* kProxyVars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                               "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// ---------------------------------------------------------------------------

TEST_F(HttpClientTest, StatusHeadersAndBody) {
  TestServer srv([](const SrvRequest&, Conn& c) {
    c.send(response(404,
                    {{"Content-Type", "application/json"},
                     {"WWW-Authenticate", "Bearer realm=\"a\""},
                     {"Www-Authenticate", "Basic realm=\"b\""},
                     {"X-Fold", "one"}},
                    "{\"errors\":[]}"));
  });
  HttpClient client;
  std::string body;
  Response r = client.fetch(Req{.url = srv.url("/v2/x/manifests/latest")}, &body, 1 << 20);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(body, "{\"errors\":[]}");
  EXPECT_EQ(r.http_version, "1.1");
  EXPECT_EQ(r.effective_url, srv.url("/v2/x/manifests/latest"));
  EXPECT_EQ(r.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(r.header("x-missing"), "");
  EXPECT_EQ(r.header_values("www-authenticate"),
            (std::vector<std::string>{"Bearer realm=\"a\"", "Basic realm=\"b\""}));
  EXPECT_EQ(r.headers.front(), (std::pair<std::string, std::string>{"content-type", "application/json"}));

  // What was sent: exactly the caller's headers plus Host and User-Agent;
  // no curl defaults (Accept, Accept-Encoding, Expect).
  ASSERT_EQ(srv.requests().size(), 1u);
  SrvRequest got = srv.requests()[0];
  EXPECT_EQ(got.method, "GET");
  EXPECT_EQ(got.target, "/v2/x/manifests/latest");
  EXPECT_EQ(got.header("user-agent"), "ferry");
  EXPECT_FALSE(got.has("accept"));
  EXPECT_FALSE(got.has("accept-encoding"));
  EXPECT_FALSE(got.has("expect"));
}

TEST_F(HttpClientTest, RequestHeadersAndUserAgent) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "")); });
  HttpClient client({.user_agent = "ferry/0.1 test"});
  Request req = Req{.url = srv.url("/")};
  req.headers = {{"Accept", "application/vnd.oci.image.manifest.v1+json"},
                 {"Accept", "application/vnd.docker.distribution.manifest.v2+json"},
                 {"X-Empty", ""},
                 {"Authorization", "Bearer tok"}};
  client.fetch(req, nullptr, 0);
  SrvRequest got = srv.requests().at(0);
  EXPECT_EQ(got.header("user-agent"), "ferry/0.1 test");
  EXPECT_EQ(got.header("authorization"), "Bearer tok");
  EXPECT_TRUE(got.has("x-empty"));
  EXPECT_EQ(got.header("x-empty"), "");
  std::vector<std::string> accepts;
  for (const auto& [k, v] : got.headers)
    if (k == "accept") accepts.push_back(v);
  EXPECT_EQ(accepts, (std::vector<std::string>{"application/vnd.oci.image.manifest.v1+json",
                                               "application/vnd.docker.distribution.manifest.v2+json"}));
}

TEST_F(HttpClientTest, HeaderInjectionIsRefused) {
  HttpClient client;
  Request req = Req{.url = "http://127.0.0.1:1/"};
  req.headers = {{"Authorization", "Bearer x\r\nX-Evil: 1"}};
  try {
    client.fetch(req, nullptr, 0);
    FAIL();
  } catch (const NetworkError&) {
    FAIL() << "must be rejected before connecting";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "invalid value for HTTP header Authorization");  // value not echoed
  }
  req.headers = {{"Bad Name", "x"}};
  EXPECT_THROW(client.fetch(req, nullptr, 0), Error);
  EXPECT_THROW(client.fetch(Req{.method = "GE T", .url = "http://127.0.0.1:1/"}, nullptr, 0), Error);
  EXPECT_THROW(client.fetch(Req{.method = "GET", .url = "http://127.0.0.1:1/", .body = "x"}, nullptr, 0), Error);
}

TEST_F(HttpClientTest, InterimAndFoldedHeaders) {
  TestServer srv([](const SrvRequest&, Conn& c) {
    c.send("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
    c.send("HTTP/1.1 200 OK\r\nX-Fold: a\r\n   b\r\nContent-Length: 2\r\n\r\nok");
  });
  HttpClient client;
  std::string body;
  Response r = client.fetch(Req{.url = srv.url("/")}, &body, 100);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "ok");
  EXPECT_EQ(r.header("link"), "");  // only the final response's headers
  EXPECT_EQ(r.header("x-fold"), "a b");
}

TEST_F(HttpClientTest, ContentEncodingIsNotDecoded) {
  const std::string raw = "\x1f\x8b not really gzip";
  TestServer srv([&](const SrvRequest&, Conn& c) { c.send(response(200, {{"Content-Encoding", "gzip"}}, raw)); });
  HttpClient client;
  std::string body;
  client.fetch(Req{.url = srv.url("/blob")}, &body, 100);
  EXPECT_EQ(body, raw);
  EXPECT_FALSE(srv.requests().at(0).has("accept-encoding"));
}

TEST_F(HttpClientTest, Head) {
  TestServer srv([](const SrvRequest&, Conn& c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:ab\r\n\r\n");
  });
  HttpClient client;
  std::string body = "stale";
  Response r = client.fetch(Req{.method = "HEAD", .url = srv.url("/v2/x/blobs/sha256:ab")}, &body, 0);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "");
  EXPECT_EQ(r.header("content-length"), "1234");
  EXPECT_EQ(r.header("docker-content-digest"), "sha256:ab");
  auto s = client.open(Req{.method = "head", .url = srv.url("/again")});
  uint8_t b[16];
  EXPECT_EQ(s->read(b, sizeof b), 0u);
  EXPECT_EQ(srv.requests().at(1).method, "HEAD");
  EXPECT_EQ(srv.accepted(), 1);
}

TEST_F(HttpClientTest, Methods) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(201, {}, "")); });
  HttpClient client;
  client.fetch(Req{.method = "POST", .url = srv.url("/v2/x/blobs/uploads/")}, nullptr, 0);
  client.fetch(Req{.method = "PUT", .url = srv.url("/put"), .body = "{\"a\":1}"}, nullptr, 0);
  client.fetch(Req{.method = "DELETE", .url = srv.url("/del")}, nullptr, 0);
  Request form = Req{.method = "POST", .url = srv.url("/token"), .body = "grant_type=refresh_token"};
  form.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  client.fetch(form, nullptr, 0);
  client.fetch(Req{.method = "PUT", .url = srv.url("/empty-put")}, nullptr, 0);

  std::vector<SrvRequest> got = srv.requests();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].header("content-length"), "0");
  EXPECT_FALSE(got[0].has("content-type"));
  EXPECT_FALSE(got[0].has("transfer-encoding"));
  EXPECT_EQ(got[1].method, "PUT");
  EXPECT_EQ(got[1].header("content-length"), "7");
  EXPECT_EQ(got[1].body, "{\"a\":1}");
  EXPECT_EQ(got[2].method, "DELETE");
  EXPECT_FALSE(got[2].has("content-length"));
  EXPECT_EQ(got[2].body, "");
  EXPECT_EQ(got[3].method, "POST");
  EXPECT_EQ(got[3].header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(got[3].body, "grant_type=refresh_token");
  EXPECT_EQ(got[4].method, "PUT");
  EXPECT_EQ(got[4].header("content-length"), "0");
  EXPECT_EQ(srv.accepted(), 1);
}

TEST_F(HttpClientTest, UploadStreamSizedAndChunked) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(201, {{"Location", "/done"}}, "")); });
  HttpClient client;
  const uint64_t size = 3 * 1024 * 1024 + 17;
  {
    PatternReader src(size);
    Request req = Req{.method = "PUT", .url = srv.url("/sized"), .body_stream = &src, .body_size = static_cast<int64_t>(size)};
    EXPECT_EQ(client.fetch(req, nullptr, 0).status, 201);
  }
  {
    PatternReader src(size);
    Request req = Req{.method = "PATCH", .url = srv.url("/chunked"), .body_stream = &src};
    EXPECT_EQ(client.fetch(req, nullptr, 0).status, 201);
  }
  {
    PatternReader src(5);
    Request req = Req{.method = "POST", .url = srv.url("/post-stream"), .body_stream = &src, .body_size = 5};
    EXPECT_EQ(client.fetch(req, nullptr, 0).status, 201);
  }
  std::vector<SrvRequest> got = srv.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].header("content-length"), std::to_string(size));
  EXPECT_FALSE(got[0].has("transfer-encoding"));
  EXPECT_FALSE(got[0].has("expect"));
  EXPECT_TRUE(got[0].body == pattern_string(0, size));
  EXPECT_EQ(got[1].method, "PATCH");
  EXPECT_EQ(got[1].header("transfer-encoding"), "chunked");
  EXPECT_FALSE(got[1].has("content-length"));
  EXPECT_TRUE(got[1].body == pattern_string(0, size));
  EXPECT_EQ(got[2].method, "POST");
  EXPECT_EQ(got[2].header("content-length"), "5");
  EXPECT_FALSE(got[2].has("content-type"));
  EXPECT_EQ(got[2].body, pattern_string(0, 5));
}

TEST_F(HttpClientTest, UploadReaderErrorPropagates) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(201, {}, "")); });
  HttpClient client;
  PatternReader src(4 << 20, 1 << 20);
  Request req = Req{.method = "PUT", .url = srv.url("/x"), .body_stream = &src, .body_size = 4 << 20};
  try {
    client.fetch(req, nullptr, 0);
    FAIL();
  } catch (const NetworkError&) {
    FAIL() << "the reader's own error must come through";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "source blob read failed");
  }
  // Declared size longer than the stream: an error, not a hung upload.
  PatternReader short_src(50);
  Request req2 = Req{.method = "PUT", .url = srv.url("/y"), .body_stream = &short_src, .body_size = 100};
  try {
    client.fetch(req2, nullptr, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "request body ended 50 bytes short of its declared size");
  }
  // The client is still usable afterwards.
  EXPECT_EQ(client.fetch(Req{.url = srv.url("/ok")}, nullptr, 0).status, 201);
}

TEST_F(HttpClientTest, StreamsLargeBodyWithBoundedBuffering) {
  const uint64_t size = 50ull << 20;
  std::atomic<uint64_t> sent{0};
  TestServer srv([&](const SrvRequest&, Conn& c) {
    int small = 64 * 1024;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    if (!c.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n")) return;
    const size_t chunk = 64 * 1024;
    for (uint64_t off = 0; off < size; off += chunk) {
      if (!c.send(pattern_string(off, chunk))) return;
      sent = off + chunk;
    }
  });
  HttpClient client;
  auto s = client.open(Req{.url = srv.url("/v2/x/blobs/sha256:big")});
  EXPECT_EQ(s->response().status, 200);
  std::vector<uint8_t> buf(64 * 1024);
  uint64_t got = 0;
  uint64_t max_gap = 0;
  bool ok = true;
  const auto consume = [&](size_t n) {
    for (size_t i = 0; i < n && ok; i++) ok = buf[i] == pattern(got + i);
    got += n;
  };
  // Slow reader: the server must be held back, not buffered without bound.
  for (int i = 0; i < 40; i++) {
    size_t n = s->read(buf.data(), buf.size());
    ASSERT_GT(n, 0u);
    consume(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    max_gap = std::max(max_gap, sent.load() - got);
  }
  EXPECT_LT(max_gap, 12ull << 20) << "sent " << sent << " read " << got;
  EXPECT_LT(sent.load(), 20ull << 20);
  for (;;) {
    size_t n = s->read(buf.data(), buf.size());
    if (n == 0) break;
    consume(n);
  }
  EXPECT_EQ(got, size);
  EXPECT_TRUE(ok);
  EXPECT_EQ(s->read(buf.data(), buf.size()), 0u);
}

TEST_F(HttpClientTest, DestroyingStreamMidBodyAbortsCleanly) {
  TestServer srv([](const SrvRequest& r, Conn& c) {
    if (r.target == "/big") {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n");
      std::string chunk(64 * 1024, 'x');
      while (c.send(chunk)) {
      }
      c.close_after = true;
      return;
    }
    c.send(response(200, {}, "small"));
  });
  HttpClient client;
  {
    auto s = client.open(Req{.url = srv.url("/big")});
    uint8_t b[1000];
    EXPECT_EQ(s->read(b, sizeof b), 1000u);
  }
  std::string body;
  EXPECT_EQ(client.fetch(Req{.url = srv.url("/small")}, &body, 100).status, 200);
  EXPECT_EQ(body, "small");
  EXPECT_EQ(srv.accepted(), 2);  // the aborted connection was not reused
}

// A slot whose transfer failed goes back cold: the next request takes the
// slot that still holds an open connection (a ping race's failed HTTPS
// half used to hand the following request a slot without one).
TEST_F(HttpClientTest, FailedTransferDoesNotDisplaceAnOpenConnection) {
  TestServer a([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "ok")); });
  TestServer b([](const SrvRequest&, Conn& c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    c.close_after = true;
  });
  HttpClient client;
  auto to_a = client.open(Req{.url = a.url("/first")});
  auto to_b = client.open(Req{.url = b.url("/truncated")});
  uint8_t buf[256];
  while (to_a->read(buf, sizeof buf) > 0) {
  }
  to_a.reset();  // its slot goes back warm
  EXPECT_THROW(
      {
        while (to_b->read(buf, sizeof buf) > 0) {
        }
      },
      NetworkError);
  to_b.reset();  // returned last, but cold
  std::string body;
  EXPECT_EQ(client.fetch(Req{.url = a.url("/second")}, &body, 100).status, 200);
  EXPECT_EQ(a.accepted(), 1);
}

TEST_F(HttpClientTest, RedirectToOtherPortDropsAuthorization) {
  TestServer other([](const SrvRequest&, Conn& c) { c.send(response(200, {{"X-Where", "other"}}, "blob")); });
  TestServer srv([&](const SrvRequest& r, Conn& c) {
    if (r.target == "/v2/x/blobs/sha256:1")
      c.send(response(307, {{"Location", other.url("/storage/1?sig=abc")}}, "redirect body"));
    else if (r.target == "/same")
      c.send(response(302, {{"Location", "/final"}}, ""));
    else if (r.target == "/byname")
      c.send(response(302, {{"Location", "http://localhost:" + std::to_string(srv.port()) + "/final"}}, ""));
    else
      c.send(response(200, {{"X-Where", "final"}}, "same"));
  });
  HttpClient client;
  Request req = Req{.url = srv.url("/v2/x/blobs/sha256:1")};
  req.headers = {{"Authorization", "Bearer secret-token"}, {"X-Other", "kept"}};
  std::string body;
  Response r = client.fetch(req, &body, 100);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "blob");
  EXPECT_EQ(r.effective_url, other.url("/storage/1?sig=abc"));
  EXPECT_EQ(r.header("x-where"), "other");
  EXPECT_EQ(r.header("location"), "");
  ASSERT_EQ(other.requests().size(), 1u);
  EXPECT_FALSE(other.requests()[0].has("authorization"));
  EXPECT_EQ(other.requests()[0].header("x-other"), "kept");
  EXPECT_EQ(srv.requests().at(0).header("authorization"), "Bearer secret-token");

  // Same scheme, host and port: Authorization stays.
  req.url = srv.url("/same");
  r = client.fetch(req, &body, 100);
  EXPECT_EQ(body, "same");
  std::vector<SrvRequest> got = srv.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].target, "/final");
  EXPECT_EQ(got[2].header("authorization"), "Bearer secret-token");

  // Same port but another host name: dropped.
  req.url = srv.url("/byname");
  r = client.fetch(req, &body, 100);
  EXPECT_EQ(body, "same");
  got = srv.requests();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[4].target, "/final");
  EXPECT_FALSE(got[4].has("authorization"));

  // Not following: the redirect itself is the response.
  req.url = srv.url("/same");
  req.follow_redirects = false;
  r = client.fetch(req, &body, 100);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("location"), "/final");
}

TEST_F(HttpClientTest, TooManyRedirects) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(302, {{"Location", "/loop"}}, "")); });
  HttpClient client;
  try {
    client.fetch(Req{.url = srv.url("/loop")}, nullptr, 100);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_EQ(std::string(e.what()), "Get \"" + srv.url("/loop") + "\": stopped after 10 redirects");
  }
  EXPECT_EQ(srv.requests().size(), 11u);
}

TEST_F(HttpClientTest, RangeHeader) {
  TestServer srv([](const SrvRequest&, Conn& c) {
    c.send(response(206, {{"Content-Range", "bytes 100-104/105"}}, "hello"));
  });
  HttpClient client;
  std::string body;
  Response r = client.fetch(Req{.url = srv.url("/b"), .range_start = 100}, &body, 100);
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(srv.requests().at(0).header("range"), "bytes=100-");
  client.fetch(Req{.url = srv.url("/b"), .range_start = 0}, &body, 100);
  EXPECT_EQ(srv.requests().at(1).header("range"), "bytes=0-");
  client.fetch(Req{.url = srv.url("/b")}, &body, 100);
  EXPECT_FALSE(srv.requests().at(2).has("range"));
}

TEST_F(HttpClientTest, ConnectionReuse) {
  TestServer srv([](const SrvRequest& r, Conn& c) { c.send(response(200, {}, r.target)); });
  HttpClient client;
  for (int i = 0; i < 20; i++) {
    std::string body;
    client.fetch(Req{.url = srv.url("/r" + std::to_string(i))}, &body, 100);
    EXPECT_EQ(body, "/r" + std::to_string(i));
  }
  EXPECT_EQ(srv.accepted(), 1);
}

TEST_F(HttpClientTest, ParallelStreams) {
  TestServer srv([](const SrvRequest& r, Conn& c) { c.send(response(200, {}, pattern_string(0, 300000) + r.target)); });
  HttpClient client;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; i++) {
        std::string target = "/t" + std::to_string(t) + "/" + std::to_string(i);
        std::string body;
        try {
          client.fetch(Req{.url = srv.url(target)}, &body, 1 << 20);
        } catch (const std::exception&) {
          continue;
        }
        if (body == pattern_string(0, 300000) + target) good++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good, 40);
  EXPECT_LE(srv.accepted(), 4);
}

TEST_F(HttpClientTest, ConnectionRefused) {
  const std::string port = std::to_string(unused_port());
  HttpClient client;
  try {
    Request req = Req{.url = "http://user:hunter2@127.0.0.1:" + port + "/v2/?token=abc"};
    req.headers = {{"Authorization", "Basic c2VjcmV0"}};
    client.fetch(req, nullptr, 100);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_TRUE(e.retryable());
    EXPECT_EQ(std::string(e.what()),
              "Get \"http://127.0.0.1:" + port + "/v2/\": dial tcp 127.0.0.1:" + port + ": connect: connection refused");
  }
  try {
    client.open(Req{.method = "PUT", .url = "http://localhost:" + port + "/x"});
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_TRUE(e.retryable());
    // localhost may be tried as ::1 and 127.0.0.1; either is named.
    const std::string msg = e.what();
    EXPECT_TRUE(msg == "Put \"http://localhost:" + port + "/x\": dial tcp 127.0.0.1:" + port +
                           ": connect: connection refused" ||
                msg == "Put \"http://localhost:" + port + "/x\": dial tcp [::1]:" + port +
                           ": connect: connection refused")
        << msg;
  }
}

TEST_F(HttpClientTest, BadUrlsAreNotRetryable) {
  HttpClient client;
  try {
    client.fetch(Req{.url = "ftp://127.0.0.1/x"}, nullptr, 0);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_STREQ(e.what(), "Get \"ftp://127.0.0.1/x\": unsupported protocol scheme \"ftp\"");
  }
  try {
    client.fetch(Req{.url = "http://exa mple/"}, nullptr, 0);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_TRUE(std::string(e.what()).starts_with("Get \"http://exa mple/\": invalid URL")) << e.what();
  }
  try {
    client.fetch(Req{.url = "http://no-such-host.invalid/v2/"}, nullptr, 0);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_STREQ(e.what(), "Get \"http://no-such-host.invalid/v2/\": dial tcp: lookup no-such-host.invalid: no such host");
  }
}

TEST_F(HttpClientTest, OversizeBodyInFetch) {
  TestServer srv([](const SrvRequest& r, Conn& c) {
    std::string body(1000, 'a');
    if (r.target == "/chunked") {
      c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (int i = 0; i < 10; i++) c.send("64\r\n" + body.substr(0, 100) + "\r\n");
      c.send("0\r\n\r\n");
    } else {
      c.send(response(200, {}, body));
    }
  });
  HttpClient client;
  std::string body;
  EXPECT_EQ(client.fetch(Req{.url = srv.url("/cl")}, &body, 1000).status, 200);
  EXPECT_EQ(body.size(), 1000u);
  EXPECT_EQ(client.fetch(Req{.url = srv.url("/chunked")}, &body, 1000).status, 200);
  EXPECT_EQ(body, std::string(1000, 'a'));
  for (const char* path : {"/cl", "/chunked"}) {
    try {
      client.fetch(Req{.url = srv.url(path)}, &body, 999);
      FAIL() << path;
    } catch (const NetworkError&) {
      FAIL() << "not a network error";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "exceeded maximum allowed size of 999 bytes");
    }
  }
}

TEST_F(HttpClientTest, ServerClosingMidBodyIsAnError) {
  TestServer srv([](const SrvRequest& r, Conn& c) {
    if (r.target == "/cl") {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + std::string(300000, 'x'));
    } else {
      c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      c.send("10000\r\n" + std::string(0x10000, 'y') + "\r\n10000\r\nshort");
    }
    c.close_after = true;
  });
  HttpClient client;
  for (const char* path : {"/cl", "/chunked"}) {
    auto s = client.open(Req{.url = srv.url(path)});
    EXPECT_EQ(s->response().status, 200);
    std::vector<uint8_t> buf(65536);
    uint64_t total = 0;
    try {
      for (;;) {
        size_t n = s->read(buf.data(), buf.size());
        if (n == 0) break;
        total += n;
      }
      FAIL() << path << ": silent EOF after " << total << " bytes";
    } catch (const NetworkError& e) {
      EXPECT_TRUE(e.retryable());
      if (std::string(path) == "/cl") {
        EXPECT_EQ(total, 300000u);
        EXPECT_STREQ(e.what(), "unexpected EOF");
      }
    }
    // Reading again keeps failing rather than reporting a clean end.
    EXPECT_THROW(s->read(buf.data(), buf.size()), NetworkError);
  }
  EXPECT_THROW(client.fetch(Req{.url = srv.url("/cl")}, nullptr, 1 << 20), NetworkError);
}

TEST_F(HttpClientTest, EmptyReplyIsRetryableEof) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.close_after = true; });
  HttpClient client;
  try {
    client.fetch(Req{.url = srv.url("/v2/")}, nullptr, 100);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_TRUE(e.retryable());
    EXPECT_EQ(std::string(e.what()), "Get \"" + srv.url("/v2/") + "\": EOF");
  }
}

TEST_F(HttpClientTest, StalledTransferTimesOut) {
  TestServer srv([](const SrvRequest&, Conn& c) {
    // No body byte at all: curl averages speed over 5 s, so early bytes
    // would push the timeout back by that much.
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    c.wait_peer(10000);
    c.close_after = true;
  });
  HttpClient client({.low_speed_time = std::chrono::seconds(1)});
  auto s = client.open(Req{.url = srv.url("/slow")});
  uint8_t buf[100];
  auto t0 = std::chrono::steady_clock::now();
  try {
    s->read(buf, sizeof buf);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_TRUE(e.retryable());
    EXPECT_TRUE(std::string(e.what()).starts_with("read tcp 127.0.0.1:" + std::to_string(srv.port()) + ": i/o timeout"))
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(HttpClientTest, CancelledRequestGivesUp) {
  // The server never answers; only the flag can end the request before the
  // server hangs up after 10 s (which would be a different error).
  TestServer srv([](const SrvRequest&, Conn& c) {
    c.wait_peer(10000);
    c.close_after = true;
  });
  HttpClient client;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  Request req = Req{.url = srv.url("/v2/")};
  req.cancel = &cancel;
  try {
    client.open(req);
    ADD_FAILURE() << "no error";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("request cancelled"), std::string::npos) << e.what();
  }
  canceller.join();
}

TEST_F(HttpClientTest, AStopEndsAStalledRequest) {
  // The server sends half a body and then nothing; a stop (Ctrl-C) must end
  // the read with Interrupted, not wait for the server or a timeout.
  TestServer srv([](const SrvRequest&, Conn& c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 'x'));
    c.wait_peer(20000);
    c.close_after = true;
  });
  interrupt::reset_for_test();
  struct ResetAfter {
    ~ResetAfter() { interrupt::reset_for_test(); }
  } reset_after;  // the flag is process-wide: later tests must not see it
  HttpClient client;
  auto s = client.open(Req{.url = srv.url("/v2/blob")});
  uint8_t buf[4096];
  size_t got = 0;
  while (got < 500) got += s->read(buf, sizeof buf);
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    interrupt::request_deadline();
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(s->read(buf, sizeof buf), interrupt::Interrupted);
  // Hang guard only: without the stop the read waits out the server's 20 s.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
  stopper.join();
  // New requests fail at once too.
  EXPECT_THROW(client.open(Req{.url = srv.url("/v2/")}), interrupt::Interrupted);
}

TEST_F(HttpClientTest, HugeResponseHeadersAreRefused) {
  TestServer srv([](const SrvRequest&, Conn& c) {
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 20000; i++) head += "X-Filler-" + std::to_string(i) + ": " + std::string(80, 'f') + "\r\n";
    c.send(head + "Content-Length: 0\r\n\r\n");
    c.close_after = true;
  });
  HttpClient client;
  try {
    client.fetch(Req{.url = srv.url("/")}, nullptr, 100);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_EQ(std::string(e.what()), "Get \"" + srv.url("/") + "\": server response headers exceeded 262144 bytes");
  }
}

TEST_F(HttpClientTest, DebugLogHasNoCredentials) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "")); });
  HttpClient client({.debug = true});
  Request req = Req{.url = "http://bob:pa55@127.0.0.1:" + std::to_string(srv.port()) + "/v2/x?sig=s3cr3t"};
  req.headers = {{"Authorization", "Bearer t0ken"}};
  ::testing::internal::CaptureStderr();
  client.fetch(req, nullptr, 0);
  std::string log = ::testing::internal::GetCapturedStderr();
  const std::string u = "http://127.0.0.1:" + std::to_string(srv.port()) + "/v2/x";
  EXPECT_EQ(log, "DEBU[0000] GET " + u + "\nDEBU[0000] GET " + u + ": status 200\n");
  EXPECT_EQ(srv.requests().at(0).header("authorization"), "Bearer t0ken");
}

TEST_F(HttpClientTest, UppercaseHttpProxyAndNoProxy) {
  TestServer proxy([](const SrvRequest& r, Conn& c) { c.send(response(200, {}, "via proxy " + r.target)); });
  TestServer direct([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "direct")); });
  ::setenv("HTTP_PROXY", ("http://127.0.0.1:" + std::to_string(proxy.port())).c_str(), 1);
  HttpClient client;
  std::string body;
  client.fetch(Req{.url = "http://registry.invalid/v2/"}, &body, 100);
  EXPECT_EQ(body, "via proxy http://registry.invalid/v2/");
  ::setenv("NO_PROXY", "127.0.0.1", 1);
  client.fetch(Req{.url = direct.url("/")}, &body, 100);
  EXPECT_EQ(body, "direct");
}

// --------------------------------------------------------------------------
// TLS, with a CA and certificates made by the openssl CLI.

class TlsFixture : public HttpClientTest {
 protected:
  void SetUp() override {
    HttpClientTest::SetUp();
    if (!certs_.make()) GTEST_SKIP() << "openssl CLI unavailable";
    dir_ = certs_.dir();
  }
  SSL_CTX* server_ctx(bool require_client_cert) { return certs_.server_ctx(require_client_cert); }
  test_server::TestCerts certs_;
  std::string dir_;
};

TEST_F(TlsFixture, ExtraCaFilesAndVerification) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "secure")); }, server_ctx(false));
  HttpClient client;
  std::string body;
  Request req = Req{.url = srv.url("/v2/")};
  req.tls.ca_files = {dir_ + "/other.crt", dir_ + "/ca.crt"};
  Response r = client.fetch(req, &body, 100);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "secure");

  // Without the CA the same host fails, even though a verified connection
  // and TLS session to it are cached in this client.
  Request plain = Req{.url = srv.url("/v2/")};
  try {
    client.fetch(plain, &body, 100);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_EQ(std::string(e.what()), "Get \"" + srv.url("/v2/") +
                                         "\": tls: failed to verify certificate: x509: certificate signed by "
                                         "unknown authority");
  }
  Request wrong_ca = Req{.url = srv.url("/v2/")};
  wrong_ca.tls.ca_files = {dir_ + "/other.crt"};
  EXPECT_THROW(client.fetch(wrong_ca, &body, 100), NetworkError);

  Request insecure = Req{.url = srv.url("/v2/")};
  insecure.tls.verify = false;
  EXPECT_EQ(client.fetch(insecure, &body, 100).status, 200);

  Request missing = Req{.url = srv.url("/v2/")};
  missing.tls.ca_files = {dir_ + "/nope.crt"};
  try {
    client.fetch(missing, &body, 100);
    FAIL();
  } catch (const NetworkError&) {
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/nope.crt"), std::string::npos) << e.what();
  }
}

// The system bundle is read when the first connection needs it, and not
// again: later connections, also those of other clients, verify against the
// same store. (libcurl left to itself parses the file for every connection:
// ~1 MiB and ~5 ms each with Debian's bundle.)
TEST_F(TlsFixture, SystemBundleIsReadOncePerProcess) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "secure")); }, server_ctx(false));
  const std::string bundle = dir_ + "/bundle.pem";
  std::filesystem::copy_file(dir_ + "/ca.crt", bundle);
  ScopedEnv env;
  env.set("SSL_CERT_FILE", bundle);
  std::string body;
  HttpClient first;
  EXPECT_EQ(first.fetch(Req{.url = srv.url("/v2/")}, &body, 100).status, 200);
  std::filesystem::remove(bundle);
  // A client of its own: a new connection, and no TLS session to resume.
  HttpClient second;
  EXPECT_EQ(second.fetch(Req{.url = srv.url("/v2/")}, &body, 100).status, 200);
  EXPECT_EQ(body, "secure");
  EXPECT_EQ(srv.accepted(), 2);
}

TEST_F(TlsFixture, ClientCertificate) {
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "mtls")); }, server_ctx(true));
  HttpClient client;
  std::string body;
  Request req = Req{.url = srv.url("/v2/")};
  req.tls.ca_files = {dir_ + "/ca.crt"};
  req.tls.client_cert_file = dir_ + "/client.cert";
  req.tls.client_key_file = dir_ + "/client.key";
  EXPECT_EQ(client.fetch(req, &body, 100).status, 200);
  EXPECT_EQ(body, "mtls");
  Request anon = Req{.url = srv.url("/v2/")};
  anon.tls.ca_files = {dir_ + "/ca.crt"};
  EXPECT_THROW(client.fetch(anon, &body, 100), NetworkError);
}

// A server that picks HTTP/2 by ALPN whether or not it was offered: ferry
// offers only http/1.1 and must not start HTTP/2 (the static build does not
// link nghttp2; curl_unlinked_deps.cc would stop the process).
TEST_F(TlsFixture, UnlinkedLibrariesServerForcingHttp2) {
  SSL_CTX* ctx = server_ctx(false);
  SSL_CTX_set_alpn_select_cb(
      ctx,
      [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char*, unsigned int, void*) {
        static const unsigned char h2[] = {'h', '2'};
        *out = h2;
        *outlen = 2;
        return SSL_TLSEXT_ERR_OK;
      },
      nullptr);
  TestServer srv([](const SrvRequest&, Conn& c) { c.send(response(200, {}, "one-one")); }, ctx);
  HttpClient client;
  std::string body;
  Request req = Req{.url = srv.url("/v2/")};
  req.tls.ca_files = {dir_ + "/ca.crt"};
  try {
    Response r = client.fetch(req, &body, 100);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body, "one-one");
  } catch (const NetworkError&) {
    // Refusing the handshake is as good: HTTP/2 was not started.
  }
}

// What a hostile or odd HTTP server can send that would take libcurl into
// the libraries the static build leaves out (curl_unlinked_deps.cc): each
// must end in a plain answer or a NetworkError, never in one of them. (An
// unasked-for "101 Switching Protocols" to h2c is not here: curl 7.88 takes
// it for an interim response and waits for the real one, nghttp2 unused.)
TEST_F(HttpClientTest, UnlinkedLibrariesAreNotReachedByServers) {
  const std::string raw = "\x0b\x02\x80not brotli";
  TestServer srv([&](const SrvRequest& r, Conn& c) {
    if (r.target == "/br")  // brotli, never asked for
      c.send(response(200, {{"Content-Encoding", "br"}}, raw));
    else if (r.target == "/te")  // a transfer coding on top of chunked
      c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n" "5\r\nhello\r\n0\r\n\r\n");
    else if (r.target == "/idn")  // a host name that needs IDNA
      c.send(response(302, {{"Location", "http://b\xc3\xbc" "cher.invalid:" + std::to_string(srv.port()) + "/x"}}, ""));
    else if (r.target == "/ldap" || r.target == "/scp" || r.target == "/rtmp")
      c.send(response(302, {{"Location", r.target.substr(1) + "://127.0.0.1/x"}}, ""));
    else if (r.target == "/negotiate")
      c.send(response(401, {{"WWW-Authenticate", "Negotiate"}}, ""));
  });
  HttpClient client;
  std::string body;
  client.fetch(Req{.url = srv.url("/br")}, &body, 100);
  EXPECT_EQ(body, raw);
  try {
    client.fetch(Req{.url = srv.url("/te")}, &body, 100);
  } catch (const NetworkError&) {
  }
  EXPECT_THROW(client.fetch(Req{.url = srv.url("/idn")}, &body, 100), NetworkError);
  for (const char* scheme : {"/ldap", "/scp", "/rtmp"})
    EXPECT_THROW(client.fetch(Req{.url = srv.url(scheme)}, &body, 100), NetworkError) << scheme;
  EXPECT_EQ(client.fetch(Req{.url = srv.url("/negotiate")}, &body, 100).status, 401);
  // And the version query, which reaches into every one of them.
  EXPECT_NE(curl_version(), nullptr);
  EXPECT_NE(curl_version_info(CURLVERSION_NOW), nullptr);
}

TEST_F(HttpClientTest, HttpsToPlainHttpServer) {
  // Like Go's server: a TLS ClientHello gets a plain-text 400.
  TestServer srv(
      [](const SrvRequest&, Conn& c) {
        std::string hello;
        c.fill(hello);
        c.send("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
      },
      nullptr, true);
  HttpClient client;
  const std::string url = "https://127.0.0.1:" + std::to_string(srv.port()) + "/v2/";
  try {
    client.fetch(Req{.url = url}, nullptr, 100);
    FAIL();
  } catch (const NetworkError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_EQ(std::string(e.what()), "Get \"" + url + "\": http: server gave HTTP response to HTTPS client");
  }
}

}  // namespace
}  // namespace ferry::net
