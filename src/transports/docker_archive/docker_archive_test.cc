#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "image/manifest/media_types.h"
#include "image/manifest/schema2.h"
#include "image/types.h"
#include "io/compression.h"
#include "io/digest.h"
#include "io/fs.h"
#include "io/tar.h"
#include "transports/docker_archive/archive_destination.h"
#include "transports/docker_archive/archive_reference.h"
#include "transports/docker_archive/archive_source.h"
#include "util/error.h"

namespace ferry::docker_archive {
namespace {

// skopeo-small.tar (see tests/data/docker_archive/README.md).
const char* kConfigDigest = "sha256:723aa8a0eed16b671a9dc84ea2bea4b6224c51c20f30e431621abeff416a3826";
const char* kLayer1 = "sha256:81631145bd349f59e0fe2fa10b80d2ce21698e205ca5d79449017a70377cbbf4";
const char* kLayer2 = "sha256:ae85ea17aa3e2a9687b56789b98d98ca0650cf0e341efbe08b6e47eb631aace6";

std::string testdata(const std::string& name) {
  return std::string(FERRY_TESTDATA) + "/docker_archive/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// An entry of a tar, read with the generic reader (not the code under test).
std::string tar_entry(const std::string& tar, const std::string& name) {
  TarReader r(tar);
  TarReader::Entry e;
  while (r.next(&e)) {
    if (e.name == name) return read_all(r.data(), 64 << 20);
  }
  ADD_FAILURE() << name << " not in " << tar;
  return "";
}

std::string compress(const std::string& data, Compression c) {
  auto r = make_compressor(std::make_unique<StringReader>(data), c);
  return read_all(*r, 64 << 20);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct TarSpec {
  std::string name;
  std::string data;
  enum { File, Symlink, Dir } kind = File;
};

void write_tar(const std::string& path, const std::vector<TarSpec>& entries) {
  TarWriter w(path);
  for (const TarSpec& e : entries) {
    if (e.kind == TarSpec::Symlink) {
      w.add_symlink(e.name, e.data);
    } else if (e.kind == TarSpec::Dir) {
      w.add_directory(e.name);
    } else {
      w.add_file(e.name, e.data);
    }
  }
  w.close();
}

class DockerArchiveTest : public ::testing::Test {
 protected:
  DockerArchiveTest() : dir_("/tmp", "ferry-da-test-"), tmp_("/tmp", "ferry-da-tmp-") {
    ctx_.big_files_temp_dir = tmp_.path();
    small_ = testdata("skopeo-small.tar");
    layer1_ = tar_entry(small_, digest_hex(kLayer1) + ".tar");
    layer2_ = tar_entry(small_, digest_hex(kLayer2) + ".tar");
    config_ = tar_entry(small_, digest_hex(kConfigDigest) + ".json");
    raw_ = slurp(testdata("skopeo-small.raw"));
  }

  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }

  std::unique_ptr<ImageReference> ref(const std::string& within) const { return parse_reference(within); }

  ManifestBytes manifest_of(const std::string& within) const {
    auto r = ref(within);
    return r->new_source(ctx_)->get_manifest("");
  }

  std::string blob(ImageSource& src, const std::string& digest, int64_t* size) {
    manifest::Descriptor d;
    d.digest = digest;
    auto r = src.get_blob(d, size);
    return read_all(*r, 64 << 20);
  }

  TempDir dir_;
  TempDir tmp_;
  SystemContext ctx_;
  std::string small_;
  std::string layer1_, layer2_, config_, raw_;
};

// ---- references ------------------------------------------------------------

TEST_F(DockerArchiveTest, ReferenceForms) {
  auto r = ref("/a/b.tar");
  EXPECT_EQ(r->transport_name(), "docker-archive");
  EXPECT_EQ(r->string_within_transport(), "/a/b.tar");
  EXPECT_EQ(r->to_string(), "docker-archive:/a/b.tar");
  EXPECT_FALSE(r->docker_reference());
  EXPECT_EQ(r->policy_identity(), "");
  EXPECT_TRUE(r->policy_namespaces().empty());

  r = ref("/a/b.tar:busybox");
  EXPECT_EQ(r->string_within_transport(), "/a/b.tar:docker.io/library/busybox:latest");
  ASSERT_TRUE(r->docker_reference());
  EXPECT_EQ(r->docker_reference()->name(), "docker.io/library/busybox");
  EXPECT_EQ(r->policy_identity(), "");

  r = ref("rel.tar:@3");
  EXPECT_EQ(r->string_within_transport(), "rel.tar:@3");
  EXPECT_FALSE(r->docker_reference());

  EXPECT_EQ(error_of([&] { ref(""); }), "docker-archive reference  isn't of the form <path>[:<reference>]");
  EXPECT_EQ(error_of([&] { ref("/x:busybox@sha256:" + std::string(64, 'a')); }),
            "reference does not include a tag: docker.io/library/busybox@sha256:" + std::string(64, 'a'));
  EXPECT_EQ(error_of([&] { ref("/x:@-1"); }), "Invalid source index @-1: must not be negative");
  EXPECT_EQ(error_of([&] { ref("/x:a")->delete_image(ctx_); }),
            "Deleting images not implemented for docker-archive: images");
}

// ---- reading ---------------------------------------------------------------

TEST_F(DockerArchiveTest, GeneratedManifestIsSkopeos) {
  for (const std::string& sel :
       {std::string(""), std::string(":ferry/small:v1"), std::string(":docker.io/ferry/small:v1"),
        std::string(":localhost:5000/other/img:2"), std::string(":@0")}) {
    SCOPED_TRACE(sel);
    ManifestBytes m = manifest_of(small_ + sel);
    EXPECT_EQ(m.bytes, raw_);
    EXPECT_EQ(m.mime_type, manifest::media_type::kDockerV2Schema2);
  }
}

TEST_F(DockerArchiveTest, SelectionErrors) {
  EXPECT_EQ(error_of([&] { manifest_of(small_ + ":ferry/small:v2"); }),
            "Tag \"docker.io/ferry/small:v2\" not found");
  EXPECT_EQ(error_of([&] { manifest_of(small_ + ":@1"); }),
            "Invalid source index @1, only 1 manifest items available");
  auto src = ref(small_)->new_source(ctx_);
  EXPECT_EQ(error_of([&] { src->get_manifest(kConfigDigest); }),
            "Manifest lists are not supported by \"docker-daemon:\"");
  EXPECT_EQ(error_of([&] { ref("/nonexistent/x.tar")->new_source(ctx_); }),
            "opening file \"/nonexistent/x.tar\": open /nonexistent/x.tar: no such file or directory");
}

TEST_F(DockerArchiveTest, BlobsMatchTheirDigests) {
  auto src = ref(small_ + ":@0")->new_source(ctx_);
  EXPECT_TRUE(src->has_thread_safe_get_blob());
  int64_t size = 0;
  EXPECT_EQ(blob(*src, kConfigDigest, &size), config_);
  EXPECT_EQ(size, static_cast<int64_t>(config_.size()));
  EXPECT_EQ(sha256_digest(blob(*src, kLayer1, &size)), kLayer1);
  EXPECT_EQ(size, 2048);
  EXPECT_EQ(sha256_digest(blob(*src, kLayer2, &size)), kLayer2);
  EXPECT_EQ(size, 3072);
  EXPECT_EQ(error_of([&] { blob(*src, sha256_digest("x"), &size); }), "Unknown blob " + sha256_digest("x"));

  // Concurrent readers each own their file descriptor.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      int64_t s = 0;
      const char* d = i % 2 ? kLayer1 : kLayer2;
      if (sha256_digest(blob(*src, d, &s)) == d) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
}

TEST_F(DockerArchiveTest, CompressedArchivesAreDecompressedToATemporaryFile) {
  const std::string plain = slurp(small_);
  for (Compression c : {Compression::Gzip, Compression::Zstd, Compression::Xz}) {
    SCOPED_TRACE(compression_name(c));
    const std::string p = path("small.tar.c");
    spit(p, compress(plain, c));
    {
      auto src = ref(p + ":ferry/small:v1")->new_source(ctx_);
      EXPECT_EQ(src->get_manifest("").bytes, raw_);
      int64_t size = 0;
      EXPECT_EQ(sha256_digest(blob(*src, kLayer2, &size)), kLayer2);
      ASSERT_EQ(list_dir(tmp_.path()).size(), 1u);
      EXPECT_EQ(list_dir(tmp_.path())[0].rfind("container_images_docker-tar", 0), 0u);
    }
    EXPECT_TRUE(list_dir(tmp_.path()).empty());
  }
  // bzip2 via the system tool (ferry has no bzip2 compressor).
  const std::string bz = path("small.tar");
  spit(bz, plain);
  ASSERT_EQ(std::system(("bzip2 -k " + bz).c_str()), 0);
  EXPECT_EQ(manifest_of(bz + ".bz2").bytes, raw_);
}

TEST_F(DockerArchiveTest, NonSeekableInput) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string gz = compress(slurp(small_), Compression::Gzip);
  std::thread writer([&] {
    int fd = ::open(fifo.c_str(), O_WRONLY);
    if (fd < 0) return;
    size_t off = 0;
    while (off < gz.size()) {
      ssize_t w = ::write(fd, gz.data() + off, gz.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    ::close(fd);
  });
  ManifestBytes m;
  EXPECT_NO_THROW(m = manifest_of(fifo));
  writer.join();
  EXPECT_EQ(m.bytes, raw_);
  EXPECT_TRUE(list_dir(tmp_.path()).empty());
}

TEST_F(DockerArchiveTest, CompressedAndLinkedLayerFiles) {
  // Docker >= 25 / umoci style: blobs by digest, a gzip-compressed layer
  // (served decompressed, its size counted decompressed), layers reached
  // through a symlink and a hard link.
  const std::string gz = compress(layer2_, Compression::Gzip);
  const std::string b1 = "blobs/sha256/" + digest_hex(kLayer1);
  const std::string b2 = "blobs/sha256/" + digest_hex(sha256_digest(gz));
  const std::string bc = "blobs/sha256/" + digest_hex(kConfigDigest);
  const std::string manifest = R"([{"Config":")" + bc + R"(","RepoTags":["ferry/c:1"],"Layers":[)" +
                               R"("legacy/layer.tar","link/two.tar","./)" + b1 + R"("]}])";
  const std::string p = path("oci-style.tar");
  write_tar(p, {{"blobs", "", TarSpec::Dir},
                {b1, layer1_},
                {b2, gz},
                {bc, config_},
                {"legacy/layer.tar", "../" + b1, TarSpec::Symlink},
                {"link/two.tar", "../" + b2, TarSpec::Symlink},
                {"manifest.json", manifest}});
  auto src = ref(p)->new_source(ctx_);
  EXPECT_EQ(src->get_manifest("").bytes, raw_);
  int64_t size = 0;
  EXPECT_EQ(blob(*src, kLayer2, &size), layer2_);
  EXPECT_EQ(size, 3072);
  EXPECT_EQ(blob(*src, kLayer1, &size), layer1_);
}

TEST_F(DockerArchiveTest, HardLinkedLayer) {
  // Hard links name their target from the archive root; libarchive's
  // writer is used directly as TarWriter has no hard links.
  const std::string p = path("hard.tar");
  spit(path("l1"), layer1_);
  ASSERT_EQ(::link(path("l1").c_str(), path("l1b").c_str()), 0);
  spit(path("config.json"), config_);
  spit(path("l2"), layer2_);
  spit(path("manifest.json"), R"([{"Config":"config.json","RepoTags":[],"Layers":["l1b","l2","l1"]}])");
  ASSERT_EQ(std::system(("cd " + dir_.path() + " && tar cf hard.tar l1 l1b l2 config.json manifest.json").c_str()), 0);
  // GNU tar stores the second name as a hard link to the first.
  bool saw_link = false;
  {
    TarReader r(p);
    TarReader::Entry e;
    while (r.next(&e)) saw_link = saw_link || e.type == TarReader::Entry::Type::Hardlink;
  }
  EXPECT_TRUE(saw_link);
  auto src = ref(p)->new_source(ctx_);
  EXPECT_EQ(src->get_manifest("").bytes, raw_);
  int64_t size = 0;
  EXPECT_EQ(blob(*src, kLayer1, &size), layer1_);
}

// A minimal archive: manifest.json plus the given files.
std::vector<TarSpec> with_manifest(const std::string& manifest, std::vector<TarSpec> files = {}) {
  files.push_back({"manifest.json", manifest});
  return files;
}

TEST_F(DockerArchiveTest, MultiImageArchives) {
  const std::string p = path("multi.tar");
  write_tar(p, with_manifest(R"([{"Config":"a.json","RepoTags":["busybox:latest"],"Layers":[]},)"
                             R"({"Config":"b.json","RepoTags":["docker.io/library/busybox:latest","Foo.example.com/x:1"],"Layers":[]},)"
                             R"({"Config":"c.json","RepoTags":null,"Layers":[]},)"
                             R"({"Config":"d.json","RepoTags":[],"Layers":[]}])"));
  // Observed with skopeo 1.9.3.
  EXPECT_EQ(list_tags(p), (std::vector<std::string>{"busybox:latest", "busybox:latest", "Foo.example.com/x:1",
                                                    "@2", "@3"}));
  EXPECT_EQ(error_of([&] { manifest_of(p); }), "Unexpected tar manifest.json: expected 1 item, got 4");
  EXPECT_EQ(error_of([&] { manifest_of(p + ":foo.example.com/x:1"); }), "Tag \"foo.example.com/x:1\" not found");
  EXPECT_EQ(error_of([&] { manifest_of(p + ":@2"); }), "loading tar component \"c.json\": file does not exist");
  EXPECT_EQ(error_of([&] { manifest_of(p + ":Foo.example.com/x:1"); }),
            "loading tar component \"b.json\": file does not exist");
  EXPECT_EQ(error_of([&] { manifest_of(p + ":busybox"); }), "loading tar component \"a.json\": file does not exist");
  EXPECT_EQ(error_of([&] { manifest_of(p + ":@4"); }), "Invalid source index @4, only 4 manifest items available");

  EXPECT_EQ(list_tags(small_), (std::vector<std::string>{"docker.io/ferry/small:v1", "localhost:5000/other/img:2"}));
  write_tar(p, with_manifest("[]"));
  EXPECT_TRUE(list_tags(p).empty());
  EXPECT_EQ(error_of([&] { manifest_of(p); }), "Unexpected tar manifest.json: expected 1 item, got 0");
  write_tar(p, with_manifest("null"));
  EXPECT_TRUE(list_tags(p).empty());
}

TEST_F(DockerArchiveTest, ListTagsRejectsBadTags) {
  const std::string p = path("tags.tar");
  write_tar(p, with_manifest(R"([{"Config":"a","RepoTags":["busybox"],"Layers":[]}])"));
  EXPECT_EQ(error_of([&] { list_tags(p); }), "Invalid tag busybox (docker.io/library/busybox): does not contain a tag");
  write_tar(p, with_manifest(R"([{"Config":"a","RepoTags":["ok:1"]},{"Config":"a","RepoTags":["UPPER:1"]}])"));
  EXPECT_EQ(error_of([&] { list_tags(p); }),
            "Invalid tag \"UPPER:1\" in manifest item @1: invalid reference format: repository name must be "
            "lowercase");
  write_tar(p, with_manifest(R"([{"Config":"a","RepoTags":["x:1@sha256:)" + std::string(64, 'a') + R"("]}])"));
  EXPECT_EQ(error_of([&] { list_tags(p); }),
            "creating a reference for tag \"x:1@sha256:" + std::string(64, 'a') +
                "\" in manifest item @0: docker-archive doesn't support digest references: "
                "docker.io/library/x:1@sha256:" + std::string(64, 'a'));
  EXPECT_EQ(error_of([&] { list_tags(path("missing.tar")); }),
            "opening file \"" + path("missing.tar") + "\": open " + path("missing.tar") +
                ": no such file or directory");
}

TEST_F(DockerArchiveTest, HostileManifestJson) {
  const std::string p = path("bad.tar");
  auto err = [&](const std::string& manifest) {
    write_tar(p, with_manifest(manifest));
    return error_of([&] { list_tags(p); });
  };
  EXPECT_EQ(err(R"([{"Config":1}])"),
            "decoding tar manifest.json: json: cannot unmarshal number into Go struct field ManifestItem.Config "
            "of type string");
  EXPECT_EQ(err(R"({"Config":"a"})"),
            "decoding tar manifest.json: json: cannot unmarshal object into Go value of type "
            "[]tarfile.ManifestItem");
  EXPECT_EQ(err(R"([{"RepoTags":"a:1"}])"),
            "decoding tar manifest.json: json: cannot unmarshal string into Go struct field "
            "ManifestItem.RepoTags of type []string");
  EXPECT_EQ(err(R"([{"Layers":[1]}])"),
            "decoding tar manifest.json: json: cannot unmarshal number into Go struct field ManifestItem.Layers "
            "of type string");
  EXPECT_EQ(err("[{"), "decoding tar manifest.json: unexpected end of JSON input");
  EXPECT_NE(err(std::string(5000, '[') + std::string(5000, ']')), "(no error)");
  EXPECT_NE(err("[\"\xff\"]"), "(no error)");
  // Keys match case-insensitively, as Go's.
  write_tar(p, with_manifest(R"([{"config":"c","repotags":["a:1"],"LAYERS":[]}])"));
  EXPECT_EQ(list_tags(p), std::vector<std::string>{"a:1"});

  // The 1 MiB limit, exactly.
  std::string big = "[" + std::string(kMaxTarManifestSize - 2, ' ') + "]";
  write_tar(p, with_manifest(big));
  EXPECT_TRUE(list_tags(p).empty());
  big.insert(1, " ");
  EXPECT_EQ(err(big), "loading tar component \"manifest.json\": exceeded maximum allowed size of 1048576 bytes");

  write_tar(p, {{"other", "x"}});
  EXPECT_EQ(error_of([&] { list_tags(p); }), "loading tar component \"manifest.json\": file does not exist");
  write_tar(p, {{"manifest.json", "", TarSpec::Dir}});
  EXPECT_EQ(error_of([&] { list_tags(p); }),
            "loading tar component \"manifest.json\": Error reading tar archive component \"manifest.json\": not a "
            "regular file");
  spit(p, "");
  EXPECT_EQ(error_of([&] { list_tags(p); }), "loading tar component \"manifest.json\": file does not exist");
  spit(p, std::string(3000, 'x'));
  EXPECT_EQ(error_of([&] { list_tags(p); }).rfind("loading tar component \"manifest.json\": ", 0), 0u);
  // Truncated in the middle of the archive.
  spit(p, slurp(small_).substr(0, 9000));
  EXPECT_EQ(error_of([&] { list_tags(p); }).rfind("loading tar component \"manifest.json\": ", 0), 0u);
  // A corrupt compressed archive fails while copying, leaving no temp file.
  spit(p, compress(slurp(small_), Compression::Gzip).substr(0, 500));
  EXPECT_EQ(error_of([&] { list_tags(p); }).rfind("copying contents to temporary file ", 0), 0u);
  EXPECT_TRUE(list_dir(tmp_.path()).empty());
}

TEST_F(DockerArchiveTest, HostileLinksAndPaths) {
  const std::string p = path("links.tar");
  auto err = [&](const std::vector<TarSpec>& files, const std::string& layer) {
    write_tar(p, with_manifest(R"([{"Config":"c.json","RepoTags":[],"Layers":[")" + layer + R"(",)"
                               R"("l2.tar","l1.tar"]}])",
                               files));
    return error_of([&] { manifest_of(p); });
  };
  std::vector<TarSpec> base = {{"c.json", config_}, {"l1.tar", layer1_}, {"l2.tar", layer2_}};
  EXPECT_EQ(err(base, "l1.tar"), "(no error)");
  EXPECT_EQ(err(base, "nope.tar"), "Some layer tarfiles are missing in the tarball: \"nope.tar\"");
  EXPECT_EQ(err(base, "../l1.tar"), "Some layer tarfiles are missing in the tarball: \"../l1.tar\"");
  EXPECT_EQ(err(base, "/l1.tar"), "Some layer tarfiles are missing in the tarball: \"/l1.tar\"");

  auto plus = [&](std::vector<TarSpec> more) {
    std::vector<TarSpec> all = base;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  EXPECT_EQ(err(plus({{"a/layer.tar", "../../etc/passwd", TarSpec::Symlink}}), "a/layer.tar"),
            "opening \"a/layer.tar\" to determine its size: link \"a/layer.tar\" points outside the archive");
  EXPECT_EQ(err(plus({{"a", "b", TarSpec::Symlink}, {"b", "a", TarSpec::Symlink}}), "a"),
            "opening \"a\" to determine its size: too many levels of links at \"a\"");
  EXPECT_EQ(err(plus({{"self", "self", TarSpec::Symlink}}), "self"),
            "opening \"self\" to determine its size: too many levels of links at \"self\"");
  EXPECT_EQ(err(plus({{"d", "", TarSpec::Dir}, {"ld", "d", TarSpec::Symlink}}), "ld"),
            "opening \"ld\" to determine its size: Error reading tar archive component \"d\": not a regular file");
  EXPECT_EQ(err(plus({{"dangling", "gone", TarSpec::Symlink}}), "dangling"),
            "opening \"dangling\" to determine its size: link target \"gone\" does not exist");
  // An absolute target resolves inside the archive, as Go's path.Join does.
  EXPECT_EQ(err(plus({{"x/abs", "/l1.tar", TarSpec::Symlink}}), "x/abs"),
            "opening \"x/abs\" to determine its size: link target \"x/l1.tar\" does not exist");
  EXPECT_EQ(err(plus({{"x/l1.tar", layer1_}, {"x/abs", "/l1.tar", TarSpec::Symlink}}), "x/abs"), "(no error)");
  // Two diffIDs from one file.
  EXPECT_EQ(err(base, "l2.tar"), "Layer tarfile \"l2.tar\" used for two different DiffID values");
  // A layer whose content is a broken gzip stream.
  EXPECT_EQ(err(plus({{"bad.gz", std::string("\x1f\x8b\x08", 3) + std::string(100, 'x')}}), "bad.gz")
                .rfind("reading \"bad.gz\" to find its size: ", 0),
            0u);
  // Entry names that could escape an extraction make the archive unreadable.
  EXPECT_NE(err(plus({{"../evil", "x"}}), "l1.tar"), "(no error)");
}

TEST_F(DockerArchiveTest, HostileConfigs) {
  const std::string p = path("cfg.tar");
  auto err = [&](const std::string& config, const std::string& layers = R"(["l1.tar"])") {
    write_tar(p, with_manifest(R"([{"Config":"c.json","RepoTags":[],"Layers":)" + layers + "}]",
                               {{"c.json", config}, {"l1.tar", layer1_}}));
    return error_of([&] { manifest_of(p); });
  };
  const std::string one = std::string(R"({"rootfs":{"type":"layers","diff_ids":[")") + kLayer1 + R"("]}})";
  EXPECT_EQ(err(one), "(no error)");
  EXPECT_EQ(err("{"), "decoding tar config \"c.json\": unexpected end of JSON input");
  EXPECT_EQ(err(R"({"created":"yesterday"})").rfind("decoding tar config \"c.json\": parsing time ", 0), 0u);
  EXPECT_EQ(err("{}"), "Invalid image config (rootFS is not set): \"c.json\"");
  EXPECT_EQ(err(one, "[]"), "Inconsistent layer count: 0 in manifest, 1 in config");
  EXPECT_EQ(err(R"({"rootfs":{"diff_ids":["sha256:abc"]}})"),
            "Invalid image config \"c.json\": rootfs.diff_ids[0] \"sha256:abc\": invalid checksum digest length");
  EXPECT_EQ(err(R"({"rootfs":{"diff_ids":[")" + sha256_digest("other") + R"("]}})").rfind("(no error)", 0), 0u);
  std::string huge = one;
  huge.insert(1, std::string(kMaxConfigSize, ' '));
  EXPECT_EQ(err(huge), "loading tar component \"c.json\": exceeded maximum allowed size of 4194304 bytes");
  // The error is kept: later calls report it again.
  write_tar(p, with_manifest(R"([{"Config":"c.json","RepoTags":[],"Layers":[]}])", {{"c.json", "{}"}}));
  auto src = ref(p)->new_source(ctx_);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(error_of([&] { src->get_manifest(""); }), "Invalid image config (rootFS is not set): \"c.json\"");
  }
  int64_t size = 0;
  EXPECT_EQ(error_of([&] { blob(*src, kLayer1, &size); }), "Invalid image config (rootFS is not set): \"c.json\"");
}

TEST_F(DockerArchiveTest, NoLayers) {
  const std::string p = path("empty-image.tar");
  const std::string cfg = R"({"rootfs":{"type":"layers"}})";
  write_tar(p, with_manifest(R"([{"Config":"c.json","RepoTags":[],"Layers":null}])", {{"c.json", cfg}}));
  EXPECT_EQ(manifest_of(p).bytes,
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
            R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":28,"digest":")" +
                sha256_digest(cfg) + R"("},"layers":[]})");
}

// ---- writing ---------------------------------------------------------------

// Writes the small image the way the copy engine does: layers (the second
// as if decompressed on the fly: no digest or size known), config, manifest.
void put_small_image(ImageDestination& dst, const std::string& l1, const std::string& l2,
                     const std::string& config, const std::string& manifest) {
  manifest::Descriptor d1;
  d1.digest = kLayer1;
  d1.size = static_cast<int64_t>(l1.size());
  StringReader r1(l1);
  EXPECT_EQ(dst.put_blob(r1, d1, false).digest, kLayer1);
  manifest::Descriptor d2;
  StringReader r2(l2);
  manifest::Descriptor stored = dst.put_blob(r2, d2, false);
  EXPECT_EQ(stored.digest, kLayer2);
  EXPECT_EQ(stored.size, 3072);
  EXPECT_TRUE(dst.try_reuse_blob(d1));
  manifest::Descriptor dc;
  dc.digest = kConfigDigest;
  dc.size = static_cast<int64_t>(config.size());
  StringReader rc(config);
  dst.put_blob(rc, dc, true);
  dst.put_manifest(manifest, manifest::media_type::kDockerV2Schema2, "");
}

TEST_F(DockerArchiveTest, WritesSkopeosBytes) {
  ctx_.docker_archive_additional_tags = {"localhost:5000/other/img:2", "docker.io/ferry/small:v1"};
  const std::string out = path("out.tar");
  auto r = ref(out + ":ferry/small:v1");
  auto dst = r->new_destination(ctx_);
  EXPECT_EQ(dst->supported_manifest_mime_types(),
            std::vector<std::string>{manifest::media_type::kDockerV2Schema2});
  EXPECT_EQ(dst->supports_signatures(), "Storing signatures for docker tar files is not supported");
  EXPECT_EQ(dst->desired_layer_compression(), LayerCompression::Decompress);
  EXPECT_FALSE(dst->supports_manifest_lists());
  put_small_image(*dst, layer1_, layer2_, config_, raw_);
  EXPECT_FALSE(path_exists(out));
  dst->commit();
  EXPECT_EQ(slurp(out), slurp(small_));
  dst.reset();
  EXPECT_EQ(list_dir(dir_.path()), std::vector<std::string>{"out.tar"});
  EXPECT_TRUE(list_dir(tmp_.path()).empty());
}

TEST_F(DockerArchiveTest, RoundTripThroughOwnSourceInParallel) {
  ctx_.docker_archive_additional_tags = {"localhost:5000/other/img:2"};
  const std::string out = path("rt.tar");
  auto src = ref(small_)->new_source(ctx_);
  auto dst = ref(out + ":ferry/small:v1")->new_destination(ctx_);
  ASSERT_TRUE(dst->has_thread_safe_put_blob());
  ManifestBytes m = src->get_manifest("");
  auto parsed = manifest::Schema2Manifest::parse(m.bytes);
  std::vector<std::thread> threads;
  for (const auto& l : parsed->layer_infos()) {
    threads.emplace_back([&, d = l.desc] {
      int64_t size = 0;
      auto r = src->get_blob(d, &size);
      DigestVerifyingReader v(std::move(r), d.digest, size);
      dst->put_blob(v, d, false);
    });
  }
  for (auto& t : threads) t.join();
  int64_t size = 0;
  auto c = src->get_blob(parsed->config_info(), &size);
  dst->put_blob(*c, parsed->config_info(), true);
  dst->put_manifest(m.bytes, m.mime_type, "");
  dst->commit();
  EXPECT_EQ(slurp(out), slurp(small_));
}

TEST_F(DockerArchiveTest, UntaggedImage) {
  const std::string out = path("untagged.tar");
  auto dst = ref(out)->new_destination(ctx_);
  put_small_image(*dst, layer1_, layer2_, config_, raw_);
  dst->commit();
  EXPECT_EQ(tar_entry(out, "repositories"), "{}");
  EXPECT_EQ(tar_entry(out, "manifest.json"),
            R"([{"Config":"723aa8a0eed16b671a9dc84ea2bea4b6224c51c20f30e431621abeff416a3826.json","RepoTags":[],)"
            R"("Layers":["81631145bd349f59e0fe2fa10b80d2ce21698e205ca5d79449017a70377cbbf4.tar",)"
            R"("ae85ea17aa3e2a9687b56789b98d98ca0650cf0e341efbe08b6e47eb631aace6.tar",)"
            R"("81631145bd349f59e0fe2fa10b80d2ce21698e205ca5d79449017a70377cbbf4.tar"]}])");
  EXPECT_EQ(list_tags(out), std::vector<std::string>{"@0"});
  EXPECT_EQ(manifest_of(out).bytes, raw_);
}

TEST_F(DockerArchiveTest, ReplacesExistingFileOnlyAtCommit) {
  const std::string out = path("existing.tar");
  spit(out, "old contents");
  // A link to it: the target is replaced, the link stays.
  ASSERT_EQ(::symlink("existing.tar", path("link.tar").c_str()), 0);
  {
    auto dst = ref(path("link.tar") + ":a/b:c")->new_destination(ctx_);
    put_small_image(*dst, layer1_, layer2_, config_, raw_);
    EXPECT_EQ(slurp(out), "old contents");
    // Destroyed without commit: nothing changes, nothing is left behind.
  }
  EXPECT_EQ(slurp(out), "old contents");
  EXPECT_EQ(list_dir(dir_.path()), (std::vector<std::string>{"existing.tar", "link.tar"}));
  EXPECT_TRUE(list_dir(tmp_.path()).empty());

  auto dst = ref(path("link.tar") + ":a/b:c")->new_destination(ctx_);
  put_small_image(*dst, layer1_, layer2_, config_, raw_);
  dst->commit();
  struct stat st;
  ASSERT_EQ(::lstat(path("link.tar").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(list_tags(out), std::vector<std::string>{"docker.io/a/b:c"});
  EXPECT_EQ(list_dir(dir_.path()), (std::vector<std::string>{"existing.tar", "link.tar"}));
}

TEST_F(DockerArchiveTest, FailedWritesLeaveNothing) {
  const std::string out = path("fail.tar");
  {
    // A manifest naming a layer that was never written.
    auto dst = ref(out)->new_destination(ctx_);
    manifest::Descriptor d1;
    StringReader r1(layer1_);
    dst->put_blob(r1, d1, false);
    manifest::Descriptor dc;
    StringReader rc(config_);
    dst->put_blob(rc, dc, true);
    dst->put_manifest(raw_, "", "");
    EXPECT_EQ(error_of([&] { dst->commit(); }), std::string("docker-archive: layer ") + kLayer2 + " was not written");
  }
  {
    // A blob that does not match its digest.
    auto dst = ref(out)->new_destination(ctx_);
    manifest::Descriptor d;
    d.digest = kLayer1;
    StringReader r(layer2_);
    EXPECT_EQ(error_of([&] { dst->put_blob(r, d, false); }),
              std::string("Digest mismatch when copying ") + kLayer1 + ": got " + kLayer2);
    StringReader rc(config_);
    d.size = 5;
    EXPECT_EQ(error_of([&] { dst->put_blob(rc, d, true); }).rfind("Size mismatch when copying ", 0), 0u);
    EXPECT_EQ(error_of([&] { dst->commit(); }), "docker-archive: committing an image without a manifest");
  }
  {
    // The config never arrived.
    auto dst = ref(out)->new_destination(ctx_);
    dst->put_manifest(raw_, manifest::media_type::kDockerV2Schema2, "");
    EXPECT_EQ(error_of([&] { dst->commit(); }), std::string("docker-archive: config ") + kConfigDigest +
                                                    " was not written");
  }
  {
    // A stream that fails halfway.
    class Failing : public Reader {
     public:
      size_t read(uint8_t* buf, size_t n) override {
        if (sent_++ > 2) throw Error("network went away");
        memset(buf, 'x', std::min<size_t>(n, 100));
        return std::min<size_t>(n, 100);
      }

     private:
      int sent_ = 0;
    } failing;
    auto dst = ref(out)->new_destination(ctx_);
    EXPECT_EQ(error_of([&] { dst->put_blob(failing, {}, false); }), "network went away");
  }
  EXPECT_FALSE(path_exists(out));
  EXPECT_TRUE(list_dir(dir_.path()).empty());
  EXPECT_TRUE(list_dir(tmp_.path()).empty());
}

TEST_F(DockerArchiveTest, ManifestTypesAndSignatures) {
  auto dst = ref(path("m.tar"))->new_destination(ctx_);
  EXPECT_THROW(dst->put_manifest(raw_, manifest::media_type::kOciManifest, ""), ManifestTypeRejected);
  const std::string oci =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]})";
  EXPECT_THROW(dst->put_manifest(oci, "", ""), ManifestTypeRejected);
  EXPECT_THROW(dst->put_manifest(R"({"schemaVersion":1})", "", ""), ManifestTypeRejected);
  EXPECT_EQ(error_of([&] { dst->put_manifest(raw_, "", kConfigDigest); }),
            "Manifest lists are not supported for docker tar files");
  EXPECT_EQ(error_of([&] { dst->put_manifest("[", "", ""); }), "parsing manifest: unexpected end of JSON input");
  const std::string bad_digest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"digest":"sha256:../../x"},"layers":[]})";
  EXPECT_NE(error_of([&] { dst->put_manifest(bad_digest, "", ""); }), "(no error)");
  EXPECT_NO_THROW(dst->put_signatures({}, ""));
  EXPECT_EQ(error_of([&] { dst->put_signatures({Signature{}}, ""); }),
            "Storing signatures for docker tar files is not supported");
}

