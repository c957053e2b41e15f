#include "io/zstd_chunked.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/digest.h"
#include "io/fs.h"
#include "io/reader.h"
#include "config/test_env.h"
#include "io/tar_test_blocks.h"
#include "util/error.h"

namespace ferry {
namespace {

using Json = nlohmann::ordered_json;

// ---- hand-made tar streams ----------------------------------------------------

using namespace tar_test;

std::string file(const Block& h, const std::string& content) { return with_content(h, content); }
std::string file(std::string_view name, const std::string& content) {
  return file(ustar(name, '0', content.size()), content);
}
std::string pax(const std::string& records) { return file(ustar("././@PaxHeader", 'x', records.size()), records); }

// Deterministic bytes (xorshift64*); nonzero ones when asked, so a test
// controls exactly where the runs of zeros are.
std::string random_bytes(size_t n, uint64_t seed, bool nonzero = false) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    do {
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      s[i] = static_cast<char>((x * 0x2545F4914F6CDD1Dull) >> 56);
    } while (nonzero && s[i] == 0);
  }
  return s;
}

// ---- the compressor and its output ------------------------------------------

// Hands its data out at most `step` bytes per read, as a network body might.
class TrickleReader : public Reader {
 public:
  TrickleReader(std::string data, size_t step) : data_(std::move(data)), step_(step) {}
  size_t read(uint8_t* buf, size_t n) override {
    const size_t k = std::min({n, step_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

struct Output {
  std::string bytes;
  std::map<std::string, std::string> annotations;
};

Output compress(const std::string& tar, int level = 3, size_t input_step = 1 << 20, size_t read_size = 1000) {
  ZstdChunkedCompressor c(std::make_unique<TrickleReader>(tar, input_step), level);
  Output o;
  std::vector<uint8_t> buf(read_size);
  while (size_t n = c.read(buf.data(), buf.size())) o.bytes.append(reinterpret_cast<const char*>(buf.data()), n);
  o.annotations = c.annotations();
  EXPECT_EQ(c.read(buf.data(), buf.size()), 0u);  // stays at its end
  return o;
}

// Streaming decompression of a whole range of frames; skippable frames are
// passed over. Fails the test if the range ends inside a frame.
std::string unzstd(std::string_view z) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
  ZSTD_inBuffer in{z.data(), z.size(), 0};
  std::string out;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    const size_t r = ZSTD_decompressStream(d.get(), &o, &in);
    if (ZSTD_isError(r)) {
      ADD_FAILURE() << ZSTD_getErrorName(r);
      return out;
    }
    out.append(buf.data(), o.pos);
    if (in.pos == in.size && o.pos < o.size) {
      EXPECT_EQ(r, 0u) << "the range ends inside a frame";
      return out;
    }
  }
}

struct Frame {
  size_t start, end;
  bool skippable;
};

std::vector<Frame> frames_of(const std::string& z) {
  std::vector<Frame> frames;
  for (size_t pos = 0; pos < z.size();) {
    const size_t n = ZSTD_findFrameCompressedSize(z.data() + pos, z.size() - pos);
    if (ZSTD_isError(n)) {
      ADD_FAILURE() << "bad frame at " << pos << ": " << ZSTD_getErrorName(n);
      break;
    }
    uint32_t magic;
    std::memcpy(&magic, z.data() + pos, 4);
    frames.push_back({pos, pos + n, (magic & 0xFFFFFFF0u) == 0x184D2A50u});
    pos += n;
  }
  return frames;
}

uint32_t le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}
uint64_t le64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

// One chunk as the TOC describes it.
struct TocChunk {
  uint64_t offset;  // of its frame in the output
  uint64_t file_offset, size;
  std::string digest;
  bool zeros;
};

struct Layer {
  std::string bytes;
  std::map<std::string, std::string> annotations;
  std::vector<Frame> frames;
  std::string toc;  // the TOC JSON, as written
  Json json;
  std::map<std::string, std::vector<TocChunk>> chunks;  // per regular file with more than one chunk
};

// Everything that holds for any output: it decompresses to the tar, the
// footer, the TOC frame and the annotations agree, and every regular file
// (contents given in `files`) and each of its chunks can be fetched alone.
Layer check(const std::string& tar, const Output& out, const std::map<std::string, std::string>& files) {
  Layer l;
  l.bytes = out.bytes;
  l.annotations = out.annotations;
  const std::string& z = l.bytes;

  std::string whole(tar.size() + 1, '\0');
  const size_t n = ZSTD_decompress(whole.data(), whole.size(), z.data(), z.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  if (!ZSTD_isError(n)) {
    EXPECT_TRUE(whole.substr(0, n) == tar) << "one-shot decompression differs from the tar";
  }
  EXPECT_TRUE(unzstd(z) == tar) << "streaming decompression differs from the tar";

  // The footer: a skippable frame of 40 bytes.
  EXPECT_GE(z.size(), 48u);
  if (z.size() < 48) return l;
  const size_t f = z.size() - 48;
  EXPECT_EQ(le32(z, f), 0x184D2A50u);
  EXPECT_EQ(le32(z, f + 4), 40u);
  const uint64_t toc_offset = le64(z, f + 8), toc_len = le64(z, f + 16), toc_ulen = le64(z, f + 24);
  EXPECT_EQ(le64(z, f + 32), 1u);
  EXPECT_EQ(z.substr(f + 40), "GnUlInUx");

  // The TOC frame sits right before it, its payload where the footer says.
  l.frames = frames_of(z);
  EXPECT_GE(l.frames.size(), 2u);
  if (l.frames.size() < 2) return l;
  const Frame& toc_frame = l.frames[l.frames.size() - 2];
  EXPECT_TRUE(toc_frame.skippable);
  EXPECT_TRUE(l.frames.back().skippable);
  EXPECT_EQ(l.frames.back().start, f);
  EXPECT_EQ(toc_frame.start + 8, toc_offset);
  EXPECT_EQ(toc_frame.end, toc_offset + toc_len);
  EXPECT_EQ(le32(z, toc_frame.start + 4), toc_len);
  for (size_t i = 0; i + 2 < l.frames.size(); ++i) EXPECT_FALSE(l.frames[i].skippable) << i;
  if (toc_offset + toc_len > z.size()) return l;
  const std::string compressed_toc = z.substr(toc_offset, toc_len);
  l.toc = unzstd(compressed_toc);
  EXPECT_EQ(l.toc.size(), toc_ulen);

  const std::map<std::string, std::string> annotations{
      {"io.containers.zstd-chunked.manifest-checksum", sha256_digest(compressed_toc)},
      {"io.containers.zstd-chunked.manifest-position", std::to_string(toc_offset) + ":" + std::to_string(toc_len) +
                                                           ":" + std::to_string(toc_ulen) + ":1"},
  };
  EXPECT_EQ(l.annotations, annotations);
  EXPECT_TRUE(is_zstd_chunked(l.annotations));

  l.json = Json::parse(l.toc);
  EXPECT_EQ(l.json.size(), 2u);
  EXPECT_EQ(l.json.begin().key(), "version");
  EXPECT_EQ(l.json.at("version"), 1);
  const Json& entries = l.json.at("entries");
  auto boundary = [&](uint64_t at) {
    return std::any_of(l.frames.begin(), l.frames.end(), [&](const Frame& fr) { return fr.start == at; });
  };
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Json& e = entries.at(i);
    if (e.at("type") == "chunk") continue;  // taken with its file below
    if (e.at("type") != "reg") {
      EXPECT_FALSE(e.contains("digest")) << e.dump();
      EXPECT_FALSE(e.contains("offset")) << e.dump();
      continue;
    }
    const std::string name = e.at("name");
    auto it = files.find(name);
    if (it == files.end()) {
      ADD_FAILURE() << "unexpected regular file " << name;
      continue;
    }
    seen[name] = true;
    const std::string& content = it->second;
    if (content.empty()) {
      EXPECT_FALSE(e.contains("size") || e.contains("digest") || e.contains("offset") || e.contains("endOffset") ||
                   e.contains("chunkSize"))
          << e.dump();
      continue;
    }
    EXPECT_EQ(e.at("size"), content.size());
    EXPECT_EQ(e.at("digest"), sha256_digest(content));
    const uint64_t begin = e.at("offset"), end = e.at("endOffset");
    EXPECT_TRUE(boundary(begin)) << name;
    EXPECT_TRUE(boundary(end)) << name;
    EXPECT_TRUE(unzstd(std::string_view(z).substr(begin, end - begin)) == content) << name;

    if (!e.contains("chunkSize")) {
      EXPECT_TRUE(i + 1 == entries.size() || entries.at(i + 1).at("type") != "chunk") << name;
      continue;
    }
    std::vector<TocChunk> chunks;
    for (size_t j = i; j < entries.size() && (j == i || entries.at(j).at("type") == "chunk"); ++j) {
      const Json& c = entries.at(j);
      EXPECT_EQ(c.at("name"), name);
      EXPECT_FALSE(c.contains("chunkType") && c.at("chunkType") != "zeros") << c.dump();
      chunks.push_back({c.at("offset").get<uint64_t>(), c.value("chunkOffset", uint64_t{0}), c.at("chunkSize").get<uint64_t>(),
                        c.at("chunkDigest").get<std::string>(), c.contains("chunkType")});
    }
    EXPECT_GE(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].offset, begin);
    uint64_t covered = 0;
    for (size_t k = 0; k < chunks.size(); ++k) {
      const TocChunk& c = chunks[k];
      EXPECT_EQ(c.file_offset, covered) << name << " chunk " << k;
      covered += c.size;
      const uint64_t frame_end = k + 1 < chunks.size() ? chunks[k + 1].offset : end;
      EXPECT_TRUE(boundary(c.offset)) << name << " chunk " << k;
      const std::string want = content.substr(c.file_offset, c.size);
      EXPECT_TRUE(unzstd(std::string_view(z).substr(c.offset, frame_end - c.offset)) == want)
          << name << " chunk " << k;
      EXPECT_EQ(c.digest, sha256_digest(want)) << name << " chunk " << k;
      if (c.zeros) {
        EXPECT_EQ(want, std::string(want.size(), '\0')) << name << " chunk " << k;
      }
    }
    EXPECT_EQ(covered, content.size()) << name;
    l.chunks[name] = chunks;
  }
  for (const auto& [name, content] : files) EXPECT_TRUE(seen[name]) << "no TOC entry for " << name;
  return l;
}

