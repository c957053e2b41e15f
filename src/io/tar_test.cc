#include "io/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <random>

#include "io/compression.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string drain(Reader& r) {
  std::string out, buf(65536, '\0');
  while (size_t got = r.read(reinterpret_cast<uint8_t*>(buf.data()), buf.size()))
    out.append(buf.data(), got);
  return out;
}

int mode_of(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

struct Seen {
  std::string name;
  TarReader::Entry::Type type;
  int64_t size;
  std::string link_target;
  int mode;
  std::string data;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.name << " type " << static_cast<int>(s.type) << " size " << s.size
            << " link " << s.link_target << " mode " << std::oct << s.mode << std::dec << " data "
            << s.data.size() << " bytes}";
}

std::vector<Seen> read_tar(const std::string& path) {
  TarReader r(path);
  std::vector<Seen> out;
  TarReader::Entry e;
  while (r.next(&e)) out.push_back({e.name, e.type, e.size, e.link_target, e.mode, drain(r.data())});
  return out;
}

using Type = TarReader::Entry::Type;

// Writes archives TarWriter deliberately cannot (hard links, devices,
// arbitrary names), the way a hostile producer would.
void write_raw_tar(const std::string& path,
                   const std::function<void(struct archive*, struct archive_entry*)>& fill) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  fill(a, e);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

void add_raw(struct archive* a, struct archive_entry* e, const std::string& name, unsigned type,
             const std::string& data = "", const char* hardlink = nullptr,
             const char* symlink = nullptr, int perm = 0644) {
  archive_entry_clear(e);
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, static_cast<mode_t>(perm));
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  if (hardlink) archive_entry_set_hardlink(e, hardlink);
  if (symlink) archive_entry_set_symlink(e, symlink);
  ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
  if (!data.empty()) archive_write_data(a, data.data(), data.size());
}

