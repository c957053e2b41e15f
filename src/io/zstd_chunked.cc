#include "io/zstd_chunked.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "io/compression.h"
#include "io/digest.h"
#include "io/tar_stream.h"
#include "util/error.h"
#include "util/go_base64.h"
#include "util/gojson.h"

namespace ferry {

namespace {

// A run of at least this many zero bytes in a file becomes a chunk of its
// own ("zeros"), as containers/storage's holesFinder decides.
constexpr uint64_t kHoleThreshold = 1024;
// Input is taken in slices this big, so the output waiting to be read stays
// bounded (one slice compresses to at most about its own size).
constexpr size_t kInputSlice = 64 << 10;
// Holes are hashed and compressed from a buffer of zeros this big.
constexpr size_t kZeroBuffer = 64 << 10;
// The TOC is held in memory until the end; containers/storage's reader
// refuses one larger than this, so a bigger one is an error, not a layer.
constexpr size_t kMaxToc = 50 << 20;
// ManifestTypeCRFS, and the footer's magic ("GnUlInUx").
constexpr uint64_t kManifestType = 1;
constexpr char kFooterMagic[8] = {'G', 'n', 'U', 'l', 'I', 'n', 'U', 'x'};

std::string zstd_failure(size_t code) { return std::string("zstd: ") + ZSTD_getErrorName(code); }

void put_le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A zstd skippable frame (magic 0x184D2A50): decoders pass over it.
void append_skippable(std::string& out, const std::string& payload) {
  put_le32(out, 0x184D2A50);
  put_le32(out, static_cast<uint32_t>(payload.size()));
  out += payload;
}

const char* toc_type(char typeflag) {
  switch (typeflag) {
    case '0': return "reg";
    case '1': return "hardlink";
    case '2': return "symlink";
    case '3': return "char";
    case '4': return "block";
    case '5': return "dir";
    case '6': return "fifo";
    default: return nullptr;
  }
}

// The zero time Go writes for an absent atime/ctime.
constexpr const char* kGoZeroTime = "0001-01-01T00:00:00Z";

}  // namespace

bool is_zstd_chunked(const std::map<std::string, std::string>& annotations) {
  return annotations.count(kZstdChunkedManifestChecksum) && annotations.count(kZstdChunkedManifestPosition);
}

RollSum::RollSum() : s1_(kWindow * kCharOffset), s2_(kWindow * (kWindow - 1) * kCharOffset) {}

void RollSum::roll_zeros(uint64_t n) {
  for (uint64_t i = 0; i < std::min<uint64_t>(n, kWindow); ++i) roll(0);
}

struct ZstdChunkedCompressor::Impl : tar::Sink {
  // One chunk of a file: where its frame starts in the output, where it
  // starts in the file, its length and digest.
  struct Chunk {
    uint64_t offset;
    uint64_t file_offset;
    uint64_t size;
    std::string digest;
    bool zeros;
  };

  Impl(std::unique_ptr<Reader> in, int level)
      : input(std::move(in)), splitter(*this), cctx(ZSTD_createCCtx(), ZSTD_freeCCtx) {
    if (!cctx) throw Error("zstd: cannot create encoder");
    set(ZSTD_c_compressionLevel, zstd_encoder_level(level));
    set(ZSTD_c_checksumFlag, 1);
    in_buf.resize(kInputSlice);
    zstd_out.resize(ZSTD_CStreamOutSize());
    toc = "{\"version\":1,\"entries\":[";
  }

  void set(ZSTD_cParameter p, int v) {
    const size_t r = ZSTD_CCtx_setParameter(cctx.get(), p, v);
    if (ZSTD_isError(r)) throw Error(zstd_failure(r));
  }

  // ---- frames ---------------------------------------------------------

  void compress(const uint8_t* data, size_t n, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data, n, 0};
    for (;;) {
      ZSTD_outBuffer o{zstd_out.data(), zstd_out.size(), 0};
      const size_t left = ZSTD_compressStream2(cctx.get(), &o, &in, mode);
      if (ZSTD_isError(left)) throw Error(zstd_failure(left));
      out.append(reinterpret_cast<const char*>(zstd_out.data()), o.pos);
      produced += o.pos;
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
  }
  void frame_write(const uint8_t* data, size_t n) {
    if (n == 0) return;
    compress(data, n, ZSTD_e_continue);
    frame_open = true;
  }
  // Ends the current frame; returns where the next one starts. An empty
  // frame is not written (containers/storage writes one in a few corner
  // cases; no reader needs it).
  uint64_t restart() {
    if (frame_open) compress(nullptr, 0, ZSTD_e_end);
    frame_open = false;
    return produced;
  }

  // ---- tar::Sink ------------------------------------------------------

  void metadata(const uint8_t* data, size_t n) override { frame_write(data, n); }

  void entry(const tar::Header& h) override {
    const char* type = toc_type(h.typeflag);
    if (!type)
      throw Error("zstd:chunked: unknown tarball type: " + std::to_string(static_cast<unsigned char>(h.typeflag)) +
                  " (entry \"" + h.name + "\")");
    current = h;
    current_type = type;
    chunks.clear();
    file_hash.emplace();
    chunk_hash.emplace();
    written = 0;
    chunk_start = 0;
    start_offset = 0;
    chunk_offset = 0;
    zeros = 0;
    rollsum = RollSum();
  }

