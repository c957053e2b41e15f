// Pushing an image to a registry. Blobs are uploaded (or found, or mounted
// from the source repository) first; the manifest PUT comes last and is the
// one atomic step: until it lands no tag points at the image, and blobs
// left by a failed push are unreferenced.
#pragma once

#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "image/types.h"
#include "net/http_client.h"
#include "net/registry_client.h"
#include "transports/docker/docker_reference.h"

namespace ferry::docker {

// Whether an error answer to a manifest PUT means "this registry does not
// take this manifest type" (c/image isManifestInvalidError, plus 415), so
// the copy engine should try the next format.
bool manifest_type_rejected(const net::RegistryHttpFailure& f);

// Appends digest=... to an upload Location's query (replacing any digest
// parameter already there).
std::string with_digest_query(const std::string& location, const std::string& digest);

class DockerDestination : public ImageDestination {
 public:
  DockerDestination(const DockerImageReference& ref, const SystemContext& ctx);

  const ImageReference& reference() const override { return ref_; }
  std::vector<std::string> supported_manifest_mime_types() const override;
  std::string supports_signatures() const override {
    return "Pushing signatures to a registry is not supported yet by ferry";
  }
  LayerCompression desired_layer_compression() const override { return LayerCompression::Compress; }
  bool accepts_foreign_layer_urls() const override { return true; }
  bool has_thread_safe_put_blob() const override { return true; }

  // HEAD in this repository; then, if ctx.docker_mount_source names another
  // repository on the same registry, a cross-repository mount.
  std::optional<manifest::Descriptor> try_reuse_blob(const manifest::Descriptor& blob) override;
  // As try_reuse_blob, then a mount from each candidate repository (paths on
  // this registry, e.g. "team/app"), at most kMaxMountAttempts of them.
  std::optional<manifest::Descriptor> try_reuse_blob_from(const manifest::Descriptor& blob,
                                                          const std::vector<std::string>& candidates) override;
  static constexpr size_t kMaxMountAttempts = 3;
  // Opens an upload session (POST) on another thread; put_blob uses it.
  void prepare_put_blob() override;
  // An upload session (prepared, or POSTed now), then: with the digest and
  // size known, one PUT ?digest= carrying the whole blob (the monolithic
  // upload of the distribution spec); otherwise PATCH the stream, then PUT
  // ?digest= with the digest computed on the way.
  manifest::Descriptor put_blob(Reader& stream, const manifest::Descriptor& blob, bool is_config) override;
  ~DockerDestination() override;
  void put_manifest(const std::string& bytes, const std::string& mime_type,
                    const std::string& instance_digest = "") override;
  void put_signatures(const std::vector<Signature>& sigs, const std::string& instance_digest = "") override;
  // Nothing left to do: the manifest PUT was the commit. A session opened
  // ahead that no blob needed is deliberately not DELETEd: Distribution 2.8
  // re-creates the session's hash state after the cancel removed the rest
  // ("error closing blobwriter"), and its upload purge never removes a
  // session without its startedat file; left alone, the whole session is
  // purged after a week.
  void commit() override {}

 private:
  // HEAD /blobs/<digest>: size if present, nullopt if 404; throws otherwise.
  std::optional<int64_t> blob_size(const std::string& digest);
  bool mount(const std::string& digest, const std::string& from_repo);
  // POST /blobs/uploads/: the absolute URL of the new session.
  std::string open_upload_session();

  DockerImageReference ref_;
  SystemContext ctx_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<net::RegistryClient> client_;
  // Sessions being opened by prepare_put_blob, oldest first; any one serves
  // any blob of this repository. Declared after client_: destroyed (and
  // waited for) before it.
  std::mutex sessions_mu_;
  std::deque<std::future<std::string>> sessions_;
};

}  // namespace ferry::docker
