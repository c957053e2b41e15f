// Fuzzes the pflag-compatible parser: the input is a NUL-separated argv fed
// through traverse() into a root and a subcommand FlagSet that have every
// flag kind, then help is rendered from whatever state parsing left.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/duration.h"
#include "cli/flags.h"
#include "util/error.h"

using namespace ferry::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  args.push_back(cur);

  std::ostringstream warnings;
  bool debug = false, version = false;
  std::string policy;
  Duration timeout{0};
  std::vector<std::string> global_tags;
  std::optional<bool> root_tls;
  FlagSet root("skopeo");
  root.set_warning_stream(&warnings);
  root.add_bool("version", 'v', &version, "Version");
  root.add_bool("debug", 0, &debug, "enable debug output").persistent = true;
  root.add_string("policy", 0, &policy, "Path to a trust `POLICY` file").persistent = true;
  root.add_duration("command-timeout", 0, &timeout, "timeout").persistent = true;
  root.add_string_slice("gtag", 0, &global_tags, "global tags").persistent = true;
  root.add_optional_bool("tls-verify", 0, &root_tls, "deprecated").hidden = true;

  bool quiet = false, all = false, secret = false;
  std::optional<bool> tls;
  std::string str = "default", old;
  OptionalString creds;
  int64_t num = 3;
  OptionalInt level;
  uint64_t par = 0;
  std::vector<std::string> tags{"a", "b c"};
  std::vector<int64_t> layers{1, -2};
  Duration delay = std::chrono::seconds(90);
  FlagSet cmd("kitchen");
  cmd.set_warning_stream(&warnings);
  cmd.add_bool("quiet", 'q', &quiet, "Suppress output");
  cmd.add_bool("all", 'a', &all, "Copy all");
  cmd.add_optional_bool("tls-verify", 0, &tls, "require HTTPS");
  cmd.add_string("str", 's', &str, "a `VALUE`\nover two lines");
  cmd.add_optional_string("creds", 0, &creds, "Use `USERNAME[:PASSWORD]`");
  cmd.add_alias("screds", "creds");
  cmd.add_int("num", 'i', &num, "a number");
  cmd.add_optional_int("level", 'L', &level, "`LEVEL` to use");
  cmd.add_uint("par", 'u', &par, "parallel copies");
  cmd.add_string_slice("tag", 't', &tags, "tags");
  cmd.add_int_slice("layer", 'l', &layers, "layers");
  cmd.add_duration("delay", 'd', &delay, "retry delay");
  cmd.add_string("old", 0, &old, "old");
  cmd.mark_deprecated("old", "use --str");
  cmd.add_bool("secret", 0, &secret, "hidden");
  cmd.mark_hidden("secret");
  cmd.set_parent(&root);

  CommandHelp info;
  info.use = "kitchen [command options] A B";
  info.long_desc = "Every flag kind.\n";
  try {
    Invocation inv =
        traverse(root, args, [](std::string_view w) { return w == "kitchen" || w == "help"; });
    if (inv.command.empty()) {
      root.parse(inv.args);
      if (root.help_requested()) (void)root_help("skopeo", info, root, {info});
    } else {
      cmd.parse(inv.args);
      (void)command_help("skopeo", info, cmd);
    }
  } catch (const ferry::Error&) {
  }

  // Values that came out of parsing must print and re-parse cleanly.
  (void)go_quote(str);
  (void)format_go_duration(delay);
  try {
    (void)parse_go_duration(cur);
  } catch (const ferry::Error&) {
  }
  return 0;
}
