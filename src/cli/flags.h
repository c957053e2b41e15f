// Command-line flags that parse and print exactly like spf13/pflag under
// spf13/cobra, as skopeo uses them. Scripts written for skopeo depend on the
// quirks (`--tls-verify false` is NOT a value, `-fVALUE`, CSV-split slices,
// the exact error texts), so this is pflag's algorithm, not a generic parser.
//
// A FlagSet binds flags to the caller's variables; the value a variable holds
// when its flag is added is the default that help shows. parse() assigns the
// variables, returns the positional arguments and throws ferry::Error with
// pflag's message on bad input.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/duration.h"
#include "util/go_quote.h"

namespace ferry::cli {

// A string flag whose presence matters even when empty (`--creds=`):
// c/common's OptionalString.
struct OptionalString {
  bool present = false;
  std::string value;
};

// c/common's OptionalInt (`--dest-compress-level`).
struct OptionalInt {
  bool present = false;
  int64_t value = 0;
};

struct Invocation;

struct Flag {
  using Target = std::variant<bool*, std::optional<bool>*, std::string*, OptionalString*,
                              int64_t*, OptionalInt*, uint64_t*, std::vector<std::string>*,
                              std::vector<int64_t>*, Duration*>;

  std::string name;
  char shorthand = 0;       // 0: none
  std::string usage;        // a `backquoted` word becomes the value name in help
  std::string def_value;    // pflag's DefValue text, for "(default ...)"
  bool hidden = false;      // accepted, not listed in help
  std::string deprecated;   // accepted with a warning, not listed in help
  bool persistent = false;  // also accepted by child FlagSets (cobra PersistentFlags)
  bool changed = false;     // given on the command line (by any parse so far)
  Target target;
};

class FlagSet {
 public:
  // `name` is the command name, used in the implicit "-h, --help" flag's
  // usage ("help for copy").
  explicit FlagSet(std::string name);
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  const std::string& name() const { return name_; }

  // Definitions. shorthand 0 means none. Each returns the Flag so the caller
  // can set hidden/persistent; the reference stays valid for the FlagSet's
  // lifetime.
  Flag& add_bool(std::string name, char shorthand, bool* target, std::string usage);
  // Tri-state bool (c/common OptionalBool): absent = nullopt. `--x` and
  // `--x=false` set it; `--x false` does not. Resets *target to absent.
  Flag& add_optional_bool(std::string name, char shorthand, std::optional<bool>* target,
                          std::string usage);
  Flag& add_string(std::string name, char shorthand, std::string* target, std::string usage);
  // Resets *target to absent.
  Flag& add_optional_string(std::string name, char shorthand, OptionalString* target,
                            std::string usage);
  Flag& add_int(std::string name, char shorthand, int64_t* target, std::string usage);
  // Resets *target to absent.
  Flag& add_optional_int(std::string name, char shorthand, OptionalInt* target,
                         std::string usage);
  Flag& add_uint(std::string name, char shorthand, uint64_t* target, std::string usage);
  // Repeatable; each value is split as one CSV record (pflag StringSlice).
  // The first use replaces the default, later ones append.
  Flag& add_string_slice(std::string name, char shorthand, std::vector<std::string>* target,
                         std::string usage);
  // Repeatable; each value is split on ',' and parsed as strconv.Atoi.
  Flag& add_int_slice(std::string name, char shorthand, std::vector<int64_t>* target,
                      std::string usage);
  Flag& add_duration(std::string name, char shorthand, Duration* target, std::string usage);

  // A second, hidden name writing the same variable (skopeo's --screds for
  // --src-creds). Usage text is copied; no shorthand.
  Flag& add_alias(std::string alias, const std::string& of);

  void mark_hidden(const std::string& name);
  // pflag MarkDeprecated: hides the flag; using it prints
  // "Flag --NAME has been deprecated, MESSAGE" to the warning stream.
  void mark_deprecated(const std::string& name, std::string message);

  Flag* lookup(std::string_view name);  // this set only; nullptr if absent
  const Flag* lookup(std::string_view name) const;

