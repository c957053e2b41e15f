#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "io/fs.h"
#include "io/tar.h"
#include "transports/oci/layout.h"
#include "transports/oci_archive/oci_archive.h"
#include "util/error.h"

namespace ferry::oci_archive {
namespace {

namespace mt = manifest::media_type;

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

template <typename F>
std::string error_of(F&& f, int* exit_code = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (exit_code) *exit_code = e.exit_code();
    return e.what();
  }
  return "<no error>";
}

struct Entry {
  std::string name;
  TarReader::Entry::Type type;
  std::string data;
};

std::vector<Entry> read_tar(const std::string& path) {
  std::vector<Entry> out;
  TarReader r(path);
  TarReader::Entry e;
  while (r.next(&e)) {
    std::string data;
    if (e.type == TarReader::Entry::Type::File) data = read_all(r.data(), 1 << 20);
    out.push_back({e.name, e.type, data});
  }
  return out;
}

class OciArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry_ociarchive_testXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    make_dirs(root_ + "/tmp");
    ctx_.big_files_temp_dir = root_ + "/tmp";
    layer_ = "layer-bytes";
    config_ = R"({"architecture":"amd64","os":"linux"})";
    manifest_ = std::string(R"({"schemaVersion":2,"mediaType":")") + mt::kOciManifest +
                R"(","config":{"mediaType":")" + mt::kOciConfig + R"(","digest":")" +
                sha256_digest(config_) + R"(","size":)" + std::to_string(config_.size()) +
                R"(},"layers":[{"mediaType":")" + mt::kOciLayerGzip + R"(","digest":")" +
                sha256_digest(layer_) + R"(","size":)" + std::to_string(layer_.size()) + "}]}";
  }
  void TearDown() override { remove_all(root_); }

  static manifest::Descriptor desc(const std::string& data) {
    manifest::Descriptor d;
    d.digest = sha256_digest(data);
    d.size = static_cast<int64_t>(data.size());
    return d;
  }

  void write(const std::string& name, const std::string& manifest_bytes, bool commit = true) {
    auto dest = parse_reference(name)->new_destination(ctx_);
    StringReader l(layer_), c(config_);
    dest->put_blob(l, desc(layer_), false);
    dest->put_blob(c, desc(config_), true);
    dest->put_manifest(manifest_bytes, mt::kOciManifest);
    if (commit) dest->commit();
  }

  std::string root_;
  SystemContext ctx_;
  std::string layer_, config_, manifest_;
};

TEST_F(OciArchiveTest, RoundTrip) {
  std::string archive = root_ + "/img.tar";
  write(archive + ":v1", manifest_);
  EXPECT_EQ(list_dir(ctx_.big_files_temp_dir), std::vector<std::string>{});
  EXPECT_EQ(list_dir(root_), (std::vector<std::string>{"img.tar", "tmp"}));

  std::vector<std::string> blobs = {sha256_digest(layer_).substr(7), sha256_digest(config_).substr(7),
                                    sha256_digest(manifest_).substr(7)};
  std::sort(blobs.begin(), blobs.end());
  std::vector<Entry> entries = read_tar(archive);
  ASSERT_EQ(entries.size(), 7u);
  using T = TarReader::Entry::Type;
  EXPECT_EQ(entries[0].name, "blobs");
  EXPECT_EQ(entries[0].type, T::Directory);
  EXPECT_EQ(entries[1].name, "blobs/sha256");
  EXPECT_EQ(entries[1].type, T::Directory);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(entries[2 + i].name, "blobs/sha256/" + blobs[i]);
    EXPECT_EQ(entries[2 + i].type, T::File);
  }
  EXPECT_EQ(entries[5].name, "index.json");
  EXPECT_EQ(entries[5].data,
            std::string(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":")") +
                mt::kOciManifest + R"(","digest":")" + sha256_digest(manifest_) + R"(","size":)" +
                std::to_string(manifest_.size()) +
                R"(,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]})");
  EXPECT_EQ(entries[6].name, "oci-layout");
  EXPECT_EQ(entries[6].data, R"({"imageLayoutVersion":"1.0.0"})");

  {
    auto src = parse_reference(archive + ":v1")->new_source(ctx_);
    EXPECT_EQ(list_dir(ctx_.big_files_temp_dir).size(), 1u);
    EXPECT_EQ(list_dir(ctx_.big_files_temp_dir)[0].rfind("container_images_oci_", 0), 0u);
    EXPECT_EQ(src->reference().to_string(), "oci-archive:" + archive + ":v1");
    ManifestBytes m = src->get_manifest();
    EXPECT_EQ(m.bytes, manifest_);
    EXPECT_EQ(m.mime_type, mt::kOciManifest);
    int64_t size = 0;
    EXPECT_EQ(read_all(*src->get_blob(desc(layer_), &size), 1 << 20), layer_);
    EXPECT_EQ(size, static_cast<int64_t>(layer_.size()));
  }
  EXPECT_EQ(list_dir(ctx_.big_files_temp_dir), std::vector<std::string>{});
  // Unnamed: the only image.
  EXPECT_EQ(parse_reference(archive)->new_source(ctx_)->get_manifest().bytes, manifest_);
}