// Sets TZ for one test (the TOC's times are local, as Go writes them).
using TzScope = ScopedTimeZone;

// ---- reference rolling checksum and chunker -----------------------------------

// bup's rollsum written straight from its description; the window starts
// as 64 zeros.
struct RefRollSum {
  std::deque<uint8_t> window = std::deque<uint8_t>(64, 0);
  uint32_t s1 = 64 * 31, s2 = 64 * 63 * 31;
  void roll(uint8_t in) {
    const uint32_t out = window.front();
    window.pop_front();
    window.push_back(in);
    s1 += in - out;
    s2 += s1 - 64 * (out + 31);
  }
  bool split() const { return (s2 & 0xffff) == 0xffff; }
};

struct RefChunk {
  uint64_t file_offset, size;
  bool zeros;
  bool operator==(const RefChunk& o) const {
    return file_offset == o.file_offset && size == o.size && zeros == o.zeros;
  }
};
std::ostream& operator<<(std::ostream& o, const RefChunk& c) {
  return o << "{" << c.file_offset << "," << c.size << (c.zeros ? ",zeros}" : "}");
}

// containers/storage's chunking: runs of >= 1024 zeros are chunks of their
// own (the rollsum still sees every zero); otherwise a chunk ends after each
// byte where the rollsum splits.
std::vector<RefChunk> reference_chunks(const std::string& d) {
  RefRollSum rs;
  std::vector<RefChunk> out;
  size_t start = 0, i = 0;
  while (i < d.size()) {
    if (d[i] == 0) {
      size_t j = i;
      while (j < d.size() && d[j] == 0) ++j;
      if (j - i >= 1024) {
        if (i > start) out.push_back({start, i - start, false});
        for (size_t k = i; k < j; ++k) rs.roll(0);
        out.push_back({i, j - i, true});
        start = i = j;
        continue;
      }
    }
    rs.roll(static_cast<uint8_t>(d[i++]));
    if (rs.split()) {
      out.push_back({start, i - start, false});
      start = i;
    }
  }
  if (start < d.size()) out.push_back({start, d.size() - start, false});
  return out;
}

