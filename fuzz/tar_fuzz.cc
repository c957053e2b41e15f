// Arbitrary bytes as a tar file (possibly compressed): TarReader must list
// and read every entry or raise ferry::Error, and never hand out an unsafe
// name.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/tar.h"
#include "util/error.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/ferry_tar_fuzz_" + std::to_string(getpid()) + ".tar";
  return path;
}

bool safe_name(const std::string& name) {
  if (name.empty() || name[0] == '/') return false;
  if (name == ".") return true;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    const std::string part = name.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) abort();
  if (size > 0 && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  static std::vector<uint8_t> buf(64 * 1024);
  try {
    ferry::TarReader r(path);
    ferry::TarReader::Entry e;
    size_t total = 0;
    while (r.next(&e)) {
      if (!safe_name(e.name)) abort();
      if (e.type == ferry::TarReader::Entry::Type::Hardlink && !safe_name(e.link_target)) abort();
      // Sparse entries may expand; the cap keeps each run short.
      while (total < (64u << 20)) {
        size_t got = r.data().read(buf.data(), buf.size());
        if (got == 0) break;
        total += got;
      }
    }
  } catch (const ferry::Error&) {
  }
  // libFuzzer may end the process without running exit handlers.
  unlink(path.c_str());
  return 0;
}
