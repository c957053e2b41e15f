#include "util/gojson.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "util/error.h"
#include "util/go_base64.h"
#include "util/gotype.h"

namespace ferry::gojson {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Go's utf8.DecodeRune: the length of the valid UTF-8 sequence at s[i], or 0
// if there is none (Go then consumes one byte and reports RuneError).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = s.size() - i;
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return (n >= 2 && (b(1) & 0xC0) == 0x80) ? 2 : 0;
  if (c < 0xF0) {
    if (n < 3) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates are not valid UTF-8
    if (b(1) < lo || b(1) > hi || (b(2) & 0xC0) != 0x80) return 0;
    return 3;
  }
  if (c < 0xF5) {
    if (n < 4) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    if (b(1) < lo || b(1) > hi || (b(2) & 0xC0) != 0x80 || (b(3) & 0xC0) != 0x80) return 0;
    return 4;
  }
  return 0;
}

// encodeState.string with escapeHTML = true (what json.Marshal uses).
void write_string(std::string& out, std::string_view s) {
  out += '"';
  size_t start = 0;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      bool safe = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
      if (safe) {
        ++i;
        continue;
      }
      out.append(s.substr(start, i - start));
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          // Go 1.19 (skopeo 1.9.3's toolchain) has no \b or \f short forms.
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
      }
      start = ++i;
      continue;
    }
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out.append(s.substr(start, i - start));
      out += "\\ufffd";
      start = ++i;
      continue;
    }
    // U+2028 / U+2029 break JavaScript string literals; Go escapes them.
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out.append(s.substr(start, i - start));
      out += (s[i + 2] == '\xA8') ? "\\u2028" : "\\u2029";
      start = i += 3;
      continue;
    }
    i += n;
  }
  out.append(s.substr(start));
  out += '"';
}

// Go's float64 encoder: shortest round-trip digits, %f for 1e-6 <= |x| <
// 1e21, otherwise %e with a one-digit negative exponent ("1e-7", "1e+21").
void write_float(std::string& out, double f) {
  if (std::isnan(f) || std::isinf(f)) {
    throw Error("json: unsupported value: " + std::string(std::isnan(f) ? "NaN" : (f > 0 ? "+Inf" : "-Inf")));
  }
  // Shortest round-trip digits first (scientific form), then laid out the
  // way strconv.FormatFloat(f, 'f' or 'e', -1, 64) does.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  if (res.ec != std::errc()) throw Error("json: cannot format number");
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  int exp10 = std::stoi(std::string(sci.substr(e + 1)));
  bool negative = mantissa[0] == '-';
  if (negative) mantissa.remove_prefix(1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  double a = std::fabs(f);
  if (negative) out += '-';
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += 'e';
    out += exp10 < 0 ? '-' : '+';
    int ax = exp10 < 0 ? -exp10 : exp10;
    if (ax < 10 && exp10 >= 0) out += '0';  // "e+07"; negative exponents lose the zero ("e-7")
    out += std::to_string(ax);
    return;
  }
  // 'f': digits d1 d2 ... with the point after position exp10 + 1.
  int point = exp10 + 1;
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-point), '0');
    out += digits;
  } else if (static_cast<size_t>(point) >= digits.size()) {
    out += digits;
    out.append(static_cast<size_t>(point) - digits.size(), '0');
  } else {
    out.append(digits, 0, static_cast<size_t>(point));
    out += '.';
    out.append(digits, static_cast<size_t>(point), std::string::npos);
  }
}

void newline(std::string& out, const std::string& prefix, const std::string& indent, int depth) {
  out += '\n';
  out += prefix;
  for (int i = 0; i < depth; ++i) out += indent;
}

// Far deeper than any manifest or config, shallow enough that the
// recursion below cannot exhaust the stack on a hostile document.
constexpr int kMaxDepth = 2000;

// pretty == false: compact.
void write(std::string& out, const Json& v, bool pretty, const std::string& prefix, const std::string& indent,
           int depth) {
  if (depth > kMaxDepth) throw Error("json: value nested more than " + std::to_string(kMaxDepth) + " levels deep");
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      write_float(out, v.get<double>());
      return;
    case Json::value_t::string:
      write_string(out, v.get_ref<const std::string&>());
      return;
    case Json::value_t::binary: {
      // []byte: standard base64 with padding.
      const auto& b = v.get_binary();
      out += '"';
      out += go_base64_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
      out += '"';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& e : v) {
        if (!first) out += ',';
        if (pretty) newline(out, prefix, indent, depth + 1);
        first = false;
        write(out, e, pretty, prefix, indent, depth + 1);
      }
      if (pretty && !first) newline(out, prefix, indent, depth);
      out += ']';
      return;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        if (pretty) newline(out, prefix, indent, depth + 1);
        first = false;
        write_string(out, it.key());
        out += pretty ? ": " : ":";
        write(out, it.value(), pretty, prefix, indent, depth + 1);
      }
      if (pretty && !first) newline(out, prefix, indent, depth);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string marshal(const Json& v) {
  std::string out;
  static const std::string empty;
  write(out, v, false, empty, empty, 0);
  return out;
}

std::string marshal_indent(const Json& v, const std::string& prefix, const std::string& indent) {
  std::string out;
  write(out, v, true, prefix, indent, 0);
  return out;
}

const Json* find_member_fold(const Json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  // An exact match takes the field whatever its position; Go then lets
  // every later folded duplicate overwrite it, so the last match wins.
  const Json* found = nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == key || field_name_matches(key, it.key())) found = &it.value();
  }
  return found;
}

}  // namespace ferry::gojson
