#include "io/tar_stream.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <limits>

#include "util/error.h"
#include "util/go_quote.h"

namespace ferry::tar {

namespace {

constexpr size_t kBlock = 512;
// Go's archive/tar refuses PAX and GNU long-name records above 1 MiB; so
// does this, which bounds what a hostile stream can make us hold.
constexpr int64_t kMaxSpecial = 1 << 20;

// Byte ranges of the v7/ustar/GNU/star header fields.
struct Field {
  size_t off, len;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12}, kMtime{136, 12},
    kChksum{148, 8}, kLinkname{157, 100}, kMagic{257, 6}, kVersion{263, 2}, kDevmajor{329, 8}, kDevminor{337, 8},
    kUstarPrefix{345, 155}, kGnuAtime{345, 12}, kGnuCtime{357, 12}, kStarPrefix{345, 131}, kStarAtime{476, 12},
    kStarCtime{488, 12}, kStarTrailer{508, 4};

enum class Format { V7, Ustar, Gnu, Star };

std::string_view field(const uint8_t* b, Field f) { return {reinterpret_cast<const char*>(b) + f.off, f.len}; }

// Up to the first NUL, as Go's parseString.
std::string cstring(std::string_view s) {
  auto nul = s.find('\0');
  return std::string(nul == std::string_view::npos ? s : s.substr(0, nul));
}

bool all_zero(const uint8_t* b, size_t n) {
  return std::all_of(b, b + n, [](uint8_t c) { return c == 0; });
}

// Go's parseNumeric: base-256 (two's complement, high bit set) or octal
// padded with spaces and NULs. nullopt where Go sets ErrHeader.
std::optional<int64_t> parse_numeric(std::string_view s) {
  if (!s.empty() && (static_cast<uint8_t>(s[0]) & 0x80)) {
    const uint8_t inv = (static_cast<uint8_t>(s[0]) & 0x40) ? 0xff : 0x00;
    uint64_t x = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      uint8_t c = static_cast<uint8_t>(s[i]) ^ inv;
      if (i == 0) c &= 0x7f;
      if (x >> 56) return std::nullopt;
      x = x << 8 | c;
    }
    if (x >> 63) return std::nullopt;
    return inv ? ~static_cast<int64_t>(x) : static_cast<int64_t>(x);
  }
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
  std::string_view t = s.substr(b, e - b);
  if (auto nul = t.find('\0'); nul != std::string_view::npos) t = t.substr(0, nul);
  if (t.empty()) return b == e ? std::optional<int64_t>(0) : std::nullopt;
  uint64_t x = 0;
  for (char c : t) {
    if (c < '0' || c > '7') return std::nullopt;
    if (x >> 61) return std::nullopt;
    x = x * 8 + static_cast<uint64_t>(c - '0');
  }
  return static_cast<int64_t>(x);
}

// strconv.ParseInt(s, 10, 64).
std::optional<int64_t> parse_decimal(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t x = 0;
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (x > (limit - static_cast<uint64_t>(c - '0')) / 10) return std::nullopt;
    x = x * 10 + static_cast<uint64_t>(c - '0');
  }
  return neg ? static_cast<int64_t>(0 - x) : static_cast<int64_t>(x);
}

// Go's parsePAXTime: "sec[.frac]", the fraction truncated to nanoseconds.
std::optional<Time> parse_pax_time(std::string_view s) {
  auto dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto sec = parse_decimal(whole);
  if (!sec || (dot != std::string_view::npos && frac.empty() && whole.empty())) return std::nullopt;
  int64_t ns = 0;
  size_t digits = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    if (digits < 9) ns = ns * 10 + (c - '0'), ++digits;
  }
  for (; digits < 9; ++digits) ns *= 10;
  const bool negative = !whole.empty() && whole[0] == '-';
  if (negative && ns != 0) {
    // -1.5 is 1.5 s before the epoch: second -2, nanosecond 500000000.
    if (*sec == std::numeric_limits<int64_t>::min()) return std::nullopt;
    return Time{*sec - 1, static_cast<int32_t>(1000000000 - ns)};
  }
  return Time{*sec, static_cast<int32_t>(ns)};
}