std::vector<RefChunk> as_ref(const std::vector<TocChunk>& chunks) {
  std::vector<RefChunk> r;
  for (const TocChunk& c : chunks) r.push_back({c.file_offset, c.size, c.zeros});
  return r;
}

// ---- RollSum ------------------------------------------------------------------

TEST(ZstdChunkedRollSum, SplitPointsMatchReference) {
  for (const std::string& data : {random_bytes(2 << 20, 1), std::string(300000, 'a'), std::string(300000, '\xff')}) {
    RollSum rs;
    RefRollSum ref;
    std::vector<size_t> got, want;
    for (size_t i = 0; i < data.size(); ++i) {
      rs.roll(static_cast<uint8_t>(data[i]));
      ref.roll(static_cast<uint8_t>(data[i]));
      if (rs.on_split()) got.push_back(i);
      if (ref.split()) want.push_back(i);
    }
    EXPECT_EQ(got, want);
  }
  // Random data splits about every 64 KiB: the comparison above is not vacuous.
  RefRollSum ref;
  size_t splits = 0;
  for (char c : random_bytes(2 << 20, 1)) {
    ref.roll(static_cast<uint8_t>(c));
    splits += ref.split();
  }
  EXPECT_GT(splits, 10u);
  EXPECT_LT(splits, 100u);
}

