#include "ops/copy.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cache/blob_info_cache.h"
#include "image/manifest/convert.h"
#include "image/manifest/list.h"
#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/decompressed_digest.h"
#include "io/digest.h"
#include "io/fs.h"
#include "io/spooled_blob.h"
#include "io/zstd_chunked.h"
#include "ops/layer_media_type.h"
#include "ops/manifest_choice.h"
#include "ops/progress.h"
#include "ops/ranked_slots.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/log.h"

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

// A layer's bytes pass here between source and destination: a stop
// (Ctrl-C, SIGTERM, the deadline) ends a copy between local files as
// HttpClient ends a network one, so the destination unwinds and cleans up.
class StopCheckingReader : public Reader {
 public:
  explicit StopCheckingReader(std::unique_ptr<Reader> in) : in_(std::move(in)) {}
  size_t read(uint8_t* buf, size_t n) override {
    interrupt::check();
    return in_->read(buf, n);
  }
  std::string vouched_digest() const override { return in_->vouched_digest(); }

 private:
  std::unique_ptr<Reader> in_;
};

// Digests the bytes flowing through it: the uncompressed form, between a
// decompressor and a compressor, when a schema 1 conversion needs DiffIDs.
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

using mt::is_schema1;

// Reads a whole (small) blob, verified against its digest.
std::string read_verified_blob(ImageSource& src, const Descriptor& d, size_t max) {
  int64_t size = -1;
  auto raw = src.get_blob(d, &size);
  DigestVerifyingReader verified(std::move(raw), d.digest, d.size >= 0 ? d.size : size);
  return read_all(verified, max);
}

// Wraps whatever exception e holds with context, as rethrow_with_context
// does for the exception being handled (errors of worker threads travel as
// exception_ptr). An empty context rethrows e unchanged.
[[noreturn]] void rethrow_in_context(const std::exception_ptr& e, const std::string& context) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    if (context.empty()) throw;
    rethrow_with_context(context, err);
  }
}

// Runs work(0) .. work(n-1) on n threads (inline when n is 1) and waits.
template <typename F>
void run_on_threads(size_t n, F work) {
  if (n <= 1) {
    if (n == 1) work(0);
    return;
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) threads.emplace_back(work, i);
  for (auto& t : threads) t.join();
}

// One image (not a list) between the phases of its copy: prepare fills the
// first part, the layer pool layer_updates, finish writes config and manifest.
struct ImageJob {
  std::string instance_digest;  // in the source's list; "" for a top-level image
  bool as_instance = false;     // stored by digest as an instance of a destination list
  std::string context;          // prefixed to its errors: which instance of a list
  std::vector<std::string> notes;  // step lines held back while instances are prepared concurrently
  std::vector<Signature> sigs;
  std::string cannot_modify;  // why its manifest must stay as is; "" = it may change
  std::unique_ptr<manifest::ImageManifest> manifest;
  Descriptor config_desc;
  // The config blob, read on another thread while the first layers start
  // (its round trip off the critical path); Copier::load_config waits for
  // it and fills config_bytes and diff_ids.
  std::shared_future<std::string> config_read;
  std::mutex config_mu;
  bool config_loaded = false;
  std::string config_bytes;
  std::vector<std::string> mime_candidates;
  std::vector<Descriptor> src_layers;
  std::vector<std::string> diff_ids;   // one per layer, or empty when the config does not say (after load_config)
  // A schema 1 source converted to schema 2 / OCI: its config is built from
  // the layers' DiffIDs, which only the copy itself can compute.
  bool needs_diff_ids = false;
  std::vector<std::string> computed_diff_ids;  // one per layer when needs_diff_ids
  // One per layer, from the layer pool: the layer as stored, and how its
  // compression changed (a schema 1 manifest cannot say; its conversion
  // needs it for the new media types).
  std::vector<manifest::LayerUpdate> layer_updates;
  size_t held_bytes = 0;               // memory kept until finish (manifest and config)
  // The config, when the layer pool already stored it (see copy_layers).
  enum class EarlyConfig { No, Found, Uploaded } early_config = EarlyConfig::No;
};

// Instances prepared before their layers are copied hold their manifest and
// config (up to 4 MiB each) in memory; a list with very many of them is
// copied in groups holding about this much at a time.
constexpr size_t kGroupBudget = 64 << 20;

class Copier {
 public:
  Copier(const Policy& policy, ImageSource& src, const SystemContext& src_ctx,
         ImageDestination& dst, const SystemContext& dst_ctx, const CopyOptions& opts,
         ProgressReporter& report, BlobInfoCache& cache)
      : policy_(policy),
        src_(src),
        src_ctx_(src_ctx),
        dst_(dst),
        opts_(opts),
        report_(report),
        cache_(cache),
        src_place_(blob_place(src.reference())),
        dst_place_(blob_place(dst.reference())),
        // skopeo precomputes only for registries (its docker transport does it).
        precompute_(opts.precompute_digests && dst.reference().transport_name() == "docker"),
        temp_dir_(dst_ctx.big_files_temp_dir) {}

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

