#include "io/compression.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "io/libarchive.h"
#include "io/zstd_chunked.h"
#include "util/error.h"

namespace ferry {

std::string compression_name(Compression c) {
  switch (c) {
    case Compression::None:
      return "";
    case Compression::Gzip:
      return "gzip";
    case Compression::Bzip2:
      return "bzip2";
    case Compression::Xz:
      return "Xz";  // sic: containers/image's algorithm name
    case Compression::Zstd:
      return "zstd";
    case Compression::ZstdChunked:
      return "zstd:chunked";
  }
  return "";
}

Compression compression_from_name(const std::string& name) {
  if (name == "gzip") return Compression::Gzip;
  if (name == "bzip2") return Compression::Bzip2;
  if (name == "Xz") return Compression::Xz;
  if (name == "zstd") return Compression::Zstd;
  if (name == "zstd:chunked") return Compression::ZstdChunked;
  throw Error("cannot find compressor for \"" + name + "\"");
}

Compression detect_compression(const uint8_t* data, size_t len) {
  auto has = [&](std::initializer_list<uint8_t> magic) {
    return len >= magic.size() && std::equal(magic.begin(), magic.end(), data);
  };
  if (has({0x1F, 0x8B, 0x08})) return Compression::Gzip;
  if (has({0x42, 0x5A, 0x68})) return Compression::Bzip2;
  if (has({0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00})) return Compression::Xz;
  if (has({0x28, 0xB5, 0x2F, 0xFD})) return Compression::Zstd;
  return Compression::None;
}

PeekReader::PeekReader(std::unique_ptr<Reader> inner) : inner_(std::move(inner)) {}

std::string PeekReader::peek(size_t n) {
  while (buffered_.size() - pos_ < n && !eof_) {
    const size_t old = buffered_.size();
    const size_t want = n - (old - pos_);
    buffered_.resize(old + want);
    size_t got = inner_->read(reinterpret_cast<uint8_t*>(buffered_.data()) + old, want);
    buffered_.resize(old + got);
    if (got == 0) eof_ = true;
  }
  return buffered_.substr(pos_, std::min(n, buffered_.size() - pos_));
}

size_t PeekReader::read(uint8_t* buf, size_t n) {
  if (pos_ < buffered_.size()) {
    n = std::min(n, buffered_.size() - pos_);
    memcpy(buf, buffered_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buffered_.size()) {
      buffered_.clear();
      pos_ = 0;
    }
    return n;
  }
  if (eof_ || n == 0) return 0;
  size_t got = inner_->read(buf, n);
  if (got == 0) eof_ = true;
  return got;
}

namespace {

// ISA-L and zstd count in 32-bit or size_t units; one call never needs more
// than a buffer's worth.
uint32_t clamp32(size_t n) { return static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX)); }

// Pulls the next chunk of input into a bounded buffer. Left uninitialised so
// a short stream touches only the pages it fills.
class InputBuffer {
 public:
  explicit InputBuffer(std::unique_ptr<Reader> in)
      : in_(std::move(in)), buf_(std::make_unique_for_overwrite<uint8_t[]>(kCopyBufferSize)) {}
  // Returns false at end of input.
  bool fill(const uint8_t** data, size_t* len) {
    if (eof_) return false;
    size_t got = in_->read(buf_.get(), kCopyBufferSize);
    if (got == 0) {
      eof_ = true;
      return false;
    }
    *data = buf_.get();
    *len = got;
    return true;
  }
  bool eof() const { return eof_; }
  uint8_t* data() { return buf_.get(); }
  size_t capacity() const { return kCopyBufferSize; }
  Reader& reader() { return *in_; }

 private:
  std::unique_ptr<Reader> in_;
  std::unique_ptr<uint8_t[]> buf_;
  bool eof_ = false;
};

// ---- gzip ----------------------------------------------------------------

// Multi-member, as Go's gzip.Reader: after each member's trailer either the
// input ends or another gzip header must follow.
class GzipDecompressor : public Reader {
 public:
  explicit GzipDecompressor(std::unique_ptr<Reader> in)
      : in_(std::move(in)), st_(std::make_unique<inflate_state>()) {
    start_member();
  }

