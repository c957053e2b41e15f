#include "cli/flags.h"

#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <utility>

#include "util/error.h"
#include "util/go_quote.h"

namespace ferry::cli {
namespace {

// ---------------------------------------------------------------------------
// Go text primitives (fmt's %q itself is util/go_quote).

// unicode.IsSpace.
bool is_go_space(uint32_t r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// strings.TrimRightFunc(s, unicode.IsSpace), cobra's trimTrailingWhitespaces.
std::string trim_right_space(std::string_view s) {
  while (!s.empty()) {
    // utf8.DecodeLastRuneInString: the last rune starts at the nearest
    // non-continuation byte at most 3 back; anything else is an invalid
    // byte, which is not a space.
    size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      start--;
    }
    const GoRune d = go_decode_rune(s.substr(start));
    if (start + d.width != s.size() || !is_go_space(d.rune)) break;
    s.remove_suffix(d.width);
  }
  return std::string(s);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// ---------------------------------------------------------------------------
// strconv: pflag reports their errors verbatim after "invalid argument".

enum class NumErr { kNone, kSyntax, kRange };

[[noreturn]] void throw_num_error(const char* fn, std::string_view num, NumErr err) {
  throw Error(std::string("strconv.") + fn + ": parsing " + go_quote(num) + ": " +
              (err == NumErr::kRange ? "value out of range" : "invalid syntax"));
}

char lower(char c) { return static_cast<char>(c | ('x' - 'X')); }

// Underscores may only separate digits (or follow a base prefix).
bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); i++) {
    if ((s[i] >= '0' && s[i] <= '9') || (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseUint(s, base, 64) for base 0 (prefixes, underscores) or 10.
NumErr go_parse_uint(std::string_view s, int base, uint64_t* out) {
  *out = 0;
  if (s.empty()) return NumErr::kSyntax;
  const bool base0 = base == 0;
  const std::string_view s0 = s;
  if (base0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && lower(s[1]) == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  const uint64_t ubase = static_cast<uint64_t>(base);
  const uint64_t cutoff = UINT64_MAX / ubase + 1;
  bool underscores = false;
  uint64_t n = 0;
  for (char c : s) {
    uint64_t d;
    if (c == '_' && base0) {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = static_cast<uint64_t>(lower(c) - 'a' + 10);
    } else {
      return NumErr::kSyntax;
    }
    if (d >= ubase) return NumErr::kSyntax;
    if (n >= cutoff) {
      *out = UINT64_MAX;
      return NumErr::kRange;
    }
    n *= ubase;
    const uint64_t n1 = n + d;
    if (n1 < n) {
      *out = UINT64_MAX;
      return NumErr::kRange;
    }
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) return NumErr::kSyntax;
  *out = n;
  return NumErr::kNone;
}

// strconv.ParseInt(s, base, 64); errors carry the whole input, sign included.
int64_t go_parse_int(std::string_view s, int base, const char* fn) {
  if (s.empty()) throw_num_error(fn, s, NumErr::kSyntax);
  const std::string_view s0 = s;
  bool neg = false;
  if (s[0] == '+') {
    s.remove_prefix(1);
  } else if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  uint64_t un;
  NumErr err = go_parse_uint(s, base, &un);
  if (err == NumErr::kSyntax) throw_num_error(fn, s0, err);
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!neg && un >= kCutoff) throw_num_error(fn, s0, NumErr::kRange);
  if (neg && un > kCutoff) throw_num_error(fn, s0, NumErr::kRange);
  return neg ? static_cast<int64_t>(0 - un) : static_cast<int64_t>(un);
}

uint64_t go_parse_uint_checked(std::string_view s) {
  uint64_t v;
  NumErr err = go_parse_uint(s, 0, &v);
  if (err != NumErr::kNone) throw_num_error("ParseUint", s, err);
  return v;
}

bool go_parse_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  throw Error("strconv.ParseBool: parsing " + go_quote(s) + ": invalid syntax");
}

// ---------------------------------------------------------------------------
// encoding/csv, as pflag's StringSlice uses it: one record from a reader
// with default settings (comma ',', no comments, strict quotes).

class CsvReader {
 public:
  explicit CsvReader(std::string_view in) : in_(in) {}

  std::vector<std::string> read_record() {
    std::string line;
    for (;;) {
      if (!read_line(line)) throw Error("EOF");
      if (line.size() == length_nl(line)) continue;  // empty lines are skipped
      break;
    }
    const int rec_line = num_line_;
    int pos_line = num_line_;
    size_t pos_col = 1;
    std::string buf;
    std::vector<size_t> ends;
    std::string_view ln = line;
    for (;;) {
      if (ln.empty() || ln[0] != '"') {
        const size_t i = ln.find(',');
        std::string_view field =
            i != std::string_view::npos ? ln.substr(0, i) : ln.substr(0, ln.size() - length_nl(ln));
        const size_t j = field.find('"');
        if (j != std::string_view::npos) {
          parse_error(rec_line, num_line_, pos_col + j, "bare \" in non-quoted-field");
        }
        buf += field;
        ends.push_back(buf.size());
        if (i == std::string_view::npos) break;
        ln.remove_prefix(i + 1);
        pos_col += i + 1;
        continue;
      }
      ln.remove_prefix(1);
      pos_col += 1;
      bool next_field = false;
      for (;;) {
        const size_t i = ln.find('"');
        if (i != std::string_view::npos) {
          buf += ln.substr(0, i);
          ln.remove_prefix(i + 1);
          pos_col += i + 1;
          if (!ln.empty() && ln[0] == '"') {
            buf += '"';
            ln.remove_prefix(1);
            pos_col += 1;
          } else if (!ln.empty() && ln[0] == ',') {
            ln.remove_prefix(1);
            pos_col += 1;
            ends.push_back(buf.size());
            next_field = true;
            break;
          } else if (length_nl(ln) == ln.size()) {
            ends.push_back(buf.size());
            break;
          } else {
            parse_error(rec_line, num_line_, pos_col - 1, kErrQuote);
          }
        } else if (!ln.empty()) {
          buf += ln;
          pos_col += ln.size();
          read_line(line);
          ln = line;
          if (!ln.empty()) {
            pos_line++;
            pos_col = 1;
          }
        } else {
          parse_error(rec_line, pos_line, pos_col, kErrQuote);
        }
      }
      if (!next_field) break;
    }
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t end : ends) {
      fields.emplace_back(buf.substr(start, end - start));
      start = end;
    }
    return fields;
  }

 private:
  static constexpr const char* kErrQuote = "extraneous or missing \" in quoted-field";

  static size_t length_nl(std::string_view s) { return !s.empty() && s.back() == '\n' ? 1 : 0; }

  // bufio ReadSlice('\n') plus csv's normalisation: a trailing "\r" before
  // EOF is dropped and "\r\n" becomes "\n". False at EOF (nothing read).
  bool read_line(std::string& line) {
    num_line_++;
    if (pos_ >= in_.size()) {
      line.clear();
      return false;
    }
    size_t nl = in_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? in_.size() : nl + 1;
    line.assign(in_.substr(pos_, end - pos_));
    pos_ = end;
    if (nl == std::string_view::npos && !line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() >= 2 && line[line.size() - 2] == '\r' && line.back() == '\n') {
      line.erase(line.size() - 2, 1);
    }
    return true;
  }

  [[noreturn]] static void parse_error(int start_line, int line, size_t col, const char* what) {
    std::string msg;
    if (start_line != line) msg = "record on line " + std::to_string(start_line) + "; ";
    msg += "parse error on line " + std::to_string(line) + ", column " + std::to_string(col) +
           ": " + what;
    throw Error(msg);
  }

  std::string_view in_;
  size_t pos_ = 0;
  int num_line_ = 0;
};

std::vector<std::string> read_as_csv(std::string_view v) {
  if (v.empty()) return {};
  return CsvReader(v).read_record();
}

// csv.Writer for one record without the final newline (pflag's String()).
std::string write_as_csv(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t n = 0; n < fields.size(); n++) {
    if (n > 0) out += ',';
    const std::string& f = fields[n];
    bool quote = false;
    if (f == "\\.") {
      quote = true;
    } else if (!f.empty()) {
      quote = f.find_first_of("\n\r\",") != std::string::npos || is_go_space(go_decode_rune(f).rune);
    }
    if (!quote) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

std::vector<int64_t> parse_int_list(std::string_view v) {
  std::vector<int64_t> out;
  for (;;) {
    const size_t comma = v.find(',');
    out.push_back(go_parse_int(v.substr(0, comma), 10, "Atoi"));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Per-kind behaviour of a flag: what pflag's Value implementations do.

template <class... Fs>
struct Overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overload(Fs...) -> Overload<Fs...>;

// Bools take "--x" alone as "--x=true" (pflag NoOptDefVal).
bool takes_no_value(const Flag& f) {
  return std::holds_alternative<bool*>(f.target) ||
         std::holds_alternative<std::optional<bool>*>(f.target);
}

// Value.Type(), after UnquoteUsage's renaming, as help shows it.
std::string type_name(const Flag& f) {
  return std::visit(Overload{
                        [](bool*) { return std::string(); },
                        [](std::optional<bool>*) { return std::string(); },
                        [](std::string*) { return std::string("string"); },
                        [](OptionalString*) { return std::string("string"); },
                        [](int64_t*) { return std::string("int"); },
                        [](OptionalInt*) { return std::string("int"); },
                        [](uint64_t*) { return std::string("uint"); },
                        [](std::vector<std::string>*) { return std::string("strings"); },
                        [](std::vector<int64_t>*) { return std::string("ints"); },
                        [](Duration*) { return std::string("duration"); },
                    },
                    f.target);
}

std::string int_list_string(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); i++) {
    if (i > 0) out += ',';
    out += std::to_string(v[i]);
  }
  return out + "]";
}

// pflag's defaultIsZeroValue. c/common's Optional* values are not pflag
// types, so pflag asks for their *current* value there: after
// `--creds=x --help`, skopeo's help shows `(default "")`.
bool default_is_zero(const Flag& f) {
  return std::visit(
      Overload{
          [&](bool*) { return f.def_value == "false"; },
          [&](std::optional<bool>*) { return f.def_value == "false"; },
          [&](std::string*) { return f.def_value.empty(); },
          [&](OptionalString* t) {
            const std::string v = t->present ? t->value : "";
            return v.empty() || v == "false" || v == "<nil>" || v == "0";
          },
          [&](int64_t*) { return f.def_value == "0"; },
          [&](OptionalInt* t) { return !t->present || t->value == 0; },
          [&](uint64_t*) { return f.def_value == "0"; },
          [&](std::vector<std::string>*) { return f.def_value == "[]"; },
          [&](std::vector<int64_t>*) { return f.def_value == "[]"; },
          [&](Duration*) { return f.def_value == "0" || f.def_value == "0s"; },
      },
      f.target);
}

// Value.Set. Slices replace their default on first use and append after.
void assign(Flag& f, const std::string& value) {
  std::visit(Overload{
                 [&](bool* t) { *t = go_parse_bool(value); },
                 [&](std::optional<bool>* t) { *t = go_parse_bool(value); },
                 [&](std::string* t) { *t = value; },
                 [&](OptionalString* t) {
                   t->present = true;
                   t->value = value;
                 },
                 [&](int64_t* t) { *t = go_parse_int(value, 0, "ParseInt"); },
                 [&](OptionalInt* t) {
                   t->value = go_parse_int(value, 0, "ParseInt");
                   t->present = true;
                 },
                 [&](uint64_t* t) { *t = go_parse_uint_checked(value); },
                 [&](std::vector<std::string>* t) {
                   std::vector<std::string> v = read_as_csv(value);
                   if (!f.changed) t->clear();
                   t->insert(t->end(), std::make_move_iterator(v.begin()),
                             std::make_move_iterator(v.end()));
                 },
                 [&](std::vector<int64_t>* t) {
                   std::vector<int64_t> v = parse_int_list(value);
                   if (!f.changed) t->clear();
                   t->insert(t->end(), v.begin(), v.end());
                 },
                 [&](Duration* t) { *t = parse_go_duration(value); },
             },
             f.target);
}

std::string flag_display_name(const Flag& f) {
  if (f.shorthand != 0) return std::string("-") + f.shorthand + ", --" + f.name;
  return "--" + f.name;
}

[[noreturn]] void throw_help_requested() { throw Error("pflag: help requested"); }

// The parser proper: pflag's parseArgs over one FlagSet (with its parents'
// persistent flags).
class Parser {
 public:
  Parser(FlagSet& fs, bool help_defined, const std::vector<std::string>& args)
      : fs_(fs), help_defined_(help_defined), args_(args) {}

  std::vector<std::string> run() {
    std::vector<std::string> positionals;
    while (next_ < args_.size()) {
      const std::string& s = args_[next_++];
      if (s.size() < 2 || s[0] != '-') {
        positionals.push_back(s);
        continue;
      }
      if (s[1] == '-') {
        if (s.size() == 2) {  // "--" ends the flags
          positionals.insert(positionals.end(), args_.begin() + static_cast<ptrdiff_t>(next_),
                             args_.end());
          break;
        }
        parse_long(s);
      } else {
        parse_short(s);
      }
    }
    return positionals;
  }

  const std::string& warnings() const { return warnings_; }

 private:
  Flag* find_long(std::string_view name) {
    Flag* f = fs_.find_long(name);
    if (f != nullptr && !help_defined_ && fs_.is_help_flag(f)) return nullptr;
    return f;
  }
  Flag* find_short(char c) {
    Flag* f = fs_.find_short(c);
    if (f != nullptr && !help_defined_ && fs_.is_help_flag(f)) return nullptr;
    return f;
  }

  void parse_long(const std::string& s) {
    std::string_view name = std::string_view(s).substr(2);
    if (name.empty() || name[0] == '-' || name[0] == '=') throw Error("bad flag syntax: " + s);
    const size_t eq = name.find('=');
    const std::string_view flag_name = name.substr(0, eq);
    Flag* f = find_long(flag_name);
    if (f == nullptr) {
      if (flag_name == "help") throw_help_requested();
      throw Error("unknown flag: --" + std::string(flag_name));
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = name.substr(eq + 1);
    } else if (takes_no_value(*f)) {
      value = "true";
    } else if (next_ < args_.size()) {
      value = args_[next_++];  // even if it looks like a flag: `--format --raw`
    } else {
      throw Error("flag needs an argument: " + s);
    }
    set(*f, value);
  }

  void parse_short(const std::string& s) {
    std::string_view shorthands = std::string_view(s).substr(1);
    while (!shorthands.empty()) {
      // pflag skips Go test-binary flags (`-test.v`), even inside a group.
      if (starts_with(shorthands, "test.")) return;
      const char c = shorthands[0];
      Flag* f = find_short(c);
      if (f == nullptr) {
        if (c == 'h') throw_help_requested();
        throw Error("unknown shorthand flag: " + go_quote_rune(static_cast<unsigned char>(c)) +
                    " in -" + std::string(shorthands));
      }
      std::string value;
      std::string_view rest;
      if (shorthands.size() > 2 && shorthands[1] == '=') {
        value = shorthands.substr(2);
      } else if (takes_no_value(*f)) {
        value = "true";
        rest = shorthands.substr(1);
      } else if (shorthands.size() > 1) {
        value = shorthands.substr(1);
      } else if (next_ < args_.size()) {
        value = args_[next_++];
      } else {
        throw Error("flag needs an argument: " + go_quote_rune(static_cast<unsigned char>(c)) +
                    " in -" + std::string(shorthands));
      }
      set(*f, value);
      shorthands = rest;
    }
  }

  void set(Flag& f, const std::string& value) {
    try {
      assign(f, value);
    } catch (const Error& e) {
      throw Error("invalid argument " + go_quote(value) + " for " +
                  go_quote(flag_display_name(f)) + " flag: " + e.what());
    }
    f.changed = true;
    if (!f.deprecated.empty()) {
      warnings_ += "Flag --" + f.name + " has been deprecated, " + f.deprecated + "\n";
    }
  }

  FlagSet& fs_;
  const bool help_defined_;
  const std::vector<std::string>& args_;
  size_t next_ = 0;
  std::string warnings_;
};

// cobra's isFlagArg (as fixed after 1.6: "a-b" is not a flag).
bool is_flag_arg(std::string_view arg) {
  return (arg.size() >= 3 && arg.substr(0, 2) == "--") ||
         (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-');
}

std::string replace_newlines(std::string_view s, size_t indent) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out.append(indent, ' ');
  }
  return out;
}

void append_description(std::string& out, const CommandHelp& cmd) {
  const std::string text = trim_right_space(cmd.long_desc.empty() ? cmd.short_desc : cmd.long_desc);
  if (!text.empty()) out += text + "\n\n";
}

}  // namespace

// ---------------------------------------------------------------------------

FlagSet::FlagSet(std::string name) : name_(std::move(name)), warnings_(&std::cerr) {
  help_flag_ = &add_bool("help", 'h', &help_, "help for " + name_);
}

Flag& FlagSet::add(std::string name, char shorthand, std::string usage, std::string def_value,
                   Flag::Target target) {
  if (name.empty() || name[0] == '-' || name.find('=') != std::string::npos) {
    throw std::logic_error("bad flag name: " + name);
  }
  if (lookup(name) != nullptr) throw std::logic_error(name_ + " flag redefined: " + name);
  if (shorthand != 0) {
    for (const auto& f : flags_) {
      if (f->shorthand != shorthand) continue;
      // cobra adds -h for help only when no flag of the command claims it.
      if (f.get() != help_flag_) {
        throw std::logic_error(std::string("shorthand -") + shorthand + " redefined by " + name);
      }
      f->shorthand = 0;
    }
  }
  auto flag = std::make_unique<Flag>();
  flag->name = std::move(name);
  flag->shorthand = shorthand;
  flag->usage = std::move(usage);
  flag->def_value = std::move(def_value);
  flag->target = target;
  flags_.push_back(std::move(flag));
  return *flags_.back();
}

Flag& FlagSet::add_bool(std::string name, char shorthand, bool* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), *target ? "true" : "false", target);
}

