#include "io/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ferry {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r: returns the message, possibly not in buf.
  std::string s = strerror_r(err, buf, sizeof buf);
  // glibc capitalises the first word; Go's table does not ("EOF" and other
  // all-caps words do not occur at the start of errno strings).
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

Error path_error(const std::string& op, const std::string& path, int err) {
  return Error(op + " " + path + ": " + errno_text(err));
}

std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); k++) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  if (out.empty()) return ".";
  return out;
}

namespace {

// Closes on scope exit; keeps error paths from leaking descriptors.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void write_all(int fd, const uint8_t* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw path_error("write", path, errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// A file written under a temporary name beside its final path and renamed
// into place by commit(); destroyed uncommitted, it leaves nothing behind.
class AtomicFile {
 public:
  AtomicFile(const std::string& path, int mode) : path_(path), mode_(mode) {
    const std::string base = base_of(path);
    if (base.empty() || base == "." || base == "..")
      throw Error("cannot write file " + path + ": not a file name");
    // Long final names must still leave the temp name under NAME_MAX.
    tmp_ = dir_of(path) + "/." + base.substr(0, 100) + ".tmp-XXXXXX";
    int fd = mkostemp(tmp_.data(), O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      tmp_.clear();
      throw path_error("open", path, err);
    }
    fd_.reset(fd);
  }
  ~AtomicFile() {
    if (!tmp_.empty()) {
      fd_.reset(-1);
      ::unlink(tmp_.c_str());
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const uint8_t* data, size_t n) { write_all(fd_.get(), data, n, tmp_); }

  void commit() {
    if (fsync(fd_.get()) != 0) throw path_error("fsync", tmp_, errno);
    // mkostemp creates 0600; the caller's mode is applied exactly, not
    // filtered through the umask, as c/image's chmod after writing does.
    if (fchmod(fd_.get(), static_cast<mode_t>(mode_)) != 0) throw path_error("chmod", tmp_, errno);
    if (::close(fd_.release()) != 0) throw path_error("close", tmp_, errno);
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) throw path_error("rename", path_, errno);
    tmp_.clear();
    // Persist the rename itself; a failure here loses nothing already
    // promised, so it is not reported.
    Fd dir(::open(dir_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) fsync(dir.get());
  }

 private:
  std::string path_;
  int mode_;
  std::string tmp_;
  Fd fd_;
};

}  // namespace

void write_file_atomic(const std::string& path, std::string_view data, int mode) {
  AtomicFile f(path, mode);
  f.write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  f.commit();
}

int64_t write_stream_atomic(const std::string& path, Reader& r, int mode) {
  AtomicFile f(path, mode);
  std::vector<uint8_t> buf(kCopyBufferSize);
  int64_t total = 0;
  for (;;) {
    size_t got = r.read(buf.data(), buf.size());
    if (got == 0) break;
    f.write(buf.data(), got);
    total += static_cast<int64_t>(got);
  }
  f.commit();
  return total;
}

std::string read_file(const std::string& path, size_t max_bytes, bool not_found_is_2) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT && not_found_is_2) throw NotFoundError(path_error("open", path, err).what());
    throw path_error("open", path, err);
  }
  struct stat st;
  if (fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) > max_bytes)
    throw Error("reading " + path + ": exceeded maximum allowed size of " +
                std::to_string(max_bytes) + " bytes");
  std::string out;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t got = ::read(fd.get(), buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      throw path_error("read", path, errno);
    }
    if (got == 0) return out;
    // Pipes and /proc files have no useful st_size; the bound is checked on
    // what arrives.
    if (out.size() + static_cast<size_t>(got) > max_bytes)
      throw Error("reading " + path + ": exceeded maximum allowed size of " +
                  std::to_string(max_bytes) + " bytes");
    out.append(buf.data(), static_cast<size_t>(got));
  }
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void make_dirs(const std::string& path, int mode) {
  if (path.empty()) throw Error("mkdir: empty path");
  if (is_directory(path)) return;
  size_t pos = 0;
  for (;;) {
    size_t slash = path.find('/', pos);
    const std::string prefix = slash == std::string::npos ? path : path.substr(0, slash);
    pos = slash == std::string::npos ? path.size() : slash + 1;
    if (!prefix.empty() && base_of(prefix) != "." && base_of(prefix) != "..") {
      if (::mkdir(prefix.c_str(), static_cast<mode_t>(mode)) != 0) {
        int err = errno;
        if (err != EEXIST) throw path_error("mkdir", prefix, err);
        // Like Go's MkdirAll, an existing symlink to a directory is fine.
        if (!is_directory(prefix)) throw path_error("mkdir", prefix, ENOTDIR);
      }
    }
    if (pos >= path.size()) return;
  }
}

