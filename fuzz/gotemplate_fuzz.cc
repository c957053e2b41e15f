// Feeds arbitrary bytes as an `inspect --format` template over a fixed
// inspect document. Template errors are ferry::Error; anything else (a crash,
// a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/error.h"
#include "util/gotemplate.h"

namespace {

using ferry::gotemplate::GoKind;
using ferry::gotemplate::Json;
using ferry::gotemplate::TypeHints;

const Json& sample() {
  static const Json data = Json::parse(R"({
    "Name": "docker.io/library/alpine",
    "Tag": "",
    "Digest": "sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1",
    "RepoTags": ["3.19", "latest", "edge"],
    "Created": "2024-01-26T23:44:57.123456789Z",
    "DockerVersion": "24.0.5",
    "Labels": {"org.opencontainers.image.title": "alpine", "b": "2", "x<y": "a&b"},
    "Architecture": "amd64",
    "Os": "linux",
    "Layers": ["sha256:aaa", "sha256:bbb"],
    "LayersData": [
      {"MIMEType": "application/vnd.oci.image.layer.v1.tar+gzip", "Digest": "sha256:aaa", "Size": 3408729, "Annotations": null},
      {"MIMEType": "application/vnd.oci.image.layer.v1.tar+zstd", "Digest": "sha256:bbb", "Size": -1, "Annotations": {"k": "v"}}
    ],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Nested": {"Deep": {"Deeper": [1, 2.5, true, null, {"x": "y"}]}}
  })");
  return data;
}

const TypeHints& hints() {
  static const TypeHints h{
      {"/Name", GoKind::OmitEmpty},
      {"/Tag", GoKind::OmitEmpty},
      {"/Created", GoKind::Time},
      {"/Labels", GoKind::Map},
      {"/LayersData/*/Annotations", GoKind::Map},
      {"/Env", GoKind::Slice},
  };
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the entry point; the rest is the template.
  bool report = (data[0] & 1) != 0;
  std::string tmpl(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (report) {
      ferry::gotemplate::render_report(tmpl, sample(), hints());
    } else {
      ferry::gotemplate::render(tmpl, sample(), hints());
    }
  } catch (const ferry::Error&) {
  }
  return 0;
}