Flag& FlagSet::add_optional_bool(std::string name, char shorthand, std::optional<bool>* target,
                                 std::string usage) {
  target->reset();
  return add(std::move(name), shorthand, std::move(usage), "false", target);
}

Flag& FlagSet::add_string(std::string name, char shorthand, std::string* target,
                          std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), *target, target);
}

Flag& FlagSet::add_optional_string(std::string name, char shorthand, OptionalString* target,
                                   std::string usage) {
  *target = OptionalString{};
  return add(std::move(name), shorthand, std::move(usage), "", target);
}

Flag& FlagSet::add_int(std::string name, char shorthand, int64_t* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), std::to_string(*target), target);
}

Flag& FlagSet::add_optional_int(std::string name, char shorthand, OptionalInt* target,
                                std::string usage) {
  *target = OptionalInt{};
  return add(std::move(name), shorthand, std::move(usage), "", target);
}

Flag& FlagSet::add_uint(std::string name, char shorthand, uint64_t* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), std::to_string(*target), target);
}

Flag& FlagSet::add_string_slice(std::string name, char shorthand,
                                std::vector<std::string>* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), "[" + write_as_csv(*target) + "]",
             target);
}

Flag& FlagSet::add_int_slice(std::string name, char shorthand, std::vector<int64_t>* target,
                             std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), int_list_string(*target), target);
}

