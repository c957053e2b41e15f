#include "transports/docker/parallel_range_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "net/net_error.h"
#include "net/registry_errors.h"
#include "util/error.h"

namespace ferry::docker {
namespace {

std::string blob_bytes(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

// Serves bytes of a string; optionally fails or ends after `limit` bytes,
// or waits for a gate before its first byte.
class FakeBody : public Reader {
 public:
  FakeBody(std::string data, std::function<void()> on_first_read = nullptr, std::function<void()> on_end = nullptr)
      : data_(std::move(data)), on_first_read_(std::move(on_first_read)), on_end_(std::move(on_end)) {}
  // After `limit` bytes: throw `error` if set, else end early.
  size_t limit = std::string::npos;
  std::exception_ptr error;

  size_t read(uint8_t* buf, size_t n) override {
    if (on_first_read_) {
      auto f = std::move(on_first_read_);
      on_first_read_ = nullptr;
      f();
    }
    const size_t end = std::min(limit, data_.size());
    if (pos_ >= end) {
      if (pos_ < data_.size() && error) std::rethrow_exception(error);
      if (on_end_) {
        auto f = std::move(on_end_);
        on_end_ = nullptr;
        f();
      }
      return 0;
    }
    const size_t k = std::min(n, end - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  std::function<void()> on_first_read_, on_end_;
};

struct Call {
  int64_t offset, length;
  bool operator==(const Call&) const = default;
};

// A fake registry for one blob. `plan` may rewrite the answer to the nth
// request for an offset (0-based), given the honest answer's body.
struct FakeServer {
  std::string blob;
  std::mutex mu;
  std::vector<Call> calls;
  std::map<int64_t, int> seen;  // offset -> requests so far
  std::function<RangeBody(int64_t offset, int64_t length, int nth)> plan;

  RangeBody honest(int64_t offset, int64_t length) {
    return RangeBody{std::make_unique<FakeBody>(blob.substr(static_cast<size_t>(offset), static_cast<size_t>(length))),
                     false};
  }

  RangeFetcher fetcher() {
    return [this](int64_t offset, int64_t length) {
      int nth = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        calls.push_back({offset, length});
        nth = seen[offset]++;
      }
      if (plan) return plan(offset, length, nth);
      return honest(offset, length);
    };
  }

  std::vector<Call> sorted_calls() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<Call> c = calls;
    std::sort(c.begin(), c.end(), [](const Call& a, const Call& b) {
      return a.offset != b.offset ? a.offset < b.offset : a.length < b.length;
    });
    return c;
  }
};

// Reads everything in odd-sized pieces.
std::string drain(Reader& r, size_t piece = 777) {
  std::string out;
  std::vector<uint8_t> buf(piece);
  for (;;) {
    const size_t n = r.read(buf.data(), buf.size());
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

// Reads until an exception; returns what arrived and the message.
std::string drain_until_error(Reader& r, std::string* message) {
  std::string out;
  std::vector<uint8_t> buf(1000);
  try {
    for (;;) {
      const size_t n = r.read(buf.data(), buf.size());
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    *message = "";
  } catch (const std::exception& e) {
    *message = e.what();
  }
  return out;
}

TEST(ParallelRangeReaderTest, ReadsAllBytesInOrder) {
  FakeServer server;
  server.blob = blob_bytes(10 * 1000 + 123);
  ParallelRangeReader r(static_cast<int64_t>(server.blob.size()), 1000, 4, server.fetcher());
  EXPECT_EQ(drain(r), server.blob);
  std::vector<Call> expected;
  for (int64_t i = 0; i < 10; ++i) expected.push_back({i * 1000, 1000});
  expected.push_back({10000, 123});
  EXPECT_EQ(server.sorted_calls(), expected);
  uint8_t b = 0;
  EXPECT_EQ(r.read(&b, 1), 0u);
}

TEST(ParallelRangeReaderTest, UsesTheFirstAnswerForChunkZero) {
  FakeServer server;
  server.blob = blob_bytes(3000);
  RangeBody first = server.honest(0, 1000);
  ParallelRangeReader r(3000, 1000, 2, server.fetcher(), std::move(first));
  EXPECT_EQ(drain(r, 4096), server.blob);
  EXPECT_EQ(server.sorted_calls(), (std::vector<Call>{{1000, 1000}, {2000, 1000}}));
}

// Chunks 1-3 finish before chunk 0 sends a byte; the bytes still come out
// in blob order, and no more than 4 chunks are ever requested ahead.
TEST(ParallelRangeReaderTest, OutOfOrderCompletion) {
  FakeServer server;
  server.blob = blob_bytes(8 * 1000);
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::atomic<int64_t> consumed{0};
  std::atomic<bool> window_exceeded{false};
  server.plan = [&](int64_t offset, int64_t length, int) {
    // The reader releases a chunk's slot just before returning its last
    // bytes, so a request may be one chunk ahead of what the test counted.
    if (offset / 1000 > consumed / 1000 + 4) window_exceeded = true;
    std::string part = server.blob.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
    if (offset == 0) {
      auto wait = [&] {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return finished == 3; });
      };
      return RangeBody{std::make_unique<FakeBody>(part, wait), false};
    }
    auto done = [&, offset] {
      if (offset > 3000) return;
      std::lock_guard<std::mutex> lock(mu);
      ++finished;
      cv.notify_all();
    };
    return RangeBody{std::make_unique<FakeBody>(part, nullptr, done), false};
  };
  ParallelRangeReader r(8000, 1000, 4, server.fetcher());
  std::string out;
  std::vector<uint8_t> buf(300);
  for (;;) {
    const size_t n = r.read(buf.data(), buf.size());
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), n);
    consumed += static_cast<int64_t>(n);
  }
  EXPECT_EQ(out, server.blob);
  EXPECT_EQ(finished, 3);
  EXPECT_FALSE(window_exceeded);
  EXPECT_EQ(server.sorted_calls().size(), 8u);
}

// A chunk broken after 10 bytes is asked again for the rest only.
TEST(ParallelRangeReaderTest, FailingChunkIsResumed) {
  FakeServer server;
  server.blob = blob_bytes(5000);
  server.plan = [&](int64_t offset, int64_t length, int nth) {
    RangeBody b = server.honest(offset, length);
    if (offset == 2000 && nth == 0) {
      auto* body = static_cast<FakeBody*>(b.body.get());
      body->limit = 10;
      body->error = std::make_exception_ptr(net::NetworkError("read tcp 127.0.0.1:1: connection reset by peer", true));
    }
    return b;
  };
  ParallelRangeReader r(5000, 1000, 3, server.fetcher());
  EXPECT_EQ(drain(r), server.blob);
  EXPECT_EQ(server.sorted_calls(),
            (std::vector<Call>{{0, 1000}, {1000, 1000}, {2000, 1000}, {2010, 990}, {3000, 1000}, {4000, 1000}}));
}

// A chunk that keeps failing without progress fails the read with its own
// error, after one retry; what was handed out before is the blob's prefix.
TEST(ParallelRangeReaderTest, ChunkFailingTwiceWithoutProgressFailsTheRead) {
  FakeServer server;
  server.blob = blob_bytes(6000);
  server.plan = [&](int64_t offset, int64_t length, int) -> RangeBody {
    if (offset == 3000) throw net::NetworkError("Get \"http://r/v2/x/blobs/sha256:1\": EOF", true);
    return server.honest(offset, length);
  };
  std::string message;
  std::string got;
  {
    ParallelRangeReader r(6000, 1000, 2, server.fetcher());
    got = drain_until_error(r, &message);
  }
  EXPECT_EQ(message, "Get \"http://r/v2/x/blobs/sha256:1\": EOF");
  EXPECT_LE(got.size(), 3000u);
  EXPECT_EQ(got, server.blob.substr(0, got.size()));
  int attempts = 0;
  for (const Call& c : server.sorted_calls()) attempts += c.offset == 3000;
  EXPECT_EQ(attempts, 2);
}

TEST(ParallelRangeReaderTest, PermanentErrorIsNotRetried) {
  FakeServer server;
  server.blob = blob_bytes(4000);
  server.plan = [&](int64_t offset, int64_t length, int) -> RangeBody {
    if (offset == 1000) {
      net::RegistryHttpFailure f = net::classify_registry_failure(403, R"({"errors":[{"code":"DENIED"}]})");
      throw net::RegistryError("fetching blob sha256:1 (bytes=1000-1999): denied", f);
    }
    return server.honest(offset, length);
  };
  std::string message;
  ParallelRangeReader r(4000, 1000, 2, server.fetcher());
  std::string got = drain_until_error(r, &message);
  EXPECT_EQ(message, "fetching blob sha256:1 (bytes=1000-1999): denied");
  EXPECT_EQ(got, server.blob.substr(0, got.size()));
  EXPECT_LE(got.size(), 1000u);
  int attempts = 0;
  for (const Call& c : server.sorted_calls()) attempts += c.offset == 1000;
  EXPECT_EQ(attempts, 1);
  // The stream stays failed.
  uint8_t b = 0;
  EXPECT_THROW(r.read(&b, 1), net::RegistryError);
}

TEST(ParallelRangeReaderTest, GatewayErrorIsRetriedOnce) {
  FakeServer server;
  server.blob = blob_bytes(3000);
  server.plan = [&](int64_t offset, int64_t length, int nth) -> RangeBody {
    if (offset == 1000 && nth == 0) {
      net::RegistryHttpFailure f = net::classify_registry_failure(503, "");
      throw net::RegistryError("fetching blob: 503", f);
    }
    return server.honest(offset, length);
  };
  ParallelRangeReader r(3000, 1000, 2, server.fetcher());
  EXPECT_EQ(drain(r), server.blob);
}

// A body ending early is resumed from where it ended; one that makes no
// progress twice fails as an unexpected EOF.
TEST(ParallelRangeReaderTest, ShortChunk) {
  FakeServer server;
  server.blob = blob_bytes(4000);
  server.plan = [&](int64_t offset, int64_t length, int nth) {
    RangeBody b = server.honest(offset, length);
    if (offset == 1000 && nth == 0) static_cast<FakeBody*>(b.body.get())->limit = 400;
    return b;
  };
  {
    ParallelRangeReader r(4000, 1000, 4, server.fetcher());
    EXPECT_EQ(drain(r), server.blob);
  }
  EXPECT_EQ(server.sorted_calls(),
            (std::vector<Call>{{0, 1000}, {1000, 1000}, {1400, 600}, {2000, 1000}, {3000, 1000}}));

  FakeServer empty;
  empty.blob = blob_bytes(4000);
  empty.plan = [&](int64_t offset, int64_t length, int) {
    RangeBody b = empty.honest(offset, length);
    if (offset >= 2000) static_cast<FakeBody*>(b.body.get())->limit = 0;
    return b;
  };
  std::string message;
  ParallelRangeReader r(4000, 1000, 4, empty.fetcher());
  std::string got = drain_until_error(r, &message);
  EXPECT_EQ(message, "unexpected EOF");
  EXPECT_EQ(got, empty.blob.substr(0, got.size()));
  EXPECT_LE(got.size(), 2000u);
}

TEST(ParallelRangeReaderTest, TooLongChunkFails) {
  FakeServer server;
  server.blob = blob_bytes(3000);
  server.plan = [&](int64_t offset, int64_t length, int) {
    if (offset == 2000)
      return RangeBody{std::make_unique<FakeBody>(server.blob.substr(2000) + "extra"), false};
    return server.honest(offset, length);
  };
  std::string message;
  ParallelRangeReader r(3000, 1000, 3, server.fetcher());
  std::string got = drain_until_error(r, &message);
  EXPECT_EQ(message, "the server sent more than the 1000 bytes of range 2000-2999");
  EXPECT_EQ(got, server.blob.substr(0, got.size()));
  EXPECT_LE(got.size(), 2000u);
}

// A server answering one range request with the whole blob (200): the
// reader continues on that stream, skipping what it already handed out.
TEST(ParallelRangeReaderTest, ServerReturning200FallsBackToOneStream) {
  for (int64_t whole_at : {int64_t{0}, int64_t{1000}, int64_t{3000}}) {
    FakeServer server;
    server.blob = blob_bytes(6500);
    server.plan = [&](int64_t offset, int64_t length, int) {
      if (offset == whole_at) return RangeBody{std::make_unique<FakeBody>(server.blob), true};
      return server.honest(offset, length);
    };
    ParallelRangeReader r(6500, 1000, 3, server.fetcher());
    EXPECT_EQ(drain(r), server.blob) << "whole blob answered at " << whole_at;
    for (const Call& c : server.sorted_calls()) EXPECT_LT(c.offset, whole_at + 3000);
  }
}

// The 200 comes when a broken chunk is asked for again mid-way.
TEST(ParallelRangeReaderTest, ServerReturning200OnResume) {
  FakeServer server;
  server.blob = blob_bytes(4000);
  server.plan = [&](int64_t offset, int64_t length, int nth) {
    if (offset == 1000 && nth == 0) {
      RangeBody b = server.honest(offset, length);
      auto* body = static_cast<FakeBody*>(b.body.get());
      body->limit = 300;
      body->error = std::make_exception_ptr(net::NetworkError("unexpected EOF", true));
      return b;
    }
    if (offset == 1300) return RangeBody{std::make_unique<FakeBody>(server.blob), true};
    return server.honest(offset, length);
  };
  ParallelRangeReader r(4000, 1000, 2, server.fetcher());
  EXPECT_EQ(drain(r, 100), server.blob);
}

// A whole-blob answer shorter than the blob fails rather than ending early.
TEST(ParallelRangeReaderTest, TruncatedWholeBlobAnswerFails) {
  FakeServer server;
  server.blob = blob_bytes(3000);
  server.plan = [&](int64_t offset, int64_t length, int) {
    if (offset == 1000) return RangeBody{std::make_unique<FakeBody>(server.blob.substr(0, 2500)), true};
    return server.honest(offset, length);
  };
  std::string message;
  ParallelRangeReader r(3000, 1000, 2, server.fetcher());
  std::string got = drain_until_error(r, &message);
  EXPECT_EQ(message, "unexpected EOF");
  EXPECT_EQ(got, server.blob.substr(0, 2500));
}

// Large chunks: failures after 1 MiB of progress are resumed as often as
// they happen (c/image's rule), each from where the last one stopped.
TEST(ParallelRangeReaderTest, ResumesAfterProgress) {
  const int64_t chunk = 4 << 20;
  FakeServer server;
  server.blob = blob_bytes(static_cast<size_t>(2 * chunk));
  server.plan = [&](int64_t offset, int64_t length, int) {
    RangeBody b = server.honest(offset, length);
    if (length > (3 << 19)) {
      auto* body = static_cast<FakeBody*>(b.body.get());
      body->limit = 3 << 19;  // 1.5 MiB, then the connection drops
      body->error = std::make_exception_ptr(net::NetworkError("connection reset by peer", true));
    }
    return b;
  };
  ParallelRangeReader r(2 * chunk, chunk, 2, server.fetcher());
  EXPECT_EQ(drain(r, 1 << 20), server.blob);
  const int64_t step = 3 << 19;
  std::vector<Call> expected;
  for (int64_t base : {int64_t{0}, chunk}) {
    for (int64_t got = 0; got < chunk; got += step) expected.push_back({base + got, chunk - got});
  }
  EXPECT_EQ(server.sorted_calls(), expected);
}

TEST(ParallelRangeReaderTest, DestroyingMidwayStopsTheWorkers) {
  FakeServer server;
  server.blob = blob_bytes(64 * 1000);
  auto r = std::make_unique<ParallelRangeReader>(64000, 1000, 4, server.fetcher());
  uint8_t buf[10];
  ASSERT_EQ(r->read(buf, sizeof buf), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 10), server.blob.substr(0, 10));
  r.reset();
  EXPECT_LE(server.sorted_calls().size(), 4u);
}

TEST(ParallelRangeReaderTest, OneChunk) {
  FakeServer server;
  server.blob = blob_bytes(500);
  ParallelRangeReader r(500, 1000, 4, server.fetcher());
  EXPECT_EQ(drain(r), server.blob);
  EXPECT_EQ(server.sorted_calls(), (std::vector<Call>{{0, 500}}));
}

TEST(ParallelRangeReaderTest, RejectsNonsense) {
  FakeServer server;
  EXPECT_THROW(ParallelRangeReader(0, 1000, 4, server.fetcher()), Error);
  EXPECT_THROW(ParallelRangeReader(100, 0, 4, server.fetcher()), Error);
  EXPECT_THROW(ParallelRangeReader(100, 10, 0, server.fetcher()), Error);
  EXPECT_THROW(ParallelRangeReader(100, 10, 17, server.fetcher()), Error);
}

TEST(RangeSettingsTest, Defaults) {
  std::vector<std::string> problems;
  RangeSettings s = parse_range_settings(nullptr, nullptr, nullptr, &problems);
  EXPECT_EQ(s.threshold, 256 << 20);
  EXPECT_EQ(s.connections, 4);
  EXPECT_EQ(s.chunk_size, 0);
  EXPECT_TRUE(problems.empty());
  s = parse_range_settings("", "", "", &problems);
  EXPECT_EQ(s.threshold, 256 << 20);
  EXPECT_TRUE(problems.empty());
}

TEST(RangeSettingsTest, ParsesAndRejects) {
  std::vector<std::string> problems;
  RangeSettings s = parse_range_settings("1048576", "8", "2097152", &problems);
  EXPECT_EQ(s.threshold, 1048576);
  EXPECT_EQ(s.connections, 8);
  EXPECT_EQ(s.chunk_size, 2097152);
  EXPECT_TRUE(problems.empty());

  s = parse_range_settings("1M", "0", "100", &problems);
  EXPECT_EQ(s.threshold, 256 << 20);
  EXPECT_EQ(s.connections, 4);
  EXPECT_EQ(s.chunk_size, 0);
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "ignoring FERRY_RANGE_THRESHOLD=\"1M\": not a number of bytes",
                          "ignoring FERRY_RANGE_CONNECTIONS=\"0\": not a number between 1 and 16",
                          "ignoring FERRY_RANGE_CHUNK_SIZE=\"100\": not a number of bytes between 65536 and 268435456",
                      }));
  problems.clear();
  s = parse_range_settings("-1", "17", "99999999999999999999", &problems);
  EXPECT_EQ(problems.size(), 3u);
}

