#include "io/tar_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <limits>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "config/test_env.h"
#include "io/tar_test_blocks.h"
#include "util/error.h"

namespace ferry::tar {

// Outside the anonymous namespace so that argument-dependent lookup (from
// gtest and std::optional) finds them; static keeps them to this file.
static bool operator==(const Time& a, const Time& b) { return a.sec == b.sec && a.nsec == b.nsec; }
static std::ostream& operator<<(std::ostream& o, const Time& t) { return o << t.sec << "s+" << t.nsec << "ns"; }

namespace {

// ---- hand-made tar blocks ---------------------------------------------------

using namespace tar_test;

std::string special(char type, const std::string& payload, std::string_view name = "././@PaxHeader") {
  return with_content(ustar(name, type, payload.size()), payload);
}
std::string gnu_long(char type, const std::string& payload) {
  return with_content(gnu("././@LongLink", type, payload.size()), payload);
}

// ---- a sink that records everything ----------------------------------------

struct Recorder : Sink {
  std::string all;  // metadata and content, in the order received
  std::string meta;
  std::vector<Header> headers;
  std::vector<std::string> contents;
  bool in_entry = false;
  std::string misuse;  // a callback arriving out of order

  void metadata(const uint8_t* d, size_t n) override {
    if (in_entry) misuse += "metadata inside an entry; ";
    all.append(reinterpret_cast<const char*>(d), n);
    meta.append(reinterpret_cast<const char*>(d), n);
  }
  void entry(const Header& h) override {
    if (in_entry) misuse += "entry inside an entry; ";
    headers.push_back(h);
    contents.emplace_back();
    in_entry = true;
  }
  void content(const uint8_t* d, size_t n) override {
    if (!in_entry) misuse += "content outside an entry; ";
    if (n == 0) misuse += "empty content call; ";
    all.append(reinterpret_cast<const char*>(d), n);
    contents.back().append(reinterpret_cast<const char*>(d), n);
  }
  void entry_end() override {
    if (!in_entry) misuse += "entry_end outside an entry; ";
    in_entry = false;
  }
};

Recorder split(const std::string& tar, size_t slice = 4096) {
  Recorder r;
  StreamSplitter s(r);
  const auto* p = reinterpret_cast<const uint8_t*>(tar.data());
  for (size_t i = 0; i < tar.size(); i += slice) s.feed(p + i, std::min(slice, tar.size() - i));
  s.finish();
  EXPECT_EQ(r.misuse, "");
  EXPECT_FALSE(r.in_entry);
  EXPECT_EQ(s.entries(), r.headers.size());
  return r;
}

// The message of the ferry::Error feeding `tar` (in slices) raises, or "".
std::string failure(const std::string& tar, size_t slice) {
  Recorder r;
  StreamSplitter s(r);
  const auto* p = reinterpret_cast<const uint8_t*>(tar.data());
  try {
    for (size_t i = 0; i < tar.size(); i += slice) s.feed(p + i, std::min(slice, tar.size() - i));
    s.finish();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The same message whether the stream arrives byte by byte or all at once.
std::string failure(const std::string& tar) {
  const std::string whole = failure(tar, tar.size() + 1);
  EXPECT_EQ(failure(tar, 1), whole);
  EXPECT_EQ(failure(tar, 7), whole);
  return whole;
}

// ---- splitting --------------------------------------------------------------

std::string mixed_stream() {
  std::string t;
  t += ustar("etc/", '5', 0).sealed();
  t += with_content(ustar("etc/hostname", '0', 5), "ferry");
  t += gnu_long('L', std::string(300, 'n') + '\0');
  t += with_content(gnu("short", '0', 600), std::string(600, 'x'));
  t += special('x', pax_record("path", "pax/name") + pax_record("mtime", "1.5"));
  t += with_content(ustar("ignored", '0', 1024), std::string(1024, 'y'));
  t += ustar("link", '2', 7).link("target").sealed();  // size field set, no content follows
  t += ustar("hard", '1', 0).link("etc/hostname").sealed();
  t += special('g', pax_record("comment", "global"));
  t += ustar("empty", '0', 0).sealed();
  t += with_content(ustar("dev", '\0', 3), "abc");
  t += trailer();
  t += std::string(1536, '\0') + "junk after the end";
  return t;
}

TEST(TarStreamSplit, EveryByteReachesMetadataOrContentInOrder) {
  const std::string tar = mixed_stream();
  for (size_t slice : {size_t{1}, size_t{7}, size_t{512}, size_t{4096}, tar.size()}) {
    SCOPED_TRACE("slice " + std::to_string(slice));
    Recorder r = split(tar, slice);
    EXPECT_EQ(r.all, tar);
    ASSERT_EQ(r.headers.size(), 8u);
    const std::vector<std::string> names{"etc/", "etc/hostname", std::string(300, 'n'), "pax/name",
                                         "link", "hard",         "empty",              "dev"};
    const std::vector<std::string> contents{"", "ferry", std::string(600, 'x'), std::string(1024, 'y'), "", "", "",
                                            "abc"};
    for (size_t i = 0; i < names.size(); ++i) {
      EXPECT_EQ(r.headers[i].name, names[i]) << i;
      EXPECT_EQ(r.contents[i], contents[i]) << i;
    }
    const std::string typeflags{r.headers[0].typeflag, r.headers[1].typeflag, r.headers[2].typeflag,
                                r.headers[3].typeflag, r.headers[4].typeflag, r.headers[5].typeflag,
                                r.headers[6].typeflag, r.headers[7].typeflag};
    EXPECT_EQ(typeflags, "50002100");
    EXPECT_EQ(r.meta.size(), tar.size() - 5 - 600 - 1024 - 3);
  }
}

TEST(TarStreamSplit, TrailingDataAfterEndOfArchiveIsMetadata) {
  const std::string tar = with_content(ustar("a", '0', 2), "hi") + trailer() + "\x01garbage, not a header";
  Recorder r = split(tar, 100);
  EXPECT_EQ(r.all, tar);
  EXPECT_EQ(r.meta, tar.substr(0, 512) + tar.substr(514));
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.contents[0], "hi");
}

TEST(TarStreamSplit, StreamEndingAtABlockBoundaryWithoutTrailer) {
  const std::string entry = with_content(ustar("a", '0', 2), "hi");
  EXPECT_EQ(split(entry).headers.size(), 1u);
  EXPECT_EQ(split(entry + std::string(512, '\0')).headers.size(), 1u);  // one zero block only
  EXPECT_EQ(split("").headers.size(), 0u);
  EXPECT_EQ(split(trailer()).headers.size(), 0u);
}

// ---- header fields ----------------------------------------------------------

TEST(TarStreamHeader, UstarFields) {
  Block b = ustar("usr/bin/tool", '0', 0);
  b.oct(100, 8, 0104755).oct(108, 8, 1234).oct(116, 8, 5678).oct(136, 12, 0).oct(329, 8, 0).oct(337, 8, 0);
  Recorder r = split(b.sealed() + ustar("dev/sda", '4', 0).oct(329, 8, 8).oct(337, 8, 3).sealed());
  ASSERT_EQ(r.headers.size(), 2u);
  const Header& h = r.headers[0];
  EXPECT_EQ(h.typeflag, '0');
  EXPECT_EQ(h.name, "usr/bin/tool");
  EXPECT_EQ(h.linkname, "");
  EXPECT_EQ(h.mode, 0104755);  // type bits kept, as Go keeps them
  EXPECT_EQ(h.uid, 1234);
  EXPECT_EQ(h.gid, 5678);
  EXPECT_EQ(h.size, 0);
  EXPECT_EQ(h.mtime, (Time{0, 0}));
  EXPECT_FALSE(h.atime);
  EXPECT_FALSE(h.ctime);
  EXPECT_TRUE(h.xattrs.empty());
  EXPECT_EQ(r.headers[1].devmajor, 8);
  EXPECT_EQ(r.headers[1].devminor, 3);
  EXPECT_EQ(r.headers[1].mtime, (Time{1700000000, 0}));
}

TEST(TarStreamHeader, UstarPrefixIsJoinedToName) {
  Recorder r = split(ustar("file.txt", '0', 0).prefix("a/very/long/directory").sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "a/very/long/directory/file.txt");
}

TEST(TarStreamHeader, UstarMagicWithAnyVersionIsUstar) {
  // Go looks at the magic alone ("ustar\0"); the version field is not checked.
  Block b = ustar("file.txt", '0', 0).prefix("dir");
  b.str(263, 2, std::string_view("\0\0", 2));
  Recorder r = split(b.sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "dir/file.txt");
}

TEST(TarStreamHeader, V7HasNoPrefixAndNoDeviceNumbers) {
  Block b = v7("file.txt", '0', 0).prefix("dir");
  b.oct(329, 8, 9);
  Recorder r = split(b.sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "file.txt");
  EXPECT_EQ(r.headers[0].devmajor, 0);
}

TEST(TarStreamHeader, GnuAccessAndChangeTimes) {
  Block b = gnu("f", '0', 0);
  b.oct(345, 12, 1600000000).oct(357, 12, 1600000001);
  Recorder r = split(b.sealed() + gnu("g", '0', 0).sealed());
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].atime, (Time{1600000000, 0}));
  EXPECT_EQ(r.headers[0].ctime, (Time{1600000001, 0}));
  EXPECT_EQ(r.headers[0].name, "f");  // GNU has no prefix field
  EXPECT_FALSE(r.headers[1].atime);
  EXPECT_FALSE(r.headers[1].ctime);
}

TEST(TarStreamHeader, UnparsableGnuTimesAreDroppedAsGoDropsThem) {
  Block b = gnu("f", '0', 0);
  b.oct(345, 12, 1600000000).str(357, 12, "not a time!");
  Recorder r = split(b.sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_FALSE(r.headers[0].atime);
  EXPECT_FALSE(r.headers[0].ctime);
}

TEST(TarStreamHeader, StarTimesAreAlwaysSet) {
  // ustar magic plus "tar\0" at 508: star. Go reads atime/ctime from it
  // whatever they hold, zero included.
  Block b = ustar("f", '0', 0);
  b.str(508, 4, std::string_view("tar\0", 4)).oct(476, 12, 1600000000);
  Recorder r = split(b.sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].atime, (Time{1600000000, 0}));
  EXPECT_EQ(r.headers[0].ctime, (Time{0, 0}));
}

TEST(TarStreamHeader, GnuLongNameAndLongLink) {
  const std::string name = "dir/" + std::string(296, 'n');
  const std::string link = "target/" + std::string(193, 'l');
  std::string t = gnu_long('L', name + '\0') + gnu_long('K', link + '\0');
  t += gnu("truncated-name", '2', 0).link("truncated-link").sealed();
  t += with_content(gnu("next", '0', 1), "z");  // long names apply to one entry only
  Recorder r = split(t, 1);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].typeflag, '2');
  EXPECT_EQ(r.headers[0].name, name);
  EXPECT_EQ(r.headers[0].linkname, link);
  EXPECT_EQ(r.headers[1].name, "next");
  EXPECT_EQ(r.headers[1].linkname, "");
  EXPECT_EQ(r.all, t);
}

