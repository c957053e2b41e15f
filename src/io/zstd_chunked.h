// zstd:chunked compression, as skopeo 1.9.3 (containers/storage's
// pkg/chunked/compressor of that release) writes it.
//
// The layer stays a valid zstd stream of the same tar (so its DiffID is
// unchanged and every zstd reader can use it), but each regular file's
// contents sit in zstd frames of their own, cut further by a rolling
// checksum (and around runs of zeros), and a table of contents (TOC) in a
// skippable frame at the end says where every file and chunk is. A client
// that understands it (podman, CRI-O) fetches only the files it lacks, by
// HTTP range. The TOC's position and digest go into the layer's manifest
// annotations, returned by annotations() once the stream is read.
//
// Layout: [frames of tar headers][frames of file 1's chunks]...[last
// headers + end of archive][skippable: zstd(TOC JSON)][skippable: 40-byte
// footer: TOC offset, compressed and uncompressed length, type 1, magic].
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "io/reader.h"

namespace ferry {

inline constexpr const char* kZstdChunkedManifestChecksum = "io.containers.zstd-chunked.manifest-checksum";
inline constexpr const char* kZstdChunkedManifestPosition = "io.containers.zstd-chunked.manifest-position";

// True when a layer descriptor's annotations say it is zstd:chunked already.
bool is_zstd_chunked(const std::map<std::string, std::string>& annotations);

// Compresses the uncompressed tar stream `tar`. level as make_compressor's
// (< 0: the default, 3). Throws ferry::Error from read() if the input is not
// a tar stream this format can index (see tar::StreamSplitter).
class ZstdChunkedCompressor : public Reader {
 public:
  ZstdChunkedCompressor(std::unique_ptr<Reader> tar, int level);
  ~ZstdChunkedCompressor() override;
  ZstdChunkedCompressor(const ZstdChunkedCompressor&) = delete;
  ZstdChunkedCompressor& operator=(const ZstdChunkedCompressor&) = delete;

  size_t read(uint8_t* buf, size_t n) override;

  // The manifest-checksum and manifest-position annotations; empty until
  // read() has returned 0.
  const std::map<std::string, std::string>& annotations() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The rolling checksum that cuts files into chunks (bup's rollsum, as
// containers/storage uses it): a chunk ends after a byte where the low 16
// bits of s2 are all ones, about every 64 KiB.
class RollSum {
 public:
  RollSum();
  void roll(uint8_t c) {
    const uint32_t drop = window_[pos_];
    s1_ += c - drop;
    s2_ += s1_ - kWindow * (drop + kCharOffset);
    window_[pos_] = c;
    pos_ = (pos_ + 1) & (kWindow - 1);
  }
  // Rolls n zero bytes. Once the window holds only zeros another zero
  // changes nothing, so a hole of any length costs at most 64 steps.
  void roll_zeros(uint64_t n);
  bool on_split() const { return (s2_ & 0xffff) == 0xffff; }

 private:
  static constexpr uint32_t kWindow = 64;
  static constexpr uint32_t kCharOffset = 31;
  uint8_t window_[kWindow] = {};
  uint32_t pos_ = 0;
  uint32_t s1_, s2_;
};

}  // namespace ferry