TEST_F(OciArchiveTest, WritingReplacesTheArchive) {
  std::string archive = root_ + "/img.tar";
  write(archive + ":v1", manifest_);
  ASSERT_EQ(chmod(archive.c_str(), 0600), 0);
  std::string other = manifest_ + " ";  // a distinct manifest
  write(archive + ":v2", other);
  struct stat st;
  ASSERT_EQ(stat(archive.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // an existing file keeps its mode
  int code = 0;
  EXPECT_EQ(error_of([&] { parse_reference(archive + ":v1")->new_source(ctx_); }, &code),
            "no descriptor found for reference \"v1\"");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(parse_reference(archive + ":v2")->new_source(ctx_)->get_manifest().bytes, other);
  EXPECT_EQ(list_dir(root_), (std::vector<std::string>{"img.tar", "tmp"}));
}

TEST_F(OciArchiveTest, UncommittedOrFailedWritesLeaveNothing) {
  std::string archive = root_ + "/img.tar";
  write(archive + ":v1", manifest_, /*commit=*/false);
  EXPECT_EQ(list_dir(root_), std::vector<std::string>{"tmp"});
  EXPECT_EQ(list_dir(ctx_.big_files_temp_dir), std::vector<std::string>{});

  // The archive path is a directory: the final rename fails, no debris.
  make_dirs(root_ + "/dir.tar");
  EXPECT_NE(error_of([&] { write(root_ + "/dir.tar:v1", manifest_); }).find("creating tar file"),
            std::string::npos);
  EXPECT_EQ(list_dir(root_), (std::vector<std::string>{"dir.tar", "tmp"}));
  EXPECT_EQ(list_dir(root_ + "/dir.tar"), std::vector<std::string>{});
  EXPECT_EQ(list_dir(ctx_.big_files_temp_dir), std::vector<std::string>{});
  remove_all(root_ + "/dir.tar");

  // A failing put_blob inside the archive's layout: same.
  {
    auto dest = parse_reference(archive + ":v1")->new_destination(ctx_);
    StringReader l(layer_);
    manifest::Descriptor wrong = desc("x");
    EXPECT_THROW(dest->put_blob(l, wrong, false), Error);
  }
  EXPECT_EQ(list_dir(root_), std::vector<std::string>{"tmp"});
  EXPECT_EQ(list_dir(ctx_.big_files_temp_dir), std::vector<std::string>{});
}

TEST_F(OciArchiveTest, Errors) {
  std::string absent = root_ + "/absent.tar";
  EXPECT_EQ(error_of([&] { parse_reference(absent + ":x")->new_source(ctx_); }),
            "archive file not found: \"" + absent + "\"");
  // Not a tar at all: the unpacking error names the temporary directory.
  std::ofstream(root_ + "/junk.tar") << "this is not a tar archive, not even close......";
  EXPECT_NE(error_of([&] { parse_reference(root_ + "/junk.tar")->new_source(ctx_); }).find("untarring file \""),
            std::string::npos);
  EXPECT_EQ(list_dir(ctx_.big_files_temp_dir), std::vector<std::string>{});
  // --tmpdir that does not exist.
  SystemContext bad = ctx_;
  bad.big_files_temp_dir = root_ + "/nope";
  write(root_ + "/ok.tar", manifest_);
  EXPECT_EQ(error_of([&] { parse_reference(root_ + "/ok.tar")->new_source(bad); }).rfind("creating temp directory: ", 0),
            0u);
  // Signatures are refused as for oci:.
  auto dest = parse_reference(root_ + "/x.tar")->new_destination(ctx_);
  EXPECT_EQ(dest->supports_signatures(), "Pushing signatures for OCI images is not supported");
  EXPECT_EQ(dest->supported_manifest_mime_types(),
            (std::vector<std::string>{mt::kOciManifest, mt::kOciIndex}));
  // @N is oci:-only.
  EXPECT_THROW(parse_reference(root_ + "/ok.tar:@0"), Error);
}

TEST_F(OciArchiveTest, ReferenceIdentity) {
  auto ref = parse_reference(root_ + "/sub/../img.tar:name");
  std::string real = resolve_path_fully_explicit(root_) + "/img.tar";
  EXPECT_EQ(ref->transport_name(), "oci-archive");
  EXPECT_EQ(ref->string_within_transport(), root_ + "/sub/../img.tar:name");
  EXPECT_EQ(ref->policy_identity(), real);
  EXPECT_EQ(ref->policy_namespaces()[0], real);
  EXPECT_EQ(ref->policy_namespaces()[1], resolve_path_fully_explicit(root_));
  EXPECT_FALSE(ref->docker_reference().has_value());
}

TEST_F(OciArchiveTest, TarLayoutRefusesOddFiles) {
  make_dirs(root_ + "/lay/blobs");
  ASSERT_EQ(symlink("/etc/passwd", (root_ + "/lay/blobs/link").c_str()), 0);
  EXPECT_NE(error_of([&] { tar_layout(root_ + "/lay", root_ + "/out.tar"); }).find("unexpected file type"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::oci_archive
