// RegistryClient against a scripted server: the first call going out
// alongside the ping, and when its answer may be kept.
#include "net/registry_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "net/test_http_server.h"
#include "util/error.h"

namespace ferry::net {
namespace {

using test_server::Conn;
using test_server::response;
using test_server::SrvRequest;
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

// An anonymous registry answering its ping slowly: the manifest request is
// in before the ping's answer, is sent once, and its answer is the result.
TEST(RegistryClientEarlyCall, ManifestGoesOutAlongsidePing) {
  std::atomic<bool> ping_answered{false}, manifest_before_ping{false};
  TestServer srv([&](const SrvRequest& req, Conn& c) {
    if (req.target == "/v2/") {
      std::this_thread::sleep_for(milliseconds(300));
      ping_answered = true;
      c.send(response(200, {{"Content-Type", "application/json"}}, "{}"));
    } else {
      manifest_before_ping = !ping_answered;
      c.send(response(200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, "M"));
    }
  });
  HttpClient http;
  RegistryClient client(http, plain_config(srv.port()));
  std::string body;
  const Response r = client.fetch(manifest_call(), &body, kMaxManifestBodySize);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "M");
  EXPECT_TRUE(manifest_before_ping);
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
  std::atomic<bool> ping_answered{false}, manifest_before_ping{false};
  TestServer srv([&](const SrvRequest& req, Conn& c) {
    if (req.target == "/v2/") {
      std::this_thread::sleep_for(milliseconds(100));
      ping_answered = true;
      c.send(response(200, {}, "{}"));
    } else {
      manifest_before_ping = manifest_before_ping || !ping_answered;
      c.send(response(200, {}, "M"));
    }
  });
  HttpClient http;
  RegistryClientConfig cfg = plain_config(srv.port());
  cfg.credentials = Credentials{};
  cfg.credentials->username = "u";
  cfg.credentials->password = "p";
  RegistryClient client(http, cfg);
  std::string body;
  EXPECT_EQ(client.fetch(manifest_call(), &body, kMaxManifestBodySize).status, 200);
  EXPECT_FALSE(manifest_before_ping);
  EXPECT_EQ(count(srv.requests(), "GET", "/v2/r/manifests/latest"), 1);
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

}  // namespace
}  // namespace ferry::net
