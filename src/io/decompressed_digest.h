// The DiffID of a layer that is stored compressed: the digest of its
// decompressed bytes, computed while the compressed bytes flow past
// unchanged. Converting a schema 1 image needs it (schema 1 manifests carry
// no DiffIDs, the schema 2 / OCI config must), and only then is it worth a
// second decompression of every layer.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "io/compression.h"
#include "io/reader.h"

namespace ferry {

class DecompressedDigestTee : public Reader {
 public:
  // inner yields data compressed with c (not None).
  DecompressedDigestTee(std::unique_ptr<Reader> inner, Compression c);
  // Stops the decompressing thread and waits for it, also mid-stream.
  ~DecompressedDigestTee() override;
  DecompressedDigestTee(const DecompressedDigestTee&) = delete;
  DecompressedDigestTee& operator=(const DecompressedDigestTee&) = delete;

  size_t read(uint8_t* buf, size_t n) override;
  std::string vouched_digest() const override { return inner_->vouched_digest(); }

  // "sha256:..." of the decompressed stream, once read() has returned 0.
  // Throws if the stream was not read to its end or did not decompress.
  std::string digest();

  struct Pipe;

 private:
  std::unique_ptr<Reader> inner_;
  std::shared_ptr<Pipe> pipe_;
  std::thread worker_;
  bool ended_ = false;
  std::string digest_;
  std::exception_ptr error_;
};

}  // namespace ferry
