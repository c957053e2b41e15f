#include <cstdio>

#include "cli/command.h"
#include "util/error.h"

namespace ferry::cli {

std::vector<std::unique_ptr<Command>> make_commands(CommandEnv* env) {
  std::vector<std::unique_ptr<Command>> out;
  out.push_back(make_copy_command(env));
  out.push_back(make_delete_command(env));
  out.push_back(make_inspect_command(env));
  out.push_back(make_list_tags_command(env));
  out.push_back(make_login_command(env));
  out.push_back(make_logout_command(env));
  out.push_back(make_manifest_digest_command(env));
  for (auto& c : make_unimplemented_commands(env)) out.push_back(std::move(c));
  return out;
}

std::string transports_help_paragraph() {
  std::string list;
  for (const auto& t : known_transports()) list += (list.empty() ? "" : ", ") + t;
  return "Container \"IMAGE-NAME\" uses a \"transport\":\"details\" format.\n\n"
         "Supported transports:\n" +
         list + "\n\nSee skopeo(1) section \"IMAGE NAMES\" for the expected format";
}

void usage_error(const CommandEnv& env, const Command& cmd, const std::string& msg) {
  if (env.flags) {
    std::string help = command_help(env.program, cmd.help(), *env.flags);
    std::fwrite(help.data(), 1, help.size(), stderr);
  }
  throw Error(msg);
}

}  // namespace ferry::cli