TEST(TarStreamHeader, EmptyGnuLongNameKeepsHeaderName) {
  // Go applies a long name only when it is not empty.
  Recorder r = split(gnu_long('L', std::string(1, '\0')) + gnu_long('K', "") + gnu("kept", '2', 0).link("l").sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "kept");
  EXPECT_EQ(r.headers[0].linkname, "l");
}

TEST(TarStreamHeader, PaxOverridesHeaderFields) {
  std::string recs = pax_record("path", "a/long/pax/path") + pax_record("linkpath", "the/target") +
                     pax_record("uid", "123456789012") + pax_record("gid", "-7") + pax_record("size", "700") +
                     pax_record("mtime", "1700000000.25") + pax_record("atime", "-1.5") + pax_record("ctime", "5") +
                     pax_record("SCHILY.xattr.user.comment", "hello world") +
                     pax_record("SCHILY.xattr.security.capability", std::string("\x01\0\0\x02", 4)) +
                     pax_record("comment", "ignored") + pax_record("uname", "nobody");
  std::string t = special('x', recs);
  t += with_content(ustar("short", '0', 0), std::string(700, 'p'));  // PAX size decides the content length
  t += with_content(ustar("plain", '0', 1), "q");                    // records apply to one entry only
  Recorder r = split(t, 7);
  ASSERT_EQ(r.headers.size(), 2u);
  const Header& h = r.headers[0];
  EXPECT_EQ(h.name, "a/long/pax/path");
  EXPECT_EQ(h.linkname, "the/target");
  EXPECT_EQ(h.uid, 123456789012);
  EXPECT_EQ(h.gid, -7);
  EXPECT_EQ(h.size, 700);
  EXPECT_EQ(h.mtime, (Time{1700000000, 250000000}));
  EXPECT_EQ(h.atime, (Time{-2, 500000000}));
  EXPECT_EQ(h.ctime, (Time{5, 0}));
  const std::map<std::string, std::string> xattrs{{"security.capability", std::string("\x01\0\0\x02", 4)},
                                                  {"user.comment", "hello world"}};
  EXPECT_EQ(h.xattrs, xattrs);
  EXPECT_EQ(r.contents[0], std::string(700, 'p'));
  EXPECT_EQ(r.headers[1].name, "plain");
  EXPECT_EQ(r.headers[1].uid, 1000);
  EXPECT_EQ(r.headers[1].size, 1);
  EXPECT_TRUE(r.headers[1].xattrs.empty());
  EXPECT_FALSE(r.headers[1].atime);
  EXPECT_EQ(r.contents[1], "q");
}

