#include "net/www_authenticate.h"

#include <string_view>

#include "net/header_tokens.h"
#include "util/error.h"

namespace ferry::net {

namespace {

bool is_token68_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// One header value, consumed left to right. Every step either advances pos
// or ends the parse, so garbage cannot make it spin.
class ValueParser {
 public:
  ValueParser(std::string_view s, std::vector<Challenge>& out) : s_(s), out_(out) {}

  void run() {
    Challenge* cur = nullptr;
    for (;;) {
      // Empty list elements (", ,") are allowed by RFC 7230 §7.
      while (!at_end() && (is_ows(peek()) || peek() == ',')) pos_++;
      if (at_end()) return;
      std::string_view name = token();
      if (name.empty()) return;
      const size_t after_name = pos_;
      if (cur && param_follows()) {
        std::string value;
        if (!param_value(value)) return;
        cur->params[ascii_lower(name)] = std::move(value);
        if (!element_ends()) return;
        continue;
      }
      // Not a parameter of the current challenge: a new challenge begins.
      pos_ = after_name;
      out_.push_back(Challenge{ascii_lower(name), {}, {}});
      cur = &out_.back();
      if (at_end() || peek() == ',') continue;
      if (!is_ows(peek())) return;  // e.g. `Bearer"x"`
      skip_ows();
      if (at_end()) return;
      // `Scheme token68` (e.g. `Negotiate abc==`): a run of token68 characters
      // and padding standing alone. `realm=x` also starts such a run but is
      // followed by a value, which tells the two apart.
      size_t p = pos_;
      while (p < s_.size() && is_token68_char(static_cast<unsigned char>(s_[p]))) p++;
      if (p > pos_) {
        while (p < s_.size() && s_[p] == '=') p++;
        size_t q = p;
        while (q < s_.size() && is_ows(s_[q])) q++;
        if (q == s_.size() || s_[q] == ',') {
          cur->token68 = std::string(s_.substr(pos_, p - pos_));
          pos_ = q;
          continue;
        }
      }
      // Otherwise auth-params follow; the loop reads them.
    }
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ows() {
    while (!at_end() && is_ows(peek())) pos_++;
  }

  std::string_view token() {
    const size_t b = pos_;
    while (!at_end() && is_tchar(static_cast<unsigned char>(peek()))) pos_++;
    return s_.substr(b, pos_ - b);
  }

  // After a name: BWS "=" BWS and then a value (not more "=", which would
  // make it token68 padding). Consumes through the "=" if so.
  bool param_follows() {
    size_t p = pos_;
    while (p < s_.size() && is_ows(s_[p])) p++;
    if (p >= s_.size() || s_[p] != '=') return false;
    p++;
    while (p < s_.size() && is_ows(s_[p])) p++;
    if (p >= s_.size() || s_[p] == '=' || s_[p] == ',') return false;
    pos_ = p;
    return true;
  }

  bool param_value(std::string& out) {
    if (peek() == '"') return read_quoted_string(s_, pos_, out);
    // RFC 7235 wants a token here, but registries have been seen sending
    // bare URLs (realm=https://host/token); accept anything up to the next
    // separator rather than cutting the URL at ':'.
    const size_t b = pos_;
    while (!at_end()) {
      const unsigned char c = static_cast<unsigned char>(peek());
      if (c == ',' || is_ows(static_cast<char>(c)) || c == '"' || c < 0x20 || c == 0x7f) break;
      pos_++;
    }
    out.assign(s_.substr(b, pos_ - b));
    return !out.empty();
  }

  bool element_ends() {
    skip_ows();
    return at_end() || peek() == ',';
  }

  std::string_view s_;
  std::vector<Challenge>& out_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Challenge> parse_www_authenticate(const std::vector<std::string>& header_values) {
  size_t total = 0;
  for (const std::string& v : header_values) total += v.size();
  if (total > kMaxChallengeHeaderBytes)
    throw Error("WWW-Authenticate header is too large: " + std::to_string(total) +
                " bytes, limit " + std::to_string(kMaxChallengeHeaderBytes));
  std::vector<Challenge> out;
  for (const std::string& v : header_values) ValueParser(v, out).run();
  return out;
}

}  // namespace ferry::net
