// Compression detection and (de)compressing Readers.
//
// gzip compression uses ISA-L (several times zlib's speed at comparable
// ratios), gzip decompression ISA-L's inflate; zstd uses libzstd with worker
// threads. Detection is by magic bytes, exactly as containers/image does.
#pragma once

#include <memory>
#include <string>

#include "io/reader.h"

namespace ferry {

// ZstdChunked is zstd whose frames follow the files of the tar inside, with
// a table of contents (io/zstd_chunked.h). Detection cannot tell it from
// Zstd; a layer is known to be chunked from its manifest annotations.
enum class Compression { None, Gzip, Bzip2, Xz, Zstd, ZstdChunked };

// "gzip", "bzip2", "Xz" (sic, as containers/image names it), "zstd",
// "zstd:chunked", "" for None.
std::string compression_name(Compression c);
// Parses --dest-compress-format values; throws `cannot find compressor for "x"`.
Compression compression_from_name(const std::string& name);

// Detects from the first bytes: gzip 1F 8B 08, bzip2 42 5A 68, xz FD 37 7A 58
// 5A 00, zstd 28 B5 2F FD.
Compression detect_compression(const uint8_t* data, size_t len);

// A Reader that lets the caller look at the first bytes before consuming
// them, so detection needs no temporary file.
class PeekReader : public Reader {
 public:
  explicit PeekReader(std::unique_ptr<Reader> inner);
  // Returns up to n bytes from the start without consuming them.
  std::string peek(size_t n);
  size_t read(uint8_t* buf, size_t n) override;
  std::string vouched_digest() const override { return inner_->vouched_digest(); }

 private:
  std::unique_ptr<Reader> inner_;
  std::string buffered_;
  size_t pos_ = 0;
  bool eof_ = false;
};

// Decompresses a stream of format c (gzip, zstd; bzip2 and xz via libarchive
// filters or an error "decompressing bzip2 is not supported yet").
std::unique_ptr<Reader> make_decompressor(std::unique_ptr<Reader> in, Compression c);

// level < 0 means the format's default (gzip: 6 like Go's pgzip default;
// zstd and zstd:chunked: 3). threads applies to zstd only: 0 = one per core, 1 = inline in
// the reading thread (least memory), N = N worker threads.
// The libzstd level for a --dest-compress-level: c/image hands the level to
// klauspost's EncoderLevelFromZstd, which knows four speeds, each documented
// as roughly one zstd level (< 0: the default, 3).
int zstd_encoder_level(int level);

std::unique_ptr<Reader> make_compressor(std::unique_ptr<Reader> in, Compression c, int level = -1,
                                        int threads = 0);

}  // namespace ferry
