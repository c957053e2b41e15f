// Go text/template over JSON data. The lexer, parser and executor follow
// the structure of Go's text/template/parse and exec.go closely, because
// the observable behaviour (error wording, which node an error points at,
// how trim markers and declarations interact) falls out of that structure.
#include "util/gotemplate.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "util/go_quote.h"
#include "util/gojson.h"

namespace ferry::gotemplate {
namespace {

constexpr size_t kMaxTemplate = size_t{1} << 20;
constexpr int kMaxNesting = 100;        // control structures and parentheses
constexpr int kMaxExecDepth = 500;      // control structures entered plus {{template}} calls
constexpr size_t kMaxOutput = size_t{64} << 20;
constexpr uint64_t kMaxSteps = 10'000'000;
constexpr int kMaxValueDepth = 200;     // printing nested data

// ---------------------------------------------------------------------------
// UTF-8 and Unicode approximations.

constexpr char32_t kEof = 0xFFFFFFFF;

struct Rune {
  char32_t r;
  size_t n;
};

// utf8.DecodeRuneInString at s[i] (i < s.size()).
Rune decode_rune(std::string_view s, size_t i) {
  const GoRune g = go_decode_rune(s.substr(i));
  return {g.rune, g.width};
}

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += decode_rune(s, i).n) ++n;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    if (r.r == kGoRuneError && r.n == 1) return false;
    i += r.n;
  }
  return true;
}

// unicode.IsLetter, approximated without tables: ASCII exactly; beyond it
// everything counts as a letter except the blocks of punctuation, symbols,
// marks, spaces and private use that are easy to name.
bool is_letter(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  if (r == 0xAA || r == 0xB5 || r == 0xBA) return true;
  if (r < 0xC0 || r == 0xD7 || r == 0xF7) return false;
  if (r >= 0x300 && r <= 0x36F) return false;    // combining marks
  if (r >= 0x2000 && r <= 0x2BFF) return false;  // punctuation, symbols, arrows
  if (r >= 0x3000 && r <= 0x303F) return false;  // CJK punctuation
  if (r >= 0xD800 && r <= 0xF8FF) return false;  // surrogates, private use
  if (r >= 0xFE00 && r <= 0xFE0F) return false;  // variation selectors
  if (r >= 0xFFF0 && r <= 0xFFFF) return false;
  if (r >= 0x1F000 && r <= 0x1FAFF) return false;  // emoji and pictographs
  if (r >= 0xE0000) return false;
  return true;
}

bool is_digit(char32_t r) { return r >= '0' && r <= '9'; }

// text/template/parse's isAlphaNumeric.
bool is_alnum(char32_t r) { return r == '_' || is_letter(r) || is_digit(r); }

// unicode.IsSpace.
bool is_unicode_space(char32_t r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Simple case mappings for the scripts container metadata is written in
// (Latin, Greek, Cyrillic); other runes map to themselves.
char32_t to_upper_rune(char32_t r) {
  if (r >= 'a' && r <= 'z') return r - 32;
  if (r < 0x80) return r;
  if (r == 0xB5) return 0x39C;
  if (r == 0xFF) return 0x178;
  if (r >= 0xE0 && r <= 0xFE && r != 0xF7) return r - 32;
  if (r >= 0x100 && r <= 0x17F) {
    if (r == 0x131) return 'I';
    if (r == 0x17F) return 'S';
    if ((r >= 0x100 && r <= 0x137) || (r >= 0x14A && r <= 0x177)) return r & ~char32_t{1};
    if ((r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E)) return (r % 2 == 0) ? r - 1 : r;
    return r;
  }
  if (r == 0x3C2) return 0x3A3;
  if (r >= 0x3B1 && r <= 0x3C9) return r - 32;
  if (r >= 0x430 && r <= 0x44F) return r - 32;
  if (r >= 0x450 && r <= 0x45F) return r - 80;
  return r;
}

char32_t to_lower_rune(char32_t r) {
  if (r >= 'A' && r <= 'Z') return r + 32;
  if (r < 0x80) return r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  if (r >= 0x100 && r <= 0x17F) {
    if (r == 0x130) return 'i';
    if (r == 0x178) return 0xFF;
    if ((r >= 0x100 && r <= 0x137) || (r >= 0x14A && r <= 0x177)) return r | 1;
    if ((r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E)) return (r % 2 == 1) ? r + 1 : r;
    return r;
  }
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 32;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  return r;
}

// strings.Map: invalid UTF-8 comes out as U+FFFD, but only when something
// had to be rewritten; untouched input is returned as is.
template <typename F>
std::string map_runes(std::string_view s, F f) {
  std::string out;
  bool changed = false;
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    char32_t m = f(r.r);
    if (m != r.r || (r.r == kGoRuneError && r.n == 1)) changed = true;
    go_append_rune(out, m);
    i += r.n;
  }
  return changed ? out : std::string(s);
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string go_to_lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
  }
  return map_runes(s, to_lower_rune);
}

std::string go_to_upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return out;
  }
  return map_runes(s, to_upper_rune);
}

// strings.Title: upper-case the first letter of each word.
std::string go_title(std::string_view s) {
  auto is_separator = [](char32_t r) {
    if (r < 0x80) return !(is_digit(r) || is_letter(r) || r == '_');
    if (is_letter(r)) return false;
    return is_unicode_space(r);
  };
  char32_t prev = ' ';
  return map_runes(s, [&](char32_t r) {
    char32_t out = is_separator(prev) ? to_upper_rune(r) : r;
    prev = r;
    return out;
  });
}

// ---------------------------------------------------------------------------
// Hex digits (quoting itself is util/go_quote).

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char kUpperHex[] = "0123456789ABCDEF";

void append_hex(std::string& out, uint64_t v, int digits, const char* hex = kLowerHex) {
  for (int s = (digits - 1) * 4; s >= 0; s -= 4) out += hex[(v >> s) & 0xF];
}

// The first n runes of s (fmt's %.Ns).
std::string_view truncate_runes(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t k = 0; k < n && i < s.size(); ++k) i += decode_rune(s, i).n;
  return s.substr(0, i);
}

// %#U, as the lexer reports bad characters.
std::string unicode_name(char32_t r) {
  std::string out = "U+";
  if (r == kEof) return out + "FFFFFFFFFFFFFFFF";
  int digits = 4;
  while (digits < 8 && (r >> (digits * 4)) != 0) ++digits;
  append_hex(out, r, digits, kUpperHex);
  if (go_is_print(r)) {
    out += " '";
    go_append_rune(out, r);
    out += '\'';
  }
  return out;
}

// strconv.UnquoteChar. Returns false on syntax errors.
bool unquote_char(std::string_view& s, char quote, char32_t& value, bool& multibyte) {
  multibyte = false;
  if (s.empty()) return false;
  auto c = static_cast<unsigned char>(s[0]);
  if (c == static_cast<unsigned char>(quote) && (quote == '\'' || quote == '"')) return false;
  if (c >= 0x80) {
    Rune r = decode_rune(s, 0);
    value = r.r;
    multibyte = true;
    s.remove_prefix(r.n);
    return true;
  }
  if (c != '\\') {
    value = c;
    s.remove_prefix(1);
    return true;
  }
  if (s.size() <= 1) return false;
  char e = s[1];
  s.remove_prefix(2);
  switch (e) {
    case 'a': value = '\a'; return true;
    case 'b': value = '\b'; return true;
    case 'f': value = '\f'; return true;
    case 'n': value = '\n'; return true;
    case 'r': value = '\r'; return true;
    case 't': value = '\t'; return true;
    case 'v': value = '\v'; return true;
    case '\\': value = '\\'; return true;
    case '\'': case '"':
      if (e != quote) return false;
      value = static_cast<unsigned char>(e);
      return true;
    case 'x': case 'u': case 'U': {
      size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (s.size() < n) return false;
      char32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        char h = s[k];
        int d = (h >= '0' && h <= '9') ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        if (d < 0) return false;
        v = (v << 4) | static_cast<char32_t>(d);
      }
      s.remove_prefix(n);
      if (e == 'x') {
        value = v;
        return true;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
      value = v;
      multibyte = true;
      return true;
    }
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      char32_t v = static_cast<char32_t>(e - '0');
      if (s.size() < 2) return false;
      for (int k = 0; k < 2; ++k) {
        if (s[k] < '0' || s[k] > '7') return false;
        v = v * 8 + static_cast<char32_t>(s[k] - '0');
      }
      if (v > 255) return false;
      s.remove_prefix(2);
      value = v;
      return true;
    }
    default:
      return false;
  }
}

// strconv.Unquote for "..." and `...` literals.
std::optional<std::string> go_unquote(std::string_view in) {
  if (in.size() < 2) return std::nullopt;
  char q = in.front();
  if (q != in.back()) return std::nullopt;
  std::string_view body = in.substr(1, in.size() - 2);
  if (q == '`') {
    if (body.find('`') != std::string_view::npos) return std::nullopt;
    std::string out;
    for (char c : body) if (c != '\r') out += c;
    return out;
  }
  if (q != '"') return std::nullopt;
  if (body.find('\\') == std::string_view::npos && body.find('\n') == std::string_view::npos &&
      body.find('"') == std::string_view::npos && valid_utf8(body)) {
    return std::string(body);
  }
  std::string out;
  while (!body.empty()) {
    if (body[0] == '\n') return std::nullopt;
    char32_t v;
    bool multibyte;
    if (!unquote_char(body, '"', v, multibyte)) return std::nullopt;
    if (v < 0x80 || !multibyte) {
      out += static_cast<char>(v);
    } else {
      go_append_rune(out, v);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Number literals as text/template/parse reads them (strconv semantics).

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower_ascii(s[1]) == 'b' || lower_ascii(s[1]) == 'o' || lower_ascii(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower_ascii(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = lower_ascii(s[i]);
    if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseUint(s, 0, 64).
std::optional<uint64_t> parse_uint0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view s0 = s;
  unsigned base = 10;
  if (s[0] == '0') {
    char p = s.size() >= 3 ? lower_ascii(s[1]) : 0;
    if (p == 'b') {
      base = 2, s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8, s.remove_prefix(2);
    } else if (p == 'x') {
      base = 16, s.remove_prefix(2);
    } else {
      base = 8, s.remove_prefix(1);
    }
  }
  bool underscores = false;
  uint64_t n = 0;
  for (char ch : s) {
    char c = lower_ascii(ch);
    unsigned d;
    if (c == '_') {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (n > (UINT64_MAX - d) / base) return std::nullopt;
    n = n * base + d;
  }
  if (underscores && !underscore_ok(s0)) return std::nullopt;
  return n;
}

// strconv.ParseInt(s, 0, 64).
std::optional<int64_t> parse_int0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  auto u = parse_uint0(s);
  if (!u) return std::nullopt;
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!neg && *u >= kCutoff) return std::nullopt;
  if (neg && *u > kCutoff) return std::nullopt;
  if (neg) return *u == kCutoff ? INT64_MIN : -static_cast<int64_t>(*u);
  return static_cast<int64_t>(*u);
}

// strconv.ParseFloat(s, 64) for the syntax the lexer lets through: Go's
// float grammar is checked here, strtod does the rounding.
std::optional<double> parse_float(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  bool hex = false;
  if (i + 2 < n && s[i] == '0' && lower_ascii(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  bool underscores = false, dot = false;
  int digits = 0;
  for (; i < n; ++i) {
    char c = lower_ascii(s[i]);
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (dot) break;
      dot = true;
    } else if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) {
      ++digits;
    } else {
      break;
    }
  }
  if (digits == 0) return std::nullopt;
  if (i < n && lower_ascii(s[i]) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    int exp_digits = 0;
    for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); ++i) {
      if (s[i] == '_') {
        underscores = true;
      } else {
        ++exp_digits;
      }
    }
    if (exp_digits == 0) return std::nullopt;
  } else if (hex) {
    return std::nullopt;  // a hexadecimal mantissa requires a 'p' exponent
  }
  if (i != n) return std::nullopt;
  if (underscores && !underscore_ok(s)) return std::nullopt;
  std::string clean;
  for (char c : s) if (c != '_') clean += c;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  if (std::isinf(v)) return std::nullopt;  // ErrRange
  return v;
}

// ---------------------------------------------------------------------------
// Float formatting as strconv.FormatFloat does it.

// Shortest digits d (no leading/trailing zeros) with v = 0.d × 10^dp.
void shortest_digits(double v, std::string& digits, int& dp) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = s.find('e');
  digits.clear();
  for (char c : s.substr(0, e)) if (c >= '0' && c <= '9') digits += c;
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  dp = exp + 1;
}

void append_exponent(std::string& out, int exp, char e) {
  out += e;
  out += exp < 0 ? '-' : '+';
  if (exp < 0) exp = -exp;
  if (exp < 10) out += '0';
  out += std::to_string(exp);
}

// FormatFloat(v, 'g' or 'G', -1, 64) for finite v >= 0: what %v prints.
std::string format_shortest(double v, char verb) {
  if (v == 0) return "0";
  std::string d;
  int dp;
  shortest_digits(std::fabs(v), d, dp);
  int nd = static_cast<int>(d.size());
  int exp = dp - 1;
  std::string out;
  if (exp < -4 || exp >= 6) {
    out += d[0];
    if (nd > 1) {
      out += '.';
      out.append(d, 1, std::string::npos);
    }
    append_exponent(out, exp, verb == 'G' ? 'E' : 'e');
    return out;
  }
  if (dp <= 0) {
    out = "0.";
    out.append(static_cast<size_t>(-dp), '0');
    out += d;
  } else if (dp >= nd) {
    out = d;
    out.append(static_cast<size_t>(dp - nd), '0');
  } else {
    out = d.substr(0, static_cast<size_t>(dp)) + "." + d.substr(static_cast<size_t>(dp));
  }
  return out;
}

// ---------------------------------------------------------------------------
// time.Time, as far as inspect output needs it.

struct GoTime {
  int64_t year = 1;
  int month = 1, day = 1, hour = 0, min = 0, sec = 0;
  int32_t nsec = 0;
  int offset = 0;       // seconds east of UTC
  bool utc_name = true; // zone abbreviation "UTC"; otherwise an unnamed fixed zone
};

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y += m <= 2;
}

int days_in_month(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

int64_t time_unix(const GoTime& t) {
  return days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.min * 60 + t.sec -
         t.offset;
}

GoTime time_utc(const GoTime& t) {
  int64_t u = time_unix(t);
  int64_t days = u >= 0 ? u / 86400 : -((-u + 86399) / 86400);
  int64_t rem = u - days * 86400;
  GoTime r;
  civil_from_days(days, r.year, r.month, r.day);
  r.hour = static_cast<int>(rem / 3600);
  r.min = static_cast<int>(rem / 60 % 60);
  r.sec = static_cast<int>(rem % 60);
  r.nsec = t.nsec;
  return r;
}

int time_weekday(const GoTime& t) {  // 0 = Sunday
  int64_t days = days_from_civil(t.year, t.month, t.day);
  int64_t w = (days + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

int time_yday(const GoTime& t) {
  return static_cast<int>(days_from_civil(t.year, t.month, t.day) -
                          days_from_civil(t.year, 1, 1) + 1);
}

// The RFC 3339 text time.Time.UnmarshalJSON accepts. The offset's zone is
// named only for UTC: ferry, like skopeo in a container, runs with Local =
// UTC, so "+00:00" also prints as "UTC".
std::optional<GoTime> parse_rfc3339(std::string_view s) {
  auto num = [&](size_t at, size_t len, int& out) {
    if (at + len > s.size()) return false;
    out = 0;
    for (size_t k = at; k < at + len; ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
      out = out * 10 + (s[k] - '0');
    }
    return true;
  };
  GoTime t;
  int year;
  if (!num(0, 4, year) || s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  t.year = year;
  if (!num(5, 2, t.month) || !num(8, 2, t.day) || !num(11, 2, t.hour) || !num(14, 2, t.min) ||
      !num(17, 2, t.sec)) {
    return std::nullopt;
  }
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month) ||
      t.hour > 23 || t.min > 59 || t.sec > 59) {
    return std::nullopt;
  }
  size_t i = 19;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    size_t j = i + 1;
    int64_t ns = 0;
    int ndig = 0;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      if (ndig < 9) {
        ns = ns * 10 + (s[j] - '0');
        ++ndig;
      }
      ++j;
    }
    if (j == i + 1) return std::nullopt;
    for (int k = ndig; k < 9; ++k) ns *= 10;
    t.nsec = static_cast<int32_t>(ns);
    i = j;
  }
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh, mm;
    if (!num(i + 1, 2, hh) || i + 3 >= s.size() || s[i + 3] != ':' || !num(i + 4, 2, mm) ||
        hh > 23 || mm > 59) {
      return std::nullopt;
    }
    t.offset = (hh * 3600 + mm * 60) * (s[i] == '-' ? -1 : 1);
    t.utc_name = t.offset == 0;
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return t;
}

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                             "Thursday", "Friday", "Saturday"};

