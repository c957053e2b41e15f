#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "net/net_error.h"
#include "net/registry_client.h"
#include "net/registry_errors.h"
#include "net/www_authenticate.h"
#include "transports/docker/docker_destination.h"
#include "transports/docker/docker_reference.h"
#include "transports/docker/docker_source.h"

namespace ferry::docker {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

const DockerImageReference& as_docker(const ImageReference& r) {
  return dynamic_cast<const DockerImageReference&>(r);
}

TEST(DockerReference, ParsesAndDefaultsToLatest) {
  auto r = parse_reference("//busybox");
  EXPECT_EQ(r->transport_name(), "docker");
  EXPECT_EQ(r->string_within_transport(), "//busybox:latest");
  EXPECT_EQ(r->to_string(), "docker://busybox:latest");
  EXPECT_EQ(r->policy_identity(), "docker.io/library/busybox:latest");
  EXPECT_EQ(r->policy_namespaces(),
            (std::vector<std::string>{"docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"}));
  EXPECT_EQ(as_docker(*r).tag_or_digest(), "latest");
  EXPECT_EQ(r->docker_reference()->name(), "docker.io/library/busybox");
}

TEST(DockerReference, HostPortAndDigest) {
  const std::string d = "sha256:" + std::string(64, 'a');
  auto r = parse_reference("//127.0.0.1:5000/foo/bar@" + d);
  EXPECT_EQ(r->string_within_transport(), "//127.0.0.1:5000/foo/bar@" + d);
  EXPECT_EQ(r->policy_identity(), "127.0.0.1:5000/foo/bar@" + d);
  EXPECT_EQ(as_docker(*r).tag_or_digest(), d);
  EXPECT_EQ(as_docker(*r).ref().path, "foo/bar");
  EXPECT_EQ(as_docker(*r).ref().domain, "127.0.0.1:5000");
}

TEST(DockerReference, Errors) {
  EXPECT_EQ(error_of([] { parse_reference("busybox"); }), "docker: image reference busybox does not start with //");
  EXPECT_EQ(error_of([] { parse_reference("/busybox"); }), "docker: image reference /busybox does not start with //");
  EXPECT_EQ(error_of([] { parse_reference("//Busybox"); }),
            "invalid reference format: repository name must be lowercase");
  EXPECT_EQ(error_of([] { parse_reference("//busybox:a@sha256:" + std::string(64, 'a')); }),
            "Docker references with both a tag and digest are currently not supported");
  EXPECT_EQ(error_of([] { parse_reference("//"); }), "invalid reference format");
}

TEST(DockerReference, UnknownDigest) {
  auto r = parse_reference("//localhost:5000/x@@unknown-digest@@");
  EXPECT_TRUE(as_docker(*r).unknown_digest());
  EXPECT_EQ(r->string_within_transport(), "//localhost:5000/x@@unknown-digest@@");
  EXPECT_EQ(r->policy_identity(), "localhost:5000/x");
  EXPECT_EQ(error_of([] { parse_reference("//localhost:5000/x:t@@unknown-digest@@"); }),
            "docker: image reference \"localhost:5000/x:t@@unknown-digest@@\" has unknown digest set but it "
            "contains either a tag or digest");
  EXPECT_EQ(error_of([&] { r->delete_image(SystemContext{}); }),
            "Docker reference without a tag or digest cannot be deleted");
}

TEST(DockerReference, RepositoryReferenceForListTags) {
  EXPECT_EQ(parse_repository_reference("docker://busybox").name(), "docker.io/library/busybox");
  EXPECT_EQ(parse_repository_reference("docker://127.0.0.1:5000/a/b").name(), "127.0.0.1:5000/a/b");
  EXPECT_EQ(error_of([] { parse_repository_reference("docker://busybox:1"); }),
            "No tag or digest allowed in reference");
  EXPECT_EQ(error_of([] { parse_repository_reference("docker:busybox"); }),
            "docker: image reference docker:busybox does not start with docker://");
}

TEST(DockerReference, ApiHostAndPaths) {
  EXPECT_EQ(api_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(api_host("quay.io"), "quay.io");
  EXPECT_EQ(manifest_path("library/busybox", "latest"), "/v2/library/busybox/manifests/latest");
  EXPECT_EQ(blob_path("a/b", "sha256:00"), "/v2/a/b/blobs/sha256:00");
  EXPECT_EQ(tags_path("a"), "/v2/a/tags/list");
  EXPECT_EQ(upload_path("a"), "/v2/a/blobs/uploads/");
  EXPECT_EQ(mount_path("dst", "sha256:ab", "src/repo"), "/v2/dst/blobs/uploads/?from=src%2Frepo&mount=sha256%3Aab");
  EXPECT_EQ(manifest_accept_header(),
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, "
            "application/vnd.docker.distribution.manifest.v1+prettyjws, "
            "application/vnd.docker.distribution.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json");
}

TEST(RegistryClient, Scopes) {
  EXPECT_EQ((net::AuthScope{"repository", "a/b", "pull,push"}).to_string(), "repository:a/b:pull,push");
  auto s = net::parse_auth_scope("repository:127.0.0.1:5000/x:pull");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->resource_type, "repository");
  EXPECT_EQ(s->name, "127.0.0.1:5000/x");
  EXPECT_EQ(s->actions, "pull");
  EXPECT_FALSE(net::parse_auth_scope("repository:x"));
  EXPECT_FALSE(net::parse_auth_scope("repository::pull"));
  EXPECT_FALSE(net::parse_auth_scope(""));

  auto ch = net::parse_www_authenticate(
      {R"(Bearer realm="https://auth/token",service="reg",scope="repository:foo:pull,push",error="insufficient_scope")"});
  auto need = net::insufficient_scope(ch);
  ASSERT_TRUE(need);
  EXPECT_EQ(need->to_string(), "repository:foo:pull,push");
  EXPECT_FALSE(net::insufficient_scope(net::parse_www_authenticate({R"(Bearer realm="x",scope="repository:a:pull")"})));
}

TEST(RegistryClient, TokenRequestUrl) {
  std::vector<net::AuthScope> scopes = {{"repository", "foo/bar", "pull,push"}, {"repository", "src", "pull"}};
  EXPECT_EQ(net::token_request_url("http://127.0.0.1:9/token", "reg", "alice", scopes),
            "http://127.0.0.1:9/token?account=alice&scope=repository%3Afoo%2Fbar%3Apull%2Cpush&"
            "scope=repository%3Asrc%3Apull&service=reg");
  // Anonymous: no account; realm query kept and merged in key order.
  EXPECT_EQ(net::token_request_url("https://a/t?z=1&b=x+y", "", "", {{"repository", "r", "pull"}}),
            "https://a/t?b=x+y&scope=repository%3Ar%3Apull&z=1");
  EXPECT_EQ(net::token_request_url("https://a/t", "", "", {{"repository", "", "pull"}}), "https://a/t");
  EXPECT_THROW(net::token_request_url("ftp://a/t", "", "", {}), Error);
  EXPECT_THROW(net::token_request_url("/token", "", "", {}), Error);
}

TEST(RegistryClient, OAuth2Form) {
  EXPECT_EQ(net::oauth2_refresh_form("tok en", "svc", {{"repository", "a", "pull"}}),
            "client_id=containers%2Fimage&grant_type=refresh_token&refresh_token=tok+en&"
            "scope=repository%3Aa%3Apull&service=svc");
}

TEST(RegistryClient, QueryHelpers) {
  EXPECT_EQ(net::query_escape("a b/c:d~e_f.g-h&=%"), "a+b%2Fc%3Ad~e_f.g-h%26%3D%25");
  auto q = net::parse_query("a=1&b=x+y&c=%2F%zz&&d");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[1].second, "x y");
  EXPECT_EQ(q[2].second, "/%zz");
  EXPECT_EQ(q[3].first, "d");
  EXPECT_EQ(net::encode_query({{"b", "2"}, {"a", "1"}, {"b", "1"}}), "a=1&b=2&b=1");
}

TEST(RegistryClient, RetryAfter) {
  using namespace std::chrono;
  auto now = system_clock::from_time_t(1700000000);  // 2023-11-14T22:13:20Z
  const milliseconds fb{2000};
  EXPECT_EQ(net::retry_after_delay("", fb, now), fb);
  EXPECT_EQ(net::retry_after_delay("7", fb, now), seconds(7));
  EXPECT_EQ(net::retry_after_delay(" 3 ", fb, now), seconds(3));
  EXPECT_EQ(net::retry_after_delay("-5", fb, now), milliseconds(0));
  EXPECT_EQ(net::retry_after_delay("soon", fb, now), fb);
  EXPECT_EQ(net::retry_after_delay("99999999999999999999999", fb, now), fb);
  EXPECT_EQ(net::retry_after_delay("Tue, 14 Nov 2023 22:13:30 GMT", fb, now), seconds(10));
  EXPECT_EQ(net::retry_after_delay("Tuesday, 14-Nov-23 22:13:25 GMT", fb, now), seconds(5));
  EXPECT_EQ(net::retry_after_delay("Tue Nov 14 22:13:21 2023", fb, now), seconds(1));
  // In the past: the fallback.
  EXPECT_EQ(net::retry_after_delay("Tue, 14 Nov 2023 22:00:00 GMT", fb, now), fb);
}

TEST(RegistryClient, BasicAuthAndOrigin) {
  EXPECT_EQ(net::basic_authorization("alice", "secret"), "Basic YWxpY2U6c2VjcmV0");
  EXPECT_EQ(net::basic_authorization("", ""), "Basic Og==");
  EXPECT_EQ(net::url_origin("https://Reg.Example:5000/v2/x?y"), "https://reg.example:5000");
  EXPECT_EQ(net::url_origin("http://u:p@h/x"), "http://h");
  EXPECT_EQ(net::url_origin("/v2/"), "");
  EXPECT_NE(net::url_origin("https://s3.example/upload"), net::url_origin("https://reg.example/v2/"));
}

TEST(DockerDestination, DigestQuery) {
  const std::string d = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(with_digest_query("http://r/v2/x/blobs/uploads/u1?_state=ab%3D%3D", d),
            "http://r/v2/x/blobs/uploads/u1?_state=ab%3D%3D&digest=sha256%3A" + std::string(64, 'b'));
  EXPECT_EQ(with_digest_query("http://r/up", d), "http://r/up?digest=sha256%3A" + std::string(64, 'b'));
  EXPECT_EQ(with_digest_query("http://r/up?digest=old&x=1", d), "http://r/up?x=1&digest=sha256%3A" + std::string(64, 'b'));
}

TEST(DockerDestination, ManifestTypeRejected) {
  auto f = [](long status, const char* body) { return net::classify_registry_failure(status, body); };
  EXPECT_TRUE(manifest_type_rejected(f(400, R"({"errors":[{"code":"MANIFEST_INVALID","message":"x"}]})")));
  EXPECT_TRUE(manifest_type_rejected(f(400, R"({"errors":[{"code":"TAG_INVALID"}]})")));
  EXPECT_TRUE(manifest_type_rejected(f(415, "unsupported")));
  EXPECT_TRUE(manifest_type_rejected(
      f(405, R"({"errors":[{"code":"UNSUPPORTED","message":"Invalid JSON syntax"}]})")));
  EXPECT_FALSE(manifest_type_rejected(f(405, R"({"errors":[{"code":"UNSUPPORTED","message":"no"}]})")));
  EXPECT_FALSE(manifest_type_rejected(f(400, R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN"}]})")));
  EXPECT_FALSE(manifest_type_rejected(f(401, "")));
}

TEST(DockerDestination, SupportedTypesInCImageOrder) {
  DockerImageReference ref(parse_docker_reference_for_transport("localhost:1/x"), false);
  // Constructing a destination does no network I/O (the ping is lazy).
  DockerDestination dst(ref, SystemContext{});
  EXPECT_EQ(dst.supported_manifest_mime_types(),
            (std::vector<std::string>{"application/vnd.oci.image.manifest.v1+json",
                                      "application/vnd.docker.distribution.manifest.v2+json",
                                      "application/vnd.oci.image.index.v1+json",
                                      "application/vnd.docker.distribution.manifest.list.v2+json",
                                      "application/vnd.docker.distribution.manifest.v1+prettyjws",
                                      "application/vnd.docker.distribution.manifest.v1+json"}));
  EXPECT_EQ(dst.desired_layer_compression(), LayerCompression::Compress);
  EXPECT_TRUE(dst.has_thread_safe_put_blob());
  EXPECT_EQ(dst.supports_signatures(), "Pushing signatures to a registry is not supported yet by ferry");
  EXPECT_FALSE(dst.try_reuse_blob(manifest::Descriptor{}));
}

TEST(DockerErrors, NotFoundMapping) {
  net::Response r;
  r.status = 404;
  std::string body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]})";
  try {
    throw_registry_failure("reading manifest x in 127.0.0.1:5000/foo", r, body, true);
  } catch (const NotFoundError& e) {
    EXPECT_STREQ(e.what(), "reading manifest x in 127.0.0.1:5000/foo: manifest unknown: manifest unknown");
    EXPECT_EQ(e.exit_code(), 2);
  }
  try {
    throw_registry_failure("fetching tags list", r, body, false);
  } catch (const NotFoundError&) {
    FAIL() << "not_found_is_2 was false";
  } catch (const net::RegistryError& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_EQ(e.code(), "MANIFEST_UNKNOWN");
  }
  r.status = 401;
  try {
    throw_registry_failure("reading manifest x in h/r", r, "", true);
  } catch (const NotFoundError&) {
    FAIL() << "401 is not 'not found'";
  } catch (const net::RegistryError& e) {
    EXPECT_STREQ(e.what(), "reading manifest x in h/r: unauthorized: authentication required");
  }
}