TEST(TarStreamHeader, PaxTimesAsGoParsesThem) {
  const std::vector<std::pair<std::string, Time>> cases{
      {"0", {0, 0}},
      {"12", {12, 0}},
      {"1.1234567899", {1, 123456789}},  // truncated to nanoseconds
      {"1.", {1, 0}},
      {"-1.5", {-2, 500000000}},
      {"-0.5", {-1, 500000000}},
      {"-3", {-3, 0}},
      {"-3.000", {-3, 0}},
      {"+4.000000001", {4, 1}},
  };
  for (const auto& [text, want] : cases) {
    Recorder r = split(special('x', pax_record("mtime", text)) + ustar("f", '0', 0).sealed());
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].mtime, want) << text;
  }
}

TEST(TarStreamHeader, EmptyPaxValuesKeepHeaderFields) {
  // Go's mergePAX skips records with empty values.
  std::string recs = pax_record("path", "") + pax_record("uid", "") + pax_record("mtime", "") +
                     pax_record("SCHILY.xattr.user.none", "");
  Recorder r = split(special('x', recs) + ustar("kept", '0', 0).sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "kept");
  EXPECT_EQ(r.headers[0].uid, 1000);
  EXPECT_EQ(r.headers[0].mtime, (Time{1700000000, 0}));
  EXPECT_TRUE(r.headers[0].xattrs.empty());
}