TEST(ZstdChunkedRollSum, FreshSumIsNotOnSplit) {
  RollSum rs;
  EXPECT_FALSE(rs.on_split());
}

TEST(ZstdChunkedRollSum, RollZerosEqualsSingleRolls) {
  const std::string prefix = random_bytes(1000, 7);
  const std::string after = random_bytes(100000, 8);
  for (uint64_t n : {0, 1, 2, 31, 63, 64, 65, 127, 1000, 100000}) {
    RefRollSum base;
    for (char c : prefix) base.roll(static_cast<uint8_t>(c));
    for (uint64_t i = 0; i < n; ++i) base.roll(0);
    // Only split decisions show the state, and any two states agree once 64
    // equal bytes have followed. So pick bytes to follow the zeros on which
    // the reference splits within those 64: a wrong window would show there.
    std::string suffix;
    for (uint64_t seed = 1000; suffix.empty(); ++seed) {
      const std::string candidate = random_bytes(64, seed);
      RefRollSum r = base;
      for (char c : candidate) {
        r.roll(static_cast<uint8_t>(c));
        if (r.split()) suffix = candidate;
      }
    }
    suffix += after;

    RollSum fast, slow;
    for (char c : prefix) {
      fast.roll(static_cast<uint8_t>(c));
      slow.roll(static_cast<uint8_t>(c));
    }
    fast.roll_zeros(n);
    for (uint64_t i = 0; i < n; ++i) slow.roll(0);
    EXPECT_EQ(fast.on_split(), base.split()) << n;
    EXPECT_EQ(slow.on_split(), base.split()) << n;
    size_t differ = 0, splits = 0;
    for (char c : suffix) {
      fast.roll(static_cast<uint8_t>(c));
      slow.roll(static_cast<uint8_t>(c));
      base.roll(static_cast<uint8_t>(c));
      differ += fast.on_split() != base.split() || slow.on_split() != base.split();
      splits += base.split();
    }
    EXPECT_EQ(differ, 0u) << n;
    EXPECT_GT(splits, 0u);
  }
}

// ---- the compressed layer -----------------------------------------------------

std::string small_tar() {
  std::string t;
  t += ustar("etc/", '5', 0).mode(0755).owner(0, 0).sealed();
  t += pax(pax_record("atime", "1700000001.5") + pax_record("SCHILY.xattr.user.b", "hi") +
           pax_record("SCHILY.xattr.security.capability", std::string("\x01\0\0\x02", 4)));
  t += file("etc/hello", "hello");
  t += ustar("etc/link", '2', 0).mode(0777).link("hello").sealed();
  t += ustar("dev/null", '3', 0).mode(0666).owner(0, 0).dev(1, 3).sealed();
  t += ustar("dev/sda", '4', 0).mode(0660).owner(0, 6).dev(8, 0).sealed();
  t += ustar("etc/hello2", '1', 0).link("etc/hello").sealed();
  t += ustar("run/fifo", '6', 0).sealed();
  t += ustar("etc/empty", '0', 0).sealed();
  t += file("a<b&c>", "x");
  t += trailer();
  return t;
}

