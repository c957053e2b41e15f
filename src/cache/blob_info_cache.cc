#include "cache/blob_info_cache.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "io/fs.h"
#include "util/error.h"
#include "util/log.h"

namespace ferry {

namespace {

// Marks the file as ferry's (PRAGMA application_id, "FRY1") so a foreign or
// future-format SQLite file under this name is recognised and replaced
// rather than misread.
constexpr int kApplicationId = 0x46525931;
// 2 added `conversions`; 3 added `meta` (the last prune time) and an index
// on known_locations.last_seen for pruning. Older files are upgraded in
// place.
constexpr int kSchemaVersion = 3;
// Concurrent ferry processes hold the write lock for one short transaction;
// waiting this long only matters on a badly stalled disk.
constexpr int kBusyTimeoutMs = 10000;
// Every value is a digest, a host or a repository name; a hostile file with
// huge rows then fails with SQLITE_TOOBIG instead of being read into memory.
constexpr int kMaxRowLength = 64 * 1024;
constexpr int kLockAttempts = 1000;  // × 10 ms
// The WAL file is reused, not shrunk, after a checkpoint; without a limit it
// would keep the size of the largest transaction ever written to it.
constexpr int kJournalSizeLimit = 4 * 1024 * 1024;

// result_digest is source_digest's content, converted by ferry itself to
// compressor. Known by construction, so unlike an uncompressed digest it
// needs no hashing of the uncompressed stream to be trusted.
const char* const kCreateConversions =
    "CREATE TABLE conversions ("
    " source_digest TEXT NOT NULL, compressor TEXT NOT NULL, result_digest TEXT NOT NULL,"
    " PRIMARY KEY (source_digest, compressor, result_digest))";

// Small facts about the file itself; "last_prune" is the time of the last
// complete prune, in the clock's seconds.
const char* const kCreateMeta =
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)";
// Expiry and the location cap take the oldest rows first; without it each
// prune would scan and sort the whole table.
const char* const kCreateLocationsByLastSeen =
    "CREATE INDEX known_locations_by_last_seen ON known_locations (last_seen)";

const char* const kSchema[] = {
    "CREATE TABLE uncompressed_digests ("
    " any_digest TEXT PRIMARY KEY NOT NULL,"
    " uncompressed_digest TEXT NOT NULL)",
    "CREATE INDEX uncompressed_digests_by_value ON uncompressed_digests (uncompressed_digest)",
    "CREATE TABLE digest_compressors ("
    " digest TEXT PRIMARY KEY NOT NULL,"
    " compressor TEXT NOT NULL)",
    "CREATE TABLE known_locations ("
    " transport TEXT NOT NULL, scope TEXT NOT NULL, digest TEXT NOT NULL,"
    " location TEXT NOT NULL, last_seen INTEGER NOT NULL,"
    " PRIMARY KEY (transport, scope, digest, location))",
    kCreateConversions,
    kCreateMeta,
    kCreateLocationsByLastSeen,
};

// The tables without a timestamp are capped by rowid, oldest first. An
// upsert (ON CONFLICT DO UPDATE / DO NOTHING) would keep a row's first
// rowid, so a fact every copy re-learns would still be evicted as if
// unused since it was first recorded; REPLACE gives a re-recorded fact a
// new rowid, making the cap evict what no copy has recorded for longest
// (and "most recently recorded first" below mean just that).
const char* const kInsertUncompressed =
    "INSERT OR REPLACE INTO uncompressed_digests (any_digest, uncompressed_digest) VALUES (?1, ?2)";
const char* const kSelectUncompressed =
    "SELECT uncompressed_digest FROM uncompressed_digests WHERE any_digest = ?1";
const char* const kInsertCompressor = "INSERT OR REPLACE INTO digest_compressors (digest, compressor) VALUES (?1, ?2)";
const char* const kSelectCompressor = "SELECT compressor FROM digest_compressors WHERE digest = ?1";
const char* const kInsertLocation =
    "INSERT INTO known_locations (transport, scope, digest, location, last_seen)"
    " VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT (transport, scope, digest, location)"
    " DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)";
const char* const kSelectLocations =
    "SELECT location FROM known_locations WHERE transport = ?1 AND scope = ?2 AND digest = ?3"
    " ORDER BY last_seen DESC, location LIMIT ?4";
const char* const kSelectVariantsInScope =
    "SELECT u.any_digest FROM uncompressed_digests u"
    " JOIN digest_compressors c ON c.digest = u.any_digest"
    " JOIN known_locations k ON k.digest = u.any_digest AND k.transport = ?3 AND k.scope = ?4"
    " WHERE u.uncompressed_digest = ?1 AND c.compressor = ?2"
    " GROUP BY u.any_digest ORDER BY max(k.last_seen) DESC, u.any_digest LIMIT ?5";
const char* const kInsertConversion =
    "INSERT OR REPLACE INTO conversions (source_digest, compressor, result_digest) VALUES (?1, ?2, ?3)";
const char* const kSelectConversions =
    "SELECT result_digest FROM conversions WHERE source_digest = ?1 AND compressor = ?2"
    " ORDER BY rowid DESC LIMIT ?3";
const char* const kSelectVariants =
    "SELECT u.any_digest FROM uncompressed_digests u"
    " JOIN digest_compressors c ON c.digest = u.any_digest"
    " WHERE u.uncompressed_digest = ?1 AND c.compressor = ?2"
    " ORDER BY u.rowid DESC LIMIT ?3";

const char* const kSelectLastPrune = "SELECT value FROM meta WHERE key = 'last_prune'";
const char* const kSetLastPrune =
    "INSERT INTO meta (key, value) VALUES ('last_prune', ?1)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const char* const kDeleteExpiredLocations =
    "DELETE FROM known_locations WHERE rowid IN"
    " (SELECT rowid FROM known_locations WHERE last_seen < ?1 ORDER BY last_seen LIMIT ?2)";

// A table trimmed to limits.*cap rows by deleting its oldest (first in
// delete_oldest's order) ?1 rows.
struct CappedTable {
  const char* what;
  const char* count;
  const char* delete_oldest;
  int64_t BlobInfoCache::Limits::*cap;
};
const CappedTable kCappedTables[] = {
    {"locations", "SELECT count(*) FROM known_locations",
     "DELETE FROM known_locations WHERE rowid IN"
     " (SELECT rowid FROM known_locations ORDER BY last_seen, rowid LIMIT ?1)",
     &BlobInfoCache::Limits::max_locations},
    {"uncompressed digests", "SELECT count(*) FROM uncompressed_digests",
     "DELETE FROM uncompressed_digests WHERE rowid IN"
     " (SELECT rowid FROM uncompressed_digests ORDER BY rowid LIMIT ?1)",
     &BlobInfoCache::Limits::max_uncompressed_digests},
    {"compressors", "SELECT count(*) FROM digest_compressors",
     "DELETE FROM digest_compressors WHERE rowid IN"
     " (SELECT rowid FROM digest_compressors ORDER BY rowid LIMIT ?1)",
     &BlobInfoCache::Limits::max_digest_compressors},
    {"conversions", "SELECT count(*) FROM conversions",
     "DELETE FROM conversions WHERE rowid IN (SELECT rowid FROM conversions ORDER BY rowid LIMIT ?1)",
     &BlobInfoCache::Limits::max_conversions},
};

// Preparing these proves an existing file has the tables and columns
// this code uses.
const char* const kAllStatements[] = {kInsertUncompressed, kSelectUncompressed, kInsertCompressor,
                                      kSelectCompressor,   kInsertLocation,     kSelectLocations,
                                      kSelectVariantsInScope, kSelectVariants, kInsertConversion,
                                      kSelectConversions, kSelectLastPrune,  kSetLastPrune,
                                      kDeleteExpiredLocations};

// Stored compressor names (containers/image's, "uncompressed" included).
const char* compressor_name(Compression c) {
  switch (c) {
    case Compression::None: return "uncompressed";
    case Compression::Gzip: return "gzip";
    case Compression::Bzip2: return "bzip2";
    case Compression::Xz: return "xz";
    case Compression::Zstd: return "zstd";
    case Compression::ZstdChunked: return "zstd:chunked";
  }
  return "unknown";
}

std::optional<Compression> compressor_from_name(const std::string& s) {
  for (Compression c : {Compression::None, Compression::Gzip, Compression::Bzip2, Compression::Xz,
                        Compression::Zstd, Compression::ZstdChunked}) {
    if (s == compressor_name(c)) return c;
  }
  return std::nullopt;
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (db) rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK && s_ != nullptr; }
  int rc() const { return rc_; }