TEST(TarStreamHeader, LastDuplicatePaxRecordWins) {
  Recorder r = split(special('x', pax_record("path", "first") + pax_record("path", "second")) +
                     ustar("f", '0', 0).sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "second");
}

TEST(TarStreamHeader, GlobalHeaderIsIgnored) {
  std::string t = special('g', pax_record("path", "global") + pax_record("uid", "5"), "pax_global_header");
  t += with_content(ustar("local", '0', 2), "ok");
  Recorder r = split(t, 512);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "local");
  EXPECT_EQ(r.headers[0].uid, 1000);
  EXPECT_EQ(r.contents[0], "ok");
  EXPECT_EQ(r.all, t);
}

TEST(TarStreamHeader, NulTypeflagIsRegularOrDirectory) {
  std::string t = with_content(ustar("file", '\0', 3), "abc") + ustar("dir/", '\0', 0).sealed() +
                  with_content(v7("old", '\0', 1), "v");
  Recorder r = split(t);
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].typeflag, '0');
  EXPECT_EQ(r.contents[0], "abc");
  EXPECT_EQ(r.headers[1].typeflag, '5');
  EXPECT_EQ(r.headers[2].typeflag, '0');
  EXPECT_EQ(r.contents[2], "v");
}

TEST(TarStreamHeader, HeaderOnlyTypesCarryNoContent) {
  std::string t;
  for (char type : std::string("123456")) t += ustar(std::string("entry") + type, type, 1000).link("x").sealed();
  t += with_content(ustar("last", '0', 4), "data");
  Recorder r = split(t, 1);
  ASSERT_EQ(r.headers.size(), 7u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(r.headers[i].typeflag, "123456"[i]);
    EXPECT_EQ(r.headers[i].size, 1000);  // the field as written
    EXPECT_EQ(r.contents[i], "");
  }
  EXPECT_EQ(r.headers[6].name, "last");
  EXPECT_EQ(r.contents[6], "data");
  EXPECT_EQ(r.all, t);
}

TEST(TarStreamHeader, PaxSizeOnHeaderOnlyTypeCarriesNoContent) {
  std::string t = special('x', pax_record("size", "4096")) + ustar("d/", '5', 0).sealed();
  t += with_content(ustar("f", '0', 1), "1");
  Recorder r = split(t);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].size, 4096);
  EXPECT_EQ(r.contents[0], "");
  EXPECT_EQ(r.contents[1], "1");
}

