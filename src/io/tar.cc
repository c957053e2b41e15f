#include "io/tar.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "io/fs.h"
#include "io/libarchive.h"
#include "util/error.h"
#include "util/go_quote.h"

namespace ferry {

namespace {

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;
using EntryPtr = std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)>;

std::string archive_message(struct archive* a, const char* fallback) {
  const char* msg = libarchive().archive_error_string(a);
  return msg != nullptr ? msg : fallback;
}

std::vector<std::string> split_components(const std::string& name) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string part = name.substr(i, j - i);
    if (!part.empty() && part != ".") parts.push_back(std::move(part));
    i = j + 1;
  }
  return parts;
}

// "./a//b/" -> "a/b"; the archive's own root becomes ".". Names that could
// leave an extraction directory are refused rather than rewritten, so what a
// consumer looks up is exactly what the archive said.
std::string normalize_entry_name(const std::string& raw, const std::string& archive_path) {
  auto unsafe = [&](const char* why) {
    return Error("tar archive " + archive_path + ": unsafe entry name " + go_quote(raw) + " (" +
                 why + ")");
  };
  if (raw.empty()) throw unsafe("empty");
  if (raw[0] == '/') throw unsafe("absolute path");
  std::vector<std::string> parts = split_components(raw);
  std::string out;
  for (const std::string& p : parts) {
    if (p == "..") throw unsafe("\"..\" component");
    if (!out.empty()) out += '/';
    out += p;
  }
  return out.empty() ? "." : out;
}

}  // namespace

// ---- TarWriter -------------------------------------------------------------

struct TarWriter::Impl {
  std::string path;
  int fd = -1;
  bool closed = false;
  // Set when the writer is destroyed unfinished: libarchive still flushes
  // and pads on free (archive_write_fail would skip that but leaks), so its
  // output is dropped instead of completing the file.
  bool abandoned = false;
  std::vector<uint8_t> buf;
  ArchivePtr a{nullptr, libarchive().archive_write_free};

  // Here rather than in ~TarWriter so a throwing constructor cleans up too.
  ~Impl() {
    abandoned = !closed;
    a.reset();
    if (fd >= 0) ::close(fd);
  }

