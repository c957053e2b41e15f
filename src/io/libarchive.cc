#include "io/libarchive.h"

#include <dlfcn.h>

#include <string>

#include "util/error.h"

// The soname of libarchive 3.x; a major version change would change the ABI
// these signatures (taken from the headers ferry compiles against) assume.
static_assert(ARCHIVE_VERSION_NUMBER >= 3000000 && ARCHIVE_VERSION_NUMBER < 4000000,
              "ferry loads libarchive.so.13, the soname of libarchive 3.x");

namespace ferry {

namespace {

constexpr const char* kSoname = "libarchive.so.13";

std::string dl_reason() {
  const char* e = dlerror();
  return e != nullptr ? e : "unknown error";
}

LibArchive load() {
  // RTLD_LOCAL: nothing else resolves against it; RTLD_NOW: a missing
  // symbol in its chain fails here, not in the middle of a copy. Never
  // dlclose()d: the table lives as long as the process.
  void* h = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr)
    throw Error(std::string("cannot load ") + kSoname +
                " (needed for archive transports and xz/bzip2 layers; install libarchive13): " + dl_reason());
  LibArchive lib;
#define FERRY_LIBARCHIVE_RESOLVE(name)                                                              \
  lib.name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name));                                 \
  if (lib.name == nullptr) throw Error(std::string(kSoname) + " has no " #name ": " + dl_reason());
  FERRY_LIBARCHIVE_FUNCTIONS(FERRY_LIBARCHIVE_RESOLVE)
#undef FERRY_LIBARCHIVE_RESOLVE
  return lib;
}

}  // namespace

const LibArchive& libarchive() {
  // A failed load throws out of the initializer, so the next call retries
  // (and fails the same way) instead of seeing a half-filled table.
  static const LibArchive lib = load();
  return lib;
}

}  // namespace ferry
