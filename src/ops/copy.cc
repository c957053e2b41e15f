#include "ops/copy.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cache/blob_info_cache.h"
#include "cli/log.h"
#include "image/manifest/convert.h"
#include "image/manifest/list.h"
#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "ops/layer_media_type.h"
#include "ops/manifest_choice.h"
#include "ops/progress.h"
#include "util/error.h"

namespace ferry {

namespace mt = manifest::media_type;
using manifest::Descriptor;

MultiArch parse_multi_arch(const std::string& v) {
  if (v == "system") return MultiArch::System;
  if (v == "all") return MultiArch::All;
  if (v == "index-only") return MultiArch::IndexOnly;
  throw Error("unknown multi-arch option \"" + v +
              "\". Choose one of the supported options: 'system', 'all', or 'index-only'");
}

namespace {

constexpr size_t kMaxConfigSize = 4 << 20;  // containers/image's limit

// Mount candidates and cache variants tried per blob: each costs a request
// or two, and the most recently seen ones are the likeliest to work.
constexpr size_t kMaxCacheCandidates = 3;

// Where a blob lives, as the blob-info cache records it: for a registry,
// transport "docker", scope the host, location the repository.
struct BlobPlace {
  std::string transport;
  std::string scope;
  std::string location;
};

std::optional<BlobPlace> blob_place(const ImageReference& ref) {
  if (ref.transport_name() != "docker") return std::nullopt;
  auto d = ref.docker_reference();
  if (!d || d->domain.empty()) return std::nullopt;
  return BlobPlace{"docker", d->domain, d->path};
}

// The compression a layer media type declares; nullopt when it does not
// say (or the layer is encrypted, whose bytes must not be touched).
std::optional<Compression> media_type_compression(const std::string& t) {
  auto ends = [&](const char* suffix) {
    std::string x(suffix);
    return t.size() >= x.size() && t.compare(t.size() - x.size(), x.size(), x) == 0;
  };
  if (ends("+gzip") || ends(".gzip")) return Compression::Gzip;
  if (ends("+zstd") || ends(".zstd")) return Compression::Zstd;
  if (ends(".tar") || ends("layer.v1.tar")) return Compression::None;
  return std::nullopt;
}

// rootfs.diff_ids of an image config; empty when it has none or is unreadable.
std::vector<std::string> config_diff_ids(const std::string& config_bytes) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(config_bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) return out;
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array()) return out;
  for (const auto& id : *ids) out.push_back(id.is_string() ? id.get<std::string>() : std::string());
  return out;
}

// Digests the bytes flowing through it (the uncompressed form, between a
// decompressor and a compressor) so the cache learns the pair.
class UncompressedDigester : public Reader {
 public:
  explicit UncompressedDigester(std::unique_ptr<Reader> inner)
      : inner_(std::move(inner)), digesting_(*inner_) {}
  size_t read(uint8_t* buf, size_t n) override { return digesting_.read(buf, n); }
  // Empty until the stream was read to its end.
  std::string digest() const { return digesting_.finished() ? digesting_.digest() : ""; }

 private:
  std::unique_ptr<Reader> inner_;
  DigestingReader digesting_;
};

// Reads a whole (small) blob, verified against its digest.
std::string read_verified_blob(ImageSource& src, const Descriptor& d, size_t max) {
  int64_t size = -1;
  auto raw = src.get_blob(d, &size);
  DigestVerifyingReader verified(std::move(raw), d.digest, d.size >= 0 ? d.size : size);
  return read_all(verified, max);
}

class Copier {
 public:
  Copier(const Policy& policy, ImageSource& src, const SystemContext& src_ctx,
         ImageDestination& dst, const CopyOptions& opts, ProgressReporter& report,
         BlobInfoCache& cache)
      : policy_(policy),
        src_(src),
        src_ctx_(src_ctx),
        dst_(dst),
        opts_(opts),
        report_(report),
        cache_(cache),
        src_place_(blob_place(src.reference())),
        dst_place_(blob_place(dst.reference())) {}

  // Returns the digest of the top-level manifest written.
  std::string run() {
    ManifestBytes top = src_.get_manifest();
    if (manifest::is_list_mime(top.mime_type)) return copy_list(top);
    return copy_single(top, "", /*as_instance=*/false).digest;
  }

 private:
  PolicyImage policy_image() const {
    const auto& ref = src_.reference();
    return PolicyImage{ref.transport_name(), ref.policy_identity(), ref.policy_namespaces(),
                       ref.to_string()};
  }