  static la_ssize_t write_cb(struct archive* ar, void* self_v, const void* data, size_t n) {
    auto* self = static_cast<Impl*>(self_v);
    if (self->abandoned) return static_cast<la_ssize_t>(n);
    const char* p = static_cast<const char*>(data);
    size_t left = n;
    while (left > 0) {
      ssize_t w = ::write(self->fd, p, left);
      if (w < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        libarchive().archive_set_error(ar, err, "write %s: %s", self->path.c_str(), errno_text(err).c_str());
        return -1;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    return static_cast<la_ssize_t>(n);
  }

  [[noreturn]] void fail(const std::string& what) {
    throw Error("writing tar " + path + ": " + what + ": " + archive_message(a.get(), "failed"));
  }

  EntryPtr entry(const std::string& name, unsigned type, int mode, int64_t size) {
    if (closed) throw Error("writing tar " + path + ": archive already closed");
    if (name.empty()) throw Error("writing tar " + path + ": empty entry name");
    EntryPtr e(libarchive().archive_entry_new(), libarchive().archive_entry_free);
    if (!e) throw Error("writing tar " + path + ": out of memory");
    libarchive().archive_entry_set_pathname(e.get(), name.c_str());
    libarchive().archive_entry_set_filetype(e.get(), type);
    libarchive().archive_entry_set_perm(e.get(), static_cast<mode_t>(mode & 07777));
    libarchive().archive_entry_set_size(e.get(), size);
    libarchive().archive_entry_set_mtime(e.get(), 0, 0);
    libarchive().archive_entry_set_uid(e.get(), 0);
    libarchive().archive_entry_set_gid(e.get(), 0);
    return e;
  }

  void write_header(const std::string& name, struct archive_entry* e) {
    int r = libarchive().archive_write_header(a.get(), e);
    if (r != ARCHIVE_OK) fail("entry " + go_quote(name));
  }
};

TarWriter::TarWriter(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (impl_->fd < 0) throw path_error("open", path, errno);
  impl_->a.reset(libarchive().archive_write_new());
  struct archive* a = impl_->a.get();
  if (a == nullptr) throw Error("writing tar " + path + ": out of memory");
  // ustar headers, with a pax record only where ustar cannot express a
  // field (long names): what Go's archive/tar, and so skopeo, produces.
  if (libarchive().archive_write_set_format_pax_restricted(a) != ARCHIVE_OK)
    impl_->fail("setting format");
  // No padding past the two zero blocks that end the archive, as Go.
  libarchive().archive_write_set_bytes_per_block(a, 64 * 1024);
  libarchive().archive_write_set_bytes_in_last_block(a, 1);
  if (libarchive().archive_write_open2(a, impl_.get(), nullptr, Impl::write_cb, nullptr, nullptr) != ARCHIVE_OK)
    impl_->fail("opening");
}

TarWriter::~TarWriter() = default;

void TarWriter::add_directory(const std::string& name, int mode) {
  if (name.empty() || name == "/") throw Error("writing tar " + impl_->path + ": empty entry name");
  const std::string dir = name.back() == '/' ? name : name + "/";
  EntryPtr e = impl_->entry(dir, AE_IFDIR, mode, 0);
  impl_->write_header(dir, e.get());
}

void TarWriter::add_file(const std::string& name, Reader& r, int64_t size, int mode) {
  if (size < 0) throw Error("writing tar " + impl_->path + ": entry " + go_quote(name) + " has no size");
  EntryPtr e = impl_->entry(name, AE_IFREG, mode, size);
  impl_->write_header(name, e.get());
  if (impl_->buf.empty()) impl_->buf.resize(kCopyBufferSize);
  std::vector<uint8_t>& buf = impl_->buf;
  int64_t written = 0;
  for (;;) {
    size_t got = r.read(buf.data(), buf.size());
    if (got == 0) break;
    if (written + static_cast<int64_t>(got) > size)
      throw Error("writing tar " + impl_->path + ": entry " + go_quote(name) + ": expected " +
                  std::to_string(size) + " bytes, got more");
    la_ssize_t w = libarchive().archive_write_data(impl_->a.get(), buf.data(), got);
    if (w < 0 || static_cast<size_t>(w) != got) impl_->fail("entry " + go_quote(name));
    written += static_cast<int64_t>(got);
  }
  if (written != size)
    throw Error("writing tar " + impl_->path + ": entry " + go_quote(name) + ": expected " +
                std::to_string(size) + " bytes, got " + std::to_string(written));
}

void TarWriter::add_file(const std::string& name, const std::string& data, int mode) {
  StringReader r(data);
  add_file(name, r, static_cast<int64_t>(data.size()), mode);
}

void TarWriter::add_symlink(const std::string& name, const std::string& target) {
  EntryPtr e = impl_->entry(name, AE_IFLNK, 0777, 0);
  libarchive().archive_entry_set_symlink(e.get(), target.c_str());
  impl_->write_header(name, e.get());
}

void TarWriter::close() {
  if (impl_->closed) return;
  if (libarchive().archive_write_close(impl_->a.get()) != ARCHIVE_OK) impl_->fail("finishing");
  impl_->closed = true;
  if (fsync(impl_->fd) != 0) throw path_error("fsync", impl_->path, errno);
  int fd = impl_->fd;
  impl_->fd = -1;
  if (::close(fd) != 0) throw path_error("close", impl_->path, errno);
}

// ---- TarReader -------------------------------------------------------------

namespace {

class EntryDataReader : public Reader {
 public:
  size_t read(uint8_t* buf, size_t n) override {
    if (a_ == nullptr || n == 0) return 0;
    la_ssize_t r = libarchive().archive_read_data(a_, buf, n);
    if (r < 0)
      throw Error("reading tar " + *path_ + ": entry " + go_quote(*name_) + ": " +
                  archive_message(a_, "read failed"));
    return static_cast<size_t>(r);
  }
  void reset(struct archive* a, const std::string* path, const std::string* name) {
    a_ = a;
    path_ = path;
    name_ = name;
  }

 private:
  struct archive* a_ = nullptr;
  const std::string* path_ = nullptr;
  const std::string* name_ = nullptr;
};

}  // namespace

struct TarReader::Impl {
  std::string path;
  int fd = -1;
  ArchivePtr a{nullptr, libarchive().archive_read_free};
  std::string current;  // raw name of the current entry, for errors
  EntryDataReader data;
  bool ended = false;

  ~Impl() {
    a.reset();
    if (fd >= 0) ::close(fd);
  }

  [[noreturn]] void fail() {
    throw Error("reading tar " + path + ": " + archive_message(a.get(), "invalid archive"));
  }
};

TarReader::TarReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  // Opened here rather than by libarchive so a missing file reads as Go's
  // "open PATH: no such file or directory".
  impl_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl_->fd < 0) throw path_error("open", path, errno);
  impl_->a.reset(libarchive().archive_read_new());
  struct archive* a = impl_->a.get();
  if (a == nullptr) throw Error("reading tar " + path + ": out of memory");
  // Only the in-process decoders: archive_read_support_filter_all would also
  // offer formats that libarchive decodes by running external programs.
  libarchive().archive_read_support_filter_gzip(a);
  libarchive().archive_read_support_filter_bzip2(a);
  libarchive().archive_read_support_filter_xz(a);
  libarchive().archive_read_support_filter_zstd(a);
  libarchive().archive_read_support_format_tar(a);  // ustar, pax and GNU tar
  libarchive().archive_read_support_format_empty(a);
  if (libarchive().archive_read_open_fd(a, impl_->fd, 64 * 1024) != ARCHIVE_OK) impl_->fail();
}

