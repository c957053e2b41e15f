#include "transports/docker/docker_source.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>

#include "config/registries_conf.h"
#include "image/manifest/manifest.h"
#include "io/digest.h"
#include "net/net_error.h"
#include "transports/docker/parallel_range_reader.h"
#include "util/error.h"
#include "util/gotype.h"
#include "util/log.h"

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

// FERRY_RANGE_* are read once; a bad value is reported once.
// The right to fetch one blob in parallel ranges (see get_blob).
class RangeSlot {
 public:
  static std::unique_ptr<RangeSlot> try_take() {
    bool expected = false;
    if (!busy().compare_exchange_strong(expected, true)) return nullptr;
    return std::unique_ptr<RangeSlot>(new RangeSlot());
  }
  ~RangeSlot() { busy() = false; }
  RangeSlot(const RangeSlot&) = delete;
  RangeSlot& operator=(const RangeSlot&) = delete;

 private:
  RangeSlot() = default;
  static std::atomic<bool>& busy() {
    static std::atomic<bool> b{false};
    return b;
  }
};

// A ranged blob's reader, holding its RangeSlot until the blob is dropped.
class SlotHoldingReader : public Reader {
 public:
  SlotHoldingReader(std::unique_ptr<Reader> inner, std::unique_ptr<RangeSlot> slot)
      : inner_(std::move(inner)), slot_(std::move(slot)) {}
  size_t read(uint8_t* buf, size_t n) override { return inner_->read(buf, n); }

 private:
  std::unique_ptr<Reader> inner_;
  std::unique_ptr<RangeSlot> slot_;
};

const RangeSettings& range_settings() {
  static const RangeSettings settings = [] {
    std::vector<std::string> problems;
    RangeSettings r = range_settings_from_env(&problems);
    for (const std::string& p : problems) logging::log_warning(p);
    return r;
  }();
  return settings;
}

std::string range_header(int64_t offset, int64_t length) {
  return "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

// The chunk requests of one blob fetched in parallel ranges, from the
// workers of a ParallelRangeReader (RegistryClient is thread-safe). They go
// where the first request ended: a registry that redirects blob reads to a
// storage service (Distribution on S3, GCS) costs one redirect, not one per
// chunk, and the storage host never sees the registry's credentials, since
// RegistryClient attaches Authorization only to the registry's own origin.
class BlobRangeSource {
 public:
  BlobRangeSource(net::RegistryClient* client, std::string registry_target, std::string digest, int64_t size)
      : client_(client),
        registry_target_(std::move(registry_target)),
        digest_(std::move(digest)),
        size_(size),
        url_(registry_target_) {}

  // Sends later requests where an answer to the registry path came from.
  void follow(const std::string& effective_url) {
    if (effective_url.empty() || effective_url == client_->url_for(registry_target_)) return;
    std::lock_guard<std::mutex> lock(mu_);
    url_ = effective_url;
  }

  RangeBody fetch(int64_t offset, int64_t length) {
    const std::string range = range_header(offset, length);
    std::string target;
    {
      std::lock_guard<std::mutex> lock(mu_);
      target = url_;
    }
    for (;;) {
      net::RegistryClient::Call call;
      call.target = target;
      call.headers.emplace_back("Range", range);
      auto stream = client_->open(call);
      const net::Response& r = stream->response();
      if (r.status == 206) {
        const std::string value = r.header("content-range");
        ContentRange cr;
        if (!parse_content_range(value, &cr) || cr.first != offset || cr.last != offset + length - 1 ||
            (cr.total >= 0 && cr.total != size_))
          throw Error("fetching blob " + digest_ + ": the answer to the request for " + range +
                      " has Content-Range " + gojson::go_quote(value.substr(0, 100)));
        if (target == registry_target_) follow(r.effective_url);
        return RangeBody{std::move(stream), false};
      }
      if (r.status == 200) return RangeBody{std::move(stream), true};
      if (target != registry_target_) {
        // Storage URLs are often signed for a limited time: ask the
        // registry for a fresh one.
        logging::log_debug("Range request to the blob's storage URL answered " + std::to_string(r.status) +
                       "; asking the registry again");
        target = registry_target_;
        continue;
      }
      const std::string body = net::RegistryClient::read_error_body(*stream);
      throw_registry_failure("fetching blob " + digest_ + " (" + range + ")", r, body);
    }
  }

 private:
  net::RegistryClient* client_;
  const std::string registry_target_;
  const std::string digest_;
  const int64_t size_;
  std::mutex mu_;
  std::string url_;
};

}  // namespace