  // One image (not a list). instance_digest selects an instance of the
  // source's list; as_instance writes it as an instance of a destination
  // list (stored by digest) instead of as the top-level manifest.
  Descriptor copy_single(const ManifestBytes& mb, const std::string& instance_digest,
                         bool as_instance) {
    check_image_allowed(policy_, policy_image(), nullptr);

    std::vector<Signature> sigs;
    if (!opts_.remove_signatures) {
      report_.line("Getting image source signatures");
      sigs = src_.get_signatures(instance_digest);
      if (!sigs.empty()) {
        report_.line("Checking if image destination supports signatures");
        std::string why = dst_.supports_signatures();
        if (!why.empty())
          throw Error("Can not copy signatures to " + dst_.reference().to_string() + ": " + why);
      }
    }

    std::string cannot_modify;
    if (!sigs.empty()) cannot_modify = "Would invalidate signatures";
    else if (opts_.preserve_digests) cannot_modify = "Instructed to preserve digests";

    auto m = manifest::parse_image_manifest(mb.bytes, mb.mime_type);
    const Descriptor config_desc = m->config_info();
    std::string config_bytes;
    if (!config_desc.digest.empty()) {
      try {
        config_bytes = read_verified_blob(src_, config_desc, kMaxConfigSize);
        record_source_location(config_desc.digest);
      } catch (const Error& e) {
        rethrow_with_context("reading config blob " + config_desc.digest, e);
      }
    }

    const bool wants_zstd = opts_.compress_format == Compression::Zstd &&
                            dst_.desired_layer_compression() == LayerCompression::Compress;
    std::vector<std::string> candidates = choose_manifest_types(
        {m->mime_type(), dst_.supported_manifest_mime_types(), opts_.format_mime, cannot_modify,
         wants_zstd && cannot_modify.empty()});

    // Layers first, in parallel; their new descriptors feed the manifest.
    std::vector<Descriptor> src_layers;
    auto override_layers = src_.layer_infos_for_copy(instance_digest);
    if (override_layers) {
      src_layers = *override_layers;
    } else {
      for (const auto& l : m->layer_infos()) src_layers.push_back(l.desc);
    }
    std::vector<std::string> diff_ids = config_diff_ids(config_bytes);
    if (diff_ids.size() != src_layers.size()) diff_ids.clear();
    std::vector<Descriptor> new_layers = copy_layers(src_layers, diff_ids, cannot_modify.empty());
    if (new_layers != src_layers) m->update_layer_infos(new_layers);

    std::string errors;
    for (const auto& mime : candidates) {
      try {
        return write_manifest(*m, mime, config_desc, config_bytes, sigs, as_instance);
      } catch (const ManifestTypeRejected& e) {
        errors += (errors.empty() ? "" : ", ") + mime + "(" + e.what() + ")";
      }
    }
    throw Error("Uploading manifest failed, attempted the following formats: " + errors);
  }

  Descriptor write_manifest(const manifest::ImageManifest& m, const std::string& mime,
                            const Descriptor& config_desc, const std::string& config_bytes,
                            const std::vector<Signature>& sigs, bool as_instance) {
    std::string bytes;
    Descriptor cfg = config_desc;
    std::string cfg_bytes = config_bytes;
    if (mime == m.mime_type()) {
      bytes = m.serialize();
    } else {
      manifest::Converted c = manifest::convert_manifest(m, config_bytes, mime);
      bytes = c.manifest->serialize();
      if (c.config) {
        cfg_bytes = std::move(*c.config);
        cfg.digest = sha256_digest(cfg_bytes);
        cfg.size = static_cast<int64_t>(cfg_bytes.size());
      }
    }
    if (!cfg.digest.empty()) {
      if (auto reused = dst_.try_reuse_blob_from(cfg, mount_candidates(cfg.digest, cfg.digest == config_desc.digest))) {
        report_.blob_skipped("config", cfg.digest);
      } else {
        auto in = report_.start_blob("config", cfg.digest, cfg.size,
                                     std::make_unique<StringReader>(cfg_bytes));
        dst_.put_blob(*in, cfg, /*is_config=*/true);
      }
      record_destination_location(cfg.digest);
    }
    const std::string digest = manifest::manifest_digest(bytes);
    report_.line("Writing manifest to image destination");
    dst_.put_manifest(bytes, mime, as_instance ? digest : "");
    if (!sigs.empty()) {
      report_.line("Storing signatures");
      dst_.put_signatures(sigs, as_instance ? digest : "");
    }
    Descriptor out;
    out.media_type = mime;
    out.digest = digest;
    out.size = static_cast<int64_t>(bytes.size());
    return out;
  }

