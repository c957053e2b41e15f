// Arbitrary bytes as an uncompressed tar stream through tar::StreamSplitter
// and ZstdChunkedCompressor: each must end in output or a ferry::Error,
// never a crash, hang or unbounded allocation. When they succeed, what they
// produce is checked: the splitter hands back every byte in order, and the
// zstd:chunked layer decompresses to the input, its footer agrees with its
// annotations, and every file it indexes can be fetched alone.
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "io/digest.h"
#include "io/reader.h"
#include "io/tar_stream.h"
#include "io/zstd_chunked.h"
#include "util/error.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "zstd_chunked_fuzz: %s\n", what);
    std::abort();
  }
}

// Random bytes rarely carry a valid header checksum; with the selector's low
// bit set, every block where a header would start gets a correct one, so
// the fuzzer explores what lies past the first header.
void seal_headers(std::string& tar) {
  size_t pos = 0;
  while (pos + 512 <= tar.size()) {
    char* b = tar.data() + pos;
    if (std::all_of(b, b + 512, [](char c) { return c == 0; })) {
      pos += 512;
      continue;
    }
    std::memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(b[i]);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06o", sum & 0777777u);
    std::memcpy(b + 148, buf, 6);
    b[154] = '\0';
    uint64_t size = 0;
    for (size_t i = 124; i < 136 && b[i] >= '0' && b[i] <= '7'; ++i) size = size * 8 + static_cast<uint64_t>(b[i] - '0');
    const char type = b[156];
    if (type >= '1' && type <= '6') size = 0;
    if (size > tar.size()) return;
    pos += 512 + (size + 511) / 512 * 512;
  }
}

struct Recorder : ferry::tar::Sink {
  std::string all;
  void metadata(const uint8_t* d, size_t n) override { all.append(reinterpret_cast<const char*>(d), n); }
  void entry(const ferry::tar::Header&) override {}
  void content(const uint8_t* d, size_t n) override { all.append(reinterpret_cast<const char*>(d), n); }
  void entry_end() override {}
};

void split(const std::string& tar, size_t slice) {
  Recorder r;
  ferry::tar::StreamSplitter s(r);
  const auto* p = reinterpret_cast<const uint8_t*>(tar.data());
  try {
    for (size_t i = 0; i < tar.size(); i += slice) s.feed(p + i, std::min(slice, tar.size() - i));
    s.finish();
    check(r.all == tar, "splitter lost or reordered bytes");
  } catch (const ferry::Error&) {
    check(r.all.size() <= tar.size() && tar.compare(0, r.all.size(), r.all) == 0,
          "splitter handed out bytes that are not a prefix of the input");
  }
}

uint64_t le64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (size_t i = 8; i-- > 0;) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}

// ZSTD_decompress of z, expecting exactly `want` bytes.
bool decompresses_to(std::string_view z, const std::string& want) {
  std::string out(want.size() + 1, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), z.data(), z.size());
  return !ZSTD_isError(n) && n == want.size() && out.compare(0, n, want) == 0;
}

void compress(const std::string& tar) {
  std::string out;
  std::map<std::string, std::string> annotations;
  try {
    ferry::ZstdChunkedCompressor c(std::make_unique<ferry::StringReader>(tar), 1);
    std::vector<uint8_t> buf(16384);
    while (size_t n = c.read(buf.data(), buf.size())) out.append(reinterpret_cast<const char*>(buf.data()), n);
    annotations = c.annotations();
  } catch (const ferry::Error&) {
    return;
  }
  check(decompresses_to(out, tar), "output does not decompress to the input");
  check(out.size() >= 48, "no footer");
  const size_t f = out.size() - 48;
  const uint64_t toc_offset = le64(out, f + 8), toc_len = le64(out, f + 16), toc_ulen = le64(out, f + 24);
  check(out.compare(f, 8, "\x50\x2a\x4d\x18\x28\x00\x00\x00", 8) == 0, "bad footer frame header");
  check(le64(out, f + 32) == 1 && out.compare(f + 40, 8, "GnUlInUx") == 0, "bad footer");
  check(toc_offset + toc_len == f && toc_offset >= 8, "TOC not right before the footer");
  const std::string compressed_toc = out.substr(toc_offset, toc_len);
  check(annotations.size() == 2 && annotations[ferry::kZstdChunkedManifestChecksum] ==
                                       ferry::sha256_digest(compressed_toc),
        "bad manifest-checksum");
  check(annotations[ferry::kZstdChunkedManifestPosition] == std::to_string(toc_offset) + ":" +
                                                               std::to_string(toc_len) + ":" +
                                                               std::to_string(toc_ulen) + ":1",
        "bad manifest-position");
  std::string toc(toc_ulen, '\0');
  const size_t n = ZSTD_decompress(toc.data(), toc.size(), compressed_toc.data(), compressed_toc.size());
  check(!ZSTD_isError(n) && n == toc_ulen, "TOC does not decompress");
  const auto json = nlohmann::json::parse(toc, nullptr, false);
  check(!json.is_discarded() && json.is_object() && json.value("version", 0) == 1, "TOC is not JSON");
  const auto entries = json.find("entries");
  // A tar without entries has "entries": null, as skopeo 1.9.3 writes it.
  check(entries != json.end() && (entries->is_array() || entries->is_null()), "TOC has no entries");
  if (entries->is_null()) return;
  for (const auto& e : *entries) {
    if (e.value("type", "") != "reg" || !e.contains("digest")) continue;
    const uint64_t begin = e.value("offset", uint64_t{0}), end = e.value("endOffset", uint64_t{0});
    check(begin > 0 && begin < end && end <= toc_offset, "file range out of bounds");
    // The range holds exactly the file's contents; fetch and hash them.
    const std::string_view range(out.data() + begin, end - begin);
    const uint64_t size = e.value("size", uint64_t{0});
    check(size <= tar.size(), "file larger than the input");
    std::string content(size + 1, '\0');
    const size_t got = ZSTD_decompress(content.data(), content.size(), range.data(), range.size());
    check(!ZSTD_isError(got) && got == size, "file range does not decompress to its size");
    content.resize(got);
    check(ferry::sha256_digest(content) == e.value("digest", ""), "file digest mismatch");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte selects: bit 0 seals header checksums, bits 1-2 the
  // slice size the splitter is fed in.
  if (size == 0) return 0;
  static const size_t kSlices[] = {1, 7, 512, 4096};
  std::string tar(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) seal_headers(tar);
  split(tar, kSlices[(data[0] >> 1) & 3]);
  compress(tar);
  return 0;
}
