#include "cache/blob_info_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <optional>
#include <string>

#include "io/fs.h"

namespace ferry {
namespace {

const std::string kG = "sha256:" + std::string(64, 'a');  // a gzip blob
// The schema session-2 ferry wrote (version 1: everything but `conversions`).
const std::string kVersionOneSchema =
    "PRAGMA application_id = 1179801905; PRAGMA user_version = 1;"
    "CREATE TABLE uncompressed_digests (any_digest TEXT PRIMARY KEY NOT NULL,"
    " uncompressed_digest TEXT NOT NULL);"
    "CREATE INDEX uncompressed_digests_by_value ON uncompressed_digests (uncompressed_digest);"
    "CREATE TABLE digest_compressors (digest TEXT PRIMARY KEY NOT NULL, compressor TEXT NOT NULL);"
    "CREATE TABLE known_locations (transport TEXT NOT NULL, scope TEXT NOT NULL, digest TEXT NOT NULL,"
    " location TEXT NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (transport, scope, digest, location));";
const std::string kZ = "sha256:" + std::string(64, 'b');  // its zstd variant
const std::string kU = "sha256:" + std::string(64, 'c');  // their uncompressed content
const std::string kOther = "sha256:" + std::string(64, 'd');

// Concurrency across processes: n children each run body(p) and _exit 0
// when it returns true; the parent goes on while they run.
void fork_children(int n, const std::function<bool(int)>& body, std::vector<pid_t>* kids) {
  for (int p = 0; p < n; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(body(p) ? 0 : 1);
    kids->push_back(pid);
  }
}

void expect_children_succeeded(const std::vector<pid_t>& kids) {
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " status " << status;
  }
}

class ScopedEnv {
 public:
  ScopedEnv& set(const std::string& name, std::optional<std::string> value) {
    if (saved_.count(name) == 0) {
      const char* old = getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      setenv(name.c_str(), value->c_str(), 1);
    else
      unsetenv(name.c_str());
    return *this;
  }
  ~ScopedEnv() {
    for (auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// Runs SQL directly on a file, as another program (or an attacker) would.
void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::string file_head(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

class BlobInfoCacheTest : public ::testing::Test {
 protected:
  std::string db_path() const { return dir_.path() + "/" + kBlobInfoCacheFileName; }
  std::unique_ptr<BlobInfoCache> open() { return BlobInfoCache::open_dir(dir_.path()); }

  TempDir dir_{"/tmp", "ferry-bic-test-"};
};

TEST_F(BlobInfoCacheTest, RoundTripsThroughTheFile) {
  {
    auto c = open();
    ASSERT_TRUE(c->persistent());
    EXPECT_EQ(c->path(), db_path());
    c->record_uncompressed(kG, kU);
    c->record_uncompressed(kU, kU);
    c->record_compression(kG, Compression::Gzip);
    c->record_compression(kU, Compression::None);
    c->record_location("docker", "127.0.0.1:5000", kG, "a/repo");
  }
  EXPECT_EQ(file_head(db_path(), 16), std::string("SQLite format 3\0", 16));
  struct stat st;
  ASSERT_EQ(stat(dir_.path().c_str(), &st), 0);
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
  EXPECT_EQ(c->uncompressed_digest(kU), kU);
  EXPECT_EQ(c->uncompressed_digest(kZ), "");
  EXPECT_EQ(c->compression(kG), Compression::Gzip);
  EXPECT_EQ(c->compression(kU), Compression::None);
  EXPECT_EQ(c->compression(kZ), std::nullopt);
  EXPECT_EQ(c->locations("docker", "127.0.0.1:5000", kG, 5), std::vector<std::string>{"a/repo"});
  EXPECT_TRUE(c->locations("docker", "127.0.0.1:5001", kG, 5).empty());
  EXPECT_TRUE(c->locations("oci", "127.0.0.1:5000", kG, 5).empty());
}

TEST_F(BlobInfoCacheTest, CreatesMissingDirectoriesPrivate) {
  std::string sub = dir_.path() + "/x/containers/cache";
  auto c = BlobInfoCache::open_dir(sub);
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->path(), sub + "/" + kBlobInfoCacheFileName);
  struct stat st;
  ASSERT_EQ(stat(sub.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(BlobInfoCacheTest, LaterRecordsReplaceEarlierOnes) {
  auto c = open();
  c->record_uncompressed(kG, kOther);
  c->record_uncompressed(kG, kU);
  c->record_compression(kG, Compression::Zstd);
  c->record_compression(kG, Compression::Gzip);
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
  EXPECT_EQ(c->compression(kG), Compression::Gzip);
}

TEST_F(BlobInfoCacheTest, LocationsNewestFirstAndLimited) {
  auto c = open();
  int64_t now = 100;
  c->set_clock_for_testing([&] { return now; });
  c->record_location("docker", "reg", kG, "old");
  now = 200;
  c->record_location("docker", "reg", kG, "newest");
  now = 150;
  c->record_location("docker", "reg", kG, "middle");
  c->record_location("docker", "reg", kZ, "other-blob");
  EXPECT_EQ(c->locations("docker", "reg", kG, 10), (std::vector<std::string>{"newest", "middle", "old"}));
  EXPECT_EQ(c->locations("docker", "reg", kG, 2), (std::vector<std::string>{"newest", "middle"}));
  EXPECT_TRUE(c->locations("docker", "reg", kG, 0).empty());
  // Seeing a blob again moves it up; an older sighting never moves it down.
  now = 300;
  c->record_location("docker", "reg", kG, "old");
  now = 50;
  c->record_location("docker", "reg", kG, "newest");
  EXPECT_EQ(c->locations("docker", "reg", kG, 10), (std::vector<std::string>{"old", "newest", "middle"}));
}

TEST_F(BlobInfoCacheTest, VariantsByUncompressedDigestAndCompression) {
  auto c = open();
  int64_t now = 10;
  c->set_clock_for_testing([&] { return now; });
  const std::string z2 = "sha256:" + std::string(64, 'e');
  c->record_uncompressed(kG, kU);
  c->record_uncompressed(kZ, kU);
  c->record_uncompressed(z2, kU);
  c->record_uncompressed(kOther, kOther);
  c->record_compression(kG, Compression::Gzip);
  c->record_compression(kZ, Compression::Zstd);
  c->record_compression(z2, Compression::Zstd);
  c->record_compression(kOther, Compression::Zstd);
  c->record_location("docker", "reg", kZ, "z/one");
  now = 20;
  c->record_location("docker", "reg", z2, "z/two");
  c->record_location("docker", "elsewhere", kG, "g");

  EXPECT_EQ(c->variants(kU, Compression::Zstd, "docker", "reg", 5), (std::vector<std::string>{z2, kZ}));
  EXPECT_EQ(c->variants(kU, Compression::Zstd, "docker", "reg", 1), std::vector<std::string>{z2});
  EXPECT_TRUE(c->variants(kU, Compression::Gzip, "docker", "reg", 5).empty());
  EXPECT_EQ(c->variants(kU, Compression::Gzip, "docker", "elsewhere", 5), std::vector<std::string>{kG});
  // Without a scope: every variant, most recently recorded first.
  EXPECT_EQ(c->variants(kU, Compression::Zstd, "", "", 5), (std::vector<std::string>{z2, kZ}));
  EXPECT_EQ(c->variants(kU, Compression::None, "", "", 5), std::vector<std::string>{});
  EXPECT_TRUE(c->variants(kOther, Compression::Gzip, "", "", 5).empty());
}

TEST_F(BlobInfoCacheTest, SqlLookingValuesAreJustData) {
  const std::string evil = "sha256:x'); DROP TABLE known_locations; --";
  const std::string evil_repo = "a\"; DELETE FROM digest_compressors; --\n\x01%_*";
  {
    auto c = open();
    c->record_uncompressed(evil, evil_repo);
    c->record_compression(evil, Compression::Xz);
    c->record_location("docker", "reg' OR '1'='1", evil, evil_repo);
    c->record_location("docker", "reg", kG, "plain");
  }
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->uncompressed_digest(evil), evil_repo);
  EXPECT_EQ(c->compression(evil), Compression::Xz);
  EXPECT_EQ(c->locations("docker", "reg' OR '1'='1", evil, 5), std::vector<std::string>{evil_repo});
  EXPECT_TRUE(c->locations("docker", "reg' OR '1'='1", kG, 5).empty());
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), std::vector<std::string>{"plain"});
  // LIKE-style wildcards match nothing but themselves.
  EXPECT_TRUE(c->locations("docker", "%", kG, 5).empty());
  EXPECT_EQ(c->uncompressed_digest("sha256:%"), "");
}

TEST_F(BlobInfoCacheTest, GarbageFileIsReplaced) {
  {
    std::ofstream out(db_path(), std::ios::binary);
    out << std::string(10000, '\xff') << "not a database";
  }
  auto c = open();
  ASSERT_TRUE(c->persistent());
  c->record_uncompressed(kG, kU);
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
  c.reset();
  EXPECT_EQ(file_head(db_path(), 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(open()->uncompressed_digest(kG), kU);
}

TEST_F(BlobInfoCacheTest, TruncatedHeaderIsReplaced) {
  {
    std::ofstream out(db_path(), std::ios::binary);
    out << std::string("SQLite format 3\0\x10\x00", 18);
  }
  auto c = open();
  ASSERT_TRUE(c->persistent());
  c->record_compression(kG, Compression::Gzip);
  EXPECT_EQ(c->compression(kG), Compression::Gzip);
}

TEST_F(BlobInfoCacheTest, ForeignSqliteFileIsReplaced) {
  raw_sql(db_path(), "CREATE TABLE known_locations (x TEXT); INSERT INTO known_locations VALUES ('keep?');");
  auto c = open();
  ASSERT_TRUE(c->persistent());
  c->record_location("docker", "reg", kG, "repo");
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), std::vector<std::string>{"repo"});
}

TEST_F(BlobInfoCacheTest, OwnIdWithWrongTablesIsReplaced) {
  raw_sql(db_path(),
          "PRAGMA application_id = 1179801905; PRAGMA user_version = 1;"
          "CREATE TABLE uncompressed_digests (a TEXT);");
  auto c = open();
  ASSERT_TRUE(c->persistent());
  c->record_uncompressed(kG, kU);
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
}

TEST_F(BlobInfoCacheTest, FutureVersionIsReplacedNotMisread) {
  { open()->record_uncompressed(kG, kU); }
  raw_sql(db_path(), "PRAGMA user_version = 4;");
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->uncompressed_digest(kG), "");
}

TEST_F(BlobInfoCacheTest, ConversionsBySourceAndCompression) {
  {
    auto c = open();
    c->record_conversion(kG, Compression::Zstd, kZ);
    c->record_conversion(kG, Compression::Zstd, kZ);  // once only
    c->record_conversion(kG, Compression::Zstd, kU);  // another level: newer first
    c->record_conversion(kG, Compression::Gzip, kG);  // to itself: no news
  }
  auto c = open();
  EXPECT_EQ(c->conversions(kG, Compression::Zstd, 5), (std::vector<std::string>{kU, kZ}));
  EXPECT_EQ(c->conversions(kG, Compression::Zstd, 1), std::vector<std::string>{kU});
  EXPECT_TRUE(c->conversions(kG, Compression::Gzip, 5).empty());
  EXPECT_TRUE(c->conversions(kZ, Compression::Zstd, 5).empty());
}

TEST_F(BlobInfoCacheTest, VersionOneFileIsUpgradedKeepingItsFacts) {
  // The schema session-2 ferry wrote: everything but `conversions`.
  raw_sql(db_path(),
          kVersionOneSchema +
          "INSERT INTO uncompressed_digests VALUES ('" + kG + "', '" + kU + "');");
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
  c->record_conversion(kG, Compression::Zstd, kZ);
  EXPECT_EQ(c->conversions(kG, Compression::Zstd, 5), std::vector<std::string>{kZ});
}

TEST_F(BlobInfoCacheTest, HostileRowsAreIgnored) {
  { open()->record_location("docker", "reg", kG, "fine"); }
  // A trigger that would wipe data, an unknown compressor name, and a row
  // far larger than any digest or repository name.
  raw_sql(db_path(),
          "INSERT INTO digest_compressors VALUES ('" + kZ + "', 'lzma');"
          "INSERT INTO known_locations VALUES ('docker', 'reg', '" + kZ + "', zeroblob(2000000), 1);"
          "INSERT INTO uncompressed_digests VALUES ('" + kZ + "', hex(randomblob(500000)));"
          "CREATE TRIGGER wipe AFTER INSERT ON digest_compressors BEGIN DELETE FROM known_locations; END;");
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->compression(kZ), std::nullopt);
  EXPECT_TRUE(c->locations("docker", "reg", kZ, 5).empty());
  EXPECT_EQ(c->uncompressed_digest(kZ), "");
  c->record_compression(kG, Compression::Gzip);  // the trigger does not run
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), std::vector<std::string>{"fine"});
}

TEST_F(BlobInfoCacheTest, UnwritableDirectoryFallsBackToMemory) {
  std::string file = dir_.path() + "/a-file";
  std::ofstream(file) << "x";
  auto c = BlobInfoCache::open_dir(file + "/cache");  // cannot be created, even by root
  EXPECT_FALSE(c->persistent());
  c->record_uncompressed(kG, kU);
  c->record_location("docker", "reg", kG, "r");
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), std::vector<std::string>{"r"});
}