TarReader::~TarReader() = default;

bool TarReader::next(Entry* e) {
  Impl& s = *impl_;
  s.data.reset(nullptr, nullptr, nullptr);
  if (s.ended) return false;
  struct archive_entry* entry = nullptr;
  int r = libarchive().archive_read_next_header(s.a.get(), &entry);
  if (r == ARCHIVE_EOF) {
    s.ended = true;
    return false;
  }
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) s.fail();
  const char* raw = libarchive().archive_entry_pathname(entry);
  if (raw == nullptr) raw = libarchive().archive_entry_pathname_utf8(entry);
  if (raw == nullptr) throw Error("reading tar " + s.path + ": entry with an unreadable name");
  s.current = raw;
  e->name = normalize_entry_name(s.current, s.path);
  e->link_target.clear();
  e->size = libarchive().archive_entry_size_is_set(entry) ? libarchive().archive_entry_size(entry) : 0;
  e->mode = static_cast<int>(libarchive().archive_entry_perm(entry) & 07777);
  if (const char* hard = libarchive().archive_entry_hardlink(entry)) {
    e->type = Entry::Type::Hardlink;
    e->link_target = normalize_entry_name(hard, s.path);
  } else {
    switch (libarchive().archive_entry_filetype(entry)) {
      case AE_IFREG:
        e->type = Entry::Type::File;
        break;
      case AE_IFDIR:
        e->type = Entry::Type::Directory;
        break;
      case AE_IFLNK: {
        e->type = Entry::Type::Symlink;
        const char* target = libarchive().archive_entry_symlink(entry);
        if (target == nullptr) target = libarchive().archive_entry_symlink_utf8(entry);
        // Relative to the link's directory, so ".." is legitimate here.
        if (target != nullptr && *target != '\0') e->link_target = clean_path(target);
        break;
      }
      default:
        e->type = Entry::Type::Other;
        break;
    }
  }
  if (e->size < 0) e->size = 0;
  s.data.reset(s.a.get(), &s.path, &s.current);
  return true;
}

Reader& TarReader::data() { return impl_->data; }

// ---- extract_tar -----------------------------------------------------------

