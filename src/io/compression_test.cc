#include "io/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>

#include "util/error.h"

namespace ferry {
namespace {

std::string drain(Reader& r, size_t chunk = 64 * 1024) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    size_t got = r.read(reinterpret_cast<uint8_t*>(buf.data()), chunk);
    if (got == 0) return out;
    EXPECT_LE(got, chunk);
    out.append(buf.data(), got);
  }
}

std::string compress(const std::string& data, Compression c, int level = -1, int threads = 0) {
  auto r = make_compressor(std::make_unique<StringReader>(data), c, level, threads);
  return drain(*r);
}

std::string decompress(const std::string& data, Compression c, size_t chunk = 64 * 1024) {
  auto r = make_decompressor(std::make_unique<StringReader>(data), c);
  return drain(*r, chunk);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Text-like and compressible, so the deflate paths with matches run.
std::string compressible(size_t n) {
  std::string s;
  unsigned i = 0;
  while (s.size() < n) s += "layer " + std::to_string(i++ % 977) + " of the image\n";
  s.resize(n);
  return s;
}

std::string zlib_gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int ret;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    ret = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (ret == Z_OK);
  EXPECT_EQ(ret, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u);
  inflateEnd(&zs);
  return out;
}

std::string zlib_gzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(CompressionNames, RoundTripAndErrors) {
  EXPECT_EQ(compression_name(Compression::None), "");
  EXPECT_EQ(compression_name(Compression::Gzip), "gzip");
  EXPECT_EQ(compression_name(Compression::Bzip2), "bzip2");
  EXPECT_EQ(compression_name(Compression::Xz), "Xz");
  EXPECT_EQ(compression_name(Compression::Zstd), "zstd");
  EXPECT_EQ(compression_name(Compression::ZstdChunked), "zstd:chunked");
  EXPECT_EQ(compression_from_name("gzip"), Compression::Gzip);
  EXPECT_EQ(compression_from_name("zstd"), Compression::Zstd);
  EXPECT_EQ(compression_from_name("zstd:chunked"), Compression::ZstdChunked);
  EXPECT_EQ(compression_from_name("bzip2"), Compression::Bzip2);
  EXPECT_EQ(compression_from_name("Xz"), Compression::Xz);
  // Case-sensitive, as c/image's algorithm lookup.
  EXPECT_EQ(error_of([] { compression_from_name("xz"); }), "cannot find compressor for \"xz\"");
  EXPECT_EQ(error_of([] { compression_from_name("GZIP"); }), "cannot find compressor for \"GZIP\"");
  EXPECT_EQ(error_of([] { compression_from_name(""); }), "cannot find compressor for \"\"");
}

TEST(DetectCompression, Magic) {
  auto detect = [](std::initializer_list<uint8_t> b) {
    std::vector<uint8_t> v(b);
    return detect_compression(v.data(), v.size());
  };
  EXPECT_EQ(detect({0x1F, 0x8B, 0x08, 0x00}), Compression::Gzip);
  EXPECT_EQ(detect({0x1F, 0x8B, 0x08}), Compression::Gzip);
  EXPECT_EQ(detect({0x1F, 0x8B, 0x07}), Compression::None);  // not deflate
  EXPECT_EQ(detect({0x1F, 0x8B}), Compression::None);
  EXPECT_EQ(detect({0x42, 0x5A, 0x68, 0x39}), Compression::Bzip2);
  EXPECT_EQ(detect({0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00}), Compression::Xz);
  EXPECT_EQ(detect({0xFD, 0x37, 0x7A, 0x58, 0x5A}), Compression::None);
  EXPECT_EQ(detect({0x28, 0xB5, 0x2F, 0xFD, 0x00}), Compression::Zstd);
  EXPECT_EQ(detect({0x28, 0xB5, 0x2F}), Compression::None);
  EXPECT_EQ(detect({'u', 's', 't', 'a', 'r'}), Compression::None);
  EXPECT_EQ(detect_compression(nullptr, 0), Compression::None);
}

TEST(PeekReader, PeekDoesNotConsume) {
  PeekReader p(std::make_unique<StringReader>("abcdefghij"));
  EXPECT_EQ(p.peek(4), "abcd");
  EXPECT_EQ(p.peek(2), "ab");
  EXPECT_EQ(p.peek(6), "abcdef");
  uint8_t buf[3];
  ASSERT_EQ(p.read(buf, 3), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "abc");
  EXPECT_EQ(p.peek(2), "de");
  EXPECT_EQ(drain(p, 4), "defghij");
  EXPECT_EQ(p.peek(4), "");
}