TEST_F(BlobInfoCacheTest, ReadOnlyDirectoryFallsBackToMemory) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  std::string ro = dir_.path() + "/ro";
  make_dirs(ro, 0500);
  auto c = BlobInfoCache::open_dir(ro);
  EXPECT_FALSE(c->persistent());
  c->record_compression(kG, Compression::Zstd);
  EXPECT_EQ(c->compression(kG), Compression::Zstd);
  chmod(ro.c_str(), 0700);
}

TEST_F(BlobInfoCacheTest, ReadOnlyFileFallsBackToMemory) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  { open()->record_compression(kG, Compression::Gzip); }
  chmod(db_path().c_str(), 0400);
  auto c = open();
  EXPECT_FALSE(c->persistent());
  EXPECT_EQ(c->compression(kG), std::nullopt);
  chmod(db_path().c_str(), 0600);
}

TEST_F(BlobInfoCacheTest, NonRegularFilesAreLeftAloneAndNeverBlock) {
  ASSERT_EQ(mkfifo(db_path().c_str(), 0600), 0);
  auto c = open();
  EXPECT_FALSE(c->persistent());
  struct stat st;
  ASSERT_EQ(lstat(db_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  unlink(db_path().c_str());

  make_dirs(db_path());
  EXPECT_FALSE(open()->persistent());
  rmdir(db_path().c_str());

  ASSERT_EQ(mkfifo((db_path() + "-wal").c_str(), 0600), 0);
  EXPECT_FALSE(open()->persistent());
  unlink((db_path() + "-wal").c_str());

  std::string target = dir_.path() + "/elsewhere.sqlite";
  ASSERT_EQ(symlink(target.c_str(), db_path().c_str()), 0);
  EXPECT_FALSE(open()->persistent());
  EXPECT_FALSE(path_exists(target));
}

TEST_F(BlobInfoCacheTest, MemoryCachesAreSeparate) {
  auto a = BlobInfoCache::open_memory();
  auto b = BlobInfoCache::open_memory();
  EXPECT_FALSE(a->persistent());
  a->record_uncompressed(kG, kU);
  EXPECT_EQ(a->uncompressed_digest(kG), kU);
  EXPECT_EQ(b->uncompressed_digest(kG), "");
}

TEST_F(BlobInfoCacheTest, TwoConnectionsSeeEachOthersWrites) {
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a->persistent());
  ASSERT_TRUE(b->persistent());
  {
    BlobInfoCache::Transaction tx(*a);
    a->record_uncompressed(kG, kU);
    a->record_location("docker", "reg", kG, "from-a");
  }
  EXPECT_EQ(b->uncompressed_digest(kG), kU);
  b->record_location("docker", "reg", kG, "from-b");
  auto locs = a->locations("docker", "reg", kG, 5);
  std::sort(locs.begin(), locs.end());
  EXPECT_EQ(locs, (std::vector<std::string>{"from-a", "from-b"}));
}

TEST_F(BlobInfoCacheTest, ConcurrentProcessesLoseNothing) {
  constexpr int kProcs = 4;
  constexpr int kEach = 150;
  std::vector<pid_t> kids;
  ASSERT_NO_FATAL_FAILURE(fork_children(kProcs, [&](int p) {
    int bad = 0;
    for (int i = 0; i < kEach; ++i) {
      // Reopening each time also races the open/validate path.
      auto c = open();
      if (!c->persistent()) ++bad;
      std::string d = "sha256:" + std::to_string(p) + "-" + std::to_string(i);
      BlobInfoCache::Transaction tx(*c);
      c->record_uncompressed(d, kU);
      c->record_compression(d, Compression::Gzip);
      c->record_location("docker", "reg", d, "repo/" + std::to_string(p));
    }
    return bad == 0;
  }, &kids));
  expect_children_succeeded(kids);
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(c->variants(kU, Compression::Gzip, "", "", 10000).size(), static_cast<size_t>(kProcs * kEach));
  for (int p = 0; p < kProcs; ++p) {
    for (int i = 0; i < kEach; ++i) {
      std::string d = "sha256:" + std::to_string(p) + "-" + std::to_string(i);
      ASSERT_EQ(c->locations("docker", "reg", d, 5), std::vector<std::string>{"repo/" + std::to_string(p)}) << d;
    }
  }
}

// The one integer a query on the file yields; -1 if it yields none.
int64_t query_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return v;
}

