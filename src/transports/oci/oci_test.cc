#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "io/fs.h"
#include "transports/oci/layout.h"
#include "transports/oci/oci_destination.h"
#include "transports/oci/oci_reference.h"
#include "transports/oci/oci_source.h"
#include "util/error.h"

namespace ferry::oci {
namespace {

namespace mt = manifest::media_type;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

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

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

class OciTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry_oci_testXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { remove_all(root_); }

  struct Image {
    std::string layer, config, manifest;
    std::string layer_digest, config_digest, manifest_digest;
  };

  static Image make_image(const std::string& seed, const std::string& shared_layer = "") {
    Image img;
    img.layer = shared_layer.empty() ? "layer-bytes-" + seed : shared_layer;
    img.config = R"({"architecture":"amd64","os":"linux","seed":")" + seed + R"("})";
    img.layer_digest = sha256_digest(img.layer);
    img.config_digest = sha256_digest(img.config);
    img.manifest = std::string(R"({"schemaVersion":2,"mediaType":")") + mt::kOciManifest +
                   R"(","config":{"mediaType":")" + mt::kOciConfig + R"(","digest":")" +
                   img.config_digest + R"(","size":)" + std::to_string(img.config.size()) +
                   R"(},"layers":[{"mediaType":")" + mt::kOciLayerGzip + R"(","digest":")" +
                   img.layer_digest + R"(","size":)" + std::to_string(img.layer.size()) + "}]}";
    img.manifest_digest = sha256_digest(img.manifest);
    return img;
  }

  static manifest::Descriptor desc(const std::string& data, const std::string& media_type = "") {
    manifest::Descriptor d;
    d.media_type = media_type;
    d.digest = sha256_digest(data);
    d.size = static_cast<int64_t>(data.size());
    return d;
  }

  void write_image(const std::string& name, const Image& img, const SystemContext& ctx = {}) {
    auto ref = parse_reference(name);
    auto dest = ref->new_destination(ctx);
    StringReader layer(img.layer), config(img.config);
    dest->put_blob(layer, desc(img.layer, mt::kOciLayerGzip), false);
    dest->put_blob(config, desc(img.config, mt::kOciConfig), true);
    dest->put_manifest(img.manifest, mt::kOciManifest);
    dest->commit();
  }

  std::string entry_json(const Image& img, const std::string& tag) {
    std::string s = std::string(R"({"mediaType":")") + mt::kOciManifest + R"(","digest":")" +
                    img.manifest_digest + R"(","size":)" + std::to_string(img.manifest.size());
    if (!tag.empty()) s += R"(,"annotations":{"org.opencontainers.image.ref.name":")" + tag + R"("})";
    return s + "}";
  }

  std::string index_json(const std::vector<std::string>& entries) {
    std::string s = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)";
    for (size_t i = 0; i < entries.size(); ++i) s += (i ? "," : "") + entries[i];
    return s + "]}";
  }

  std::string layout() const { return root_ + "/layout"; }

  std::string root_;
};

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

