// Go's strconv quoting (what fmt's %q prints), and the UTF-8 and IsPrint
// steps it is built from.
//
// skopeo's messages quote names, paths and values with %q, and scripts match
// on those messages, so every layer quotes with this one implementation: the
// escapes, the \xNN for bytes that are not UTF-8 and the \u/\U for runes
// that are not printable all follow Go 1.19 (the toolchain of the reference
// skopeo), the printable set included.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry {

inline constexpr char32_t kGoRuneError = 0xFFFD;

struct GoRune {
  char32_t rune;
  size_t width;  // bytes consumed; 0 only for empty input
};

// utf8.DecodeRuneInString: an invalid or truncated sequence (overlong form,
// surrogate, > U+10FFFF) decodes as {U+FFFD, 1}.
GoRune go_decode_rune(std::string_view s);

// utf8.AppendRune: a rune that is not valid Unicode is written as U+FFFD.
void go_append_rune(std::string& out, char32_t r);

// Each byte that does not start a valid UTF-8 sequence replaced by U+FFFD,
// as encoding/json decodes invalid UTF-8 inside a string.
std::string go_replace_invalid_utf8(std::string_view s);

// strconv.IsPrint (= unicode.IsPrint): letters, marks, numbers, punctuation,
// symbols and the ASCII space.
bool go_is_print(char32_t r);

// strconv.Quote: a double-quoted Go string literal.
std::string go_quote(std::string_view s);

// strconv.QuoteToASCII (%+q): like go_quote, but every non-ASCII rune is
// escaped too.
std::string go_quote_to_ascii(std::string_view s);

// strconv.QuoteRune (%q of a rune): a single-quoted Go rune literal; a rune
// that is not valid Unicode is quoted as U+FFFD. A byte passed here is
// taken as the rune U+00XX, which is how pflag quotes an unknown shorthand
// and encoding/json quotes an unexpected byte.
std::string go_quote_rune(char32_t r);

// strconv.QuoteRuneToASCII (%+q of a rune).
std::string go_quote_rune_to_ascii(char32_t r);

// The time package's own quote(), used in its parse errors, which differs
// from strconv.Quote: every byte outside printable ASCII becomes \xNN (valid
// UTF-8 too), only '"' and '\\' are backslash-escaped, and DEL stays as is.
std::string go_time_quote(std::string_view s);

}  // namespace ferry