constexpr int64_t kDay = 24 * 3600;
constexpr int64_t kT0 = 1700000000;  // "now" in most prune tests

std::string digest_n(int i) {
  std::string n = std::to_string(i);
  return "sha256:" + std::string(64 - n.size(), 'f') + n;
}

class BlobInfoCachePrune : public BlobInfoCacheTest {
 protected:
  int64_t rows(const std::string& table) { return query_int(db_path(), "SELECT count(*) FROM " + table); }
  int64_t last_prune() { return query_int(db_path(), "SELECT value FROM meta WHERE key = 'last_prune'"); }
  // A cache whose clock reads *now.
  std::unique_ptr<BlobInfoCache> open_at(const int64_t* now) {
    auto c = open();
    c->set_clock_for_testing([now] { return *now; });
    return c;
  }
  // Locations of kG in docker/reg seen at each time, named "t<time>".
  void seen_at(BlobInfoCache& c, int64_t* now, std::initializer_list<int64_t> times) {
    const int64_t saved = *now;
    for (int64_t t : times) {
      *now = t;
      c.record_location("docker", "reg", kG, "t" + std::to_string(t));
    }
    *now = saved;
  }
};

TEST_F(BlobInfoCachePrune, ExpiredLocationsGoRecentOnesStay) {
  int64_t now = kT0;
  auto c = open_at(&now);
  ASSERT_TRUE(c->persistent());
  const int64_t cutoff = kT0 - kBlobInfoCacheRetentionSeconds;
  seen_at(*c, &now, {cutoff - 5 * kDay, cutoff - 1, cutoff, kT0 - kDay, kT0});
  c->record_location("docker", "reg", kZ, "old-z");  // at kT0, then seen long ago elsewhere:
  now = cutoff - 1;
  c->record_location("docker", "elsewhere", kZ, "old-z");
  now = kT0;
  c->record_uncompressed(kG, kU);
  c->record_compression(kG, Compression::Gzip);
  c->record_conversion(kG, Compression::Zstd, kZ);
  ASSERT_EQ(rows("known_locations"), 7);

  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(rows("known_locations"), 4);
  EXPECT_EQ(c->locations("docker", "reg", kG, 10),
            (std::vector<std::string>{"t" + std::to_string(kT0), "t" + std::to_string(kT0 - kDay),
                                      "t" + std::to_string(cutoff)}));
  EXPECT_EQ(c->locations("docker", "reg", kZ, 10), std::vector<std::string>{"old-z"});
  EXPECT_TRUE(c->locations("docker", "elsewhere", kZ, 10).empty());
  // The other tables have no age; under their caps they are untouched.
  EXPECT_EQ(rows("uncompressed_digests"), 1);
  EXPECT_EQ(rows("digest_compressors"), 1);
  EXPECT_EQ(rows("conversions"), 1);
  EXPECT_EQ(last_prune(), kT0);
}

