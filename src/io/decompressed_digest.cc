#include "io/decompressed_digest.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "util/error.h"

namespace ferry {

namespace {
// Chunks queued between the stream and the decompressing thread: memory
// stays bounded (a few copy buffers) however far the thread falls behind;
// the stream waits for it instead.
constexpr size_t kMaxQueuedChunks = 4;
}  // namespace

// A bounded queue of byte chunks, one producer (the stream), one consumer
// (the decompressing thread).
struct DecompressedDigestTee::Pipe {
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::vector<uint8_t>> chunks;
  size_t offset = 0;      // consumed bytes of chunks.front()
  bool closed = false;    // no more chunks will come
  bool abandoned = false; // the consumer must stop now

  // Returns false if the consumer has stopped (it needs no more).
  bool push(const uint8_t* data, size_t n, bool* consumer_stopped) {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return chunks.size() < kMaxQueuedChunks || abandoned || *consumer_stopped; });
    if (abandoned || *consumer_stopped) return false;
    chunks.emplace_back(data, data + n);
    changed.notify_all();
    return true;
  }

  void close() {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    changed.notify_all();
  }

  void abandon() {
    std::lock_guard<std::mutex> lock(mu);
    abandoned = true;
    changed.notify_all();
  }

  // Blocks for data; 0 at the end.
  size_t pop(uint8_t* buf, size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return !chunks.empty() || closed || abandoned; });
    if (abandoned) throw Error("stream abandoned");
    if (chunks.empty()) return 0;
    std::vector<uint8_t>& front = chunks.front();
    const size_t k = std::min(n, front.size() - offset);
    std::memcpy(buf, front.data() + offset, k);
    offset += k;
    if (offset == front.size()) {
      chunks.pop_front();
      offset = 0;
      changed.notify_all();
    }
    return k;
  }
};

namespace {

class PipeReader : public Reader {
 public:
  explicit PipeReader(std::shared_ptr<DecompressedDigestTee::Pipe> p) : pipe_(std::move(p)) {}
  size_t read(uint8_t* buf, size_t n) override { return pipe_->pop(buf, n); }

 private:
  std::shared_ptr<DecompressedDigestTee::Pipe> pipe_;
};

}  // namespace

DecompressedDigestTee::DecompressedDigestTee(std::unique_ptr<Reader> inner, Compression c)
    : inner_(std::move(inner)), pipe_(std::make_shared<Pipe>()) {
  worker_ = std::thread([this, c] {
    try {
      auto plain = make_decompressor(std::make_unique<PipeReader>(pipe_), c);
      DigestingReader hashed(*plain);
      std::vector<uint8_t> buf(kCopyBufferSize);
      while (hashed.read(buf.data(), buf.size()) > 0) {
      }
      digest_ = hashed.digest();
      // Bytes after the compressed data (a decompressor may stop at its
      // end marker) are still taken, so the stream never waits for us.
      PipeReader rest(pipe_);
      while (rest.read(buf.data(), buf.size()) > 0) {
      }
    } catch (...) {
      error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(pipe_->mu);
    ended_ = true;
    pipe_->changed.notify_all();
  });
}

DecompressedDigestTee::~DecompressedDigestTee() {
  pipe_->abandon();
  if (worker_.joinable()) worker_.join();
}

size_t DecompressedDigestTee::read(uint8_t* buf, size_t n) {
  const size_t got = inner_->read(buf, n);
  if (got == 0) {
    pipe_->close();
  } else {
    // A consumer that failed (corrupt data) stops taking chunks; the
    // stream itself goes on, and digest() reports the failure.
    pipe_->push(buf, got, &ended_);
  }
  return got;
}

std::string DecompressedDigestTee::digest() {
  if (worker_.joinable()) {
    bool closed;
    {
      std::lock_guard<std::mutex> lock(pipe_->mu);
      closed = pipe_->closed;
    }
    if (!closed) {
      pipe_->abandon();
      worker_.join();
      throw Error("computing the DiffID: the stream was not read to its end");
    }
    worker_.join();
  }
  if (error_) {
    try {
      std::rethrow_exception(error_);
    } catch (const Error& e) {
      throw Error(std::string("computing the DiffID: ") + e.what());
    }
  }
  if (digest_.empty()) throw Error("computing the DiffID: no digest");
  return digest_;
}

}  // namespace ferry
