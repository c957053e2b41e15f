// Fetching one large blob over several connections at once.
//
// A single TCP stream rarely fills a long fat pipe, and one layer much
// larger than the others then decides how long a copy takes. When the
// registry honours Range requests, the blob is cut into chunks that up to
// `connections` workers fetch in parallel into a ring of chunk buffers; the
// reader hands the bytes out strictly in order, so the DigestVerifyingReader
// above it hashes sequentially as it would a single stream. Memory is
// bounded by connections x chunk size whatever the blob's size.
//
// A chunk whose transfer fails is fetched again from where it stopped
// (c/image's resume rules: after real progress, plus one retry of a chunk
// that made none, since several connections meet more passing faults than
// one); otherwise the read fails with that chunk's error. A server answering
// a range request with the whole blob (200) is read as a single stream from
// there on. Bytes are never handed out unless they are the requested range.
//
// Tuning, for benchmarks (bytes; invalid values are ignored with a warning):
//   FERRY_RANGE_THRESHOLD    blobs at least this large are fetched in
//                            ranges (default 256 MiB: below that, measured
//                            on loopback and a 500 Mbit/s 20 ms link, the
//                            other layers' connections already fill the link
//                            and ranges only cost memory)
//   FERRY_RANGE_CONNECTIONS  concurrent range requests per blob (default 4,
//                            at most 16; 1 turns parallel ranges off)
//   FERRY_RANGE_CHUNK_SIZE   bytes per range request (default: a quarter of
//                            the blob per connection, between 1 and 2 MiB)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/reader.h"

namespace ferry::docker {

struct RangeSettings {
  int64_t threshold = int64_t{256} << 20;
  int connections = 4;
  int64_t chunk_size = 0;  // 0: chosen per blob by range_chunk_size
};

inline constexpr int kMaxRangeConnections = 16;
inline constexpr int64_t kMinRangeChunk = int64_t{64} << 10;
inline constexpr int64_t kMaxRangeChunk = int64_t{256} << 20;

// The settings from the three variables (nullptr: unset). Each invalid
// value is described in *problems and its default kept.
RangeSettings parse_range_settings(const char* threshold, const char* connections, const char* chunk_size,
                                   std::vector<std::string>* problems);
// The same from the process environment.
RangeSettings range_settings_from_env(std::vector<std::string>* problems);

// The chunk size for a blob of blob_size bytes.
int64_t range_chunk_size(const RangeSettings& s, int64_t blob_size);

// Whether a blob of blob_size bytes is worth fetching in ranges: large
// enough, more than one connection, at least two chunks.
bool use_parallel_ranges(const RangeSettings& s, int64_t blob_size);

// A Content-Range value ("bytes FIRST-LAST/TOTAL", TOTAL possibly "*").
struct ContentRange {
  int64_t first = -1, last = -1;
  int64_t total = -1;  // -1 for "*"
};
// nullopt-like: false when the value is malformed or inconsistent.
bool parse_content_range(std::string_view value, ContentRange* out);

// One answer to a range request.
struct RangeBody {
  std::unique_ptr<Reader> body;
  // The server ignored the range (200) and body is the whole blob.
  bool whole_blob = false;
};

// Opens bytes [offset, offset + length) of the blob. Called from several
// worker threads at once. Throws on failure; the workers retry a
// net::NetworkError that is retryable and a net::RegistryError with status
// 502-504, and give up on anything else.
using RangeFetcher = std::function<RangeBody(int64_t offset, int64_t length)>;

class ParallelRangeReader : public Reader {
 public:
  // first: the already open answer to a request for chunk 0 (the request
  // that showed the server honours ranges), or an empty RangeBody.
  ParallelRangeReader(int64_t size, int64_t chunk_size, int connections, RangeFetcher fetch,
                      RangeBody first = RangeBody());
  ~ParallelRangeReader() override;
  ParallelRangeReader(const ParallelRangeReader&) = delete;
  ParallelRangeReader& operator=(const ParallelRangeReader&) = delete;

  size_t read(uint8_t* buf, size_t n) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ferry::docker