  // Blobs copied at once; 1 when either side cannot take several threads.
  unsigned workers() const {
    unsigned n = opts_.parallel_copies == 0 ? 6 : opts_.parallel_copies;
    if (!src_.has_thread_safe_get_blob() || !dst_.has_thread_safe_put_blob()) n = 1;
    return n;
  }

  // One image (not a list): the three phases in a row. instance_digest
  // selects an instance of the source's list; as_instance writes it as an
  // instance of a destination list (stored by digest) instead of as the
  // top-level manifest.
  Descriptor copy_single(const ManifestBytes& mb, const std::string& instance_digest,
                         bool as_instance) {
    ImageJob job;
    job.instance_digest = instance_digest;
    job.as_instance = as_instance;
    prepare(job, mb, /*defer_lines=*/false);
    copy_layers({&job}, workers());
    return finish(job);
  }

  // Phase 1: everything decided before any layer moves. defer_lines keeps
  // the step lines in job.notes (printed later in list order) instead of
  // printing them.
  void prepare(ImageJob& job, const ManifestBytes& mb, bool defer_lines) {
    auto note = [&](const std::string& text) {
      if (defer_lines) job.notes.push_back(text);
      else report_.line(text);
    };
    check_image_allowed(policy_, policy_image(), nullptr);

    if (!opts_.remove_signatures) {
      note("Getting image source signatures");
      job.sigs = src_.get_signatures(job.instance_digest);
      if (!job.sigs.empty()) {
        note("Checking if image destination supports signatures");
        std::string why = dst_.supports_signatures();
        if (!why.empty())
          throw Error("Can not copy signatures to " + dst_.reference().to_string() + ": " + why);
      }
    }

    if (!job.sigs.empty()) job.cannot_modify = "Would invalidate signatures";
    else if (opts_.preserve_digests) job.cannot_modify = "Instructed to preserve digests";

    job.manifest = manifest::parse_image_manifest(mb.bytes, mb.mime_type);
    const manifest::ImageManifest& m = *job.manifest;
    job.config_desc = m.config_info();
    auto read_config = [this, desc = job.config_desc]() -> std::string {
      if (desc.digest.empty()) return "";
      try {
        std::string bytes = read_verified_blob(src_, desc, kMaxConfigSize);
        record_source_location(desc.digest);
        return bytes;
      } catch (const Error& e) {
        rethrow_with_context("reading config blob " + desc.digest, e);
      }
    };
    const bool read_ahead = src_.has_thread_safe_get_blob() && !job.config_desc.digest.empty();
    if (read_ahead) {
      job.config_read = std::async(std::launch::async, read_config).share();
    } else {
      std::promise<std::string> now;
      try {
        now.set_value(read_config());
      } catch (...) {
        now.set_exception(std::current_exception());
      }
      job.config_read = now.get_future().share();
    }

    const bool wants_zstd = (opts_.compress_format == Compression::Zstd ||
                             opts_.compress_format == Compression::ZstdChunked) &&
                            dst_.desired_layer_compression() == LayerCompression::Compress;
    job.mime_candidates = choose_manifest_types(
        {m.mime_type(), dst_.supported_manifest_mime_types(), opts_.format_mime, job.cannot_modify,
         wants_zstd && job.cannot_modify.empty()});

    auto override_layers = src_.layer_infos_for_copy(job.instance_digest);
    if (override_layers) {
      job.src_layers = *override_layers;
    } else {
      for (const auto& l : m.layer_infos()) job.src_layers.push_back(l.desc);
    }
    job.needs_diff_ids = is_schema1(m.mime_type()) &&
                         std::any_of(job.mime_candidates.begin(), job.mime_candidates.end(),
                                     [](const std::string& t) { return !is_schema1(t); });
    job.held_bytes = mb.bytes.size() + static_cast<size_t>(std::clamp<int64_t>(job.config_desc.size, 0, kMaxConfigSize));
    // Read in this thread, its failure is reported before any layer moves.
    if (!read_ahead) load_config(job);
  }

  // The job's config, waiting for it if it is still being read; throws
  // the read's error (every time it is asked).
  const std::string& load_config(ImageJob& job) {
    std::lock_guard<std::mutex> lock(job.config_mu);
    if (!job.config_loaded) {
      job.config_bytes = job.config_read.get();
      job.diff_ids = config_diff_ids(job.config_bytes);
      if (job.diff_ids.size() != job.src_layers.size()) job.diff_ids.clear();
      job.config_loaded = true;
    }
    return job.config_bytes;
  }

  // The DiffID job's config claims for layer i ("" if it does not say).
  std::string claimed_diff_id(ImageJob& job, size_t i) {
    load_config(job);
    return job.diff_ids.empty() ? std::string() : job.diff_ids[i];
  }

  // Phase 3: the layers are in place; the config, then the manifest.
  Descriptor finish(ImageJob& job) {
    load_config(job);
    manifest::ImageManifest& m = *job.manifest;
    // As containers/image: only a changed digest (or media type) is an edit;
    // sizes a schema 1 manifest does not carry are no reason to re-sign it.
    bool changed = false;
    std::vector<Descriptor> new_layers;
    for (size_t i = 0; i < job.layer_updates.size(); ++i) {
      const Descriptor& d = job.layer_updates[i].desc;
      changed |= d.digest != job.src_layers[i].digest || d.media_type != job.src_layers[i].media_type;
      new_layers.push_back(d);
    }
    if (changed) m.update_layer_infos(new_layers);
    std::string errors;
    for (const auto& mime : job.mime_candidates) {
      try {
        return write_manifest(job, m, mime);
      } catch (const ManifestTypeRejected& e) {
        errors += (errors.empty() ? "" : ", ") + mime + "(" + e.what() + ")";
      }
    }
    throw Error("Uploading manifest failed, attempted the following formats: " + errors);
  }

