#include "transports/docker/docker_destination.h"

#include <algorithm>
#include <charconv>

#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "net/link_header.h"
#include "util/error.h"
#include "util/log.h"

namespace ferry::docker {

namespace mt = manifest::media_type;

namespace {

// Counts what the upload consumed, so the stored size is known even when
// the stream's length was not.
class CountingReader : public Reader {
 public:
  explicit CountingReader(Reader& inner) : inner_(inner) {}
  size_t read(uint8_t* buf, size_t n) override {
    size_t got = inner_.read(buf, n);
    count_ += static_cast<int64_t>(got);
    return got;
  }
  int64_t count() const { return count_; }

 private:
  Reader& inner_;
  int64_t count_ = 0;
};

bool success_status(long s) { return s >= 200 && s <= 399; }

// Whether repo is a plain repository path on domain (no tag, digest or
// other host), as a mount's from= parameter must be.
bool is_repository_of(const std::string& domain, const std::string& repo) {
  if (repo.empty() || repo.size() > 255) return false;
  try {
    DockerReference r = parse_normalized_named(domain + "/" + repo);
    return r.domain == domain && r.path == repo && !r.tag && !r.digest;
  } catch (const Error&) {
    return false;
  }
}

// res.Location(): the header resolved against the URL that answered.
std::string location_of(const net::Response& r, const std::string& request_url) {
  std::string loc = r.header("location");
  if (loc.empty()) throw Error("determining upload URL: http: no Location header in response");
  const std::string& base = r.effective_url.empty() ? request_url : r.effective_url;
  return net::resolve_url(base, loc);
}

int64_t content_length(const net::Response& r) {
  std::string cl = r.header("content-length");
  int64_t v = -1;
  auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), v);
  if (cl.empty() || ec != std::errc() || p != cl.data() + cl.size() || v < 0) return -1;
  return v;
}

}  // namespace

bool manifest_type_rejected(const net::RegistryHttpFailure& f) {
  if (f.status == 415) return true;
  const std::string code = f.code();
  if (code == "MANIFEST_INVALID" || code == "TAG_INVALID") return true;
  // AWS ECR's answer to an OCI manifest without a top-level mediaType.
  if (code == "UNSUPPORTED") return f.text().find("Invalid JSON syntax") != std::string::npos;
  return false;
}

std::string with_digest_query(const std::string& location, const std::string& digest) {
  std::string base = location;
  std::string fragment;
  if (size_t hash = base.find('#'); hash != std::string::npos) {
    fragment = base.substr(hash);
    base.resize(hash);
  }
  std::string query;
  if (size_t q = base.find('?'); q != std::string::npos) {
    query = base.substr(q + 1);
    base.resize(q);
  }
  // Keep the registry's own parameters byte for byte (upload state tokens
  // are opaque); only drop an existing digest.
  std::string kept;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t amp = query.find('&', start);
    std::string part = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!part.empty() && part != "digest" && part.rfind("digest=", 0) != 0) kept += (kept.empty() ? "" : "&") + part;
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  kept += (kept.empty() ? "" : "&") + std::string("digest=") + net::query_escape(digest);
  return base + "?" + kept + fragment;
}

DockerDestination::DockerDestination(const DockerImageReference& ref, const SystemContext& ctx)
    : ref_(ref), ctx_(ctx), http_(make_http_client(ctx)) {
  client_ = make_client(*http_, ctx, ref.ref(), "pull,push");
  // The copy reads the source's manifest and config first; meanwhile the
  // destination's ping and push token are fetched, off the critical path.
  client_->warm_up();
}

std::vector<std::string> DockerDestination::supported_manifest_mime_types() const {
  return {mt::kOciManifest, mt::kDockerV2Schema2, mt::kOciIndex,
          mt::kDockerV2List, mt::kDockerV2Schema1Signed, mt::kDockerV2Schema1};
}

std::optional<int64_t> DockerDestination::blob_size(const std::string& digest) {
  net::RegistryClient::Call call;
  call.method = "HEAD";
  call.target = blob_path(ref_.ref().path, digest);
  std::string body;
  net::Response r = client_->fetch(call, &body, net::kMaxErrorBodySize);
  switch (r.status) {
    case 200:
      return content_length(r);
    case 404:
      return std::nullopt;
    default:
      throw_registry_failure("checking whether a blob " + digest + " exists in " + ref_.ref().name(), r, body);
  }
}

