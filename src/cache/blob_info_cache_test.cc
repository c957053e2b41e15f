#include "cache/blob_info_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "io/fs.h"

namespace ferry {
namespace {

const std::string kG = "sha256:" + std::string(64, 'a');  // a gzip blob
const std::string kZ = "sha256:" + std::string(64, 'b');  // its zstd variant
const std::string kU = "sha256:" + std::string(64, 'c');  // their uncompressed content
const std::string kOther = "sha256:" + std::string(64, 'd');

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
  raw_sql(db_path(), "PRAGMA user_version = 3;");
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
          "PRAGMA application_id = 1179801905; PRAGMA user_version = 1;"
          "CREATE TABLE uncompressed_digests (any_digest TEXT PRIMARY KEY NOT NULL,"
          " uncompressed_digest TEXT NOT NULL);"
          "CREATE INDEX uncompressed_digests_by_value ON uncompressed_digests (uncompressed_digest);"
          "CREATE TABLE digest_compressors (digest TEXT PRIMARY KEY NOT NULL, compressor TEXT NOT NULL);"
          "CREATE TABLE known_locations (transport TEXT NOT NULL, scope TEXT NOT NULL, digest TEXT NOT NULL,"
          " location TEXT NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (transport, scope, digest, location));"
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
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
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
      _exit(bad == 0 ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " status " << status;
  }
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