TEST_F(DockerArchiveTest, DestinationErrors) {
  EXPECT_EQ(error_of([&] { ref(path("x.tar") + ":@1")->new_destination(ctx_); }),
            "Destination reference must not contain a manifest index @1");
  EXPECT_EQ(error_of([&] { ref(path("no/such/x.tar"))->new_destination(ctx_); }),
            "opening file \"" + path("no/such/x.tar") + "\": open " + path("no/such/x.tar") +
                ": no such file or directory");
  EXPECT_EQ(error_of([&] { ref(dir_.path())->new_destination(ctx_); }),
            "opening file \"" + dir_.path() + "\": open " + dir_.path() + ": is a directory");
  ctx_.docker_archive_additional_tags = {"UPPER:1"};
  EXPECT_EQ(error_of([&] { ref(path("x.tar"))->new_destination(ctx_); }),
            "additional tag \"UPPER:1\": invalid reference format: repository name must be lowercase");
  EXPECT_TRUE(list_dir(tmp_.path()).empty());
}

TEST_F(DockerArchiveTest, WritesIntoAFifo) {
  const std::string fifo = path("out.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] {
    int fd = ::open(fifo.c_str(), O_RDONLY);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    ::close(fd);
  });
  ctx_.docker_archive_additional_tags = {"localhost:5000/other/img:2"};
  try {
    auto dst = ref(fifo + ":ferry/small:v1")->new_destination(ctx_);
    put_small_image(*dst, layer1_, layer2_, config_, raw_);
    dst->commit();
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    // Unblock the reader.
    ::close(::open(fifo.c_str(), O_WRONLY));
  }
  reader.join();
  EXPECT_EQ(got, slurp(small_));
}