  Stmt& text(int i, const std::string& v) {
    if (ok() && v.size() > static_cast<size_t>(INT_MAX)) rc_ = SQLITE_TOOBIG;
    if (ok()) set(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& integer(int i, int64_t v) {
    if (ok()) set(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code (also kept in rc()).
  int step() {
    if (!ok()) return rc_ == SQLITE_OK ? SQLITE_ERROR : rc_;
    int r = sqlite3_step(s_);
    if (r != SQLITE_ROW && r != SQLITE_DONE) rc_ = r;
    return r;
  }
  std::string column_text(int i) {
    const unsigned char* p = sqlite3_column_text(s_, i);
    int n = sqlite3_column_bytes(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  int64_t column_int(int i) { return sqlite3_column_int64(s_, i); }

 private:
  void set(int r) {
    if (r != SQLITE_OK) rc_ = r;
  }

  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_MISUSE;
};

std::string db_error(sqlite3* db, int rc) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return msg.empty() ? sqlite3_errstr(rc) : msg;
}

bool exec_sql(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Limits what an opened file can make this process do: no oversized
// values, no SQL smuggled in through triggers or views, no writes to the
// schema except through our own statements.
void configure(sqlite3* db) {
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, kMaxRowLength);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
}

enum class Opened { Ok, Broken, Unavailable };

Opened classify(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT ? Opened::Broken : Opened::Unavailable;
}

bool create_schema(sqlite3* db) {
  if (!exec_sql(db, "BEGIN IMMEDIATE")) return false;
  bool ok = true;
  for (const char* sql : kSchema) ok = ok && exec_sql(db, sql);
  ok = ok && exec_sql(db, ("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
  ok = ok && exec_sql(db, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  ok = ok && exec_sql(db, "COMMIT");
  if (!ok) exec_sql(db, "ROLLBACK");
  return ok;
}

// Reads a one-integer PRAGMA or query; nullopt (with *rc) on failure.
std::optional<int64_t> query_int(sqlite3* db, const char* sql, int* rc) {
  Stmt s(db, sql);
  int r = s.step();
  if (r != SQLITE_ROW) {
    *rc = s.rc() == SQLITE_OK ? r : s.rc();
    return std::nullopt;
  }
  return s.column_int(0);
}

// Brings a version-1 or -2 file to kSchemaVersion, each step adding what
// its version added. SQLITE_OK, or the code of the step that failed (read
// before ROLLBACK, which would reset it).
int upgrade(sqlite3* db) {
  if (!exec_sql(db, "BEGIN IMMEDIATE")) return sqlite3_errcode(db);
  // Another process may have upgraded it between our check and the lock.
  int rc = SQLITE_OK;
  auto version = query_int(db, "PRAGMA user_version", &rc);
  bool ok = version.has_value();
  if (ok && (*version == 1 || *version == 2)) {
    if (*version == 1) ok = exec_sql(db, kCreateConversions);
    ok = ok && exec_sql(db, kCreateMeta) && exec_sql(db, kCreateLocationsByLastSeen) &&
         exec_sql(db, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  }
  ok = ok && exec_sql(db, "COMMIT");
  if (ok) return SQLITE_OK;
  int code = version ? sqlite3_errcode(db) : rc;
  exec_sql(db, "ROLLBACK");
  return code == SQLITE_OK ? SQLITE_ERROR : code;
}

// Opens (creating if new) and validates the file at path. *why explains a
// failure for the debug log.
Opened open_file(const std::string& path, sqlite3** out, std::string* why) {
  *out = nullptr;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
                               SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  auto fail = [&](Opened kind, int code, const std::string& what) {
    *why = what + ": " + db_error(db, code);
    sqlite3_close_v2(db);
    return kind;
  };
  if (rc != SQLITE_OK) return fail(classify(rc), rc, "opening");
  configure(db);
  if (sqlite3_db_readonly(db, "main") == 1) return fail(Opened::Unavailable, SQLITE_READONLY, "opening");

  {
    Stmt wal(db, "PRAGMA journal_mode = WAL");
    int r = wal.step();
    if (r != SQLITE_ROW) return fail(classify(wal.rc()), wal.rc(), "enabling WAL");
    // A file system without shared memory keeps the rollback journal;
    // busy_timeout still serializes writers then.
    if (wal.column_text(0) != "wal") logging::log_debug("blob-info cache " + path + " is not in WAL mode");
  }
  exec_sql(db, "PRAGMA synchronous = NORMAL");
  exec_sql(db, ("PRAGMA journal_size_limit = " + std::to_string(kJournalSizeLimit)).c_str());

  int qrc = SQLITE_OK;
  auto app = query_int(db, "PRAGMA application_id", &qrc);
  auto version = app ? query_int(db, "PRAGMA user_version", &qrc) : std::nullopt;
  auto objects = version ? query_int(db, "SELECT count(*) FROM sqlite_schema", &qrc) : std::nullopt;
  if (!objects) return fail(classify(qrc), qrc, "reading the schema");

  if (*app == 0 && *version == 0 && *objects == 0) {
    if (!create_schema(db)) {
      int code = sqlite3_errcode(db);
      return fail(classify(code), code, "creating the schema");
    }
  } else if (*app == kApplicationId && (*version == 1 || *version == 2)) {
    if (int code = upgrade(db); code != SQLITE_OK) {
      // SQLITE_ERROR: the file's own tables are in the way (a `meta` of
      // another shape, say), which no later attempt would get past.
      return fail((code & 0xff) == SQLITE_ERROR ? Opened::Broken : classify(code), code, "upgrading the schema");
    }
  } else if (*app != kApplicationId || *version != kSchemaVersion) {
    *why = "not a ferry blob-info cache (application_id " + std::to_string(*app) + ", user_version " +
           std::to_string(*version) + ")";
    sqlite3_close_v2(db);
    return Opened::Broken;
  }
  for (const char* sql : kAllStatements) {
    Stmt s(db, sql);
    if (!s.ok()) return fail(Opened::Broken, s.rc(), "checking the schema");
  }
  for (const CappedTable& t : kCappedTables) {
    for (const char* sql : {t.count, t.delete_oldest}) {
      Stmt s(db, sql);
      if (!s.ok()) return fail(Opened::Broken, s.rc(), "checking the schema");
    }
  }
  *out = db;
  return Opened::Ok;
}

sqlite3* open_memory_db() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  configure(db);
  if (!create_schema(db)) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  return db;
}

// An exclusive flock on "<cache>.lock" while the file is opened, checked and
// possibly replaced, so one process never deletes a file another has just
// created. Held only during open; the database's own locking covers use.
class OpenLock {
 public:
  explicit OpenLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd_ < 0) {
      why_ = "opening " + path + ": " + errno_text(errno);
      return;
    }
    struct stat st;
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      why_ = path + " is not a regular file";
      return;
    }
    for (int i = 0; i < kLockAttempts; ++i) {
      if (flock(fd_, LOCK_EX | LOCK_NB) == 0) {
        locked_ = true;
        return;
      }
      if (errno != EWOULDBLOCK && errno != EINTR) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    why_ = "locking " + path + ": " + errno_text(errno);
  }
  ~OpenLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }
  OpenLock(const OpenLock&) = delete;
  OpenLock& operator=(const OpenLock&) = delete;
  bool locked() const { return locked_; }
  const std::string& why() const { return why_; }

 private:
  int fd_ = -1;
  bool locked_ = false;
  std::string why_;
};

// Pruning never waits for another writer: whichever process closes the
// cache next prunes instead. Once it holds the write lock it waits as
// usual (in rollback-journal mode a commit waits for readers to finish).
class NoBusyWait {
 public:
  explicit NoBusyWait(sqlite3* db) : db_(db) { sqlite3_busy_timeout(db_, 0); }
  ~NoBusyWait() { sqlite3_busy_timeout(db_, kBusyTimeoutMs); }
  NoBusyWait(const NoBusyWait&) = delete;
  NoBusyWait& operator=(const NoBusyWait&) = delete;

 private:
  sqlite3* db_;
};

bool is_busy(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

void remove_database_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
}

}  // namespace

std::string blob_info_cache_dir(const SystemContext& ctx) {
  if (!ctx.blob_info_cache_dir.empty()) return ctx.blob_info_cache_dir;
  if (const char* env = std::getenv("FERRY_BLOB_INFO_CACHE_DIR"); env && *env) return env;
  if (::geteuid() == 0) return "/var/lib/containers/cache";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/containers/cache";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/containers/cache";
  return "";
}

BlobInfoCache::BlobInfoCache(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), clock_([] { return static_cast<int64_t>(std::time(nullptr)); }) {}

BlobInfoCache::~BlobInfoCache() {
  try {
    prune_if_due();
  } catch (...) {  // nothing in it throws but allocation (or a test's clock)
  }
  sqlite3_close_v2(db_);
}

std::unique_ptr<BlobInfoCache> BlobInfoCache::open_memory() {
  return std::unique_ptr<BlobInfoCache>(new BlobInfoCache(open_memory_db(), ""));
}

std::unique_ptr<BlobInfoCache> BlobInfoCache::open_default(const SystemContext& ctx) {
  std::string dir = blob_info_cache_dir(ctx);
  if (dir.empty()) {
    logging::log_debug("No directory for the blob info cache (HOME unset), using a memory-only cache");
    return open_memory();
  }
  return open_dir(dir);
}

std::unique_ptr<BlobInfoCache> BlobInfoCache::open_dir(const std::string& dir) {
  const std::string path = dir + "/" + kBlobInfoCacheFileName;
  auto memory_only = [&](const std::string& why) {
    logging::log_debug("Error creating a blob info cache at " + path + ", using a memory-only cache: " + why);
    return open_memory();
  };
  try {
    make_dirs(dir, 0700);
  } catch (const Error& e) {
    return memory_only(e.what());
  }
  // SQLite would follow a symlink or block reading a FIFO planted under
  // one of its names.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    std::string p = path + suffix;
    if (::lstat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return memory_only(p + " is not a regular file");
  }

  OpenLock lock(path + ".lock");
  if (!lock.locked()) return memory_only(lock.why());

  sqlite3* db = nullptr;
  std::string why;
  Opened r = open_file(path, &db, &why);
  if (r == Opened::Broken) {
    logging::log_debug("Replacing the unusable blob info cache " + path + " (" + why + ")");
    remove_database_files(path);
    r = open_file(path, &db, &why);
  }
  if (r != Opened::Ok) return memory_only(why);
  logging::log_debug("Using blob info cache at " + path);
  return std::unique_ptr<BlobInfoCache>(new BlobInfoCache(db, path));
}

bool BlobInfoCache::exec(const char* sql) { return db_ && exec_sql(db_, sql); }

void BlobInfoCache::note_failure(const char* what) {
  // A cache that cannot be written costs only speed; say so once.
  if (warned_) return;
  warned_ = true;
  logging::log_debug(std::string("Blob info cache ") + (path_.empty() ? "(memory)" : path_) + ": " + what +
                 " failed: " + db_error(db_, sqlite3_errcode(db_)));
}

void BlobInfoCache::record_uncompressed(const std::string& any_digest, const std::string& uncompressed) {
  if (!db_ || any_digest.empty() || uncompressed.empty()) return;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kInsertUncompressed);
  if (s.text(1, any_digest).text(2, uncompressed).step() != SQLITE_DONE) note_failure("recording a digest pair");
}

std::string BlobInfoCache::uncompressed_digest(const std::string& any_digest) {
  if (!db_ || any_digest.empty()) return "";
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kSelectUncompressed);
  if (s.text(1, any_digest).step() != SQLITE_ROW) return "";
  return s.column_text(0);
}

void BlobInfoCache::record_compression(const std::string& digest, Compression c) {
  if (!db_ || digest.empty()) return;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kInsertCompressor);
  if (s.text(1, digest).text(2, compressor_name(c)).step() != SQLITE_DONE) note_failure("recording a compressor");
}

std::optional<Compression> BlobInfoCache::compression(const std::string& digest) {
  if (!db_ || digest.empty()) return std::nullopt;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kSelectCompressor);
  if (s.text(1, digest).step() != SQLITE_ROW) return std::nullopt;
  return compressor_from_name(s.column_text(0));
}

