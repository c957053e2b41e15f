// The media type a layer gets when the copy changes its compression.
#pragma once

#include <string>

#include "io/compression.h"

namespace ferry {

// Maps e.g. OCI "…tar" + Gzip → "…tar+gzip", Docker "…tar.gzip" + None →
// "…tar", keeping the non-distributable / foreign flavour. Throws for media
// types whose compression ferry cannot express (artifacts, encrypted).
std::string layer_media_type_for(const std::string& media_type, Compression c);

}  // namespace ferry