// ---- the tar format ----------------------------------------------------------

TEST(GoTarHeader, MatchesGoForSmallAndHugeFiles) {
  // 8 GiB needs PAX; bytes from Go's archive/tar (see the README).
  EXPECT_EQ(go_tar_header("abc.tar", '0', 0444, int64_t{1} << 33, ""), slurp(testdata("go-pax-header.bin")));
  // The largest USTAR size still fits in the plain header.
  std::string h = go_tar_header("abc.tar", '0', 0444, 077777777777, "");
  ASSERT_EQ(h.size(), 512u);
  EXPECT_EQ(h.substr(124, 12), std::string("77777777777\0", 12));
  EXPECT_EQ(h.substr(100, 8), std::string("0000444\0", 8));
  h = go_tar_header("d/layer.tar", '2', 0, 0, "../x.tar");
  EXPECT_EQ(h.substr(156, 9), "2../x.tar");
  EXPECT_EQ(h.substr(148, 8), std::string("012416\0 ", 8));
  EXPECT_THROW(go_tar_header(std::string(101, 'a'), '0', 0444, 1, ""), Error);
  EXPECT_THROW(go_tar_header("caf\xc3\xa9", '0', 0444, 1, ""), Error);
  EXPECT_THROW(go_tar_header("", '0', 0444, 1, ""), Error);
  EXPECT_THROW(go_tar_header("a", '0', 0444, -1, ""), Error);
}

TEST(GoTarWriter, SizeMismatchIsAnError) {
  int fd = ::open("/dev/null", O_WRONLY);
  ASSERT_GE(fd, 0);
  GoTarWriter w(fd, "/dev/null");
  StringReader r("abc");
  EXPECT_EQ(error_of([&] { w.add_file("f", r, 4); }), "Size mismatch when copying f, expected 4, got 3");
  StringReader r2("abcde");
  EXPECT_EQ(error_of([&] { w.add_file("f", r2, 4); }), "Size mismatch when copying f, expected 4, got more");
  ::close(fd);
}

}  // namespace
}  // namespace ferry::docker_archive