void BlobInfoCache::record_location(const std::string& transport, const std::string& scope,
                                    const std::string& digest, const std::string& location) {
  if (!db_ || transport.empty() || digest.empty() || location.empty()) return;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kInsertLocation);
  s.text(1, transport).text(2, scope).text(3, digest).text(4, location).integer(5, clock_());
  if (s.step() != SQLITE_DONE) note_failure("recording a location");
}

std::vector<std::string> BlobInfoCache::locations(const std::string& transport, const std::string& scope,
                                                  const std::string& digest, size_t limit) {
  std::vector<std::string> out;
  if (!db_ || digest.empty() || limit == 0) return out;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kSelectLocations);
  s.text(1, transport).text(2, scope).text(3, digest).integer(4, static_cast<int64_t>(std::min<size_t>(limit, 1000)));
  while (s.step() == SQLITE_ROW) out.push_back(s.column_text(0));
  return out;
}

std::vector<std::string> BlobInfoCache::variants(const std::string& uncompressed, Compression c,
                                                 const std::string& transport, const std::string& scope,
                                                 size_t limit) {
  std::vector<std::string> out;
  if (!db_ || uncompressed.empty() || limit == 0) return out;
  const auto n = static_cast<int64_t>(std::min<size_t>(limit, 1000));
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (transport.empty()) {
    Stmt s(db_, kSelectVariants);
    s.text(1, uncompressed).text(2, compressor_name(c)).integer(3, n);
    while (s.step() == SQLITE_ROW) out.push_back(s.column_text(0));
  } else {
    Stmt s(db_, kSelectVariantsInScope);
    s.text(1, uncompressed).text(2, compressor_name(c)).text(3, transport).text(4, scope).integer(5, n);
    while (s.step() == SQLITE_ROW) out.push_back(s.column_text(0));
  }
  return out;
}