TEST_F(OciTest, WriteReadRoundTrip) {
  Image img = make_image("a");
  write_image(layout() + ":v1", img);

  EXPECT_EQ(slurp(layout() + "/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_EQ(slurp(layout() + "/index.json"), index_json({entry_json(img, "v1")}));
  std::vector<std::string> blobs = {hex_of(img.layer_digest), hex_of(img.config_digest),
                                    hex_of(img.manifest_digest)};
  std::sort(blobs.begin(), blobs.end());
  EXPECT_EQ(list_dir(layout() + "/blobs/sha256"), blobs);
  EXPECT_EQ(list_dir(layout()), (std::vector<std::string>{"blobs", "index.json", "oci-layout"}));
  struct stat st;
  ASSERT_EQ(stat((layout() + "/blobs/sha256/" + hex_of(img.layer_digest)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto src = parse_reference(layout() + ":v1")->new_source({});
  ManifestBytes m = src->get_manifest();
  EXPECT_EQ(m.bytes, img.manifest);
  EXPECT_EQ(m.mime_type, mt::kOciManifest);
  int64_t size = -2;
  auto blob = src->get_blob(desc(img.layer), &size);
  EXPECT_EQ(size, static_cast<int64_t>(img.layer.size()));
  EXPECT_EQ(read_all(*blob, 1 << 20), img.layer);
  EXPECT_TRUE(src->has_thread_safe_get_blob());
  EXPECT_EQ(src->reference().to_string(), "oci:" + layout() + ":v1");

  // The only image is picked without a name, and by position.
  EXPECT_EQ(parse_reference(layout())->new_source({})->get_manifest().bytes, img.manifest);
  EXPECT_EQ(parse_reference(layout() + ":@0")->new_source({})->get_manifest().bytes, img.manifest);
}

TEST_F(OciTest, RetaggingMovesTheAnnotation) {
  Image a = make_image("a"), b = make_image("b");
  write_image(layout() + ":t1", a);
  write_image(layout() + ":t2", a);
  EXPECT_EQ(slurp(layout() + "/index.json"), index_json({entry_json(a, "t1"), entry_json(a, "t2")}));
  // Same image under an existing tag: the entry is untagged, then replaced.
  write_image(layout() + ":t1", a);
  EXPECT_EQ(slurp(layout() + "/index.json"), index_json({entry_json(a, "t1"), entry_json(a, "t2")}));
  // Another image under t1: the old entry stays, untagged.
  write_image(layout() + ":t1", b);
  EXPECT_EQ(slurp(layout() + "/index.json"),
            index_json({entry_json(a, ""), entry_json(a, "t2"), entry_json(b, "t1")}));
  // Untagged writes: appended (no untagged entry with b's digest), then replaced.
  write_image(layout(), b);
  write_image(layout(), b);
  EXPECT_EQ(slurp(layout() + "/index.json"),
            index_json({entry_json(a, ""), entry_json(a, "t2"), entry_json(b, "t1"), entry_json(b, "")}));
  EXPECT_EQ(parse_reference(layout() + ":t1")->new_source({})->get_manifest().bytes, b.manifest);
  EXPECT_EQ(parse_reference(layout() + ":@1")->new_source({})->get_manifest().bytes, a.manifest);
}

TEST_F(OciTest, SelectionErrors) {
  Image a = make_image("a"), b = make_image("b");
  write_image(layout() + ":t1", a);
  write_image(layout() + ":t2", b);
  int code = 0;
  EXPECT_EQ(error_of([&] { parse_reference(layout())->new_source({}); }, &code),
            "more than one image in oci, choose an image");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(error_of([&] { parse_reference(layout() + ":@2")->new_source({}); }, &code),
            "index 2 is too large, only 2 entries available");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(error_of([&] { parse_reference(layout() + ":nope")->new_source({}); }, &code),
            "no descriptor found for reference \"nope\"");
  EXPECT_EQ(code, 2);
  EXPECT_THROW(
      {
        try {
          parse_reference(layout() + ":nope")->new_source({});
        } catch (const NotFoundError&) {
          throw;
        }
      },
      NotFoundError);
  EXPECT_EQ(error_of([&] { parse_reference(root_ + "/missing:x")->new_source({}); }, &code),
            "open " + root_ + "/missing/index.json: no such file or directory");
  EXPECT_EQ(code, 1);
}

TEST_F(OciTest, SelectEntryRules) {
  Index idx;
  auto entry = [](const std::string& type, const std::string& name) {
    IndexEntry e;
    e.desc.media_type = type;
    e.desc.digest = sha256_digest(type + name);
    if (!name.empty()) e.desc.annotations[kRefNameAnnotation] = name;
    return e;
  };
  idx.manifests = {entry("application/foo", "x"), entry("application/bar", "x"),
                   entry(mt::kDockerV2Schema2, "d"), entry("application/foo", "y"),
                   entry(mt::kOciIndex, "y"), entry(mt::kDockerV2List, "l")};
  EXPECT_EQ(error_of([&] { select_entry(idx, "x", -1); }),
            R"(reference "x" matches unsupported manifest MIME types ["application/foo" "application/bar"])");
  EXPECT_EQ(select_entry(idx, "d", -1), 2u);
  EXPECT_EQ(select_entry(idx, "y", -1), 4u);  // the first match of a supported type
  EXPECT_EQ(select_entry(idx, "l", -1), 5u);
  EXPECT_EQ(select_entry(idx, "", 0), 0u);  // @N does not look at the type
  Index empty;
  EXPECT_EQ(error_of([&] { select_entry(empty, "", -1); }), "more than one image in oci, choose an image");
  EXPECT_EQ(error_of([&] { select_entry(empty, "", 0); }), "index 0 is too large, only 0 entries available");
}

TEST_F(OciTest, DestinationProperties) {
  auto ref = parse_reference(layout() + ":t");
  auto dest = ref->new_destination({});
  EXPECT_EQ(dest->supported_manifest_mime_types(),
            (std::vector<std::string>{mt::kOciManifest, mt::kOciIndex}));
  EXPECT_EQ(dest->supports_signatures(), "Pushing signatures for OCI images is not supported");
  EXPECT_EQ(dest->desired_layer_compression(), LayerCompression::Compress);
  EXPECT_TRUE(dest->has_thread_safe_put_blob());
  EXPECT_TRUE(dest->supports_manifest_lists());
  EXPECT_NO_THROW(dest->put_signatures({}));
  EXPECT_EQ(error_of([&] { dest->put_signatures({Signature{}}); }),
            "Pushing signatures for OCI images is not supported");
  // Created eagerly with blobs/, but no index.json before commit.
  EXPECT_EQ(list_dir(layout()), std::vector<std::string>{"blobs"});

  SystemContext keep;
  keep.oci_accept_uncompressed_layers = true;
  EXPECT_EQ(ref->new_destination(keep)->desired_layer_compression(), LayerCompression::Preserve);

  EXPECT_EQ(error_of([&] { parse_reference(layout() + ":@3")->new_destination({}); }),
            "Destination reference must not contain a manifest index @3");
}

TEST_F(OciTest, PutBlobVerifies) {
  auto dest = parse_reference(layout() + ":t")->new_destination({});
  std::string data = "some layer";
  manifest::Descriptor wrong = desc("other content");
  wrong.size = static_cast<int64_t>(data.size());
  StringReader r1(data);
  EXPECT_EQ(error_of([&] { dest->put_blob(r1, wrong, false); }),
            "Digest mismatch when copying " + wrong.digest + ": got " + sha256_digest(data));
  manifest::Descriptor short_size = desc(data);
  short_size.size = 3;
  StringReader r2(data);
  EXPECT_EQ(error_of([&] { dest->put_blob(r2, short_size, false); }),
            "Size mismatch when copying " + sha256_digest(data) + ", expected 3, got 10");
  // Nothing stored, no temporary left behind.
  EXPECT_EQ(list_dir(layout()), std::vector<std::string>{"blobs"});
  EXPECT_EQ(list_dir(layout() + "/blobs"), std::vector<std::string>{});

  // A digest that would escape blobs/ is refused before any file is made.
  manifest::Descriptor evil;
  evil.digest = "sha256:../../../../etc/passwd";
  StringReader r3(data);
  EXPECT_NE(error_of([&] { dest->put_blob(r3, evil, false); }).find("invalid digest"), std::string::npos);
  EXPECT_EQ(list_dir(layout()), std::vector<std::string>{"blobs"});

  // Unknown digest: computed and returned; writing it twice is harmless.
  for (int i = 0; i < 2; ++i) {
    StringReader r(data);
    manifest::Descriptor unknown;
    unknown.media_type = mt::kOciLayerGzip;
    manifest::Descriptor got = dest->put_blob(r, unknown, false);
    EXPECT_EQ(got.digest, sha256_digest(data));
    EXPECT_EQ(got.size, 10);
    EXPECT_EQ(got.media_type, mt::kOciLayerGzip);
  }
  EXPECT_EQ(list_dir(layout()), std::vector<std::string>{"blobs"});
  EXPECT_EQ(slurp(layout() + "/blobs/sha256/" + hex_of(sha256_digest(data))), data);

  // sha512 digests are verified and stored under their own algorithm.
  StringReader r4(data);
  manifest::Descriptor d512;
  d512.digest = sha512_digest(data);
  d512.size = 10;
  EXPECT_EQ(dest->put_blob(r4, d512, false).digest, d512.digest);
  EXPECT_EQ(slurp(layout() + "/blobs/sha512/" + hex_of(d512.digest)), data);
}

TEST_F(OciTest, TryReuseBlob) {
  Image a = make_image("a");
  write_image(layout() + ":t", a);
  auto dest = parse_reference(layout() + ":u")->new_destination({});
  manifest::Descriptor d = desc(a.layer, mt::kOciLayerGzip);
  d.size = -1;
  auto got = dest->try_reuse_blob(d);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size, static_cast<int64_t>(a.layer.size()));
  EXPECT_EQ(got->digest, d.digest);
  EXPECT_EQ(got->media_type, mt::kOciLayerGzip);
  EXPECT_FALSE(dest->try_reuse_blob(desc("absent")).has_value());
  EXPECT_EQ(error_of([&] { dest->try_reuse_blob(manifest::Descriptor{}); }),
            "Can not check for a blob with unknown digest");
  manifest::Descriptor evil;
  evil.digest = "sha256:../x";
  EXPECT_EQ(error_of([&] { dest->try_reuse_blob(evil); }),
            "unexpected digest reference \"sha256:../x\": invalid checksum digest length");
}

TEST_F(OciTest, UncommittedDestinationLeavesIndexUntouched) {
  Image a = make_image("a"), b = make_image("b");
  write_image(layout() + ":t", a);
  std::string before = slurp(layout() + "/index.json");
  {
    auto dest = parse_reference(layout() + ":t")->new_destination({});
    StringReader layer(b.layer);
    dest->put_blob(layer, desc(b.layer), false);
    dest->put_manifest(b.manifest, mt::kOciManifest);
  }
  EXPECT_EQ(slurp(layout() + "/index.json"), before);
  EXPECT_EQ(parse_reference(layout() + ":t")->new_source({})->get_manifest().bytes, a.manifest);
}

TEST_F(OciTest, InstanceManifestsAreBlobsOnly) {
  Image a = make_image("a");
  std::string list = std::string(R"({"schemaVersion":2,"mediaType":")") + mt::kOciIndex +
                     R"(","manifests":[{"mediaType":")" + mt::kOciManifest + R"(","digest":")" +
                     a.manifest_digest + R"(","size":)" + std::to_string(a.manifest.size()) +
                     R"(,"platform":{"architecture":"amd64","os":"linux"}}]})";
  auto dest = parse_reference(layout() + ":multi")->new_destination({});
  StringReader layer(a.layer), config(a.config);
  dest->put_blob(layer, desc(a.layer), false);
  dest->put_blob(config, desc(a.config), true);
  EXPECT_EQ(error_of([&] { dest->put_manifest(a.manifest, mt::kOciManifest, sha256_digest("x")); }),
            "manifest for instance " + sha256_digest("x") + " has digest " + a.manifest_digest);
  dest->put_manifest(a.manifest, "", a.manifest_digest);
  dest->put_manifest(list, mt::kOciIndex);
  dest->commit();
  std::string list_entry = std::string(R"({"mediaType":")") + mt::kOciIndex + R"(","digest":")" +
                           sha256_digest(list) + R"(","size":)" + std::to_string(list.size()) +
                           R"(,"annotations":{"org.opencontainers.image.ref.name":"multi"}})";
  EXPECT_EQ(slurp(layout() + "/index.json"), index_json({list_entry}));

  auto src = parse_reference(layout() + ":multi")->new_source({});
  ManifestBytes top = src->get_manifest();
  EXPECT_EQ(top.bytes, list);
  EXPECT_EQ(top.mime_type, mt::kOciIndex);
  ManifestBytes inst = src->get_manifest(a.manifest_digest);
  EXPECT_EQ(inst.bytes, a.manifest);
  EXPECT_EQ(inst.mime_type, mt::kOciManifest);  // guessed: index.json does not list it
}

TEST_F(OciTest, CommitWithoutManifestFails) {
  auto dest = parse_reference(layout() + ":t")->new_destination({});
  EXPECT_NE(error_of([&] { dest->commit(); }).find("without a manifest"), std::string::npos);
  EXPECT_FALSE(path_exists(layout() + "/index.json"));
}

TEST_F(OciTest, SharedBlobDir) {
  Image a = make_image("a");
  SystemContext ctx;
  ctx.oci_shared_blob_dir = root_ + "/shared";
  write_image(layout() + ":t", a, ctx);
  EXPECT_EQ(list_dir(layout() + "/blobs"), std::vector<std::string>{});
  EXPECT_EQ(list_dir(root_ + "/shared/sha256").size(), 3u);
  auto src = parse_reference(layout() + ":t")->new_source(ctx);
  EXPECT_EQ(src->get_manifest().bytes, a.manifest);
  int64_t size = 0;
  EXPECT_EQ(read_all(*src->get_blob(desc(a.layer), &size), 1 << 20), a.layer);
  // Without the shared dir the blobs are not found.
  auto plain = parse_reference(layout() + ":t")->new_source({});
  EXPECT_EQ(error_of([&] { plain->get_manifest(); }),
            "open " + layout() + "/blobs/sha256/" + hex_of(a.manifest_digest) +
                ": no such file or directory");
}

TEST_F(OciTest, ReadingCorruptedBlobs) {
  Image a = make_image("a");
  write_image(layout() + ":t", a);
  spit(layout() + "/blobs/sha256/" + hex_of(a.manifest_digest), a.manifest + " ");
  auto src = parse_reference(layout() + ":t")->new_source({});
  EXPECT_EQ(error_of([&] { src->get_manifest(); }),
            "manifest " + layout() + "/blobs/sha256/" + hex_of(a.manifest_digest) +
                " does not match its digest " + a.manifest_digest + " (content is " +
                sha256_digest(a.manifest + " ") + ")");
  manifest::Descriptor foreign = desc("not stored");
  foreign.urls = {"https://example.com/layer"};
  int64_t size;
  EXPECT_EQ(error_of([&] { src->get_blob(foreign, &size); }),
            "blob " + foreign.digest + " is not stored in " + layout() +
                " and fetching foreign layers from https://example.com/layer is not supported yet");
  EXPECT_EQ(error_of([&] { src->get_blob(desc("not stored"), &size); }),
            "open " + layout() + "/blobs/sha256/" + hex_of(sha256_digest("not stored")) +
                ": no such file or directory");
}

TEST_F(OciTest, HostileIndexJson) {
  make_dirs(layout());
  auto open_with = [&](const std::string& index) {
    spit(layout() + "/index.json", index);
    return error_of([&] { parse_reference(layout())->new_source({})->get_manifest(); });
  };
  std::string where = "parsing " + layout() + "/index.json: ";
  EXPECT_EQ(open_with(R"({"schemaVersion":2,"manifests":{}})"),
            where + "manifests: expected an array, got object");
  EXPECT_EQ(open_with(R"({"manifests":[{"digest":"sha256:00","size":"12"}]})"),
            where + "manifests[0].size: expected a number, got string");
  EXPECT_EQ(open_with(R"({"manifests":[{"size":1.5}]})"),
            where + "manifests[0].size: expected an integer, got 1.5");
  EXPECT_EQ(open_with(R"({"manifests":[{"size":18446744073709551615}]})"),
            where + "manifests[0].size: number 18446744073709551615 overflows int64");
  EXPECT_EQ(open_with(R"({"manifests":[{"annotations":{"a":1}}]})"),
            where + "manifests[0].annotations.\"a\": expected a string, got number");
  EXPECT_EQ(open_with(R"({"manifests":[{"platform":[]}]})"),
            where + "manifests[0].platform: expected an object, got array");
  EXPECT_EQ(open_with(R"({"manifests":[{"data":"!!!!"}]})"),
            where + "manifests[0].data: illegal base64 data at input byte 0");
  EXPECT_EQ(open_with(R"({"schemaVersion":"2"})"), where + "schemaVersion: expected a number, got string");
  EXPECT_EQ(open_with("[]"), where + "index: expected an object, got array");
  EXPECT_NE(open_with("{").find(where), std::string::npos);
  EXPECT_NE(open_with("").find(where), std::string::npos);
  EXPECT_NE(open_with("{\"mediaType\":\"\xff\"}").find(where), std::string::npos);
  EXPECT_EQ(open_with(std::string(100000, '[')),
            where + "JSON nested deeper than 64 levels");
  // Paths in digests never reach the filesystem.
  EXPECT_EQ(open_with(R"({"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../../etc/passwd","size":1}]})"),
            "unexpected digest reference \"sha256:../../../../etc/passwd\": invalid checksum digest length");
  EXPECT_EQ(open_with(R"({"manifests":[{"digest":"sha256:../../../../../../../../../../../../../../../../../../etc/passwd","size":1}]})"),
            "unexpected digest reference \"sha256:../../../../../../../../../../../../../../../../../../etc/passwd\": invalid checksum digest format");
  EXPECT_EQ(open_with(R"({"manifests":[{"digest":"sha256/../../x:y","size":1}]})"),
            "unexpected digest reference \"sha256/../../x:y\": invalid checksum digest format");
  EXPECT_EQ(open_with(R"({"manifests":[{"digest":"md5:d41d8cd98f00b204e9800998ecf8427e","size":1}]})"),
            "unexpected digest reference \"md5:d41d8cd98f00b204e9800998ecf8427e\": unsupported digest algorithm");
  // Too big to read.
  spit(layout() + "/index.json", "{\"x\":\"" + std::string(kMaxIndexBytes, 'a') + "\"}");
  EXPECT_NE(error_of([&] { parse_reference(layout())->new_source({}); }).find("exceeded maximum allowed size"),
            std::string::npos);
  // A directory where index.json should be.
  remove_all(layout() + "/index.json");
  make_dirs(layout() + "/index.json");
  EXPECT_EQ(error_of([&] { parse_reference(layout())->new_source({}); }),
            "read " + layout() + "/index.json: is a directory");
}

TEST_F(OciTest, IndexDecodesLikeGo) {
  // Keys fold case, null is absent, the last duplicate wins, unknown fields
  // go, and whatever follows the first JSON value is ignored.
  std::string in =
      R"({"SchemaVersion":2,"unknown":[1,2],"MANIFESTS":[{"mediatype":"m","Digest":null,"digest":"sha256:aa",)"
      R"("SIZE":7,"urls":["u1",null],"annotations":{"b":"2","a":"1","a":"3"},"data":"aGk=",)"
      R"("platform":{"architecture":"arm64","os":"linux","os.version":"1","os.features":["f"],"variant":"v8","features":["x"]},)"
      R"("artifactType":"at","extra":true}],"subject":{"mediaType":"s","digest":"sha256:bb","size":1},)"
      R"("annotations":{"z":"<&>"}} trailing garbage)";
  Index idx = parse_index(in, "test");
  ASSERT_EQ(idx.manifests.size(), 1u);
  EXPECT_EQ(idx.manifests[0].data, "hi");
  EXPECT_EQ(serialize_index(idx),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
            R"({"mediaType":"m","digest":"sha256:aa","size":7,"urls":["u1",""],"annotations":{"a":"3","b":"2"},)"
            R"("data":"aGk=","platform":{"architecture":"arm64","os":"linux","os.version":"1","os.features":["f"],)"
            R"("variant":"v8"},"artifactType":"at"}],"subject":{"mediaType":"s","digest":"sha256:bb","size":1},)"
            R"("annotations":{"z":"\u003c\u0026\u003e"}})");
  // Minimal input: schemaVersion defaults, manifests [] (never null).
  EXPECT_EQ(serialize_index(parse_index("{}", "t")),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})");
  // base64 is re-encoded canonically; \r\n inside is ignored as Go does.
  EXPECT_EQ(parse_index(R"({"manifests":[{"data":"YW\r\nJj"}]})", "t").manifests[0].data, "abc");
  EXPECT_EQ(parse_index(R"({"manifests":[{"data":"YQ=="}]})", "t").manifests[0].data, "a");
  EXPECT_THROW(parse_index(R"({"manifests":[{"data":"YQ="}]})", "t"), Error);
  EXPECT_THROW(parse_index(R"({"manifests":[{"data":"Y=Q="}]})", "t"), Error);
}

TEST_F(OciTest, ExistingEntriesRoundTrip) {
  Image a = make_image("a");
  make_dirs(layout());
  std::string foreign = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                        std::string(64, 'c') +
                        R"(","size":5,"annotations":{"org.opencontainers.image.ref.name":"old","x":"y"},)"
                        R"("platform":{"architecture":"s390x","os":"linux"},"unknown":1})";
  spit(layout() + "/index.json", R"({"schemaVersion":2,"manifests":[)" + foreign + "]}");
  write_image(layout() + ":new", a);
  EXPECT_EQ(slurp(layout() + "/index.json"),
            index_json({R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                            std::string(64, 'c') +
                            R"(","size":5,"annotations":{"org.opencontainers.image.ref.name":"old","x":"y"},)"
                            R"("platform":{"architecture":"s390x","os":"linux"}})",
                        entry_json(a, "new")}));
  // A corrupt existing index.json fails when the destination opens.
  spit(layout() + "/index.json", "{nope");
  EXPECT_NE(error_of([&] { parse_reference(layout() + ":t")->new_destination({}); }).find("parsing "),
            std::string::npos);
}

TEST_F(OciTest, DeleteKeepsSharedBlobs) {
  Image a = make_image("a"), b = make_image("b", "shared-layer");
  Image c = make_image("c", "shared-layer");
  write_image(layout() + ":a", a);
  write_image(layout() + ":b", b);
  write_image(layout() + ":c", c);
  write_image(layout() + ":c2", c);
  std::string blobs = layout() + "/blobs/sha256/";

  parse_reference(layout() + ":b")->delete_image({});
  EXPECT_FALSE(path_exists(blobs + hex_of(b.manifest_digest)));
  EXPECT_FALSE(path_exists(blobs + hex_of(b.config_digest)));
  EXPECT_TRUE(path_exists(blobs + hex_of(b.layer_digest)));  // c uses it too
  EXPECT_EQ(slurp(layout() + "/index.json"),
            index_json({entry_json(a, "a"), entry_json(c, "c"), entry_json(c, "c2")}) + "\n");

  // c's blobs are still needed by c2.
  parse_reference(layout() + ":c")->delete_image({});
  EXPECT_TRUE(path_exists(blobs + hex_of(c.manifest_digest)));
  EXPECT_TRUE(path_exists(blobs + hex_of(c.layer_digest)));
  parse_reference(layout() + ":@1")->delete_image({});
  EXPECT_FALSE(path_exists(blobs + hex_of(c.manifest_digest)));
  EXPECT_FALSE(path_exists(blobs + hex_of(c.config_digest)));
  EXPECT_FALSE(path_exists(blobs + hex_of(c.layer_digest)));
  EXPECT_EQ(list_dir(blobs).size(), 3u);  // a's

  int code = 0;
  EXPECT_EQ(error_of([&] { parse_reference(layout() + ":gone")->delete_image({}); }, &code),
            "no descriptor found for reference \"gone\"");
  EXPECT_EQ(code, 2);
  parse_reference(layout())->delete_image({});  // the only image left
  EXPECT_EQ(list_dir(blobs), std::vector<std::string>{});
  EXPECT_EQ(slurp(layout() + "/index.json"), index_json({}) + "\n");
}

TEST_F(OciTest, DeleteFollowsNestedIndexes) {
  Image a = make_image("a"), b = make_image("b");
  write_image(layout() + ":a", a);
  auto dest = parse_reference(layout() + ":list")->new_destination({});
  StringReader layer(b.layer), config(b.config);
  dest->put_blob(layer, desc(b.layer), false);
  dest->put_blob(config, desc(b.config), true);
  dest->put_manifest(b.manifest, mt::kOciManifest, b.manifest_digest);
  auto child = [](const Image& i) {
    return std::string(R"({"mediaType":")") + mt::kOciManifest + R"(","digest":")" + i.manifest_digest +
           R"(","size":)" + std::to_string(i.manifest.size()) + "}";
  };
  // The list includes a, which the tagged entry "a" still needs.
  std::string list = std::string(R"({"schemaVersion":2,"mediaType":")") + mt::kOciIndex +
                     R"(","manifests":[)" + child(a) + "," + child(b) + "]}";
  dest->put_manifest(list, mt::kOciIndex);
  dest->commit();
  parse_reference(layout() + ":list")->delete_image({});
  std::string blobs = layout() + "/blobs/sha256/";
  EXPECT_FALSE(path_exists(blobs + hex_of(sha256_digest(list))));
  EXPECT_FALSE(path_exists(blobs + hex_of(b.manifest_digest)));
  EXPECT_FALSE(path_exists(blobs + hex_of(b.layer_digest)));
  EXPECT_TRUE(path_exists(blobs + hex_of(a.manifest_digest)));
  EXPECT_TRUE(path_exists(blobs + hex_of(a.layer_digest)));
  EXPECT_EQ(parse_reference(layout() + ":a")->new_source({})->get_manifest().bytes, a.manifest);
}

