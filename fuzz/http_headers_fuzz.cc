// Fuzzes the registry header parsers (WWW-Authenticate, Link) and URL
// reference resolution: hostile registries control all three.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/link_header.h"
#include "net/www_authenticate.h"
#include "util/error.h"

namespace {

void check(bool ok) {
  if (!ok) abort();
}

bool is_lower_token(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if ((c >= 'A' && c <= 'Z') || c == ' ' || c == ',' || c == '=' || c == '"') return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // Newlines separate header values (a header repeated across lines).
  std::vector<std::string> values;
  for (size_t start = 0;;) {
    size_t nl = in.find('\n', start);
    values.emplace_back(in.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }

  try {
    for (const ferry::net::Challenge& c : ferry::net::parse_www_authenticate(values)) {
      check(is_lower_token(c.scheme));
      for (const auto& [k, v] : c.params) check(is_lower_token(k));
    }
  } catch (const ferry::Error&) {
    check(size > ferry::net::kMaxChallengeHeaderBytes);
  }

  try {
    if (auto next = ferry::net::next_link(values)) {
      check(next->find('>') == std::string::npos);
      check(in.find("<" + *next + ">") != std::string_view::npos);
    }
  } catch (const ferry::Error&) {
    check(size > ferry::net::kMaxLinkHeaderBytes);
  }

  // base NUL ref, or the whole input as both.
  const size_t nul = in.find('\0');
  const std::string base(in.substr(0, nul));
  const std::string ref(nul == std::string_view::npos ? in : in.substr(nul + 1));
  try {
    std::string out = ferry::net::resolve_url(base, ref);
    for (unsigned char c : out) check(c >= 0x20 && c != 0x7f);
    // An empty reference is the base without its fragment.
    check(ferry::net::resolve_url(base, "") == base.substr(0, base.find('#')));
    // A result is itself usable as a base.
    (void)ferry::net::resolve_url(out, ref);
  } catch (const ferry::Error&) {
  }
  return 0;
}
