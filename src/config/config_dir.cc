#include "config/config_dir.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "io/fs.h"

namespace ferry {

std::string home_dir() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return home;
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* result = nullptr;
  if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr &&
      result->pw_dir != nullptr) {
    return result->pw_dir;
  }
  return "";
}

std::vector<std::string> list_config_dir(const std::string& dir, const DirListing& how) {
  std::vector<std::string> names;
  if (dir.empty()) return names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    if (err == ENOENT || std::find(how.absent.begin(), how.absent.end(), err) != how.absent.end()) {
      return names;
    }
    throw path_error("open", dir, err);
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!name.ends_with(how.suffix)) continue;
    if (how.skip_subdirectories && e->d_type == DT_DIR) continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> read_config_file(const std::string& path, std::size_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  return read_file(path, max_bytes);
}

}  // namespace ferry