TEST_F(OciTest, DeleteRefusesUnknownTypesAndDeepNesting) {
  Image a = make_image("a");
  write_image(layout() + ":a", a);
  std::string blobs = layout() + "/blobs/sha256/";
  auto index_entry = [](const std::string& digest) {
    return std::string(R"({"mediaType":")") + mt::kOciIndex + R"(","digest":")" + digest +
           R"(","size":1})";
  };
  // A chain of 10 distinct nested indexes is refused, and nothing deleted.
  std::string next = a.manifest_digest;
  std::string next_type = mt::kOciManifest;
  for (int i = 0; i < 10; ++i) {
    std::string body = std::string(R"({"schemaVersion":2,"manifests":[{"mediaType":")") + next_type +
                       R"(","digest":")" + next + R"(","size":1}]})";
    next = sha256_digest(body);
    next_type = mt::kOciIndex;
    spit(blobs + hex_of(next), body);
  }
  spit(layout() + "/index.json", index_json({entry_json(a, "a"), index_entry(next)}));
  EXPECT_NE(error_of([&] { parse_reference(layout() + ":a")->delete_image({}); })
                .find("is nested deeper than 8 levels"),
            std::string::npos);
  EXPECT_TRUE(path_exists(blobs + hex_of(a.layer_digest)));

  // An index whose blob names itself ends (each manifest is read once).
  std::string self_hex(64, 'e');
  spit(blobs + self_hex, std::string(R"({"schemaVersion":2,"manifests":[)") +
                             index_entry("sha256:" + self_hex) + "]}");
  spit(layout() + "/index.json", index_json({entry_json(a, "a"), index_entry("sha256:" + self_hex)}));
  parse_reference(layout() + ":a")->delete_image({});
  EXPECT_FALSE(path_exists(blobs + hex_of(a.layer_digest)));
  EXPECT_TRUE(path_exists(blobs + self_hex));

  write_image(layout() + ":a", a);
  spit(layout() + "/index.json",
       index_json({entry_json(a, "a"), R"({"mediaType":"text/plain","digest":")" + a.layer_digest + R"(","size":1})"}));
  EXPECT_EQ(error_of([&] { parse_reference(layout() + ":a")->delete_image({}); }),
            "unsupported mediaType in index: \"text/plain\"");
  EXPECT_TRUE(path_exists(blobs + hex_of(a.manifest_digest)));
}