  size_t read(uint8_t* buf, size_t n) override {
    if (done_ || n == 0) return 0;
    for (;;) {
      if (st_->avail_in == 0 && !in_.eof()) refill();
      if (between_members_) {
        if (st_->avail_in == 0) {
          done_ = true;
          return 0;
        }
        start_member();
      }
      st_->next_out = buf;
      st_->avail_out = clamp32(n);
      const uint32_t before_in = st_->avail_in;
      const uint32_t before_out = st_->avail_out;
      const int ret = isal_inflate(st_.get());
      consumed_ += before_in - st_->avail_in;
      if (ret < 0) fail(ret);
      const size_t produced = before_out - st_->avail_out;
      if (st_->block_state == ISAL_BLOCK_FINISH) between_members_ = true;
      if (produced > 0) return produced;
      if (between_members_) continue;
      if (st_->avail_in == 0) {
        if (in_.eof()) throw Error("unexpected EOF");
        continue;
      }
      // Input left, room for output, yet nothing happened: never spin.
      if (st_->avail_in == before_in) throw Error("gzip: decompressor made no progress");
    }
  }

 private:
  void refill() {
    const uint8_t* data;
    size_t len;
    if (in_.fill(&data, &len)) {
      st_->next_in = const_cast<uint8_t*>(data);
      st_->avail_in = clamp32(len);
    }
  }

  void start_member() {
    uint8_t* next_in = st_->next_in;
    uint32_t avail_in = st_->avail_in;
    isal_inflate_init(st_.get());
    st_->crc_flag = ISAL_GZIP;
    st_->next_in = next_in;
    st_->avail_in = avail_in;
    between_members_ = false;
  }

  [[noreturn]] void fail(int ret) {
    switch (ret) {
      case ISAL_INVALID_WRAPPER:
      case ISAL_UNSUPPORTED_METHOD:
        throw Error("gzip: invalid header");
      case ISAL_INCORRECT_CHECKSUM:
        throw Error("gzip: invalid checksum");
      default:
        throw Error("flate: corrupt input before offset " + std::to_string(consumed_));
    }
  }

  InputBuffer in_;
  std::unique_ptr<inflate_state> st_;
  bool between_members_ = false;
  bool done_ = false;
  uint64_t consumed_ = 0;
};

// Go levels 1..9 onto ISA-L's 0..3, keeping the default (6) in the middle.
// Measured on a 100 MB tar of binaries and text: ISA-L 0/1/2/3 give 131%/
// 114%/112%/111% of zlib -6's output at roughly 20x/20x/15x/11x its speed,
// so every level stays far faster than any network it feeds.
int isal_level_for(int go_level) {
  if (go_level < 0) return 2;
  if (go_level <= 1) return 0;
  if (go_level <= 4) return 1;
  if (go_level <= 7) return 2;
  return 3;
}

uint32_t isal_level_buf_size(int level) {
  switch (level) {
    case 1:
      return ISAL_DEF_LVL1_DEFAULT;
    case 2:
      return ISAL_DEF_LVL2_DEFAULT;
    case 3:
      return ISAL_DEF_LVL3_DEFAULT;
    default:
      return 0;
  }
}

class GzipCompressor : public Reader {
 public:
  GzipCompressor(std::unique_ptr<Reader> in, int go_level)
      : in_(std::move(in)), zs_(std::make_unique<isal_zstream>()) {
    if (go_level > 9) throw Error("gzip: invalid compression level: " + std::to_string(go_level));
    const int level = isal_level_for(go_level);
    isal_deflate_init(zs_.get());
    level_buf_.resize(isal_level_buf_size(level));
    zs_->level = static_cast<uint32_t>(level);
    zs_->level_buf = level_buf_.empty() ? nullptr : level_buf_.data();
    zs_->level_buf_size = static_cast<uint32_t>(level_buf_.size());
    // The header is ours (below), so ISA-L writes only deflate + trailer.
    zs_->gzip_flag = IGZIP_GZIP_NO_HDR;
    zs_->flush = NO_FLUSH;
    // Go's gzip.Writer header: no name, mtime 0, XFL by level, OS unknown.
    const uint8_t xfl = go_level == 9 ? 2 : go_level == 1 ? 4 : 0;
    const uint8_t header[10] = {0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, xfl, 0xFF};
    memcpy(header_, header, sizeof header_);
  }

