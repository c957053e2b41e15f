// Link header pagination (RFC 8288) for the tag list, and RFC 3986
// reference resolution for Link and Location values, which registries send
// relative to the request URL.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ferry::net {

inline constexpr size_t kMaxLinkHeaderBytes = 64 * 1024;

// The target of the first link whose rel (quoted or not, any case, possibly
// one of several space-separated relation types) is "next", across all
// values of the Link header; unresolved, as sent between < and >. Malformed
// link-values are skipped. Throws ferry::Error if the values exceed
// kMaxLinkHeaderBytes in total.
std::optional<std::string> next_link(const std::vector<std::string>& values);

// Resolves ref against base (RFC 3986 §5.2: absolute, "//host/p",
// "/abs/path", "rel/path", "?q", "#f", with dot-segment removal). Purely
// textual: no percent-decoding or normalisation beyond that. Throws
// ferry::Error if either contains a control character (a header value that
// could smuggle CR/LF into a request line).
std::string resolve_url(const std::string& base, const std::string& ref);

}  // namespace ferry::net