void append_int(std::string& out, int64_t v, int width) {
  if (v < 0) {
    out += '-';
    v = -v;
  }
  std::string d = std::to_string(v);
  for (int k = static_cast<int>(d.size()); k < width; ++k) out += '0';
  out += d;
}

// time.Time.Format. Layout elements are recognised as Go's nextStdChunk
// does; everything else is copied.
std::string time_format(const GoTime& t, std::string_view layout) {
  std::string out;
  auto starts = [&](size_t i, std::string_view p) { return layout.substr(i, p.size()) == p; };
  auto lower_next = [&](size_t i) { return i < layout.size() && layout[i] >= 'a' && layout[i] <= 'z'; };
  auto tz = [&](bool iso, bool colon, bool secs, bool shrt) {
    if (iso && t.offset == 0) {
      out += 'Z';
      return;
    }
    int off = t.offset;
    out += off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    append_int(out, off / 3600, 2);
    if (!shrt) {
      if (colon) out += ':';
      append_int(out, off / 60 % 60, 2);
    }
    if (secs) {
      if (colon) out += ':';
      append_int(out, off % 60, 2);
    }
  };
  int hour12 = t.hour % 12 == 0 ? 12 : t.hour % 12;
  for (size_t i = 0; i < layout.size();) {
    char c = layout[i];
    switch (c) {
      case 'J':
        if (starts(i, "January")) { out += kMonths[t.month - 1]; i += 7; continue; }
        if (starts(i, "Jan") && !lower_next(i + 3)) { out.append(kMonths[t.month - 1], 3); i += 3; continue; }
        break;
      case 'M':
        if (starts(i, "Monday")) { out += kDays[time_weekday(t)]; i += 6; continue; }
        if (starts(i, "Mon") && !lower_next(i + 3)) { out.append(kDays[time_weekday(t)], 3); i += 3; continue; }
        if (starts(i, "MST")) {
          if (t.utc_name) {
            out += "UTC";
          } else {
            int off = t.offset / 60;
            out += off < 0 ? '-' : '+';
            if (off < 0) off = -off;
            append_int(out, off / 60, 2);
            append_int(out, off % 60, 2);
          }
          i += 3;
          continue;
        }
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          switch (layout[i + 1]) {
            case '1': append_int(out, t.month, 2); break;
            case '2': append_int(out, t.day, 2); break;
            case '3': append_int(out, hour12, 2); break;
            case '4': append_int(out, t.min, 2); break;
            case '5': append_int(out, t.sec, 2); break;
            default: append_int(out, ((t.year % 100) + 100) % 100, 2); break;
          }
          i += 2;
          continue;
        }
        if (starts(i, "002")) { append_int(out, time_yday(t), 3); i += 3; continue; }
        break;
      case '1':
        if (starts(i, "15")) { append_int(out, t.hour, 2); i += 2; continue; }
        append_int(out, t.month, 0);
        ++i;
        continue;
      case '2':
        if (starts(i, "2006")) { append_int(out, t.year, 4); i += 4; continue; }
        append_int(out, t.day, 0);
        ++i;
        continue;
      case '_':
        if (starts(i, "_2")) {
          if (starts(i, "_2006")) { out += '_'; append_int(out, t.year, 4); i += 5; continue; }
          if (t.day < 10) out += ' ';
          append_int(out, t.day, 0);
          i += 2;
          continue;
        }
        if (starts(i, "__2")) {
          int yd = time_yday(t);
          if (yd < 100) out += ' ';
          if (yd < 10) out += ' ';
          append_int(out, yd, 0);
          i += 3;
          continue;
        }
        break;
      case '3': append_int(out, hour12, 0); ++i; continue;
      case '4': append_int(out, t.min, 0); ++i; continue;
      case '5': append_int(out, t.sec, 0); ++i; continue;
      case 'P':
        if (starts(i, "PM")) { out += t.hour >= 12 ? "PM" : "AM"; i += 2; continue; }
        break;
      case 'p':
        if (starts(i, "pm")) { out += t.hour >= 12 ? "pm" : "am"; i += 2; continue; }
        break;
      case '-':
        if (starts(i, "-070000")) { tz(false, false, true, false); i += 7; continue; }
        if (starts(i, "-07:00:00")) { tz(false, true, true, false); i += 9; continue; }
        if (starts(i, "-0700")) { tz(false, false, false, false); i += 5; continue; }
        if (starts(i, "-07:00")) { tz(false, true, false, false); i += 6; continue; }
        if (starts(i, "-07")) { tz(false, false, false, true); i += 3; continue; }
        break;
      case 'Z':
        if (starts(i, "Z070000")) { tz(true, false, true, false); i += 7; continue; }
        if (starts(i, "Z07:00:00")) { tz(true, true, true, false); i += 9; continue; }
        if (starts(i, "Z0700")) { tz(true, false, false, false); i += 5; continue; }
        if (starts(i, "Z07:00")) { tz(true, true, false, false); i += 6; continue; }
        if (starts(i, "Z07")) { tz(true, false, false, true); i += 3; continue; }
        break;
      case '.': case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          char ch = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == ch) ++j;
          if (j >= layout.size() || layout[j] < '0' || layout[j] > '9') {
            size_t n = std::min<size_t>(j - (i + 1), 9);
            std::string frac;
            append_int(frac, t.nsec, 9);
            frac.resize(n);
            if (ch == '9') {
              while (!frac.empty() && frac.back() == '0') frac.pop_back();
              if (!frac.empty()) out += c + frac;
            } else {
              out += c + frac;
            }
            i = j;
            continue;
          }
        }
        break;
      default:
        break;
    }
    out += c;
    ++i;
  }
  return out;
}