TEST(ZstdChunkedLayer, FramesAndTocOfASmallTar) {
  TzScope tz("UTC0");
  const std::string tar = small_tar();
  const Layer l = check(tar, compress(tar), {{"etc/hello", "hello"}, {"etc/empty", ""}, {"a<b&c>", "x"}});
  // Headers up to etc/hello's, its contents, the headers up to a<b&c>'s, its
  // contents, the rest; then the TOC and the footer.
  ASSERT_EQ(l.frames.size(), 7u);
  // etc/hello's contents are at 2048, a<b&c>'s at 6144.
  const std::vector<std::string> frame_contents{tar.substr(0, 2048), "hello", tar.substr(2053, 6144 - 2053), "x",
                                                tar.substr(6145)};
  for (size_t i = 0; i < frame_contents.size(); ++i) {
    EXPECT_TRUE(unzstd(std::string_view(l.bytes).substr(l.frames[i].start, l.frames[i].end - l.frames[i].start)) ==
                frame_contents[i])
        << "frame " << i;
  }
  const auto& fr = l.frames;
  const std::string expected =
      R"({"version":1,"entries":[)"
      R"({"type":"dir","name":"etc/","mode":493,"modtime":"2023-11-14T22:13:20Z",)"
      R"("accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z"},)"
      R"({"type":"reg","name":"etc/hello","mode":420,"size":5,"uid":1000,"gid":1000,)"
      R"("modtime":"2023-11-14T22:13:20Z","accesstime":"2023-11-14T22:13:21.5Z",)"
      R"("changetime":"0001-01-01T00:00:00Z","xattrs":{"security.capability":"AQAAAg==","user.b":"aGk="},)"
      R"("digest":"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",)"
      R"("offset":)" + std::to_string(fr[1].start) + R"(,"endOffset":)" + std::to_string(fr[1].end) + "},"
      R"({"type":"symlink","name":"etc/link","linkName":"hello","mode":511,"uid":1000,"gid":1000,)"
      R"("modtime":"2023-11-14T22:13:20Z","accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z"},)"
      R"({"type":"char","name":"dev/null","mode":438,"modtime":"2023-11-14T22:13:20Z",)"
      R"("accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z","devMajor":1,"devMinor":3},)"
      R"({"type":"block","name":"dev/sda","mode":432,"gid":6,"modtime":"2023-11-14T22:13:20Z",)"
      R"("accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z","devMajor":8},)"
      R"({"type":"hardlink","name":"etc/hello2","linkName":"etc/hello","mode":420,"uid":1000,"gid":1000,)"
      R"("modtime":"2023-11-14T22:13:20Z","accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z"},)"
      R"({"type":"fifo","name":"run/fifo","mode":420,"uid":1000,"gid":1000,"modtime":"2023-11-14T22:13:20Z",)"
      R"("accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z"},)"
      R"({"type":"reg","name":"etc/empty","mode":420,"uid":1000,"gid":1000,"modtime":"2023-11-14T22:13:20Z",)"
      R"("accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z"},)"
      R"({"type":"reg","name":"a\u003cb\u0026c\u003e","mode":420,"size":1,"uid":1000,"gid":1000,)"
      R"("modtime":"2023-11-14T22:13:20Z","accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z",)"
      R"("digest":"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",)"
      R"("offset":)" + std::to_string(fr[3].start) + R"(,"endOffset":)" + std::to_string(fr[3].end) + "}"
      "]}";
  EXPECT_EQ(l.toc, expected);
}

TEST(ZstdChunkedLayer, TimesAreInTheLocalZone) {
  TzScope tz("CET-1");
  const std::string tar = file("f", "1") + trailer();
  const Layer l = check(tar, compress(tar), {{"f", "1"}});
  EXPECT_EQ(l.json.at("entries").at(0).at("modtime"), "2023-11-14T23:13:20+01:00");
  EXPECT_EQ(l.json.at("entries").at(0).at("accesstime"), "0001-01-01T00:00:00Z");
}

TEST(ZstdChunkedLayer, OutputDoesNotDependOnHowInputOrOutputIsSliced) {
  TzScope tz("UTC0");
  std::string tar = small_tar();
  tar.resize(tar.size() - 1024);  // before the end-of-archive blocks
  tar += file("big", random_bytes(300000, 3)) + trailer();
  const Output reference = compress(tar);
  check(tar, reference, {{"etc/hello", "hello"}, {"etc/empty", ""}, {"a<b&c>", "x"}, {"big", random_bytes(300000, 3)}});
  for (size_t step : {size_t{1}, size_t{511}, size_t{4096}}) {
    for (size_t read_size : {size_t{1}, size_t{65536}}) {
      if (step == 1 && read_size == 1) continue;  // slow and adds nothing
      const Output o = compress(tar, 3, step, read_size);
      EXPECT_TRUE(o.bytes == reference.bytes) << step << "/" << read_size;
      EXPECT_EQ(o.annotations, reference.annotations) << step << "/" << read_size;
    }
  }
}

