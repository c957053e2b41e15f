#include "transports/docker/docker_source.h"

#include <charconv>

#include "cli/log.h"
#include "config/registries_conf.h"
#include "image/manifest/manifest.h"
#include "io/digest.h"
#include "net/net_error.h"
#include "util/error.h"

namespace ferry::docker {

namespace {

// c/image bodyReader: resume only after this much progress or time.
constexpr int64_t kResumeMinProgress = 1 << 20;
constexpr std::chrono::seconds kResumeMinInterval{60};

// mime.ParseMediaType's type, lowercased, without parameters.
std::string simplify_content_type(std::string_view ct) {
  std::string_view t = ct.substr(0, ct.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool digest_matches(const std::string& bytes, const std::string& expected) {
  try {
    if (digest_algorithm(expected) == "sha256") return manifest::manifest_digest(bytes) == expected;
    return digest_like(expected, bytes) == expected;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

bool content_range_starts_at(std::string_view v, int64_t offset) {
  // "bytes FIRST-LAST/TOTAL" with TOTAL possibly "*".
  if (v.substr(0, 6) != "bytes ") return false;
  v.remove_prefix(6);
  int64_t first = -1, last = -1;
  auto [p1, e1] = std::from_chars(v.data(), v.data() + v.size(), first);
  if (e1 != std::errc() || p1 == v.data() + v.size() || *p1 != '-') return false;
  const char* rest = p1 + 1;
  auto [p2, e2] = std::from_chars(rest, v.data() + v.size(), last);
  if (e2 != std::errc() || p2 == v.data() + v.size() || *p2 != '/') return false;
  std::string_view total(p2 + 1, static_cast<size_t>(v.data() + v.size() - (p2 + 1)));
  if (total.empty()) return false;
  if (total != "*") {
    int64_t t = -1;
    auto [p3, e3] = std::from_chars(total.data(), total.data() + total.size(), t);
    if (e3 != std::errc() || p3 != total.data() + total.size() || t <= last) return false;
  }
  return first >= 0 && first == offset && last >= first;
}

ResumingBlobReader::ResumingBlobReader(std::unique_ptr<net::ResponseStream> first, Reopen reopen)
    : body_(std::move(first)), reopen_(std::move(reopen)), last_resume_time_(std::chrono::steady_clock::now()) {}

size_t ResumingBlobReader::read(uint8_t* buf, size_t n) {
  for (;;) {
    try {
      size_t got = body_->read(buf, n);
      offset_ += static_cast<int64_t>(got);
      return got;
    } catch (const net::NetworkError& e) {
      const auto now = std::chrono::steady_clock::now();
      const bool progressed = offset_ - last_resume_offset_ >= kResumeMinProgress ||
                              (offset_ > last_resume_offset_ && now - last_resume_time_ >= kResumeMinInterval);
      if (!e.retryable() || !progressed || !reopen_) throw;
      cli::log_debug("Reading blob body failed at offset " + std::to_string(offset_) + " (" + e.what() +
                     "), resuming");
      std::unique_ptr<net::ResponseStream> next;
      try {
        next = reopen_(offset_);
      } catch (const Error& e2) {
        cli::log_debug(std::string("Resuming the blob download failed: ") + e2.what());
        throw e;
      }
      const net::Response& r = next->response();
      if (r.status != 206 || !content_range_starts_at(r.header("content-range"), offset_)) {
        cli::log_debug("Server did not honour the range request (status " + std::to_string(r.status) + ")");
        throw e;
      }
      body_ = std::move(next);
      last_resume_offset_ = offset_;
      last_resume_time_ = now;
    }
  }
}

DockerSource::DockerSource(const DockerImageReference& ref, const SystemContext& ctx)
    : ref_(ref), ctx_(ctx), http_(make_http_client(ctx)), physical_(ref.ref()) {
  std::vector<PullSource> sources = RegistriesConf::load(ctx).pull_sources(ref.ref());
  struct Attempt {
    std::string ref;
    std::string error;
  };
  std::vector<Attempt> attempts;
  std::optional<Error> last_error;
  for (const PullSource& s : sources) {
    cli::log_debug("Trying to access \"" + s.ref.to_string() + "\"");
    try {
      auto client = make_client(*http_, ctx, s.ref, "pull", s.insecure);
      client_ = std::move(client);
      physical_ = s.ref;
      std::string tail = physical_.digest ? *physical_.digest : physical_.tag ? *physical_.tag : "latest";
      top_ = fetch_manifest(tail);
      if (physical_.digest && !digest_matches(top_.bytes, *physical_.digest))
        throw Error("Manifest does not match provided manifest digest " + *physical_.digest);
      return;
    } catch (const Error& e) {
      cli::log_debug("Accessing \"" + s.ref.to_string() + "\" failed: " + e.what());
      attempts.push_back({s.ref.to_string(), e.what()});
      last_error = e;
      if (sources.size() == 1) throw;
    }
  }
  if (attempts.empty()) throw Error("Internal error: no pull source for " + ref.ref().to_string());
  std::string extras;
  for (size_t i = 0; i + 1 < attempts.size(); ++i) {
    if (!extras.empty()) extras += "\n";
    extras += "[" + attempts[i].ref + ": " + attempts[i].error + "]";
  }
  throw Error("(Mirrors also failed: " + extras + "): " + attempts.back().ref + ": " + attempts.back().error,
              last_error->exit_code());
}

ManifestBytes DockerSource::fetch_manifest(const std::string& tag_or_digest) {
  net::RegistryClient::Call call;
  call.target = manifest_path(physical_.path, tag_or_digest);
  call.headers.emplace_back("Accept", manifest_accept_header());
  std::string body;
  net::Response r = client_->fetch(call, &body, net::kMaxManifestBodySize);
  if (r.status != 200)
    throw_registry_failure("reading manifest " + tag_or_digest + " in " + physical_.name(), r, body, true);
  ManifestBytes m;
  m.bytes = std::move(body);
  std::string ct = simplify_content_type(r.header("content-type"));
  // No Content-Type at all says nothing; guess from the bytes rather than
  // assume schema 1 as an empty type would.
  m.mime_type = ct.empty() ? manifest::guess_mime_type(m.bytes) : manifest::normalized_mime_type(ct);
  return m;
}

ManifestBytes DockerSource::get_manifest(const std::string& instance_digest) {
  if (instance_digest.empty()) return top_;
  validate_digest(instance_digest);
  ManifestBytes m = fetch_manifest(instance_digest);
  if (!digest_matches(m.bytes, instance_digest))
    throw Error("Manifest does not match provided manifest digest " + instance_digest);
  return m;
}

std::unique_ptr<Reader> DockerSource::get_external_blob(const manifest::Descriptor& blob, int64_t* size) {
  std::string errors;
  for (const std::string& url : blob.urls) {
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      errors += (errors.empty() ? "" : "; ") + std::string("unsupported URL scheme in ") + url;
      continue;
    }
    try {
      net::Request req;
      req.url = url;
      auto stream = http_->open(req);
      const net::Response& r = stream->response();
      if (r.status != 200) {
        errors += (errors.empty() ? "" : "; ") + std::string("error fetching external blob from \"") + url +
                  "\": " + std::to_string(r.status) + " " + std::string(net::http_status_text(r.status));
        continue;
      }
      std::string cl = r.header("content-length");
      *size = -1;
      if (!cl.empty()) {
        int64_t v = -1;
        auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), v);
        if (ec == std::errc() && p == cl.data() + cl.size()) *size = v;
      }
      return stream;
    } catch (const Error& e) {
      errors += (errors.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  throw Error("fetching external blob: " + errors);
}

std::unique_ptr<Reader> DockerSource::get_blob(const manifest::Descriptor& blob, int64_t* size) {
  if (!blob.urls.empty()) {
    try {
      return get_external_blob(blob, size);
    } catch (const Error& e) {
      cli::log_debug(std::string("Falling back to the registry for a foreign layer: ") + e.what());
    }
  }
  validate_digest(blob.digest);
  net::RegistryClient::Call call;
  call.target = blob_path(physical_.path, blob.digest);
  auto stream = client_->open(call);
  const net::Response& r = stream->response();
  if (r.status != 200) {
    std::string body = net::RegistryClient::read_error_body(*stream);
    throw_registry_failure("fetching blob", r, body);
  }
  *size = -1;
  std::string cl = r.header("content-length");
  if (!cl.empty()) {
    int64_t v = -1;
    auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), v);
    if (ec == std::errc() && p == cl.data() + cl.size() && v >= 0) *size = v;
  }
  net::RegistryClient* client = client_.get();
  ResumingBlobReader::Reopen reopen = [client, call](int64_t offset) {
    net::RegistryClient::Call again = call;
    again.range_start = offset;
    return client->open(again);
  };
  return std::make_unique<ResumingBlobReader>(std::move(stream), std::move(reopen));
}

}  // namespace ferry::docker
