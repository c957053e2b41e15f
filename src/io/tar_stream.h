// Splits an uncompressed tar stream, as it flows past, into the bytes that
// describe entries (headers, PAX and GNU long-name records, padding, the
// end-of-archive blocks) and the bytes of each entry's contents, and parses
// each header the way Go's archive/tar does.
//
// Written by hand because zstd:chunked needs what no tar library offers:
// every raw byte accounted for, in order (the output must decompress to the
// very same tar, or the layer's DiffID changes), and the header fields
// exactly as containers/storage sees them through Go's reader (names not
// cleaned, PAX overrides applied, '\0' typeflags normalised). libarchive
// hides the raw headers and normalises names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ferry::tar {

// A point in time as Go's time.Unix(sec, nsec).
struct Time {
  int64_t sec = 0;
  int32_t nsec = 0;
};

// The fields of one entry as Go's tar.Reader.Next returns them.
struct Header {
  char typeflag = '0';  // '\0' already mapped to '0' or '5', as Go does
  std::string name;      // raw: "./bin/sh", "etc/" (never cleaned)
  std::string linkname;
  int64_t mode = 0;  // the header's mode field as written (may carry type bits)
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;  // the size field; content bytes follow only for non header-only types
  Time mtime;
  std::optional<Time> atime;  // from PAX or GNU/star headers, when present
  std::optional<Time> ctime;
  int64_t devmajor = 0;
  int64_t devminor = 0;
  std::map<std::string, std::string> xattrs;  // SCHILY.xattr.<name> PAX records, raw values
};

// Receives the stream in order. Every byte fed reaches exactly one of
// metadata() or content().
class Sink {
 public:
  virtual ~Sink() = default;
  // Header blocks, PAX/GNU records, padding, end-of-archive and anything after it.
  virtual void metadata(const uint8_t* data, size_t n) = 0;
  // An entry's header is complete (its blocks already went to metadata());
  // its contents follow through content(), then entry_end().
  virtual void entry(const Header& h) = 0;
  virtual void content(const uint8_t* data, size_t n) = 0;
  virtual void entry_end() = 0;
};

class StreamSplitter {
 public:
  explicit StreamSplitter(Sink& sink) : sink_(sink) {}

  // Throws ferry::Error naming the problem and the entry for a stream Go's
  // reader would reject (bad checksum, malformed numbers or PAX records,
  // special records over 1 MiB) and for what ferry does not handle (sparse
  // files).
  void feed(const uint8_t* data, size_t n);
  // The stream has ended: throws if it stopped inside an entry. A stream
  // that ends at a block boundary without end-of-archive blocks is accepted,
  // as Go accepts it.
  void finish();

  // Entries reported so far (for tests and messages).
  uint64_t entries() const { return entries_; }

 private:
  enum class State { Header, Special, Content, Padding, ZeroBlock, Trailer };

  void header_block();
  void special_done();
  void start_padding(int64_t size);
  std::string where() const;

  Sink& sink_;
  State state_ = State::Header;
  uint8_t block_[512];
  size_t block_fill_ = 0;
  int64_t remaining_ = 0;  // of Special, Content or Padding
  int64_t pad_after_ = 0;  // padding that follows the current Special/Content
  char special_type_ = 0;
  std::string special_;  // payload of a PAX or GNU long-name record
  std::map<std::string, std::string> pax_;  // records for the next entry
  std::optional<std::string> long_name_, long_link_;
  std::string last_name_;  // of the entry being read or last read
  uint64_t entries_ = 0;
  uint64_t offset_ = 0;  // of the next byte, for messages
};

// A Go-style (RFC 3339, nanoseconds trimmed) rendering of t in the local
// time zone, as encoding/json writes a time.Time: "1970-01-01T00:00:00Z".
// Throws ferry::Error outside years 0..9999, where Go's encoder fails too.
std::string go_time_json(const Time& t);

}  // namespace ferry::tar
