#include "io/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <vector>

namespace ferry {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return names;
  while (struct dirent* de = readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

int mode_of(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

std::string real(const std::string& p) {
  char* r = realpath(p.c_str(), nullptr);
  std::string s = r ? r : "";
  free(r);
  return s;
}

class FsTest : public ::testing::Test {
 protected:
  FsTest() : tmp_("/tmp", "ferry-fs-test-") {}
  std::string p(const std::string& rel) const { return tmp_.path() + "/" + rel; }
  TempDir tmp_;
};

TEST(ErrnoText, GoSpelling) {
  EXPECT_EQ(errno_text(ENOENT), "no such file or directory");
  EXPECT_EQ(errno_text(EACCES), "permission denied");
  EXPECT_EQ(errno_text(EISDIR), "is a directory");
  EXPECT_EQ(std::string(path_error("open", "/x", ENOENT).what()),
            "open /x: no such file or directory");
}

TEST(CleanPath, MatchesGoPathClean) {
  EXPECT_EQ(clean_path(""), ".");
  EXPECT_EQ(clean_path("."), ".");
  EXPECT_EQ(clean_path("./"), ".");
  EXPECT_EQ(clean_path("/"), "/");
  EXPECT_EQ(clean_path("//"), "/");
  EXPECT_EQ(clean_path("a//b/./c/"), "a/b/c");
  EXPECT_EQ(clean_path("a/b/../c"), "a/c");
  EXPECT_EQ(clean_path("../a"), "../a");
  EXPECT_EQ(clean_path("a/../.."), "..");
  EXPECT_EQ(clean_path("../../x/.."), "../..");
  EXPECT_EQ(clean_path("/../a"), "/a");
  EXPECT_EQ(clean_path("/a/b/../../.."), "/");
}

TEST_F(FsTest, WriteFileAtomic) {
  write_file_atomic(p("f"), "one");
  EXPECT_EQ(read_file(p("f"), 100), "one");
  EXPECT_EQ(mode_of(p("f")), 0644);
  write_file_atomic(p("f"), "two, longer", 0600);
  EXPECT_EQ(read_file(p("f"), 100), "two, longer");
  EXPECT_EQ(mode_of(p("f")), 0600);
  write_file_atomic(p("empty"), "");
  EXPECT_EQ(read_file(p("empty"), 0), "");
  EXPECT_EQ(list_dir(tmp_.path()), (std::vector<std::string>{"empty", "f"}));
}

TEST_F(FsTest, WriteFileAtomicFailures) {
  EXPECT_EQ(error_of([&] { write_file_atomic(p("missing/f"), "x"); }),
            "open " + p("missing/f") + ": no such file or directory");
  make_dirs(p("d/sub"));
  // rename() over a non-empty directory fails; the temp file must go.
  EXPECT_EQ(error_of([&] { write_file_atomic(p("d"), "x"); }),
            "rename " + p("d") + ": is a directory");
  EXPECT_EQ(list_dir(tmp_.path()), (std::vector<std::string>{"d"}));
  EXPECT_EQ(error_of([&] { write_file_atomic(p("d/"), "x"); }),
            "cannot write file " + p("d/") + ": not a file name");
}

// Fails after handing out some data, as a dropped connection would.
class FailingReader : public Reader {
 public:
  size_t read(uint8_t* buf, size_t n) override {
    if (sent_ >= 3) throw Error("connection reset");
    n = std::min<size_t>(n, 1000);
    memset(buf, 'q', n);
    sent_++;
    return n;
  }

 private:
  int sent_ = 0;
};

TEST_F(FsTest, WriteStreamAtomicLeavesNothingOnFailure) {
  write_file_atomic(p("blob"), "old");
  FailingReader bad;
  EXPECT_EQ(error_of([&] { write_stream_atomic(p("blob"), bad); }), "connection reset");
  EXPECT_EQ(read_file(p("blob"), 100), "old");
  EXPECT_EQ(list_dir(tmp_.path()), (std::vector<std::string>{"blob"}));

  FailingReader bad2;
  EXPECT_EQ(error_of([&] { write_stream_atomic(p("new"), bad2); }), "connection reset");
  EXPECT_EQ(list_dir(tmp_.path()), (std::vector<std::string>{"blob"}));

  StringReader good(std::string(3 << 20, 'g'));
  EXPECT_EQ(write_stream_atomic(p("new"), good, 0640), 3 << 20);
  EXPECT_EQ(read_file(p("new"), 4 << 20), std::string(3 << 20, 'g'));
  EXPECT_EQ(mode_of(p("new")), 0640);
  EXPECT_EQ(list_dir(tmp_.path()), (std::vector<std::string>{"blob", "new"}));
}

TEST_F(FsTest, ReadFile) {
  write_file_atomic(p("f"), "12345");
  EXPECT_EQ(read_file(p("f"), 5), "12345");
  EXPECT_EQ(error_of([&] { read_file(p("f"), 4); }),
            "reading " + p("f") + ": exceeded maximum allowed size of 4 bytes");
  try {
    read_file(p("nope"), 10, true);
    FAIL() << "no error";
  } catch (const NotFoundError& e) {
    EXPECT_EQ(std::string(e.what()), "open " + p("nope") + ": no such file or directory");
    EXPECT_EQ(e.exit_code(), 2);
  }
  try {
    read_file(p("nope"), 10);
    FAIL() << "no error";
  } catch (const NotFoundError&) {
    FAIL() << "NotFoundError without not_found_is_2";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
  }
  // /proc files report size 0; the bound applies to what is read.
  EXPECT_FALSE(read_file("/proc/self/status", 1 << 20).empty());
  EXPECT_EQ(error_of([] { read_file("/proc/self/status", 10); }),
            "reading /proc/self/status: exceeded maximum allowed size of 10 bytes");
}

TEST_F(FsTest, ExistsAndIsDirectory) {
  write_file_atomic(p("f"), "x");
  EXPECT_TRUE(path_exists(p("f")));
  EXPECT_FALSE(is_directory(p("f")));
  EXPECT_TRUE(is_directory(tmp_.path()));
  EXPECT_FALSE(path_exists(p("missing")));
  EXPECT_FALSE(is_directory(p("missing")));
}

TEST_F(FsTest, MakeDirs) {
  make_dirs(p("a/b/c"), 0750);
  EXPECT_TRUE(is_directory(p("a/b/c")));
  make_dirs(p("a/b/c"));
  make_dirs(p("a/./b//d/"));
  EXPECT_TRUE(is_directory(p("a/b/d")));
  write_file_atomic(p("file"), "x");
  EXPECT_EQ(error_of([&] { make_dirs(p("file/sub")); }), "mkdir " + p("file") + ": not a directory");
  EXPECT_EQ(error_of([&] { make_dirs(p("file")); }), "mkdir " + p("file") + ": not a directory");
  ASSERT_EQ(symlink(p("a").c_str(), p("link").c_str()), 0);
  make_dirs(p("link/new"));
  EXPECT_TRUE(is_directory(p("a/new")));
}

TEST_F(FsTest, RemoveAllNeverFollowsSymlinks) {
  TempDir outside("/tmp", "ferry-fs-outside-");
  write_file_atomic(outside.path() + "/keep", "precious");
  make_dirs(p("tree/a/b"));
  write_file_atomic(p("tree/a/b/f"), "x");
  write_file_atomic(p("tree/a/g"), "y");
  ASSERT_EQ(symlink(outside.path().c_str(), p("tree/a/escape").c_str()), 0);
  ASSERT_EQ(symlink((outside.path() + "/keep").c_str(), p("tree/keep-link").c_str()), 0);
  // A read-only file inside must not stop removal.
  write_file_atomic(p("tree/ro"), "r", 0444);
  remove_all(p("tree"));
  EXPECT_FALSE(path_exists(p("tree")));
  EXPECT_EQ(read_file(outside.path() + "/keep", 100), "precious");
  EXPECT_TRUE(is_directory(outside.path()));

  // The path itself a symlink: only the link goes.
  ASSERT_EQ(symlink(outside.path().c_str(), p("top-link").c_str()), 0);
  remove_all(p("top-link"));
  EXPECT_FALSE(path_exists(p("top-link")));
  EXPECT_EQ(read_file(outside.path() + "/keep", 100), "precious");

  remove_all(p("does-not-exist"));
  write_file_atomic(p("plain"), "x");
  remove_all(p("plain"));
  EXPECT_FALSE(path_exists(p("plain")));
}

TEST_F(FsTest, RemoveAllDeepAndWide) {
  // Deeper than PATH_MAX allows to name, built relative to each level.
  int fd = open(tmp_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(mkdirat(fd, "deep", 0755), 0);
  int cur = openat(fd, "deep", O_RDONLY | O_DIRECTORY);
  close(fd);
  const std::string name(200, 'n');
  for (int i = 0; i < 60; i++) {
    ASSERT_EQ(mkdirat(cur, name.c_str(), 0755), 0);
    int next = openat(cur, name.c_str(), O_RDONLY | O_DIRECTORY);
    int f = openat(cur, "file", O_WRONLY | O_CREAT, 0644);
    close(f);
    close(cur);
    cur = next;
  }
  close(cur);
  for (int i = 0; i < 50; i++) make_dirs(p("wide/d" + std::to_string(i) + "/x"));
  remove_all(p("deep"));
  remove_all(p("wide"));
  EXPECT_EQ(list_dir(tmp_.path()), std::vector<std::string>{});
}

TEST_F(FsTest, TempDirs) {
  std::string made = make_temp_dir(tmp_.path(), "container_images_");
  EXPECT_EQ(made.rfind(p("container_images_"), 0), 0u);
  EXPECT_EQ(made.size(), p("container_images_").size() + 6);
  EXPECT_EQ(mode_of(made), 0700);
  EXPECT_EQ(error_of([] { make_temp_dir("/nonexistent-ferry", "pre"); }),
            "mkdirtemp /nonexistent-ferry/pre*: no such file or directory");
  std::string gone, kept;
  {
    TempDir t(tmp_.path(), "t-");
    gone = t.path();
    write_file_atomic(gone + "/f", "x");
    make_dirs(gone + "/sub/dir");
  }
  EXPECT_FALSE(path_exists(gone));
  {
    TempDir t(tmp_.path(), "k-");
    kept = t.release();
  }
  EXPECT_TRUE(is_directory(kept));
}

TEST_F(FsTest, ResolvePathFullyExplicit) {
  make_dirs(p("real/dir"));
  ASSERT_EQ(symlink(p("real").c_str(), p("link").c_str()), 0);
  const std::string base = real(tmp_.path());
  EXPECT_EQ(resolve_path_fully_explicit(p("link/dir")), base + "/real/dir");
  EXPECT_EQ(resolve_path_fully_explicit(p("link/dir/")), base + "/real/dir");
  EXPECT_EQ(resolve_path_fully_explicit(p("link//./dir")), base + "/real/dir");
  EXPECT_EQ(resolve_path_fully_explicit(p("link/new-image")), base + "/real/new-image");
  EXPECT_EQ(resolve_path_fully_explicit(p("link/dir/../x")), base + "/real/x");
  EXPECT_EQ(resolve_path_fully_explicit(tmp_.path()), base);
  EXPECT_EQ(resolve_path_fully_explicit("."), real("."));
  EXPECT_EQ(error_of([&] { resolve_path_fully_explicit(p("missing/x")); }),
            "lstat " + p("missing") + ": no such file or directory");
  // A dangling symlink exists but cannot be resolved.
  ASSERT_EQ(symlink(p("nowhere").c_str(), p("dangling").c_str()), 0);
  EXPECT_NE(error_of([&] { resolve_path_fully_explicit(p("dangling")); }), "(no error)");
}

}  // namespace
}  // namespace ferry