// Plain write, no fsync: for loops over many hostile inputs.
void put(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class TarTest : public ::testing::Test {
 protected:
  TarTest() : tmp_("/tmp", "ferry-tar-test-") {}
  std::string p(const std::string& rel) const { return tmp_.path() + "/" + rel; }
  TempDir tmp_;
};

TEST_F(TarTest, RoundTrip) {
  const std::string long_name = "blobs/sha256/" + std::string(150, 'a') + "/" + std::string(120, 'b');
  std::mt19937 rng(1);
  std::string big(3 << 20, '\0');
  for (auto& c : big) c = static_cast<char>(rng());
  {
    TarWriter w(p("out.tar"));
    w.add_directory("blobs");
    w.add_directory("blobs/sha256/", 0700);
    w.add_file("blobs/sha256/small", "hello");
    StringReader r(big);
    w.add_file("blobs/sha256/big", r, static_cast<int64_t>(big.size()), 0644);
    w.add_file(long_name, "long");
    w.add_file("empty", "");
    w.add_symlink("legacy/layer.tar", "../abc.tar");
    w.close();
  }
  std::vector<Seen> want = {
      {"blobs", Type::Directory, 0, "", 0755, ""},
      {"blobs/sha256", Type::Directory, 0, "", 0700, ""},
      {"blobs/sha256/small", Type::File, 5, "", 0444, "hello"},
      {"blobs/sha256/big", Type::File, static_cast<int64_t>(big.size()), "", 0644, big},
      {long_name, Type::File, 4, "", 0444, "long"},
      {"empty", Type::File, 0, "", 0444, ""},
      {"legacy/layer.tar", Type::Symlink, 0, "../abc.tar", 0777, ""},
  };
  EXPECT_EQ(read_tar(p("out.tar")), want);
}

TEST_F(TarTest, ReproducibleUstarHeaders) {
  {
    TarWriter w(p("one.tar"));
    w.add_file("f", "12345");
    w.close();
  }
  const std::string raw = read_file(p("one.tar"), 1 << 20);
  // Header, one data block, two zero blocks; no padding to 10 KiB records.
  ASSERT_EQ(raw.size(), 2048u);
  EXPECT_EQ(raw.substr(0, 2), std::string("f\0", 2));
  // libarchive ends numeric fields with " \0" or " " where Go writes "\0";
  // both are valid ustar and every reader accepts either.
  EXPECT_EQ(raw.substr(100, 8), std::string("000444 \0", 8));       // mode
  EXPECT_EQ(raw.substr(108, 8), std::string("000000 \0", 8));       // uid
  EXPECT_EQ(raw.substr(116, 8), std::string("000000 \0", 8));       // gid
  EXPECT_EQ(raw.substr(124, 12), "00000000005 ");                   // size
  EXPECT_EQ(raw.substr(136, 12), "00000000000 ");                   // mtime
  EXPECT_EQ(raw[156], '0');                                        // regular file
  EXPECT_EQ(raw.substr(257, 8), std::string("ustar\0" "00", 8));
  EXPECT_EQ(raw.substr(265, 32), std::string(32, '\0'));  // uname
  EXPECT_EQ(raw.substr(297, 32), std::string(32, '\0'));  // gname
  EXPECT_EQ(raw.substr(512, 5), "12345");
  EXPECT_EQ(raw.substr(1024), std::string(1024, '\0'));
}

TEST_F(TarTest, AddFileSizeMustMatch) {
  TarWriter w(p("bad.tar"));
  StringReader more("123456");
  EXPECT_EQ(error_of([&] { w.add_file("f", more, 5); }),
            "writing tar " + p("bad.tar") + ": entry \"f\": expected 5 bytes, got more");
  TarWriter w2(p("bad2.tar"));
  StringReader fewer("1234");
  EXPECT_EQ(error_of([&] { w2.add_file("f", fewer, 5); }),
            "writing tar " + p("bad2.tar") + ": entry \"f\": expected 5 bytes, got 4");
}

TEST_F(TarTest, AbandonedWriterLeavesNoEndMarker) {
  {
    TarWriter w(p("partial.tar"));
    w.add_file("a", "data");
  }
  // Without the end-of-archive blocks, a reader must not see a whole archive.
  const std::string raw = read_file(p("partial.tar"), 1 << 20);
  EXPECT_LT(raw.size(), 2048u);
}

TEST_F(TarTest, EmptyNamesRejected) {
  TarWriter w(p("e.tar"));
  EXPECT_EQ(error_of([&] { w.add_file("", "x"); }), "writing tar " + p("e.tar") + ": empty entry name");
  EXPECT_EQ(error_of([&] { w.add_directory(""); }),
            "writing tar " + p("e.tar") + ": empty entry name");
  EXPECT_EQ(error_of([&] { w.add_symlink("", "x"); }),
            "writing tar " + p("e.tar") + ": empty entry name");
}

TEST_F(TarTest, WriteErrorsSurface) {
  TarWriter w("/dev/full");
  w.add_file("f", "data");
  EXPECT_EQ(error_of([&] { w.close(); }),
            "writing tar /dev/full: finishing: write /dev/full: no space left on device");
}

TEST_F(TarTest, MissingFile) {
  EXPECT_EQ(error_of([&] { TarReader r(p("nope.tar")); }),
            "open " + p("nope.tar") + ": no such file or directory");
  EXPECT_EQ(error_of([&] { TarWriter w(p("nodir/x.tar")); }),
            "open " + p("nodir/x.tar") + ": no such file or directory");
}

TEST_F(TarTest, ReadsCompressedArchives) {
  {
    TarWriter w(p("plain.tar"));
    w.add_file("manifest.json", "[]");
    w.add_file("layer.tar", std::string(100000, 'L'));
    w.close();
  }
  for (Compression c : {Compression::Gzip, Compression::Zstd, Compression::Xz}) {
    SCOPED_TRACE(compression_name(c));
    auto z = make_compressor(std::make_unique<FileReader>(p("plain.tar")), c, -1, 1);
    write_stream_atomic(p("c.tar"), *z);
    std::vector<Seen> got = read_tar(p("c.tar"));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].data, "[]");
    EXPECT_EQ(got[1].data, std::string(100000, 'L'));
  }
}