TEST_F(BlobInfoCachePrune, CapsKeepTheMostRecentRows) {
  int64_t now = 1000;
  auto c = open_at(&now);
  BlobInfoCache::Limits limits;
  limits.max_locations = 3;
  limits.max_uncompressed_digests = 2;
  limits.max_digest_compressors = 2;
  limits.max_conversions = 2;
  c->set_limits_for_testing(limits);
  seen_at(*c, &now, {500, 100, 400, 200, 300});
  for (int i = 1; i <= 4; ++i) {
    c->record_uncompressed(digest_n(i), kU);
    c->record_compression(digest_n(i), Compression::Gzip);
  }
  // Recording a fact again makes it the newest.
  c->record_uncompressed(digest_n(1), kU);
  c->record_compression(digest_n(2), Compression::Zstd);
  c->record_conversion(kG, Compression::Zstd, digest_n(1));
  c->record_conversion(kG, Compression::Zstd, digest_n(2));
  c->record_conversion(kG, Compression::Gzip, digest_n(3));
  c->record_conversion(kG, Compression::Zstd, digest_n(1));
  ASSERT_EQ(rows("known_locations"), 5);
  ASSERT_EQ(rows("uncompressed_digests"), 4);
  ASSERT_EQ(rows("digest_compressors"), 4);
  ASSERT_EQ(rows("conversions"), 3);

  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(rows("known_locations"), 3);
  EXPECT_EQ(rows("uncompressed_digests"), 2);
  EXPECT_EQ(rows("digest_compressors"), 2);
  EXPECT_EQ(rows("conversions"), 2);
  EXPECT_EQ(c->locations("docker", "reg", kG, 10), (std::vector<std::string>{"t500", "t400", "t300"}));
  EXPECT_EQ(c->uncompressed_digest(digest_n(1)), kU);
  EXPECT_EQ(c->uncompressed_digest(digest_n(2)), "");
  EXPECT_EQ(c->uncompressed_digest(digest_n(3)), "");
  EXPECT_EQ(c->uncompressed_digest(digest_n(4)), kU);
  EXPECT_EQ(c->compression(digest_n(1)), std::nullopt);
  EXPECT_EQ(c->compression(digest_n(2)), Compression::Zstd);
  EXPECT_EQ(c->compression(digest_n(3)), std::nullopt);
  EXPECT_EQ(c->compression(digest_n(4)), Compression::Gzip);
  EXPECT_EQ(c->conversions(kG, Compression::Zstd, 5), std::vector<std::string>{digest_n(1)});
  EXPECT_EQ(c->conversions(kG, Compression::Gzip, 5), std::vector<std::string>{digest_n(3)});
}