Flag& FlagSet::add_duration(std::string name, char shorthand, Duration* target,
                            std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), format_go_duration(*target), target);
}

Flag& FlagSet::add_alias(std::string alias, const std::string& of) {
  const Flag* orig = lookup(of);
  if (orig == nullptr) throw std::logic_error("alias of undefined flag: " + of);
  Flag& f = add(std::move(alias), 0, orig->usage, orig->def_value, orig->target);
  f.hidden = true;
  return f;
}

void FlagSet::mark_hidden(const std::string& name) {
  Flag* f = lookup(name);
  if (f == nullptr) throw std::logic_error("no such flag: " + name);
  f->hidden = true;
}

void FlagSet::mark_deprecated(const std::string& name, std::string message) {
  Flag* f = lookup(name);
  if (f == nullptr || message.empty()) throw std::logic_error("cannot deprecate flag: " + name);
  f->deprecated = std::move(message);
  f->hidden = true;
}

Flag* FlagSet::lookup(std::string_view name) {
  for (const auto& f : flags_) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

const Flag* FlagSet::lookup(std::string_view name) const {
  return const_cast<FlagSet*>(this)->lookup(name);
}

void FlagSet::set_parent(FlagSet* parent) {
  for (const FlagSet* p = parent; p != nullptr; p = p->parent_) {
    if (p == this) throw std::logic_error("flag set parent cycle");
  }
  parent_ = parent;
}

Flag* FlagSet::find_long(std::string_view name) {
  if (Flag* f = lookup(name)) return f;
  for (FlagSet* p = parent_; p != nullptr; p = p->parent_) {
    Flag* f = p->lookup(name);
    if (f != nullptr && f->persistent) return f;
  }
  return nullptr;
}

Flag* FlagSet::find_short(char c) {
  for (const auto& f : flags_) {
    if (f->shorthand == c) return f.get();
  }
  for (FlagSet* p = parent_; p != nullptr; p = p->parent_) {
    for (const auto& f : p->flags_) {
      // A local flag of the same name shadows the inherited one entirely.
      if (f->shorthand == c && f->persistent && lookup(f->name) == nullptr) return f.get();
    }
  }
  return nullptr;
}

bool FlagSet::is_help_flag(const Flag* f) const { return f == help_flag_; }

std::vector<std::string> FlagSet::parse(const std::vector<std::string>& args) {
  return parse_impl(args, true);
}

std::vector<std::string> FlagSet::parse_impl(const std::vector<std::string>& args,
                                             bool help_defined) {
  Parser parser(*this, help_defined, args);
  std::vector<std::string> positionals = parser.run();
  if (!parser.warnings().empty() && warnings_ != nullptr) *warnings_ << parser.warnings();
  return positionals;
}

std::string FlagSet::usages() const {
  std::vector<const Flag*> visible;
  for (const auto& f : flags_) {
    if (!f->hidden) visible.push_back(f.get());
  }
  std::sort(visible.begin(), visible.end(),
            [](const Flag* a, const Flag* b) { return a->name < b->name; });

  struct Line {
    std::string head, usage;
  };
  std::vector<Line> lines;
  size_t width = 0;
  for (const Flag* f : visible) {
    Line line;
    line.head = f->shorthand != 0 ? std::string("  -") + f->shorthand + ", --" + f->name
                                  : "      --" + f->name;
    // UnquoteUsage: the first `quoted` word names the value.
    std::string varname = type_name(*f);
    line.usage = f->usage;
    const size_t open = f->usage.find('`');
    if (open != std::string::npos) {
      const size_t close = f->usage.find('`', open + 1);
      if (close != std::string::npos) {
        varname = f->usage.substr(open + 1, close - open - 1);
        line.usage = f->usage.substr(0, open) + varname + f->usage.substr(close + 1);
      }
    }
    if (!varname.empty()) line.head += " " + varname;
    width = std::max(width, line.head.size());
    if (!default_is_zero(*f)) {
      const bool quoted = std::holds_alternative<std::string*>(f->target) ||
                          std::holds_alternative<OptionalString*>(f->target);
      line.usage += " (default " + (quoted ? go_quote(f->def_value) : f->def_value) + ")";
    }
    if (!f->deprecated.empty()) line.usage += " (DEPRECATED: " + f->deprecated + ")";
    lines.push_back(std::move(line));
  }

  std::string out;
  for (const Line& line : lines) {
    out += line.head;
    out.append(width - line.head.size() + 3, ' ');
    out += replace_newlines(line.usage, width + 3);
    out += '\n';
  }
  return out;
}

bool FlagSet::has_visible_flags() const {
  return std::any_of(flags_.begin(), flags_.end(), [](const auto& f) { return !f->hidden; });
}

bool FlagSet::has_visible_inherited_flags() const {
  for (const FlagSet* p = parent_; p != nullptr; p = p->parent_) {
    for (const auto& f : p->flags_) {
      if (f->persistent && !f->hidden && lookup(f->name) == nullptr) return true;
    }
  }
  return false;
}

Invocation traverse(FlagSet& root, const std::vector<std::string>& argv,
                    const std::function<bool(std::string_view)>& is_command) {
  // Cobra has not yet added the root's help flag while it looks for the
  // subcommand, so -h/--help count as unknown flags (that take a value) here.
  auto lookup_long = [&](std::string_view name) -> Flag* {
    Flag* f = root.find_long(name);
    return f != nullptr && root.is_help_flag(f) ? nullptr : f;
  };
  auto lookup_short = [&](char c) -> Flag* {
    Flag* f = root.find_short(c);
    return f != nullptr && root.is_help_flag(f) ? nullptr : f;
  };

  std::vector<std::string> flags;
  bool in_flag = false;
  for (size_t i = 0; i < argv.size(); i++) {
    const std::string& arg = argv[i];
    const bool has_eq = arg.find('=') != std::string::npos;
    if (starts_with(arg, "--") && !has_eq) {
      const Flag* f = lookup_long(std::string_view(arg).substr(2));
      in_flag = !(f != nullptr && takes_no_value(*f));
      flags.push_back(arg);
      continue;
    }
    if (starts_with(arg, "-") && !has_eq && arg.size() == 2) {
      const Flag* f = lookup_short(arg[1]);
      if (!(f != nullptr && takes_no_value(*f))) {
        in_flag = true;
        flags.push_back(arg);
        continue;
      }
    }
    if (in_flag) {
      in_flag = false;
      flags.push_back(arg);
      continue;
    }
    if (is_flag_arg(arg)) {
      flags.push_back(arg);
      continue;
    }
    if (!is_command(arg)) break;
    root.parse_impl(flags, false);
    return Invocation{arg, std::vector<std::string>(argv.begin() + static_cast<ptrdiff_t>(i) + 1,
                                                    argv.end())};
  }
  return Invocation{"", argv};
}

std::string CommandHelp::name() const { return use.substr(0, use.find(' ')); }

std::string command_help(std::string_view program, const CommandHelp& cmd, const FlagSet& flags) {
  std::string out;
  append_description(out, cmd);
  out += "Usage:\n";
  out += std::string(program) + " " + cmd.use;
  if (!cmd.example.empty()) out += "\n\nExamples:\n" + cmd.example;
  if (flags.has_visible_flags()) out += "\n\nFlags:\n" + trim_right_space(flags.usages());
  if (flags.has_visible_inherited_flags()) out += "\n";
  out += "\n";
  return out;
}

std::string root_help(std::string_view program, const CommandHelp& root, const FlagSet& flags,
                      const std::vector<CommandHelp>& commands) {
  std::vector<const CommandHelp*> listed;
  size_t pad = 11;  // cobra's minimum name padding
  for (const CommandHelp& c : commands) {
    pad = std::max(pad, c.name().size());
    if (!c.hidden || c.name() == "help") listed.push_back(&c);
  }
  std::sort(listed.begin(), listed.end(),
            [](const CommandHelp* a, const CommandHelp* b) { return a->name() < b->name(); });
  const bool has_subcommands = std::any_of(listed.begin(), listed.end(), [](const CommandHelp* c) {
    return c->name() != "help";
  });

  std::string out;
  append_description(out, root);
  out += "Usage:\n  " + std::string(program);
  if (flags.has_visible_flags()) out += " [flags]";
  if (has_subcommands) out += "\n  " + std::string(program) + " [command]";
  if (!root.example.empty()) out += "\n\nExamples:\n" + root.example;
  if (has_subcommands) {
    out += "\n\nAvailable Commands:";
    for (const CommandHelp* c : listed) {
      std::string name = c->name();
      name.resize(pad, ' ');
      out += "\n  " + name + " " + c->short_desc;
    }
  }
  if (flags.has_visible_flags()) out += "\n\nFlags:\n" + trim_right_space(flags.usages());
  if (has_subcommands) {
    out += "\n\nUse \"" + std::string(program) +
           " [command] --help\" for more information about a command.";
  }
  out += "\n";
  return out;
}

std::string program_name(std::string_view argv0) {
  const size_t slash = argv0.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  return base == "skopeo" ? "skopeo" : "ferry";
}

}  // namespace ferry::cli