TEST_F(TarTest, NormalizesNames) {
  write_raw_tar(p("n.tar"), [](struct archive* a, struct archive_entry* e) {
    add_raw(a, e, "./", AE_IFDIR);
    add_raw(a, e, "./a//b/", AE_IFDIR);
    add_raw(a, e, "./a/./b/f", AE_IFREG, "x");
    add_raw(a, e, "l", AE_IFLNK, "", nullptr, "./x//y/../z/");
    add_raw(a, e, "h", AE_IFREG, "", "./a/b/f");
  });
  std::vector<Seen> got = read_tar(p("n.tar"));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].name, ".");
  EXPECT_EQ(got[1].name, "a/b");
  EXPECT_EQ(got[2].name, "a/b/f");
  EXPECT_EQ(got[2].data, "x");
  EXPECT_EQ(got[3].link_target, "x/z");
  EXPECT_EQ(got[4].type, Type::Hardlink);
  EXPECT_EQ(got[4].link_target, "a/b/f");
}

TEST_F(TarTest, RejectsUnsafeNames) {
  struct Case {
    std::string name;
    std::string why;
    const char* hardlink;
  };
  for (const Case& c : std::vector<Case>{{"../x", "\"..\" component", nullptr},
                                         {"a/../../x", "\"..\" component", nullptr},
                                         {"/etc/passwd", "absolute path", nullptr},
                                         {"ok", "\"..\" component", "../../etc/shadow"},
                                         {"ok2", "absolute path", "/etc/shadow"}}) {
    SCOPED_TRACE(c.name);
    write_raw_tar(p("u.tar"), [&](struct archive* a, struct archive_entry* e) {
      add_raw(a, e, "fine", AE_IFREG, "x");
      add_raw(a, e, c.name, AE_IFREG, "", c.hardlink);
    });
    TarReader r(p("u.tar"));
    TarReader::Entry e;
    ASSERT_TRUE(r.next(&e));
    EXPECT_EQ(e.name, "fine");
    const std::string shown = c.hardlink ? c.hardlink : c.name;
    EXPECT_EQ(error_of([&] { r.next(&e); }),
              "tar archive " + p("u.tar") + ": unsafe entry name \"" + shown + "\" (" + c.why + ")");
  }
}

TEST_F(TarTest, ControlCharactersInNamesAreEscaped) {
  write_raw_tar(p("c.tar"), [](struct archive* a, struct archive_entry* e) {
    add_raw(a, e, "/\x1b[2Jevil", AE_IFREG, "x");
  });
  TarReader r(p("c.tar"));
  TarReader::Entry e;
  EXPECT_EQ(error_of([&] { r.next(&e); }),
            "tar archive " + p("c.tar") + ": unsafe entry name \"/\\x1b[2Jevil\" (absolute path)");
}

