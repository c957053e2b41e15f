// WWW-Authenticate parsing (RFC 7235 §4.1): tells the registry client
// whether to send Basic credentials or fetch a Bearer token, and from where.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ferry::net {

struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased, values as sent (unquoted)
  std::string token68;                        // the rare `Scheme token68` form; "" otherwise
};

// Largest total size of the header values accepted; a registry sending more
// is broken or hostile.
inline constexpr size_t kMaxChallengeHeaderBytes = 64 * 1024;

// Parses every challenge in every value of the header, in order. A value may
// hold several challenges (`Bearer realm="a", Basic realm="b"`). Parsing is
// lenient like Go's: a malformed value contributes what was parsed before the
// fault and the rest of that value is skipped. A repeated parameter keeps
// the last value. Throws ferry::Error if the values exceed
// kMaxChallengeHeaderBytes in total.
std::vector<Challenge> parse_www_authenticate(const std::vector<std::string>& header_values);

}  // namespace ferry::net
