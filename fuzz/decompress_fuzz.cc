// Arbitrary bytes through every decompressor: each must end in output or a
// ferry::Error, never a crash, hang or unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/compression.h"
#include "util/error.h"

namespace {

// Drains at most 64 MiB: a tiny zstd input may legitimately expand far
// beyond that, and streaming it all proves nothing more.
void drain(ferry::Reader& r) {
  static std::vector<uint8_t> buf(256 * 1024);
  size_t total = 0;
  while (total < (64u << 20)) {
    size_t got = r.read(buf.data(), buf.size());
    if (got == 0) return;
    total += got;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One decompressor per run, picked by the first byte, keeps runs cheap; the
  // rest is the stream, so a real gzip/zstd/bzip2/xz file behind a selector
  // byte makes a good seed.
  if (size == 0) return 0;
  static const ferry::Compression kFormats[] = {ferry::Compression::Gzip,
                                                ferry::Compression::Zstd,
                                                ferry::Compression::Bzip2, ferry::Compression::Xz};
  const ferry::Compression c = kFormats[data[0] % 4];
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    auto r = ferry::make_decompressor(std::make_unique<ferry::StringReader>(input), c);
    drain(*r);
  } catch (const ferry::Error&) {
  }
  return 0;
}
