// Go's encoding/base64, as encoding/json reads and writes []byte and as the
// auth files and JWS signatures use it. The decoder reports malformed input
// with Go's CorruptInputError text and offset, which skopeo's messages show.
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// base64.StdEncoding (with url: URLEncoding).DecodeString: padding
// required, '\r' and '\n' skipped anywhere, trailing bits not checked.
// Throws ferry::Error "illegal base64 data at input byte N".
std::string go_base64_decode(std::string_view s, bool url = false);

// base64.StdEncoding.EncodeToString: padded.
std::string go_base64_encode(std::string_view bytes);

// base64.RawURLEncoding.EncodeToString: URL alphabet, no padding (JOSE).
std::string go_base64_raw_url_encode(std::string_view bytes);

}  // namespace ferry