TEST_F(TarTest, HostileArchives) {
  write_file_atomic(p("empty.tar"), "");
  EXPECT_EQ(read_tar(p("empty.tar")), std::vector<Seen>{});

  write_file_atomic(p("garbage.tar"), std::string(2000, 'G'));
  EXPECT_NE(error_of([&] { read_tar(p("garbage.tar")); }), "(no error)");

  {
    TarWriter w(p("full.tar"));
    w.add_file("a", std::string(5000, 'a'));
    w.add_file("b", "bb");
    w.close();
  }
  const std::string full = read_file(p("full.tar"), 1 << 20);
  // Cut inside a's data: reading it must fail, not come up short silently.
  write_file_atomic(p("cut.tar"), full.substr(0, 512 + 3000));
  TarReader r(p("cut.tar"));
  TarReader::Entry e;
  ASSERT_TRUE(r.next(&e));
  EXPECT_EQ(error_of([&] { drain(r.data()); }),
            "reading tar " + p("cut.tar") + ": entry \"a\": Truncated tar archive");
  // Every prefix either reads cleanly to an end or raises an Error.
  for (size_t len = 0; len <= full.size(); len += 97) {
    put(p("prefix.tar"), full.substr(0, len));
    try {
      read_tar(p("prefix.tar"));
    } catch (const Error&) {
    }
  }
  // A truncated gzip stream around a tar is an error too.
  auto z = make_compressor(std::make_unique<FileReader>(p("full.tar")), Compression::Gzip);
  StringReader zr(read_all(*z, 1 << 20));
  std::string gz = read_all(zr, 1 << 20);
  write_file_atomic(p("cut.tar.gz"), gz.substr(0, gz.size() / 2));
  EXPECT_NE(error_of([&] { read_tar(p("cut.tar.gz")); }), "(no error)");
}

TEST_F(TarTest, DataBeforeNextIsEmpty) {
  {
    TarWriter w(p("t.tar"));
    w.add_file("a", "aaa");
    w.close();
  }
  TarReader r(p("t.tar"));
  EXPECT_EQ(drain(r.data()), "");
  TarReader::Entry e;
  ASSERT_TRUE(r.next(&e));
  EXPECT_FALSE(r.next(&e));
  EXPECT_EQ(drain(r.data()), "");
  EXPECT_FALSE(r.next(&e));
}

TEST_F(TarTest, ExtractRoundTrip) {
  {
    TarWriter w(p("layout.tar"));
    w.add_directory("blobs/");
    w.add_directory("blobs/sha256/");
    w.add_file("blobs/sha256/abc", "blob", 0444);
    w.add_file("implicit/dir/f", "nested", 0640);
    w.add_file("index.json", "{}", 0644);
    w.add_file("index.json", "{\"v\":2}", 0644);  // a later entry wins, as in tar
    w.close();
  }
  make_dirs(p("out"));
  extract_tar(p("layout.tar"), p("out"), 1000);
  EXPECT_EQ(read_file(p("out/blobs/sha256/abc"), 100), "blob");
  EXPECT_EQ(mode_of(p("out/blobs/sha256/abc")), 0644);
  EXPECT_EQ(read_file(p("out/implicit/dir/f"), 100), "nested");
  EXPECT_EQ(mode_of(p("out/implicit/dir/f")), 0640);
  EXPECT_EQ(read_file(p("out/index.json"), 100), "{\"v\":2}");
}

TEST_F(TarTest, ExtractStripsSpecialBits) {
  write_raw_tar(p("s.tar"), [](struct archive* a, struct archive_entry* e) {
    add_raw(a, e, "suid", AE_IFREG, "x", nullptr, nullptr, 04755);
    add_raw(a, e, "sticky", AE_IFDIR, "", nullptr, nullptr, 01777);
    add_raw(a, e, "ro", AE_IFDIR, "", nullptr, nullptr, 0500);
    add_raw(a, e, "ro/f", AE_IFREG, "y", nullptr, nullptr, 0400);
  });
  make_dirs(p("out"));
  extract_tar(p("s.tar"), p("out"), 100);
  EXPECT_EQ(mode_of(p("out/suid")), 0755);
  EXPECT_EQ(mode_of(p("out/sticky")) & 07000, 0);
  EXPECT_EQ(read_file(p("out/ro/f"), 10), "y");
}