Format format_of(const uint8_t* b) {
  const auto magic = field(b, kMagic);
  const auto version = field(b, kVersion);
  // Go checks the version only for GNU's magic.
  if (magic == std::string_view("ustar\0", 6)) {
    return field(b, kStarTrailer) == std::string_view("tar\0", 4) ? Format::Star : Format::Ustar;
  }
  if (magic == std::string_view("ustar ", 6) && version == std::string_view(" \0", 2)) return Format::Gnu;
  return Format::V7;
}

bool checksum_ok(const uint8_t* b) {
  auto want = parse_numeric(field(b, kChksum));
  if (!want) return false;
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const bool in_chksum = i >= kChksum.off && i < kChksum.off + kChksum.len;
    const uint8_t c = in_chksum ? ' ' : b[i];
    unsigned_sum += c;
    signed_sum += static_cast<int8_t>(c);
  }
  return *want == unsigned_sum || *want == signed_sum;
}

bool header_only(char t) { return t == '1' || t == '2' || t == '3' || t == '4' || t == '5' || t == '6'; }

}  // namespace

std::string StreamSplitter::where() const {
  std::string w = "tar stream at byte " + std::to_string(offset_);
  if (!last_name_.empty()) w += " (after entry " + go_quote(last_name_) + ")";
  return w;
}

void StreamSplitter::feed(const uint8_t* data, size_t n) {
  while (n > 0) {
    size_t used = 0;
    // A header block or a special record completed by these bytes is
    // parsed once offset_ has moved past them, so messages name the byte
    // after it.
    bool block_complete = false, special_complete = false;
    auto bounded = [&] { return static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), remaining_)); };
    switch (state_) {
      case State::Header:
      case State::ZeroBlock:
        used = std::min(n, kBlock - block_fill_);
        std::memcpy(block_ + block_fill_, data, used);
        block_fill_ += used;
        sink_.metadata(data, used);
        if (block_fill_ == kBlock) {
          block_fill_ = 0;
          block_complete = true;
        }
        break;
      case State::Special:
        used = bounded();
        special_.append(reinterpret_cast<const char*>(data), used);
        sink_.metadata(data, used);
        remaining_ -= static_cast<int64_t>(used);
        special_complete = remaining_ == 0;
        break;
      case State::Content:
        used = bounded();
        sink_.content(data, used);
        remaining_ -= static_cast<int64_t>(used);
        if (remaining_ == 0) {
          sink_.entry_end();
          remaining_ = pad_after_;
          state_ = remaining_ > 0 ? State::Padding : State::Header;
        }
        break;
      case State::Padding:
        used = bounded();
        sink_.metadata(data, used);
        remaining_ -= static_cast<int64_t>(used);
        if (remaining_ == 0) state_ = State::Header;
        break;
      case State::Trailer:
        used = n;
        sink_.metadata(data, used);
        break;
    }
    offset_ += used;
    data += used;
    n -= used;
    if (block_complete) header_block();
    if (special_complete) special_done();
  }
}

void StreamSplitter::finish() {
  const bool clean = (state_ == State::Header || state_ == State::ZeroBlock) && block_fill_ == 0;
  if (clean || state_ == State::Trailer) return;
  throw Error("truncated tar stream: it ends inside " +
              (last_name_.empty() ? std::string("the first header") : "entry " + go_quote(last_name_)) + " at byte " +
              std::to_string(offset_));
}

void StreamSplitter::start_padding(int64_t size) {
  pad_after_ = (static_cast<int64_t>(kBlock) - size % static_cast<int64_t>(kBlock)) % static_cast<int64_t>(kBlock);
}

