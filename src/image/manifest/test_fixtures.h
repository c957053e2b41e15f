// For the manifest tests only: the checked-in documents of tests/data and
// descriptors written in one line.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "image/manifest/descriptor.h"

namespace ferry::manifest::test_data {

// tests/data/<path>, whole; a missing file fails the test.
inline std::string read(const std::string& path) {
  std::ifstream in(std::string(FERRY_TESTDATA) + "/" + path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) ADD_FAILURE() << "missing fixture " << path;
  return ss.str();
}

// tests/data/manifest/<name>.
inline std::string fixture(const std::string& name) { return read("manifest/" + name); }

inline Descriptor desc(std::string media_type, std::string digest, int64_t size) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = std::move(digest);
  d.size = size;
  return d;
}

}  // namespace ferry::manifest::test_data