  // Bytes are rolled in place and consumed (hashed, compressed) as long
  // spans of the input, cut only where a chunk ends. A run of zeros is
  // counted first: once it has ended it is either a hole (a chunk of its
  // own) or ordinary data, rolled byte by byte like any other. A run may
  // continue into the next call; the zeros it carried over are then
  // consumed from a static zero buffer.
  void content(const uint8_t* data, size_t n) override {
    const uint8_t* p = data;
    const uint8_t* const end = data + n;
    const uint8_t* span = p;  // rolled, not yet consumed
    if (zeros && p < end && *p != 0) settle_zeros(p, 0, span);
    while (p < end) {
      if (*p != 0) {
        rollsum.roll(*p++);
        if (rollsum.on_split()) {
          consume(span, static_cast<size_t>(p - span));
          span = p;
          end_chunk(false);
        }
        continue;
      }
      const uint8_t* run = p;
      while (p < end && *p == 0) ++p;
      if (p == end) {  // the run may go on in the next call
        consume(span, static_cast<size_t>(run - span));
        zeros += static_cast<uint64_t>(end - run);
        span = end;
        break;
      }
      settle_zeros(run, static_cast<uint64_t>(p - run), span);
    }
    consume(span, static_cast<size_t>(end - span));
  }

  void entry_end() override {
    if (zeros) {
      const uint8_t* none = nullptr;
      settle_zeros(nullptr, 0, none);
    }
    end_chunk(false);
    const uint64_t end_offset = start_offset ? restart() : 0;
    write_entries(end_offset);
  }

  // ---- one file's chunks ----------------------------------------------

  static const uint8_t* zero_bytes() {
    static const std::vector<uint8_t> zero(kZeroBuffer, 0);
    return zero.data();
  }

  // A run of zeros has ended: `zeros` carried over from earlier calls
  // (already consumed up to where they began), then `here` at `run` in the
  // current input, where `span` starts the bytes not yet consumed.
  void settle_zeros(const uint8_t* run, uint64_t here, const uint8_t*& span) {
    const uint64_t carried = zeros;
    zeros = 0;
    if (carried + here >= kHoleThreshold) {
      consume(span, static_cast<size_t>(run - span));
      end_chunk(false);
      rollsum.roll_zeros(carried + here);
      for (uint64_t left = carried + here; left > 0;) {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(left, kZeroBuffer));
        consume(zero_bytes(), k);
        left -= k;
      }
      end_chunk(true);
      span = run + here;
      return;
    }
    size_t pending = 0;  // carried zeros rolled, not yet consumed
    for (uint64_t i = 0; i < carried; ++i) {
      rollsum.roll(0);
      ++pending;
      if (rollsum.on_split()) {
        consume(zero_bytes(), pending);
        pending = 0;
        end_chunk(false);
      }
    }
    consume(zero_bytes(), pending);
    for (const uint8_t* q = run; q < run + here;) {
      rollsum.roll(0);
      ++q;
      if (rollsum.on_split()) {
        consume(span, static_cast<size_t>(q - span));
        span = q;
        end_chunk(false);
      }
    }
  }

  // The first content byte closes the frame holding the entry's headers.
  void consume(const uint8_t* data, size_t n) {
    if (n == 0) return;
    if (start_offset == 0) chunk_offset = start_offset = restart();
    file_hash->update(data, n);
    chunk_hash->update(data, n);
    frame_write(data, n);
    written += n;
  }

  // Closes the chunk that ends here (if it has any bytes): its frame ends
  // and the next chunk starts a new one.
  void end_chunk(bool is_zeros) {
    if (written == chunk_start) return;
    const uint64_t next = restart();
    chunks.push_back(Chunk{chunk_offset, chunk_start, written - chunk_start, chunk_hash->digest_final(), is_zeros});
    chunk_start = written;
    chunk_offset = next;
  }

  // The TOC entries of the file just read: one for the file, and one per
  // further chunk when it has more than one.
  void write_entries(uint64_t end_offset) {
    const tar::Header& h = current;
    gojson::Json e = gojson::Json::object();
    e["type"] = current_type;
    e["name"] = h.name;
    if (!h.linkname.empty()) e["linkName"] = h.linkname;
    if (h.mode) e["mode"] = h.mode;
    if (h.size) e["size"] = h.size;
    if (h.uid) e["uid"] = h.uid;
    if (h.gid) e["gid"] = h.gid;
    e["modtime"] = tar::go_time_json(h.mtime);
    e["accesstime"] = h.atime ? tar::go_time_json(*h.atime) : kGoZeroTime;
    e["changetime"] = h.ctime ? tar::go_time_json(*h.ctime) : kGoZeroTime;
    if (h.devmajor) e["devMajor"] = h.devmajor;
    if (h.devminor) e["devMinor"] = h.devminor;
    if (!h.xattrs.empty()) {
      gojson::Json x = gojson::Json::object();
      for (const auto& [k, v] : h.xattrs) x[k] = go_base64_encode(v);
      e["xattrs"] = std::move(x);
    }
    if (start_offset) {
      e["digest"] = file_hash->digest_final();
      e["offset"] = start_offset;
      e["endOffset"] = end_offset;
    }
    const bool split = chunks.size() > 1;
    if (split) add_chunk_fields(e, chunks[0]);
    add_entry(e);
    for (size_t i = 1; split && i < chunks.size(); ++i) {
      gojson::Json c = gojson::Json::object();
      c["type"] = "chunk";
      c["name"] = h.name;
      add_chunk_fields(c, chunks[i]);
      add_entry(c);
    }
  }

