// Pull-based byte streams. A blob crosses ferry as a chain of Readers
// (source body -> digest verifier -> decompress/compress -> progress ->
// destination), each pulling fixed-size buffers from the one below, so
// memory does not grow with blob size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ferry {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to n bytes into buf. Returns 0 only at end of stream; throws
  // ferry::Error on failure (the stream is then unusable).
  virtual size_t read(uint8_t* buf, size_t n) = 0;
  // The digest this stream is guaranteed to have: a reader that verifies
  // its bytes (DigestVerifyingReader) throws from read() before it returns
  // end of stream if they do not hash to it, and pass-through wrappers
  // forward it. A destination that stores a blob under this digest need
  // not hash it again: one SHA-256 pass per copied byte is the whole
  // hashing cost of a copy. Empty: nothing is vouched for.
  virtual std::string vouched_digest() const { return {}; }
};

// The buffer size every stage uses: large enough that syscalls and
// (de)compressor calls are amortised, small enough that six parallel
// copies stay within a few MiB.
inline constexpr size_t kCopyBufferSize = 256 << 10;

// Drains r into a string; throws if it exceeds max_bytes (manifests, configs
// and other JSON are bounded like skopeo's limits, §5.1 of the reference).
std::string read_all(Reader& r, size_t max_bytes);

// A Reader over an in-memory string (manifests, configs, tests).
class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  size_t read(uint8_t* buf, size_t n) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Reads a file sequentially. what names the file in error messages.
class FileReader : public Reader {
 public:
  explicit FileReader(const std::string& path);
  ~FileReader() override;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  size_t read(uint8_t* buf, size_t n) override;
  int64_t size() const { return size_; }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = -1;
};

// Verifies, at end of stream, that the bytes read hash to `digest` and, if
// size >= 0, that exactly `size` bytes were read. A mismatch throws an Error
// naming the blob, so no destination ever commits corrupted content. Also
// stops early if more than `size` bytes arrive (a hostile source cannot make
// us read forever).
class DigestVerifyingReader : public Reader {
 public:
  DigestVerifyingReader(std::unique_ptr<Reader> inner, std::string digest, int64_t size);
  ~DigestVerifyingReader() override;
  size_t read(uint8_t* buf, size_t n) override;
  std::string vouched_digest() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Computes the digest and size of what passes through; used where the
// result's digest is only known after writing (compression on the fly).
class DigestingReader : public Reader {
 public:
  explicit DigestingReader(Reader& inner);
  ~DigestingReader() override;
  size_t read(uint8_t* buf, size_t n) override;
  bool finished() const;
  std::string digest() const;  // valid once read() returned 0
  int64_t size() const { return size_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t size_ = 0;
};

}  // namespace ferry