TEST(ZstdChunkedLayer, NegativeLevelIsTheDefault) {
  const std::string tar = file("f", random_bytes(10000, 4)) + trailer();
  EXPECT_TRUE(compress(tar, -1).bytes == compress(tar, 3).bytes);
  const Output high = compress(tar, 19);
  check(tar, high, {{"f", random_bytes(10000, 4)}});
}

TEST(ZstdChunkedLayer, MultiChunkFile) {
  TzScope tz("UTC0");
  const std::string data = random_bytes(600 << 10, 5);
  const std::string tar = file("big", data) + file("copy", data) + trailer();
  const Layer l = check(tar, compress(tar), {{"big", data}, {"copy", data}});

  const std::vector<RefChunk> want = reference_chunks(data);
  ASSERT_GE(want.size(), 4u);  // the rollsum did split this file
  ASSERT_EQ(l.chunks.count("big"), 1u);
  EXPECT_EQ(as_ref(l.chunks.at("big")), want);
  // The rollsum restarts with each file: equal files, equal chunks.
  ASSERT_EQ(l.chunks.count("copy"), 1u);
  EXPECT_EQ(as_ref(l.chunks.at("copy")), want);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(l.chunks.at("copy")[i].digest, l.chunks.at("big")[i].digest);

  // One frame per chunk, right after the header frame.
  const auto& fr = l.frames;
  ASSERT_GE(fr.size(), want.size() + 2);
  std::string entries = R"({"type":"reg","name":"big","mode":420,"size":)" + std::to_string(data.size()) +
                        R"(,"uid":1000,"gid":1000,"modtime":"2023-11-14T22:13:20Z",)"
                        R"("accesstime":"0001-01-01T00:00:00Z","changetime":"0001-01-01T00:00:00Z",)"
                        R"("digest":")" + sha256_digest(data) + R"(","offset":)" + std::to_string(fr[1].start) +
                        R"(,"endOffset":)" + std::to_string(fr[want.size()].end) + R"(,"chunkSize":)" +
                        std::to_string(want[0].size) + R"(,"chunkDigest":")" +
                        sha256_digest(data.substr(0, want[0].size)) + R"("})";
  for (size_t i = 1; i < want.size(); ++i) {
    entries += R"(,{"type":"chunk","name":"big","offset":)" + std::to_string(fr[1 + i].start) + R"(,"chunkSize":)" +
               std::to_string(want[i].size) + R"(,"chunkOffset":)" + std::to_string(want[i].file_offset) +
               R"(,"chunkDigest":")" + sha256_digest(data.substr(want[i].file_offset, want[i].size)) + R"("})";
  }
  const std::string head = R"({"version":1,"entries":[)" + entries + ",";
  EXPECT_EQ(l.toc.substr(0, head.size()), head);
}

TEST(ZstdChunkedLayer, RunsOfZerosBecomeZeroChunks) {
  TzScope tz("UTC0");
  const std::string a = random_bytes(3000, 11, true), b = random_bytes(3000, 12, true),
                    c = random_bytes(2000, 13, true);
  const std::string holes = a + std::string(4096, '\0') + b + std::string(1023, '\0') + c + std::string(1024, '\0');
  const std::string leading = std::string(2048, '\0') + "tail";
  const std::string only_zeros(5000, '\0');
  const std::string short_runs = a + std::string(1023, '\0') + b + std::string(1000, '\0');
  const std::string tar =
      file("holes", holes) + file("leading", leading) + file("zeros", only_zeros) + file("short", short_runs) + trailer();
  const Layer l =
      check(tar, compress(tar), {{"holes", holes}, {"leading", leading}, {"zeros", only_zeros}, {"short", short_runs}});

  const std::vector<RefChunk> holes_want{{0, 3000, false}, {3000, 4096, true}, {7096, 6023, false}, {13119, 1024, true}};
  EXPECT_EQ(reference_chunks(holes), holes_want);  // no rollsum split in these few bytes
  ASSERT_EQ(l.chunks.count("holes"), 1u);
  EXPECT_EQ(as_ref(l.chunks.at("holes")), holes_want);

  const std::vector<RefChunk> leading_want{{0, 2048, true}, {2048, 4, false}};
  ASSERT_EQ(l.chunks.count("leading"), 1u);
  EXPECT_EQ(as_ref(l.chunks.at("leading")), leading_want);

  // A single chunk, zeros or not, leaves no chunk fields.
  EXPECT_EQ(l.chunks.count("zeros"), 0u);
  EXPECT_EQ(l.chunks.count("short"), 0u);
  EXPECT_EQ(reference_chunks(short_runs).size(), 1u);

  const Json& entries = l.json.at("entries");
  ASSERT_EQ(entries.size(), 8u);  // holes: 1 + 3 chunks, leading: 1 + 1, zeros, short
  EXPECT_EQ(entries.at(1).dump(), R"({"type":"chunk","name":"holes","offset":)" + std::to_string(l.chunks.at("holes")[1].offset) +
                                   R"(,"chunkSize":4096,"chunkOffset":3000,"chunkDigest":")" +
                                   sha256_digest(std::string(4096, '\0')) + R"(","chunkType":"zeros"})");
  EXPECT_EQ(entries.at(4).at("chunkType"), "zeros");  // leading's main entry carries its first chunk
  EXPECT_EQ(entries.at(4).at("chunkSize"), 2048);
  EXPECT_FALSE(entries.at(4).contains("chunkOffset"));
  EXPECT_FALSE(entries.at(6).contains("chunkType"));  // zeros: one chunk
}