TEST_F(BlobInfoCachePrune, AtMostOncePerDay) {
  const std::string expired = "INSERT INTO known_locations VALUES ('docker', 'reg', '" + kG + "', 'gone', 5)";
  int64_t now = kT0;
  {
    auto c = open_at(&now);
    raw_sql(db_path(), expired);
  }  // closing prunes
  EXPECT_EQ(rows("known_locations"), 0);
  EXPECT_EQ(last_prune(), kT0);

  raw_sql(db_path(), expired);
  now = kT0 + kDay - 1;
  {
    auto c = open_at(&now);
    EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::NotDue);
  }
  {
    auto c = open_at(&now);  // another process the same day
  }
  EXPECT_EQ(rows("known_locations"), 1);
  EXPECT_EQ(last_prune(), kT0);

  now = kT0 + kDay;
  {
    auto c = open_at(&now);
    EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
    EXPECT_EQ(rows("known_locations"), 0);
    raw_sql(db_path(), expired);
    EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::NotDue);
  }
  EXPECT_EQ(rows("known_locations"), 1);
  EXPECT_EQ(last_prune(), kT0 + kDay);
}

TEST_F(BlobInfoCachePrune, GarbagePruneTimeMakesItDue) {
  int64_t now = kT0;
  { open_at(&now); }
  EXPECT_EQ(last_prune(), kT0);
  raw_sql(db_path(), "UPDATE meta SET value = 9223372036854775807 WHERE key = 'last_prune'");
  auto c = open_at(&now);
  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(last_prune(), kT0);
}

