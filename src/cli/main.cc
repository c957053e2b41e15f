// ferry's entry point: parse the command line as skopeo (cobra) does,
// dispatch, and report failures as logrus fatal lines with skopeo's exit
// codes.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/command.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/log.h"

using namespace ferry;
using namespace ferry::cli;

namespace {

// --command-timeout: skopeo cancels the whole command's context. At the
// deadline the command is asked to stop in order (util/interrupt.h), so an
// uncommitted destination removes its staging files as it unwinds; one that
// has not ended after a grace period is ended outright (commits are atomic
// renames: that can leave temporary files, never a half-written image).
void start_deadline(Duration timeout) {
  if (timeout.count() <= 0) return;
  std::thread([timeout] {
    std::this_thread::sleep_for(timeout);
    interrupt::request_deadline();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    logging::log(logging::Level::Fatal, "context deadline exceeded");
    std::fflush(stdout);
    _exit(1);
  }).detach();
}

int run(int argc, char** argv) {
  const std::string program = program_name(argc > 0 ? argv[0] : "ferry");
  GlobalOptions global;
  FlagSet root(program);
  global.define(root);
  CommandEnv env{&global, program};
  auto commands = make_commands(&env);
  auto find = [&](std::string_view name) -> Command* {
    for (auto& c : commands)
      if (c->help().name() == name) return c.get();
    return nullptr;
  };
  auto all_help = [&] {
    std::vector<CommandHelp> hs;
    for (auto& c : commands) hs.push_back(c->help());
    CommandHelp help;
    help.use = "help [command]";
    help.short_desc = "Help about any command";
    hs.push_back(help);
    std::sort(hs.begin(), hs.end(), [](const CommandHelp& a, const CommandHelp& b) { return a.name() < b.name(); });
    return hs;
  };
  CommandHelp root_desc;
  root_desc.use = program;
  root_desc.long_desc = "Various operations with container images and container image registries";

  std::vector<std::string> args(argv + 1, argv + argc);
  Invocation inv = traverse(root, args, [&](std::string_view w) { return w == "help" || find(w); });

  auto print = [](const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); };
  auto print_command_help = [&](Command& c) {
    FlagSet fs(c.help().name());
    fs.set_parent(&root);
    c.define(fs);
    print(command_help(program, c.help(), fs));
  };

  if (inv.command.empty()) {
    auto rest = root.parse(inv.args);
    if (root.help_requested()) {
      print(root_help(program, root_desc, root, all_help()));
      return 0;
    }
    if (global.version) {
      std::printf("%s version %s\n", program.c_str(), FERRY_VERSION);
      return 0;
    }
    if (rest.empty())
      throw Error("Missing command '" + program + " COMMAND'\nTry '" + program +
                  " --help' for more information");
    throw Error("Unrecognized command `" + program + " " + rest[0] + "`\nTry '" + program +
                " --help' for more information");
  }
  if (inv.command == "help") {
    FlagSet fs("help");
    fs.set_parent(&root);
    auto rest = fs.parse(inv.args);
    Command* c = rest.empty() ? nullptr : find(rest[0]);
    if (c) print_command_help(*c);
    else print(root_help(program, root_desc, root, all_help()));
    return 0;
  }

  Command* cmd = find(inv.command);
  FlagSet fs(inv.command);
  fs.set_parent(&root);
  cmd->define(fs);
  env.flags = &fs;
  auto positionals = fs.parse(inv.args);
  if (fs.help_requested()) {
    print(command_help(program, cmd->help(), fs));
    return 0;
  }
  logging::set_debug(global.debug);
  if (global.tls_verify)
    logging::log_warning("'--tls-verify' is deprecated, please set this on the specific subcommand");
  start_deadline(global.command_timeout);
  return cmd->run(positionals);
}

// glibc gives each thread that allocates an arena of its own; the transfer
// threads hardly allocate after their buffers are set up, and per-thread
// arenas only add their unused tails to the resident set (measured: ~0.5 MiB
// of a 21 MiB registry-to-registry copy). Two arenas keep the main thread
// off the workers' lock. A MALLOC_ARENA_MAX in the environment still wins.
void limit_malloc_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

// A command stopped by a signal ends by that signal, silently, as skopeo
// (Go's default action) does; one stopped by its deadline says so.
int stopped(int rc) {
  std::fflush(stdout);
  if (interrupt::signal_number() > 0) interrupt::die_by_signal();
  if (interrupt::deadline_passed()) {
    logging::log(logging::Level::Fatal, "context deadline exceeded");
    return 1;
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  limit_malloc_arenas();
  interrupt::catch_signals();
  try {
    int rc = run(argc, argv);
    std::fflush(stdout);
    return interrupt::signal_number() > 0 ? stopped(rc) : rc;
  } catch (const Error& e) {
    if (interrupt::requested()) return stopped(1);
    std::fflush(stdout);
    logging::log(logging::Level::Fatal, e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    if (interrupt::requested()) return stopped(1);
    std::fflush(stdout);
    logging::log(logging::Level::Fatal, std::string("internal error: ") + e.what());
    return 1;
  }
}
