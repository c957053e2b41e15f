// Turning a registry's error answer into the text skopeo prints.
//
// Registries answer failures with `{"errors":[{"code","message","detail"}]}`
// (distribution-spec); c/image parses that with docker/distribution's
// errcode package and users script against the resulting messages, so the
// same decisions are made here: unknown codes become UNKNOWN, a message
// equal to the code's default with no detail is shown as the bare code,
// a Bearer `error=` in WWW-Authenticate outranks the body, a 401 whose body
// is not JSON becomes "unauthorized: authentication required".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace ferry::net {

// The largest error body read; anything beyond is cut (§5.1).
inline constexpr size_t kMaxErrorBodySize = 1 << 20;

struct ErrcodeEntry {
  std::string code;     // registered code ("MANIFEST_UNKNOWN"), unknown ones as "UNKNOWN"
  std::string message;  // "" for a bare code
  bool has_detail = false;
};

// One failed HTTP answer, classified as errcode (c/image's errcode.Errors /
// errcode.Error), an unparseable 4xx body, or a status outside 4xx.
struct RegistryHttpFailure {
  enum class Kind { Errcode, UnexpectedResponse, UnexpectedStatus };
  Kind kind = Kind::UnexpectedStatus;
  long status = 0;
  std::vector<ErrcodeEntry> errors;  // Errcode: at least one
  std::string body;                  // UnexpectedResponse: the body as received

  // The primary (first) errcode, or "" when not Errcode.
  std::string code() const { return errors.empty() ? std::string() : errors.front().code; }
  // c/image registryHTTPResponseToError(...).Error().
  std::string text() const;
};

// handleErrorResponse + registryHTTPResponseToError. bearer_error and
// bearer_error_description are the `error` / `error_description`
// parameters of a Bearer challenge in WWW-Authenticate ("" if none).
RegistryHttpFailure classify_registry_failure(long status, std::string_view body,
                                              std::string_view bearer_error = "",
                                              std::string_view bearer_error_description = "");

// Parses an errcode body; returns false (and leaves out untouched) if the
// body is not one (not JSON, no "errors", an empty list, wrong types).
bool parse_errcode_body(std::string_view body, std::vector<ErrcodeEntry>* out);

// errcode's default message for a code ("MANIFEST_UNKNOWN" -> "manifest
// unknown"), "" for codes it does not register.
std::string_view errcode_default_message(std::string_view code);

// http.StatusText: "Not Found"; "" for unknown statuses.
std::string_view http_status_text(long status);

// A registry refused a request. Keeps the classification so callers can
// decide on the code (inspect tolerates DENIED on tags/list; copy retries
// only on some codes) while users see `what` only. exit_code 2 when the
// image does not exist (MANIFEST_UNKNOWN, §1.2).
class RegistryError : public Error {
 public:
  RegistryError(const std::string& msg, RegistryHttpFailure failure, int exit_code = 1)
      : Error(msg, exit_code), failure_(std::move(failure)) {}
  const RegistryHttpFailure& failure() const { return failure_; }
  std::string code() const { return failure_.code(); }
  long status() const { return failure_.status; }

 private:
  RegistryHttpFailure failure_;
};

// A token endpoint's answer (docker/distribution token spec): the token
// (`token`, else `access_token`) and its lifetime, raised to at least 60 s.
struct BearerTokenResponse {
  std::string token;
  int64_t expires_in = 0;
};

// Parses a token response body the way c/image unmarshals it (Go's rules:
// keys case-insensitive, wrong types are errors, issued_at must be RFC 3339).
// Throws ferry::Error with Go's unmarshal message.
BearerTokenResponse parse_bearer_token_response(std::string_view body);

}  // namespace ferry::net