TEST(TarStreamHeader, Base256Numbers) {
  Block b = ustar("big", '0', 0);
  b.bytes(124, {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x58});  // size 600
  b.bytes(108, {0x80, 0, 0, 0x01, 0, 0, 0, 0});                // uid 2^32
  b.bytes(136, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe});  // mtime -2
  Recorder r = split(with_content(b, std::string(600, 'b')), 7);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].size, 600);
  EXPECT_EQ(r.headers[0].uid, int64_t{1} << 32);
  EXPECT_EQ(r.headers[0].mtime, (Time{-2, 0}));
  EXPECT_EQ(r.contents[0], std::string(600, 'b'));
}

TEST(TarStreamHeader, OctalWithSpacesAndNuls) {
  Block b = ustar("f", '0', 0);
  b.str(100, 8, std::string_view("  755 \0\0", 8));
  b.str(108, 8, std::string_view("\0\0\0\0\0\0\0\0", 8));  // empty: zero
  b.str(116, 8, std::string_view("12\0" "34\0\0\0", 8));   // up to the first NUL
  Recorder r = split(b.sealed());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].mode, 0755);
  EXPECT_EQ(r.headers[0].uid, 0);
  EXPECT_EQ(r.headers[0].gid, 012);
}

TEST(TarStreamHeader, PaxRecordOfExactlyOneMiBIsAccepted) {
  const std::string prefix = "1048576 comment=";
  const std::string rec = prefix + std::string((1 << 20) - prefix.size() - 1, 'c') + "\n";
  ASSERT_EQ(rec.size(), size_t{1} << 20);
  Recorder r = split(special('x', rec) + ustar("f", '0', 0).sealed(), 65536);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "f");
}

// ---- hostile input ------------------------------------------------------------

TEST(TarStreamErrors, BadChecksum) {
  std::string h = ustar("f", '0', 0).sealed();
  h[0] = 'g';
  EXPECT_EQ(failure(h), "invalid tar header (checksum mismatch) in tar stream at byte 512");
  std::string t = with_content(ustar("first", '0', 1), "1") + h;
  EXPECT_EQ(failure(t), "invalid tar header (checksum mismatch) in tar stream at byte 1536 (after entry \"first\")");
}

TEST(TarStreamErrors, ChecksumInSignedArithmeticIsAccepted) {
  // Some old tars summed the header as signed chars; Go accepts either sum.
  Block b = ustar("\xe9t\xe9", '0', 0);
  std::string h = b.sealed();
  int sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<int8_t>(h[i]);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06o", sum);
  std::memcpy(h.data() + 148, buf, 6);
  Recorder r = split(h);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "\xe9t\xe9");
}

TEST(TarStreamErrors, ZeroBlockFollowedByData) {
  std::string t = with_content(ustar("a", '0', 1), "1") + std::string(512, '\0') + ustar("b", '0', 0).sealed();
  EXPECT_EQ(failure(t), "invalid tar header: a zero block followed by data in tar stream at byte 2048 (after entry \"a\")");
}

TEST(TarStreamErrors, TruncatedHeader) {
  EXPECT_EQ(failure(ustar("f", '0', 0).sealed().substr(0, 100)),
            "truncated tar stream: it ends inside the first header at byte 100");
  EXPECT_EQ(failure(with_content(ustar("a", '0', 1), "1") + std::string(511, '\0')),
            "truncated tar stream: it ends inside entry \"a\" at byte 1535");
}

TEST(TarStreamErrors, TruncatedContent) {
  EXPECT_EQ(failure(ustar("f", '0', 600).sealed() + std::string(100, 'x')),
            "truncated tar stream: it ends inside entry \"f\" at byte 612");
}

TEST(TarStreamErrors, MissingPadding) {
  const std::string full = with_content(ustar("f", '0', 5), "12345");
  EXPECT_EQ(failure(full.substr(0, 517)), "truncated tar stream: it ends inside entry \"f\" at byte 517");
  EXPECT_EQ(failure(full.substr(0, 1000)), "truncated tar stream: it ends inside entry \"f\" at byte 1000");
}

TEST(TarStreamErrors, TruncatedSpecialRecord) {
  const std::string pax = special('x', pax_record("path", "p"));
  EXPECT_EQ(failure(pax.substr(0, 515)), "truncated tar stream: it ends inside the first header at byte 515");
}

