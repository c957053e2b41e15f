#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <dirent.h>
#include <set>

#include "io/digest.h"
#include "io/fs.h"
#include "transports/dir/dir_reference.h"
#include "util/error.h"

namespace ferry::dir {
namespace {

class DirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-dir-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { remove_all(root_); }

  std::set<std::string> list(const std::string& d) {
    std::set<std::string> out;
    DIR* dir = ::opendir(d.c_str());
    if (!dir) return out;
    while (dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.insert(n);
    }
    ::closedir(dir);
    return out;
  }

  // Writes a one-blob image through the destination and commits it.
  void write_image(const std::string& path, const std::string& blob, const std::string& manifest,
                   bool commit = true) {
    auto ref = parse_reference(path);
    SystemContext ctx;
    auto dst = ref->new_destination(ctx);
    StringReader r(blob);
    manifest::Descriptor d;
    d.digest = sha256_digest(blob);
    d.size = static_cast<int64_t>(blob.size());
    dst->put_blob(r, d, false);
    dst->put_manifest(manifest, "", "");
    Signature s;
    s.bytes = "\x89sig";
    dst->put_signatures({s}, "");
    if (commit) dst->commit();
  }

  std::string root_;
};

TEST_F(DirTest, RoundTripLayout) {
  const std::string path = root_ + "/img";
  write_image(path, "layer-bytes", "{\"schemaVersion\":2}");
  const std::string hex = digest_hex(sha256_digest("layer-bytes"));
  EXPECT_EQ(list(path), (std::set<std::string>{hex, "manifest.json", "signature-1", "version"}));
  EXPECT_EQ(read_file(path + "/version", 100), "Directory Transport Version: 1.1\n");

  auto ref = parse_reference(path);
  auto src = ref->new_source(SystemContext{});
  EXPECT_EQ(src->get_manifest().bytes, "{\"schemaVersion\":2}");
  manifest::Descriptor d;
  d.digest = sha256_digest("layer-bytes");
  int64_t size = -1;
  auto blob = src->get_blob(d, &size);
  EXPECT_EQ(size, 11);
  EXPECT_EQ(read_all(*blob, 100), "layer-bytes");
  auto sigs = src->get_signatures();
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].bytes, "\x89sig");
}

TEST_F(DirTest, UncommittedDestinationLeavesNothing) {
  const std::string path = root_ + "/img";
  write_image(path, "a", "{}", /*commit=*/false);
  EXPECT_TRUE(list(root_).empty());
}

TEST_F(DirTest, FailedOverwriteKeepsTheOldImage) {
  const std::string path = root_ + "/img";
  write_image(path, "old", "{\"old\":1}");
  {
    auto ref = parse_reference(path);
    auto dst = ref->new_destination(SystemContext{});
    StringReader r("new");
    manifest::Descriptor d;
    d.digest = sha256_digest("something else");
    d.size = 3;
    EXPECT_THROW(dst->put_blob(r, d, false), Error);
  }  // destroyed without commit
  EXPECT_EQ(read_file(path + "/manifest.json", 100), "{\"old\":1}");
  EXPECT_EQ(list(root_), (std::set<std::string>{"img"}));
}

TEST_F(DirTest, CommitReplacesAnExistingImage) {
  const std::string path = root_ + "/img";
  write_image(path, "old", "{\"old\":1}");
  write_image(path, "new", "{\"new\":1}");
  EXPECT_EQ(read_file(path + "/manifest.json", 100), "{\"new\":1}");
  EXPECT_FALSE(path_exists(path + "/" + digest_hex(sha256_digest("old"))));
  EXPECT_EQ(list(root_), (std::set<std::string>{"img"}));
}

TEST_F(DirTest, RefusesToOverwriteAnUnrelatedDirectory) {
  const std::string path = root_ + "/data";
  make_dirs(path);
  write_file_atomic(path + "/precious.txt", "keep me");
  auto ref = parse_reference(path);
  try {
    ref->new_destination(SystemContext{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "not a containers image directory, don't want to overwrite important data");
  }
  EXPECT_EQ(read_file(path + "/precious.txt", 100), "keep me");
}

TEST_F(DirTest, EmptyDirectoryIsUsed) {
  const std::string path = root_ + "/empty";
  make_dirs(path);
  write_image(path, "x", "{}");
  EXPECT_TRUE(path_exists(path + "/manifest.json"));
}

TEST_F(DirTest, VersionFileIsChecked) {
  const std::string path = root_ + "/img";
  write_image(path, "x", "{}");
  write_file_atomic(path + "/version", "Directory Transport Version: 9.9\n");
  EXPECT_THROW(parse_reference(path)->new_source(SystemContext{}), Error);
  write_file_atomic(path + "/version", "garbage");
  EXPECT_THROW(parse_reference(path)->new_source(SystemContext{}), Error);
  ::unlink((path + "/version").c_str());
  EXPECT_NO_THROW(parse_reference(path)->new_source(SystemContext{}));
}

TEST_F(DirTest, HostileDigestsNeverNameAFile) {
  EXPECT_THROW(blob_file("sha256:../../etc/passwd"), Error);
  EXPECT_THROW(blob_file("sha256:abc"), Error);
  EXPECT_EQ(blob_file("sha256:" + std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_EQ(manifest_file(""), "manifest.json");
  EXPECT_EQ(signature_file("", 2), "signature-2");
  EXPECT_EQ(signature_file("sha256:" + std::string(64, 'b'), 1), std::string(64, 'b') + ".signature-1");
}

TEST_F(DirTest, CompressAndDecompressAreExclusive) {
  SystemContext ctx;
  ctx.dir_force_compress = ctx.dir_force_decompress = true;
  EXPECT_THROW(parse_reference(root_ + "/x")->new_destination(ctx), Error);
}

TEST_F(DirTest, PolicyIdentityIsTheResolvedPath) {
  auto ref = parse_reference(root_ + "/./img");
  EXPECT_EQ(ref->policy_identity(), root_ + "/img");
  auto ns = ref->policy_namespaces();
  ASSERT_FALSE(ns.empty());
  EXPECT_EQ(ns[0], root_);
}

}  // namespace
}  // namespace ferry::dir