  size_t read(uint8_t* buf, size_t n) override {
    if (n == 0) return 0;
    if (header_pos_ < sizeof header_) {
      n = std::min(n, sizeof header_ - header_pos_);
      memcpy(buf, header_ + header_pos_, n);
      header_pos_ += n;
      return n;
    }
    while (!done_) {
      if (zs_->avail_in == 0 && !zs_->end_of_stream) {
        const uint8_t* data;
        size_t len;
        if (in_.fill(&data, &len)) {
          zs_->next_in = const_cast<uint8_t*>(data);
          zs_->avail_in = clamp32(len);
        } else {
          zs_->end_of_stream = 1;
        }
      }
      zs_->next_out = buf;
      zs_->avail_out = clamp32(n);
      const uint32_t before_out = zs_->avail_out;
      const int ret = isal_deflate(zs_.get());
      if (ret != COMP_OK) throw Error("gzip: compression failed (ISA-L error " + std::to_string(ret) + ")");
      if (zs_->internal_state.state == ZSTATE_END) done_ = true;
      const size_t produced = before_out - zs_->avail_out;
      if (produced > 0) return produced;
    }
    return 0;
  }

 private:
  InputBuffer in_;
  std::unique_ptr<isal_zstream> zs_;
  std::vector<uint8_t> level_buf_;
  uint8_t header_[10];
  size_t header_pos_ = 0;
  bool done_ = false;
};

// ---- zstd ----------------------------------------------------------------

std::string zstd_error(size_t code) {
  std::string s = ZSTD_getErrorName(code);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return "zstd: " + s;
}

class ZstdDecompressor : public Reader {
 public:
  explicit ZstdDecompressor(std::unique_ptr<Reader> in)
      : in_(std::move(in)), ds_(ZSTD_createDStream(), ZSTD_freeDStream) {
    if (!ds_) throw Error("zstd: cannot create decoder");
  }

  size_t read(uint8_t* buf, size_t n) override {
    if (done_ || n == 0) return 0;
    for (;;) {
      if (src_.pos == src_.size && !in_.eof()) {
        const uint8_t* data;
        size_t len;
        if (in_.fill(&data, &len)) src_ = {data, len, 0};
      }
      if (src_.pos == src_.size && in_.eof()) {
        // Between frames the stream may end; inside one it may not.
        if (in_frame_) throw Error("unexpected EOF");
        done_ = true;
        return 0;
      }
      ZSTD_outBuffer out = {buf, n, 0};
      const size_t before_in = src_.pos;
      const size_t ret = ZSTD_decompressStream(ds_.get(), &out, &src_);
      if (ZSTD_isError(ret)) throw Error(zstd_error(ret));
      in_frame_ = ret != 0;
      if (out.pos > 0) return out.pos;
      if (src_.pos == before_in && src_.pos < src_.size)
        throw Error("zstd: decompressor made no progress");
    }
  }

 private:
  InputBuffer in_;
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds_;
  ZSTD_inBuffer src_ = {nullptr, 0, 0};
  bool in_frame_ = false;
  bool done_ = false;
};

}  // namespace

int zstd_encoder_level(int level) {
  if (level < 0) return 3;
  if (level < 3) return 1;
  if (level < 6) return 3;
  if (level < 10) return 7;
  return 11;
}

namespace {

class ZstdCompressor : public Reader {
 public:
  ZstdCompressor(std::unique_ptr<Reader> in, int level, int threads)
      : in_(std::move(in)), cs_(ZSTD_createCCtx(), ZSTD_freeCCtx) {
    if (!cs_) throw Error("zstd: cannot create encoder");
    set(ZSTD_c_compressionLevel, zstd_encoder_level(level));
    set(ZSTD_c_checksumFlag, 1);  // klauspost writes frame checksums too
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // One thread compresses inline (nbWorkers 0): zstd's worker mode keeps
    // several job buffers per stream, which is what made six parallel
    // layers cost hundreds of MiB. A libzstd built without threads rejects
    // nbWorkers; single-threaded output is still correct, so that error is
    // ignored.
    ZSTD_CCtx_setParameter(cs_.get(), ZSTD_c_nbWorkers, threads == 1 ? 0 : threads);
  }