namespace {

// Empties the directory open as root (taking ownership of the descriptor)
// without recursion and with O(1) descriptors: descend into the first
// subdirectory found, climb back through ".." once a directory is empty.
// Each climb checks it arrived at the directory it came from, so a
// directory moved concurrently cannot redirect the deletion.
void empty_directory(int root_fd, const std::string& root_path) {
  struct Level {
    std::string name;  // of the directory we descended into
    dev_t parent_dev;
    ino_t parent_ino;
  };
  std::vector<Level> stack;
  using Dir = std::unique_ptr<DIR, int (*)(DIR*)>;
  auto where = [&](const std::string& name) {
    std::string p = root_path;
    for (const Level& l : stack) p += "/" + l.name;
    if (!name.empty()) p += "/" + name;
    return p;
  };
  // Reads errno before where() allocates.
  auto fail = [&](const char* op, const std::string& name) {
    const int err = errno;
    throw path_error(op, where(name), err);
  };
  // The stream owns the descriptor: one open and one close per directory.
  auto open_dir = [&](int fd, const std::string& name) {
    DIR* d = fdopendir(fd);
    if (d == nullptr) {
      const int err = errno;
      ::close(fd);
      throw path_error("open", where(name), err);
    }
    return Dir(d, closedir);
  };
  Dir cur = open_dir(root_fd, "");
  for (;;) {
    const int fd = dirfd(cur.get());
    bool descended = false;
    for (;;) {
      errno = 0;
      struct dirent* de = readdir(cur.get());
      if (de == nullptr) {
        if (errno != 0) fail("readdirent", "");
        break;
      }
      const std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = de->d_type == DT_DIR;
      if (de->d_type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;
          fail("lstat", name);
        }
        is_dir = S_ISDIR(st.st_mode);
      }
      if (!is_dir) {
        if (unlinkat(fd, name.c_str(), 0) != 0 && errno != ENOENT) fail("unlinkat", name);
        continue;
      }
      struct stat st;
      if (fstat(fd, &st) != 0) fail("fstat", "");
      int child = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        if (errno == ENOENT) continue;
        fail("open", name);
      }
      Dir next = open_dir(child, name);
      stack.push_back({name, st.st_dev, st.st_ino});
      cur = std::move(next);
      descended = true;
      break;
    }
    if (descended) continue;
    if (stack.empty()) return;
    int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) fail("open", "..");
    Dir up = open_dir(parent, "..");
    struct stat st;
    if (fstat(parent, &st) != 0) fail("fstat", "..");
    if (st.st_dev != stack.back().parent_dev || st.st_ino != stack.back().parent_ino)
      throw Error("removing " + where("") + ": directory was moved during removal");
    const std::string name = stack.back().name;
    stack.pop_back();
    cur = std::move(up);
    if (unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      fail("unlinkat", name);
    // Entries before the one we descended into were already removed, so a
    // fresh scan of the parent only meets what is still left.
  }
}

}  // namespace

void remove_all(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw path_error("lstat", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw path_error("unlinkat", path, errno);
    return;
  }
  // O_NOFOLLOW: if path was swapped for a symlink since lstat, fail rather
  // than empty the symlink's target.
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw path_error("open", path, errno);
  empty_directory(fd, path);
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) throw path_error("unlinkat", path, errno);
}

std::string make_temp_dir(const std::string& parent, const std::string& prefix) {
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    const int err = errno;
    throw path_error("mkdirtemp", parent + "/" + prefix + "*", err);
  }
  return tmpl;
}

TempDir::TempDir(const std::string& parent, const std::string& prefix)
    : path_(make_temp_dir(parent, prefix)) {}

TempDir::~TempDir() {
  if (path_.empty()) return;
  try {
    remove_all(path_);
  } catch (const Error&) {
    // Best effort: a destructor cannot report, and a leftover temporary
    // directory is preferable to terminating.
  }
}

std::string TempDir::release() {
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

namespace {

std::string current_dir() {
  char* cwd = getcwd(nullptr, 0);
  if (cwd == nullptr) throw path_error("getwd", ".", errno);
  std::string s = cwd;
  free(cwd);
  return s;
}

std::string resolve_existing(const std::string& path) {
  std::string abs = !path.empty() && path[0] == '/' ? path : current_dir() + "/" + path;
  abs = clean_path(abs);
  char* real = realpath(abs.c_str(), nullptr);
  if (real == nullptr) throw path_error("lstat", abs, errno);
  std::string s = real;
  free(real);
  return clean_path(s);
}

}  // namespace

std::string resolve_path_fully_explicit(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return resolve_existing(path);
  if (errno != ENOENT) throw path_error("lstat", path, errno);
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string resolved_parent = resolve_existing(parent);
  if (file == "." || file == "..")
    throw Error("Unexpected path component \"" + file + "\" in \"" + path + "\"");
  // The missing last component cannot be a symlink, so joining is exact.
  return clean_path(resolved_parent + "/" + file);
}

}  // namespace ferry