TEST(PeekReader, PeekPastEnd) {
  PeekReader p(std::make_unique<StringReader>("ab"));
  EXPECT_EQ(p.peek(8), "ab");
  EXPECT_EQ(p.peek(8), "ab");
  EXPECT_EQ(drain(p), "ab");
  PeekReader empty(std::make_unique<StringReader>(""));
  EXPECT_EQ(empty.peek(8), "");
  EXPECT_EQ(drain(empty), "");
}

TEST(Gzip, HeaderIsGoStyle) {
  const std::string z = compress("hello", Compression::Gzip);
  const std::string header("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  EXPECT_EQ(z.substr(0, 10), header);
  EXPECT_EQ(static_cast<uint8_t>(compress("x", Compression::Gzip, 9)[8]), 2);
  EXPECT_EQ(static_cast<uint8_t>(compress("x", Compression::Gzip, 1)[8]), 4);
  // Trailer: CRC-32 and length of the input, little-endian.
  const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>("hello"), 5));
  std::string trailer;
  for (int i = 0; i < 4; i++) trailer.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  trailer += std::string("\x05\x00\x00\x00", 4);
  EXPECT_EQ(z.substr(z.size() - 8), trailer);
}

TEST(Gzip, RoundTripSizesAndLevels) {
  for (const std::string& data :
       {std::string(), std::string("a"), compressible(100000), random_bytes(300000, 1)}) {
    for (int level : {-1, 0, 1, 3, 6, 8, 9}) {
      SCOPED_TRACE("size " + std::to_string(data.size()) + " level " + std::to_string(level));
      const std::string z = compress(data, Compression::Gzip, level);
      EXPECT_EQ(zlib_gunzip(z), data);
      EXPECT_EQ(decompress(z, Compression::Gzip), data);
    }
  }
}

TEST(Gzip, TenMiBRandomAndCompressible) {
  const std::string rnd = random_bytes(10 << 20, 7);
  const std::string z = compress(rnd, Compression::Gzip);
  EXPECT_EQ(decompress(z, Compression::Gzip), rnd);
  const std::string text = compressible(10 << 20);
  const std::string zt = compress(text, Compression::Gzip);
  EXPECT_LT(zt.size(), text.size() / 5);
  EXPECT_EQ(decompress(zt, Compression::Gzip), text);
  EXPECT_EQ(zlib_gunzip(zt), text);
}

TEST(Gzip, TinyReadBuffers) {
  // Output buffers smaller than ISA-L's internal flush units.
  const std::string data = compressible(20000) + random_bytes(5000, 3);
  auto c = make_compressor(std::make_unique<StringReader>(data), Compression::Gzip);
  const std::string z = drain(*c, 1);
  EXPECT_EQ(zlib_gunzip(z), data);
  EXPECT_EQ(decompress(z, Compression::Gzip, 1), data);
  EXPECT_EQ(decompress(z, Compression::Gzip, 7), data);
}

TEST(Gzip, DecompressesZlibOutput) {
  const std::string data = compressible(1 << 20);
  EXPECT_EQ(decompress(zlib_gzip(data), Compression::Gzip), data);
}

TEST(Gzip, MultiMember) {
  const std::string a = compressible(70000), b = random_bytes(1000, 9);
  const std::string z = compress(a, Compression::Gzip) + zlib_gzip(b) + compress("", Compression::Gzip);
  EXPECT_EQ(decompress(z, Compression::Gzip), a + b);
  EXPECT_EQ(decompress(z, Compression::Gzip, 3), a + b);
}

TEST(Gzip, TrailingGarbage) {
  const std::string z = compress("payload", Compression::Gzip);
  EXPECT_EQ(error_of([&] { decompress(z + "garbage!!!!", Compression::Gzip); }),
            "gzip: invalid header");
  EXPECT_EQ(error_of([&] { decompress(z + std::string(20, '\0'), Compression::Gzip); }),
            "gzip: invalid header");
  // Half a magic number is a truncated second member.
  EXPECT_EQ(error_of([&] { decompress(z + "\x1f", Compression::Gzip); }), "unexpected EOF");
}