TEST_F(BlobInfoCachePrune, LargeBacklogIsPrunedInBoundedSteps) {
  int64_t now = kT0;
  auto c = open_at(&now);
  BlobInfoCache::Limits limits;
  limits.max_deletes_per_prune = 3;
  limits.max_digest_compressors = 1;
  c->set_limits_for_testing(limits);
  seen_at(*c, &now, {1, 2, 3, 4});
  c->record_compression(kG, Compression::Gzip);
  c->record_compression(kZ, Compression::Zstd);
  c->record_compression(kU, Compression::None);

  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Incomplete);
  EXPECT_EQ(rows("known_locations"), 1);
  EXPECT_EQ(rows("digest_compressors"), 3);
  EXPECT_EQ(last_prune(), -1);  // not recorded: due again at once
  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(rows("known_locations"), 0);
  EXPECT_EQ(rows("digest_compressors"), 1);
  EXPECT_EQ(c->compression(kU), Compression::None);
  EXPECT_EQ(last_prune(), kT0);
  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::NotDue);
}

TEST_F(BlobInfoCachePrune, NewFileHasVersionThreeAndTheIndex) {
  { open()->record_location("docker", "reg", kG, "r"); }
  EXPECT_EQ(query_int(db_path(), "PRAGMA user_version"), 3);
  EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
                                 " name = 'known_locations_by_last_seen' AND tbl_name = 'known_locations'"),
            1);
}

TEST_F(BlobInfoCachePrune, VersionTwoFileIsUpgradedKeepingItsData) {
  // The schema session-2 ferry wrote (version 2): no meta, no last_seen index.
  raw_sql(db_path(),
          "PRAGMA application_id = 1179801905; PRAGMA user_version = 2;"
          "CREATE TABLE uncompressed_digests (any_digest TEXT PRIMARY KEY NOT NULL,"
          " uncompressed_digest TEXT NOT NULL);"
          "CREATE INDEX uncompressed_digests_by_value ON uncompressed_digests (uncompressed_digest);"
          "CREATE TABLE digest_compressors (digest TEXT PRIMARY KEY NOT NULL, compressor TEXT NOT NULL);"
          "CREATE TABLE known_locations (transport TEXT NOT NULL, scope TEXT NOT NULL, digest TEXT NOT NULL,"
          " location TEXT NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (transport, scope, digest, location));"
          "CREATE TABLE conversions (source_digest TEXT NOT NULL, compressor TEXT NOT NULL,"
          " result_digest TEXT NOT NULL, PRIMARY KEY (source_digest, compressor, result_digest));"
          "INSERT INTO uncompressed_digests VALUES ('" + kG + "', '" + kU + "');"
          "INSERT INTO digest_compressors VALUES ('" + kG + "', 'gzip');"
          "INSERT INTO conversions VALUES ('" + kG + "', 'zstd', '" + kZ + "');"
          "INSERT INTO known_locations VALUES ('docker', 'reg', '" + kG + "', 'recent', " +
          std::to_string(kT0 - kDay) + ");"
          "INSERT INTO known_locations VALUES ('docker', 'reg', '" + kG + "', 'ancient', 7);");
  int64_t now = kT0;
  auto c = open_at(&now);
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(query_int(db_path(), "PRAGMA user_version"), 3);
  EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM sqlite_schema WHERE name = 'known_locations_by_last_seen'"),
            1);
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
  EXPECT_EQ(c->compression(kG), Compression::Gzip);
  EXPECT_EQ(c->conversions(kG, Compression::Zstd, 5), std::vector<std::string>{kZ});
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), (std::vector<std::string>{"recent", "ancient"}));
  EXPECT_EQ(last_prune(), -1);

  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), std::vector<std::string>{"recent"});
  EXPECT_EQ(rows("uncompressed_digests"), 1);
  EXPECT_EQ(rows("digest_compressors"), 1);
  EXPECT_EQ(rows("conversions"), 1);
  c.reset();
  EXPECT_EQ(open()->uncompressed_digest(kG), kU);  // reopened as version 3, as is
}