  std::vector<Descriptor> copy_layers(const std::vector<Descriptor>& layers,
                                      const std::vector<std::string>& diff_ids, bool can_modify) {
    std::vector<Descriptor> out(layers.size());
    unsigned workers = opts_.parallel_copies == 0 ? 6 : opts_.parallel_copies;
    if (!src_.has_thread_safe_get_blob() || !dst_.has_thread_safe_put_blob()) workers = 1;
    workers = std::min<unsigned>(workers, static_cast<unsigned>(layers.size()));
    // Cores are shared between the layers in flight: a zstd compressor gets
    // its share of them, not all of them each (memory grows per thread).
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    compress_threads_ = static_cast<int>(std::max(1u, cores / std::max(1u, workers)));
    // With several workers the biggest layers start first, so the copy does
    // not end with one large layer running alone; one worker keeps the
    // manifest's order (and skopeo's order of progress lines).
    std::vector<size_t> order(layers.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (workers > 1)
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return layers[a].size > layers[b].size; });

    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex err_mu;
    auto work = [&] {
      while (!failed) {
        const size_t k = next++;
        if (k >= order.size()) return;
        const size_t i = order[k];
        try {
          try {
            out[i] = copy_layer(layers[i], diff_ids.empty() ? std::string() : diff_ids[i], can_modify);
          } catch (const Error& e) {
            rethrow_with_context("copying blob " + layers[i].digest, e);
          }
        } catch (...) {
          std::lock_guard<std::mutex> lock(err_mu);
          if (!first_error) first_error = std::current_exception();
          failed = true;
        }
      }
    };
    if (workers <= 1) {
      work();
    } else {
      std::vector<std::thread> threads;
      for (unsigned i = 0; i < workers; ++i) threads.emplace_back(work);
      for (auto& t : threads) t.join();
    }
    if (first_error) std::rethrow_exception(first_error);
    return out;
  }

  // §5.4: the compression a layer stored as `have` ends up in. Only a
  // modifiable manifest lets a layer change form.
  Compression planned_compression(Compression have, bool can_modify) const {
    if (!can_modify) return have;
    const LayerCompression want = dst_.desired_layer_compression();
    const Compression target = opts_.compress_format.value_or(Compression::Gzip);
    if (want == LayerCompression::Compress && have == Compression::None) return target;
    if (want == LayerCompression::Compress && have != Compression::None && opts_.compress_format &&
        have != target)
      return target;
    if (want == LayerCompression::Decompress && have != Compression::None) return Compression::None;
    return have;
  }

  // Repositories on the destination registry that hold digest: the
  // source's (for its own blobs) and the cache's, newest first.
  std::vector<std::string> mount_candidates(const std::string& digest, bool in_source) {
    std::vector<std::string> out;
    if (!dst_place_) return out;
    if (in_source && src_place_ && src_place_->scope == dst_place_->scope &&
        src_place_->location != dst_place_->location)
      out.push_back(src_place_->location);
    for (auto& loc : cache_.locations(dst_place_->transport, dst_place_->scope, digest, kMaxCacheCandidates + 1)) {
      if (loc != dst_place_->location && std::find(out.begin(), out.end(), loc) == out.end()) out.push_back(loc);
    }
    if (out.size() > kMaxCacheCandidates) out.resize(kMaxCacheCandidates);
    return out;
  }

  void record_destination_location(const std::string& digest) {
    if (dst_place_) cache_.record_location(dst_place_->transport, dst_place_->scope, digest, dst_place_->location);
  }
  void record_source_location(const std::string& digest) {
    if (src_place_) cache_.record_location(src_place_->transport, src_place_->scope, digest, src_place_->location);
  }

  // A blob the cache knows to have the same uncompressed content as `layer`,
  // already stored in `result` form where the destination can reach it:
  // reusing it skips the (re)compression. diff_id is the config's claim for
  // this layer; the substitute is used only if the cache agrees with it, so
  // the image keeps matching its config.
  std::optional<Descriptor> reuse_variant(const Descriptor& layer, const std::string& diff_id,
                                          Compression result) {
    if (diff_id.empty() || !layer.urls.empty()) return std::nullopt;
    const std::string uncompressed = cache_.uncompressed_digest(layer.digest);
    if (uncompressed.empty() || uncompressed != diff_id) return std::nullopt;
    std::string media_type;
    try {
      media_type = layer_media_type_for(layer.media_type, result);
    } catch (const Error&) {
      return std::nullopt;
    }
    const std::string transport = dst_place_ ? dst_place_->transport : "";
    const std::string scope = dst_place_ ? dst_place_->scope : "";
    for (const std::string& v : cache_.variants(uncompressed, result, transport, scope, kMaxCacheCandidates)) {
      if (v == layer.digest || digest_problem(v) != nullptr) continue;
      if (cache_.uncompressed_digest(v) != diff_id) continue;
      Descriptor want = layer;
      want.digest = v;
      want.size = -1;
      want.media_type = media_type;
      auto reused = dst_.try_reuse_blob_from(want, mount_candidates(v, /*in_source=*/false));
      if (!reused || reused->size < 0 || reused->digest != v) continue;
      cli::log_debug("Reusing " + v + " (" + compression_name(result) + ") instead of converting " + layer.digest);
      want.size = reused->size;
      return want;
    }
    return std::nullopt;
  }

  Descriptor copy_layer(const Descriptor& layer, const std::string& diff_id, bool can_modify) {
    // What the layer will probably become, judged before reading it from
    // what an earlier copy saw (or its media type).
    std::optional<Compression> known = cache_.compression(layer.digest);
    if (!known) known = media_type_compression(layer.media_type);
    const bool converting = known && planned_compression(*known, can_modify) != *known;

    // Mounting the unconverted blob from elsewhere would undo the
    // conversion; the destination's own copy is reused as before.
    std::vector<std::string> mounts;
    if (!converting) mounts = mount_candidates(layer.digest, /*in_source=*/true);
    if (auto reused = dst_.try_reuse_blob_from(layer, mounts)) {
      report_.blob_skipped("blob", layer.digest);
      record_destination_location(reused->digest);
      Descriptor d = *reused;
      d.media_type = layer.media_type;
      d.urls = layer.urls;
      d.annotations = layer.annotations;
      return d;
    }
    if (converting) {
      if (auto v = reuse_variant(layer, diff_id, planned_compression(*known, can_modify))) {
        report_.blob_skipped("blob", layer.digest);
        record_destination_location(v->digest);
        return *v;
      }
    }

    int64_t size = -1;
    auto raw = src_.get_blob(layer, &size);
    auto verified = std::make_unique<DigestVerifyingReader>(std::move(raw), layer.digest,
                                                            layer.size >= 0 ? layer.size : size);
    DigestVerifyingReader* verifier = verified.get();
    // Progress counts the source's bytes, whose size is known, even when
    // the stored blob is (re)compressed to a size nobody knows yet.
    auto counted = report_.start_blob("blob", layer.digest, layer.size >= 0 ? layer.size : size,
                                      std::move(verified));
    auto peek = std::make_unique<PeekReader>(std::move(counted));
    std::string head = peek->peek(8);
    const Compression have =
        detect_compression(reinterpret_cast<const uint8_t*>(head.data()), head.size());

    const Compression result = planned_compression(have, can_modify);
    std::unique_ptr<Reader> stream = std::move(peek);
    UncompressedDigester* between = nullptr;
    if (result != have) {
      if (have != Compression::None) stream = make_decompressor(std::move(stream), have);
      if (have != Compression::None && result != Compression::None) {
        auto d = std::make_unique<UncompressedDigester>(std::move(stream));
        between = d.get();
        stream = std::move(d);
      }
      if (result != Compression::None) stream = make_compressor(std::move(stream), result, opts_.compress_level, compress_threads_);
    }

    Descriptor want_desc = layer;
    if (result != have) {
      want_desc.digest.clear();
      want_desc.size = -1;
    }
    Descriptor stored = dst_.put_blob(*stream, want_desc, /*is_config=*/false);
    // A decompressor may stop before the source's last byte; drain it so the
    // source digest is still verified before the image can be committed.
    uint8_t sink[4096];
    while (verifier->read(sink, sizeof sink) > 0) {
    }
    record_copied(layer.digest, have, stored.digest, result, between ? between->digest() : "");

    Descriptor d = layer;
    d.digest = stored.digest;
    d.size = stored.size;
    if (result != have) d.media_type = layer_media_type_for(layer.media_type, result);
    return d;
  }

  // What one streamed copy proved: both digests' compression, the
  // uncompressed digest where the stream had it, and where the blobs are.
  void record_copied(const std::string& src_digest, Compression have, const std::string& dst_digest,
                     Compression result, const std::string& uncompressed_between) {
    BlobInfoCache::Transaction tx(cache_);
    record_source_location(src_digest);
    record_destination_location(dst_digest);
    cache_.record_compression(src_digest, have);
    cache_.record_compression(dst_digest, result);
    std::string uncompressed = uncompressed_between;
    if (have == Compression::None) uncompressed = src_digest;
    else if (result == Compression::None) uncompressed = dst_digest;
    if (uncompressed.empty()) return;
    cache_.record_uncompressed(src_digest, uncompressed);
    cache_.record_uncompressed(dst_digest, uncompressed);
  }

  std::string copy_list(const ManifestBytes& top) {
    manifest::ManifestList list = manifest::ManifestList::parse(top.bytes, top.mime_type);
    if (opts_.multi_arch == MultiArch::System) {
      auto choice = manifest::platform_from_overrides(src_ctx_.os_choice, src_ctx_.arch_choice,
                                                      src_ctx_.variant_choice);
      std::string digest;
      try {
        digest = list.choose_instance(choice);
      } catch (const Error& e) {
        rethrow_with_context("choosing an image from manifest list " + src_.reference().to_string(), e);
      }
      ManifestBytes inst = src_.get_manifest(digest);
      return copy_single(inst, digest, /*as_instance=*/false).digest;
    }
    if (!dst_.supports_manifest_lists())
      throw Error("copying multiple images: destination transport \"" +
                  dst_.reference().transport_name() +
                  "\" does not support copying multiple images as a group");

    std::vector<Descriptor> instances = list.instances();
    if (opts_.multi_arch == MultiArch::All) {
      if (!opts_.remove_signatures) report_.line("Getting image list signatures");
      report_.line(fmt::format("Copying {} images generated from {} images in list",
                               instances.size(), instances.size()));
      for (size_t i = 0; i < instances.size(); ++i) {
        report_.line(fmt::format("Copying image {} ({}/{})", instances[i].digest, i + 1,
                                 instances.size()));
        ManifestBytes inst = src_.get_manifest(instances[i].digest);
        Descriptor written = copy_single(inst, instances[i].digest, /*as_instance=*/true);
        instances[i].digest = written.digest;
        instances[i].size = written.size;
        instances[i].media_type = written.media_type;
      }
      if (instances != list.instances()) list.update_instances(instances);
    }

    std::string list_mime = list.mime_type();
    auto supported = dst_.supported_manifest_mime_types();
    auto accepts = [&](const std::string& t) {
      return supported.empty() || std::find(supported.begin(), supported.end(), t) != supported.end();
    };
    std::string target = list_mime;
    if (opts_.format_mime == mt::kOciManifest) target = mt::kOciIndex;
    else if (!opts_.format_mime.empty()) target = mt::kDockerV2List;
    else if (!accepts(list_mime)) target = accepts(mt::kOciIndex) ? mt::kOciIndex : mt::kDockerV2List;
    // Instances converted to OCI cannot stay in a Docker list (and back).
    for (const auto& d : instances) {
      if (d.media_type == mt::kOciManifest && target == mt::kDockerV2List && opts_.format_mime.empty())
        target = mt::kOciIndex;
    }
    std::string bytes = target == list_mime ? list.serialize() : list.convert_to(target).serialize();
    report_.line("Writing manifest list to image destination");
    dst_.put_manifest(bytes, target, "");
    return manifest::manifest_digest(bytes);
  }

  const Policy& policy_;
  ImageSource& src_;
  const SystemContext& src_ctx_;
  ImageDestination& dst_;
  const CopyOptions& opts_;
  ProgressReporter& report_;
  BlobInfoCache& cache_;
  const std::optional<BlobPlace> src_place_;
  const std::optional<BlobPlace> dst_place_;
  // zstd threads per compressor for the layers being copied (copy_layers).
  int compress_threads_ = 0;
};

}  // namespace

CopyResult copy_image(const Policy& policy, const ImageReference& src_ref,
                      const SystemContext& src_ctx, const ImageReference& dst_ref,
                      const SystemContext& dst_ctx, const CopyOptions& opts) {
  std::unique_ptr<ImageSource> src;
  try {
    src = src_ref.new_source(src_ctx);
  } catch (const Error& e) {
    rethrow_with_context("initializing source " + src_ref.to_string(), e);
  }
  std::unique_ptr<ImageDestination> dst;
  try {
    dst = dst_ref.new_destination(dst_ctx);
  } catch (const Error& e) {
    rethrow_with_context("initializing destination " + dst_ref.to_string(), e);
  }
  ProgressReporter report(opts.report);
  // Keyed by the destination's context, as containers/image does.
  std::unique_ptr<BlobInfoCache> cache = BlobInfoCache::open_default(dst_ctx);
  Copier copier(policy, *src, src_ctx, *dst, opts, report, *cache);
  CopyResult r;
  r.manifest_digest = copier.run();
  dst->commit();
  return r;
}

}  // namespace ferry
