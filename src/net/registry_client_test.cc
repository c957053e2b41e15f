// RegistryClient against a scripted server: the first call going out
// alongside the ping, and when its answer may be kept.
#include "net/registry_client.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "net/test_http_server.h"
#include "util/error.h"

namespace ferry::net {
namespace {

using test_server::Conn;
using test_server::response;
using test_server::SrvRequest;
using test_server::TestCerts;
using test_server::TestServer;

using std::chrono::milliseconds;

RegistryClientConfig plain_config(int port) {
  RegistryClientConfig cfg;
  cfg.registry = cfg.api_host = "127.0.0.1:" + std::to_string(port);
  cfg.repository = "r";
  cfg.actions = "pull";
  cfg.tls.verify = false;  // the test server speaks plain HTTP
  return cfg;
}

RegistryClient::Call manifest_call() {
  RegistryClient::Call call;
  call.target = "/v2/r/manifests/latest";
  call.headers.emplace_back("Accept", "application/vnd.oci.image.manifest.v1+json");
  return call;
}

int count(const std::vector<SrvRequest>& reqs, const std::string& method, const std::string& target) {
  int n = 0;
  for (const SrvRequest& r : reqs) n += r.method == method && r.target == target;
  return n;
}

// An anonymous registry that answers its ping after `delay` and the
// manifest ("M") at once, noting whether a manifest request came in before
// the ping was answered.
struct SlowPingRegistry {
  explicit SlowPingRegistry(milliseconds delay)
      : srv([this, delay](const SrvRequest& req, Conn& c) {
          if (req.target == "/v2/") {
            std::this_thread::sleep_for(delay);
            ping_answered = true;
            c.send(response(200, {{"Content-Type", "application/json"}}, "{}"));
          } else {
            if (!ping_answered) manifest_before_ping = true;
            c.send(response(200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, "M"));
          }
        }) {}
  std::atomic<bool> ping_answered{false}, manifest_before_ping{false};  // before srv: its thread uses them
  TestServer srv;
};

// An anonymous registry answering its ping slowly: the manifest request is
// in before the ping's answer, is sent once, and its answer is the result.
TEST(RegistryClientEarlyCall, ManifestGoesOutAlongsidePing) {
  SlowPingRegistry reg(milliseconds(300));
  TestServer& srv = reg.srv;
  HttpClient http;
  RegistryClient client(http, plain_config(srv.port()));
  std::string body;
  const Response r = client.fetch(manifest_call(), &body, kMaxManifestBodySize);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "M");
  EXPECT_TRUE(reg.manifest_before_ping);
  const auto reqs = srv.requests();
  EXPECT_EQ(count(reqs, "GET", "/v2/r/manifests/latest"), 1);
  EXPECT_EQ(count(reqs, "GET", "/v2/"), 1);
  for (const SrvRequest& q : reqs) {
    EXPECT_FALSE(q.has("authorization")) << q.target;
    if (q.target != "/v2/") {
      EXPECT_EQ(q.header("accept"), "application/vnd.oci.image.manifest.v1+json");
    }
  }
  // Later calls wait for nothing and are not doubled.
  client.fetch(manifest_call(), &body, kMaxManifestBodySize);
  EXPECT_EQ(count(srv.requests(), "GET", "/v2/r/manifests/latest"), 2);
}

// A registry that wants a token: the early, unauthenticated answer (401) is
// dropped, the real call carries the token, and the early call's connection
// is read to its end and reused instead of being thrown away.
TEST(RegistryClientEarlyCall, DroppedWhenThePingAsksForAToken) {
  int port = 0;
  // Larger than what arrives with the headers, so that only reading the
  // early answer to its end keeps its connection.
  const std::string padding(256 * 1024, ' ');
  TestServer srv([&](const SrvRequest& req, Conn& c) {
    const std::string challenge =
        "Bearer realm=\"http://127.0.0.1:" + std::to_string(port) + "/token\",service=\"svc\"";
    if (req.target.rfind("/token", 0) == 0) {
      c.send(response(200, {{"Content-Type", "application/json"}}, "{\"token\":\"T\"}"));
    } else if (req.header("authorization") != "Bearer T") {
      c.send(response(401, {{"WWW-Authenticate", challenge}, {"Content-Type", "application/json"}},
                      "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}" +
                          padding));
    } else {
      c.send(response(200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, "M"));
    }
  });
  port = srv.port();
  HttpClient http;
  RegistryClient client(http, plain_config(port));
  std::string body;
  const Response r = client.fetch(manifest_call(), &body, kMaxManifestBodySize);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "M");
  int unauthenticated = 0, with_token = 0;
  for (const SrvRequest& q : srv.requests()) {
    if (q.target != "/v2/r/manifests/latest") continue;
    (q.header("authorization") == "Bearer T" ? with_token : unauthenticated)++;
  }
  EXPECT_EQ(unauthenticated, 1);
  EXPECT_EQ(with_token, 1);
  // The early answer was read to its end, so its connection went back to
  // the pool instead of being closed (the https probe is closed by the
  // server, like Go's, and not counted).
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(srv.hangups(), 0);
}

