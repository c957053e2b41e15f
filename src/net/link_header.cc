#include "net/link_header.h"

#include <string_view>

#include "net/header_tokens.h"
#include "util/error.h"

namespace ferry::net {

namespace {

// rel may list several relation types separated by whitespace.
bool rel_has_next(std::string_view rel) {
  size_t i = 0;
  while (i < rel.size()) {
    while (i < rel.size() && is_ows(rel[i])) i++;
    size_t j = i;
    while (j < rel.size() && !is_ows(rel[j])) j++;
    if (j > i && ascii_iequals(rel.substr(i, j - i), "next")) return true;
    i = j;
  }
  return false;
}

class LinkParser {
 public:
  explicit LinkParser(std::string_view s) : s_(s) {}

  std::optional<std::string> find_next() {
    for (;;) {
      while (!at_end() && (is_ows(peek()) || peek() == ',')) pos_++;
      if (at_end()) return std::nullopt;
      if (peek() != '<') {
        skip_element();
        continue;
      }
      const size_t close = s_.find('>', pos_ + 1);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view target = s_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
      std::optional<std::string> rel;
      if (!params(rel)) {
        skip_element();
        continue;
      }
      if (rel && rel_has_next(*rel)) return std::string(target);
    }
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ows() {
    while (!at_end() && is_ows(peek())) pos_++;
  }

  // Moves to the next top-level comma; commas inside <...> or quotes do not
  // count. Always advances unless already at a comma or the end.
  void skip_element() {
    while (!at_end() && peek() != ',') {
      if (peek() == '"') {
        pos_++;
        while (!at_end() && peek() != '"') pos_ += (peek() == '\\' && pos_ + 1 < s_.size()) ? 2 : 1;
        if (!at_end()) pos_++;
      } else if (peek() == '<') {
        const size_t close = s_.find('>', pos_ + 1);
        pos_ = close == std::string_view::npos ? s_.size() : close + 1;
      } else {
        pos_++;
      }
    }
  }

  // *( OWS ";" OWS name [ BWS "=" BWS value ] ), up to "," or the end.
  // Only the first rel counts (RFC 8288 §3.3).
  bool params(std::optional<std::string>& rel) {
    for (;;) {
      skip_ows();
      if (at_end() || peek() == ',') return true;
      if (peek() != ';') return false;
      pos_++;
      skip_ows();
      const size_t b = pos_;
      while (!at_end() && is_tchar(static_cast<unsigned char>(peek()))) pos_++;
      std::string_view name = s_.substr(b, pos_ - b);
      if (name.empty()) return false;
      skip_ows();
      std::string value;
      if (!at_end() && peek() == '=') {
        pos_++;
        skip_ows();
        if (!value_at(value)) return false;
      }
      if (!rel && ascii_iequals(name, "rel")) rel = std::move(value);
    }
  }

  bool value_at(std::string& out) {
    if (at_end()) return false;
    if (peek() == '"') return read_quoted_string(s_, pos_, out);
    const size_t b = pos_;
    while (!at_end() && peek() != ',' && peek() != ';' && peek() != '"' && !is_ows(peek())) pos_++;
    out.assign(s_.substr(b, pos_ - b));
    return !out.empty();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

struct UriParts {
  std::string_view scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
};

bool valid_scheme(std::string_view s) {
  if (s.empty()) return false;
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  return true;
}

// RFC 3986 Appendix B, except that a "scheme" that is not one by §3.1
// syntax is left in the path (so "a b:c" stays a relative reference).
UriParts split_uri(std::string_view s) {
  UriParts u;
  const size_t colon = s.find_first_of(":/?#");
  if (colon != std::string_view::npos && s[colon] == ':' && valid_scheme(s.substr(0, colon))) {
    u.has_scheme = true;
    u.scheme = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  if (s.size() >= 2 && s[0] == '/' && s[1] == '/') {
    s.remove_prefix(2);
    const size_t end = s.find_first_of("/?#");
    u.has_authority = true;
    u.authority = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  const size_t hash = s.find('#');
  if (hash != std::string_view::npos) {
    u.has_fragment = true;
    u.fragment = s.substr(hash + 1);
    s = s.substr(0, hash);
  }
  const size_t q = s.find('?');
  if (q != std::string_view::npos) {
    u.has_query = true;
    u.query = s.substr(q + 1);
    s = s.substr(0, q);
  }
  u.path = s;
  return u;
}

// RFC 3986 §5.2.4. Linear: removing the last output segment scans only that
// segment, which is then gone.
std::string remove_dot_segments(std::string_view in) {
  static constexpr std::string_view kSlash = "/";
  std::string out;
  const auto drop_last = [&out] {
    const size_t slash = out.rfind('/');
    out.resize(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = kSlash;
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      drop_last();
    } else if (in == "/..") {
      in = kSlash;
      drop_last();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const size_t next = in.find('/', 1);
      const size_t n = next == std::string_view::npos ? in.size() : next;
      out.append(in.substr(0, n));
      in.remove_prefix(n);
    }
  }
  return out;
}

void check_no_controls(const std::string& s, const char* what) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f)
      throw Error(std::string("invalid ") + what + " URL: contains control character");
}

}  // namespace

std::optional<std::string> next_link(const std::vector<std::string>& values) {
  size_t total = 0;
  for (const std::string& v : values) total += v.size();
  if (total > kMaxLinkHeaderBytes)
    throw Error("Link header is too large: " + std::to_string(total) + " bytes, limit " +
                std::to_string(kMaxLinkHeaderBytes));
  for (const std::string& v : values) {
    std::optional<std::string> next = LinkParser(v).find_next();
    if (next) return next;
  }
  return std::nullopt;
}

std::string resolve_url(const std::string& base, const std::string& ref) {
  check_no_controls(base, "base");
  check_no_controls(ref, "reference");
  const UriParts b = split_uri(base);
  const UriParts r = split_uri(ref);

  UriParts t;
  std::string path;  // owns t.path's text
  if (r.has_scheme) {
    t = r;
    path = remove_dot_segments(r.path);
  } else {
    if (r.has_authority) {
      t.has_authority = true;
      t.authority = r.authority;
      path = remove_dot_segments(r.path);
      t.has_query = r.has_query;
      t.query = r.query;
    } else {
      if (r.path.empty()) {
        path = b.path;
        t.has_query = r.has_query || b.has_query;
        t.query = r.has_query ? r.query : b.query;
      } else {
        if (r.path.front() == '/') {
          path = remove_dot_segments(r.path);
        } else {
          std::string merged;
          if (b.has_authority && b.path.empty()) {
            merged = "/";
          } else {
            const size_t slash = b.path.rfind('/');
            if (slash != std::string_view::npos) merged = b.path.substr(0, slash + 1);
          }
          merged += r.path;
          path = remove_dot_segments(merged);
        }
        t.has_query = r.has_query;
        t.query = r.query;
      }
      t.has_authority = b.has_authority;
      t.authority = b.authority;
    }
    t.has_scheme = b.has_scheme;
    t.scheme = b.scheme;
  }
  std::string out;
  out.reserve(base.size() + ref.size() + 4);
  if (t.has_scheme) out.append(t.scheme).push_back(':');
  if (t.has_authority) out.append("//").append(t.authority);
  out += path;
  if (t.has_query) out.append("?").append(t.query);
  if (r.has_fragment) out.append("#").append(r.fragment);
  return out;
}

}  // namespace ferry::net
