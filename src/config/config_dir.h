// What the configuration readers share: where the user's home is, which
// files a drop-in directory holds, and reading a file that may have gone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// The home directory as c/storage's homedir.Get finds it: $HOME, else the
// passwd entry of the current user; "" when neither names one.
std::string home_dir();

struct DirListing {
  std::string_view suffix = {};      // only names ending so; "" for every name
  bool skip_subdirectories = false;  // registries.conf.d skips them; registries.d reads (and fails on) them
  std::vector<int> absent = {};      // opendir errnos that mean "no entries", beside ENOENT
};

// The entry names of dir ("." and ".." left out) chosen by `how`, in name
// order, so that merges and "defined both in" messages do not depend on
// the filesystem's order. A missing directory has none; another failure to
// open it throws path_error("open", dir, errno).
std::vector<std::string> list_config_dir(const std::string& dir, const DirListing& how);

// read_file(path, max_bytes), or nullopt when path does not exist: a
// drop-in removed since its directory was listed, or an optional file.
// Anything else that stops the read (permissions, a directory) throws.
std::optional<std::string> read_config_file(const std::string& path, std::size_t max_bytes);

}  // namespace ferry