TEST_F(BlobInfoCachePrune, VersionOneFileGetsEveryLaterTable) {
  raw_sql(db_path(),
          kVersionOneSchema +
          "INSERT INTO known_locations VALUES ('docker', 'reg', '" + kG + "', 'ancient', 7);");
  int64_t now = kT0;
  auto c = open_at(&now);
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(query_int(db_path(), "PRAGMA user_version"), 3);
  EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                 " ('conversions', 'meta', 'known_locations_by_last_seen')"),
            3);
  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(rows("known_locations"), 0);
}

TEST_F(BlobInfoCachePrune, UpgradeBlockedByAForeignTableReplacesTheFile) {
  raw_sql(db_path(),
          "PRAGMA application_id = 1179801905; PRAGMA user_version = 2;"
          "CREATE TABLE meta (something TEXT); INSERT INTO meta VALUES ('else');");
  auto c = open();
  ASSERT_TRUE(c->persistent());
  EXPECT_EQ(query_int(db_path(), "PRAGMA user_version"), 3);
  EXPECT_EQ(rows("meta"), 0);
  c->record_uncompressed(kG, kU);
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
}

TEST_F(BlobInfoCachePrune, BusyDatabaseIsSkippedWithoutFailing) {
  int64_t now = kT0;
  auto c = open_at(&now);
  seen_at(*c, &now, {1, kT0});
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Busy);
  // Reading goes on; closing another cache (which would prune) is quiet too.
  EXPECT_EQ(c->locations("docker", "reg", kG, 5).size(), 2u);
  {
    auto d = open_at(&now);
    EXPECT_TRUE(d->persistent());
  }
  EXPECT_EQ(rows("known_locations"), 2);
  EXPECT_EQ(last_prune(), -1);

  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  EXPECT_EQ(c->locations("docker", "reg", kG, 5), std::vector<std::string>{"t" + std::to_string(kT0)});
}

TEST_F(BlobInfoCachePrune, TwoCachesOnePrunesWhileTheOtherWrites) {
  int64_t now = kT0;
  auto writer = open_at(&now);
  auto pruner = open_at(&now);
  ASSERT_TRUE(writer->persistent());
  ASSERT_TRUE(pruner->persistent());
  seen_at(*writer, &now, {1, 2});
  {
    BlobInfoCache::Transaction tx(*writer);
    writer->record_location("docker", "reg", kZ, "during");
    EXPECT_EQ(pruner->prune_if_due(), BlobInfoCache::PruneResult::Busy);
    // The writer's own cache will not prune in the middle of its transaction.
    EXPECT_EQ(writer->prune_if_due(), BlobInfoCache::PruneResult::Skipped);
    writer->record_uncompressed(kZ, kU);
  }
  EXPECT_EQ(rows("known_locations"), 3);
  EXPECT_EQ(pruner->prune_if_due(), BlobInfoCache::PruneResult::Pruned);
  writer->record_location("docker", "reg", kZ, "after");
  EXPECT_EQ(rows("known_locations"), 2);
  EXPECT_EQ(pruner->locations("docker", "reg", kZ, 5), (std::vector<std::string>{"after", "during"}));
  EXPECT_EQ(pruner->uncompressed_digest(kZ), kU);
  EXPECT_EQ(writer->prune_if_due(), BlobInfoCache::PruneResult::NotDue);
}

