#include "cli/duration.h"

#include <cstdint>
#include <string>

#include "util/error.h"
#include "util/go_quote.h"

namespace ferry::cli {
namespace {

constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;

[[noreturn]] void invalid(std::string_view orig) {
  throw Error("time: invalid duration " + go_time_quote(orig));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

uint64_t unit_nanos(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1000;  // µs (U+00B5), μs (U+03BC)
  if (u == "ms") return 1000 * 1000;
  if (u == "s") return 1000 * 1000 * 1000;
  if (u == "m") return uint64_t{60} * 1000 * 1000 * 1000;
  if (u == "h") return uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

// Writes the fraction v / 10^prec (without trailing zeros, without the
// point when it is zero) in front of `tail`; returns v / 10^prec.
uint64_t prepend_fraction(std::string& tail, uint64_t v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; i++) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print) tail.insert(0, "." + digits);
  return v;
}

void prepend_int(std::string& tail, uint64_t v) { tail.insert(0, std::to_string(v)); }

}  // namespace

Duration parse_go_duration(std::string_view s) {
  const std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) invalid(orig);

  // Go accumulates in uint64 and lets `d += v` wrap; the checks below sit
  // exactly where Go's do so the same inputs are accepted.
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) invalid(orig);

    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); i++) {
      if (v > kMaxMagnitude / 10) invalid(orig);
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMaxMagnitude) invalid(orig);
    }
    const bool pre = i > 0;
    s.remove_prefix(i);

    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < s.size() && is_digit(s[j]); j++) {
        if (overflow) continue;
        if (f > (kMaxMagnitude - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMaxMagnitude) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) invalid(orig);

    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) u++;
    if (u == 0) throw Error("time: missing unit in duration " + go_time_quote(orig));
    const std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    const uint64_t unit = unit_nanos(unit_name);
    if (unit == 0) {
      throw Error("time: unknown unit " + go_time_quote(unit_name) + " in duration " +
                  go_time_quote(orig));
    }
    if (v > kMaxMagnitude / unit) invalid(orig);
    v *= unit;
    if (f > 0) {
      // Go computes the fractional part in float64; doing the same keeps
      // rounding identical ("1.0000000001h" and friends).
      v += static_cast<uint64_t>(static_cast<double>(f) *
                                 (static_cast<double>(unit) / scale));
      if (v > kMaxMagnitude) invalid(orig);
    }
    d += v;
    if (d > kMaxMagnitude) invalid(orig);
  }
  if (neg) return Duration(static_cast<int64_t>(0 - d));
  if (d > kMaxMagnitude - 1) invalid(orig);
  return Duration(static_cast<int64_t>(d));
}

std::string format_go_duration(Duration dur) {
  const int64_t d = dur.count();
  const bool neg = d < 0;
  uint64_t u = static_cast<uint64_t>(d);
  if (neg) u = 0 - u;

  std::string out;
  constexpr uint64_t kSecond = 1000 * 1000 * 1000;
  if (u < kSecond) {
    if (u == 0) return "0s";
    int prec;
    if (u < 1000) {
      prec = 0;
      out = "ns";
    } else if (u < 1000 * 1000) {
      prec = 3;
      out = "\xC2\xB5s";  // µs, as Go prints it
    } else {
      prec = 6;
      out = "ms";
    }
    u = prepend_fraction(out, u, prec);
    prepend_int(out, u);
  } else {
    out = "s";
    u = prepend_fraction(out, u, 9);
    prepend_int(out, u % 60);
    u /= 60;
    if (u > 0) {
      out.insert(0, "m");
      prepend_int(out, u % 60);
      u /= 60;
      if (u > 0) {
        out.insert(0, "h");
        prepend_int(out, u);
      }
    }
  }
  if (neg) out.insert(0, "-");
  return out;
}

}  // namespace ferry::cli
