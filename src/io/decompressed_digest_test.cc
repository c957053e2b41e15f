#include "io/decompressed_digest.h"

#include <gtest/gtest.h>

#include <string>

#include "io/digest.h"
#include "util/error.h"

namespace ferry {
namespace {

std::string compress(const std::string& data, Compression c) {
  auto r = make_compressor(std::make_unique<StringReader>(data), c, -1, 1);
  return read_all(*r, 64 << 20);
}

std::string text(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i * 7919 % 100003) + "\n";
  s.resize(n);
  return s;
}

TEST(DecompressedDigestTee, PassesBytesThroughAndDigestsTheirContent) {
  for (Compression c : {Compression::Gzip, Compression::Zstd}) {
    const std::string plain = text(3 << 20);  // more than the queue holds
    const std::string packed = compress(plain, c);
    DecompressedDigestTee tee(std::make_unique<StringReader>(packed), c);
    EXPECT_EQ(read_all(tee, 64 << 20), packed);
    EXPECT_EQ(tee.digest(), sha256_digest(plain));
  }
}

TEST(DecompressedDigestTee, BytesAfterTheCompressedDataDoNotBlock) {
  const std::string plain = text(100000);
  const std::string packed = compress(plain, Compression::Gzip) + std::string(2 << 20, 'x');
  DecompressedDigestTee tee(std::make_unique<StringReader>(packed), Compression::Gzip);
  EXPECT_EQ(read_all(tee, 64 << 20).size(), packed.size());
  // What the decompressor makes of the trailing bytes decides the outcome;
  // either way digest() answers instead of hanging.
  try {
    tee.digest();
  } catch (const Error&) {
  }
}

TEST(DecompressedDigestTee, CorruptDataFailsTheDigestNotTheStream) {
  std::string packed = compress(text(1 << 20), Compression::Gzip);
  packed[packed.size() / 2] ^= 0x55;
  packed[packed.size() / 2 + 1] ^= 0x55;
  DecompressedDigestTee tee(std::make_unique<StringReader>(packed), Compression::Gzip);
  EXPECT_EQ(read_all(tee, 64 << 20), packed);
  try {
    tee.digest();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("computing the DiffID: ", 0), 0u) << e.what();
  }
}

TEST(DecompressedDigestTee, UnfinishedStreamHasNoDigestAndStopsCleanly) {
  const std::string packed = compress(text(3 << 20), Compression::Zstd);
  {
    DecompressedDigestTee tee(std::make_unique<StringReader>(packed), Compression::Zstd);
    uint8_t buf[1000];
    ASSERT_GT(tee.read(buf, sizeof buf), 0u);
    try {
      tee.digest();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "computing the DiffID: the stream was not read to its end");
    }
  }
  {
    // Destroyed mid-stream without asking: the thread is stopped and joined.
    DecompressedDigestTee tee(std::make_unique<StringReader>(packed), Compression::Zstd);
    uint8_t buf[1000];
    ASSERT_GT(tee.read(buf, sizeof buf), 0u);
  }
}

}  // namespace
}  // namespace ferry