void BlobInfoCache::record_conversion(const std::string& source_digest, Compression c,
                                      const std::string& result_digest) {
  if (!db_ || source_digest.empty() || result_digest.empty() || source_digest == result_digest) return;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kInsertConversion);
  if (s.text(1, source_digest).text(2, compressor_name(c)).text(3, result_digest).step() != SQLITE_DONE)
    note_failure("recording a conversion");
}

std::vector<std::string> BlobInfoCache::conversions(const std::string& source_digest, Compression c,
                                                    size_t limit) {
  std::vector<std::string> out;
  if (!db_ || source_digest.empty() || limit == 0) return out;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt s(db_, kSelectConversions);
  s.text(1, source_digest).text(2, compressor_name(c)).integer(3, static_cast<int64_t>(std::min<size_t>(limit, 1000)));
  while (s.step() == SQLITE_ROW) out.push_back(s.column_text(0));
  return out;
}

BlobInfoCache::PruneResult BlobInfoCache::prune_if_due() {
  if (!db_ || path_.empty()) return PruneResult::Skipped;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  // A Transaction is open: its records are not ours to commit.
  if (!sqlite3_get_autocommit(db_)) return PruneResult::Skipped;
  return prune_locked(clock_());
}

BlobInfoCache::PruneResult BlobInfoCache::prune_locked(int64_t now) {
  auto say = [&](const std::string& msg) { logging::log_debug("Blob info cache " + path_ + ": " + msg); };
  // nullopt (with *rc) when the time cannot be read. A time more than an
  // interval ahead (a clock set far back, a garbage value) makes a prune
  // due rather than postponing it indefinitely.
  auto due = [&](int* rc) -> std::optional<bool> {
    Stmt s(db_, kSelectLastPrune);
    int r = s.step();
    if (r == SQLITE_DONE) return true;
    if (r != SQLITE_ROW) {
      *rc = r;
      return std::nullopt;
    }
    int64_t last = s.column_int(0);
    return last > now + kBlobInfoCachePruneIntervalSeconds || last <= now - kBlobInfoCachePruneIntervalSeconds;
  };
  // Busy (another writer: the next close prunes) or Failed, said in the
  // debug log either way; why is read before anything replaces it.
  auto report = [&](const std::string& what, int code, const std::string& why) {
    const bool busy = is_busy(code);
    say((busy ? "pruning left for later, " : "pruning failed, ") + what + ": " + why);
    return busy ? PruneResult::Busy : PruneResult::Failed;
  };
  auto give_up = [&](const std::string& what, int code) { return report(what, code, db_error(db_, code)); };

  int rc = SQLITE_OK;
  auto is_due = due(&rc);
  if (!is_due) return give_up("reading the last prune time", rc);
  if (!*is_due) return PruneResult::NotDue;
  {
    NoBusyWait quick(db_);
    if (!exec("BEGIN IMMEDIATE")) return give_up("starting a transaction", sqlite3_errcode(db_));
  }

  auto roll_back = [&](const std::string& what, int code) {
    std::string why = db_error(db_, code);  // before ROLLBACK replaces it
    exec("ROLLBACK");
    return report(what, code, why);
  };
  // Another process may have pruned between the check and the lock.
  is_due = due(&rc);
  if (!is_due) return roll_back("reading the last prune time", rc);
  if (!*is_due) {
    exec("ROLLBACK");
    return PruneResult::NotDue;
  }

  const int64_t budget = limits_.max_deletes_per_prune;
  int64_t removed = 0;
  bool complete = true;
  {
    Stmt s(db_, kDeleteExpiredLocations);
    s.integer(1, now - limits_.retention_seconds).integer(2, budget);
    if (s.step() != SQLITE_DONE) return roll_back("deleting expired locations", s.rc());
    removed += sqlite3_changes64(db_);
    if (removed >= budget) complete = false;  // there may be more
  }
  for (const CappedTable& t : kCappedTables) {
    int64_t excess = 0;
    {
      Stmt count(db_, t.count);
      if (count.step() != SQLITE_ROW) return roll_back(std::string("counting ") + t.what, count.rc());
      excess = count.column_int(0) - limits_.*t.cap;
    }
    if (excess <= 0) continue;
    const int64_t n = std::min(excess, budget - removed);
    if (n < excess) complete = false;
    if (n <= 0) break;
    Stmt s(db_, t.delete_oldest);
    if (s.integer(1, n).step() != SQLITE_DONE) return roll_back(std::string("trimming ") + t.what, s.rc());
    removed += sqlite3_changes64(db_);
  }
  if (complete) {
    Stmt s(db_, kSetLastPrune);
    if (s.integer(1, now).step() != SQLITE_DONE) return roll_back("recording the prune time", s.rc());
  }
  if (!exec("COMMIT")) return roll_back("committing", sqlite3_errcode(db_));
  if (removed > 0 || !complete)
    say("pruned " + std::to_string(removed) + " rows" + (complete ? "" : ", more next time"));
  return complete ? PruneResult::Pruned : PruneResult::Incomplete;
}

BlobInfoCache::Transaction::Transaction(BlobInfoCache& c) : cache_(c), lock_(c.mu_) {
  open_ = cache_.exec("BEGIN IMMEDIATE");
  if (!open_ && cache_.db_) cache_.note_failure("starting a transaction");
}

BlobInfoCache::Transaction::~Transaction() {
  if (!open_) return;
  if (!cache_.exec("COMMIT")) {
    cache_.note_failure("committing");
    cache_.exec("ROLLBACK");
  }
}

}  // namespace ferry