TEST(Gzip, EveryTruncationFails) {
  const std::string z = compress(compressible(5000), Compression::Gzip);
  for (size_t len = 0; len < z.size(); len++) {
    SCOPED_TRACE(len);
    EXPECT_NE(error_of([&] { decompress(z.substr(0, len), Compression::Gzip); }), "(no error)");
  }
  EXPECT_EQ(error_of([&] { decompress(z.substr(0, z.size() - 1), Compression::Gzip); }),
            "unexpected EOF");
  EXPECT_EQ(error_of([&] { decompress(z.substr(0, z.size() / 2), Compression::Gzip); }),
            "unexpected EOF");
  EXPECT_EQ(error_of([&] { decompress("", Compression::Gzip); }), "unexpected EOF");
}

TEST(Gzip, CorruptionDetected) {
  const std::string data = compressible(5000);
  std::string z = compress(data, Compression::Gzip);
  std::string bad_crc = z;
  bad_crc[bad_crc.size() - 8] ^= 1;
  EXPECT_EQ(error_of([&] { decompress(bad_crc, Compression::Gzip); }), "gzip: invalid checksum");
  std::string bad_len = z;
  bad_len[bad_len.size() - 1] ^= 1;
  EXPECT_NE(error_of([&] { decompress(bad_len, Compression::Gzip); }), "(no error)");
  std::string bad_method = z;
  bad_method[2] = 7;
  EXPECT_EQ(error_of([&] { decompress(bad_method, Compression::Gzip); }), "gzip: invalid header");
  // Flipping any single body byte must never yield a clean, wrong result.
  for (size_t i = 10; i < z.size() - 8; i += 7) {
    std::string bad = z;
    bad[i] ^= 0x55;
    std::string out;
    std::string err = error_of([&] { out = decompress(bad, Compression::Gzip); });
    if (err == "(no error)") {
      EXPECT_EQ(out, data) << "byte " << i;
    }
  }
}

TEST(Gzip, InvalidLevel) {
  EXPECT_EQ(error_of([] { compress("x", Compression::Gzip, 10); }),
            "gzip: invalid compression level: 10");
}

TEST(Zstd, RoundTrip) {
  for (const std::string& data :
       {std::string(), std::string("z"), compressible(200000), random_bytes(100000, 2)}) {
    for (int level : {-1, 1, 3, 5, 9, 20}) {
      SCOPED_TRACE("size " + std::to_string(data.size()) + " level " + std::to_string(level));
      const std::string z = compress(data, Compression::Zstd, level, 1);
      ASSERT_GE(z.size(), 4u);
      EXPECT_EQ(z.substr(0, 4), "\x28\xb5\x2f\xfd");
      EXPECT_EQ(decompress(z, Compression::Zstd), data);
    }
  }
}

TEST(Zstd, TenMiBMultiThreaded) {
  const std::string data = compressible(5 << 20) + random_bytes(5 << 20, 5);
  for (int threads : {0, 1, 2}) {
    const std::string z = compress(data, Compression::Zstd, -1, threads);
    EXPECT_EQ(decompress(z, Compression::Zstd), data);
    EXPECT_EQ(decompress(z, Compression::Zstd, 1000), data);
  }
}

TEST(Zstd, FramesChecksummed) {
  const std::string z = compress("abc", Compression::Zstd, -1, 1);
  // Frame header descriptor byte: bit 2 is Content_Checksum_flag.
  EXPECT_TRUE(static_cast<uint8_t>(z[4]) & 0x04);
}

