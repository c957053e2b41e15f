// Reading an image from a registry. Opening tries registries.conf's mirrors
// in order, then the primary location, and keeps the first that serves the
// manifest; every later read (instances, blobs) goes to that one.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "image/types.h"
#include "net/http_client.h"
#include "net/registry_client.h"
#include "transports/docker/docker_reference.h"

namespace ferry::docker {

// Resumes an interrupted blob download with `Range: bytes=N-` (c/image's
// bodyReader): only after real progress (1 MiB, or 60 s since the last
// attempt), only if the server answers 206 with a Content-Range starting
// exactly at N.
class ResumingBlobReader : public Reader {
 public:
  // reopen(offset) returns a fresh response stream for the range N-.
  using Reopen = std::function<std::unique_ptr<net::ResponseStream>(int64_t offset)>;
  ResumingBlobReader(std::unique_ptr<net::ResponseStream> first, Reopen reopen);
  size_t read(uint8_t* buf, size_t n) override;

 private:
  std::unique_ptr<net::ResponseStream> body_;
  Reopen reopen_;
  int64_t offset_ = 0;
  int64_t last_resume_offset_ = 0;
  std::chrono::steady_clock::time_point last_resume_time_;
};

// Whether a Content-Range value ("bytes 100-199/200", "bytes 100-199/*")
// starts at offset.
bool content_range_starts_at(std::string_view value, int64_t offset);

class DockerSource : public ImageSource {
 public:
  // Fetches the top-level manifest (which is what tells whether the image
  // exists), trying pull sources in order. Throws c/image's errors:
  //   reading manifest TAG in HOST/REPO: manifest unknown: manifest unknown
  //   (Mirrors also failed: [ref: err]...): primary-ref: err
  DockerSource(const DockerImageReference& ref, const SystemContext& ctx);

  const ImageReference& reference() const override { return ref_; }
  ManifestBytes get_manifest(const std::string& instance_digest = "") override;
  std::unique_ptr<Reader> get_blob(const manifest::Descriptor& blob, int64_t* size) override;
  bool has_thread_safe_get_blob() const override { return true; }

  // The repository actually read from ("host/path"), after mirror choice.
  std::string physical_repository() const { return physical_.name(); }

  // repo's tags through this source's client, when that client talks to
  // repo itself (not a mirror or a rewritten location: tags are always
  // listed from the named repository, as skopeo does); nullopt otherwise.
  std::optional<std::vector<std::string>> list_tags_of(const DockerReference& repo);

 private:
  ManifestBytes fetch_manifest(const std::string& tag_or_digest);
  std::unique_ptr<Reader> get_external_blob(const manifest::Descriptor& blob, int64_t* size);

  DockerImageReference ref_;
  SystemContext ctx_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<net::RegistryClient> client_;
  DockerReference physical_;
  ManifestBytes top_;
};

}  // namespace ferry::docker
