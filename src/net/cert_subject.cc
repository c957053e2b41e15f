#include "net/cert_subject.h"

#include <cstddef>
#include <cstdint>

namespace ferry::net {

namespace {

struct Tlv {
  uint8_t tag = 0;
  std::string_view whole;    // tag, length and contents
  std::string_view content;
};

// The TLV at the start of `in` (single-byte tags, definite lengths of at
// most four length bytes), or nullopt if it does not fit in `in`.
std::optional<Tlv> read_tlv(std::string_view in) {
  if (in.size() < 2) return std::nullopt;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  Tlv t;
  t.tag = p[0];
  if ((t.tag & 0x1f) == 0x1f) return std::nullopt;  // multi-byte tag: not in a certificate's outline
  size_t header = 2;
  size_t len = p[1];
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return std::nullopt;  // indefinite, or too long
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | p[2 + i];
    header += n;
  }
  if (len > in.size() - header) return std::nullopt;
  t.whole = in.substr(0, header + len);
  t.content = in.substr(header, len);
  return t;
}

constexpr uint8_t kSequence = 0x30;
constexpr uint8_t kInteger = 0x02;
constexpr uint8_t kVersion = 0xa0;  // [0] EXPLICIT

}  // namespace

std::optional<std::string_view> certificate_subject_der(std::string_view der) {
  const auto cert = read_tlv(der);
  if (!cert || cert->tag != kSequence) return std::nullopt;
  const auto tbs = read_tlv(cert->content);
  if (!tbs || tbs->tag != kSequence) return std::nullopt;
  std::string_view rest = tbs->content;
  auto next = [&rest]() {
    auto t = read_tlv(rest);
    if (t) rest.remove_prefix(t->whole.size());
    return t;
  };
  auto field = next();
  if (field && field->tag == kVersion) field = next();
  if (!field || field->tag != kInteger) return std::nullopt;  // serialNumber
  for (int i = 0; i < 3; ++i) {                                // signature, issuer, validity
    field = next();
    if (!field || field->tag != kSequence) return std::nullopt;
  }
  field = next();  // subject
  if (!field || field->tag != kSequence) return std::nullopt;
  return field->whole;
}

}  // namespace ferry::net
