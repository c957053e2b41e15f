// The small pieces of HTTP header grammar (RFC 9110 §5.6) that several
// header parsers share: token characters, optional white space, quoted
// strings, and ASCII case folding (header names and parameter names are
// case-insensitive; locale-dependent tolower would be wrong here).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::net {

// tchar: the characters of a token (a header or parameter name).
bool is_tchar(unsigned char c);
// OWS: space or horizontal tab.
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

char ascii_lower(char c);
std::string ascii_lower(std::string_view s);
bool ascii_iequals(std::string_view a, std::string_view b);

// Reads the quoted-string starting at s[pos] (which must be '"') into out,
// undoing backslash escapes, and moves pos past the closing quote. False
// (pos at the end) when it never ends: an unterminated string or a
// backslash as the last character.
bool read_quoted_string(std::string_view s, size_t& pos, std::string& out);

}  // namespace ferry::net
