#include "util/gotype.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>

#include "util/error.h"
#include "util/go_base64.h"
#include "util/go_quote.h"

namespace ferry::gojson {

// ---------------------------------------------------------------------------
// Primitive types

const Type& string_type() {
  static const Type t{Kind::kString, "string", {}, nullptr};
  return t;
}
const Type& int_type() {
  static const Type t{Kind::kInt, "int", {}, nullptr};
  return t;
}
const Type& int64_type() {
  static const Type t{Kind::kInt, "int64", {}, nullptr};
  return t;
}
const Type& bool_type() {
  static const Type t{Kind::kBool, "bool", {}, nullptr};
  return t;
}
const Type& time_type() {
  static const Type t{Kind::kTime, "time.Time", {}, nullptr};
  return t;
}
const Type& time_ptr_type() {
  static const Type t{Kind::kPtr, "*time.Time", {}, &time_type()};
  return t;
}
const Type& bytes_type() {
  static const Type t{Kind::kBytes, "[]uint8", {}, nullptr};
  return t;
}
const Type& any_type() {
  static const Type t{Kind::kAny, "interface {}", {}, nullptr};
  return t;
}
const Type& string_slice_type() {
  static const Type t{Kind::kSlice, "[]string", {}, &string_type()};
  return t;
}
const Type& string_map_type() {
  static const Type t{Kind::kMap, "map[string]string", {}, &string_type()};
  return t;
}
const Type& empty_struct_map_type() {
  static const Type empty{Kind::kEmptyStruct, "struct {}", {}, nullptr};
  static const Type t{Kind::kMap, "map[string]struct {}", {}, &empty};
  return t;
}
const Type& digest_type() {
  static const Type t{Kind::kString, "digest.Digest", {}, nullptr};
  return t;
}

namespace {

const Type& uint8_type() {
  static const Type t{Kind::kUint8, "uint8", {}, nullptr};
  return t;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------------------
// checkValid

constexpr size_t kMaxNestingDepth = 10000;  // encoding/json's maxNestingDepth

class Validator {
 public:
  explicit Validator(std::string_view s) : s_(s) {}

  void run() {
    std::vector<char> stack;
    for (;;) {
      // A value starts here.
      ws();
      need();
      char c = s_[i_];
      if (c == '{' || c == '[') {
        stack.push_back(c);
        if (stack.size() > kMaxNestingDepth) fail("exceeded max depth");
        ++i_;
        ws();
        need();
        if (c == '{') {
          if (s_[i_] == '}') {
            ++i_;
            stack.pop_back();
          } else {
            key();
            continue;
          }
        } else if (s_[i_] == ']') {
          ++i_;
          stack.pop_back();
        } else {
          continue;
        }
      } else if (c == '"') {
        string();
      } else if (c == '-' || is_digit(c)) {
        number();
      } else if (c == 't') {
        literal("true");
      } else if (c == 'f') {
        literal("false");
      } else if (c == 'n') {
        literal("null");
      } else {
        fail("looking for beginning of value");
      }
      // A value ended; close containers until one wants another value.
      for (;;) {
        ws();
        if (stack.empty()) {
          if (i_ < s_.size()) fail("after top-level value");
          return;
        }
        need();
        char d = s_[i_];
        if (stack.back() == '{') {
          if (d == ',') {
            ++i_;
            ws();
            need();
            key();
            break;
          }
          if (d != '}') fail("after object key:value pair");
        } else {
          if (d == ',') {
            ++i_;
            break;
          }
          if (d != ']') fail("after array element");
        }
        ++i_;
        stack.pop_back();
      }
    }
  }

 private:
  [[noreturn]] void fail(const char* context) {
    // scanner.go's quoteChar: the byte taken as the rune U+00XX.
    throw Error("invalid character " + go_quote_rune(static_cast<unsigned char>(s_[i_])) + " " + context);
  }
  void need() {
    if (i_ >= s_.size()) throw Error("unexpected end of JSON input");
  }
  // At end of input Go's scanner is fed one space; where a space is not
  // allowed either, that space is the character it complains about.
  void need(const char* context) {
    if (i_ >= s_.size()) throw Error(std::string("invalid character ' ' ") + context);
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  // An object key and its colon; i_ is at the key's first byte.
  void key() {
    if (s_[i_] != '"') fail("looking for beginning of object key string");
    string();
    ws();
    need();
    if (s_[i_] != ':') fail("after object key");
    ++i_;
  }
  void string() {
    ++i_;
    for (;;) {
      need();
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return;
      }
      if (c == '\\') {
        ++i_;
        need("in string escape code");
        char e = s_[i_];
        if (e == 'u') {
          ++i_;
          for (int k = 0; k < 4; ++k) {
            need("in \\u hexadecimal character escape");
            if (hex_value(s_[i_]) < 0) fail("in \\u hexadecimal character escape");
            ++i_;
          }
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
          fail("in string escape code");
        }
        ++i_;
        continue;
      }
      if (c < 0x20) fail("in string literal");
      ++i_;
    }
  }
  void number() {
    if (s_[i_] == '-') {
      ++i_;
      need("in numeric literal");
      if (!is_digit(s_[i_])) fail("in numeric literal");
    }
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      need("after decimal point in numeric literal");
      if (!is_digit(s_[i_])) fail("after decimal point in numeric literal");
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      need("in exponent of numeric literal");
      if (s_[i_] == '+' || s_[i_] == '-') {
        ++i_;
        need("in exponent of numeric literal");
      }
      if (!is_digit(s_[i_])) fail("in exponent of numeric literal");
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    }
  }
  void literal(std::string_view word) {
    ++i_;
    for (size_t k = 1; k < word.size(); ++k) {
      std::string ctx = "in literal " + std::string(word) + " (expecting '" + word[k] + "')";
      need(ctx.c_str());
      if (s_[i_] != word[k]) fail(ctx.c_str());
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------
// Reading validated JSON

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  void begin() { ++i_; }  // past '{' or '['
  // Next object member: false at '}'.
  bool next_member(std::string& key) {
    ws();
    if (s_[i_] == '}') {
      ++i_;
      return false;
    }
    if (s_[i_] == ',') {
      ++i_;
      ws();
    }
    key = read_string();
    ws();
    ++i_;  // ':'
    return true;
  }
  // Next array element: false at ']'.
  bool next_element() {
    ws();
    if (s_[i_] == ']') {
      ++i_;
      return false;
    }
    if (s_[i_] == ',') ++i_;
    return true;
  }
  // Go's unquote: escapes decoded, lone surrogates and invalid UTF-8 bytes
  // each become U+FFFD.
  std::string read_string() {
    ws();
    ++i_;
    std::string out;
    for (;;) {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c == '\\') {
        char e = s_[i_ + 1];
        i_ += 2;
        switch (e) {
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t r = hex4(i_);
            i_ += 4;
            if (r >= 0xD800 && r < 0xE000) {
              uint32_t full = 0xFFFD;
              if (r < 0xDC00 && i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                uint32_t r2 = hex4(i_ + 2);
                if (r2 >= 0xDC00 && r2 < 0xE000) {
                  full = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                  i_ += 6;
                }
              }
              r = full;
            }
            go_append_rune(out, r);
            break;
          }
          default: out += e;  // '"', '\\', '/'
        }
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x80) {
        out += c;
        ++i_;
        continue;
      }
      const GoRune d = go_decode_rune(s_.substr(i_));
      if (d.width == 1 && d.rune == kGoRuneError) {
        out += "\xEF\xBF\xBD";
      } else {
        out.append(s_.substr(i_, d.width));
      }
      i_ += d.width;
    }
  }
  // A number, true, false or null as written.
  std::string_view read_literal() {
    ws();
    size_t start = i_;
    while (i_ < s_.size() && (is_digit(s_[i_]) || (s_[i_] >= 'a' && s_[i_] <= 'z') || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'E')) {
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  // Skips one value without recursion; returns its text.
  std::string_view skip_value() {
    ws();
    size_t start = i_;
    size_t depth = 0;
    do {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        while (s_[i_] != '"') i_ += (s_[i_] == '\\') ? 2 : 1;
        ++i_;
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i_;
      } else if (c == '}' || c == ']') {
        --depth;
        ++i_;
      } else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else {
        read_literal();
      }
    } while (depth > 0);
    return s_.substr(start, i_ - start);
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  uint32_t hex4(size_t at) const {
    uint32_t r = 0;
    for (size_t k = 0; k < 4; ++k) r = r * 16 + static_cast<uint32_t>(hex_value(s_[at + k]));
    return r;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------
// Decoding into a typed value

std::string struct_name(const Type& t) {
  size_t dot = t.name.rfind('.');
  return dot == std::string::npos ? t.name : t.name.substr(dot + 1);
}

class Decoder {
 public:
  explicit Decoder(std::string_view data) : r_(data) {}

  void value(const Type& t, Json& v) {
    char c = r_.peek();
    switch (t.kind) {
      case Kind::kString:
        if (c == '"') {
          v = r_.read_string();
        } else if (c == 'n') {
          r_.read_literal();  // null leaves a string alone
        } else {
          mismatch(c, t);
        }
        return;
      case Kind::kInt:
      case Kind::kUint8:
        if (c == '-' || is_digit(c)) {
          std::string_view lit = r_.read_literal();
          int64_t n = 0;
          auto res = std::from_chars(lit.data(), lit.data() + lit.size(), n);
          bool ok = res.ec == std::errc() && res.ptr == lit.data() + lit.size();
          if (ok && t.kind == Kind::kUint8 && (n < 0 || n > 255)) ok = false;
          if (!ok) {
            save_type_error("number " + std::string(lit), t);
          } else {
            v = n;
          }
        } else if (c == 'n') {
          r_.read_literal();
        } else {
          mismatch(c, t);
        }
        return;
      case Kind::kBool:
        if (c == 't' || c == 'f') {
          v = r_.read_literal() == "true";
        } else if (c == 'n') {
          r_.read_literal();
        } else {
          mismatch(c, t);
        }
        return;
      case Kind::kTime: {
        std::string_view raw = r_.skip_value();
        if (raw != "null") v = parse_go_time(raw);
        return;
      }
      case Kind::kBytes:
        if (c == '"') {
          try {
            const std::string bytes = go_base64_decode(r_.read_string());
            v = Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
          } catch (const Error& e) {
            if (!saved_) saved_ = e;
          }
        } else if (c == 'n') {
          r_.read_literal();
          v = nullptr;
        } else if (c == '[') {
          Json arr = nullptr;
          value(*bytes_as_array(), arr);
          std::vector<uint8_t> b;
          for (const Json& e : arr) b.push_back(static_cast<uint8_t>(e.get<int64_t>()));
          v = Json::binary(std::move(b));
        } else {
          mismatch(c, t);
        }
        return;
      case Kind::kAny:
        if (c == 'n') {
          r_.read_literal();
          v = nullptr;
        } else {
          r_.skip_value();
          v = true;
        }
        return;
      case Kind::kRaw:
        v = std::string(r_.skip_value());
        return;
      case Kind::kStrSlice:
        // StrSlice.UnmarshalJSON: an array of strings, else a string; its
        // inner json.Unmarshal errors get this field's context.
        if (c == 'n') {
          r_.read_literal();
          v = nullptr;
        } else if (c == '"') {
          v = Json::array({r_.read_string()});
        } else if (c == '[') {
          std::string_view raw = r_.skip_value();
          Decoder inner(raw);
          Json arr = nullptr;
          try {
            inner.value(string_slice_type(), arr);
          } catch (const Error&) {
            throw type_error_message("array", string_type());
          }
          if (inner.saved_) throw type_error_message("array", string_type());
          v = std::move(arr);
        } else {
          throw type_error_message(value_kind(c), string_type());
        }
        return;
      case Kind::kEmptyStruct:
        if (c == '{') {
          r_.skip_value();
        } else if (c == 'n') {
          r_.read_literal();
        } else {
          mismatch(c, t);
        }
        return;
      case Kind::kStruct:
        if (c == 'n') {
          r_.read_literal();
        } else if (c != '{') {
          mismatch(c, t);
        } else {
          object(t, v);
        }
        return;
      case Kind::kMap:
        if (c == 'n') {
          r_.read_literal();
          v = nullptr;
        } else if (c != '{') {
          mismatch(c, t);
        } else {
          if (!v.is_object()) v = Json::object();
          r_.begin();
          std::string key;
          while (r_.next_member(key)) {
            Json elem = zero_value(*t.elem);  // each key decodes into a fresh element
            value(*t.elem, elem);
            v[key] = std::move(elem);
          }
        }
        return;
      case Kind::kSlice:
        if (c == 'n') {
          r_.read_literal();
          v = nullptr;
        } else if (c != '[') {
          mismatch(c, t);
        } else {
          // Elements already present are decoded into, as Go reuses the
          // slice's backing array when a key repeats.
          if (!v.is_array()) v = Json::array();
          r_.begin();
          size_t i = 0;
          while (r_.next_element()) {
            if (i >= v.size()) v.push_back(zero_value(*t.elem));
            value(*t.elem, v[i]);
            ++i;
          }
          if (i == 0) {
            v = Json::array();
          } else {
            while (v.size() > i) v.erase(v.size() - 1);
          }
        }
        return;
      case Kind::kPtr:
        if (c == 'n') {
          r_.read_literal();
          v = nullptr;
        } else {
          if (v.is_null()) v = zero_value(*t.elem);
          value(*t.elem, v);
        }
        return;
    }
  }

 private:
  static const Type* bytes_as_array() {
    static const Type t{Kind::kSlice, "[]uint8", {}, &uint8_type()};
    return &t;
  }

  void object(const Type& t, Json& v) {
    if (!v.is_object()) v = zero_value(t);
    r_.begin();
    std::string key;
    while (r_.next_member(key)) {
      const Field* f = nullptr;
      for (const Field& cand : t.fields) {
        if (cand.name == key) {
          f = &cand;
          break;
        }
      }
      if (f == nullptr) {
        for (const Field& cand : t.fields) {
          if (field_name_matches(cand.name, key)) {
            f = &cand;
            break;
          }
        }
      }
      if (f == nullptr) {
        r_.skip_value();
        continue;
      }
      const Type* saved_struct = struct_;
      fields_.push_back(f->name);
      struct_ = &t;
      value(*f->type, v[f->name]);
      fields_.pop_back();
      struct_ = saved_struct;
    }
  }

  static const char* value_kind(char c) {
    if (c == '"') return "string";
    if (c == '{') return "object";
    if (c == '[') return "array";
    if (c == 't' || c == 'f') return "bool";
    return "number";
  }
  Error type_error_message(const std::string& what, const Type& t) const {
    if (struct_ == nullptr && fields_.empty()) {
      return Error("json: cannot unmarshal " + what + " into Go value of type " + t.name);
    }
    std::string path;
    for (const std::string& f : fields_) path += (path.empty() ? "" : ".") + f;
    return Error("json: cannot unmarshal " + what + " into Go struct field " +
                 (struct_ ? struct_name(*struct_) : std::string()) + "." + path + " of type " + t.name);
  }
  // Go keeps decoding after a type mismatch and reports the first one at
  // the end, unless a fatal error (a bad time) comes first.
  void save_type_error(const std::string& what, const Type& t) {
    if (!saved_) saved_ = type_error_message(what, t);
  }
  void mismatch(char c, const Type& t) {
    save_type_error(value_kind(c), t);
    r_.skip_value();
  }

  Reader r_;
  std::vector<std::string> fields_;
  const Type* struct_ = nullptr;

 public:
  std::optional<Error> saved_;
};

// ---------------------------------------------------------------------------
// time

int days_in(int month, int year) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

void append_padded(std::string& out, int64_t n, int width) {
  std::string d = std::to_string(n);
  if (static_cast<int>(d.size()) < width) out.append(static_cast<size_t>(width) - d.size(), '0');
  out += d;
}

}  // namespace

// ---------------------------------------------------------------------------

bool field_name_matches(std::string_view name, std::string_view key) {
  size_t i = 0, j = 0;
  auto lower = [](unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c; };
  while (i < name.size() && j < key.size()) {
    unsigned char n = static_cast<unsigned char>(name[i]);
    unsigned char k = static_cast<unsigned char>(key[j]);
    if (k < 0x80) {
      if (lower(n) != lower(k)) return false;
      ++i, ++j;
    } else if (lower(n) == 'k' && key.substr(j, 3) == "\xE2\x84\xAA") {  // KELVIN SIGN
      ++i, j += 3;
    } else if (lower(n) == 's' && key.substr(j, 2) == "\xC5\xBF") {  // LONG S
      ++i, j += 2;
    } else {
      if (n != k) return false;
      ++i, ++j;
    }
  }
  return i == name.size() && j == key.size();
}

void check_valid(std::string_view data) { Validator(data).run(); }

Json zero_value(const Type& t) {
  switch (t.kind) {
    case Kind::kString: return "";
    case Kind::kInt:
    case Kind::kUint8: return int64_t{0};
    case Kind::kBool: return false;
    case Kind::kTime: return "0001-01-01T00:00:00Z";
    case Kind::kRaw: return "";
    case Kind::kEmptyStruct: return Json::object();
    case Kind::kStruct: {
      Json o = Json::object();
      for (const Field& f : t.fields) o[f.name] = zero_value(*f.type);
      return o;
    }
    default: return nullptr;
  }
}

Json unmarshal(std::string_view data, const Type& t) {
  check_valid(data);
  Json v = zero_value(t);
  Decoder d(data);
  d.value(t, v);
  if (d.saved_) throw *d.saved_;
  return v;
}

namespace {

bool is_empty(const Json& v, const Type& t) {
  switch (t.kind) {
    case Kind::kString:
    case Kind::kRaw: return v.is_string() && v.get_ref<const std::string&>().empty();
    case Kind::kInt:
    case Kind::kUint8: return v.is_number() && v.get<int64_t>() == 0;
    case Kind::kBool: return v.is_boolean() && !v.get<bool>();
    case Kind::kBytes: return v.is_null() || (v.is_binary() && v.get_binary().empty());
    case Kind::kSlice:
    case Kind::kStrSlice:
    case Kind::kMap: return v.is_null() || v.empty();
    case Kind::kPtr:
    case Kind::kAny: return v.is_null();
    default: return false;  // structs, time.Time
  }
}

}  // namespace

Json to_plain(const Json& v, const Type& t) {
  switch (t.kind) {
    case Kind::kString:
    case Kind::kInt:
    case Kind::kUint8:
    case Kind::kBool:
    case Kind::kTime:
    case Kind::kBytes:
    case Kind::kStrSlice: return v;
    case Kind::kAny:
    case Kind::kRaw: throw Error("internal error: cannot marshal " + t.name);
    case Kind::kEmptyStruct: return Json::object();
    case Kind::kPtr: return v.is_null() ? Json(nullptr) : to_plain(v, *t.elem);
    case Kind::kSlice: {
      if (!v.is_array()) return nullptr;
      Json out = Json::array();
      for (const Json& e : v) out.push_back(to_plain(e, *t.elem));
      return out;
    }
    case Kind::kMap: {
      if (!v.is_object()) return nullptr;
      std::vector<const std::string*> keys;
      for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(&it.key());
      std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
      Json out = Json::object();
      for (const std::string* k : keys) out[*k] = to_plain(v.at(*k), *t.elem);
      return out;
    }
    case Kind::kStruct: {
      Json out = Json::object();
      for (const Field& f : t.fields) {
        auto it = v.is_object() ? v.find(f.name) : v.end();
        Json fv = (it == v.end()) ? zero_value(*f.type) : *it;
        if (f.omitempty && is_empty(fv, *f.type)) continue;
        out[f.name] = to_plain(fv, *f.type);
      }
      return out;
    }
  }
  return nullptr;
}

std::string marshal_value(const Json& v, const Type& t) { return marshal(to_plain(v, t)); }

std::vector<std::pair<std::string, std::string>> unmarshal_raw_object(std::string_view data, std::string_view go_type) {
  check_valid(data);
  Reader r(data);
  std::vector<std::pair<std::string, std::string>> out;
  char c = r.peek();
  if (c == 'n') return out;
  if (c != '{') {
    const char* what = c == '"' ? "string" : c == '[' ? "array" : (c == 't' || c == 'f') ? "bool" : "number";
    throw Error(std::string("json: cannot unmarshal ") + what + " into Go value of type " + std::string(go_type));
  }
  r.begin();
  std::string key;
  while (r.next_member(key)) {
    std::string raw(r.skip_value());
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == key; });
    if (it != out.end()) {
      it->second = std::move(raw);
    } else {
      out.emplace_back(key, std::move(raw));
    }
  }
  return out;
}

std::string compact_raw(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (in_string) {
      if (c == '\\') {
        out += c;
        out += raw[++i];
        continue;
      }
      if (c == '"') in_string = false;
    } else {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
      if (c == '"') in_string = true;
    }
    if (c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[c & 0xF];
    } else if (c == '\xE2' && i + 2 < raw.size() && raw[i + 1] == '\x80' && (raw[i + 2] == '\xA8' || raw[i + 2] == '\xA9')) {
      out += raw[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string parse_go_time(std::string_view raw) {
  static constexpr std::string_view kLayout = "\"2006-01-02T15:04:05Z07:00\"";
  std::string_view value = raw;
  auto cannot = [&](std::string_view layout_elem, std::string_view value_elem) {
    return Error("parsing time " + go_time_quote(raw) + " as " + go_time_quote(kLayout) + ": cannot parse " +
                 go_time_quote(value_elem) + " as " + go_time_quote(layout_elem));
  };
  auto out_of_range = [&](const char* what) {
    return Error("parsing time " + go_time_quote(raw) + ": " + what + " out of range");
  };
  auto skip = [&](std::string_view literal) {
    for (char c : literal) {
      if (value.empty() || value[0] != c) throw cannot(literal, value);
      value.remove_prefix(1);
    }
  };
  // getnum: one or two digits; `fixed` demands two.
  auto getnum = [&](bool fixed, std::string_view elem) {
    std::string_view hold = value;
    if (value.empty() || !is_digit(value[0])) throw cannot(elem, hold);
    if (value.size() < 2 || !is_digit(value[1])) {
      if (fixed) throw cannot(elem, hold);
      int n = value[0] - '0';
      value.remove_prefix(1);
      return n;
    }
    int n = (value[0] - '0') * 10 + (value[1] - '0');
    value.remove_prefix(2);
    return n;
  };

  skip("\"");
  // Go reports what is left after the element it failed on: the year's
  // four bytes and the offset's six are consumed before being checked.
  if (value.size() < 4 || !is_digit(value[0])) throw cannot("2006", value);
  std::string_view year_text = value.substr(0, 4);
  value.remove_prefix(4);
  if (!is_digit(year_text[1]) || !is_digit(year_text[2]) || !is_digit(year_text[3])) throw cannot("2006", value);
  int year = (year_text[0] - '0') * 1000 + (year_text[1] - '0') * 100 + (year_text[2] - '0') * 10 + (year_text[3] - '0');
  skip("-");
  int month = getnum(true, "01");
  if (month < 1 || month > 12) throw out_of_range("month");
  skip("-");
  int day = getnum(true, "02");
  skip("T");
  int hour = getnum(false, "15");
  if (hour > 23) throw out_of_range("hour");
  skip(":");
  int minute = getnum(true, "04");
  if (minute > 59) throw out_of_range("minute");
  skip(":");
  int second = getnum(true, "05");
  if (second > 59) throw out_of_range("second");
  // Go accepts a fraction the layout does not mention, '.' or ','; digits
  // past the ninth are dropped, not rounded.
  std::string frac;
  if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && is_digit(value[1])) {
    size_t n = 1;
    while (n < value.size() && is_digit(value[n])) ++n;
    frac = std::string(value.substr(1, std::min<size_t>(n - 1, 9)));
    frac.append(9 - frac.size(), '0');
    value.remove_prefix(n);
  }
  int offset_minutes = 0;
  if (!value.empty() && value[0] == 'Z') {
    value.remove_prefix(1);
  } else {
    if (value.size() < 6 || value[3] != ':') throw cannot("Z07:00", value);
    char sign = value[0];
    std::string_view hh = value.substr(1, 2), mm = value.substr(4, 2);
    value.remove_prefix(6);
    if (!is_digit(hh[0]) || !is_digit(hh[1]) || !is_digit(mm[0]) || !is_digit(mm[1])) throw cannot("Z07:00", value);
    if (sign != '+' && sign != '-') throw cannot("Z07:00", value);
    offset_minutes = ((hh[0] - '0') * 10 + (hh[1] - '0')) * 60 + (mm[0] - '0') * 10 + (mm[1] - '0');
    if (sign == '-') offset_minutes = -offset_minutes;
  }
  skip("\"");
  if (!value.empty()) throw Error("parsing time " + go_time_quote(raw) + ": extra text: " + go_time_quote(value));
  if (day < 1 || day > days_in(month, year)) throw Error("parsing time " + go_time_quote(raw) + ": day out of range");

  // RFC3339Nano, in the offset it was written with.
  std::string out;
  append_padded(out, year, 4);
  out += '-';
  append_padded(out, month, 2);
  out += '-';
  append_padded(out, day, 2);
  out += 'T';
  append_padded(out, hour, 2);
  out += ':';
  append_padded(out, minute, 2);
  out += ':';
  append_padded(out, second, 2);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) out += "." + frac;
  if (offset_minutes == 0) {
    out += 'Z';
  } else {
    int z = offset_minutes;
    out += z < 0 ? '-' : '+';
    if (z < 0) z = -z;
    append_padded(out, z / 60, 2);
    out += ':';
    append_padded(out, z % 60, 2);
  }
  return out;
}

}  // namespace ferry::gojson
