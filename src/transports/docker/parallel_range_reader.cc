#include "transports/docker/parallel_range_reader.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "net/net_error.h"
#include "net/registry_errors.h"
#include "util/error.h"

namespace ferry::docker {

namespace {

constexpr int64_t kAutoMinChunk = int64_t{1} << 20;
// Small chunks keep a ranged blob within connections x 2 MiB; on a link
// where one more round trip per 2 MiB matters, FERRY_RANGE_CHUNK_SIZE raises it.
constexpr int64_t kAutoMaxChunk = int64_t{2} << 20;
constexpr int64_t kChunkAlign = int64_t{64} << 10;
// Chunks per connection when the size is automatic: enough that a slow
// connection does not leave the others idle at the end.
constexpr int64_t kChunksPerConnection = 4;
// A worker publishes progress (and looks for cancellation) this often.
constexpr size_t kWorkerReadSize = size_t{256} << 10;
// c/image bodyReader's rules for resuming an interrupted body.
constexpr int64_t kResumeMinProgress = int64_t{1} << 20;
constexpr std::chrono::seconds kResumeMinInterval{60};
// Even with progress, a chunk is not requested forever.
constexpr int kMaxChunkAttempts = 8;

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Worth another request for the same bytes: a dropped connection, or a
// gateway in front of the server failing for a moment.
bool transient(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const net::NetworkError& ne) {
    return ne.retryable();
  } catch (const net::RegistryError& re) {
    return re.status() >= 502 && re.status() <= 504;
  } catch (...) {
    return false;
  }
}

std::string range_text(int64_t offset, int64_t length) {
  return std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

}  // namespace

RangeSettings parse_range_settings(const char* threshold, const char* connections, const char* chunk_size,
                                   std::vector<std::string>* problems) {
  RangeSettings s;
  int64_t v = 0;
  if (threshold && *threshold) {
    if (parse_int(threshold, &v) && v >= 0) s.threshold = v;
    else problems->push_back("ignoring FERRY_RANGE_THRESHOLD=\"" + std::string(threshold) +
                             "\": not a number of bytes");
  }
  if (connections && *connections) {
    if (parse_int(connections, &v) && v >= 1 && v <= kMaxRangeConnections) s.connections = static_cast<int>(v);
    else problems->push_back("ignoring FERRY_RANGE_CONNECTIONS=\"" + std::string(connections) +
                             "\": not a number between 1 and " + std::to_string(kMaxRangeConnections));
  }
  if (chunk_size && *chunk_size) {
    if (parse_int(chunk_size, &v) && v >= kMinRangeChunk && v <= kMaxRangeChunk) s.chunk_size = v;
    else problems->push_back("ignoring FERRY_RANGE_CHUNK_SIZE=\"" + std::string(chunk_size) +
                             "\": not a number of bytes between " + std::to_string(kMinRangeChunk) + " and " +
                             std::to_string(kMaxRangeChunk));
  }
  return s;
}

RangeSettings range_settings_from_env(std::vector<std::string>* problems) {
  return parse_range_settings(std::getenv("FERRY_RANGE_THRESHOLD"), std::getenv("FERRY_RANGE_CONNECTIONS"),
                              std::getenv("FERRY_RANGE_CHUNK_SIZE"), problems);
}

int64_t range_chunk_size(const RangeSettings& s, int64_t blob_size) {
  if (s.chunk_size > 0) return s.chunk_size;
  const int64_t parts = std::max<int64_t>(1, s.connections) * kChunksPerConnection;
  int64_t c = blob_size > 0 ? (blob_size + parts - 1) / parts : kAutoMinChunk;
  c = (c + kChunkAlign - 1) / kChunkAlign * kChunkAlign;
  return std::clamp(c, kAutoMinChunk, kAutoMaxChunk);
}

bool use_parallel_ranges(const RangeSettings& s, int64_t blob_size) {
  return s.connections > 1 && blob_size > 0 && blob_size >= s.threshold && blob_size > range_chunk_size(s, blob_size);
}

bool parse_content_range(std::string_view v, ContentRange* out) {
  if (v.substr(0, 6) != "bytes ") return false;
  v.remove_prefix(6);
  const size_t dash = v.find('-');
  const size_t slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return false;
  ContentRange cr;
  if (!parse_int(v.substr(0, dash), &cr.first) || !parse_int(v.substr(dash + 1, slash - dash - 1), &cr.last))
    return false;
  std::string_view total = v.substr(slash + 1);
  if (total != "*" && !parse_int(total, &cr.total)) return false;
  if (cr.first < 0 || cr.last < cr.first) return false;
  if (total != "*" && cr.total <= cr.last) return false;
  *out = cr;
  return true;
}

struct ParallelRangeReader::State {
  struct Slot {
    int64_t chunk = -1;  // the chunk held, -1 when free
    std::unique_ptr<uint8_t[]> buf;
    int64_t filled = 0;  // bytes of the chunk in buf; [0, filled) never change
    RangeBody whole;     // the server ignored the range and sent the whole blob
  };