TEST(RangeSettingsTest, ChunkSizeAndDecision) {
  RangeSettings s;  // 256 MiB threshold, 4 connections, chunks of 1-2 MiB
  EXPECT_EQ(range_chunk_size(s, 64 << 20), 2 << 20);
  EXPECT_EQ(range_chunk_size(s, int64_t{1} << 30), 2 << 20);
  EXPECT_EQ(range_chunk_size(s, 3 << 20), 1 << 20);
  EXPECT_EQ(range_chunk_size(s, (24 << 20) + 1), 25 * (64 << 10));
  EXPECT_FALSE(use_parallel_ranges(s, (256 << 20) - 1));
  EXPECT_TRUE(use_parallel_ranges(s, 256 << 20));
  EXPECT_FALSE(use_parallel_ranges(s, -1));
  s.threshold = 1 << 20;
  EXPECT_FALSE(use_parallel_ranges(s, 1 << 20));  // one chunk only
  EXPECT_TRUE(use_parallel_ranges(s, (1 << 20) + 1));
  s.connections = 1;
  EXPECT_FALSE(use_parallel_ranges(s, 100 << 20));
  s.connections = 2;
  s.chunk_size = 256 << 10;
  EXPECT_EQ(range_chunk_size(s, 100 << 20), 256 << 10);
}

TEST(ContentRangeTest, Parse) {
  ContentRange cr;
  ASSERT_TRUE(parse_content_range("bytes 0-999/5000", &cr));
  EXPECT_EQ(cr.first, 0);
  EXPECT_EQ(cr.last, 999);
  EXPECT_EQ(cr.total, 5000);
  ASSERT_TRUE(parse_content_range("bytes 100-199/*", &cr));
  EXPECT_EQ(cr.total, -1);
  for (const char* bad : {"", "bytes", "bytes 0-999", "bytes 0-999/999", "bytes 10-9/100", "bytes -1-5/10",
                          "bytes 1--5/10", "items 0-1/2", "bytes 0-1/x", "bytes  0-1/2", "bytes 0-1/2 ",
                          "bytes +0-1/2", "bytes 0-99999999999999999999/*"})
    EXPECT_FALSE(parse_content_range(bad, &cr)) << bad;
}

}  // namespace
}  // namespace ferry::docker