  // Flags of `parent` marked persistent are accepted by this set too
  // (cobra merges the root's PersistentFlags into every subcommand); flags
  // of this set win on a name clash.
  void set_parent(FlagSet* parent);

  // Parses args (without the program/command name). Returns positionals in
  // order; "--" ends flag parsing. Throws ferry::Error with pflag's message.
  // Deprecation warnings go to the warning stream only if parsing succeeds,
  // as cobra prints them.
  std::vector<std::string> parse(const std::vector<std::string>& args);

  // True when -h/--help was given (and parse succeeded): print help, exit 0.
  bool help_requested() const { return help_; }

  // Where deprecation warnings go (default std::cerr).
  void set_warning_stream(std::ostream* out) { warnings_ = out; }

  // pflag's FlagUsages(): this set's visible flags, sorted by name, aligned.
  // Every line ends in '\n'; empty when there is none.
  std::string usages() const;

  bool has_visible_flags() const;
  // Whether the parent chain contributes visible persistent flags not
  // shadowed here (cobra HasAvailableInheritedFlags).
  bool has_visible_inherited_flags() const;

  // How parse() resolves a name: this set's flags, then the parents'
  // persistent ones. nullptr if none.
  Flag* find_long(std::string_view name);
  Flag* find_short(char c);
  bool is_help_flag(const Flag* f) const;

 private:
  friend Invocation traverse(FlagSet& root, const std::vector<std::string>& argv,
                             const std::function<bool(std::string_view)>& is_command);

  Flag& add(std::string name, char shorthand, std::string usage, std::string def_value,
            Flag::Target target);
  // help_defined=false parses the way cobra parses the root's flags in front
  // of the subcommand, before it has added the root's help flag: -h/--help
  // stop parsing with "pflag: help requested".
  std::vector<std::string> parse_impl(const std::vector<std::string>& args, bool help_defined);

  std::string name_;
  std::vector<std::unique_ptr<Flag>> flags_;  // definition order
  FlagSet* parent_ = nullptr;
  bool help_ = false;
  Flag* help_flag_ = nullptr;
  std::ostream* warnings_;
};

// Cobra's Execute with TraverseChildren, as skopeo's root command sets it:
// flags before the subcommand name are the root's (local and persistent),
// flags after it the subcommand's plus the root's persistent ones.
struct Invocation {
  // The subcommand found, or "" when none was: then `args` is the whole
  // command line, for root.parse() (help, or "Missing/Unrecognized command").
  std::string command;
  std::vector<std::string> args;  // for the subcommand's FlagSet::parse()
};

// Finds the subcommand in argv (without argv[0]) the way cobra does, and
// parses the root flags in front of it with `root` (so `--debug` before the
// name is applied; errors throw as pflag's). is_command says whether a word
// names a subcommand (including hidden ones and "help").
Invocation traverse(FlagSet& root, const std::vector<std::string>& argv,
                    const std::function<bool(std::string_view)>& is_command);

// What cobra's help templates need to know about one command.
struct CommandHelp {
  std::string use;  // cobra Use: "copy [command options] SOURCE-IMAGE DESTINATION-IMAGE"
  std::string short_desc;
  std::string long_desc;
  std::string example;  // printed verbatim
  bool hidden = false;

  std::string name() const;  // first word of `use`
};

// `PROGRAM CMD --help` with skopeo's usage template (no global flags, no
// indentation of the usage line).
std::string command_help(std::string_view program, const CommandHelp& cmd, const FlagSet& flags);

// `PROGRAM --help`: cobra's default template. `commands` must list every
// subcommand, hidden ones and "help" included: the name column is as wide as
// the longest of them all, as in cobra.
std::string root_help(std::string_view program, const CommandHelp& root, const FlagSet& flags,
                      const std::vector<CommandHelp>& commands);

// "skopeo" when invoked through a link of that name, else "ferry".
std::string program_name(std::string_view argv0);

// pflag's errors quote with %q; the commands (and the fuzz target) quote
// the same way through this name.
using ::ferry::go_quote;

}  // namespace ferry::cli