TEST_F(OciTest, ConcurrentBlobsAndCommits) {
  std::vector<Image> imgs;
  for (int i = 0; i < 4; ++i) imgs.push_back(make_image(std::to_string(i), "same-layer"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] { write_image(layout() + ":t" + std::to_string(i), imgs[i]); });
  for (auto& t : threads) t.join();
  Index idx = LayoutPaths(layout(), "").read_index();
  EXPECT_EQ(idx.manifests.size(), 4u);  // the lock keeps every commit's entry
  EXPECT_EQ(list_dir(layout() + "/blobs/sha256").size(), 9u);
  EXPECT_EQ(list_dir(layout()), (std::vector<std::string>{"blobs", "index.json", "oci-layout"}));
}

TEST_F(OciTest, ReferenceIdentity) {
  make_dirs(root_ + "/real/sub");
  ASSERT_EQ(symlink((root_ + "/real").c_str(), (root_ + "/link").c_str()), 0);
  auto ref = parse_reference(root_ + "/link/sub/lay:name:with/slash");
  std::string real = resolve_path_fully_explicit(root_) + "/real/sub/lay";
  EXPECT_EQ(ref->transport_name(), "oci");
  EXPECT_EQ(ref->string_within_transport(), root_ + "/link/sub/lay:name:with/slash");
  EXPECT_EQ(ref->policy_identity(), real);
  std::vector<std::string> ns = ref->policy_namespaces();
  ASSERT_GE(ns.size(), 3u);
  EXPECT_EQ(ns[0], real);
  EXPECT_EQ(ns[1], resolve_path_fully_explicit(root_) + "/real/sub");
  EXPECT_NE(ns.back(), "/");
  EXPECT_EQ(ns.back().find('/', 1), std::string::npos);
  EXPECT_FALSE(ref->docker_reference().has_value());
  EXPECT_EQ(parse_reference("rel")->string_within_transport(), "rel:");
  EXPECT_EQ(parse_reference("rel:@4")->string_within_transport(), "rel:@4");
  EXPECT_EQ(path_namespaces("/a/b"), (std::vector<std::string>{"/a/b", "/a"}));
  EXPECT_EQ(path_namespaces("/"), std::vector<std::string>{});
  EXPECT_THROW(parse_reference(root_ + ":bad name"), Error);
}