bool content_range_starts_at(std::string_view v, int64_t offset) {
  ContentRange cr;
  return parse_content_range(v, &cr) && cr.first == offset;
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
      logging::log_debug("Reading blob body failed at offset " + std::to_string(offset_) + " (" + e.what() +
                     "), resuming");
      std::unique_ptr<net::ResponseStream> next;
      try {
        next = reopen_(offset_);
      } catch (const Error& e2) {
        logging::log_debug(std::string("Resuming the blob download failed: ") + e2.what());
        throw e;
      }
      const net::Response& r = next->response();
      if (r.status != 206 || !content_range_starts_at(r.header("content-range"), offset_)) {
        logging::log_debug("Server did not honour the range request (status " + std::to_string(r.status) + ")");
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
  std::exception_ptr last_cause;
  for (const PullSource& s : sources) {
    logging::log_debug("Trying to access \"" + s.ref.to_string() + "\"");
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
      logging::log_debug("Accessing \"" + s.ref.to_string() + "\" failed: " + e.what());
      attempts.push_back({s.ref.to_string(), e.what()});
      last_error = e;
      last_cause = std::current_exception();
      if (sources.size() == 1) throw;
    }
  }
  if (attempts.empty()) throw Error("Internal error: no pull source for " + ref.ref().to_string());
  std::string extras;
  for (size_t i = 0; i + 1 < attempts.size(); ++i) {
    if (!extras.empty()) extras += "\n";
    extras += "[" + attempts[i].ref + ": " + attempts[i].error + "]";
  }
  // The primary's error stays nested (c/image wraps it with %w): whether a
  // retry may help is its call.
  const Error summary("(Mirrors also failed: " + extras + "): " + attempts.back().ref + ": " +
                          attempts.back().error,
                      last_error->exit_code());
  try {
    std::rethrow_exception(last_cause);
  } catch (...) {
    std::throw_with_nested(summary);
  }
}

std::optional<std::vector<std::string>> DockerSource::list_tags_of(const DockerReference& repo) {
  if (!client_ || physical_.domain != repo.domain || physical_.path != repo.path)
    return std::nullopt;
  return docker::list_tags(*client_, repo);
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
      logging::log_debug(std::string("Falling back to the registry for a foreign layer: ") + e.what());
    }
  }
  validate_digest(blob.digest);
  net::RegistryClient::Call call;
  call.target = blob_path(physical_.path, blob.digest);
  const RangeSettings& ranges = range_settings();
  // One blob at a time is fetched in ranges: it is the layer much larger
  // than the rest that decides a copy's length, and several ranged blobs at
  // once would multiply the memory (connections x chunk each) for nothing,
  // the other layers already using the other connections.
  std::unique_ptr<RangeSlot> slot;
  if (use_parallel_ranges(ranges, blob.size)) slot = RangeSlot::try_take();
  const bool parallel = slot != nullptr;
  const int64_t chunk = parallel ? range_chunk_size(ranges, blob.size) : 0;
  // A large blob's first request asks for the first chunk only: a 206
  // answer shows the server honours ranges and already carries chunk 0; a
  // 200 is the whole blob, read as one stream as usual.
  if (parallel) call.headers.emplace_back("Range", range_header(0, chunk));
  auto stream = client_->open(call);
  call.headers.clear();
  if (parallel) {
    const net::Response& first = stream->response();
    ContentRange cr;
    if (first.status == 206 && parse_content_range(first.header("content-range"), &cr) && cr.first == 0 &&
        cr.last == chunk - 1 && (cr.total < 0 || cr.total == blob.size)) {
      const int64_t chunks = (blob.size + chunk - 1) / chunk;
      logging::log_debug("Fetching blob " + blob.digest + " (" + std::to_string(blob.size) + " bytes) in " +
                     std::to_string(chunks) + " ranges over " +
                     std::to_string(std::min<int64_t>(chunks, ranges.connections)) + " connections");
      auto source = std::make_shared<BlobRangeSource>(client_.get(), call.target, blob.digest, blob.size);
      source->follow(first.effective_url);
      *size = blob.size;
      return std::make_unique<SlotHoldingReader>(
          std::make_unique<ParallelRangeReader>(
              blob.size, chunk, ranges.connections,
              [source](int64_t offset, int64_t length) { return source->fetch(offset, length); },
              RangeBody{std::move(stream), false}),
          std::move(slot));
    }
    if (first.status == 206 || first.status == 416) {
      // An answer for some other range is of no use: ask for the whole blob.
      logging::log_debug("Unexpected answer to a range request for blob " + blob.digest + " (status " +
                     std::to_string(first.status) + "); fetching it as one stream");
      stream.reset();
      stream = client_->open(call);
    } else if (first.status == 200) {
      logging::log_debug("The registry ignores range requests; fetching blob " + blob.digest + " as one stream");
    }
  }
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