bool DockerDestination::mount(const std::string& digest, const std::string& from_repo) {
  net::RegistryClient::Call call;
  call.method = "POST";
  call.target = mount_path(ref_.ref().path, digest, from_repo);
  call.extra_scope = net::AuthScope{"repository", from_repo, "pull"};
  logging::log_debug("Trying to mount " + digest + " from " + from_repo + " to " + ref_.ref().name());
  try {
    std::string body;
    net::Response r = client_->fetch(call, &body, net::kMaxErrorBodySize);
    if (r.status == 201) return true;
    if (r.status == 202) {
      // The registry started an ordinary upload instead; cancel it and let
      // the caller upload.
      std::string loc = location_of(r, client_->url_for(call.target));
      net::RegistryClient::Call cancel;
      cancel.method = "DELETE";
      cancel.target = loc;
      cancel.extra_scope = call.extra_scope;
      std::string ignored;
      client_->fetch(cancel, &ignored, net::kMaxErrorBodySize);
      logging::log_debug("Mounting " + digest + " started an upload instead");
      return false;
    }
    logging::log_debug("Mounting " + digest + " failed: " + net::RegistryClient::failure_of(r, body).text());
  } catch (const Error& e) {
    logging::log_debug(std::string("Mounting ") + digest + " failed: " + e.what());
  }
  return false;
}

std::optional<manifest::Descriptor> DockerDestination::try_reuse_blob(const manifest::Descriptor& blob) {
  return try_reuse_blob_from(blob, {});
}

std::optional<manifest::Descriptor> DockerDestination::try_reuse_blob_from(
    const manifest::Descriptor& blob, const std::vector<std::string>& candidates) {
  if (blob.digest.empty()) return std::nullopt;
  validate_digest(blob.digest);
  auto found = [&](int64_t size) {
    manifest::Descriptor d;
    d.media_type = blob.media_type;
    d.digest = blob.digest;
    d.size = size >= 0 ? size : blob.size;
    return d;
  };
  if (auto size = blob_size(blob.digest)) return found(*size);

  // Same registry, other repositories: mount instead of uploading. The
  // candidates come from a cache file, so each must be a repository name
  // of this registry before it goes into a request.
  std::vector<std::string> from = candidates;
  const std::string& hint = ctx_.docker_mount_source;
  const std::string prefix = ref_.ref().domain + "/";
  if (hint.size() > prefix.size() && hint.compare(0, prefix.size(), prefix) == 0) from.push_back(hint.substr(prefix.size()));
  std::vector<std::string> tried;
  for (const std::string& repo : from) {
    if (tried.size() >= kMaxMountAttempts) break;
    if (repo == ref_.ref().path || std::find(tried.begin(), tried.end(), repo) != tried.end()) continue;
    if (!is_repository_of(ref_.ref().domain, repo)) {
      logging::log_debug("Ignoring mount candidate \"" + repo + "\" for " + blob.digest + ": not a repository name");
      continue;
    }
    tried.push_back(repo);
    if (mount(blob.digest, repo)) {
      if (auto size = blob_size(blob.digest)) return found(*size);
    }
  }
  return std::nullopt;
}

DockerDestination::~DockerDestination() {
  // Sessions still opening (a copy that failed between prepare and put)
  // must not hold the process: their requests are cancelled, then awaited.
  client_->cancel_pending();
  std::lock_guard<std::mutex> lock(sessions_mu_);
  for (auto& f : sessions_) f.wait();
}

std::string DockerDestination::open_upload_session() {
  const std::string& repo = ref_.ref().path;
  net::RegistryClient::Call start;
  start.method = "POST";
  start.target = upload_path(repo);
  std::string body;
  net::Response r = client_->fetch(start, &body, net::kMaxErrorBodySize);
  if (r.status != 202)
    throw_registry_failure("initiating layer upload to " + upload_path(repo) + " in " + ref_.ref().domain, r, body);
  return location_of(r, client_->url_for(start.target));
}

void DockerDestination::prepare_put_blob() {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.push_back(std::async(std::launch::async, [this] { return open_upload_session(); }));
}