  State(int64_t size_, int64_t chunk_, int connections, RangeFetcher fetch_, RangeBody first_)
      : size(size_),
        chunk(chunk_),
        chunks((size_ + chunk_ - 1) / chunk_),
        window(connections),
        fetch(std::move(fetch_)),
        first(std::move(first_)),
        slots(static_cast<size_t>(connections)) {}

  const int64_t size, chunk, chunks;
  const int window;  // chunks in flight or buffered at most: one per connection
  const RangeFetcher fetch;
  RangeBody first;

  std::mutex mu;
  std::condition_variable worker_cv, consumer_cv;
  std::vector<Slot> slots;  // chunk c lives in slots[c % window]
  int64_t next_chunk = 0;   // next to hand to a worker
  int64_t deliver_chunk = 0;
  int64_t deliver_off = 0;  // within deliver_chunk
  bool stop_assigning = false;
  std::atomic<bool> cancelled{false};
  std::exception_ptr error;
  std::vector<std::thread> threads;

  // After a whole-blob answer: the single stream, and the bytes handed out.
  std::unique_ptr<Reader> serial;
  int64_t pos = 0;

  int64_t chunk_length(int64_t c) const { return std::min(chunk, size - c * chunk); }

  void fail(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::move(e);
      stop_assigning = true;
    }
    consumer_cv.notify_all();
    worker_cv.notify_all();
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu);
      cancelled = true;
    }
    worker_cv.notify_all();
    for (std::thread& t : threads)
      if (t.joinable()) t.join();
  }

  void worker() {
    try {
      for (;;) {
        int64_t c = 0;
        Slot* slot = nullptr;
        {
          std::unique_lock<std::mutex> lock(mu);
          worker_cv.wait(lock, [&] {
            return cancelled || stop_assigning || next_chunk >= chunks || next_chunk < deliver_chunk + window;
          });
          if (cancelled || stop_assigning || next_chunk >= chunks) return;
          c = next_chunk++;
          slot = &slots[static_cast<size_t>(c % window)];
          slot->chunk = c;
          slot->filled = 0;
          if (!slot->buf) slot->buf.reset(new uint8_t[static_cast<size_t>(chunk)]);
        }
        fetch_chunk(c, *slot);
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  void publish(Slot& slot, int64_t filled) {
    {
      std::lock_guard<std::mutex> lock(mu);
      slot.filled = filled;
    }
    consumer_cv.notify_all();
  }

  void fetch_chunk(int64_t c, Slot& slot) {
    const int64_t offset = c * chunk;
    const int64_t length = chunk_length(c);
    RangeBody body;
    if (c == 0 && first.body) body = std::move(first);
    int64_t got = 0;
    int64_t resumed_at = 0;
    auto resumed_time = std::chrono::steady_clock::now();
    bool free_retry_used = false;
    for (int attempt = 1;; ++attempt) {
      if (cancelled) return;
      try {
        if (!body.body) body = fetch(offset + got, length - got);
        if (body.whole_blob) {
          {
            std::lock_guard<std::mutex> lock(mu);
            slot.whole = std::move(body);
            stop_assigning = true;
          }
          consumer_cv.notify_all();
          return;
        }
        while (got < length) {
          if (cancelled) return;
          const size_t want = static_cast<size_t>(std::min<int64_t>(length - got, kWorkerReadSize));
          const size_t n = body.body->read(slot.buf.get() + got, want);
          if (n == 0) throw net::NetworkError("unexpected EOF", true);
          got += static_cast<int64_t>(n);
          // The chunk's last bytes wait for the end check below, so the
          // reader cannot reach the end of the blob before a chunk fails it.
          if (got < length) publish(slot, got);
        }
        // The answer must end with the range: extra bytes mean the server
        // and this reader disagree about what it sent.
        uint8_t extra = 0;
        if (body.body->read(&extra, 1) != 0)
          throw Error("the server sent more than the " + std::to_string(length) + " bytes of range " +
                      range_text(offset, length));
        publish(slot, got);
        return;
      } catch (...) {
        body = RangeBody();
        std::exception_ptr e = std::current_exception();
        if (cancelled) return;
        const bool passing = transient(e);
        // Everything arrived; only the end of the answer broke.
        if (got == length && passing) {
          publish(slot, got);
          return;
        }
        const auto now = std::chrono::steady_clock::now();
        const bool progressed = got - resumed_at >= kResumeMinProgress ||
                                (got > resumed_at && now - resumed_time >= kResumeMinInterval);
        if (!passing || attempt >= kMaxChunkAttempts || (!progressed && free_retry_used)) {
          fail(e);
          return;
        }
        if (!progressed) free_retry_used = true;
        resumed_at = got;
        resumed_time = now;
      }
    }
  }

  size_t read_serial(uint8_t* buf, size_t n) {
    if (pos >= size) return 0;
    n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), size - pos));
    const size_t got = serial->read(buf, n);
    if (got == 0) throw net::NetworkError("unexpected EOF", true);
    pos += static_cast<int64_t>(got);
    return got;
  }

  // Continues from pos on a stream of the whole blob.
  void switch_to_serial(RangeBody whole) {
    stop_workers();
    std::vector<uint8_t> scratch(64 << 10);
    int64_t skip = pos;
    while (skip > 0) {
      const size_t n = whole.body->read(scratch.data(), static_cast<size_t>(std::min<int64_t>(skip, scratch.size())));
      if (n == 0) throw net::NetworkError("unexpected EOF", true);
      skip -= static_cast<int64_t>(n);
    }
    serial = std::move(whole.body);
  }
};

