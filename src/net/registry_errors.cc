#include "net/registry_errors.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "util/gotype.h"

namespace ferry::net {

namespace {

using gojson::Json;
using gojson::Kind;
using gojson::Type;

struct CodeInfo {
  std::string_view code;
  std::string_view message;
};

// errcode's registry plus docker/distribution's v2 codes (both packages are
// linked into skopeo, so both sets parse as themselves).
constexpr CodeInfo kCodes[] = {
    {"UNKNOWN", "unknown error"},
    {"UNSUPPORTED", "The operation is unsupported."},
    {"UNAUTHORIZED", "authentication required"},
    {"DENIED", "requested access to the resource is denied"},
    {"UNAVAILABLE", "service unavailable"},
    {"TOOMANYREQUESTS", "too many requests"},
    {"DIGEST_INVALID", "provided digest did not match uploaded content"},
    {"SIZE_INVALID", "provided length did not match content length"},
    {"NAME_INVALID", "invalid repository name"},
    {"TAG_INVALID", "manifest tag did not match URI"},
    {"NAME_UNKNOWN", "repository name not known to registry"},
    {"MANIFEST_UNKNOWN", "manifest unknown"},
    {"MANIFEST_INVALID", "manifest invalid"},
    {"MANIFEST_UNVERIFIED", "manifest failed signature verification"},
    {"MANIFEST_BLOB_UNKNOWN", "blob unknown to registry"},
    {"BLOB_UNKNOWN", "blob unknown to registry"},
    {"BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry"},
    {"BLOB_UPLOAD_INVALID", "blob upload invalid"},
    {"PAGINATION_NUMBER_INVALID", "invalid number of results requested"},
    {"RANGE_INVALID", "invalid content range"},
};

bool registered(std::string_view code) {
  return std::any_of(std::begin(kCodes), std::end(kCodes),
                     [&](const CodeInfo& c) { return c.code == code; });
}

// ErrorCode.Error(): the code lowercased with '_' as ' '.
std::string code_phrase(std::string_view code) {
  std::string out(code);
  for (char& c : out) {
    if (c == '_') c = ' ';
    else c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// errcode.Error{Code, Message}.Error() as skopeo 1.9.3 prints it (newer
// c/image drops the "<code>: " prefix when the message is the default one;
// the system tests compare against 1.9.3).
std::string entry_text(const ErrcodeEntry& e) {
  if (e.message.empty() && !e.has_detail) return code_phrase(e.code);
  return code_phrase(e.code) + ": " + e.message;
}

// Unmarshal's idea of an Error whose message is the code's default and has
// no detail: just the code.
ErrcodeEntry make_entry(std::string code, std::string message, bool has_detail) {
  if (!registered(code)) code = "UNKNOWN";
  if (!has_detail && (message.empty() || message == errcode_default_message(code))) message.clear();
  return ErrcodeEntry{std::move(code), std::move(message), has_detail};
}

// Go's ErrorCode.WithMessage / WithDetail: an Error, never a bare code.
ErrcodeEntry with_message(std::string code, std::string message) {
  return ErrcodeEntry{std::move(code), std::move(message), true};
}

const Type& errors_body_type() {
  static const Type entry{Kind::kStruct,
                          "errcode.Error",
                          {
                              {"code", &gojson::string_type()},
                              {"message", &gojson::string_type()},
                              {"detail", &gojson::any_type(), true},
                          },
                          nullptr};
  static const Type list{Kind::kSlice, "[]errcode.Error", {}, &entry};
  static const Type t{Kind::kStruct, "struct { Errors []errcode.Error }", {{"Errors", &list}}, nullptr};
  return t;
}

const Type& details_body_type() {
  static const Type t{Kind::kStruct,
                      "struct { Details string \"json:\\\"details\\\"\" }",
                      {{"details", &gojson::string_type()}},
                      nullptr};
  return t;
}

const Type& token_body_type() {
  static const Type t{Kind::kStruct,
                      "docker.bearerToken",
                      {
                          {"token", &gojson::string_type()},
                          {"access_token", &gojson::string_type()},
                          {"expires_in", &gojson::int_type()},
                          {"issued_at", &gojson::time_type()},
                      },
                      nullptr};
  return t;
}

// c/image's minimum token lifetime.
constexpr int64_t kMinTokenLifetimeSeconds = 60;

}  // namespace

std::string_view errcode_default_message(std::string_view code) {
  for (const CodeInfo& c : kCodes)
    if (c.code == code) return c.message;
  return "";
}

bool parse_errcode_body(std::string_view body, std::vector<ErrcodeEntry>* out) {
  Json v;
  try {
    v = gojson::unmarshal(body, errors_body_type());
  } catch (const Error&) {
    return false;
  }
  const Json& list = v.at("Errors");
  if (!list.is_array() || list.empty()) return false;
  std::vector<ErrcodeEntry> entries;
  for (const Json& e : list) {
    entries.push_back(make_entry(e.at("code").get<std::string>(), e.at("message").get<std::string>(),
                                 !e.at("detail").is_null()));
  }
  *out = std::move(entries);
  return true;
}

RegistryHttpFailure classify_registry_failure(long status, std::string_view body,
                                              std::string_view bearer_error,
                                              std::string_view bearer_error_description) {
  if (body.size() > kMaxErrorBodySize) body = body.substr(0, kMaxErrorBodySize);
  RegistryHttpFailure f;
  f.status = status;
  if (status < 400 || status >= 500) {
    f.kind = RegistryHttpFailure::Kind::UnexpectedStatus;
    return f;
  }

  // Parses the body alone (distribution's parseHTTPErrorResponse).
  auto parse_body = [&](RegistryHttpFailure* out) {
    // Old registries: {"details": "..."}.
    try {
      Json d = gojson::unmarshal(body, details_body_type());
      std::string details = d.at("details").get<std::string>();
      if (!details.empty()) {
        out->kind = RegistryHttpFailure::Kind::Errcode;
        std::string code = status == 401 ? "UNAUTHORIZED" : status == 429 ? "TOOMANYREQUESTS" : "UNKNOWN";
        out->errors.push_back(with_message(std::move(code), std::move(details)));
        return;
      }
    } catch (const Error&) {
    }
    std::vector<ErrcodeEntry> entries;
    if (parse_errcode_body(body, &entries)) {
      out->kind = RegistryHttpFailure::Kind::Errcode;
      out->errors.insert(out->errors.end(), entries.begin(), entries.end());
      return;
    }
    out->kind = RegistryHttpFailure::Kind::UnexpectedResponse;
    out->body = std::string(body);
  };

  // RFC 6750 errors in a Bearer challenge come first.
  std::string bearer_code;
  if (bearer_error == "invalid_token") bearer_code = "UNAUTHORIZED";
  else if (bearer_error == "insufficient_scope") bearer_code = "DENIED";
  if (!bearer_code.empty()) {
    std::string msg = bearer_error_description.empty()
                          ? std::string(errcode_default_message(bearer_code))
                          : std::string(bearer_error_description);
    RegistryHttpFailure rest;
    parse_body(&rest);
    f.kind = RegistryHttpFailure::Kind::Errcode;
    f.errors.push_back(with_message(bearer_code, std::move(msg)));
    f.errors.insert(f.errors.end(), rest.errors.begin(), rest.errors.end());
    return f;
  }

  parse_body(&f);
  if (f.kind == RegistryHttpFailure::Kind::UnexpectedResponse && status == 401) {
    f.kind = RegistryHttpFailure::Kind::Errcode;
    f.errors.push_back(with_message("UNAUTHORIZED", std::string(errcode_default_message("UNAUTHORIZED"))));
    f.body.clear();
  }
  return f;
}

std::string RegistryHttpFailure::text() const {
  switch (kind) {
    case Kind::Errcode:
      if (!errors.empty()) return entry_text(errors.front());
      return "<nil>";
    case Kind::UnexpectedResponse: {
      std::string shown = body.size() > 50 ? body.substr(0, 50) + "..." : body;
      return "StatusCode: " + std::to_string(status) + ", " + gojson::go_quote(shown);
    }
    case Kind::UnexpectedStatus:
      break;
  }
  std::string line = std::to_string(status);
  std::string_view reason = http_status_text(status);
  if (!reason.empty()) line += " " + std::string(reason);
  return "received unexpected HTTP status: " + line;
}

std::string_view http_status_text(long status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

BearerTokenResponse parse_bearer_token_response(std::string_view body) {
  Json v = gojson::unmarshal(body, token_body_type());
  BearerTokenResponse r;
  r.token = v.at("token").get<std::string>();
  if (r.token.empty()) r.token = v.at("access_token").get<std::string>();
  r.expires_in = v.at("expires_in").get<int64_t>();
  if (r.expires_in < kMinTokenLifetimeSeconds) r.expires_in = kMinTokenLifetimeSeconds;
  return r;
}

}  // namespace ferry::net