TEST(DockerErrors, TagListingDisallowed) {
  auto err = [](long status, const char* body) {
    return net::RegistryError("x", net::classify_registry_failure(status, body));
  };
  EXPECT_TRUE(tag_listing_disallowed(err(403, R"({"errors":[{"code":"DENIED","message":"no"}]})")));
  EXPECT_TRUE(tag_listing_disallowed(err(404, R"({"errors":[{"code":"NOT_FOUND","message":"404 page not found"}]})")));
  EXPECT_FALSE(tag_listing_disallowed(err(404, R"({"errors":[{"code":"NAME_UNKNOWN"}]})")));
  EXPECT_FALSE(tag_listing_disallowed(err(404, "404 page not found")));
  EXPECT_FALSE(tag_listing_disallowed(Error("plain")));
}

// A response body that serves `data` from `start`, failing with a
// retryable network error after `fail_after` bytes (-1: never).
class FakeStream : public net::ResponseStream {
 public:
  FakeStream(long status, std::string content_range, std::string data, int64_t fail_after)
      : data_(std::move(data)), fail_after_(fail_after) {
    resp_.status = status;
    if (!content_range.empty()) resp_.headers.emplace_back("content-range", content_range);
  }
  const net::Response& response() const override { return resp_; }
  size_t read(uint8_t* buf, size_t n) override {
    if (fail_after_ >= 0 && served_ >= fail_after_) throw net::NetworkError("connection reset by peer", true);
    size_t left = data_.size() - pos_;
    if (fail_after_ >= 0) left = std::min<size_t>(left, static_cast<size_t>(fail_after_ - served_));
    size_t k = std::min(n, left);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    served_ += static_cast<int64_t>(k);
    return k;
  }