TEST_F(TarTest, ExtractRejects) {
  struct Case {
    std::string label;
    std::function<void(struct archive*, struct archive_entry*)> fill;
    std::string error;  // after "extracting <tar>: "
  };
  const std::vector<Case> cases = {
      {"dotdot", [](auto a, auto e) { add_raw(a, e, "../x", AE_IFREG, "x"); }, ""},
      {"absolute", [](auto a, auto e) { add_raw(a, e, "/etc/x", AE_IFREG, "x"); }, ""},
      {"symlink",
       [](auto a, auto e) { add_raw(a, e, "link", AE_IFLNK, "", nullptr, "/etc"); },
       "entry \"link\" is a symbolic link; only regular files and directories are supported"},
      {"hardlink",
       [](auto a, auto e) {
         add_raw(a, e, "f", AE_IFREG, "x");
         add_raw(a, e, "h", AE_IFREG, "", "f");
       },
       "entry \"h\" is a hard link; only regular files and directories are supported"},
      {"device", [](auto a, auto e) { add_raw(a, e, "dev", AE_IFCHR); },
       "entry \"dev\" is a special file; only regular files and directories are supported"},
      {"fifo", [](auto a, auto e) { add_raw(a, e, "fifo", AE_IFIFO); },
       "entry \"fifo\" is a special file; only regular files and directories are supported"},
      {"oversize",
       [](auto a, auto e) {
         add_raw(a, e, "a", AE_IFREG, std::string(60, 'a'));
         add_raw(a, e, "b", AE_IFREG, std::string(60, 'b'));
       },
       "contents exceed the limit of 100 bytes"},
      {"file as parent",
       [](auto a, auto e) {
         add_raw(a, e, "x", AE_IFREG, "x");
         add_raw(a, e, "x/y", AE_IFREG, "y");
       },
       "entry \"x/y\": parent \"x\": not a directory"},
      {"dir over file",
       [](auto a, auto e) {
         add_raw(a, e, "x", AE_IFREG, "x");
         add_raw(a, e, "x", AE_IFDIR);
       },
       "entry \"x\": mkdir: file exists"},
      {"file over dir",
       [](auto a, auto e) {
         add_raw(a, e, "x", AE_IFDIR);
         add_raw(a, e, "x", AE_IFREG, "x");
       },
       "entry \"x\": open: file exists"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir out(tmp_.path(), "out-");
    write_raw_tar(p("bad.tar"), c.fill);
    const std::string err = error_of([&] { extract_tar(p("bad.tar"), out.path(), 100); });
    if (c.error.empty()) {
      EXPECT_NE(err.find("unsafe entry name"), std::string::npos) << err;
    } else {
      EXPECT_EQ(err, "extracting " + p("bad.tar") + ": " + c.error);
    }
  }
  // Nothing escaped the destinations.
  EXPECT_FALSE(path_exists(p("x")));
  EXPECT_FALSE(path_exists(tmp_.path() + "/../x"));
}

TEST_F(TarTest, ExtractNeedsEmptyExistingDestination) {
  {
    TarWriter w(p("t.tar"));
    w.add_file("f", "x");
    w.close();
  }
  EXPECT_EQ(error_of([&] { extract_tar(p("t.tar"), p("missing"), 100); }),
            "open " + p("missing") + ": no such file or directory");
  make_dirs(p("full"));
  ASSERT_EQ(symlink("/etc", p("full/f").c_str()), 0);
  EXPECT_EQ(error_of([&] { extract_tar(p("t.tar"), p("full"), 100); }),
            "extracting " + p("t.tar") + ": destination " + p("full") + " is not empty");
}

TEST_F(TarTest, ExtractDepthLimit) {
  std::string deep;
  for (int i = 0; i < 200; i++) deep += "d/";
  write_raw_tar(p("deep.tar"), [&](struct archive* a, struct archive_entry* e) {
    add_raw(a, e, deep + "f", AE_IFREG, "x");
  });
  make_dirs(p("out"));
  EXPECT_EQ(error_of([&] { extract_tar(p("deep.tar"), p("out"), 100); }),
            "extracting " + p("deep.tar") + ": entry \"" + deep + "f\": too deeply nested");
}

}  // namespace
}  // namespace ferry