ParallelRangeReader::ParallelRangeReader(int64_t size, int64_t chunk_size, int connections, RangeFetcher fetch,
                                         RangeBody first) {
  if (size <= 0 || chunk_size <= 0 || connections < 1 || connections > kMaxRangeConnections)
    throw Error("internal error: invalid parallel range download of " + std::to_string(size) + " bytes in " +
                std::to_string(chunk_size) + "-byte chunks over " + std::to_string(connections) + " connections");
  state_ = std::make_unique<State>(size, chunk_size, connections, std::move(fetch), std::move(first));
  const int64_t workers = std::min<int64_t>(connections, state_->chunks);
  try {
    for (int64_t i = 0; i < workers; ++i) state_->threads.emplace_back([s = state_.get()] { s->worker(); });
  } catch (...) {
    state_->stop_workers();
    throw;
  }
}

ParallelRangeReader::~ParallelRangeReader() { state_->stop_workers(); }

size_t ParallelRangeReader::read(uint8_t* buf, size_t n) {
  State& s = *state_;
  if (n == 0) return 0;
  if (s.serial) return s.read_serial(buf, n);
  std::unique_lock<std::mutex> lock(s.mu);
  for (;;) {
    if (s.pos >= s.size) return 0;
    if (s.error) {
      std::exception_ptr e = s.error;
      lock.unlock();
      s.stop_workers();
      std::rethrow_exception(e);
    }
    State::Slot& slot = s.slots[static_cast<size_t>(s.deliver_chunk % s.window)];
    if (slot.chunk == s.deliver_chunk) {
      if (slot.filled > s.deliver_off) {
        const size_t k = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), slot.filled - s.deliver_off));
        const uint8_t* from = slot.buf.get() + s.deliver_off;
        // Bytes below `filled` are final and the slot stays ours until
        // released below, so the copy needs no lock.
        lock.unlock();
        std::memcpy(buf, from, k);
        lock.lock();
        s.deliver_off += static_cast<int64_t>(k);
        s.pos += static_cast<int64_t>(k);
        if (s.deliver_off == s.chunk_length(s.deliver_chunk)) {
          slot.chunk = -1;
          ++s.deliver_chunk;
          s.deliver_off = 0;
          lock.unlock();
          s.worker_cv.notify_all();
        }
        return k;
      }
      if (slot.whole.body) {
        RangeBody whole = std::move(slot.whole);
        lock.unlock();
        s.switch_to_serial(std::move(whole));
        return s.read_serial(buf, n);
      }
    }
    s.consumer_cv.wait(lock);
  }
}

}  // namespace ferry::docker