TEST(TarStreamErrors, NegativeSize) {
  Block b = ustar("neg", '0', 0);
  b.bytes(124, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // -1
  EXPECT_EQ(failure(b.sealed()), "invalid tar header: negative size in tar stream at byte 512");
  EXPECT_EQ(failure(special('x', pax_record("size", "-1")) + ustar("f", '0', 0).sealed()),
            "invalid PAX record size=\"-1\" in tar stream at byte 1536");
}

TEST(TarStreamErrors, SpecialRecordOverOneMiBFailsAtItsHeader) {
  // Only the header is fed: the splitter must refuse before holding any payload.
  EXPECT_EQ(failure(ustar("././@PaxHeader", 'x', (1 << 20) + 1).sealed()),
            "tar PAX record of 1048577 bytes (more than 1 MiB) in tar stream at byte 512");
  EXPECT_EQ(failure(ustar("pax_global_header", 'g', (uint64_t{1} << 33) - 1).sealed()),
            "tar PAX record of 8589934591 bytes (more than 1 MiB) in tar stream at byte 512");
  EXPECT_EQ(failure(gnu("././@LongLink", 'L', 2 << 20).sealed()),
            "tar GNU long name record of 2097152 bytes (more than 1 MiB) in tar stream at byte 512");
  EXPECT_EQ(failure(gnu("././@LongLink", 'K', (1 << 20) + 1).sealed()),
            "tar GNU long name record of 1048577 bytes (more than 1 MiB) in tar stream at byte 512");
}

TEST(TarStreamErrors, MalformedPaxRecords) {
  const std::vector<std::string> bad{
      "x a=b\n",       // length not a number
      "6 a=bc\n",      // length does not end at the newline
      "5 ab\n",        // no '='
      "5 =b\n",        // empty key
      "99 a=b\n",      // length beyond the payload
      "6 a=b\n7 c=d",  // second record cut short
      " 6 a=b\n",      // no length at all
      "2 \n",          // length too short for a record
      "-6 a=b\n",      // negative length
  };
  for (const std::string& payload : bad) {
    const std::string t = special('x', payload) + ustar("f", '0', 0).sealed();
    EXPECT_EQ(failure(t), "invalid PAX record in tar stream at byte " + std::to_string(512 + payload.size()))
        << payload;
  }
  EXPECT_EQ(failure(special('g', "x a=b\n")), "invalid PAX record in tar stream at byte 518");
}

TEST(TarStreamErrors, BadPaxValues) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"uid", "12x"},      {"gid", "0x10"},   {"size", "9223372036854775808"}, {"mtime", "1.2.3"},
      {"atime", "abc"},    {"ctime", "1.-5"}, {"mtime", ".5"},                 {"uid", "--1"},
  };
  for (const auto& [key, value] : bad) {
    const std::string pax = special('x', pax_record(key, value));
    EXPECT_EQ(failure(pax + ustar("f", '0', 0).sealed()),
              "invalid PAX record " + key + "=\"" + value + "\" in tar stream at byte " +
                  std::to_string(pax.size() + 512))
        << key << "=" << value;
  }
}

TEST(TarStreamErrors, SparseFilesAreNotSupported) {
  EXPECT_EQ(failure(gnu("holey", 'S', 0).sealed()),
            "sparse file \"holey\" in tar stream at byte 512 is not supported");
  const std::string pax = special('x', pax_record("GNU.sparse.major", "1") + pax_record("GNU.sparse.minor", "0"));
  EXPECT_EQ(failure(pax + ustar("GNUSparseFile.0/holey", '0', 0).sealed()),
            "sparse file \"GNUSparseFile.0/holey\" in tar stream at byte 1536 is not supported");
}

TEST(TarStreamErrors, NamesInMessagesAreQuotedAsGoDoes) {
  // An entry name is the archive's to choose: control bytes reach the
  // terminal escaped, as skopeo's %q would print them.
  EXPECT_EQ(failure(gnu("a\nb\x1b[2J", 'S', 0).sealed()),
            "sparse file \"a\\nb\\x1b[2J\" in tar stream at byte 512 is not supported");
}