namespace {

// OCI layouts nest three levels; anything near this is hostile.
constexpr size_t kMaxExtractDepth = 128;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

bool directory_is_empty(int dirfd) {
  int dup_fd = ::dup(dirfd);
  if (dup_fd < 0) return false;
  DIR* d = fdopendir(dup_fd);
  if (d == nullptr) {
    ::close(dup_fd);
    return false;
  }
  bool empty = true;
  while (struct dirent* de = readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  closedir(d);
  return empty;
}

}  // namespace

void extract_tar(const std::string& path, const std::string& dest_dir, int64_t max_bytes) {
  Fd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) throw path_error("open", dest_dir, errno);
  // An empty destination holds no symlinks planted in advance; together
  // with O_NOFOLLOW below nothing can redirect a write outside it.
  if (!directory_is_empty(root.get()))
    throw Error("extracting " + path + ": destination " + dest_dir + " is not empty");
  const std::string context = "extracting " + path;
  TarReader tar(path);
  TarReader::Entry e;
  int64_t total = 0;
  std::vector<uint8_t> buf;
  while (tar.next(&e)) {
    if (e.name == ".") continue;
    const std::string where = context + ": entry " + go_quote(e.name);
    const char* kind = nullptr;
    switch (e.type) {
      case TarReader::Entry::Type::Symlink:
        kind = "a symbolic link";
        break;
      case TarReader::Entry::Type::Hardlink:
        kind = "a hard link";
        break;
      case TarReader::Entry::Type::Other:
        kind = "a special file";
        break;
      default:
        break;
    }
    if (kind != nullptr)
      throw Error(where + " is " + kind + "; only regular files and directories are supported");
    const std::vector<std::string> parts = split_components(e.name);
    if (parts.size() > kMaxExtractDepth) throw Error(where + ": too deeply nested");

    // Walk to the parent, creating directories the archive left implicit.
    Fd dir(::dup(root.get()));
    if (dir.get() < 0) throw path_error("dup", dest_dir, errno);
    for (size_t i = 0; i + 1 < parts.size(); i++) {
      if (mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        const int err = errno;
        throw Error(where + ": mkdir: " + errno_text(err));
      }
      int next = openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) {
        const int err = errno;
        throw Error(where + ": parent " + go_quote(parts[i]) + ": " + errno_text(err));
      }
      dir.reset(next);
    }
    const char* base = parts.back().c_str();

    if (e.type == TarReader::Entry::Type::Directory) {
      const mode_t mode = static_cast<mode_t>((e.mode & 0777) | 0700);
      if (mkdirat(dir.get(), base, mode) != 0) {
        int err = errno;
        struct stat st;
        if (err != EEXIST || fstatat(dir.get(), base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
          throw Error(where + ": mkdir: " + errno_text(err));
      }
      continue;
    }

    total += e.size;
    if (total > max_bytes)
      throw Error(context + ": contents exceed the limit of " + std::to_string(max_bytes) +
                  " bytes");
    // Owner read/write always, so the tree can be managed and removed;
    // never set-id or sticky bits from an archive.
    const mode_t mode = static_cast<mode_t>((e.mode & 0777) | 0600);
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dir.get(), base, flags, mode);
    if (fd < 0 && errno == EEXIST) {
      // A later entry replaces an earlier one, as tar does; only a regular
      // file may be replaced.
      struct stat st;
      if (fstatat(dir.get(), base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
          unlinkat(dir.get(), base, 0) == 0)
        fd = openat(dir.get(), base, flags, mode);
      else
        errno = EEXIST;
    }
    if (fd < 0) {
      const int err = errno;
      throw Error(where + ": open: " + errno_text(err));
    }
    Fd out(fd);
    if (buf.empty()) buf.resize(kCopyBufferSize);
    int64_t written = 0;
    for (;;) {
      size_t got = tar.data().read(buf.data(), buf.size());
      if (got == 0) break;
      written += static_cast<int64_t>(got);
      if (written > e.size) throw Error(where + ": more data than its declared size");
      size_t off = 0;
      while (off < got) {
        ssize_t w = ::write(out.get(), buf.data() + off, got - off);
        if (w < 0) {
          const int err = errno;
          if (err == EINTR) continue;
          throw Error(where + ": write: " + errno_text(err));
        }
        off += static_cast<size_t>(w);
      }
    }
    if (::close(out.release()) != 0) {
      const int err = errno;
      throw Error(where + ": close: " + errno_text(err));
    }
  }
}

}  // namespace ferry
