// docker-archive reader on arbitrary bytes: list-tags, image selection, the
// generated manifest, and reading every layer must fail cleanly or succeed.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "image/manifest/schema2.h"
#include "transports/docker_archive/archive_reference.h"
#include "transports/docker_archive/archive_source.h"
#include "util/error.h"

using namespace ferry;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/ferry-da-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    return std::string(tmpl);
  }();
  const std::string path = dir + "/input.tar";
  {
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  SystemContext ctx;
  ctx.big_files_temp_dir = dir;
  try {
    docker_archive::list_tags(path, ctx);
  } catch (const Error&) {
  }
  try {
    auto ref = docker_archive::parse_reference(path);
    auto src = ref->new_source(ctx);
    auto m = src->get_manifest("");
    auto parsed = manifest::Schema2Manifest::parse(m.bytes);
    for (auto& l : parsed->layer_infos()) {
      int64_t s = 0;
      auto r = src->get_blob(l.desc, &s);
      uint8_t buf[4096];
      while (r->read(buf, sizeof buf) > 0) {
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