  Descriptor write_manifest(const ImageJob& job, const manifest::ImageManifest& m, const std::string& mime) {
    std::string bytes;
    Descriptor cfg = job.config_desc;
    std::string cfg_bytes = job.config_bytes;
    if (mime == m.mime_type()) {
      bytes = m.serialize();
    } else {
      manifest::ConvertOptions copts;
      if (is_schema1(m.mime_type()) && !is_schema1(mime)) {
        if (!job.needs_diff_ids) throw Error("Internal error: DiffIDs needed to convert a schema 1 manifest were not computed");
        copts.diff_ids = job.computed_diff_ids;
        for (const auto& u : job.layer_updates) copts.layer_sizes.push_back(u.desc.size);
        copts.layer_updates = job.layer_updates;
      }
      manifest::Converted c = manifest::convert_manifest(m, job.config_bytes, mime, copts);
      bytes = c.manifest->serialize();
      if (c.config) {
        cfg_bytes = std::move(*c.config);
        cfg.digest = sha256_digest(cfg_bytes);
        cfg.size = static_cast<int64_t>(cfg_bytes.size());
      }
    }
    if (!cfg.digest.empty()) {
      const bool as_source = cfg.digest == job.config_desc.digest;
      // Stored during the layers already: only its progress line is due,
      // here, where skopeo prints it.
      if (as_source && job.early_config == ImageJob::EarlyConfig::Found) {
        report_.blob_skipped("config", cfg.digest);
      } else if (as_source && job.early_config == ImageJob::EarlyConfig::Uploaded) {
        auto in = report_.start_blob("config", cfg.digest, cfg.size, std::make_unique<StringReader>(cfg_bytes));
        read_all(*in, cfg_bytes.size());
      } else if (auto reused = dst_.try_reuse_blob_from(cfg, mount_candidates(cfg.digest, as_source))) {
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
    dst_.put_manifest(bytes, mime, job.as_instance ? digest : "");
    if (!job.sigs.empty()) {
      report_.line("Storing signatures");
      dst_.put_signatures(job.sigs, job.as_instance ? digest : "");
    }
    Descriptor out;
    out.media_type = mime;
    out.digest = digest;
    out.size = static_cast<int64_t>(bytes.size());
    return out;
  }

  // One blob for the layer pool, and every (image, layer index) that uses it.
  struct LayerTask {
    const Descriptor* layer;  // as its first user lists it
    bool can_modify;
    std::vector<std::pair<ImageJob*, size_t>> users;
    ImageJob* config_of = nullptr;  // set: this task stores that job's config instead
    bool want_diff_id = false;      // some user needs the layer's DiffID computed
  };

  // A config that finish will store unchanged (its manifest keeps its type)
  // is stored by the layer pool instead, once a worker is free: on a
  // distant registry its HEAD, POST and PUT no longer wait for the last
  // layer. Its line is still printed by finish, in skopeo's place.
  void store_config_early(ImageJob& job) {
    const Descriptor& cfg = job.config_desc;
    if (dst_.try_reuse_blob_from(cfg, mount_candidates(cfg.digest, /*in_source=*/true))) {
      job.early_config = ImageJob::EarlyConfig::Found;
    } else {
      StringReader in(load_config(job));
      dst_.put_blob(in, cfg, /*is_config=*/true);
      job.early_config = ImageJob::EarlyConfig::Uploaded;
    }
    record_destination_location(cfg.digest);
  }

  // Phase 2: the layers of every job through one pool of `workers` threads,
  // filling each job's layer_updates. With several workers a blob several
  // layers share is copied once (two threads pushing the same blob would
  // only race), and the biggest blobs start first, so the copy does not end
  // with one large layer running alone; one worker copies every layer in
  // the manifest's order, as skopeo does (and prints its lines in order).
  void copy_layers(const std::vector<ImageJob*>& jobs, unsigned workers) {
    const bool dedup = workers > 1;
    std::vector<LayerTask> tasks;
    std::map<std::string, size_t> task_of;  // dedup key -> index in tasks
    for (ImageJob* job : jobs) {
      if (job->needs_diff_ids) job->computed_diff_ids.assign(job->src_layers.size(), "");
      job->layer_updates.assign(job->src_layers.size(), manifest::LayerUpdate{});
      const bool can_modify = job->cannot_modify.empty();
      for (size_t i = 0; i < job->src_layers.size(); ++i) {
        const Descriptor& l = job->src_layers[i];
        if (dedup) {
          // Same bytes, and the same decision about their form (may it be
          // converted). Not the config's DiffID claim, which may still be on
          // its way: the first user's decides, and a variant is only ever
          // used if the cache's hashed digests agree with it, so another
          // user's config (claiming otherwise) gets that layer's own content.
          std::string key = l.digest + '\n' + l.media_type + '\n' + (can_modify ? "1" : "0");
          auto [it, fresh] = task_of.emplace(std::move(key), tasks.size());
          if (!fresh) {
            tasks[it->second].users.emplace_back(job, i);
            tasks[it->second].want_diff_id |= job->needs_diff_ids;
            continue;
          }
        }
        tasks.push_back(LayerTask{&l, can_modify, {{job, i}}, nullptr, job->needs_diff_ids});
      }
      if (dedup && !job->config_desc.digest.empty() && !job->mime_candidates.empty() &&
          job->mime_candidates.front() == job->manifest->mime_type())
        tasks.push_back(LayerTask{&job->config_desc, false, {}, job});
    }

    workers = std::min<unsigned>(workers, static_cast<unsigned>(tasks.size()));
    // Cores are shared between the layers in flight: a zstd compressor gets
    // its share of them, not all of them each (memory grows per thread).
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    compress_threads_ = static_cast<int>(std::max(1u, cores / std::max(1u, workers)));
    std::vector<size_t> order(tasks.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (workers > 1)
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return tasks[a].layer->size > tasks[b].layer->size; });

    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::string error_context;
    std::mutex err_mu;
    // One task: a layer for its users, or a job's config.
    // rank: the task's place in the pool's order (biggest first).
    auto run_task = [&](const LayerTask& t, size_t rank) {
      if (t.config_of) {
        try {
          store_config_early(*t.config_of);
        } catch (const Error& e) {
          rethrow_with_context("writing config blob " + t.layer->digest, e);
        }
        return;
      }
      Descriptor d;
      LayerOutcome outcome;
      try {
        const auto& [first_job, first_i] = t.users.front();
        auto diff_id = [&, job = first_job, i = first_i] { return claimed_diff_id(*job, i); };
        d = copy_layer(*t.layer, diff_id, t.can_modify, outcome, t.want_diff_id, rank);
      } catch (const Error& e) {
        rethrow_with_context("copying blob " + t.layer->digest, e);
      }
      for (const auto& [job, i] : t.users) {
        if (job->needs_diff_ids) job->computed_diff_ids[i] = outcome.diff_id;
        // Each user keeps its own URLs and annotations; the annotations are
        // settled here, once, from the outcome (copy_layer leaves them).
        Descriptor mine = d;
        mine.urls = job->src_layers[i].urls;
        mine.annotations = job->src_layers[i].annotations;
        update_annotations(mine.annotations, outcome);
        job->layer_updates[i] = manifest::LayerUpdate{std::move(mine), outcome.op, outcome.algorithm};
      }
    };
    auto work = [&](size_t) {
      while (!failed) {
        const size_t k = next++;
        if (k >= order.size()) return;
        const LayerTask& t = tasks[order[k]];
        try {
          run_task(t, k);
        } catch (...) {
          std::lock_guard<std::mutex> lock(err_mu);
          if (!first_error) {
            first_error = std::current_exception();
            error_context = t.config_of ? t.config_of->context : t.users.front().first->context;
          }
          failed = true;
        }
      }
    };
    run_on_threads(std::max(1u, workers), work);
    if (first_error) rethrow_in_context(first_error, error_context);
  }

  // §5.4: the compression a layer stored as `have` ends up in. Only a
  // modifiable manifest lets a layer change form.
  Compression planned_compression(Compression have, bool can_modify) const {
    if (!can_modify) return have;
    const LayerCompression want = dst_.desired_layer_compression();
    const Compression target = opts_.compress_format.value_or(Compression::Gzip);
    if (want == LayerCompression::Compress && have == Compression::None) return target;
    // A zstd:chunked layer already is zstd (containers/image keeps it too).
    if (want == LayerCompression::Compress && have != Compression::None && opts_.compress_format &&
        have != target && !(have == Compression::ZstdChunked && target == Compression::Zstd))
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

  // Nothing reaches the destination before the first layer's bytes, and
  // before them stand the destination's HEAD (has it the blob?), then the
  // source's GET and the upload session's POST. For the first layer of a
  // copy between registries the GET and the POST go out alongside the
  // HEAD, when nothing suggests the destination has the blob: the cache
  // knows it in no repository there, and it cannot be mounted from the
  // source. If the HEAD finds it after all, the GET's answer is dropped
  // after its headers (one connection, and what the network had already
  // carried, are lost) and the session serves the copy's next upload.
  // Later layers wait for their HEAD as before: the first one's transfer
  // hides their round trips.
  bool early_get_wanted(const Descriptor& layer) {
    if (!dst_place_ || !src_place_ || !src_.has_thread_safe_get_blob()) return false;
    if (early_get_taken_.exchange(true)) return false;
    if (src_place_->scope == dst_place_->scope) return false;  // a mount, most likely
    return cache_.locations(dst_place_->transport, dst_place_->scope, layer.digest, 1).empty();
  }

  void record_destination_location(const std::string& digest) {
    if (dst_place_) cache_.record_location(dst_place_->transport, dst_place_->scope, digest, dst_place_->location);
  }
  void record_source_location(const std::string& digest) {
    if (src_place_) cache_.record_location(src_place_->transport, src_place_->scope, digest, src_place_->location);
  }

  // A blob the cache knows to have the same uncompressed content as `layer`,
  // already stored in `result` form where the destination can reach it:
  // reusing it skips the (re)compression. claimed() is the config's DiffID
  // for this layer (asked only when needed: the config may still be on its
  // way); a substitute found by uncompressed digest is used only if the
  // cache agrees with it, so the image keeps matching its config.
  std::optional<Descriptor> reuse_variant(const Descriptor& layer, const std::function<std::string()>& claimed,
                                          Compression result) {
    if (!layer.urls.empty()) return std::nullopt;
    // A zstd:chunked blob is only usable with the annotations that locate
    // its table of contents, which the cache does not keep.
    if (result == Compression::ZstdChunked) return std::nullopt;
    std::string media_type;
    try {
      media_type = converted_media_type(layer.media_type, result);
    } catch (const Error&) {
      return std::nullopt;
    }
    auto try_variant = [&](const std::string& v) -> std::optional<Descriptor> {
      if (v == layer.digest || digest_problem(v) != nullptr) return std::nullopt;
      Descriptor want = layer;
      want.digest = v;
      want.size = -1;
      want.media_type = media_type;
      auto reused = dst_.try_reuse_blob_from(want, mount_candidates(v, /*in_source=*/false));
      if (!reused || reused->size < 0 || reused->digest != v) return std::nullopt;
      logging::log_debug("Reusing " + v + " (" + compression_name(result) + ") instead of converting " + layer.digest);
      want.size = reused->size;
      return want;
    };
    // ferry's own earlier conversion of these very bytes: the same content
    // by construction, whatever the config claims.
    for (const std::string& v : cache_.conversions(layer.digest, result, kMaxCacheCandidates)) {
      if (auto d = try_variant(v)) return d;
    }
    // Another blob with the same uncompressed content, used only if the
    // cache's (hashed) uncompressed digests agree with the config.
    const std::string diff_id = claimed();
    if (diff_id.empty()) return std::nullopt;
    const std::string uncompressed = cache_.uncompressed_digest(layer.digest);
    if (uncompressed.empty() || uncompressed != diff_id) return std::nullopt;
    const std::string transport = dst_place_ ? dst_place_->transport : "";
    const std::string scope = dst_place_ ? dst_place_->scope : "";
    for (const std::string& v : cache_.variants(uncompressed, result, transport, scope, kMaxCacheCandidates)) {
      if (cache_.uncompressed_digest(v) != diff_id) continue;
      if (auto d = try_variant(v)) return d;
    }
    return std::nullopt;
  }

  // The layer as the destination already has it (HEAD, mount), or as an
  // earlier conversion left it there; nullopt: it must be copied.
  // `planned` is what the layer becomes (meaningful when `known`).
  std::optional<Descriptor> try_reuse_layer(const Descriptor& layer, const std::function<std::string()>& diff_id,
                                            std::optional<Compression> known, Compression planned,
                                            bool converting) {
    // Forced format: the original only if it already is in that form
    // (which needs knowing its form: the bytes will tell otherwise).
    const bool original_acceptable = !opts_.force_compress_format || (known && !converting);
    // Mounting the unconverted blob from elsewhere would undo the
    // conversion; the destination's own copy is reused as before.
    std::vector<std::string> mounts;
    if (original_acceptable && !converting) mounts = mount_candidates(layer.digest, /*in_source=*/true);
    if (auto reused = original_acceptable ? dst_.try_reuse_blob_from(layer, mounts) : std::nullopt) {
      report_.blob_skipped("blob", layer.digest);
      record_destination_location(reused->digest);
      Descriptor d = *reused;
      d.media_type = layer.media_type;
      d.urls = layer.urls;
      d.annotations = layer.annotations;
      return d;
    }
    if (converting) {
      if (auto v = reuse_variant(layer, diff_id, planned)) {
        report_.blob_skipped("blob", layer.digest);
        record_destination_location(v->digest);
        return v;
      }
    }
    return std::nullopt;
  }

  // What became of one layer besides its new descriptor.
  struct LayerOutcome {
    manifest::CompressionOp op = manifest::CompressionOp::kPreserve;
    std::string algorithm;  // of op: "gzip", "zstd"; "" when preserved or decompressed
    std::string diff_id;    // when asked for
    std::map<std::string, std::string> new_annotations;  // zstd:chunked's, when written
  };

  // The annotations a layer copied with this outcome carries: the
  // source's, less a zstd:chunked table of contents that no longer
  // describes the bytes, plus the new one.
  static void update_annotations(std::map<std::string, std::string>& annotations, const LayerOutcome& outcome) {
    if (outcome.op != manifest::CompressionOp::kPreserve) {
      annotations.erase(kZstdChunkedManifestChecksum);
      annotations.erase(kZstdChunkedManifestPosition);
    }
    for (const auto& [k, v] : outcome.new_annotations) annotations[k] = v;
  }

  // want_diff_id (a schema 1 conversion): outcome.diff_id is the layer's
  // DiffID, from the cache when it knows it, else computed from the bytes.
  // rank: the layer's place in the pool's order, for compressor slots.
  Descriptor copy_layer(const Descriptor& layer, const std::function<std::string()>& diff_id, bool can_modify,
                        LayerOutcome& outcome, bool want_diff_id, size_t rank) {
    std::string* uncompressed_out = want_diff_id ? &outcome.diff_id : nullptr;
    // What the layer will probably become, judged before reading it from
    // what an earlier copy saw (or its media type).
    std::optional<Compression> known = cache_.compression(layer.digest);
    if (!known) known = media_type_compression(layer.media_type);
    if (known) known = chunked_if_annotated(*known, layer);
    // What it becomes (meaningful only when known).
    const Compression planned = known ? planned_compression(*known, can_modify) : Compression::None;
    const bool converting = known && planned != *known;

    // A blob whose DiffID nobody has computed yet must be read, even if the
    // destination has it (as containers/image does).
    const bool must_read = uncompressed_out && (*uncompressed_out = cache_.uncompressed_digest(layer.digest)).empty();
    // Valid while an early GET (and its upload session) is in flight.
    std::future<std::pair<std::unique_ptr<Reader>, int64_t>> early;
    if (!must_read && !converting && early_get_wanted(layer)) {
      early = std::async(std::launch::async, [this, &layer] {
        int64_t size = -1;
        auto raw = src_.get_blob(layer, &size);
        return std::make_pair(std::move(raw), size);
      });
      // The upload session too; if the HEAD finds the blob, the next
      // upload of this copy takes it over.
      dst_.prepare_put_blob();
    }
    if (!must_read) {
      if (auto reused = try_reuse_layer(layer, diff_id, known, planned, converting)) {
        if (early.valid()) {
          try {
            early.get();  // dropped unread: its connection closes
          } catch (const std::exception&) {
          }
        }
        if (reused->digest != layer.digest) note_conversion(outcome, *known, planned);
        return *reused;
      }
    }

    // It must be copied: a layer to compress waits for a compressor slot
    // first (compress_slots_), before it opens anything.
    RankedSlots::Hold slot(compress_slots_, rank, converting && planned != Compression::None);

    // The destination may open its upload now, while the source answers.
    // Not when a precomputed digest may still show the upload unneeded.
    if (!early.valid() && !(precompute_ && converting)) dst_.prepare_put_blob();
    int64_t size = -1;
    std::unique_ptr<Reader> raw;
    if (early.valid()) {
      std::tie(raw, size) = early.get();
    } else {
      raw = src_.get_blob(layer, &size);
    }
    raw = std::make_unique<StopCheckingReader>(std::move(raw));
    auto verified = std::make_unique<DigestVerifyingReader>(std::move(raw), layer.digest,
                                                            layer.size >= 0 ? layer.size : size);
    DigestVerifyingReader* verifier = verified.get();
    auto peek = std::make_unique<PeekReader>(std::move(verified));
    std::string head = peek->peek(8);
    const Compression have = chunked_if_annotated(
        detect_compression(reinterpret_cast<const uint8_t*>(head.data()), head.size()), layer);
    const Compression result = planned_compression(have, can_modify);
    // --dest-precompute-digests: a converted layer goes to a temporary file
    // first, so the destination can be asked for its digest before upload.
    // Its progress is reported once that is decided (skipped or uploaded).
    const bool spooling = precompute_ && result != have;

    // Progress counts the source's bytes, whose size is known, even when
    // the stored blob is (re)compressed to a size nobody knows yet.
    std::unique_ptr<Reader> stream = std::move(peek);
    if (!spooling)
      stream = report_.start_blob("blob", layer.digest, layer.size >= 0 ? layer.size : size, std::move(stream));
    // A recompression hashes the uncompressed stream in between only when a
    // schema 1 conversion needs the DiffID (1.6 GB for a 500 MB image, a
    // tenth of the copy's CPU): otherwise the cache records the conversion
    // itself, which is what a repeated copy needs. containers/image does
    // not compute it either.
    UncompressedDigester* between = nullptr;
    DecompressedDigestTee* tee = nullptr;
    ZstdChunkedCompressor* chunked = nullptr;
    if (result != have) {
      if (have != Compression::None) stream = make_decompressor(std::move(stream), have);
      if (must_read && have != Compression::None && result != Compression::None) {
        auto d = std::make_unique<UncompressedDigester>(std::move(stream));
        between = d.get();
        stream = std::move(d);
      }
      if (result != Compression::None) stream = make_compressor(std::move(stream), result, opts_.compress_level, compress_threads_);
      chunked = dynamic_cast<ZstdChunkedCompressor*>(stream.get());
    } else if (must_read && have != Compression::None) {
      auto t = std::make_unique<DecompressedDigestTee>(std::move(stream), have);
      tee = t.get();
      stream = std::move(t);
    }
    // The DiffID, once the stream has been read to its end.
    auto uncompressed_digest = [&](const std::string& stored_digest) -> std::string {
      if (have == Compression::None) return layer.digest;
      if (result == Compression::None) return stored_digest;
      if (between) return between->digest();
      if (tee) return tee->digest();
      return "";
    };
    // A decompressor may stop before the source's last byte; drain it so the
    // source digest is still verified before the image can be committed.
    auto drain_source = [&] {
      uint8_t sink[4096];
      while (verifier->read(sink, sizeof sink) > 0) {
      }
    };

    Descriptor want_desc = layer;
    if (result != have) {
      want_desc.digest.clear();
      want_desc.size = -1;
    }
    // What was stored (or found) under `digest`: the cache learns it, the
    // new descriptor says it.
    auto stored_as = [&](const std::string& digest, int64_t stored_size) {
      record_copied(layer.digest, have, digest, result);
      if (must_read) note_uncompressed(layer.digest, digest, uncompressed_digest(digest), uncompressed_out);
      Descriptor d = layer;
      d.digest = digest;
      d.size = stored_size;
      if (result != have) {
        d.media_type = converted_media_type(layer.media_type, result);
        note_conversion(outcome, have, result);
      }
      if (chunked) outcome.new_annotations = chunked->annotations();
      return d;
    };

    std::optional<SpooledBlob> spool;
    std::unique_ptr<Reader> upload;  // from the spool; stream (and the verifier in it) stays alive
    if (spooling) {
      spool.emplace(temp_dir_);
      spool->fill(*stream);
      drain_source();
      want_desc.digest = spool->digest();
      want_desc.size = spool->size();
      logging::log_debug("Precomputed digest " + want_desc.digest + " of " + layer.digest + " as " +
                     compression_name(result));
      if (dst_.try_reuse_blob_from(want_desc, mount_candidates(want_desc.digest, /*in_source=*/false))) {
        report_.blob_skipped("blob", layer.digest);
        return stored_as(want_desc.digest, want_desc.size);
      }
      upload = report_.start_blob("blob", layer.digest, spool->size(), spool->reader());
    }
    Descriptor stored = dst_.put_blob(upload ? *upload : *stream, want_desc, /*is_config=*/false);
    if (!spooling) drain_source();
    return stored_as(stored.digest, stored.size);
  }

  // A schema 1 layer has no media type to convert; its manifest's
  // conversion derives one from the LayerUpdate instead.
  static std::string converted_media_type(const std::string& media_type, Compression result) {
    return media_type.empty() ? std::string() : layer_media_type_for(media_type, result);
  }

  // Detection sees zstd; the manifest's annotations tell a zstd:chunked
  // layer apart.
  static Compression chunked_if_annotated(Compression c, const Descriptor& layer) {
    return c == Compression::Zstd && is_zstd_chunked(layer.annotations) ? Compression::ZstdChunked : c;
  }

  static void note_conversion(LayerOutcome& outcome, Compression have, Compression result) {
    if (result == have) return;
    outcome.op = result == Compression::None ? manifest::CompressionOp::kDecompress : manifest::CompressionOp::kCompress;
    outcome.algorithm = result == Compression::None ? std::string() : compression_name(result);
  }

  // A DiffID computed by reading the layer: hashed, so the cache may keep it.
  void note_uncompressed(const std::string& src_digest, const std::string& dst_digest,
                         const std::string& uncompressed, std::string* out) {
    if (uncompressed.empty()) throw Error("the DiffID of " + src_digest + " could not be computed");
    BlobInfoCache::Transaction tx(cache_);
    cache_.record_uncompressed(src_digest, uncompressed);
    cache_.record_uncompressed(dst_digest, uncompressed);
    *out = uncompressed;
  }

  // What one streamed copy proved: both digests' compression, the
  // conversion if there was one, the uncompressed digest where one side is
  // uncompressed, and where the blobs are.
  void record_copied(const std::string& src_digest, Compression have, const std::string& dst_digest,
                     Compression result) {
    BlobInfoCache::Transaction tx(cache_);
    record_source_location(src_digest);
    record_destination_location(dst_digest);
    cache_.record_compression(src_digest, have);
    cache_.record_compression(dst_digest, result);
    if (result != have) cache_.record_conversion(src_digest, result, dst_digest);
    std::string uncompressed;
    if (have == Compression::None) uncompressed = src_digest;
    else if (result == Compression::None) uncompressed = dst_digest;
    if (uncompressed.empty()) return;
    cache_.record_uncompressed(src_digest, uncompressed);
    cache_.record_uncompressed(dst_digest, uncompressed);
  }

  static std::string instance_context(size_t i, size_t n) {
    return fmt::format("copying image {}/{} from manifest list", i + 1, n);
  }

  // --all, one instance after the other, each with its own layer pool:
  // skopeo's order of work and of progress lines.
  void copy_instances_in_order(std::vector<Descriptor>& instances) {
    for (size_t i = 0; i < instances.size(); ++i) {
      report_.line(fmt::format("Copying image {} ({}/{})", instances[i].digest, i + 1, instances.size()));
      Descriptor written;
      try {
        ManifestBytes inst = src_.get_manifest(instances[i].digest);
        written = copy_single(inst, instances[i].digest, /*as_instance=*/true);
      } catch (const Error& e) {
        rethrow_with_context(instance_context(i, instances.size()), e);
      }
      instances[i].digest = written.digest;
      instances[i].size = written.size;
      instances[i].media_type = written.media_type;
    }
  }

  // --all with both sides thread-safe: every instance is prepared first
  // (manifests and configs read `workers` at a time), then all their layers
  // go through one pool (a blob the instances share is copied once), then
  // each instance's config and manifest are written in list order. A list
  // too big for kGroupBudget goes through in several such groups.
  void copy_instances_together(std::vector<Descriptor>& instances, unsigned workers) {
    const size_t n = instances.size();
    for (size_t i = 0; i < n; ++i)
      report_.line(fmt::format("Copying image {} ({}/{})", instances[i].digest, i + 1, n));

    size_t next = 0;
    while (next < n) {
      const size_t group_start = next;
      std::vector<std::unique_ptr<ImageJob>> group;
      size_t held = 0;
      while (next < n && held < kGroupBudget) {
        const size_t chunk = std::min<size_t>(workers, n - next);
        std::vector<std::unique_ptr<ImageJob>> jobs(chunk);
        std::vector<std::exception_ptr> errors(chunk);
        run_on_threads(chunk, [&](size_t k) {
          try {
            auto job = std::make_unique<ImageJob>();
            job->instance_digest = instances[next + k].digest;
            job->as_instance = true;
            job->context = instance_context(next + k, n);
            ManifestBytes mb = src_.get_manifest(job->instance_digest);
            prepare(*job, mb, /*defer_lines=*/true);
            jobs[k] = std::move(job);
          } catch (...) {
            errors[k] = std::current_exception();
          }
        });
        // Lines and errors in list order, whichever thread finished first.
        for (size_t k = 0; k < chunk; ++k) {
          if (errors[k]) rethrow_in_context(errors[k], instance_context(next + k, n));
          for (const auto& text : jobs[k]->notes) report_.line(text);
          held += jobs[k]->held_bytes;
          group.push_back(std::move(jobs[k]));
        }
        next += chunk;
      }

      std::vector<ImageJob*> ptrs;
      for (auto& job : group) ptrs.push_back(job.get());
      copy_layers(ptrs, workers);

      for (size_t k = 0; k < group.size(); ++k) {
        Descriptor written;
        try {
          written = finish(*group[k]);
        } catch (const Error& e) {
          rethrow_with_context(group[k]->context, e);
        }
        Descriptor& d = instances[group_start + k];
        d.digest = written.digest;
        d.size = written.size;
        d.media_type = written.media_type;
        group[k].reset();  // its manifest and config are no longer needed
      }
    }
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
      const unsigned w = workers();
      if (w > 1 && instances.size() > 1) copy_instances_together(instances, w);
      else copy_instances_in_order(instances);
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
  const bool precompute_;
  const std::string temp_dir_;  // --tmpdir: where precomputed layers are spooled
  // zstd threads per compressor for the layers being copied (copy_layers).
  int compress_threads_ = 0;
  std::atomic<bool> early_get_taken_{false};  // early_get_wanted: once per copy
  // Layers (re)compressed at once: as many as there are cores, at least
  // two, handed out biggest layer first (the pool's order). A compressor is
  // CPU-bound: six of them time-sharing two cores made a zstd
  // recompression 10-15% slower in CPU and wall time than two at a time
  // (cache contention, and the biggest layer, started first but given a
  // sixth of the CPU, finished last and alone on one core). Only layers
  // that compress take a slot, once their HEAD has shown they must be
  // copied: plain copies and skipped layers keep all the workers.
  RankedSlots compress_slots_{std::max(2u, std::thread::hardware_concurrency())};
};

}  // namespace

CopyResult copy_image(const Policy& policy, const ImageReference& src_ref,
                      const SystemContext& src_ctx, const ImageReference& dst_ref,
                      const SystemContext& dst_ctx, const CopyOptions& opts) {
  // A registry destination starts pinging its registry and fetching its
  // push token as it is created (RegistryClient::warm_up); created while
  // the source reads its manifest, those round trips leave the critical
  // path. Other destinations create files, so they still wait for the
  // source, and a source failure is reported first either way.
  std::future<std::unique_ptr<ImageDestination>> early_dst;
  if (dst_ref.transport_name() == "docker")
    early_dst = std::async(std::launch::async, [&] { return dst_ref.new_destination(dst_ctx); });
  std::unique_ptr<ImageSource> src;
  try {
    src = src_ref.new_source(src_ctx);
  } catch (const Error& e) {
    if (early_dst.valid()) early_dst.wait();  // its failure, if any, is not the one to report
    rethrow_with_context("initializing source " + src_ref.to_string(), e);
  }
  std::unique_ptr<ImageDestination> dst;
  try {
    dst = early_dst.valid() ? early_dst.get() : dst_ref.new_destination(dst_ctx);
  } catch (const Error& e) {
    rethrow_with_context("initializing destination " + dst_ref.to_string(), e);
  }
  ProgressReporter report(opts.report);
  // Keyed by the destination's context, as containers/image does.
  std::unique_ptr<BlobInfoCache> cache = BlobInfoCache::open_default(dst_ctx);
  Copier copier(policy, *src, src_ctx, *dst, dst_ctx, opts, report, *cache);
  CopyResult r;
  r.manifest_digest = copier.run();
  dst->commit();
  return r;
}

}  // namespace ferry