TEST(ZstdChunkedLayer, EmptyFileHasNoDigestOrOffset) {
  TzScope tz("UTC0");
  const std::string tar = ustar("empty", '0', 0).sealed() + trailer();
  const Layer l = check(tar, compress(tar), {{"empty", ""}});
  EXPECT_EQ(l.toc, R"({"version":1,"entries":[{"type":"reg","name":"empty","mode":420,"uid":1000,"gid":1000,)"
                   R"("modtime":"2023-11-14T22:13:20Z","accesstime":"0001-01-01T00:00:00Z",)"
                   R"("changetime":"0001-01-01T00:00:00Z"}]})");
  ASSERT_EQ(l.frames.size(), 3u);  // all of the tar in one frame
}

TEST(ZstdChunkedLayer, EmptyAndUnterminatedStreams) {
  const Layer empty = check("", compress(""), {});
  // Go marshals the nil entry list of an empty archive as null.
  EXPECT_EQ(empty.toc, R"({"version":1,"entries":null})");
  EXPECT_EQ(empty.frames.size(), 2u);
  const std::string unterminated = file("f", "abc");  // no end-of-archive blocks, as Go accepts
  check(unterminated, compress(unterminated), {{"f", "abc"}});
  const std::string trailing = file("f", "abc") + trailer() + std::string(8192, '\0') + "junk";
  check(trailing, compress(trailing), {{"f", "abc"}});
}

TEST(ZstdChunkedLayer, AnnotationsOnlyAtTheEnd) {
  const std::string tar = file("f", random_bytes(100000, 9)) + trailer();
  ZstdChunkedCompressor c(std::make_unique<StringReader>(tar), 3);
  uint8_t buf[10];
  ASSERT_EQ(c.read(buf, sizeof buf), 10u);
  EXPECT_TRUE(c.annotations().empty());
  std::vector<uint8_t> big(1 << 16);
  while (c.read(big.data(), big.size()) > 0) {
  }
  EXPECT_EQ(c.annotations().size(), 2u);
  EXPECT_TRUE(is_zstd_chunked(c.annotations()));
}

TEST(ZstdChunkedLayer, NonTarInputThrowsFromRead) {
  for (const std::string& input : {random_bytes(4096, 10), std::string("not a tar at all")}) {
    ZstdChunkedCompressor c(std::make_unique<StringReader>(input), 3);
    std::vector<uint8_t> buf(1 << 16);
    try {
      while (c.read(buf.data(), buf.size()) > 0) {
      }
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (input.size() >= 512) {
        EXPECT_EQ(msg, "invalid tar header (checksum mismatch) in tar stream at byte 512");
      } else {
        EXPECT_EQ(msg, "truncated tar stream: it ends inside the first header at byte 16");
      }
    }
    EXPECT_TRUE(c.annotations().empty());
  }
}

TEST(ZstdChunkedLayer, UnsupportedEntryTypeThrows) {
  const std::string tar = ustar("contiguous", '7', 0).sealed() + trailer();
  ZstdChunkedCompressor c(std::make_unique<StringReader>(tar), 3);
  uint8_t buf[4096];
  try {
    while (c.read(buf, sizeof buf) > 0) {
    }
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "zstd:chunked: unknown tarball type: 55 (entry \"contiguous\")");
  }
}