TEST(Zstd, MultipleAndSkippableFrames) {
  const std::string a = compressible(30000), b = "second frame";
  // A skippable frame (as zstd:chunked appends) carries no content.
  const std::string skippable("\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11);
  const std::string z =
      compress(a, Compression::Zstd) + skippable + compress(b, Compression::Zstd, 19, 1);
  EXPECT_EQ(decompress(z, Compression::Zstd), a + b);
}

TEST(Zstd, TruncationAndGarbage) {
  const std::string z = compress(compressible(5000), Compression::Zstd, -1, 1);
  for (size_t len = 1; len < z.size(); len++) {
    SCOPED_TRACE(len);
    EXPECT_EQ(error_of([&] { decompress(z.substr(0, len), Compression::Zstd); }), "unexpected EOF");
  }
  EXPECT_EQ(error_of([&] { decompress(z + "junkjunk", Compression::Zstd); }),
            "zstd: unknown frame descriptor");
  std::string bad = z;
  bad[bad.size() - 2] ^= 1;  // inside the checksum
  EXPECT_EQ(error_of([&] { decompress(bad, Compression::Zstd); }),
            "zstd: restored data doesn't match checksum");
}

const uint8_t kBzip2Hello[] = {
    0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x30, 0x86, 0xe7, 0xb9,
    0x00, 0x00, 0x03, 0x51, 0x80, 0x00, 0x10, 0x40, 0x04, 0x03, 0x44, 0x90, 0x20, 0x20,
    0x00, 0x31, 0x00, 0x30, 0x20, 0x0c, 0x23, 0xc4, 0x48, 0x05, 0x45, 0x38, 0xf1, 0x77,
    0x24, 0x53, 0x85, 0x09, 0x03, 0x08, 0x6e, 0x7b, 0x90};  // "hello, ferry\n"

TEST(Bzip2, Decompresses) {
  const std::string z(reinterpret_cast<const char*>(kBzip2Hello), sizeof kBzip2Hello);
  EXPECT_EQ(decompress(z, Compression::Bzip2), "hello, ferry\n");
  EXPECT_EQ(decompress(z, Compression::Bzip2, 1), "hello, ferry\n");
  EXPECT_NE(error_of([&] { decompress(z.substr(0, 30), Compression::Bzip2); }), "(no error)");
  EXPECT_EQ(error_of([] { decompress("BZh9 not really bzip2 data", Compression::Bzip2); }),
            "bzip2: invalid header");
  EXPECT_EQ(error_of([] { compress("x", Compression::Bzip2); }), "bzip2 compression not supported");
}

TEST(Xz, RoundTrip) {
  for (const std::string& data : {std::string(), compressible(300000), random_bytes(70000, 4)}) {
    const std::string z = compress(data, Compression::Xz);
    ASSERT_GE(z.size(), 6u);
    EXPECT_EQ(detect_compression(reinterpret_cast<const uint8_t*>(z.data()), z.size()),
              Compression::Xz);
    EXPECT_EQ(decompress(z, Compression::Xz), data);
    if (!data.empty()) {
      EXPECT_NE(error_of([&] { decompress(z.substr(0, z.size() / 2), Compression::Xz); }),
                "(no error)");
    }
  }
}

// A source that fails midway: the error must surface unchanged through
// every (de)compressor, never as a clean end of stream.
class FailingReader : public Reader {
 public:
  explicit FailingReader(std::string prefix) : prefix_(std::move(prefix)) {}
  size_t read(uint8_t* buf, size_t n) override {
    if (pos_ == prefix_.size()) throw Error("connection reset");
    n = std::min(n, prefix_.size() - pos_);
    memcpy(buf, prefix_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string prefix_;
  size_t pos_ = 0;
};

TEST(Compression, SourceErrorsPropagate) {
  const std::string data = compressible(100000);
  for (Compression c : {Compression::Gzip, Compression::Zstd, Compression::Xz}) {
    SCOPED_TRACE(compression_name(c));
    auto comp = make_compressor(std::make_unique<FailingReader>(data), c, -1, 1);
    EXPECT_EQ(error_of([&] { drain(*comp); }), "connection reset");
    const std::string z = compress(data, c, -1, 1);
    // libarchive-based decompressors read while being set up.
    EXPECT_EQ(error_of([&] {
                auto dec =
                    make_decompressor(std::make_unique<FailingReader>(z.substr(0, z.size() / 2)), c);
                drain(*dec);
              }),
              "connection reset");
  }
  const std::string bz(reinterpret_cast<const char*>(kBzip2Hello), 20);
  EXPECT_EQ(error_of([&] {
              auto dec = make_decompressor(std::make_unique<FailingReader>(bz), Compression::Bzip2);
              drain(*dec);
            }),
            "connection reset");
}

TEST(Compression, NoneIsPassThrough) {
  auto r = make_decompressor(std::make_unique<StringReader>("plain"), Compression::None);
  EXPECT_EQ(drain(*r), "plain");
  auto w = make_compressor(std::make_unique<StringReader>("plain"), Compression::None);
  EXPECT_EQ(drain(*w), "plain");
}

}  // namespace
}  // namespace ferry
