// For tests only: tar streams built block by block, so each test controls
// every header byte (formats, checksums, padding) and can break exactly
// the one it is about.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ferry::tar_test {

// One 512-byte header block. Fields are placed at their ustar offsets;
// sealed() writes the checksum the way GNU tar does ("%06o\0 ").
struct Block {
  std::string b = std::string(512, '\0');

  Block& str(size_t off, size_t len, std::string_view s) {
    std::memcpy(b.data() + off, s.data(), std::min(len, s.size()));
    return *this;
  }
  // len-1 zero-padded octal digits and a NUL, as tar writers do.
  Block& oct(size_t off, size_t len, uint64_t v) {
    for (size_t i = len - 1; i-- > 0; v >>= 3) b[off + i] = static_cast<char>('0' + (v & 7));
    b[off + len - 1] = '\0';
    return *this;
  }
  Block& bytes(size_t off, std::initializer_list<uint8_t> v) {
    for (uint8_t c : v) b[off++] = static_cast<char>(c);
    return *this;
  }
  Block& type(char t) {
    b[156] = t;
    return *this;
  }
  Block& size(uint64_t n) { return oct(124, 12, n); }
  Block& mode(uint64_t m) { return oct(100, 8, m); }
  Block& owner(uint64_t uid, uint64_t gid) { return oct(108, 8, uid).oct(116, 8, gid); }
  Block& link(std::string_view s) { return str(157, 100, s); }
  Block& prefix(std::string_view s) { return str(345, 155, s); }
  Block& dev(uint64_t major, uint64_t minor) { return oct(329, 8, major).oct(337, 8, minor); }
  std::string sealed() const {
    std::string r = b;
    std::fill(r.begin() + 148, r.begin() + 156, ' ');
    unsigned sum = 0;
    for (unsigned char c : r) sum += c;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06o", sum);
    std::memcpy(r.data() + 148, buf, 6);
    r[154] = '\0';
    return r;
  }
};

// A v7 header: mode 0644, uid/gid 1000, mtime 1700000000.
inline Block v7(std::string_view name, char type, uint64_t size) {
  Block b;
  b.str(0, 100, name).mode(0644).owner(1000, 1000).size(size).oct(136, 12, 1700000000);
  return b.type(type);
}
inline Block ustar(std::string_view name, char type, uint64_t size) {
  return v7(name, type, size).str(257, 6, std::string_view("ustar\0", 6)).str(263, 2, "00");
}
inline Block gnu(std::string_view name, char type, uint64_t size) {
  return v7(name, type, size).str(257, 6, "ustar ").str(263, 2, std::string_view(" \0", 2));
}

inline std::string padding(size_t n) { return std::string((512 - n % 512) % 512, '\0'); }
inline std::string with_content(const Block& h, const std::string& content) {
  return h.sealed() + content + padding(content.size());
}
// "%d key=value\n" where %d counts the whole record, itself included.
inline std::string pax_record(const std::string& key, const std::string& value) {
  const size_t body = 1 + key.size() + 1 + value.size() + 1;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}
inline std::string trailer() { return std::string(1024, '\0'); }

}  // namespace ferry::tar_test
