#include "ops/copy.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

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
         ImageDestination& dst, const CopyOptions& opts, ProgressReporter& report)
      : policy_(policy), src_(src), src_ctx_(src_ctx), dst_(dst), opts_(opts), report_(report) {}

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
    std::vector<Descriptor> new_layers = copy_layers(src_layers, cannot_modify.empty());
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
      if (auto reused = dst_.try_reuse_blob(cfg)) {
        report_.blob_skipped("config", cfg.digest);
      } else {
        auto in = report_.start_blob("config", cfg.digest, cfg.size,
                                     std::make_unique<StringReader>(cfg_bytes));
        dst_.put_blob(*in, cfg, /*is_config=*/true);
      }
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

  std::vector<Descriptor> copy_layers(const std::vector<Descriptor>& layers, bool can_modify) {
    std::vector<Descriptor> out(layers.size());
    unsigned workers = opts_.parallel_copies == 0 ? 6 : opts_.parallel_copies;
    if (!src_.has_thread_safe_get_blob() || !dst_.has_thread_safe_put_blob()) workers = 1;
    workers = std::min<unsigned>(workers, static_cast<unsigned>(layers.size()));

    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex err_mu;
    auto work = [&] {
      while (!failed) {
        size_t i = next++;
        if (i >= layers.size()) return;
        try {
          try {
            out[i] = copy_layer(layers[i], can_modify);
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

  Descriptor copy_layer(const Descriptor& layer, bool can_modify) {
    const LayerCompression want = dst_.desired_layer_compression();
    if (auto reused = dst_.try_reuse_blob(layer)) {
      report_.blob_skipped("blob", layer.digest);
      Descriptor d = *reused;
      d.media_type = layer.media_type;
      d.urls = layer.urls;
      d.annotations = layer.annotations;
      return d;
    }

    int64_t size = -1;
    auto raw = src_.get_blob(layer, &size);
    auto verified = std::make_unique<DigestVerifyingReader>(std::move(raw), layer.digest,
                                                            layer.size >= 0 ? layer.size : size);
    DigestVerifyingReader* verifier = verified.get();
    auto peek = std::make_unique<PeekReader>(std::move(verified));
    std::string head = peek->peek(8);
    const Compression have =
        detect_compression(reinterpret_cast<const uint8_t*>(head.data()), head.size());

    // §5.4: only a modifiable manifest lets a layer change form.
    Compression result = have;
    std::unique_ptr<Reader> stream = std::move(peek);
    if (can_modify) {
      const Compression target = opts_.compress_format.value_or(Compression::Gzip);
      if (want == LayerCompression::Compress && have == Compression::None) {
        stream = make_compressor(std::move(stream), target, opts_.compress_level);
        result = target;
      } else if (want == LayerCompression::Compress && have != Compression::None &&
                 opts_.compress_format && have != target) {
        stream = make_decompressor(std::move(stream), have);
        stream = make_compressor(std::move(stream), target, opts_.compress_level);
        result = target;
      } else if (want == LayerCompression::Decompress && have != Compression::None) {
        stream = make_decompressor(std::move(stream), have);
        result = Compression::None;
      }
    }

    Descriptor want_desc = layer;
    if (result != have) {
      want_desc.digest.clear();
      want_desc.size = -1;
    }
    auto counted = report_.start_blob("blob", layer.digest, layer.size, std::move(stream));
    Descriptor stored = dst_.put_blob(*counted, want_desc, /*is_config=*/false);
    // A decompressor may stop before the source's last byte; drain it so the
    // source digest is still verified before the image can be committed.
    uint8_t sink[4096];
    while (verifier->read(sink, sizeof sink) > 0) {
    }

    Descriptor d = layer;
    d.digest = stored.digest;
    d.size = stored.size;
    if (result != have) d.media_type = layer_media_type_for(layer.media_type, result);
    return d;
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
  // A registry can mount a blob from another of its repositories instead
  // of receiving it again.
  SystemContext dst_ctx_mount = dst_ctx;
  if (src_ref.transport_name() == "docker" && dst_ref.transport_name() == "docker") {
    auto s = src_ref.docker_reference();
    auto d = dst_ref.docker_reference();
    if (s && d && s->domain == d->domain && s->path != d->path) dst_ctx_mount.docker_mount_source = s->name();
  }
  std::unique_ptr<ImageDestination> dst;
  try {
    dst = dst_ref.new_destination(dst_ctx_mount);
  } catch (const Error& e) {
    rethrow_with_context("initializing destination " + dst_ref.to_string(), e);
  }
  ProgressReporter report(opts.report);
  Copier copier(policy, *src, src_ctx, *dst, opts, report);
  CopyResult r;
  r.manifest_digest = copier.run();
  dst->commit();
  return r;
}

}  // namespace ferry