TEST(TarStreamErrors, NonOctalNumbers) {
  const std::vector<std::tuple<size_t, size_t, std::string, std::string>> bad{
      {100, 8, "0000x44", "mode"}, {108, 8, "-000001", "uid"},        {116, 8, "0000008", "gid"},
      {124, 12, "0000000001a", "size"}, {136, 12, "1 2", "mtime"}, {329, 8, "abc", "devmajor"},
      {337, 8, "9", "devminor"},
  };
  for (const auto& [off, len, text, what] : bad) {
    Block b = ustar("f", '0', 0);
    b.str(off, len, std::string(len, '\0')).str(off, len, text);
    EXPECT_EQ(failure(b.sealed()), "invalid tar header: bad " + what + " field in tar stream at byte 512") << what;
  }
  Block overflow = ustar("f", '0', 0);
  overflow.bytes(124, {0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(failure(overflow.sealed()), "invalid tar header: bad size field in tar stream at byte 512");
}

// ---- go_time_json -------------------------------------------------------------

// Sets TZ for one test and restores the previous value.
using TzScope = ScopedTimeZone;

TEST(TarStreamGoTime, Utc) {
  TzScope tz("UTC0");
  EXPECT_EQ(go_time_json({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(go_time_json({1700000000, 0}), "2023-11-14T22:13:20Z");
  EXPECT_EQ(go_time_json({-2, 500000000}), "1969-12-31T23:59:58.5Z");
}

TEST(TarStreamGoTime, FractionTrimmed) {
  TzScope tz("UTC0");
  EXPECT_EQ(go_time_json({0, 500000000}), "1970-01-01T00:00:00.5Z");
  EXPECT_EQ(go_time_json({1700000000, 123456789}), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(go_time_json({1, 1000}), "1970-01-01T00:00:01.000001Z");
  EXPECT_EQ(go_time_json({1, 120000000}), "1970-01-01T00:00:01.12Z");
}

TEST(TarStreamGoTime, LocalZoneOffsets) {
  {
    TzScope tz("CET-1");
    EXPECT_EQ(go_time_json({0, 0}), "1970-01-01T01:00:00+01:00");
    EXPECT_EQ(go_time_json({1700000000, 5}), "2023-11-14T23:13:20.000000005+01:00");
  }
  {
    TzScope tz("EST5");
    EXPECT_EQ(go_time_json({0, 0}), "1969-12-31T19:00:00-05:00");
  }
  {
    TzScope tz("IST-5:30");
    EXPECT_EQ(go_time_json({0, 0}), "1970-01-01T05:30:00+05:30");
  }
  {
    TzScope tz("NST3:30");
    EXPECT_EQ(go_time_json({0, 0}), "1969-12-31T20:30:00-03:30");
  }
}

TEST(TarStreamGoTime, RestoresEnvironmentForOtherTests) {
  const char* before = std::getenv("TZ");
  const std::string saved = before ? before : "(unset)";
  { TzScope tz("CET-1"); }
  const char* after = std::getenv("TZ");
  EXPECT_EQ(after ? std::string(after) : "(unset)", saved);
}

TEST(TarStreamGoTime, YearsOutsideZeroTo9999Throw) {
  TzScope tz("UTC0");
  EXPECT_EQ(go_time_json({-62167219200, 0}), "0000-01-01T00:00:00Z");
  EXPECT_EQ(go_time_json({253402300799, 999999999}), "9999-12-31T23:59:59.999999999Z");
  for (int64_t sec : {int64_t{253402300800}, int64_t{-62167219201}, std::numeric_limits<int64_t>::max(),
                      std::numeric_limits<int64_t>::min()}) {
    try {
      go_time_json({sec, 0});
      ADD_FAILURE() << sec << " did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "time " + std::to_string(sec) + " is outside years 0 to 9999");
    }
  }
}

TEST(TarStreamGoTime, YearIsCheckedInTheLocalZone) {
  // Go checks the year the time has in its own zone, as it prints it.
  {
    TzScope tz("EST5");
    EXPECT_EQ(go_time_json({253402300800 + 3600, 0}), "9999-12-31T20:00:00-05:00");
    EXPECT_THROW(go_time_json({-62167219200, 0}), Error);  // 12/31 of year -1 in New York
  }
  {
    TzScope tz("CET-1");
    EXPECT_EQ(go_time_json({-62167219200 - 1800, 0}), "0000-01-01T00:30:00+01:00");
    EXPECT_THROW(go_time_json({253402300799, 0}), Error);  // already year 10000 in Paris
  }
}

}  // namespace
}  // namespace ferry::tar
