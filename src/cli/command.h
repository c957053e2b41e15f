// One subcommand: its help, its flags, and what it does. main.cc holds the
// table; each cmd_*.cc file defines one command.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "cli/options.h"
#include "image/types.h"

namespace ferry::cli {

class Command {
 public:
  virtual ~Command() = default;
  virtual CommandHelp help() const = 0;
  // Registers the command's flags, bound to the command's own fields.
  virtual void define(FlagSet& fs) = 0;
  // Runs with the positional arguments; returns the exit code. Failures
  // throw ferry::Error.
  virtual int run(const std::vector<std::string>& args) = 0;
};

// Everything a command may need beyond its own flags.
struct CommandEnv {
  GlobalOptions* global;
  std::string program;      // "ferry" or "skopeo"
  const FlagSet* flags = nullptr;  // the command's, for usage errors
};

std::vector<std::unique_ptr<Command>> make_commands(CommandEnv* env);

// Individual constructors (cmd_*.cc).
std::unique_ptr<Command> make_copy_command(CommandEnv* env);
std::unique_ptr<Command> make_inspect_command(CommandEnv* env);
std::unique_ptr<Command> make_delete_command(CommandEnv* env);
std::unique_ptr<Command> make_list_tags_command(CommandEnv* env);
std::unique_ptr<Command> make_login_command(CommandEnv* env);
std::unique_ptr<Command> make_logout_command(CommandEnv* env);
std::unique_ptr<Command> make_manifest_digest_command(CommandEnv* env);
std::vector<std::unique_ptr<Command>> make_unimplemented_commands(CommandEnv* env);

// The "Supported transports" paragraph of several help texts.
std::string transports_help_paragraph();

// Usage errors that skopeo reports with the command's full help on stderr.
[[noreturn]] void usage_error(const CommandEnv& env, const Command& cmd, const std::string& msg);

}  // namespace ferry::cli