manifest::Descriptor DockerDestination::put_blob(Reader& stream, const manifest::Descriptor& blob, bool is_config) {
  (void)is_config;
  std::optional<std::future<std::string>> prepared;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    if (!sessions_.empty()) {
      prepared.emplace(std::move(sessions_.front()));
      sessions_.pop_front();
    }
  }
  std::string location;
  if (prepared) {
    try {
      location = prepared->get();
    } catch (const Error& e) {
      // Opened ahead, it may have failed for a reason that has passed (an
      // expired token); the real error, if any, comes from a fresh POST.
      logging::log_debug(std::string("Upload session opened ahead failed: ") + e.what());
    }
  }
  if (location.empty()) location = open_upload_session();

  CountingReader counted(stream);
  std::optional<DigestingReader> digesting;
  Reader* body_reader = &counted;
  if (blob.digest.empty()) {
    digesting.emplace(counted);
    body_reader = &*digesting;
  } else {
    validate_digest(blob.digest);
  }

  std::string body;
  net::Response r;
  const bool monolithic = !blob.digest.empty() && blob.size >= 0;
  if (!monolithic) {
    net::RegistryClient::Call patch;
    patch.method = "PATCH";
    patch.target = location;
    patch.headers.emplace_back("Content-Type", "application/octet-stream");
    patch.body_stream = body_reader;
    r = client_->fetch(patch, &body, net::kMaxErrorBodySize);
    if (!success_status(r.status)) throw_registry_failure("uploading layer chunked", r, body);
    location = location_of(r, location);
  }

  manifest::Descriptor out;
  out.media_type = blob.media_type;
  out.digest = digesting ? digesting->digest() : blob.digest;

  // The PUT that completes the upload; for a blob of known digest and size
  // it carries the bytes itself, saving the PATCH's round trip.
  net::RegistryClient::Call put;
  put.method = "PUT";
  put.target = with_digest_query(location, out.digest);
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  if (monolithic) {
    put.body_stream = body_reader;
    put.body_size = blob.size;
  }
  r = client_->fetch(put, &body, net::kMaxErrorBodySize);
  out.size = counted.count();
  if (blob.size >= 0 && !blob.digest.empty() && out.size != blob.size)
    throw Error("uploading blob " + blob.digest + ": read " + std::to_string(out.size) + " bytes, expected " +
                std::to_string(blob.size));
  if (r.status != 201) {
    // The URL carries only the registry's upload state, never credentials.
    throw_registry_failure("uploading layer to " + put.target, r, body);
  }
  logging::log_debug("Upload of layer " + out.digest + " complete");
  return out;
}

void DockerDestination::put_manifest(const std::string& bytes, const std::string& mime_type,
                                     const std::string& instance_digest) {
  std::string tail;
  if (!instance_digest.empty()) {
    validate_digest(instance_digest);
    std::string actual = manifest::manifest_digest(bytes);
    if (actual != instance_digest)
      throw Error("Attempted to PutManifest using an explicitly specified digest (\"" + instance_digest +
                  "\") that didn't match the manifest's digest (\"" + actual + "\")");
    tail = instance_digest;
  } else if (ref_.unknown_digest()) {
    tail = manifest::manifest_digest(bytes);
  } else {
    tail = ref_.tag_or_digest();
  }

  std::string content_type = mime_type.empty() ? manifest::guess_mime_type(bytes) : mime_type;
  net::RegistryClient::Call put;
  put.method = "PUT";
  put.target = manifest_path(ref_.ref().path, tail);
  if (!content_type.empty()) put.headers.emplace_back("Content-Type", content_type);
  put.body = bytes;
  std::string body;
  net::Response r = client_->fetch(put, &body, net::kMaxErrorBodySize);
  if (success_status(r.status)) return;
  net::RegistryHttpFailure f = net::RegistryClient::failure_of(r, body);
  std::string msg = "uploading manifest " + tail + " to " + ref_.ref().name() + ": " + f.text();
  if (manifest_type_rejected(f)) throw ManifestTypeRejected(msg);
  // Distribution with schema 1 disabled (the default since 2.8) answers a
  // schema 1 manifest with a bare 500 UNKNOWN (its log says "manifest
  // schema v1 unsupported"); skopeo stops there, ferry tries the next
  // format, converting the image. A real server fault fails that attempt
  // too; --preserve-digests leaves no other format to try.
  if (r.status == 500 && manifest::media_type::is_schema1(content_type)) {
    std::vector<net::ErrcodeEntry> errors;
    if (net::parse_errcode_body(body, &errors) && !errors.empty() && errors.front().code == "UNKNOWN")
      throw ManifestTypeRejected(msg);
  }
  throw net::RegistryError(msg, std::move(f));
}

void DockerDestination::put_signatures(const std::vector<Signature>& sigs, const std::string& instance_digest) {
  (void)instance_digest;
  if (!sigs.empty()) throw Error(supports_signatures());
}

}  // namespace ferry::docker