  size_t read(uint8_t* buf, size_t n) override {
    if (done_ || n == 0) return 0;
    for (;;) {
      if (src_.pos == src_.size && !in_.eof()) {
        const uint8_t* data;
        size_t len;
        if (in_.fill(&data, &len)) src_ = {data, len, 0};
      }
      ZSTD_outBuffer out = {buf, n, 0};
      const bool last = in_.eof();
      const size_t ret =
          ZSTD_compressStream2(cs_.get(), &out, &src_, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(ret)) throw Error(zstd_error(ret));
      if (last && ret == 0) done_ = true;
      if (out.pos > 0) return out.pos;
      if (done_) return 0;
    }
  }

 private:
  void set(ZSTD_cParameter p, int v) {
    size_t r = ZSTD_CCtx_setParameter(cs_.get(), p, v);
    if (ZSTD_isError(r)) throw Error(zstd_error(r));
  }

  InputBuffer in_;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cs_;
  ZSTD_inBuffer src_ = {nullptr, 0, 0};
  bool done_ = false;
};

// ---- bzip2 / xz through libarchive ---------------------------------------

// libarchive's C frames must not be unwound by a C++ exception: callbacks
// park it here and it is rethrown once libarchive has returned.
struct CallbackError {
  std::exception_ptr error;
  void rethrow_if_any() {
    if (error) {
      std::exception_ptr e = error;
      error = nullptr;
      std::rethrow_exception(e);
    }
  }
};

// Decompresses with one of libarchive's read filters over its "raw" format,
// which presents the filtered stream as a single entry.
class ArchiveDecompressor : public Reader {
 public:
  ArchiveDecompressor(std::unique_ptr<Reader> in, Compression c)
      : in_(std::move(in)), a_(libarchive().archive_read_new(), libarchive().archive_read_free), c_(c) {
    if (!a_) throw Error("cannot allocate libarchive reader");
    int want;
    if (c == Compression::Bzip2) {
      libarchive().archive_read_support_filter_bzip2(a_.get());
      want = ARCHIVE_FILTER_BZIP2;
    } else {
      libarchive().archive_read_support_filter_xz(a_.get());
      want = ARCHIVE_FILTER_XZ;
    }
    libarchive().archive_read_support_format_raw(a_.get());
    libarchive().archive_read_support_format_empty(a_.get());
    int r = libarchive().archive_read_open(a_.get(), this, nullptr, read_cb, nullptr);
    check(r);
    struct archive_entry* entry;
    r = libarchive().archive_read_next_header(a_.get(), &entry);
    if (r == ARCHIVE_EOF) {
      done_ = true;
    } else {
      check(r);
    }
    // The filter bids on magic bytes alone: input that is not really this
    // format would otherwise pass through undecompressed.
    if (libarchive().archive_filter_code(a_.get(), 0) != want) throw Error(name() + ": invalid header");
  }

  size_t read(uint8_t* buf, size_t n) override {
    if (done_ || n == 0) return 0;
    la_ssize_t r = libarchive().archive_read_data(a_.get(), buf, n);
    if (r < 0) check(static_cast<int>(r));
    if (r == 0) done_ = true;
    return static_cast<size_t>(r);
  }

 private:
  std::string name() const { return compression_name(c_) == "Xz" ? "xz" : "bzip2"; }

  void check(int r) {
    err_.rethrow_if_any();
    if (r == ARCHIVE_OK || r == ARCHIVE_WARN) return;
    const char* msg = libarchive().archive_error_string(a_.get());
    throw Error(name() + ": " + (msg ? msg : "decompression failed"));
  }

  static la_ssize_t read_cb(struct archive* a, void* self_v, const void** buf) {
    auto* self = static_cast<ArchiveDecompressor*>(self_v);
    try {
      size_t got = self->in_.reader().read(self->in_.data(), self->in_.capacity());
      *buf = self->in_.data();
      return static_cast<la_ssize_t>(got);
    } catch (...) {
      self->err_.error = std::current_exception();
      libarchive().archive_set_error(a, EIO, "read failed");
      return -1;
    }
  }

