#include "io/digest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/error.h"

namespace ferry {
namespace {

const std::string kEmpty256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kAbc256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kAbc512 =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
const std::string kEmpty512 =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

std::string error_of(void (*fn)(std::string_view), std::string_view arg) {
  try {
    fn(arg);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Digest, KnownVectors) {
  EXPECT_EQ(sha256_digest(""), "sha256:" + kEmpty256);
  EXPECT_EQ(sha256_digest("abc"), "sha256:" + kAbc256);
  EXPECT_EQ(sha256_digest("The quick brown fox jumps over the lazy dog"),
            "sha256:d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
  EXPECT_EQ(sha512_digest("abc"), "sha512:" + kAbc512);
  EXPECT_EQ(sha512_digest(""), "sha512:" + kEmpty512);
  EXPECT_EQ(sha256_digest(std::string("a\0b", 3)), sha256_digest(std::string("a\0b", 3)));
  EXPECT_NE(sha256_digest(std::string("a\0b", 3)), sha256_digest("a"));
}

TEST(Digest, IncrementalMatchesOneShot) {
  Sha256 h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; i++) h.update(chunk.data(), chunk.size());
  EXPECT_EQ(h.hex_final(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  // Reusable after final; zero-length updates are no-ops.
  h.update("ab");
  h.update(nullptr, 0);
  h.update(std::string_view("c"));
  EXPECT_EQ(h.digest_final(), "sha256:" + kAbc256);
  EXPECT_EQ(h.hex_final(), kEmpty256);

  Sha512 h5;
  h5.update("a");
  h5.update("bc");
  EXPECT_EQ(h5.digest_final(), "sha512:" + kAbc512);
  EXPECT_EQ(h5.algorithm(), "sha512");
}

TEST(Digest, HasherMove) {
  Hasher a("sha256");
  a.update("ab");
  Hasher b(std::move(a));
  b.update("c");
  EXPECT_EQ(b.hex_final(), kAbc256);
  Hasher c("sha512");
  c = std::move(b);
  c.update("abc");
  EXPECT_EQ(c.digest_final(), "sha256:" + kAbc256);
}

TEST(Digest, HasherRejectsUnknownAlgorithm) {
  for (const char* alg : {"md5", "sha384", "SHA256", "", "sha256 "}) {
    try {
      Hasher h(alg);
      ADD_FAILURE() << alg;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), std::string("unsupported digest algorithm \"") + alg + "\"");
    }
  }
}

TEST(Digest, DigestLike) {
  EXPECT_EQ(digest_like("sha256:" + kEmpty256, "abc"), "sha256:" + kAbc256);
  EXPECT_EQ(digest_like("sha512:" + kEmpty512, "abc"), "sha512:" + kAbc512);
  EXPECT_THROW(digest_like("md5:0123456789abcdef0123456789abcdef", "abc"), Error);
}

struct ProblemCase {
  std::string digest;
  const char* problem;  // nullptr = valid
};

TEST(Digest, ValidateTable) {
  const char* fmt = "invalid checksum digest format";
  const char* len = "invalid checksum digest length";
  const char* uns = "unsupported digest algorithm";
  std::vector<ProblemCase> cases = {
      {"sha256:" + kEmpty256, nullptr},
      {"sha512:" + kEmpty512, nullptr},
      // Structure.
      {"", fmt},
      {":", fmt},
      {"sha256", fmt},
      {"sha256:", fmt},
      {":" + kEmpty256, fmt},
      {"sha256" + kEmpty256, fmt},
      // Known algorithms: length first, then lowercase hex.
      {"sha256:" + kEmpty256.substr(1), len},
      {"sha256:" + kEmpty256 + "0", len},
      {"sha256:abc", len},
      {"sha512:" + kEmpty256, len},
      {"sha256:" + kEmpty512, len},
      {"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", fmt},
      {"sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", fmt},
      {"sha256:" + kEmpty256.substr(0, 63) + ":", fmt},
      {"sha256:" + kEmpty256.substr(0, 63) + std::string(1, '\0'), fmt},
      {"sha256:" + kEmpty256.substr(0, 62) + "\xc3\xa9", fmt},
      // Other algorithms: grammar decides between format and unsupported.
      {"sha384:" + kEmpty256, uns},
      {"md5:d41d8cd98f00b204e9800998ecf8427e", uns},
      {"sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", uns},
      {"a.b-c_d+e:x=", uns},
      {"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", uns},
      {"SHA256:" + kEmpty256, fmt},
      {"sha-:abc", fmt},
      {"-sha:abc", fmt},
      {"sha..256:abc", fmt},
      {"sha 256:abc", fmt},
      {"md5:abc/def", fmt},
      {"md5:abc:def", fmt},
      {"md5:..", fmt},
      {"md5:abc def", fmt},
      {std::string(100000, 'a') + ":" + std::string(100000, 'b'), uns},
      {"sha256:" + std::string(100000, 'a'), len},
  };
  for (const auto& c : cases) {
    const char* got = digest_problem(c.digest);
    if (c.problem == nullptr) {
      EXPECT_EQ(got, nullptr) << c.digest.substr(0, 80);
      EXPECT_NO_THROW(validate_digest(c.digest));
    } else {
      ASSERT_NE(got, nullptr) << c.digest.substr(0, 80);
      EXPECT_STREQ(got, c.problem) << c.digest.substr(0, 80);
      EXPECT_THROW(validate_digest(c.digest), Error);
    }
  }
}

// c/image can also compute sha384; elsewhere the two validators agree.
TEST(Digest, GoDigestProblemAcceptsSha384) {
  const std::string sha384_empty =
      "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b";
  EXPECT_EQ(go_digest_problem("sha384:" + sha384_empty), nullptr);
  EXPECT_STREQ(digest_problem("sha384:" + sha384_empty), "unsupported digest algorithm");
  EXPECT_STREQ(go_digest_problem("sha384:" + kEmpty256), "invalid checksum digest length");
  EXPECT_STREQ(go_digest_problem("sha384:" + sha384_empty.substr(0, 95) + "G"), "invalid checksum digest format");
  for (const std::string& d : {"sha256:" + kEmpty256, "sha512:" + kEmpty512}) EXPECT_EQ(go_digest_problem(d), nullptr);
  for (const std::string& d : {std::string("sha256:abc"), "SHA256:" + kEmpty256, std::string("md5:abc"),
                               std::string("md5:abc/def"), std::string(":"), std::string("")}) {
    EXPECT_STREQ(go_digest_problem(d), digest_problem(d)) << d;
  }
}

TEST(Digest, ValidateMessageQuotesHostileInput) {
  EXPECT_EQ(error_of(validate_digest, "sha256:abc"), "invalid digest \"sha256:abc\": invalid checksum digest length");
  EXPECT_EQ(error_of(validate_digest, std::string("a\0\n\"\\\xff:x", 8)),
            "invalid digest \"a\\x00\\n\\\"\\\\\\xff:x\": invalid checksum digest format");
  EXPECT_EQ(error_of(validate_digest, "\xc3\xa9:x"), "invalid digest \"\xc3\xa9:x\": invalid checksum digest format");
  // Truncated, overlong and surrogate sequences are escaped, not passed on.
  EXPECT_EQ(error_of(validate_digest, "\xe2\x82:x"), "invalid digest \"\\xe2\\x82:x\": invalid checksum digest format");
  EXPECT_EQ(error_of(validate_digest, "\xc0\xaf:x"), "invalid digest \"\\xc0\\xaf:x\": invalid checksum digest format");
  EXPECT_EQ(error_of(validate_digest, "\xed\xa0\x80:x"),
            "invalid digest \"\\xed\\xa0\\x80:x\": invalid checksum digest format");
  EXPECT_EQ(error_of(validate_digest, "md5:abc"), "invalid digest \"md5:abc\": unsupported digest algorithm");
}

TEST(Digest, Parts) {
  EXPECT_EQ(digest_algorithm("sha256:" + kEmpty256), "sha256");
  EXPECT_EQ(digest_hex("sha256:" + kEmpty256), kEmpty256);
  EXPECT_EQ(digest_algorithm("sha512:" + kEmpty512), "sha512");
  EXPECT_EQ(digest_hex("sha512:" + kEmpty512), kEmpty512);
  // A hex part that would be a path must never come back.
  EXPECT_THROW(digest_hex("sha256:../../../../etc/passwd"), Error);
  EXPECT_THROW(digest_hex("md5:d41d8cd98f00b204e9800998ecf8427e"), Error);
  EXPECT_THROW(digest_algorithm(""), Error);
}

}  // namespace
}  // namespace ferry