std::string time_string(const GoTime& t) {
  return time_format(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}


// ---------------------------------------------------------------------------
// Lexer (text/template/parse/lex.go). Items are lexed up front; the parser
// reads them with the same look-ahead Go's parser has, so errors surface in
// the same order.

enum class It : uint8_t {
  Error, Bool, Char, CharConst, Comment, Complex, Assign, Declare, Eof, Field, Identifier,
  LeftDelim, LeftParen, Number, Pipe, RawString, RightDelim, RightParen, Space, String, Text,
  Variable,
  Keyword,  // keywords follow; they print as <word> in errors
  Block, Break, Continue, Dot, Define, Else, End, If, Nil, Range, Template, With,
};

struct Item {
  It typ;
  size_t pos;
  std::string_view val;
  std::string err;  // for Error items
};

std::string item_string(const Item& i) {
  if (i.typ == It::Eof) return "EOF";
  if (i.typ == It::Error) return i.err;
  if (i.typ > It::Keyword) return "<" + std::string(i.val) + ">";
  if (i.val.size() > 10) return go_quote(truncate_runes(i.val, 10)) + "...";
  return go_quote(i.val);
}

bool is_space_byte(char32_t r) { return r == ' ' || r == '\t' || r == '\r' || r == '\n'; }

size_t left_trim_len(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space_byte(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

size_t right_trim_len(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && is_space_byte(static_cast<unsigned char>(s[n - 1]))) --n;
  return s.size() - n;
}

It keyword(std::string_view w) {
  static const std::pair<std::string_view, It> kKeys[] = {
      {"block", It::Block}, {"break", It::Break}, {"continue", It::Continue},
      {"define", It::Define}, {"else", It::Else}, {"end", It::End}, {"if", It::If},
      {"range", It::Range}, {"nil", It::Nil}, {"template", It::Template}, {"with", It::With}};
  for (const auto& [k, v] : kKeys) if (k == w) return v;
  return It::Error;
}

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  std::vector<Item> run() {
    while (!done_) {
      if (inside_) {
        inside_action();
      } else {
        text();
      }
    }
    return std::move(items_);
  }

 private:
  static bool has_left_trim(std::string_view s) {
    return s.size() >= 2 && s[0] == '-' && is_space_byte(static_cast<unsigned char>(s[1]));
  }
  static bool has_right_trim(std::string_view s) {
    return s.size() >= 2 && is_space_byte(static_cast<unsigned char>(s[0])) && s[1] == '-';
  }

  std::string_view rest(size_t at) const { return at <= in_.size() ? in_.substr(at) : std::string_view(); }

  char32_t next() {
    if (pos_ >= in_.size()) {
      width_ = 0;
      return kEof;
    }
    Rune r = decode_rune(in_, pos_);
    width_ = r.n;
    pos_ += r.n;
    return r.r;
  }
  void backup() { pos_ -= width_; }
  char32_t peek() {
    char32_t r = next();
    backup();
    return r;
  }
  bool accept(std::string_view valid) {
    char32_t r = next();
    if (r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) return true;
    backup();
    return false;
  }
  void accept_run(std::string_view valid) {
    while (accept(valid)) {
    }
  }

  void emit(It t) {
    items_.push_back({t, start_, in_.substr(start_, pos_ - start_), {}});
    start_ = pos_;
  }
  void error(std::string msg) {
    items_.push_back({It::Error, start_, {}, std::move(msg)});
    done_ = true;
  }

  std::pair<bool, bool> at_right_delim() const {
    if (has_right_trim(rest(pos_)) && rest(pos_ + 2).starts_with("}}")) return {true, true};
    if (rest(pos_).starts_with("}}")) return {true, false};
    return {false, false};
  }

  // Whether what follows may end an identifier or field: ".X.Y" splits in
  // two, "$x+2" does not lex.
  bool at_terminator() {
    char32_t r = peek();
    if (is_space_byte(r)) return true;
    switch (r) {
      case kEof: case '.': case ',': case '|': case ':': case ')': case '(':
        return true;
      default:
        return rest(pos_).starts_with("}}");
    }
  }

  void text() {
    size_t x = in_.find("{{", pos_);
    if (x == std::string_view::npos) {
      pos_ = in_.size();
      if (pos_ > start_) emit(It::Text);
      emit(It::Eof);
      done_ = true;
      return;
    }
    if (x > pos_) {
      pos_ = x;
      size_t trim = 0;
      if (has_left_trim(rest(x + 2))) trim = right_trim_len(in_.substr(start_, pos_ - start_));
      pos_ -= trim;
      if (pos_ > start_) emit(It::Text);
      pos_ += trim;
      start_ = pos_;
    }
    left_delim();
  }

  void left_delim() {
    pos_ += 2;
    size_t after = has_left_trim(rest(pos_)) ? 2 : 0;
    if (rest(pos_ + after).starts_with("/*")) {
      pos_ += after;
      start_ = pos_;
      comment();
      return;
    }
    emit(It::LeftDelim);
    inside_ = true;
    pos_ += after;
    start_ = pos_;
    paren_ = 0;
  }

  void comment() {
    pos_ += 2;
    size_t x = in_.find("*/", pos_);
    if (x == std::string_view::npos) return error("unclosed comment");
    pos_ = x + 2;
    auto [delim, trim] = at_right_delim();
    if (!delim) return error("comment ends before closing delimiter");
    if (trim) pos_ += 2;
    pos_ += 2;
    if (trim) pos_ += left_trim_len(rest(pos_));
    start_ = pos_;
  }

  void right_delim() {
    bool trim = at_right_delim().second;
    if (trim) {
      pos_ += 2;
      start_ = pos_;
    }
    pos_ += 2;
    emit(It::RightDelim);
    if (trim) {
      pos_ += left_trim_len(rest(pos_));
      start_ = pos_;
    }
    inside_ = false;
  }

  void inside_action() {
    if (at_right_delim().first) {
      if (paren_ == 0) return right_delim();
      return error("unclosed left paren");
    }
    char32_t r = next();
    if (r == kEof) return error("unclosed action");
    if (is_space_byte(r)) {
      backup();
      return space();
    }
    switch (r) {
      case '=': return emit(It::Assign);
      case ':':
        if (next() != '=') return error("expected :=");
        return emit(It::Declare);
      case '|': return emit(It::Pipe);
      case '"': return quote('"', It::String, "unterminated quoted string");
      case '`': return raw_quote();
      case '$': return field_or_variable(It::Variable);
      case '\'': return quote('\'', It::CharConst, "unterminated character constant");
      case '.':
        if (pos_ < in_.size() && (in_[pos_] < '0' || in_[pos_] > '9')) return field_or_variable(It::Field);
        [[fallthrough]];
      case '+': case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6':
      case '7': case '8': case '9':
        backup();
        return number();
      case '(':
        ++paren_;
        return emit(It::LeftParen);
      case ')':
        if (--paren_ < 0) return error("unexpected right paren");
        return emit(It::RightParen);
      default:
        break;
    }
    if (is_alnum(r)) {
      backup();
      return identifier();
    }
    if (r < 0x80 && go_is_print(r)) return emit(It::Char);
    error("unrecognized character in action: " + unicode_name(r));
  }

  void space() {
    size_t n = 0;
    while (pos_ < in_.size() && is_space_byte(static_cast<unsigned char>(in_[pos_]))) ++pos_, ++n;
    // " -}}" is a trim marker, not a space followed by a minus.
    if (has_right_trim(rest(pos_ - 1)) && rest(pos_ + 1).starts_with("}}")) {
      --pos_;
      if (n == 1) return right_delim();
    }
    emit(It::Space);
  }

  void quote(char q, It typ, const char* unterminated) {
    for (;;) {
      char32_t r = next();
      if (r == '\\') {
        r = next();
        if (r != kEof && r != '\n') continue;
        return error(unterminated);
      }
      if (r == kEof || r == '\n') return error(unterminated);
      if (r == static_cast<char32_t>(q)) break;
    }
    emit(typ);
  }

  void raw_quote() {
    for (;;) {
      char32_t r = next();
      if (r == kEof) return error("unterminated raw quoted string");
      if (r == '`') break;
    }
    emit(It::RawString);
  }

  void field_or_variable(It typ) {
    if (at_terminator()) return emit(typ == It::Variable ? It::Variable : It::Dot);
    char32_t r;
    for (;;) {
      r = next();
      if (!is_alnum(r)) {
        backup();
        break;
      }
    }
    if (!at_terminator()) return error("bad character " + unicode_name(r));
    emit(typ);
  }

  void identifier() {
    char32_t r;
    for (;;) {
      r = next();
      if (!is_alnum(r)) {
        backup();
        break;
      }
    }
    std::string_view word = in_.substr(start_, pos_ - start_);
    if (!at_terminator()) return error("bad character " + unicode_name(r));
    It k = keyword(word);
    if (k != It::Error) return emit(k);
    if (word == "true" || word == "false") return emit(It::Bool);
    emit(It::Identifier);
  }

  void number() {
    if (!scan_number()) return error("bad number syntax: " + go_quote(in_.substr(start_, pos_ - start_)));
    char32_t sign = peek();
    if (sign == '+' || sign == '-') {
      // Complex: 1+2i. No spaces, must end in 'i'.
      if (!scan_number() || in_[pos_ - 1] != 'i') {
        return error("bad number syntax: " + go_quote(in_.substr(start_, pos_ - start_)));
      }
      return emit(It::Complex);
    }
    emit(It::Number);
  }

  bool scan_number() {
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (accept("oO")) {
        digits = "01234567_";
      } else if (accept("bB")) {
        digits = "01_";
      }
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    accept("i");
    if (is_alnum(peek())) {
      next();
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0, start_ = 0, width_ = 0;
  int paren_ = 0;
  bool inside_ = false, done_ = false;
  std::vector<Item> items_;
};

// ---------------------------------------------------------------------------
// Parse tree (text/template/parse/node.go), one struct for every node type.

enum class NT : uint8_t {
  Text, Action, Bool, Chain, Command, Dot, Field, Identifier, If, List, Nil, Number, Pipe,
  Range, String, Template, Variable, With, Break, Continue, Else, End,
};

struct NumberLit {
  bool is_int = false, is_uint = false, is_float = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
};

struct Node {
  NT type;
  size_t pos = 0;
  std::string text;                // Text; Identifier; Number/String source; Template name
  std::string str;                 // String: the unquoted value
  std::vector<std::string> ident;  // Field, Variable ("$x", "A"), Chain fields
  std::vector<Node*> nodes;        // List items, Command args, Pipe commands
  std::vector<Node*> decl;         // Pipe declarations
  bool is_assign = false;          // Pipe: "=" rather than ":="
  bool boolean = false;
  NumberLit num;
  Node* pipe = nullptr;            // Action, If, Range, With, Template
  Node* list = nullptr;
  Node* else_list = nullptr;
  Node* base = nullptr;            // Chain: (pipeline).Field
};

void node_string(const Node* n, std::string& out) {
  switch (n->type) {
    case NT::Text: out += n->text; return;
    case NT::Action:
      out += "{{";
      node_string(n->pipe, out);
      out += "}}";
      return;
    case NT::Bool: out += n->boolean ? "true" : "false"; return;
    case NT::Chain:
      if (n->base->type == NT::Pipe) {
        out += '(';
        node_string(n->base, out);
        out += ')';
      } else {
        node_string(n->base, out);
      }
      for (const auto& f : n->ident) out += "." + f;
      return;
    case NT::Command:
      for (size_t i = 0; i < n->nodes.size(); ++i) {
        if (i > 0) out += ' ';
        if (n->nodes[i]->type == NT::Pipe) {
          out += '(';
          node_string(n->nodes[i], out);
          out += ')';
        } else {
          node_string(n->nodes[i], out);
        }
      }
      return;
    case NT::Dot: out += '.'; return;
    case NT::Field:
      for (const auto& f : n->ident) out += "." + f;
      return;
    case NT::Identifier: case NT::Number: case NT::String: out += n->text; return;
    case NT::If: case NT::Range: case NT::With:
      out += n->type == NT::If ? "{{if " : n->type == NT::Range ? "{{range " : "{{with ";
      node_string(n->pipe, out);
      out += "}}";
      node_string(n->list, out);
      if (n->else_list) {
        out += "{{else}}";
        node_string(n->else_list, out);
      }
      out += "{{end}}";
      return;
    case NT::List:
      for (const Node* c : n->nodes) node_string(c, out);
      return;
    case NT::Nil: out += "nil"; return;
    case NT::Pipe:
      if (!n->decl.empty()) {
        for (size_t i = 0; i < n->decl.size(); ++i) {
          if (i > 0) out += ", ";
          node_string(n->decl[i], out);
        }
        out += n->is_assign ? " = " : " := ";
      }
      for (size_t i = 0; i < n->nodes.size(); ++i) {
        if (i > 0) out += " | ";
        node_string(n->nodes[i], out);
      }
      return;
    case NT::Template:
      out += "{{template " + go_quote(n->text);
      if (n->pipe) {
        out += ' ';
        node_string(n->pipe, out);
      }
      out += "}}";
      return;
    case NT::Variable:
      for (size_t i = 0; i < n->ident.size(); ++i) {
        if (i > 0) out += '.';
        out += n->ident[i];
      }
      return;
    case NT::Break: out += "{{break}}"; return;
    case NT::Continue: out += "{{continue}}"; return;
    case NT::Else: out += "{{else}}"; return;
    case NT::End: out += "{{end}}"; return;
  }
}

std::string node_string(const Node* n) {
  std::string s;
  node_string(n, s);
  return s;
}

// parse.IsEmptyTree: only whitespace text and comments.
bool is_empty_tree(const Node* n) {
  if (!n) return true;
  if (n->type == NT::List) {
    return std::all_of(n->nodes.begin(), n->nodes.end(), [](const Node* c) { return is_empty_tree(c); });
  }
  if (n->type != NT::Text) return false;
  std::string_view s = n->text;
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    if (!is_unicode_space(r.r)) return false;
    i += r.n;
  }
  return true;
}

bool is_function_name(std::string_view name) {
  static const std::string_view kNames[] = {
      "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
      "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
      // c/common pkg/report DefaultFuncs
      "join", "json", "lower", "pad", "split", "title", "truncate", "upper"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

struct Program {
  std::string name;  // the template's name, also the ParseName in locations
  std::string text;
  std::map<std::string, const Node*> trees;
  std::vector<std::unique_ptr<Node>> arena;
  std::vector<size_t> newlines;

  int line_of(size_t pos) const {
    return 1 + static_cast<int>(std::lower_bound(newlines.begin(), newlines.end(), pos) - newlines.begin());
  }
};

// ---------------------------------------------------------------------------
// Parser (text/template/parse/parse.go).

class Parser {
 public:
  Parser(Program& prog, std::vector<Item> items) : prog_(prog), items_(std::move(items)) {
    // Reading past the end keeps returning the final EOF or error item.
    Item last = items_.back();
    for (int k = 0; k < 8; ++k) items_.push_back(last);
  }

  void parse() {
    Ctx top;
    ctx_ = &top;
    Node* root = make(NT::List, peek().pos);
    while (peek().typ != It::Eof) {
      if (peek().typ == It::LeftDelim) {
        size_t save = idx_;
        next();
        if (next_non_space().typ == It::Define) {
          parse_definition();
          continue;
        }
        idx_ = save;
      }
      Node* n = text_or_action();
      if (n->type == NT::End || n->type == NT::Else) errorf("unexpected " + node_string(n));
      root->nodes.push_back(n);
    }
    add_tree(prog_.name, root);
  }

 private:
  struct Ctx {
    std::vector<std::string> vars{"$"};
    int range_depth = 0;
  };

  class Nest {
   public:
    explicit Nest(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxNesting) {
        p_->errorf("nesting deeper than " + std::to_string(kMaxNesting) + " levels");
      }
    }
    ~Nest() { --p_->depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser* p_;
  };

  Node* make(NT t, size_t pos) {
    prog_.arena.push_back(std::make_unique<Node>());
    Node* n = prog_.arena.back().get();
    n->type = t;
    n->pos = pos;
    return n;
  }

  const Item& next() {
    size_t i = idx_ < items_.size() ? idx_++ : items_.size() - 1;
    hi_ = std::max(hi_, i);
    return items_[i];
  }
  void backup() { --idx_; }
  const Item& peek() {
    const Item& t = next();
    backup();
    return t;
  }
  const Item& next_non_space() {
    for (;;) {
      const Item& t = next();
      if (t.typ != It::Space) return t;
    }
  }
  const Item& peek_non_space() {
    const Item& t = next_non_space();
    backup();
    return t;
  }

  // Go reports the line of the furthest item read so far.
  [[noreturn]] void errorf(const std::string& msg) {
    throw TemplateError("template: " + prog_.name + ":" + std::to_string(prog_.line_of(items_[hi_].pos)) +
                            ": " + msg,
                        "");
  }

  [[noreturn]] void unexpected(const Item& tok, const std::string& context) {
    if (tok.typ == It::Error) {
      std::string extra;
      int tl = prog_.line_of(tok.pos);
      if (action_line_ != 0 && action_line_ != tl) {
        extra = " in action started at " + prog_.name + ":" + std::to_string(action_line_);
        if (tok.err.ends_with(" action")) extra = extra.substr(std::string_view(" in action").size());
      }
      errorf(tok.err + extra);
    }
    errorf("unexpected " + item_string(tok) + " in " + context);
  }

  const Item& expect(It t, const std::string& context) {
    const Item& tok = next_non_space();
    if (tok.typ != t) unexpected(tok, context);
    return tok;
  }

  void add_tree(const std::string& name, const Node* root) {
    auto it = prog_.trees.find(name);
    if (it == prog_.trees.end() || is_empty_tree(it->second)) {
      prog_.trees[name] = root;
      return;
    }
    if (!is_empty_tree(root)) errorf("template: multiple definition of template " + go_quote(name));
  }

  void parse_definition() {
    const std::string context = "define clause";
    Nest nest(this);
    const Item& tok = next_non_space();
    if (tok.typ != It::String && tok.typ != It::RawString) unexpected(tok, context);
    auto name = go_unquote(tok.val);
    if (!name) errorf("invalid syntax");
    expect(It::RightDelim, context);
    Ctx def;
    Ctx* saved = std::exchange(ctx_, &def);
    auto [list, end] = item_list();
    if (end->type != NT::End) errorf("unexpected " + node_string(end) + " in " + context);
    add_tree(*name, list);
    ctx_ = saved;
  }

  std::pair<Node*, Node*> item_list() {
    Node* list = make(NT::List, peek_non_space().pos);
    while (peek_non_space().typ != It::Eof) {
      Node* n = text_or_action();
      if (n->type == NT::End || n->type == NT::Else) return {list, n};
      list->nodes.push_back(n);
    }
    errorf("unexpected EOF");
  }

  Node* text_or_action() {
    const Item& tok = next_non_space();
    switch (tok.typ) {
      case It::Text: {
        Node* n = make(NT::Text, tok.pos);
        n->text = std::string(tok.val);
        return n;
      }
      case It::LeftDelim: {
        action_line_ = prog_.line_of(tok.pos);
        Node* n = action();
        action_line_ = 0;
        return n;
      }
      default:
        unexpected(tok, "input");
    }
  }

  Node* action() {
    const Item& tok = next_non_space();
    switch (tok.typ) {
      case It::Block: return block_control();
      case It::Break: return loop_control(tok.pos, NT::Break, "break");
      case It::Continue: return loop_control(tok.pos, NT::Continue, "continue");
      case It::Else: return else_control();
      case It::End: return make(NT::End, expect(It::RightDelim, "end").pos);
      case It::If: return control(NT::If, "if");
      case It::Range: return control(NT::Range, "range");
      case It::Template: return template_control();
      case It::With: return control(NT::With, "with");
      default: break;
    }
    backup();
    Node* n = make(NT::Action, peek().pos);
    n->pipe = pipeline("command", It::RightDelim);
    return n;
  }

  Node* loop_control(size_t pos, NT t, const std::string& word) {
    const Item& tok = next_non_space();
    if (tok.typ != It::RightDelim) unexpected(tok, "{{" + word + "}}");
    if (ctx_->range_depth == 0) errorf("{{" + word + "}} outside {{range}}");
    return make(t, pos);
  }

  Node* else_control() {
    const Item& pk = peek_non_space();
    // "{{else if" and "{{else with" leave the keyword for parse_control.
    if (pk.typ == It::If || pk.typ == It::With) return make(NT::Else, pk.pos);
    return make(NT::Else, expect(It::RightDelim, "else").pos);
  }

  Node* control(NT t, const std::string& context) {
    Nest nest(this);
    size_t mark = ctx_->vars.size();
    Node* n = make(t, 0);
    n->pipe = pipeline(context, It::RightDelim);
    n->pos = n->pipe->pos;
    if (t == NT::Range) ++ctx_->range_depth;
    auto [list, next_node] = item_list();
    if (t == NT::Range) --ctx_->range_depth;
    n->list = list;
    if (next_node->type == NT::Else) {
      if ((t == NT::If && peek().typ == It::If) || (t == NT::With && peek().typ == It::With)) {
        next();
        // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} with one {{end}}.
        n->else_list = make(NT::List, next_node->pos);
        n->else_list->nodes.push_back(control(t, context));
      } else {
        auto [else_list, end] = item_list();
        if (end->type != NT::End) errorf("expected end; found " + node_string(end));
        n->else_list = else_list;
      }
    }
    ctx_->vars.resize(mark);
    return n;
  }

  std::string template_name(const Item& tok, const std::string& context) {
    if (tok.typ != It::String && tok.typ != It::RawString) unexpected(tok, context);
    auto s = go_unquote(tok.val);
    if (!s) errorf("invalid syntax");
    return *s;
  }

  Node* template_control() {
    const std::string context = "template clause";
    const Item& tok = next_non_space();
    Node* n = make(NT::Template, tok.pos);
    n->text = template_name(tok, context);
    if (next_non_space().typ != It::RightDelim) {
      backup();
      n->pipe = pipeline(context, It::RightDelim);
    }
    return n;
  }

  Node* block_control() {
    const std::string context = "block clause";
    Nest nest(this);
    const Item& tok = next_non_space();
    Node* n = make(NT::Template, tok.pos);
    n->text = template_name(tok, context);
    n->pipe = pipeline(context, It::RightDelim);
    Ctx def;
    Ctx* saved = std::exchange(ctx_, &def);
    auto [list, end] = item_list();
    if (end->type != NT::End) errorf("unexpected " + node_string(end) + " in " + context);
    add_tree(n->text, list);
    ctx_ = saved;
    return n;
  }

  Node* variable(size_t pos, std::string_view name) {
    Node* v = make(NT::Variable, pos);
    size_t start = 0;
    for (;;) {
      size_t dot = name.find('.', start);
      v->ident.emplace_back(name.substr(start, dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return v;
  }

  Node* pipeline(const std::string& context, It end) {
    Node* pipe = make(NT::Pipe, peek_non_space().pos);
    for (;;) {
      const Item& v = peek_non_space();
      if (v.typ != It::Variable) break;
      size_t at_var = idx_;
      next();
      const Item& nx = peek_non_space();
      if (nx.typ == It::Assign || nx.typ == It::Declare) {
        pipe->is_assign = nx.typ == It::Assign;
        next_non_space();
        pipe->decl.push_back(variable(v.pos, v.val));
        ctx_->vars.emplace_back(v.val);
        break;
      }
      if (nx.typ == It::Char && nx.val == ",") {
        next_non_space();
        pipe->decl.push_back(variable(v.pos, v.val));
        ctx_->vars.emplace_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          It pt = peek_non_space().typ;
          if (pt == It::Variable || pt == It::RightDelim || pt == It::RightParen) continue;
          errorf("range can only initialize variables");
        }
        errorf("too many declarations in " + context);
      }
      idx_ = at_var;  // $x is an operand, not a declaration
      break;
    }
    for (;;) {
      const Item& tok = next_non_space();
      if (tok.typ == end) {
        check_pipeline(pipe, context);
        return pipe;
      }
      switch (tok.typ) {
        case It::Bool: case It::CharConst: case It::Complex: case It::Dot: case It::Field:
        case It::Identifier: case It::Number: case It::Nil: case It::RawString: case It::String:
        case It::Variable: case It::LeftParen:
          backup();
          pipe->nodes.push_back(command());
          break;
        default:
          unexpected(tok, context);
      }
    }
  }

  void check_pipeline(const Node* pipe, const std::string& context) {
    if (pipe->nodes.empty()) errorf("missing value for " + context);
    for (size_t i = 1; i < pipe->nodes.size(); ++i) {
      switch (pipe->nodes[i]->nodes[0]->type) {
        case NT::Bool: case NT::Dot: case NT::Nil: case NT::Number: case NT::String:
          errorf("non executable command in pipeline stage " + std::to_string(i + 1));
        default:
          break;
      }
    }
  }

  Node* command() {
    Node* cmd = make(NT::Command, peek_non_space().pos);
    for (;;) {
      peek_non_space();
      if (Node* op = operand()) cmd->nodes.push_back(op);
      const Item& tok = next();
      if (tok.typ == It::Space) continue;
      if (tok.typ == It::RightDelim || tok.typ == It::RightParen) {
        backup();
      } else if (tok.typ != It::Pipe) {
        unexpected(tok, "operand");
      }
      break;
    }
    if (cmd->nodes.empty()) errorf("empty command");
    return cmd;
  }

  Node* operand() {
    Node* node = term();
    if (!node || peek().typ != It::Field) return node;
    Node* chain = make(NT::Chain, peek().pos);
    while (peek().typ == It::Field) chain->ident.emplace_back(next().val.substr(1));
    switch (node->type) {
      case NT::Field: case NT::Variable: {
        // .A.B and $x.A stay one node, as Go's parser keeps them.
        Node* n = make(node->type, chain->pos);
        n->ident = node->ident;
        n->ident.insert(n->ident.end(), chain->ident.begin(), chain->ident.end());
        return n;
      }
      case NT::Bool: case NT::String: case NT::Number: case NT::Nil: case NT::Dot:
        errorf("unexpected . after term " + go_quote(node_string(node)));
      default:
        chain->base = node;
        return chain;
    }
  }

  Node* term() {
    const Item& tok = next_non_space();
    switch (tok.typ) {
      case It::Identifier: {
        if (!is_function_name(tok.val)) errorf("function " + go_quote(tok.val) + " not defined");
        Node* n = make(NT::Identifier, tok.pos);
        n->text = std::string(tok.val);
        return n;
      }
      case It::Dot: return make(NT::Dot, tok.pos);
      case It::Nil: return make(NT::Nil, tok.pos);
      case It::Variable: {
        Node* v = variable(tok.pos, tok.val);
        const auto& vars = ctx_->vars;
        if (std::find(vars.begin(), vars.end(), v->ident[0]) == vars.end()) {
          errorf("undefined variable " + go_quote(v->ident[0]));
        }
        return v;
      }
      case It::Field: {
        Node* n = make(NT::Field, tok.pos);
        n->ident.emplace_back(tok.val.substr(1));
        return n;
      }
      case It::Bool: {
        Node* n = make(NT::Bool, tok.pos);
        n->boolean = tok.val == "true";
        return n;
      }
      case It::CharConst: case It::Complex: case It::Number: return number(tok);
      case It::LeftParen: {
        Nest nest(this);
        return pipeline("parenthesized pipeline", It::RightParen);
      }
      case It::String: case It::RawString: {
        auto s = go_unquote(tok.val);
        if (!s) errorf("invalid syntax");
        Node* n = make(NT::String, tok.pos);
        n->text = std::string(tok.val);
        n->str = std::move(*s);
        return n;
      }
      default:
        backup();
        return nullptr;
    }
  }

  // parse.newNumber.
  Node* number(const Item& tok) {
    Node* n = make(NT::Number, tok.pos);
    n->text = std::string(tok.val);
    NumberLit& num = n->num;
    std::string_view text = tok.val;
    if (tok.typ == It::CharConst) {
      std::string_view body = text.substr(1);
      char32_t r;
      bool multibyte;
      if (!unquote_char(body, '\'', r, multibyte)) errorf("invalid syntax");
      if (body != "'") errorf("malformed character constant: " + std::string(text));
      num.is_int = num.is_uint = num.is_float = true;
      num.i = r;
      num.u = r;
      num.f = r;
      return n;
    }
    if (tok.typ == It::Complex) errorf("complex constants are not supported: " + std::string(text));
    if (text.ends_with('i')) {
      // Imaginary literals: only a zero one is a plain number.
      auto f = parse_float(text.substr(0, text.size() - 1));
      if (f && *f != 0) errorf("complex constants are not supported: " + std::string(text));
      if (f) {
        num.is_float = num.is_int = num.is_uint = true;
        return n;
      }
    }
    if (auto u = parse_uint0(text)) {
      num.is_uint = true;
      num.u = *u;
    }
    if (auto i = parse_int0(text)) {
      num.is_int = true;
      num.i = *i;
      if (*i == 0) num.is_uint = true;  // -0
    }
    if (num.is_int) {
      num.is_float = true;
      num.f = static_cast<double>(num.i);
    } else if (num.is_uint) {
      num.is_float = true;
      num.f = static_cast<double>(num.u);
    } else if (auto f = parse_float(text)) {
      if (text.find_first_of(".eEpP") == std::string_view::npos) {
        errorf("integer overflow: " + go_quote(text));
      }
      num.is_float = true;
      num.f = *f;
      if (*f >= -9223372036854775808.0 && *f < 9223372036854775808.0 &&
          static_cast<double>(static_cast<int64_t>(*f)) == *f) {
        num.is_int = true;
        num.i = static_cast<int64_t>(*f);
      }
      if (*f >= 0 && *f < 18446744073709551616.0 && static_cast<double>(static_cast<uint64_t>(*f)) == *f) {
        num.is_uint = true;
        num.u = static_cast<uint64_t>(*f);
      }
    }
    if (!num.is_int && !num.is_uint && !num.is_float) errorf("illegal number syntax: " + go_quote(text));
    return n;
  }

  Program& prog_;
  std::vector<Item> items_;
  size_t idx_ = 0, hi_ = 0;
  Ctx* ctx_ = nullptr;
  int action_line_ = 0;
  int depth_ = 0;
};

std::unique_ptr<Program> parse_program(const std::string& name, const std::string& text) {
  if (text.size() > kMaxTemplate) {
    throw TemplateError("template: " + name + ": template is " + std::to_string(text.size()) +
                            " bytes, more than the limit of " + std::to_string(kMaxTemplate),
                        "");
  }
  auto prog = std::make_unique<Program>();
  prog->name = name;
  prog->text = text;
  for (size_t i = 0; i < prog->text.size(); ++i) {
    if (prog->text[i] == '\n') prog->newlines.push_back(i);
  }
  Parser parser(*prog, Lexer(prog->text).run());
  parser.parse();
  return prog;
}

// ---------------------------------------------------------------------------
// Values: a Go value seen through its JSON form and the hints.

enum class K : uint8_t { Invalid, Nil, Bool, Int, Float, String, Time, Slice, Map, Struct };
enum class IntT : uint8_t { Int, Int64, Int32, Uint8, Uint64, Month, Weekday };
enum class NilT : uint8_t { Iface, TimePtr, StructPtr };

// Not a public GoKind: marks the elements of render_report's []any{data}.
constexpr unsigned kIfaceBit = 1u << 8;

struct Value {
  K k = K::Invalid;
  IntT it = IntT::Int;
  NilT nt = NilT::Iface;
  bool b = false;
  bool iface = false;     // stored in an interface{}: its static type is interface {}
  bool time_ptr = true;   // Time: *time.Time (as in the inspect structs) or time.Time
  bool hinted = false;    // `path` locates the value in the hinted data
  int64_t i = 0;          // Int, signed kinds
  uint64_t u = 0;         // Int, unsigned kinds
  double f = 0;
  GoTime t;
  const Json* j = nullptr;  // String, Slice, Map, Struct; nullptr for a nil map or slice
  std::shared_ptr<const Json> own;  // keeps synthesized JSON alive
  std::string path;

  const std::string& str() const { return j->get_ref<const std::string&>(); }
  bool is_signed() const { return it != IntT::Uint8 && it != IntT::Uint64; }
  size_t len() const { return j ? j->size() : 0; }
};

Value make_string(std::string s) {
  Value v;
  v.k = K::String;
  auto p = std::make_shared<const Json>(std::move(s));
  v.j = p.get();
  v.own = std::move(p);
  return v;
}

Value make_int(int64_t i, IntT t = IntT::Int) {
  Value v;
  v.k = K::Int;
  v.it = t;
  v.i = i;
  return v;
}

Value make_uint(uint64_t u, IntT t) {
  Value v;
  v.k = K::Int;
  v.it = t;
  v.u = u;
  return v;
}

Value make_bool(bool b) {
  Value v;
  v.k = K::Bool;
  v.b = b;
  return v;
}

Value make_float(double f) {
  Value v;
  v.k = K::Float;
  v.f = f;
  return v;
}

Value make_nil_iface() {
  Value v;
  v.k = K::Nil;
  return v;
}

Value make_string_slice(Json arr) {
  Value v;
  v.k = K::Slice;
  auto p = std::make_shared<const Json>(std::move(arr));
  v.j = p.get();
  v.own = std::move(p);
  return v;
}

// A nil interface{}: text/template turns it into "no value" at the end of
// each pipeline stage, but it still fails a field lookup as a nil pointer.
bool is_nil_iface(const Value& v) { return v.k == K::Nil && v.nt == NilT::Iface; }

// What a builtin's parameter accepts (evalArg's `typ`).
enum class P : uint8_t {
  Untyped,   // evalArg(dot, nil, n)
  Value,     // reflect.Value: anything, including "no value"
  Iface,     // interface{}: "no value" becomes nil
  Str,       // string
  Int,       // int
  StrSlice,  // []string
};

const char* p_name(P t) {
  switch (t) {
    case P::Value: return "reflect.Value";
    case P::Str: return "string";
    case P::Int: return "int";
    case P::StrSlice: return "[]string";
    default: return "interface {}";
  }
}

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  bool plus_v = false, sharp_v = false;
  bool wid_present = false, prec_present = false;
  int wid = 0, prec = 0;
};

// An error from inside a function; the executor reports it as
// `error calling NAME: MSG` at the call.
struct FuncError {
  std::string msg;
};

enum class Flow { Normal, Break, Continue };

class Exec;
using BuiltinFn = Value (*)(Exec&, std::vector<Value>&, std::span<Node* const>);

struct Builtin {
  std::string_view name;
  std::vector<P> params;
  bool variadic;
  BuiltinFn fn;
};

const Builtin* find_builtin(std::string_view name);

class Exec {
 public:
  Exec(const Program& prog, const TypeHints& hints) : prog_(prog), hints_(hints) {}

  std::string run(const Json& data) {
    tmpl_name_ = prog_.name;
    Value dot = data_value(&data, "", true, nullptr);
    vars_.push_back({"$", dot});
    auto it = prog_.trees.find(prog_.name);
    if (it == prog_.trees.end()) errorf(go_quote(prog_.name) + " is an incomplete or empty template");
    walk(dot, it->second);
    return std::move(out_);
  }

  // ---- used by builtins ----

  [[noreturn]] void errorf(const std::string& msg) {
    std::string full;
    if (!node_) {
      full = "template: " + tmpl_name_ + ": " + msg;
    } else {
      size_t pos = std::min(node_->pos, prog_.text.size());
      std::string_view before = std::string_view(prog_.text).substr(0, pos);
      size_t nl = before.rfind('\n');
      size_t col = nl == std::string_view::npos ? pos : pos - (nl + 1);
      std::string context = node_string(node_);
      if (context.size() > 20) context = std::string(truncate_runes(context, 20)) + "...";
      full = "template: " + prog_.name + ":" + std::to_string(prog_.line_of(pos)) + ":" +
             std::to_string(col) + ": executing " + go_quote(tmpl_name_) + " at <" + context +
             ">: " + msg;
    }
    throw TemplateError(full, out_);
  }

  void tick(uint64_t n = 1) {
    steps_ += n;
    if (steps_ > kMaxSteps) {
      errorf("execution takes more than " + std::to_string(kMaxSteps) + " steps");
    }
  }

  // Results a function may build before they are written.
  void check_size(size_t n) {
    if (n > kMaxOutput) throw FuncError{"result longer than " + std::to_string(kMaxOutput) + " bytes"};
    tick(n / 16);
  }

  unsigned hint_bits(const std::string& path) const {
    auto it = hints_.find(path);
    return it == hints_.end() ? 0 : static_cast<unsigned>(it->second);
  }

  Value data_value(const Json* j, std::string path, bool hinted, std::shared_ptr<const Json> own) const {
    unsigned h = hinted ? hint_bits(path) : 0;
    Value v;
    v.own = std::move(own);
    v.path = std::move(path);
    v.hinted = hinted;
    v.iface = (h & kIfaceBit) != 0;
    auto bit = [&](GoKind k) { return (h & static_cast<unsigned>(k)) != 0; };
    switch (j->type()) {
      case Json::value_t::null:
        if (bit(GoKind::Map)) {
          v.k = K::Map;
        } else if (bit(GoKind::Slice)) {
          v.k = K::Slice;
        } else {
          v.k = K::Nil;
          v.nt = bit(GoKind::Time) ? NilT::TimePtr : bit(GoKind::Struct) ? NilT::StructPtr : NilT::Iface;
        }
        return v;
      case Json::value_t::boolean:
        v.k = K::Bool;
        v.b = j->get<bool>();
        return v;
      case Json::value_t::number_integer:
        v.k = K::Int;
        v.it = IntT::Int64;
        v.i = j->get<int64_t>();
        return v;
      case Json::value_t::number_unsigned: {
        uint64_t u = j->get<uint64_t>();
        v.k = K::Int;
        if (u <= static_cast<uint64_t>(INT64_MAX)) {
          v.it = IntT::Int64;
          v.i = static_cast<int64_t>(u);
        } else {
          v.it = IntT::Uint64;
          v.u = u;
        }
        return v;
      }
      case Json::value_t::number_float:
        v.k = K::Float;
        v.f = j->get<double>();
        return v;
      case Json::value_t::string:
        if (bit(GoKind::Time)) {
          if (auto t = parse_rfc3339(j->get_ref<const std::string&>())) {
            v.k = K::Time;
            v.t = *t;
            return v;
          }
        }
        v.k = K::String;
        v.j = j;
        return v;
      case Json::value_t::array:
        v.k = K::Slice;
        v.j = j;
        return v;
      case Json::value_t::object:
        v.k = bit(GoKind::Map) ? K::Map : K::Struct;
        v.j = j;
        return v;
      default:
        v.k = K::Nil;
        return v;
    }
  }

  Value slice_elem(const Value& s, size_t i) const {
    return data_value(&(*s.j)[i], s.path + "/*", s.hinted, s.own);
  }
  Value map_value(const Value& m, const Json& child) const {
    return data_value(&child, m.path + "/*", m.hinted, m.own);
  }

  std::string elem_type_name(const Value& v) const {
    unsigned h = v.hinted ? hint_bits(v.path + "/*") : 0;
    if (h & kIfaceBit) return "interface {}";
    if (h & static_cast<unsigned>(GoKind::Time)) return "*time.Time";
    if (h & static_cast<unsigned>(GoKind::Map)) return "map[string]string";
    if (h & static_cast<unsigned>(GoKind::Slice)) return "[]string";
    if (!v.j || v.j->empty()) return "string";
    const Json& first = v.k == K::Slice ? v.j->front() : v.j->begin().value();
    switch (first.type()) {
      case Json::value_t::string: return "string";
      case Json::value_t::number_integer: case Json::value_t::number_unsigned: return "int64";
      case Json::value_t::number_float: return "float64";
      case Json::value_t::boolean: return "bool";
      case Json::value_t::object: return "struct";
      case Json::value_t::array: return "[]string";
      default: return "interface {}";
    }
  }

  // reflect.Type.String() of the value; `dynamic` looks through interface{}.
  std::string type_name(const Value& v, bool dynamic = false) const {
    if (v.iface && !dynamic) return "interface {}";
    switch (v.k) {
      case K::Invalid: return "<nil>";
      case K::Nil:
        return v.nt == NilT::TimePtr ? "*time.Time" : v.nt == NilT::StructPtr ? "*struct" : "interface {}";
      case K::Bool: return "bool";
      case K::Int:
        switch (v.it) {
          case IntT::Int: return "int";
          case IntT::Int64: return "int64";
          case IntT::Int32: return "int32";
          case IntT::Uint8: return "uint8";
          case IntT::Uint64: return "uint64";
          case IntT::Month: return "time.Month";
          case IntT::Weekday: return "time.Weekday";
        }
        return "int";
      case K::Float: return "float64";
      case K::String: return "string";
      case K::Time: return v.time_ptr ? "*time.Time" : "time.Time";
      case K::Slice: return "[]" + elem_type_name(v);
      case K::Map: return "map[string]" + elem_type_name(v);
      case K::Struct: return "struct";
    }
    return "";
  }

  // text/template's truth: empty values are false.
  static bool is_true(const Value& v) {
    switch (v.k) {
      case K::Invalid: case K::Nil: return false;
      case K::Bool: return v.b;
      case K::Int: return v.is_signed() ? v.i != 0 : v.u != 0;
      case K::Float: return v.f != 0;
      case K::String: return !v.str().empty();
      case K::Slice: case K::Map: return v.len() != 0;
      case K::Time: case K::Struct: return true;
    }
    return false;
  }

  // ---- fmt ----

  void pad(std::string& out, std::string_view s, const Spec& sp) const {
    if (!sp.wid_present || sp.wid == 0) {
      out += s;
      return;
    }
    size_t w = rune_count(s);
    size_t want = static_cast<size_t>(sp.wid);
    if (w >= want) {
      out += s;
      return;
    }
    if (sp.minus) {
      out += s;
      out.append(want - w, ' ');
    } else {
      out.append(want - w, sp.zero ? '0' : ' ');
      out += s;
    }
  }

  void bad_verb(std::string& out, const Value& v, char32_t verb) {
    out += "%!";
    go_append_rune(out, verb);
    out += '(';
    if (v.k == K::Invalid || is_nil_iface(v)) {
      out += "<nil>";
    } else {
      out += type_name(v, true) + "=";
      fmt_value(out, v, 'v', Spec{}, 0);
    }
    out += ')';
  }

  void fmt_integer(std::string& out, const Value& v, char32_t verb, Spec sp) {
    bool neg = v.is_signed() && v.i < 0;
    uint64_t u = v.is_signed() ? (neg ? 0 - static_cast<uint64_t>(v.i) : static_cast<uint64_t>(v.i)) : v.u;
    uint64_t raw = v.is_signed() ? static_cast<uint64_t>(v.i) : v.u;
    unsigned base = 10;
    const char* digits = kLowerHex;
    switch (verb) {
      case 'v': case 'd': break;
      case 'b': base = 2; break;
      case 'o': case 'O': base = 8; break;
      case 'x': base = 16; break;
      case 'X': base = 16, digits = kUpperHex; break;
      case 'c': {
        std::string s;
        go_append_rune(s, raw > 0x10FFFF ? kGoRuneError : static_cast<char32_t>(raw));
        return pad(out, s, sp);
      }
      case 'q': {
        char32_t r = raw > 0x10FFFF ? kGoRuneError : static_cast<char32_t>(raw);
        return pad(out, sp.plus ? go_quote_rune_to_ascii(r) : go_quote_rune(r), sp);
      }
      case 'U': {
        std::string s = "U+";
        std::string hex;
        append_hex(hex, raw, 16, kUpperHex);
        size_t first = hex.find_first_not_of('0');
        hex = first == std::string::npos ? "0" : hex.substr(first);
        size_t min_digits = sp.prec_present ? static_cast<size_t>(sp.prec) : 4;
        if (hex.size() < min_digits) hex.insert(0, min_digits - hex.size(), '0');
        s += hex;
        if (sp.sharp && raw <= 0x10FFFF && go_is_print(static_cast<char32_t>(raw))) {
          s += " '";
          go_append_rune(s, static_cast<char32_t>(raw));
          s += '\'';
        }
        Spec s2 = sp;
        s2.zero = false;
        return pad(out, s, s2);
      }
      default:
        return bad_verb(out, v, verb);
    }
    int prec = 0;
    if (sp.prec_present) {
      prec = sp.prec;
      if (prec == 0 && u == 0) {
        out.append(sp.wid_present ? static_cast<size_t>(sp.wid) : 0, ' ');
        return;
      }
    } else if (sp.zero && !sp.minus && sp.wid_present) {
      prec = sp.wid;
      if (neg || sp.plus || sp.space) --prec;
    }
    std::string s;  // built backwards
    do {
      s += digits[u % base];
      u /= base;
    } while (u != 0);
    while (static_cast<int>(s.size()) < prec) s += '0';
    if (sp.sharp) {
      if (base == 2) {
        s += "b0";
      } else if (base == 8 && s.back() != '0') {
        s += '0';
      } else if (base == 16) {
        s += digits == kUpperHex ? "X0" : "x0";
      }
    }
    if (verb == 'O') s += "o0";
    if (neg) {
      s += '-';
    } else if (sp.plus) {
      s += '+';
    } else if (sp.space) {
      s += ' ';
    }
    std::reverse(s.begin(), s.end());
    Spec s2 = sp;
    s2.zero = false;
    pad(out, s, s2);
  }

  void fmt_float(std::string& out, const Value& v, char32_t verb, const Spec& sp) {
    char fc;
    int prec = -1;
    switch (verb) {
      case 'v': fc = 'g'; break;
      case 'g': case 'G': fc = static_cast<char>(verb); break;
      case 'e': case 'E': case 'f': case 'F': fc = static_cast<char>(verb), prec = 6; break;
      default: return bad_verb(out, v, verb);
    }
    if (sp.prec_present) prec = sp.prec;
    double f = v.f;
    std::string num;
    if (std::isnan(f)) {
      num = "+NaN";
    } else if (std::isinf(f)) {
      num = f > 0 ? "+Inf" : "-Inf";
    } else {
      num = std::signbit(f) ? "-" : "+";
      if (prec < 0) {
        num += format_shortest(std::fabs(f), fc);
      } else {
        char fmtbuf[8] = {'%', '.', '*', fc == 'F' ? 'f' : fc, 0};
        int n = std::snprintf(nullptr, 0, fmtbuf, prec, std::fabs(f));
        std::string digits(static_cast<size_t>(n) + 1, '\0');
        std::snprintf(digits.data(), digits.size(), fmtbuf, prec, std::fabs(f));
        digits.resize(static_cast<size_t>(n));
        num += digits;
      }
    }
    if (sp.space && num[0] == '+' && !sp.plus) num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
      if (num[1] == 'N' && !sp.space && !sp.plus) num.erase(0, 1);
      Spec s2 = sp;
      s2.zero = false;
      return pad(out, num, s2);
    }
    if (sp.plus || num[0] != '+') {
      if (sp.zero && !sp.minus && sp.wid_present && static_cast<size_t>(sp.wid) > num.size()) {
        out += num[0];
        out.append(static_cast<size_t>(sp.wid) - num.size(), '0');
        out.append(num, 1, std::string::npos);
        return;
      }
      return pad(out, num, sp);
    }
    pad(out, std::string_view(num).substr(1), sp);
  }

  static bool can_backquote(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      Rune r = decode_rune(s, i);
      if (r.r == kGoRuneError && r.n == 1) return false;
      if (r.r == '`' || r.r == 0xFEFF) return false;
      if (r.r < ' ' && r.r != '\t') return false;
      if (r.r == 0x7F) return false;
      i += r.n;
    }
    return true;
  }

  void fmt_string(std::string& out, std::string_view s, const Value& v, char32_t verb, const Spec& sp) {
    switch (verb) {
      case 'v':
        if (sp.sharp_v) return pad(out, go_quote(s), sp);
        [[fallthrough]];
      case 's':
        return pad(out, sp.prec_present ? truncate_runes(s, static_cast<size_t>(sp.prec)) : s, sp);
      case 'q': {
        std::string_view t = sp.prec_present ? truncate_runes(s, static_cast<size_t>(sp.prec)) : s;
        if (sp.sharp && can_backquote(t)) return pad(out, "`" + std::string(t) + "`", sp);
        return pad(out, sp.plus ? go_quote_to_ascii(t) : go_quote(t), sp);
      }
      case 'x': case 'X': {
        const char* digits = verb == 'x' ? kLowerHex : kUpperHex;
        size_t n = s.size();
        if (sp.prec_present && static_cast<size_t>(sp.prec) < n) n = static_cast<size_t>(sp.prec);
        std::string h;
        for (size_t i = 0; i < n; ++i) {
          if (sp.space && i > 0) h += ' ';
          if (sp.sharp && (sp.space || i == 0)) h += verb == 'x' ? "0x" : "0X";
          auto c = static_cast<unsigned char>(s[i]);
          h += digits[c >> 4];
          h += digits[c & 0xF];
        }
        Spec s2 = sp;
        s2.zero = false;
        return pad(out, h, s2);
      }
      default:
        return bad_verb(out, v, verb);
    }
  }

  // fmt's printValue for one operand.
  void fmt_value(std::string& out, const Value& v, char32_t verb, const Spec& sp, int depth) {
    if (depth > kMaxValueDepth) errorf("value nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
    if (verb == 'T' && depth == 0) {
      return pad(out, v.k == K::Invalid || is_nil_iface(v) ? "<nil>" : type_name(v, true), sp);
    }
    switch (v.k) {
      case K::Invalid:
        if (depth > 0) {
          out += "<invalid reflect.Value>";
          return;
        }
        if (verb == 'v') return pad(out, "<nil>", sp);
        return bad_verb(out, v, verb);
      case K::Nil:
        if (v.nt == NilT::Iface) {
          if (depth > 0 || verb == 'v') return pad(out, "<nil>", sp);
          return bad_verb(out, v, verb);
        }
        if (verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') return pad(out, "<nil>", sp);
        return bad_verb(out, v, verb);
      case K::Bool:
        if (verb == 'v' || verb == 't') return pad(out, v.b ? "true" : "false", sp);
        return bad_verb(out, v, verb);
      case K::Int:
        if ((v.it == IntT::Month || v.it == IntT::Weekday) &&
            (verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X')) {
          return fmt_string(out, stringer(v), v, verb, sp);
        }
        return fmt_integer(out, v, verb, sp);
      case K::Float:
        return fmt_float(out, v, verb, sp);
      case K::String:
        return fmt_string(out, v.str(), v, verb, sp);
      case K::Time:
        if (verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') {
          return fmt_string(out, time_string(v.t), v, verb, sp);
        }
        return bad_verb(out, v, verb);
      case K::Slice:
        out += '[';
        for (size_t i = 0; i < v.len(); ++i) {
          if (i > 0) out += ' ';
          fmt_value(out, slice_elem(v, i), verb, sp, depth + 1);
        }
        out += ']';
        return;
      case K::Map: {
        out += "map[";
        bool first = true;
        for (const auto& [key, child] : sorted_items(v)) {
          if (!first) out += ' ';
          first = false;
          fmt_string(out, *key, make_string(*key), verb, sp);
          out += ':';
          fmt_value(out, map_value(v, *child), verb, sp, depth + 1);
        }
        out += ']';
        return;
      }
      case K::Struct: {
        out += '{';
        bool first = true;
        for (const auto& [key, child] : v.j->items()) {
          if (!first) out += ' ';
          first = false;
          if (sp.plus_v || sp.sharp_v) out += key + ":";
          fmt_value(out, data_value(&child, v.path + "/" + key, v.hinted, v.own), verb, sp, depth + 1);
        }
        out += '}';
        return;
      }
    }
  }

  std::vector<std::pair<const std::string*, const Json*>> sorted_items(const Value& m) {
    std::vector<std::pair<const std::string*, const Json*>> items;
    if (!m.j) return items;
    for (const auto& [key, child] : m.j->items()) items.emplace_back(&key, &child);
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    tick(items.size());
    return items;
  }

  static std::string stringer(const Value& v) {
    if (v.it == IntT::Month) {
      if (v.i >= 1 && v.i <= 12) return kMonths[v.i - 1];
      return "%!Month(" + std::to_string(v.i) + ")";
    }
    if (v.i >= 0 && v.i <= 6) return kDays[v.i];
    return "%!Weekday(" + std::to_string(v.i) + ")";
  }

  std::string sprint(const std::vector<Value>& args) {
    std::string out;
    bool prev_string = false;
    for (size_t i = 0; i < args.size(); ++i) {
      bool is_string = args[i].k == K::String;
      if (i > 0 && !is_string && !prev_string) out += ' ';
      fmt_value(out, args[i], 'v', Spec{}, 0);
      prev_string = is_string;
      check_size(out.size());
    }
    return out;
  }

  std::string sprintln(const std::vector<Value>& args) {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0) out += ' ';
      fmt_value(out, args[i], 'v', Spec{}, 0);
      check_size(out.size());
    }
    out += '\n';
    return out;
  }

  // fmt.Sprintf's doPrintf.
  std::string sprintf(std::string_view format, const std::vector<Value>& a) {
    std::string out;
    size_t end = format.size();
    size_t arg_num = 0;
    bool reordered = false;
    auto too_large = [](int64_t x) { return x > 1000000 || x < -1000000; };
    auto parsenum = [&](size_t start, size_t stop, int& num, bool& isnum) -> size_t {
      num = 0;
      isnum = false;
      if (start >= stop) return stop;
      size_t i = start;
      for (; i < stop && format[i] >= '0' && format[i] <= '9'; ++i) {
        if (too_large(num)) {
          isnum = false;
          return stop;
        }
        num = num * 10 + (format[i] - '0');
        isnum = true;
      }
      return i;
    };
    bool good_arg_num = true;
    // [n] argument indexes.
    auto arg_number = [&](size_t cur, size_t i, bool& found) -> std::pair<size_t, size_t> {
      found = false;
      if (i >= end || format[i] != '[') return {cur, i};
      reordered = true;
      std::string_view f = format.substr(i);
      size_t wid = 1;
      bool ok = false;
      int index = 0;
      if (f.size() >= 3) {
        for (size_t k = 1; k < f.size(); ++k) {
          if (f[k] == ']') {
            int width;
            bool isnum;
            size_t newi = parsenum(i + 1, i + k, width, isnum);
            if (!isnum || newi != i + k) {
              wid = k + 1;
              break;
            }
            index = width - 1;
            wid = k + 1;
            ok = true;
            break;
          }
        }
      }
      if (ok && index >= 0 && static_cast<size_t>(index) < a.size()) {
        found = true;
        return {static_cast<size_t>(index), i + wid};
      }
      good_arg_num = false;
      found = ok;
      return {cur, i + wid};
    };
    auto int_from_arg = [&](int& num) -> bool {
      bool is_int = false;
      num = 0;
      if (arg_num < a.size()) {
        const Value& v = a[arg_num];
        if (v.k == K::Int) {
          if (v.is_signed()) {
            num = static_cast<int>(std::clamp<int64_t>(v.i, INT32_MIN, INT32_MAX));
            is_int = num == v.i;
          } else {
            is_int = v.u <= static_cast<uint64_t>(INT32_MAX);
            num = is_int ? static_cast<int>(v.u) : 0;
          }
        }
        ++arg_num;
        if (too_large(num)) {
          num = 0;
          is_int = false;
        }
      }
      return is_int;
    };

    size_t i = 0;
    while (i < end) {
      good_arg_num = true;
      size_t lasti = i;
      while (i < end && format[i] != '%') ++i;
      out.append(format.substr(lasti, i - lasti));
      if (i >= end) break;
      ++i;  // skip %
      Spec sp;
      for (; i < end; ++i) {
        char c = format[i];
        if (c == '#') {
          sp.sharp = true;
        } else if (c == '0') {
          sp.zero = !sp.minus;
        } else if (c == '+') {
          sp.plus = true;
        } else if (c == '-') {
          sp.minus = true;
          sp.zero = false;
        } else if (c == ' ') {
          sp.space = true;
        } else {
          break;
        }
      }
      bool after_index;
      std::tie(arg_num, i) = arg_number(arg_num, i, after_index);
      if (i < end && format[i] == '*') {
        ++i;
        sp.wid_present = int_from_arg(sp.wid);
        if (!sp.wid_present) out += "%!(BADWIDTH)";
        if (sp.wid < 0) {
          sp.wid = -sp.wid;
          sp.minus = true;
          sp.zero = false;
        }
        after_index = false;
      } else {
        i = parsenum(i, end, sp.wid, sp.wid_present);
        if (after_index && sp.wid_present) good_arg_num = false;
      }
      if (i + 1 <= end && i < end && format[i] == '.') {
        ++i;
        if (after_index) good_arg_num = false;
        std::tie(arg_num, i) = arg_number(arg_num, i, after_index);
        if (i < end && format[i] == '*') {
          ++i;
          sp.prec_present = int_from_arg(sp.prec);
          if (sp.prec < 0) {
            sp.prec = 0;
            sp.prec_present = false;
          }
          if (!sp.prec_present) out += "%!(BADPREC)";
          after_index = false;
        } else {
          i = parsenum(i, end, sp.prec, sp.prec_present);
          if (!sp.prec_present) {
            sp.prec = 0;
            sp.prec_present = true;
          }
        }
      }
      if (!after_index) std::tie(arg_num, i) = arg_number(arg_num, i, after_index);
      if (i >= end) {
        out += "%!(NOVERB)";
        break;
      }
      Rune vr = decode_rune(format, i);
      char32_t verb = vr.r;
      i += vr.n;
      if (verb == '%') {
        out += '%';
      } else if (!good_arg_num) {
        out += "%!";
        go_append_rune(out, verb);
        out += "(BADINDEX)";
      } else if (arg_num >= a.size()) {
        out += "%!";
        go_append_rune(out, verb);
        out += "(MISSING)";
      } else {
        if (verb == 'v') {
          sp.sharp_v = sp.sharp;
          sp.sharp = false;
          sp.plus_v = sp.plus;
          sp.plus = false;
        }
        fmt_value(out, a[arg_num], verb, sp, 0);
        ++arg_num;
      }
      check_size(out.size());
    }
    if (!reordered && arg_num < a.size()) {
      out += "%!(EXTRA ";
      for (size_t k = arg_num; k < a.size(); ++k) {
        if (k > arg_num) out += ", ";
        if (a[k].k == K::Invalid || is_nil_iface(a[k])) {
          out += "<nil>";
        } else {
          out += type_name(a[k], true) + "=";
          fmt_value(out, a[k], 'v', Spec{}, 0);
        }
      }
      out += ')';
    }
    check_size(out.size());
    return out;
  }

  // The value the `json` function marshals: struct omitempty fields dropped
  // and map keys sorted, as encoding/json would.
  Json plain_json(const Json& j, const std::string& path, bool hinted, int depth) {
    tick();
    if (depth > kMaxValueDepth) errorf("value nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
    unsigned h = hinted ? hint_bits(path) : 0;
    if (j.is_array()) {
      Json out = Json::array();
      for (const auto& e : j) out.push_back(plain_json(e, path + "/*", hinted, depth + 1));
      return out;
    }
    if (!j.is_object()) {
      if (h & static_cast<unsigned>(GoKind::Time) && j.is_string()) {
        if (auto t = parse_rfc3339(j.get_ref<const std::string&>())) return rfc3339(*t);
      }
      return j;
    }
    Json out = Json::object();
    if (h & static_cast<unsigned>(GoKind::Map)) {
      std::vector<std::pair<const std::string*, const Json*>> items;
      for (const auto& [key, child] : j.items()) items.emplace_back(&key, &child);
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
      for (const auto& [key, child] : items) out[*key] = plain_json(*child, path + "/*", hinted, depth + 1);
      return out;
    }
    for (const auto& [key, child] : j.items()) {
      std::string cp = path + "/" + key;
      unsigned ch = hinted ? hint_bits(cp) : 0;
      if ((ch & static_cast<unsigned>(GoKind::Embedded)) && child.is_object()) {
        Json inner = plain_json(child, cp, hinted, depth + 1);
        for (auto& [ik, iv] : inner.items()) {
          if (!out.contains(ik)) out[ik] = std::move(iv);
        }
        continue;
      }
      if ((ch & static_cast<unsigned>(GoKind::OmitEmpty)) && is_empty_json(child, ch)) continue;
      out[key] = plain_json(child, cp, hinted, depth + 1);
    }
    return out;
  }

  static bool is_empty_json(const Json& j, unsigned h) {
    switch (j.type()) {
      case Json::value_t::null: return true;
      case Json::value_t::boolean: return !j.get<bool>();
      case Json::value_t::number_integer: return j.get<int64_t>() == 0;
      case Json::value_t::number_unsigned: return j.get<uint64_t>() == 0;
      case Json::value_t::number_float: return j.get<double>() == 0;
      case Json::value_t::string: return j.get_ref<const std::string&>().empty();
      case Json::value_t::array: return j.empty();
      case Json::value_t::object: return (h & static_cast<unsigned>(GoKind::Map)) && j.empty();
      default: return false;
    }
  }

  static std::string rfc3339(const GoTime& t) {
    return time_format(t, "2006-01-02T15:04:05.999999999Z07:00");
  }

  Json to_json(const Value& v) {
    switch (v.k) {
      case K::Invalid: case K::Nil: return nullptr;
      case K::Bool: return v.b;
      case K::Int: return v.is_signed() ? Json(v.i) : Json(v.u);
      case K::Float: return v.f;
      case K::String: return v.str();
      case K::Time: return rfc3339(v.t);
      case K::Slice: case K::Map: case K::Struct:
        if (!v.j) return nullptr;
        return plain_json(*v.j, v.path, v.hinted, 0);
    }
    return nullptr;
  }

  // ---- execution (exec.go) ----

 private:
  struct Var {
    std::string name;
    Value v;
  };

  class Depth {
   public:
    explicit Depth(Exec* e) : e_(e) {
      if (++e_->depth_ > kMaxExecDepth) {
        e_->errorf("exceeded maximum template depth (" + std::to_string(kMaxExecDepth) + ")");
      }
    }
    ~Depth() { --e_->depth_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;

   private:
    Exec* e_;
  };

  void at(const Node* n) { node_ = n; }

  void write(std::string_view s) {
    if (out_.size() + s.size() > kMaxOutput) {
      errorf("output longer than " + std::to_string(kMaxOutput) + " bytes");
    }
    out_.append(s);
  }

  Flow walk(const Value& dot, const Node* n) {
    tick();
    at(n);
    switch (n->type) {
      case NT::Action: {
        Value v = eval_pipeline(dot, n->pipe);
        if (n->pipe->decl.empty()) print_value(n, v);
        return Flow::Normal;
      }
      case NT::Break: return Flow::Break;
      case NT::Continue: return Flow::Continue;
      case NT::If: case NT::With: return walk_if_or_with(dot, n);
      case NT::List:
        for (const Node* c : n->nodes) {
          Flow f = walk(dot, c);
          if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
      case NT::Range: return walk_range(dot, n);
      case NT::Template: walk_template(dot, n); return Flow::Normal;
      case NT::Text: write(n->text); return Flow::Normal;
      default: errorf("unknown node: " + node_string(n));
    }
  }

  void print_value(const Node* n, const Value& v) {
    at(n);
    if (v.k == K::Invalid) return write("<no value>");
    std::string s;
    fmt_value(s, v, 'v', Spec{}, 0);
    write(s);
  }

  Flow walk_if_or_with(const Value& dot, const Node* n) {
    Depth depth(this);
    size_t mark = vars_.size();
    Value val = eval_pipeline(dot, n->pipe);
    Flow f = Flow::Normal;
    if (is_true(val)) {
      f = walk(n->type == NT::With ? val : dot, n->list);
    } else if (n->else_list) {
      f = walk(dot, n->else_list);
    }
    vars_.resize(mark);
    return f;
  }

  Flow walk_range(const Value& dot, const Node* r) {
    Depth depth(this);
    at(r);
    size_t mark = vars_.size();
    Value val = eval_pipeline(dot, r->pipe);
    val.iface = false;
    size_t mark2 = vars_.size();
    const auto& decl = r->pipe->decl;
    bool broke = false;
    auto one = [&](const Value& index, const Value& elem) {
      tick();
      if (!decl.empty()) {
        if (r->pipe->is_assign) {
          set_var(decl[0]->ident[0], decl.size() > 1 ? index : elem);
        } else {
          vars_[vars_.size() - 1].v = elem;
        }
      }
      if (decl.size() > 1) {
        if (r->pipe->is_assign) {
          set_var(decl[1]->ident[0], elem);
        } else {
          vars_[vars_.size() - 2].v = index;
        }
      }
      Flow f = walk(elem, r->list);
      vars_.resize(mark2);
      if (f == Flow::Break) broke = true;
    };
    bool ran = false;
    switch (val.k) {
      case K::Slice:
        for (size_t i = 0; i < val.len() && !broke; ++i) {
          one(make_int(static_cast<int64_t>(i)), slice_elem(val, i));
          ran = true;
        }
        break;
      case K::Map:
        for (const auto& [key, child] : sorted_items(val)) {
          one(make_string(*key), map_value(val, *child));
          ran = true;
          if (broke) break;
        }
        break;
      case K::Int:
        if (decl.size() > 1) {
          std::string s;
          fmt_value(s, val, 'v', Spec{}, 0);
          errorf("can't use " + s + " to iterate over more than one variable");
        }
        if (val.is_signed()) {
          for (int64_t i = 0; i < val.i && !broke; ++i) {
            one(make_int(i, val.it), make_int(i, val.it));
            ran = true;
          }
        } else {
          for (uint64_t i = 0; i < val.u && !broke; ++i) {
            one(make_uint(i, val.it), make_uint(i, val.it));
            ran = true;
          }
        }
        break;
      case K::Invalid:
        break;
      default: {
        std::string s;
        fmt_value(s, val, 'v', Spec{}, 0);
        errorf("range can't iterate over " + s);
      }
    }
    if (!ran && r->else_list) {
      Flow f = walk(dot, r->else_list);
      vars_.resize(mark);
      // Go recovers a {{break}} anywhere under the range, its else branch
      // included; a {{continue}} there belongs to an enclosing range.
      return f == Flow::Break ? Flow::Normal : f;
    }
    vars_.resize(mark);
    return Flow::Normal;
  }

  void walk_template(const Value& dot, const Node* t) {
    at(t);
    auto it = prog_.trees.find(t->text);
    if (it == prog_.trees.end()) errorf("template " + go_quote(t->text) + " not defined");
    Depth depth(this);
    Value newdot = eval_pipeline(dot, t->pipe);
    std::vector<Var> saved = std::move(vars_);
    std::string saved_name = std::exchange(tmpl_name_, t->text);
    vars_.clear();
    vars_.push_back({"$", newdot});
    walk(newdot, it->second);
    vars_ = std::move(saved);
    tmpl_name_ = std::move(saved_name);
  }

  Value eval_pipeline(const Value& dot, const Node* pipe) {
    if (!pipe) return Value{};
    at(pipe);
    std::optional<Value> value;
    for (const Node* cmd : pipe->nodes) {
      Value v = eval_command(dot, cmd, value ? &*value : nullptr);
      // An interface{} result is replaced by what it holds; nil becomes "no value".
      if (is_nil_iface(v)) v = Value{};
      v.iface = false;
      value = std::move(v);
    }
    for (const Node* var : pipe->decl) {
      if (pipe->is_assign) {
        set_var(var->ident[0], *value);
      } else {
        vars_.push_back({var->ident[0], *value});
      }
    }
    return *value;
  }

  void set_var(const std::string& name, const Value& v) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        vars_[i].v = v;
        return;
      }
    }
    errorf("undefined variable: " + name);
  }

  Value var_value(const std::string& name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) return vars_[i].v;
    }
    errorf("undefined variable: " + name);
  }

  using Args = std::span<Node* const>;

  void not_a_function(const Node* first, Args args, const Value* final) {
    if (!args.empty() || final) errorf("can't give argument to non-function " + node_string(first));
  }

  Value eval_command(const Value& dot, const Node* cmd, const Value* final) {
    tick();
    const Node* first = cmd->nodes[0];
    Args args = Args(cmd->nodes).subspan(1);
    switch (first->type) {
      case NT::Field: return eval_field_node(dot, first, args, final);
      case NT::Chain: return eval_chain_node(dot, first, args, final);
      case NT::Identifier: return eval_function(dot, first, cmd, args, final);
      case NT::Pipe:
        not_a_function(first, args, final);
        return eval_pipeline(dot, first);
      case NT::Variable: return eval_variable_node(dot, first, args, final);
      default: break;
    }
    at(first);
    not_a_function(first, args, final);
    switch (first->type) {
      case NT::Bool: return make_bool(first->boolean);
      case NT::Dot: return dot;
      case NT::Nil: errorf("nil is not a command");
      case NT::Number: return ideal_constant(first);
      case NT::String: return make_string(first->str);
      default: break;
    }
    errorf("can't evaluate command " + go_quote(node_string(first)));
  }

  Value ideal_constant(const Node* n) {
    at(n);
    const std::string& text = n->text;
    bool hex_int = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
                   text.find_first_of("pP") == std::string::npos;
    bool rune_int = !text.empty() && text[0] == '\'';
    if (n->num.is_float && !hex_int && !rune_int && text.find_first_of(".eEpP") != std::string::npos) {
      return make_float(n->num.f);
    }
    if (n->num.is_int) return make_int(n->num.i);
    if (n->num.is_uint) errorf(text + " overflows int");
    return Value{};
  }

  Value eval_field_node(const Value& dot, const Node* field, Args args, const Value* final) {
    at(field);
    return eval_field_chain(dot, dot, field, field->ident, args, final);
  }

  Value eval_chain_node(const Value& dot, const Node* chain, Args args, const Value* final) {
    at(chain);
    if (chain->base->type == NT::Nil) errorf("indirection through explicit nil in " + node_string(chain));
    Value base = eval_arg(dot, P::Untyped, chain->base);
    return eval_field_chain(dot, base, chain, chain->ident, args, final);
  }

  Value eval_variable_node(const Value& dot, const Node* var, Args args, const Value* final) {
    at(var);
    Value value = var_value(var->ident[0]);
    if (var->ident.size() == 1) {
      not_a_function(var, args, final);
      return value;
    }
    return eval_field_chain(dot, value, var, std::span(var->ident).subspan(1), args, final);
  }

  Value eval_field_chain(const Value& dot, Value receiver, const Node* node, std::span<const std::string> ident,
                         Args args, const Value* final) {
    for (size_t i = 0; i + 1 < ident.size(); ++i) {
      receiver = eval_field(dot, ident[i], node, {}, nullptr, receiver);
    }
    return eval_field(dot, ident.back(), node, args, final, receiver);
  }

  static bool is_time_method(std::string_view name) {
    static const std::string_view kNames[] = {
        "Year", "Month", "Day", "Hour", "Minute", "Second", "Nanosecond", "YearDay", "Weekday",
        "Unix", "UnixMilli", "UnixMicro", "UnixNano", "String", "Format", "UTC", "Local", "IsZero"};
    return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
  }

  Value eval_field(const Value& dot, const std::string& name, const Node* node, Args args, const Value* final,
                   const Value& receiver) {
    if (receiver.k == K::Invalid) return Value{};
    std::string typ = type_name(receiver);
    Value r = receiver;
    r.iface = false;
    if (is_nil_iface(r)) errorf("nil pointer evaluating " + typ + "." + name);
    bool is_time = r.k == K::Time || (r.k == K::Nil && r.nt == NilT::TimePtr);
    bool is_enum = r.k == K::Int && (r.it == IntT::Month || r.it == IntT::Weekday);
    if ((is_time && is_time_method(name)) || (is_enum && name == "String")) {
      return eval_method(dot, r, name, node, args, final);
    }
    bool has_args = !args.empty() || final;
    switch (r.k) {
      case K::Struct: {
        const Json* field = nullptr;
        std::string field_path;
        if (!find_field(*r.j, r.path, r.hinted, name, field, field_path, 0)) break;
        if (has_args) errorf(name + " has arguments but cannot be invoked as function");
        return data_value(field, std::move(field_path), r.hinted, r.own);
      }
      case K::Map: {
        if (has_args) errorf(name + " is not a method but has arguments");
        if (!r.j) return Value{};
        tick(r.j->size() / 32);
        auto it = r.j->find(name);
        if (it == r.j->end()) return Value{};
        return map_value(r, it.value());
      }
      case K::Nil:
        if (r.nt == NilT::StructPtr) errorf("nil pointer evaluating " + typ + "." + name);
        break;
      default:
        break;
    }
    errorf("can't evaluate field " + name + " in type " + typ);
  }

  // reflect's FieldByName: a field of the struct itself, else one promoted
  // from an embedded struct.
  bool find_field(const Json& obj, const std::string& path, bool hinted, const std::string& name,
                  const Json*& field, std::string& field_path, int depth) {
    tick(obj.size() / 32);  // ordered_json looks keys up linearly
    auto it = obj.find(name);
    if (it != obj.end()) {
      field = &it.value();
      field_path = path + "/" + name;
      return true;
    }
    if (!hinted || depth >= 8) return false;
    for (const auto& [key, child] : obj.items()) {
      std::string cp = path + "/" + key;
      if (child.is_object() && (hint_bits(cp) & static_cast<unsigned>(GoKind::Embedded)) &&
          find_field(child, cp, hinted, name, field, field_path, depth + 1)) {
        return true;
      }
    }
    return false;
  }

  Value eval_method(const Value& dot, const Value& r, const std::string& name, const Node* node, Args args,
                    const Value* final) {
    size_t want = name == "Format" ? 1 : 0;
    size_t num_in = args.size() + (final ? 1 : 0);
    if (num_in != want) {
      errorf("wrong number of args for " + name + ": want " + std::to_string(want) + " got " + std::to_string(num_in));
    }
    std::string layout;
    if (want == 1) layout = (args.empty() ? validate(*final, P::Str) : eval_arg(dot, P::Str, args[0])).str();
    if (r.k == K::Nil) {
      at(node);
      errorf("error calling " + name + ": runtime error: invalid memory address or nil pointer dereference");
    }
    if (r.k == K::Int) return make_string(stringer(r));
    const GoTime& t = r.t;
    int64_t unix = time_unix(t);
    if (name == "Year") return make_int(t.year);
    if (name == "Month") return make_int(t.month, IntT::Month);
    if (name == "Day") return make_int(t.day);
    if (name == "Hour") return make_int(t.hour);
    if (name == "Minute") return make_int(t.min);
    if (name == "Second") return make_int(t.sec);
    if (name == "Nanosecond") return make_int(t.nsec);
    if (name == "YearDay") return make_int(time_yday(t));
    if (name == "Weekday") return make_int(time_weekday(t), IntT::Weekday);
    if (name == "Unix") return make_int(unix, IntT::Int64);
    if (name == "UnixMilli") return make_int(unix * 1000 + t.nsec / 1000000, IntT::Int64);
    if (name == "UnixMicro") return make_int(unix * 1000000 + t.nsec / 1000, IntT::Int64);
    if (name == "UnixNano") {
      uint64_t ns = static_cast<uint64_t>(unix) * 1000000000u + static_cast<uint64_t>(t.nsec);
      return make_int(static_cast<int64_t>(ns), IntT::Int64);
    }
    if (name == "String") return make_string(time_string(t));
    if (name == "Format") {
      std::string s = time_format(t, layout);
      try {
        check_size(s.size());
      } catch (const FuncError& e) {
        at(node);
        errorf("error calling Format: " + e.msg);
      }
      return make_string(std::move(s));
    }
    if (name == "IsZero") return make_bool(unix == -62135596800 && t.nsec == 0);
    Value v;  // UTC, Local (Local is UTC here)
    v.k = K::Time;
    v.time_ptr = false;
    v.t = time_utc(t);
    return v;
  }

  Value eval_function(const Value& dot, const Node* node, const Node* cmd, Args args, const Value* final) {
    at(node);
    const Builtin* fn = find_builtin(node->text);
    if (!fn) errorf(go_quote(node->text) + " is not a defined function");
    return eval_call(dot, *fn, cmd, node->text, args, final);
  }

  Value eval_call(const Value& dot, const Builtin& fn, const Node* node, const std::string& name, Args args,
                  const Value* final) {
    size_t num_in = args.size() + (final ? 1 : 0);
    size_t nparams = fn.params.size();
    size_t num_fixed = args.size();
    if (fn.variadic) {
      num_fixed = nparams - 1;
      if (num_in < num_fixed) {
        errorf("wrong number of args for " + name + ": want at least " + std::to_string(nparams - 1) + " got " +
               std::to_string(args.size()));
      }
    } else if (num_in != nparams) {
      errorf("wrong number of args for " + name + ": want " + std::to_string(nparams) + " got " +
             std::to_string(num_in));
    }
    if (name == "and" || name == "or") {
      // Short-circuit: the deciding operand is the result.
      Value v;
      for (const Node* arg : args) {
        v = eval_arg(dot, P::Value, arg);
        if (is_true(v) == (name == "or")) return v;
      }
      if (final) v = validate(*final, P::Value);
      return v;
    }
    std::vector<Value> argv;
    argv.reserve(num_in);
    size_t i = 0;
    for (; i < num_fixed && i < args.size(); ++i) argv.push_back(eval_arg(dot, fn.params[i], args[i]));
    if (fn.variadic) {
      for (; i < args.size(); ++i) argv.push_back(eval_arg(dot, fn.params.back(), args[i]));
    }
    if (final) {
      P t = fn.params.back();
      if (fn.variadic && num_in - 1 < num_fixed) t = fn.params[num_in - 1];
      argv.push_back(validate(*final, t));
    }
    try {
      Value v = fn.fn(*this, argv, args);
      v.iface = false;
      return v;
    } catch (const FuncError& e) {
      at(node);
      errorf("error calling " + name + ": " + e.msg);
    }
  }

  Value eval_arg(const Value& dot, P t, const Node* n) {
    at(n);
    switch (n->type) {
      case NT::Dot: return validate(dot, t);
      case NT::Nil:
        if (t == P::Str || t == P::Int) errorf(std::string("cannot assign nil to ") + p_name(t));
        return zero(t);
      case NT::Field: return validate(eval_field_node(dot, n, {}, nullptr), t);
      case NT::Variable: return validate(eval_variable_node(dot, n, {}, nullptr), t);
      case NT::Pipe: return validate(eval_pipeline(dot, n), t);
      case NT::Identifier: return validate(eval_function(dot, n, n, {}, nullptr), t);
      case NT::Chain: return validate(eval_chain_node(dot, n, {}, nullptr), t);
      default: break;
    }
    switch (t) {
      case P::Str:
        if (n->type == NT::String) return make_string(n->str);
        errorf("expected string; found " + node_string(n));
      case P::Int:
        if (n->type == NT::Number && n->num.is_int) return make_int(n->num.i);
        errorf("expected integer; found " + node_string(n));
      case P::StrSlice:
        break;
      default:
        return eval_empty_interface(dot, n);
    }
    errorf("can't handle " + node_string(n) + " for arg of type " + p_name(t));
  }

  Value eval_empty_interface(const Value& dot, const Node* n) {
    at(n);
    switch (n->type) {
      case NT::Bool: return make_bool(n->boolean);
      case NT::Dot: return dot;
      case NT::Field: return eval_field_node(dot, n, {}, nullptr);
      case NT::Identifier: return eval_function(dot, n, n, {}, nullptr);
      case NT::Number: return ideal_constant(n);
      case NT::String: return make_string(n->str);
      case NT::Variable: return eval_variable_node(dot, n, {}, nullptr);
      case NT::Pipe: return eval_pipeline(dot, n);
      default: break;
    }
    errorf("can't handle assignment of " + node_string(n) + " to empty interface argument");
  }

  static Value zero(P t) {
    if (t == P::Iface) return make_nil_iface();
    if (t == P::StrSlice) {
      Value v;
      v.k = K::Slice;
      return v;
    }
    return Value{};
  }

  Value validate(const Value& v, P t) {
    if (v.k == K::Invalid) {
      if (t == P::Str || t == P::Int) errorf(std::string("invalid value; expected ") + p_name(t));
      return zero(t);
    }
    Value r = v;
    r.iface = false;
    switch (t) {
      case P::Untyped: case P::Value: case P::Iface: return r;
      case P::Str:
        if (r.k == K::String) return r;
        break;
      case P::Int:
        if (r.k == K::Int && r.it == IntT::Int) return r;
        break;
      case P::StrSlice:
        if (r.k == K::Slice && type_name(r, true) == "[]string") return r;
        break;
    }
    errorf(std::string("wrong type for value; expected ") + p_name(t) + "; got " + type_name(r, true));
  }

  const Program& prog_;
  const TypeHints& hints_;
  std::string out_;
  std::vector<Var> vars_;
  const Node* node_ = nullptr;
  std::string tmpl_name_;
  int depth_ = 0;
  uint64_t steps_ = 0;
};

// ---------------------------------------------------------------------------
// Builtin functions (text/template/funcs.go) and c/common's report funcs.

using Args = std::span<Node* const>;

Value indirect_interface(const Value& v) {
  if (is_nil_iface(v)) return Value{};
  Value r = v;
  r.iface = false;
  return r;
}

// reflect's type of the value after following a pointer.
std::string deref_type_name(const Exec& ex, const Value& v) {
  if (v.k == K::Time) return "time.Time";
  return ex.type_name(v, true);
}

int64_t index_arg(const Exec& ex, const Value& index, size_t cap) {
  int64_t x;
  if (index.k == K::Int) {
    x = index.is_signed() ? index.i : static_cast<int64_t>(index.u);
  } else if (index.k == K::Invalid) {
    throw FuncError{"cannot index slice/array with nil"};
  } else {
    throw FuncError{"cannot index slice/array with type " + ex.type_name(index, true)};
  }
  if (x < 0 || static_cast<uint64_t>(x) > cap) throw FuncError{"index out of range: " + std::to_string(x)};
  return x;
}

// The zero value of a map's element type, which `index` returns for a
// missing key. The type comes from the hints or a sibling value; an empty
// map is taken to be map[string]string.
Value zero_elem(const Exec& ex, const Value& m) {
  unsigned h = m.hinted ? ex.hint_bits(m.path + "/*") : 0;
  Value v;
  if (h & static_cast<unsigned>(GoKind::Map)) {
    v.k = K::Map;
    return v;
  }
  if (h & static_cast<unsigned>(GoKind::Slice)) {
    v.k = K::Slice;
    return v;
  }
  if (h & static_cast<unsigned>(GoKind::Time)) {
    v.k = K::Nil;
    v.nt = NilT::TimePtr;
    return v;
  }
  const Json* sibling = m.j && !m.j->empty() ? &m.j->begin().value() : nullptr;
  if (!sibling || sibling->is_string()) return make_string("");
  if (sibling->is_number_integer()) return make_int(0, IntT::Int64);
  if (sibling->is_number_float()) return make_float(0);
  if (sibling->is_boolean()) return make_bool(false);
  if (sibling->is_array()) {
    v.k = K::Slice;
    return v;
  }
  if (sibling->is_object()) {
    auto p = std::make_shared<const Json>(Json::object());
    v.k = K::Struct;
    v.j = p.get();
    v.own = std::move(p);
    return v;
  }
  return v;
}

Value b_index(Exec& ex, std::vector<Value>& a, Args) {
  Value item = indirect_interface(a[0]);
  if (item.k == K::Invalid) throw FuncError{"index of untyped nil"};
  for (size_t k = 1; k < a.size(); ++k) {
    Value index = indirect_interface(a[k]);
    if (item.k == K::Nil) throw FuncError{"index of nil pointer"};
    switch (item.k) {
      case K::Slice: case K::String: {
        bool is_slice = item.k == K::Slice;
        size_t len = is_slice ? item.len() : item.str().size();
        auto x = static_cast<size_t>(index_arg(ex, index, len));
        if (x == len) {
          throw FuncError{is_slice ? "reflect: slice index out of range" : "reflect: string index out of range"};
        }
        item = is_slice ? ex.slice_elem(item, x) : make_uint(static_cast<unsigned char>(item.str()[x]), IntT::Uint8);
        break;
      }
      case K::Map: {
        if (index.k == K::Invalid) throw FuncError{"value is nil; should be of type string"};
        if (index.k != K::String) {
          throw FuncError{"value has type " + ex.type_name(index, true) + "; should be string"};
        }
        const Json* child = nullptr;
        if (item.j) {
          ex.tick(item.j->size() / 32);
          auto it = item.j->find(index.str());
          if (it != item.j->end()) child = &it.value();
        }
        item = child ? ex.map_value(item, *child) : zero_elem(ex, item);
        break;
      }
      default:
        throw FuncError{"can't index item of type " + deref_type_name(ex, item)};
    }
  }
  return item;
}

Value b_slice(Exec& ex, std::vector<Value>& a, Args) {
  Value item = indirect_interface(a[0]);
  if (item.k == K::Invalid) throw FuncError{"slice of untyped nil"};
  size_t n = a.size() - 1;
  if (n > 3) throw FuncError{"too many slice indexes: " + std::to_string(n)};
  size_t cap;
  if (item.k == K::String) {
    if (n == 3) throw FuncError{"cannot 3-index slice a string"};
    cap = item.str().size();
  } else if (item.k == K::Slice) {
    cap = item.len();
  } else {
    throw FuncError{"can't slice item of type " + deref_type_name(ex, item)};
  }
  int64_t idx[3] = {0, static_cast<int64_t>(cap), 0};
  for (size_t k = 0; k < n; ++k) idx[k] = index_arg(ex, indirect_interface(a[k + 1]), cap);
  if (idx[0] > idx[1]) {
    throw FuncError{"invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1])};
  }
  if (n == 3 && idx[1] > idx[2]) {
    throw FuncError{"invalid slice index: " + std::to_string(idx[1]) + " > " + std::to_string(idx[2])};
  }
  auto from = static_cast<size_t>(idx[0]), to = static_cast<size_t>(idx[1]);
  if (item.k == K::String) return make_string(item.str().substr(from, to - from));
  if (!item.j) return item;
  ex.tick(to - from);
  Json arr = Json::array();
  for (size_t k = from; k < to; ++k) arr.push_back((*item.j)[k]);
  auto p = std::make_shared<const Json>(std::move(arr));
  item.j = p.get();
  item.own = std::move(p);
  return item;
}

Value b_len(Exec& ex, std::vector<Value>& a, Args) {
  const Value& item = a[0];
  switch (item.k) {
    case K::Invalid: throw FuncError{"reflect: call of reflect.Value.Type on zero Value"};
    case K::Nil: throw FuncError{"len of nil pointer"};
    case K::String: return make_int(static_cast<int64_t>(item.str().size()));
    case K::Slice: case K::Map: return make_int(static_cast<int64_t>(item.len()));
    default: throw FuncError{"len of type " + deref_type_name(ex, item)};
  }
}

Value b_not(Exec&, std::vector<Value>& a, Args) { return make_bool(!Exec::is_true(a[0])); }

Value b_call(Exec& ex, std::vector<Value>& a, Args args) {
  Value fn = indirect_interface(a[0]);
  if (fn.k == K::Invalid) throw FuncError{"call of nil"};
  std::string name = args.empty() ? "" : node_string(args[0]);
  throw FuncError{"non-function " + name + " of type " + ex.type_name(fn, true)};
}

enum class BK { Invalid, Bool, Int, Uint, Float, String };

BK basic_kind(const Value& v) {
  switch (v.k) {
    case K::Bool: return BK::Bool;
    case K::Int: return v.is_signed() ? BK::Int : BK::Uint;
    case K::Float: return BK::Float;
    case K::String: return BK::String;
    default: return BK::Invalid;
  }
}

bool is_nil_value(const Value& v) {
  return v.k == K::Invalid || v.k == K::Nil || ((v.k == K::Slice || v.k == K::Map) && !v.j);
}

bool same_time(const GoTime& x, const GoTime& y) {
  return x.year == y.year && x.month == y.month && x.day == y.day && x.hour == y.hour && x.min == y.min &&
         x.sec == y.sec && x.nsec == y.nsec && x.offset == y.offset;
}

bool eq_impl(Exec& ex, const std::vector<Value>& a) {
  Value a1 = indirect_interface(a[0]);
  if (a.size() == 1) throw FuncError{"missing argument for comparison"};
  BK k1 = basic_kind(a1);
  for (size_t n = 1; n < a.size(); ++n) {
    Value arg = indirect_interface(a[n]);
    BK k2 = basic_kind(arg);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == BK::Int && k2 == BK::Uint) {
        truth = a1.i >= 0 && static_cast<uint64_t>(a1.i) == arg.u;
      } else if (k1 == BK::Uint && k2 == BK::Int) {
        truth = arg.i >= 0 && a1.u == static_cast<uint64_t>(arg.i);
      } else if (a1.k != K::Invalid && arg.k != K::Invalid) {
        throw FuncError{"incompatible types for comparison"};
      }
    } else {
      switch (k1) {
        case BK::Bool: truth = a1.b == arg.b; break;
        case BK::Float: truth = a1.f == arg.f; break;
        case BK::Int: truth = a1.i == arg.i; break;
        case BK::Uint: truth = a1.u == arg.u; break;
        case BK::String: truth = a1.str() == arg.str(); break;
        case BK::Invalid: {
          bool comparable_kinds = a1.k == K::Invalid || arg.k == K::Invalid || a1.k == K::Nil ||
                                  arg.k == K::Nil || a1.k == arg.k;
          if (!comparable_kinds) {
            std::string s1, s2;
            ex.fmt_value(s1, a1, 's', Spec{}, 0);
            ex.fmt_value(s2, arg, 's', Spec{}, 0);
            throw FuncError{"non-comparable types " + s1 + ": " + ex.type_name(a1, true) + ", " +
                            ex.type_name(arg, true) + ": " + s2};
          }
          if (is_nil_value(a1) || is_nil_value(arg)) {
            truth = is_nil_value(a1) == is_nil_value(arg);
          } else if (arg.k == K::Slice || arg.k == K::Map) {
            std::string s;
            ex.fmt_value(s, arg, 's', Spec{}, 0);
            throw FuncError{"non-comparable type " + s + ": " + ex.type_name(arg, true)};
          } else if (arg.k == K::Time) {
            truth = same_time(a1.t, arg.t);
          } else {
            ex.tick(a1.j->size() + arg.j->size());
            truth = *a1.j == *arg.j;
          }
          break;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

bool lt_impl(const Value& x, const Value& y) {
  Value a1 = indirect_interface(x), a2 = indirect_interface(y);
  BK k1 = basic_kind(a1);
  if (k1 == BK::Invalid) throw FuncError{"invalid type for comparison"};
  BK k2 = basic_kind(a2);
  if (k2 == BK::Invalid) throw FuncError{"invalid type for comparison"};
  if (k1 != k2) {
    if (k1 == BK::Int && k2 == BK::Uint) return a1.i < 0 || static_cast<uint64_t>(a1.i) < a2.u;
    if (k1 == BK::Uint && k2 == BK::Int) return a2.i >= 0 && a1.u < static_cast<uint64_t>(a2.i);
    throw FuncError{"incompatible types for comparison"};
  }
  switch (k1) {
    case BK::Float: return a1.f < a2.f;
    case BK::Int: return a1.i < a2.i;
    case BK::Uint: return a1.u < a2.u;
    case BK::String: return a1.str() < a2.str();
    default: throw FuncError{"invalid type for comparison"};
  }
}

bool le_impl(Exec& ex, std::vector<Value>& a) { return lt_impl(a[0], a[1]) || eq_impl(ex, a); }

Value b_eq(Exec& ex, std::vector<Value>& a, Args) { return make_bool(eq_impl(ex, a)); }
Value b_ne(Exec& ex, std::vector<Value>& a, Args) { return make_bool(!eq_impl(ex, a)); }
Value b_lt(Exec&, std::vector<Value>& a, Args) { return make_bool(lt_impl(a[0], a[1])); }
Value b_le(Exec& ex, std::vector<Value>& a, Args) { return make_bool(le_impl(ex, a)); }
Value b_gt(Exec& ex, std::vector<Value>& a, Args) { return make_bool(!le_impl(ex, a)); }
Value b_ge(Exec&, std::vector<Value>& a, Args) { return make_bool(!lt_impl(a[0], a[1])); }

Value b_print(Exec& ex, std::vector<Value>& a, Args) { return make_string(ex.sprint(a)); }
Value b_println(Exec& ex, std::vector<Value>& a, Args) { return make_string(ex.sprintln(a)); }

Value b_printf(Exec& ex, std::vector<Value>& a, Args) {
  std::vector<Value> rest(a.begin() + 1, a.end());
  return make_string(ex.sprintf(a[0].str(), rest));
}

std::string eval_args(Exec& ex, std::vector<Value>& a) {
  if (a.size() == 1 && a[0].k == K::String) return a[0].str();
  return ex.sprint(a);
}

Value b_html(Exec& ex, std::vector<Value>& a, Args) {
  std::string out;
  for (char c : eval_args(ex, a)) {
    switch (c) {
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  ex.check_size(out.size());
  return make_string(std::move(out));
}

Value b_js(Exec& ex, std::vector<Value>& a, Args) {
  std::string s = eval_args(ex, a), out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\'': out += "\\'"; break;
        case '"': out += "\\\""; break;
        case '<': out += "\\u003C"; break;
        case '>': out += "\\u003E"; break;
        case '&': out += "\\u0026"; break;
        case '=': out += "\\u003D"; break;
        default:
          if (c < ' ') {
            out += "\\u00";
            out += kUpperHex[c >> 4];
            out += kUpperHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    Rune r = decode_rune(s, i);
    if (go_is_print(r.r)) {
      out.append(s, i, r.n);
    } else {
      out += "\\u";
      std::string hex;
      append_hex(hex, r.r, r.r > 0xFFFF ? 5 : 4, kUpperHex);
      out += hex;
    }
    i += r.n;
  }
  ex.check_size(out.size());
  return make_string(std::move(out));
}

Value b_urlquery(Exec& ex, std::vector<Value>& a, Args) {
  std::string out;
  for (char ch : eval_args(ex, a)) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kUpperHex[c >> 4];
      out += kUpperHex[c & 0xF];
    }
  }
  ex.check_size(out.size());
  return make_string(std::move(out));
}

// c/common's json: json.Encoder with SetEscapeHTML(false), newline trimmed.
Value b_json(Exec& ex, std::vector<Value>& a, Args) {
  std::string s = gojson::marshal(ex.to_json(a[0]));
  ex.check_size(s.size());
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      if (s[i + 1] == 'u' && i + 5 < s.size()) {
        std::string hex = go_to_lower(std::string_view(s).substr(i + 2, 4));
        char c = hex == "003c" ? '<' : hex == "003e" ? '>' : hex == "0026" ? '&' : 0;
        if (c) {
          out += c;
          i += 5;
          continue;
        }
      }
      out += s[i];
      out += s[++i];
      continue;
    }
    out += s[i];
  }
  return make_string(std::move(out));
}

Value b_join(Exec& ex, std::vector<Value>& a, Args) {
  const std::string& sep = a[1].str();
  std::string out;
  for (size_t i = 0; i < a[0].len(); ++i) {
    const Json& e = (*a[0].j)[i];
    if (!e.is_string()) throw FuncError{"element " + std::to_string(i) + " of the slice is not a string"};
    if (i > 0) out += sep;
    out += e.get_ref<const std::string&>();
    ex.check_size(out.size());
  }
  return make_string(std::move(out));
}

Value b_lower(Exec&, std::vector<Value>& a, Args) { return make_string(go_to_lower(a[0].str())); }
Value b_upper(Exec&, std::vector<Value>& a, Args) { return make_string(go_to_upper(a[0].str())); }
Value b_title(Exec&, std::vector<Value>& a, Args) { return make_string(go_title(a[0].str())); }

Value b_pad(Exec& ex, std::vector<Value>& a, Args) {
  const std::string& s = a[0].str();
  if (s.empty()) return a[0];
  if (a[1].i < 0 || a[2].i < 0) throw FuncError{"strings: negative Repeat count"};
  auto prefix = static_cast<uint64_t>(a[1].i), suffix = static_cast<uint64_t>(a[2].i);
  if (prefix > kMaxOutput || suffix > kMaxOutput) ex.check_size(kMaxOutput + 1);
  ex.check_size(s.size() + prefix + suffix);
  return make_string(std::string(prefix, ' ') + s + std::string(suffix, ' '));
}

Value b_split(Exec& ex, std::vector<Value>& a, Args) {
  constexpr size_t kMaxParts = size_t{1} << 20;
  std::string_view s = a[0].str(), sep = a[1].str();
  Json arr = Json::array();
  auto add = [&](std::string_view part) {
    if (arr.size() >= kMaxParts) throw FuncError{"split gives more than " + std::to_string(kMaxParts) + " parts"};
    arr.push_back(std::string(part));
  };
  if (sep.empty()) {
    for (size_t i = 0; i < s.size();) {
      size_t n = decode_rune(s, i).n;
      add(s.substr(i, n));
      i += n;
    }
  } else {
    for (size_t start = 0;;) {
      size_t p = s.find(sep, start);
      if (p == std::string_view::npos) {
        add(s.substr(start));
        break;
      }
      add(s.substr(start, p - start));
      start = p + sep.size();
    }
  }
  ex.tick(arr.size());
  return make_string_slice(std::move(arr));
}

Value b_truncate(Exec&, std::vector<Value>& a, Args) {
  const std::string& s = a[0].str();
  int64_t n = a[1].i;
  if (static_cast<int64_t>(s.size()) < n) return a[0];
  if (n < 0) throw FuncError{"runtime error: slice bounds out of range [:" + std::to_string(n) + "]"};
  return make_string(s.substr(0, static_cast<size_t>(n)));
}

const Builtin kBuiltins[] = {
    {"and", {P::Value, P::Value}, true, nullptr},
    {"or", {P::Value, P::Value}, true, nullptr},
    {"call", {P::Value, P::Value}, true, b_call},
    {"html", {P::Iface}, true, b_html},
    {"index", {P::Value, P::Value}, true, b_index},
    {"slice", {P::Value, P::Value}, true, b_slice},
    {"js", {P::Iface}, true, b_js},
    {"len", {P::Value}, false, b_len},
    {"not", {P::Value}, false, b_not},
    {"print", {P::Iface}, true, b_print},
    {"printf", {P::Str, P::Iface}, true, b_printf},
    {"println", {P::Iface}, true, b_println},
    {"urlquery", {P::Iface}, true, b_urlquery},
    {"eq", {P::Value, P::Value}, true, b_eq},
    {"ge", {P::Value, P::Value}, false, b_ge},
    {"gt", {P::Value, P::Value}, false, b_gt},
    {"le", {P::Value, P::Value}, false, b_le},
    {"lt", {P::Value, P::Value}, false, b_lt},
    {"ne", {P::Value, P::Value}, false, b_ne},
    {"join", {P::StrSlice, P::Str}, false, b_join},
    {"json", {P::Iface}, false, b_json},
    {"lower", {P::Str}, false, b_lower},
    {"pad", {P::Str, P::Int, P::Int}, false, b_pad},
    {"split", {P::Str, P::Str}, false, b_split},
    {"title", {P::Str}, false, b_title},
    {"truncate", {P::Str, P::Int}, false, b_truncate},
    {"upper", {P::Str}, false, b_upper},
};

const Builtin* find_builtin(std::string_view name) {
  for (const Builtin& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// c/common report.Formatter around the engine.

// text/tabwriter with minwidth 12, tabwidth 2, padding 2, padchar ' ': a
// column is a run of consecutive lines that have that tab-terminated cell,
// as wide as its widest cell plus padding.
std::string tabwrite(std::string_view text) {
  constexpr size_t kMinWidth = 12, kPadding = 2;
  std::vector<std::vector<std::string_view>> lines;
  for (size_t start = 0;;) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    std::vector<std::string_view> cells;
    for (size_t c = 0;;) {
      size_t tab = line.find('\t', c);
      if (tab == std::string_view::npos) {
        cells.push_back(line.substr(c));
        break;
      }
      cells.push_back(line.substr(c, tab - c));
      c = tab + 1;
    }
    lines.push_back(std::move(cells));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  std::vector<std::vector<size_t>> widths(lines.size());
  struct Open {
    size_t start, width;
  };
  std::vector<Open> open;
  auto close = [&](size_t end_line) {
    const Open& o = open.back();
    for (size_t l = o.start; l < end_line; ++l) widths[l][open.size() - 1] = o.width;
    open.pop_back();
  };
  for (size_t l = 0; l < lines.size(); ++l) {
    size_t ncols = lines[l].size() - 1;
    widths[l].resize(ncols);
    while (open.size() > ncols) close(l);
    for (size_t c = 0; c < ncols; ++c) {
      size_t w = rune_count(lines[l][c]) + kPadding;
      if (c < open.size()) {
        open[c].width = std::max(open[c].width, w);
      } else {
        open.push_back({l, std::max(kMinWidth, w)});
      }
    }
  }
  while (!open.empty()) close(lines.size());
  std::string out;
  for (size_t l = 0; l < lines.size(); ++l) {
    const auto& cells = lines[l];
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out.append(widths[l][c] - rune_count(cells[c]), ' ');
    }
    if (l + 1 < lines.size()) out += '\n';
  }
  return out;
}

// report.NormalizeFormat: `\t` and `\n` typed as two characters become the
// characters; "table " goes and spaces become tabs for tables.
std::string normalize_format(std::string_view f, bool table) {
  std::string out;
  for (size_t i = 0; i < f.size();) {
    if (table && f.substr(i).starts_with("table ")) {
      i += 6;
    } else if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[i + 1] == 't' ? '\t' : '\n';
      i += 2;
    } else if (table && f[i] == ' ') {
      out += '\t';
      ++i;
    } else {
      out += f[i++];
    }
  }
  if (!out.ends_with('\n')) out += '\n';
  return out;
}

bool is_re_space(char c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }

size_t skip_re_space(std::string_view s, size_t i) {
  while (i < s.size() && is_re_space(s[i])) ++i;
  return i;
}

// `{{\s*range\s*\.\s*}}` at i: the end of the match, or npos.
size_t match_range_dot(std::string_view s, size_t i) {
  i = skip_re_space(s, i + 2);
  if (!s.substr(i).starts_with("range")) return std::string_view::npos;
  i = skip_re_space(s, i + 5);
  if (i >= s.size() || s[i] != '.') return std::string_view::npos;
  i = skip_re_space(s, i + 1);
  if (!s.substr(i).starts_with("}}")) return std::string_view::npos;
  return i + 2;
}

// `{{\s*end\s*-?\s*}}` at i.
bool match_end(std::string_view s, size_t i) {
  i = skip_re_space(s, i + 2);
  if (!s.substr(i).starts_with("end")) return false;
  i = skip_re_space(s, i + 3);
  if (i < s.size() && s[i] == '-') i = skip_re_space(s, i + 1);
  return s.substr(i).starts_with("}}");
}

// report.EnforceRange: wraps the format in {{range .}}...{{end -}} unless it
// matches `{{\s*range\s*\.\s*}}.*{{\s*end\s*-?\s*}}` (`.` not crossing a
// newline).
std::string enforce_range(const std::string& f) {
  std::vector<size_t> delims;
  for (size_t p = f.find("{{"); p != std::string::npos; p = f.find("{{", p + 1)) delims.push_back(p);
  std::vector<size_t> next_end(delims.size() + 1, std::string::npos);
  for (size_t k = delims.size(); k-- > 0;) next_end[k] = match_end(f, delims[k]) ? delims[k] : next_end[k + 1];
  for (size_t p : delims) {
    size_t open_end = match_range_dot(f, p);
    if (open_end == std::string::npos) continue;
    size_t k = static_cast<size_t>(std::lower_bound(delims.begin(), delims.end(), open_end) - delims.begin());
    size_t q = next_end[k];
    size_t eol = f.find('\n', open_end);
    if (q != std::string::npos && (eol == std::string::npos || q < eol)) return f;
  }
  return "{{range .}}" + f + "{{end -}}";
}

}  // namespace

std::string render(const std::string& tmpl, const Json& data, const TypeHints& hints) {
  auto prog = parse_program("format", tmpl);
  Exec ex(*prog, hints);
  return ex.run(data);
}

std::string render_report(const std::string& format, const Json& data, const TypeHints& hints) {
  const std::string name = "skopeo inspect";
  bool table = format.starts_with("table ");
  std::string norm, orig;
  if (table) {
    norm = "{{range .}}" + normalize_format(format, true) + "{{end -}}";
    orig = "{{range .}}" + format.substr(6) + "{{end -}}";
  } else {
    norm = enforce_range(normalize_format(format, false));
    orig = enforce_range(format);
  }
  // Like c/common: if the normalized text does not parse, the original might.
  std::unique_ptr<Program> prog;
  try {
    prog = parse_program(name, norm);
  } catch (const TemplateError&) {
    prog = parse_program(name, orig);
  }
  TypeHints wrapped_hints;
  wrapped_hints["/*"] = static_cast<GoKind>(kIfaceBit);
  for (const auto& [path, kind] : hints) {
    GoKind& slot = wrapped_hints["/*" + path];
    slot = slot | kind;
  }
  Json wrapped = Json::array();
  wrapped.push_back(data);
  Exec ex(*prog, wrapped_hints);
  if (!table) return ex.run(wrapped);
  try {
    return tabwrite(ex.run(wrapped));
  } catch (const TemplateError& e) {
    throw TemplateError(e.what(), tabwrite(e.partial_output()));
  }
}

}  // namespace ferry::gotemplate