  static void add_chunk_fields(gojson::Json& e, const Chunk& c) {
    // Field order is Go's struct order: offset sits before the chunk fields.
    if (c.offset) e["offset"] = c.offset;
    e["chunkSize"] = c.size;
    if (c.file_offset) e["chunkOffset"] = c.file_offset;
    e["chunkDigest"] = c.digest;
    if (c.zeros) e["chunkType"] = "zeros";
  }

  void add_entry(const gojson::Json& e) {
    if (entry_count++) toc += ',';
    toc += gojson::marshal(e);
    if (toc.size() > kMaxToc)
      throw Error("zstd:chunked: the table of contents exceeds 50 MiB after " + std::to_string(entry_count) +
                  " entries (containers/storage refuses larger ones); use --dest-compress-format zstd for this image");
  }

  // ---- end of stream --------------------------------------------------

  void finish() {
    splitter.finish();
    restart();
    // Go writes an empty (nil) entry list as null.
    if (entry_count == 0) toc = "{\"version\":1,\"entries\":null}";
    else toc += "]}";
    // The TOC in a zstd frame of its own, with the layer's parameters (the
    // last frame has ended, so the context starts a new one).
    std::string compressed(ZSTD_compressBound(toc.size()), '\0');
    const size_t len = ZSTD_compress2(cctx.get(), compressed.data(), compressed.size(), toc.data(), toc.size());
    if (ZSTD_isError(len)) throw Error(zstd_failure(len));
    compressed.resize(len);

    const uint64_t toc_offset = produced + 8;  // after the skippable frame's header
    annotations[kZstdChunkedManifestChecksum] = sha256_digest(compressed);
    annotations[kZstdChunkedManifestPosition] = std::to_string(toc_offset) + ":" + std::to_string(len) + ":" +
                                                std::to_string(toc.size()) + ":" + std::to_string(kManifestType);
    std::string tail;
    append_skippable(tail, compressed);
    std::string footer;
    put_le64(footer, toc_offset);
    put_le64(footer, len);
    put_le64(footer, toc.size());
    put_le64(footer, kManifestType);
    footer.append(kFooterMagic, sizeof kFooterMagic);
    append_skippable(tail, footer);
    out += tail;
    produced += tail.size();
    toc.clear();
    toc.shrink_to_fit();
  }

  // Feeds input until there is output to hand out or the stream is done.
  bool pump() {
    while (out_pos == out.size() && !finished) {
      out.clear();
      out_pos = 0;
      const size_t n = input->read(in_buf.data(), in_buf.size());
      if (n == 0) {
        finish();
        finished = true;
      } else {
        splitter.feed(in_buf.data(), n);
      }
    }
    return out_pos < out.size();
  }

  std::unique_ptr<Reader> input;
  tar::StreamSplitter splitter;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx;
  std::vector<uint8_t> in_buf;
  std::vector<uint8_t> zstd_out;
  std::string out;  // compressed bytes not yet read
  size_t out_pos = 0;
  uint64_t produced = 0;  // compressed bytes so far: the offsets in the TOC
  bool frame_open = false;
  bool finished = false;

  // The entry being read.
  tar::Header current;
  const char* current_type = "";
  std::vector<Chunk> chunks;
  std::optional<Sha256> file_hash, chunk_hash;
  uint64_t written = 0;       // content bytes consumed so far
  uint64_t chunk_start = 0;   // file offset where the open chunk starts
  uint64_t chunk_offset = 0;  // output offset where its frame starts
  uint64_t start_offset = 0;  // output offset of the first content frame; 0: none yet
  uint64_t zeros = 0;
  RollSum rollsum;

  std::string toc;
  size_t entry_count = 0;
  std::map<std::string, std::string> annotations;
};

ZstdChunkedCompressor::ZstdChunkedCompressor(std::unique_ptr<Reader> tar, int level)
    : impl_(std::make_unique<Impl>(std::move(tar), level)) {}

ZstdChunkedCompressor::~ZstdChunkedCompressor() = default;

size_t ZstdChunkedCompressor::read(uint8_t* buf, size_t n) {
  if (n == 0 || !impl_->pump()) return 0;
  const size_t k = std::min(n, impl_->out.size() - impl_->out_pos);
  std::memcpy(buf, impl_->out.data() + impl_->out_pos, k);
  impl_->out_pos += k;
  return k;
}

const std::map<std::string, std::string>& ZstdChunkedCompressor::annotations() const { return impl_->annotations; }

}  // namespace ferry
