// The blob-info cache: what earlier copies learned about blobs, so a later
// copy can mount or skip a blob instead of uploading it, and need not repeat
// a recompression.
//
// It records which compressed digest has which uncompressed digest, which
// blob ferry converted into which, which compression each digest uses, and
// where (transport, scope = registry host, location = repository) each blob
// was last seen. containers/image keeps the
// same facts; ferry keeps them in a file of its own
// (ferry-blob-info-cache-v1.sqlite) in the directory containers/image uses,
// so skopeo's cache is never touched.
//
// The cache is advisory: nothing in it is trusted without the destination
// confirming the blob (HEAD / mount), and every failure (read-only home, a
// corrupt or foreign file, a busy database) degrades to "nothing known",
// logged at debug level. It never throws.
//
// The file is bounded: at most once a day (per file) a closing cache
// drops locations not seen for kBlobInfoCacheRetentionSeconds and trims
// every table to a row cap, in one short transaction that is skipped when
// another process is writing. See prune_if_due().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "image/system_context.h"
#include "io/compression.h"

struct sqlite3;

namespace ferry {

inline constexpr const char* kBlobInfoCacheFileName = "ferry-blob-info-cache-v1.sqlite";

// A location (repository) not confirmed for this long has probably been
// deleted or retagged away; a mount attempt from it would only cost a
// round trip. A quarter covers release cycles of images mirrored rarely.
inline constexpr int64_t kBlobInfoCacheRetentionSeconds = 90 * 24 * 3600;
// How often one cache file is pruned: often enough that a day's growth
// is all that accumulates, rarely enough that the cost never shows.
inline constexpr int64_t kBlobInfoCachePruneIntervalSeconds = 24 * 3600;

// The directory the cache lives in: ctx.blob_info_cache_dir, else
// $FERRY_BLOB_INFO_CACHE_DIR, else /var/lib/containers/cache for root and
// ${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache otherwise. Empty when
// none can be determined (no HOME).
std::string blob_info_cache_dir(const SystemContext& ctx);

class BlobInfoCache {
 public:
  // Row caps. Measured with digests, a registry host and repository names
  // of typical length, full tables take about 17 + 13 + 7 + 3.5 MiB, so the
  // file stays near 40 MiB. Each copied blob adds a row or two to
  // locations and compressors, uncompressed digests come from conversions
  // and DiffID hashing, conversions from recompression only.
  struct Limits {
    int64_t retention_seconds = kBlobInfoCacheRetentionSeconds;
    int64_t max_locations = 50000;
    int64_t max_uncompressed_digests = 40000;
    int64_t max_digest_compressors = 40000;
    int64_t max_conversions = 10000;
    // Rows one prune deletes at most, so its write transaction stays well
    // under a second even on a file that grew unbounded before pruning
    // existed; the rest goes in the next prune, which is due at once.
    int64_t max_deletes_per_prune = 10000;
  };

  // The persistent cache for a copy whose destination is configured by ctx
  // (as containers/image keys it); memory-only if that cannot be opened.
  static std::unique_ptr<BlobInfoCache> open_default(const SystemContext& ctx);
  // The cache file in dir (created 0700 if missing); memory-only on failure.
  static std::unique_ptr<BlobInfoCache> open_dir(const std::string& dir);
  static std::unique_ptr<BlobInfoCache> open_memory();

  ~BlobInfoCache();
  BlobInfoCache(const BlobInfoCache&) = delete;
  BlobInfoCache& operator=(const BlobInfoCache&) = delete;

  // Whether facts outlive this process (false for the memory fallback).
  bool persistent() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

  // any_digest's content, decompressed, has digest `uncompressed` (for an
  // uncompressed blob: itself).
  void record_uncompressed(const std::string& any_digest, const std::string& uncompressed);
  // Empty if unknown.
  std::string uncompressed_digest(const std::string& any_digest);

  void record_compression(const std::string& digest, Compression c);
  std::optional<Compression> compression(const std::string& digest);

  // The blob `digest` exists at location (a repository) within scope (a
  // registry host) of transport.
  void record_location(const std::string& transport, const std::string& scope,
                       const std::string& digest, const std::string& location);
  // Locations of digest in that scope, most recently seen first.
  std::vector<std::string> locations(const std::string& transport, const std::string& scope,
                                     const std::string& digest, size_t limit);

  // Digests whose uncompressed digest is `uncompressed` and that are stored
  // with compression c. With a non-empty transport, only those seen in that
  // scope, most recently seen first; otherwise the most recently recorded
  // first.
  std::vector<std::string> variants(const std::string& uncompressed, Compression c,
                                    const std::string& transport, const std::string& scope,
                                    size_t limit);

  // result_digest is source_digest's content converted (by this program)
  // to compression c: a recompression to repeat never, and one that needs
  // no uncompressed digest, which would cost hashing the whole stream.
  void record_conversion(const std::string& source_digest, Compression c, const std::string& result_digest);
  // Results recorded for source_digest and c, most recent first.
  std::vector<std::string> conversions(const std::string& source_digest, Compression c, size_t limit);

  // Groups the records made through it into one transaction (one lock
  // round, one commit); without it each record commits alone.
  class Transaction {
   public:
    explicit Transaction(BlobInfoCache& c);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    BlobInfoCache& cache_;
    std::unique_lock<std::recursive_mutex> lock_;
    bool open_ = false;
  };

  enum class PruneResult {
    Skipped,     // memory-only, or inside a Transaction
    NotDue,      // pruned less than a day ago (by any process)
    Pruned,      // bounds enforced; next prune due in a day
    Incomplete,  // max_deletes_per_prune reached; due again at once
    Busy,        // another connection was writing: left for a later one
    Failed,      // logged at debug level
  };
  // Enforces the retention and the row caps if the file was last pruned a
  // day ago or more (or never). Costs one indexed read when not due. Never
  // waits for another writer and never throws; the destructor calls it.
  PruneResult prune_if_due();

  // Seconds since the epoch used for last_seen; tests make it deterministic.
  void set_clock_for_testing(std::function<int64_t()> clock) { clock_ = std::move(clock); }
  void set_limits_for_testing(const Limits& limits) { limits_ = limits; }

 private:
  BlobInfoCache(sqlite3* db, std::string path);

  bool exec(const char* sql);
  void note_failure(const char* what);
  PruneResult prune_locked(int64_t now);

  sqlite3* db_ = nullptr;  // null: every operation is a no-op
  std::string path_;       // empty: memory only
  std::recursive_mutex mu_;
  std::function<int64_t()> clock_;
  Limits limits_;
  bool warned_ = false;
};

}  // namespace ferry
