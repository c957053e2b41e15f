// Go's json.Unmarshal / json.Marshal of a typed Go value, driven by a small
// description of the Go type.
//
// skopeo reads manifests and configs by unmarshalling them into Go structs
// and writes conversions by marshalling those structs back. What survives,
// what errors and what the bytes look like follow from Go's rules, not
// from the JSON alone: keys match struct fields case-insensitively, a null
// leaves a string field alone but clears a slice, a repeated key merges
// into the struct decoded so far, a number with a fraction does not fit an
// int, invalid UTF-8 and lone surrogates become U+FFFD, time.Time parses
// RFC 3339 leniently and prints RFC 3339 with trimmed nanoseconds, []byte is
// base64, maps come out sorted and omitempty drops zero values. Describing
// the Go type once and running one decoder over it keeps all of that in one
// place.
//
// A decoded value is held in a Json whose shape mirrors the Go value: a
// struct is an object holding every field in declaration order (zero when
// absent), slices/maps/pointers are null when nil, time.Time is its
// RFC3339Nano text, []byte is a Json binary. to_plain() turns that into
// what gojson::marshal prints for the Go value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/go_quote.h"
#include "util/gojson.h"

namespace ferry::gojson {

enum class Kind {
  kString,       // string and named string types (digest.Digest)
  kInt,          // int, int64, time.Duration
  kUint8,        // element of []byte given as a JSON array
  kBool,
  kTime,         // time.Time (RFC 3339 in, RFC3339Nano out)
  kBytes,        // []byte
  kAny,          // interface{}: only "present and not null" is kept
  kRaw,          // json.RawMessage: the literal text is kept
  kStrSlice,     // docker strslice.StrSlice: a string or an array of strings
  kStruct,
  kMap,          // map[string]T
  kSlice,        // []T
  kPtr,          // *T
  kEmptyStruct,  // struct{} (map[string]struct{} port and volume sets)
};

struct Type;

struct Field {
  std::string name;  // JSON key
  const Type* type;
  bool omitempty = false;
};

struct Type {
  Kind kind;
  std::string name;           // reflect.Type.String(), for error messages
  std::vector<Field> fields;  // kStruct: in Go declaration order
  const Type* elem = nullptr; // kMap / kSlice / kPtr
};

// Shared primitive types.
const Type& string_type();
const Type& int_type();
const Type& int64_type();
const Type& bool_type();
const Type& time_type();
const Type& time_ptr_type();
const Type& bytes_type();
const Type& any_type();
const Type& string_slice_type();
const Type& string_map_type();      // map[string]string
const Type& empty_struct_map_type(); // map[string]struct{}
const Type& digest_type();          // digest.Digest

// Go's checkValid: syntax errors with Go's messages ("invalid character 'x'
// looking for beginning of value", "unexpected end of JSON input"); nesting
// deeper than Go's 10000 levels is rejected.
void check_valid(std::string_view data);

// The zero value of t.
Json zero_value(const Type& t);

// json.Unmarshal(data, &v) where v starts as the zero value. Throws
// ferry::Error with Go's message on the first error.
Json unmarshal(std::string_view data, const Type& t);

// json.Marshal(v) as plain JSON for gojson::marshal: omitempty fields
// dropped, map keys sorted, times and []byte rendered. Throws for values Go
// cannot marshal (a year outside 0..9999, interface{} / RawMessage fields).
Json to_plain(const Json& v, const Type& t);

// gojson::marshal(to_plain(v, t)).
std::string marshal_value(const Json& v, const Type& t);

// json.Unmarshal into map[string]json.RawMessage: the members of the
// top-level object with their literal text, last duplicate winning, in
// first-appearance order. null data gives an empty list.
// `go_type` names the map type in the error for a non-object.
std::vector<std::pair<std::string, std::string>> unmarshal_raw_object(
    std::string_view data, std::string_view go_type = "map[string]*json.RawMessage");

// What json.Marshal writes for a json.RawMessage: the literal without
// insignificant whitespace, with '<' '>' '&' U+2028 U+2029 escaped.
std::string compact_raw(std::string_view raw);

// time.Time.UnmarshalJSON of a JSON string literal (quotes included):
// returns the RFC3339Nano text MarshalJSON would print.
std::string parse_go_time(std::string_view literal);

// fmt's %q, for error messages that quote a value as c/image does; kept
// under this name for the callers that have always used gojson::go_quote.
using ::ferry::go_quote;

// Go's equalFold for struct field names: `name` (ASCII) matches `key`.
bool field_name_matches(std::string_view name, std::string_view key);

}  // namespace ferry::gojson