void StreamSplitter::header_block() {
  const uint8_t* b = block_;
  if (all_zero(b, kBlock)) {
    // Two zero blocks end the archive; whatever follows (tar's blocking
    // padding) is kept as it is, so the stream decompresses to the same bytes.
    if (state_ == State::ZeroBlock) {
      state_ = State::Trailer;
    } else {
      state_ = State::ZeroBlock;
    }
    return;
  }
  if (state_ == State::ZeroBlock) throw Error("invalid tar header: a zero block followed by data in " + where());
  if (!checksum_ok(b)) throw Error("invalid tar header (checksum mismatch) in " + where());
  const Format format = format_of(b);

  Header h;
  h.typeflag = static_cast<char>(b[156]);
  auto num = [&](Field f, const char* what) {
    auto v = parse_numeric(field(b, f));
    if (!v) throw Error(std::string("invalid tar header: bad ") + what + " field in " + where());
    return *v;
  };
  h.size = num(kSize, "size");
  if (h.size < 0) throw Error("invalid tar header: negative size in " + where());

  if (h.typeflag == 'x' || h.typeflag == 'g' || h.typeflag == 'L' || h.typeflag == 'K') {
    if (h.size > kMaxSpecial)
      throw Error("tar " + std::string(h.typeflag == 'L' || h.typeflag == 'K' ? "GNU long name" : "PAX") +
                  " record of " + std::to_string(h.size) + " bytes (more than 1 MiB) in " + where());
    special_type_ = h.typeflag;
    special_.clear();
    start_padding(h.size);
    remaining_ = h.size;
    if (remaining_ == 0) {
      special_done();
    } else {
      state_ = State::Special;
    }
    return;
  }

  h.name = cstring(field(b, kName));
  h.linkname = cstring(field(b, kLinkname));
  h.mode = num(kMode, "mode");
  h.uid = num(kUid, "uid");
  h.gid = num(kGid, "gid");
  h.mtime = Time{num(kMtime, "mtime"), 0};
  if (format != Format::V7) {
    h.devmajor = num(kDevmajor, "devmajor");
    h.devminor = num(kDevminor, "devminor");
  }
  if (format == Format::Ustar) {
    std::string prefix = cstring(field(b, kUstarPrefix));
    if (!prefix.empty()) h.name = prefix + "/" + h.name;
  } else if (format == Format::Star) {
    std::string prefix = cstring(field(b, kStarPrefix));
    if (!prefix.empty()) h.name = prefix + "/" + h.name;
    // Go sets both from a star header whatever they hold.
    h.atime = Time{num(kStarAtime, "atime"), 0};
    h.ctime = Time{num(kStarCtime, "ctime"), 0};
  } else if (format == Format::Gnu) {
    // Unparsable GNU times (old Go writers put other data there) are
    // dropped, as Go's reader drops them, rather than refused.
    auto a = b[kGnuAtime.off] != 0 ? parse_numeric(field(b, kGnuAtime)) : std::optional<int64_t>(0);
    auto c = b[kGnuCtime.off] != 0 ? parse_numeric(field(b, kGnuCtime)) : std::optional<int64_t>(0);
    if (a && c) {
      if (b[kGnuAtime.off] != 0) h.atime = Time{*a, 0};
      if (b[kGnuCtime.off] != 0) h.ctime = Time{*c, 0};
    }
  }

  // PAX records override the header, as Go's mergePAX.
  for (const auto& record : pax_) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const std::string& key = record.first;
    const std::string& value = record.second;
    if (value.empty()) continue;  // Go keeps the header's value
    auto bad = [&] { return Error("invalid PAX record " + key + "=" + go_quote(value) + " in " + where()); };
    if (key == "path") {
      h.name = value;
    } else if (key == "linkpath") {
      h.linkname = value;
    } else if (key == "uid" || key == "gid" || key == "size") {
      auto v = parse_decimal(value);
      if (!v) throw bad();
      (key == "uid" ? h.uid : key == "gid" ? h.gid : h.size) = *v;
      if (key == "size" && *v < 0) throw bad();
    } else if (key == "mtime" || key == "atime" || key == "ctime") {
      auto t = parse_pax_time(value);
      if (!t) throw bad();
      if (key == "mtime") h.mtime = *t;
      if (key == "atime") h.atime = *t;
      if (key == "ctime") h.ctime = *t;
    } else if (key.rfind("SCHILY.xattr.", 0) == 0) {
      h.xattrs[key.substr(13)] = value;
    } else if (key.rfind("GNU.sparse.", 0) == 0) {
      throw Error("sparse file " + go_quote(h.name) + " in " + where() + " is not supported");
    }
  }
  pax_.clear();
  // An empty long name leaves the header's, as in Go.
  if (long_name_ && !long_name_->empty()) h.name = *long_name_;
  if (long_link_ && !long_link_->empty()) h.linkname = *long_link_;
  long_name_.reset();
  long_link_.reset();
  if (h.typeflag == '\0') h.typeflag = !h.name.empty() && h.name.back() == '/' ? '5' : '0';
  if (h.typeflag == 'S') throw Error("sparse file " + go_quote(h.name) + " in " + where() + " is not supported");

  last_name_ = h.name;
  ++entries_;
  sink_.entry(h);
  const int64_t content = header_only(h.typeflag) ? 0 : h.size;
  start_padding(content);
  if (content == 0) {
    sink_.entry_end();
    state_ = State::Header;
    return;
  }
  remaining_ = content;
  state_ = State::Content;
}