TEST(ZstdChunkedLayer, IsZstdChunked) {
  EXPECT_FALSE(is_zstd_chunked({}));
  EXPECT_FALSE(is_zstd_chunked({{kZstdChunkedManifestChecksum, "sha256:x"}}));
  EXPECT_FALSE(is_zstd_chunked({{kZstdChunkedManifestPosition, "1:2:3:1"}}));
  EXPECT_TRUE(is_zstd_chunked({{kZstdChunkedManifestChecksum, "sha256:x"}, {kZstdChunkedManifestPosition, "1:2:3:1"}}));
  EXPECT_STREQ(kZstdChunkedManifestChecksum, "io.containers.zstd-chunked.manifest-checksum");
  EXPECT_STREQ(kZstdChunkedManifestPosition, "io.containers.zstd-chunked.manifest-position");
}

// ---- archives written by GNU tar ------------------------------------------------

void put(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::fclose(f);
}

TEST(ZstdChunkedLayer, ArchivesFromGnuTar) {
  if (::access("/usr/bin/tar", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/tar";
  TzScope tz("UTC0");
  TempDir tmp("/tmp", "zstd-chunked-test-");
  const std::string root = tmp.path() + "/root";
  const std::string deep = "a/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/a/" + std::string(60, 'd')).c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/" + deep).c_str(), 0755), 0);
  const std::string big = random_bytes(300000, 20) + std::string(8192, '\0') + random_bytes(10000, 21);
  const std::map<std::string, std::string> contents{
      {"a/small.txt", "hello\n"},
      {deep + "/file.bin", random_bytes(2000, 22)},
      {"a/empty", ""},
      {"a/big", big},
      {"a/\xc3\xbcn\xc3\xaf.txt", "unicode"},
  };
  for (const auto& [name, data] : contents) put(root + "/" + name, data);
  ASSERT_EQ(::symlink("small.txt", (root + "/a/link").c_str()), 0);
  ASSERT_EQ(::link((root + "/a/small.txt").c_str(), (root + "/a/z-hard").c_str()), 0);

  std::map<std::string, std::string> files;
  for (const auto& [name, data] : contents) files["./" + name] = data;
  const std::vector<std::string> names{"./",
                                       "./a/",
                                       "./a/big",
                                       "./a/" + std::string(60, 'd') + "/",
                                       "./" + deep + "/",
                                       "./" + deep + "/file.bin",
                                       "./a/empty",
                                       "./a/link",
                                       "./a/small.txt",
                                       "./a/z-hard",
                                       "./a/\xc3\xbcn\xc3\xaf.txt"};
  for (const char* format : {"gnu", "pax", "ustar"}) {
    SCOPED_TRACE(format);
    const std::string tar_path = tmp.path() + "/" + format + ".tar";
    const std::string cmd = std::string("/usr/bin/tar --format=") + format +
                            " --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf " + tar_path +
                            " -C " + root + " .";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const std::string tar = read_file(tar_path, 64 << 20);
    const Layer l = check(tar, compress(tar), files);
    std::vector<std::string> got;
    for (const Json& e : l.json.at("entries")) {
      if (e.at("type") != "chunk") got.push_back(e.at("name"));
    }
    EXPECT_EQ(got, names);
    ASSERT_EQ(l.chunks.count("./a/big"), 1u);
    EXPECT_EQ(as_ref(l.chunks.at("./a/big")), reference_chunks(big));
    const Json& entries = l.json.at("entries");
    const auto hard = std::find_if(entries.begin(), entries.end(), [](const Json& e) { return e.at("name") == "./a/z-hard"; });
    ASSERT_NE(hard, entries.end());
    EXPECT_EQ((*hard).at("type"), "hardlink");
    EXPECT_EQ((*hard).at("linkName"), "./a/small.txt");
    const auto link = std::find_if(entries.begin(), entries.end(), [](const Json& e) { return e.at("name") == "./a/link"; });
    ASSERT_NE(link, entries.end());
    EXPECT_EQ((*link).at("type"), "symlink");
    EXPECT_EQ((*link).at("linkName"), "small.txt");
    EXPECT_EQ((*link).at("modtime"), "2023-11-14T22:13:20Z");
  }
}

}  // namespace
}  // namespace ferry
