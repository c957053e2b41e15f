#include "io/reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

const char kEmptySha256[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char kAbcSha256[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string drain(Reader& r, size_t chunk = 4096) {
  std::string out, buf(chunk, '\0');
  while (size_t got = r.read(reinterpret_cast<uint8_t*>(buf.data()), chunk)) out.append(buf.data(), got);
  return out;
}

// Hands out its data in fixed pieces and records how much was asked for.
class TrickleReader : public Reader {
 public:
  TrickleReader(std::string data, size_t piece) : data_(std::move(data)), piece_(piece) {}
  size_t read(uint8_t* buf, size_t n) override {
    requested += n;
    n = std::min({n, piece_, data_.size() - pos_});
    memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  size_t requested = 0;

 private:
  std::string data_;
  size_t piece_;
  size_t pos_ = 0;
};

TEST(StringReader, ReadsInChunks) {
  StringReader r("hello world");
  uint8_t buf[4];
  EXPECT_EQ(r.read(buf, 4), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "hell");
  EXPECT_EQ(drain(r, 3), "o world");
  EXPECT_EQ(r.read(buf, 4), 0u);
  EXPECT_EQ(r.read(buf, 4), 0u);
}

TEST(ReadAll, Bounds) {
  StringReader exact("12345");
  EXPECT_EQ(read_all(exact, 5), "12345");
  StringReader over("123456");
  EXPECT_EQ(error_of([&] { read_all(over, 5); }), "exceeded maximum allowed size of 5 bytes");
  StringReader empty("");
  EXPECT_EQ(read_all(empty, 0), "");
  StringReader one("x");
  EXPECT_EQ(error_of([&] { read_all(one, 0); }), "exceeded maximum allowed size of 0 bytes");
  StringReader unlimited(std::string(200000, 'a'));
  EXPECT_EQ(read_all(unlimited, SIZE_MAX).size(), 200000u);
}

TEST(ReadAll, StopsReadingAtTheLimit) {
  // An endless source must not be drained past the limit.
  class Endless : public Reader {
   public:
    size_t read(uint8_t* buf, size_t n) override {
      memset(buf, 'z', n);
      total += n;
      return n;
    }
    size_t total = 0;
  } endless;
  EXPECT_EQ(error_of([&] { read_all(endless, 100000); }),
            "exceeded maximum allowed size of 100000 bytes");
  EXPECT_LE(endless.total, 100001u);
}

TEST(FileReader, ReadsAndReportsSize) {
  TempDir dir("/tmp", "ferry-reader-test-");
  write_file_atomic(dir.path() + "/f", "file contents");
  FileReader r(dir.path() + "/f");
  EXPECT_EQ(r.size(), 13);
  EXPECT_EQ(drain(r, 5), "file contents");
}

TEST(FileReader, GoStyleErrors) {
  EXPECT_EQ(error_of([] { FileReader r("/nonexistent-ferry/x"); }),
            "open /nonexistent-ferry/x: no such file or directory");
  TempDir dir("/tmp", "ferry-reader-test-");
  FileReader r(dir.path());
  uint8_t buf[8];
  EXPECT_EQ(error_of([&] { r.read(buf, sizeof buf); }), "read " + dir.path() + ": is a directory");
}

TEST(DigestVerifyingReader, AcceptsMatchingContent) {
  DigestVerifyingReader v(std::make_unique<StringReader>("abc"), kAbcSha256, 3);
  EXPECT_EQ(drain(v, 1), "abc");
  uint8_t buf[4];
  EXPECT_EQ(v.read(buf, 4), 0u);  // stays at EOF
  DigestVerifyingReader unknown_size(std::make_unique<StringReader>("abc"), kAbcSha256, -1);
  EXPECT_EQ(drain(unknown_size), "abc");
  DigestVerifyingReader empty(std::make_unique<StringReader>(""), kEmptySha256, 0);
  EXPECT_EQ(drain(empty), "");
  DigestVerifyingReader sha512(
      std::make_unique<StringReader>("abc"),
      "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba"
      "3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
      3);
  EXPECT_EQ(drain(sha512), "abc");
}

TEST(DigestVerifyingReader, DigestMismatchFailsAtEndAndStaysFailed) {
  const std::string want = std::string("Digest did not match, expected ") + kAbcSha256 +
                           ", got sha256:"
                           "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9";
  // Unknown size: the verdict comes at EOF.
  DigestVerifyingReader v(std::make_unique<StringReader>("abd"), kAbcSha256, -1);
  uint8_t buf[8];
  EXPECT_EQ(v.read(buf, 8), 3u);
  EXPECT_EQ(error_of([&] { v.read(buf, 8); }), want);
  EXPECT_EQ(error_of([&] { v.read(buf, 8); }), want);
}

TEST(DigestVerifyingReader, KnownSizeFailsBeforeHandingOnTheLastBytes) {
  // A consumer that stops at the declared size (curl sending a body of
  // known length) must not receive the end of a corrupt blob.
  const std::string want = std::string("Digest did not match, expected ") + kAbcSha256 +
                           ", got sha256:"
                           "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9";
  DigestVerifyingReader v(std::make_unique<TrickleReader>("abd", 2), kAbcSha256, 3);
  uint8_t buf[8];
  EXPECT_EQ(v.read(buf, 8), 2u);
  EXPECT_EQ(error_of([&] { v.read(buf, 8); }), want);
  EXPECT_EQ(error_of([&] { v.read(buf, 8); }), want);
  // The right content is verified as its last byte arrives.
  DigestVerifyingReader ok(std::make_unique<TrickleReader>("abc", 2), kAbcSha256, 3);
  EXPECT_EQ(ok.read(buf, 8), 2u);
  EXPECT_EQ(ok.read(buf, 8), 1u);
  EXPECT_EQ(ok.read(buf, 8), 0u);
}

TEST(DigestVerifyingReader, ShortContent) {
  DigestVerifyingReader v(std::make_unique<StringReader>("ab"), kAbcSha256, 3);
  EXPECT_EQ(error_of([&] { drain(v); }),
            std::string("Size mismatch when copying ") + kAbcSha256 + ", expected 3, got 2");
}

TEST(DigestVerifyingReader, OversizedStopsAtFirstSurplusByte) {
  auto inner = std::make_unique<TrickleReader>(std::string(1 << 20, 'x'), 1 << 20);
  TrickleReader* raw = inner.get();
  DigestVerifyingReader v(std::move(inner), kAbcSha256, 3);
  uint8_t buf[4096];
  EXPECT_EQ(error_of([&] { v.read(buf, sizeof buf); }),
            std::string("Size mismatch when copying ") + kAbcSha256 + ", expected 3, got at least 4");
  EXPECT_EQ(raw->requested, 4u);
  // Even with the right prefix: "abc" followed by more is still rejected.
  DigestVerifyingReader v2(std::make_unique<TrickleReader>("abcd", 1), kAbcSha256, 3);
  EXPECT_EQ(error_of([&] { drain(v2); }),
            std::string("Size mismatch when copying ") + kAbcSha256 + ", expected 3, got at least 4");
}

TEST(DigestVerifyingReader, InnerErrorsAreSticky) {
  class Broken : public Reader {
   public:
    size_t read(uint8_t*, size_t) override {
      if (calls++ == 0) throw Error("connection reset");
      return 0;  // a retry must not look like a clean end
    }
    int calls = 0;
  };
  DigestVerifyingReader v(std::make_unique<Broken>(), kAbcSha256, 3);
  uint8_t buf[4];
  EXPECT_EQ(error_of([&] { v.read(buf, 4); }), "connection reset");
  EXPECT_EQ(error_of([&] { v.read(buf, 4); }), "connection reset");
}

TEST(DigestVerifyingReader, RejectsMalformedDigests) {
  auto make = [](const std::string& d) {
    return error_of([&] { DigestVerifyingReader v(std::make_unique<StringReader>(""), d, 0); });
  };
  EXPECT_EQ(make("sha256:abc"), "invalid digest \"sha256:abc\"");
  EXPECT_EQ(make(std::string(kAbcSha256) + "0"), std::string("invalid digest \"") + kAbcSha256 + "0\"");
  EXPECT_EQ(make("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
            "invalid digest \"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"");
  EXPECT_EQ(make("md5:900150983cd24fb0d6963f7d28e17f72"),
            "unsupported digest algorithm in \"md5:900150983cd24fb0d6963f7d28e17f72\"");
  EXPECT_EQ(make("nocolon"), "unsupported digest algorithm in \"nocolon\"");
  EXPECT_EQ(make(""), "unsupported digest algorithm in \"\"");
}

TEST(DigestingReader, ComputesDigestAndSize) {
  StringReader src("abc");
  DigestingReader d(src);
  EXPECT_FALSE(d.finished());
  EXPECT_EQ(error_of([&] { d.digest(); }), "internal error: digest requested before end of stream");
  EXPECT_EQ(drain(d, 2), "abc");
  EXPECT_TRUE(d.finished());
  EXPECT_EQ(d.digest(), kAbcSha256);
  EXPECT_EQ(d.size(), 3);
  uint8_t buf[1];
  EXPECT_EQ(d.read(buf, 1), 0u);
  EXPECT_EQ(d.digest(), kAbcSha256);

  StringReader empty_src("");
  DigestingReader e(empty_src);
  EXPECT_EQ(drain(e), "");
  EXPECT_EQ(e.digest(), kEmptySha256);
  EXPECT_EQ(e.size(), 0);
}

}  // namespace
}  // namespace ferry
