#include "util/go_base64.h"

#include <cstdint>

#include "util/error.h"

namespace ferry {
namespace {

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  const auto byte = [&](size_t i) { return uint32_t{static_cast<uint8_t>(in[i])}; };
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t w = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int k = 18; k >= 0; k -= 6) out += alphabet[(w >> k) & 63];
  }
  const size_t rest = in.size() - i;
  if (rest == 0) return out;
  const uint32_t w = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0);
  out += alphabet[(w >> 18) & 63];
  out += alphabet[(w >> 12) & 63];
  if (rest == 2) out += alphabet[(w >> 6) & 63];
  if (pad) out.append(3 - rest, '=');
  return out;
}

}  // namespace

// Follows base64.Encoding.decodeQuantum, so the offsets in errors are Go's.
std::string go_base64_decode(std::string_view src, bool url) {
  auto value = [url](unsigned char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
  };
  auto corrupt = [](size_t at) { return Error("illegal base64 data at input byte " + std::to_string(at)); };
  auto newline = [&](size_t at) { return src[at] == '\n' || src[at] == '\r'; };
  std::string out;
  out.reserve(src.size() / 4 * 3);
  size_t si = 0;
  while (si < src.size()) {
    int quantum[4] = {0, 0, 0, 0};
    int dlen = 4;
    bool end = false;
    for (int j = 0; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return out;
        throw corrupt(si - static_cast<size_t>(j));
      }
      unsigned char in = static_cast<unsigned char>(src[si++]);
      int v = value(in);
      if (v >= 0) {
        quantum[j] = v;
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=' || j < 2) throw corrupt(si - 1);
      if (j == 2) {  // "==" expected; the first '=' is consumed
        while (si < src.size() && newline(si)) ++si;
        if (si == src.size()) throw corrupt(src.size());
        if (src[si] != '=') throw corrupt(si - 1);
        ++si;
      }
      while (si < src.size() && newline(si)) ++si;
      if (si < src.size()) throw corrupt(si);  // trailing garbage
      dlen = j;
      end = true;
      break;
    }
    const uint32_t val = (uint32_t(quantum[0]) << 18) | (uint32_t(quantum[1]) << 12) |
                         (uint32_t(quantum[2]) << 6) | uint32_t(quantum[3]);
    const char bytes[3] = {static_cast<char>(val >> 16), static_cast<char>(val >> 8), static_cast<char>(val)};
    out.append(bytes, static_cast<size_t>(dlen - 1));
    if (end) break;
  }
  return out;
}

std::string go_base64_encode(std::string_view bytes) { return encode(bytes, kStdAlphabet, true); }

std::string go_base64_raw_url_encode(std::string_view bytes) { return encode(bytes, kUrlAlphabet, false); }

}  // namespace ferry
