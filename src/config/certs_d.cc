#include "config/certs_d.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <vector>

#include "config/config_dir.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Go's os.ReadFile succeeding, without keeping the bytes: curl reads the
// file itself later, but an unreadable file is reported now, as c/image does.
void check_readable(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw path_error("open", path, errno);
  char byte;
  ssize_t got = ::read(fd, &byte, 1);
  int err = errno;
  ::close(fd);
  if (got < 0) throw path_error("read", path, err);
}

}  // namespace

std::string cert_dir_for(const SystemContext& ctx, const std::string& host_port) {
  if (!ctx.cert_dir.empty()) return ctx.cert_dir;
  const std::string candidates[] = {home_dir() + "/.config/containers/certs.d",
                                    "/etc/containers/certs.d", "/etc/docker/certs.d"};
  std::string dir;
  for (const std::string& base : candidates) {
    dir = base + "/" + host_port;
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) break;
    // Missing or forbidden: try the next; anything else is a real problem.
    if (errno != ENOENT && errno != EACCES && errno != EPERM) throw path_error("stat", dir, errno);
  }
  return dir;
}

void add_certs_from_dir(const std::string& dir, net::TlsConfig* tls) {
  const std::vector<std::string> names = list_config_dir(dir, {.absent = {EACCES, EPERM}});
  const std::set<std::string> present(names.begin(), names.end());

  for (const std::string& name : names) {
    const std::string full = dir + "/" + name;
    if (ends_with(name, ".crt")) {
      struct stat st;
      if (::stat(full.c_str(), &st) != 0 && errno == ENOENT) continue;  // removed since listing
      check_readable(full);
      tls->ca_files.push_back(full);
    }
    if (ends_with(name, ".cert")) {
      const std::string key = name.substr(0, name.size() - 5) + ".key";
      if (present.count(key) == 0) {
        throw Error("missing key " + key + " for client certificate " + name +
                    ". Note that CA certificates should use the extension .crt");
      }
      check_readable(full);
      check_readable(dir + "/" + key);
      if (tls->client_cert_file.empty()) {
        tls->client_cert_file = full;
        tls->client_key_file = dir + "/" + key;
      }
    }
    if (ends_with(name, ".key")) {
      const std::string cert = name.substr(0, name.size() - 4) + ".cert";
      if (present.count(cert) == 0) {
        throw Error("missing client certificate " + cert + " for key " + name);
      }
    }
  }
}

net::TlsConfig tls_config_for(const SystemContext& ctx, const std::string& host_port,
                              bool insecure_from_registries_conf) {
  net::TlsConfig tls;
  add_certs_from_dir(cert_dir_for(ctx, host_port), &tls);
  tls.verify = ctx.tls_verify ? *ctx.tls_verify : !insecure_from_registries_conf;
  return tls;
}

}  // namespace ferry