// With credentials configured the registry most likely wants them: no call
// before the ping.
TEST(RegistryClientEarlyCall, NotWithCredentials) {
  SlowPingRegistry reg(milliseconds(100));
  HttpClient http;
  RegistryClientConfig cfg = plain_config(reg.srv.port());
  cfg.credentials = Credentials{};
  cfg.credentials->username = "u";
  cfg.credentials->password = "p";
  RegistryClient client(http, cfg);
  std::string body;
  EXPECT_EQ(client.fetch(manifest_call(), &body, kMaxManifestBodySize).status, 200);
  EXPECT_FALSE(reg.manifest_before_ping);
  EXPECT_EQ(count(reg.srv.requests(), "GET", "/v2/r/manifests/latest"), 1);
}

// A failing ping is what the user is told about, whatever the early call got.
TEST(RegistryClientEarlyCall, PingFailureIsReported) {
  TestServer srv([&](const SrvRequest& req, Conn& c) {
    if (req.target == "/v2/")
      c.send(response(503, {{"Content-Type", "text/plain"}}, "down for maintenance"));
    else
      c.send(response(200, {}, "M"));
  });
  HttpClient http;
  RegistryClient client(http, plain_config(srv.port()));
  std::string body;
  try {
    client.fetch(manifest_call(), &body, kMaxManifestBodySize);
    FAIL() << "the ping's failure was not reported";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("pinging container registry 127.0.0.1:" + std::to_string(srv.port()) + ": ", 0),
              0u)
        << e.what();
  }
}


// An HTTPS registry whose port never answers plain HTTP (an SNI router
// waits for a TLS hello that never comes), reached with verification off:
// the plain-HTTP ping and the early call both go unanswered. Once https
// answers, both are cancelled rather than awaited (they used to hold the
// ping for the 60 s stall timeout), and the manifest comes over https.
TEST(RegistryClientEarlyCall, UnansweredPlainHttpIsCancelledOnceHttpsAnswers) {
  TestCerts certs;
  if (!certs.make()) GTEST_SKIP() << "openssl CLI unavailable";
  SSL_CTX* ctx = certs.server_ctx(false);
  std::atomic<int> plain_held{0}, plain_dropped{0};
  std::atomic<bool> manifest_over_tls{false};
  TestServer srv(
      [&](const SrvRequest&, Conn& c) {
        char first = 0;
        if (::recv(c.fd(), &first, 1, MSG_PEEK) != 1) return;
        if (first != 0x16) {  // plain HTTP: hold it, unanswered, until the client gives up
          plain_held++;
          char b[4096];
          while (!c.stopping()) {
            const ssize_t n = ::recv(c.fd(), b, sizeof b, MSG_DONTWAIT);
            if (n == 0) {
              plain_dropped++;
              return;
            }
            if (n < 0) c.wait_peer(50);
          }
          return;
        }
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, c.fd());
        if (SSL_accept(ssl) == 1) {
          std::string buf;
          char tmp[4096];
          for (;;) {
            const size_t end = buf.find("\r\n\r\n");
            if (end == std::string::npos) {
              const int n = SSL_read(ssl, tmp, sizeof tmp);
              if (n <= 0) break;
              buf.append(tmp, static_cast<size_t>(n));
              continue;
            }
            const std::string head = buf.substr(0, end);
            buf.erase(0, end + 4);
            const bool manifest = head.find(" /v2/r/manifests/latest ") != std::string::npos;
            manifest_over_tls = manifest_over_tls || manifest;
            const std::string out = response(200, {}, manifest ? "M" : "{}");
            SSL_write(ssl, out.data(), static_cast<int>(out.size()));
          }
        }
        SSL_free(ssl);
      },
      nullptr, /*raw=*/true);
  HttpClientOptions opts;
  opts.low_speed_time = std::chrono::seconds(0);  // no stall timeout: only a cancellation ends them
  HttpClient http(opts);
  RegistryClient client(http, plain_config(srv.port()));
  std::string body;
  Response r;
  auto fetched = std::async(std::launch::async, [&] { r = client.fetch(manifest_call(), &body, kMaxManifestBodySize); });
  // A guard against a hang, not a speed limit: the fetch takes well under
  // a second; awaiting the unanswered requests would take forever.
  if (fetched.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    client.cancel_pending();
    fetched.wait();
    FAIL() << "the unanswered plain-HTTP requests were awaited instead of cancelled";
  }
  fetched.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "M");
  EXPECT_TRUE(manifest_over_tls);
  EXPECT_EQ(plain_held.load(), 2);  // the plain ping and the early call
  // Both were given up by the client, not left open (they would be closed
  // only by the stall timeout, a minute later).
  while (plain_dropped.load() < 2) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(client.base_url(), "https://127.0.0.1:" + std::to_string(srv.port()));
}

}  // namespace
}  // namespace ferry::net