TEST(OciLayoutHelpers, JoinPath) {
  EXPECT_EQ(join_path("a/", "index.json"), "a/index.json");
  EXPECT_EQ(join_path("./a/./b", "../c"), "a/c");
  EXPECT_EQ(join_path("/", "x"), "/x");
  EXPECT_EQ(join_path("", "x"), "x");
}

TEST(OciLayoutHelpers, GuessMime) {
  EXPECT_EQ(manifest::guess_mime_type(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})"), mt::kOciIndex);
  EXPECT_EQ(manifest::guess_mime_type(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"}})"),
            mt::kOciManifest);
  EXPECT_EQ(manifest::guess_mime_type(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json"}})"),
            mt::kDockerV2Schema2);
  EXPECT_EQ(manifest::guess_mime_type(R"({"schemaVersion":2,"manifests":[{}]})"), mt::kOciIndex);
  EXPECT_EQ(manifest::guess_mime_type(R"({"schemaVersion":1,"signatures":[]})"), mt::kDockerV2Schema1Signed);
  EXPECT_EQ(manifest::guess_mime_type(R"({"schemaVersion":1})"), mt::kDockerV2Schema1);
  EXPECT_EQ(manifest::guess_mime_type("not json"), "");
}

}  // namespace
}  // namespace ferry::oci