TEST_F(BlobInfoCachePrune, ProcessesWriteWhileAnotherPrunes) {
  const int64_t real_now = static_cast<int64_t>(time(nullptr));
  { open()->record_compression(kG, Compression::Gzip); }
  // Pruned today as far as the writers' clocks go; the pruner's clock is a
  // day ahead. 500 expired rows for it to delete.
  raw_sql(db_path(), "UPDATE meta SET value = " + std::to_string(real_now) + " WHERE key = 'last_prune';"
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
                     " INSERT INTO known_locations SELECT 'docker', 'reg', 'sha256:old' || i, 'r', 7 FROM n;");
  ASSERT_EQ(rows("known_locations"), 500);

  constexpr int kProcs = 3;
  constexpr int kEach = 100;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  std::vector<pid_t> kids;
  ASSERT_NO_FATAL_FAILURE(fork_children(kProcs, [&](int p) {
    close(ready[0]);
    int bad = 0;
    for (int i = 0; i < kEach; ++i) {
      auto c = open();
      if (!c->persistent()) ++bad;
      std::string d = "sha256:new" + std::to_string(p) + "-" + std::to_string(i);
      {
        BlobInfoCache::Transaction tx(*c);
        c->record_uncompressed(d, kU);
        c->record_location("docker", "reg", d, "repo");
      }
      if (c->locations("docker", "reg", d, 5) != std::vector<std::string>{"repo"}) ++bad;
      if (c->uncompressed_digest(d) != kU) ++bad;
      if (c->prune_if_due() != BlobInfoCache::PruneResult::NotDue) ++bad;
      if (i == 0 && write(ready[1], "x", 1) != 1) ++bad;
    }
    return bad == 0;
  }, &kids));
  close(ready[1]);
  char buf[kProcs];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = read(ready[0], buf + got, sizeof buf - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(ready[0]);
  EXPECT_EQ(got, sizeof buf);

  const int64_t tomorrow = real_now + kDay;
  auto pruner = open_at(&tomorrow);
  BlobInfoCache::PruneResult r;
  while ((r = pruner->prune_if_due()) == BlobInfoCache::PruneResult::Busy) std::this_thread::yield();
  EXPECT_EQ(r, BlobInfoCache::PruneResult::Pruned);
  expect_children_succeeded(kids);
  EXPECT_EQ(rows("known_locations"), kProcs * kEach);
  EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM known_locations WHERE last_seen = 7"), 0);
  EXPECT_EQ(rows("uncompressed_digests"), kProcs * kEach);
  EXPECT_EQ(last_prune(), tomorrow);
}

TEST_F(BlobInfoCachePrune, MemoryCacheHasNothingToPrune) {
  auto c = BlobInfoCache::open_memory();
  EXPECT_EQ(c->prune_if_due(), BlobInfoCache::PruneResult::Skipped);
}

TEST(BlobInfoCacheDir, Precedence) {
  ScopedEnv env;
  env.set("FERRY_BLOB_INFO_CACHE_DIR", std::nullopt).set("XDG_DATA_HOME", std::nullopt).set("HOME", "/home/u");
  SystemContext ctx;
  const bool root = geteuid() == 0;
  EXPECT_EQ(blob_info_cache_dir(ctx), root ? "/var/lib/containers/cache" : "/home/u/.local/share/containers/cache");
  env.set("XDG_DATA_HOME", "/xdg");
  EXPECT_EQ(blob_info_cache_dir(ctx), root ? "/var/lib/containers/cache" : "/xdg/containers/cache");
  env.set("XDG_DATA_HOME", "");
  env.set("HOME", std::nullopt);
  EXPECT_EQ(blob_info_cache_dir(ctx), root ? "/var/lib/containers/cache" : "");
  env.set("FERRY_BLOB_INFO_CACHE_DIR", "/env/dir");
  EXPECT_EQ(blob_info_cache_dir(ctx), "/env/dir");
  ctx.blob_info_cache_dir = "/ctx/dir";
  EXPECT_EQ(blob_info_cache_dir(ctx), "/ctx/dir");
}

TEST(BlobInfoCacheDir, DefaultWithoutHomeIsMemoryOnly) {
  if (geteuid() == 0) GTEST_SKIP() << "root has a fixed directory";
  ScopedEnv env;
  env.set("FERRY_BLOB_INFO_CACHE_DIR", std::nullopt).set("XDG_DATA_HOME", std::nullopt).set("HOME", std::nullopt);
  auto c = BlobInfoCache::open_default(SystemContext{});
  EXPECT_FALSE(c->persistent());
  c->record_uncompressed(kG, kU);
  EXPECT_EQ(c->uncompressed_digest(kG), kU);
}

TEST(BlobInfoCacheDir, DefaultUsesTheContextDirectory) {
  TempDir dir("/tmp", "ferry-bic-ctx-");
  SystemContext ctx;
  ctx.blob_info_cache_dir = dir.path() + "/c";
  auto c = BlobInfoCache::open_default(ctx);
  EXPECT_TRUE(c->persistent());
  EXPECT_EQ(c->path(), dir.path() + "/c/" + kBlobInfoCacheFileName);
}

}  // namespace
}  // namespace ferry