 private:
  net::Response resp_;
  std::string data_;
  size_t pos_ = 0;
  int64_t served_ = 0;
  int64_t fail_after_;
};

std::string drain(Reader& r) {
  std::string out;
  uint8_t buf[65536];
  for (size_t n; (n = r.read(buf, sizeof buf)) > 0;) out.append(reinterpret_cast<char*>(buf), n);
  return out;
}

std::string blob_of(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + i / 251);
  return s;
}

TEST(DockerSource, ResumesAfterProgressWithRange) {
  const std::string blob = blob_of(3 << 20);
  std::vector<int64_t> offsets;
  ResumingBlobReader r(std::make_unique<FakeStream>(200, "", blob, 3 << 19), [&](int64_t off) {
    offsets.push_back(off);
    std::string range = "bytes " + std::to_string(off) + "-" + std::to_string(blob.size() - 1) + "/" +
                        std::to_string(blob.size());
    return std::make_unique<FakeStream>(206, range, blob.substr(static_cast<size_t>(off)), -1);
  });
  EXPECT_EQ(drain(r), blob);
  EXPECT_EQ(offsets, (std::vector<int64_t>{3 << 19}));
}

TEST(DockerSource, NoResumeWithoutProgressOrRangeSupport) {
  const std::string blob = blob_of(2 << 20);
  int calls = 0;
  auto reopen_ok = [&](int64_t off) {
    ++calls;
    return std::make_unique<FakeStream>(206, "bytes " + std::to_string(off) + "-2097151/2097152",
                                        blob.substr(static_cast<size_t>(off)), -1);
  };
  // Less than 1 MiB read: the failure stands.
  ResumingBlobReader early(std::make_unique<FakeStream>(200, "", blob, 1000), reopen_ok);
  EXPECT_THROW(drain(early), net::NetworkError);
  EXPECT_EQ(calls, 0);
  // The server ignores Range (200) or answers another range: the failure stands.
  ResumingBlobReader ignores(std::make_unique<FakeStream>(200, "", blob, 3 << 19), [&](int64_t) {
    return std::make_unique<FakeStream>(200, "", blob, -1);
  });
  EXPECT_THROW(drain(ignores), net::NetworkError);
  ResumingBlobReader wrong(std::make_unique<FakeStream>(200, "", blob, 3 << 19), [&](int64_t) {
    return std::make_unique<FakeStream>(206, "bytes 0-2097151/2097152", blob, -1);
  });
  EXPECT_THROW(drain(wrong), net::NetworkError);
  // A resumed stream that keeps failing without progress gives up.
  ResumingBlobReader flaky(std::make_unique<FakeStream>(200, "", blob, 3 << 19), [&](int64_t off) {
    ++calls;
    return std::make_unique<FakeStream>(206, "bytes " + std::to_string(off) + "-2097151/2097152",
                                        blob.substr(static_cast<size_t>(off)), 10);
  });
  EXPECT_THROW(drain(flaky), net::NetworkError);
  EXPECT_EQ(calls, 1);
}

TEST(DockerSource, ContentRange) {
  EXPECT_TRUE(content_range_starts_at("bytes 100-199/200", 100));
  EXPECT_TRUE(content_range_starts_at("bytes 100-199/*", 100));
  EXPECT_FALSE(content_range_starts_at("bytes 0-199/200", 100));
  EXPECT_FALSE(content_range_starts_at("bytes 100-199/150", 100));
  EXPECT_FALSE(content_range_starts_at("bytes 100-99/200", 100));
  EXPECT_FALSE(content_range_starts_at("bytes 100-199", 100));
  EXPECT_FALSE(content_range_starts_at("items 100-199/200", 100));
  EXPECT_FALSE(content_range_starts_at("bytes -1-199/200", -1));
  EXPECT_FALSE(content_range_starts_at("", 0));
}

}  // namespace
}  // namespace ferry::docker