  InputBuffer in_;
  std::unique_ptr<struct archive, int (*)(struct archive*)> a_;
  Compression c_;
  CallbackError err_;
  bool done_ = false;
};

// xz compression through libarchive's write filter over its "raw" format;
// libarchive pushes, so output is collected per input chunk and handed out
// from there (bounded by one chunk's compressed size).
class XzCompressor : public Reader {
 public:
  explicit XzCompressor(std::unique_ptr<Reader> in)
      : in_(std::move(in)), a_(libarchive().archive_write_new(), libarchive().archive_write_free) {
    if (!a_) throw Error("cannot allocate libarchive writer");
    libarchive().archive_write_set_format_raw(a_.get());
    check(libarchive().archive_write_add_filter_xz(a_.get()));
    // No tar-style blocking: the stream must end where the data ends.
    libarchive().archive_write_set_bytes_per_block(a_.get(), 0);
    libarchive().archive_write_set_bytes_in_last_block(a_.get(), 1);
    check(libarchive().archive_write_open(a_.get(), this, nullptr, write_cb, nullptr));
    std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> e(libarchive().archive_entry_new(),
                                                                           libarchive().archive_entry_free);
    libarchive().archive_entry_set_pathname(e.get(), "data");
    libarchive().archive_entry_set_filetype(e.get(), AE_IFREG);
    check(libarchive().archive_write_header(a_.get(), e.get()));
  }

  ~XzCompressor() override {
    // libarchive finishes the stream on free; an abandoned one's tail is
    // simply dropped (archive_write_fail would avoid the work but leaks).
    abandoned_ = true;
    a_.reset();
  }

  size_t read(uint8_t* buf, size_t n) override {
    if (n == 0) return 0;
    while (pending_pos_ == pending_.size() && !closed_) {
      pending_.clear();
      pending_pos_ = 0;
      const uint8_t* data;
      size_t len;
      if (in_.fill(&data, &len)) {
        la_ssize_t w = libarchive().archive_write_data(a_.get(), data, len);
        err_.rethrow_if_any();
        if (w < 0) check(static_cast<int>(w));
      } else {
        closed_ = true;
        check(libarchive().archive_write_close(a_.get()));
      }
    }
    n = std::min(n, pending_.size() - pending_pos_);
    memcpy(buf, pending_.data() + pending_pos_, n);
    pending_pos_ += n;
    return n;
  }

 private:
  void check(int r) {
    err_.rethrow_if_any();
    if (r == ARCHIVE_OK || r == ARCHIVE_WARN) return;
    const char* msg = libarchive().archive_error_string(a_.get());
    throw Error(std::string("xz: ") + (msg ? msg : "compression failed"));
  }

  static la_ssize_t write_cb(struct archive* a, void* self_v, const void* buf, size_t n) {
    auto* self = static_cast<XzCompressor*>(self_v);
    if (self->abandoned_) return static_cast<la_ssize_t>(n);
    try {
      self->pending_.append(static_cast<const char*>(buf), n);
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      self->err_.error = std::current_exception();
      libarchive().archive_set_error(a, ENOMEM, "buffering output failed");
      return -1;
    }
  }

  InputBuffer in_;
  CallbackError err_;
  std::string pending_;
  size_t pending_pos_ = 0;
  bool closed_ = false;
  bool abandoned_ = false;
  // Last, so it is freed first: freeing flushes through write_cb, which
  // must still find the members above alive.
  std::unique_ptr<struct archive, int (*)(struct archive*)> a_;
};

}  // namespace

std::unique_ptr<Reader> make_decompressor(std::unique_ptr<Reader> in, Compression c) {
  switch (c) {
    case Compression::None:
      return in;
    case Compression::Gzip:
      return std::make_unique<GzipDecompressor>(std::move(in));
    case Compression::Zstd:
    case Compression::ZstdChunked:
      return std::make_unique<ZstdDecompressor>(std::move(in));
    case Compression::Bzip2:
    case Compression::Xz:
      return std::make_unique<ArchiveDecompressor>(std::move(in), c);
  }
  throw Error("unknown compression");
}

std::unique_ptr<Reader> make_compressor(std::unique_ptr<Reader> in, Compression c, int level,
                                        int threads) {
  switch (c) {
    case Compression::None:
      return in;
    case Compression::Gzip:
      return std::make_unique<GzipCompressor>(std::move(in), level);
    case Compression::Zstd:
      return std::make_unique<ZstdCompressor>(std::move(in), level, threads);
    case Compression::ZstdChunked:
      return std::make_unique<ZstdChunkedCompressor>(std::move(in), level);
    case Compression::Xz:
      return std::make_unique<XzCompressor>(std::move(in));
    case Compression::Bzip2:
      throw Error("bzip2 compression not supported");
  }
  throw Error("unknown compression");
}

}  // namespace ferry