void StreamSplitter::special_done() {
  if (special_type_ == 'L' || special_type_ == 'K') {
    (special_type_ == 'L' ? long_name_ : long_link_) = cstring(special_);
  } else {
    // "%d %s=%s\n" records; the length counts the whole record.
    std::map<std::string, std::string> records;
    std::string_view s = special_;
    while (!s.empty()) {
      auto sp = s.find(' ');
      auto len = sp == std::string_view::npos ? std::nullopt : parse_decimal(s.substr(0, sp));
      if (!len || *len <= static_cast<int64_t>(sp) + 1 || *len > static_cast<int64_t>(s.size()) ||
          s[static_cast<size_t>(*len) - 1] != '\n')
        throw Error("invalid PAX record in " + where());
      std::string_view rec = s.substr(sp + 1, static_cast<size_t>(*len) - sp - 2);
      auto eq = rec.find('=');
      if (eq == std::string_view::npos || eq == 0) throw Error("invalid PAX record in " + where());
      records[std::string(rec.substr(0, eq))] = std::string(rec.substr(eq + 1));
      s.remove_prefix(static_cast<size_t>(*len));
    }
    // A global header ('g') describes the archive, not the next entry; Go
    // hands it back as an entry of its own, nothing applies it.
    if (special_type_ == 'x') pax_ = std::move(records);
  }
  special_.clear();
  remaining_ = pad_after_;
  state_ = remaining_ > 0 ? State::Padding : State::Header;
}

std::string go_time_json(const Time& t) {
  // Go's encoder refuses years outside 0..9999 as the time reads in its own
  // (here the local) zone.
  const time_t secs = static_cast<time_t>(t.sec);
  struct tm tm {};
  const bool ok = localtime_r(&secs, &tm) != nullptr;
  const int64_t year = int64_t{tm.tm_year} + 1900;
  if (!ok || year < 0 || year > 9999) throw Error("time " + std::to_string(t.sec) + " is outside years 0 to 9999");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (t.nsec > 0) {
    std::snprintf(buf, sizeof buf, ".%09d", t.nsec);
    std::string frac = buf;
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  long off = tm.tm_gmtoff;
  if (off == 0) return out + "Z";
  const char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
  return out + buf;
}

}  // namespace ferry::tar
