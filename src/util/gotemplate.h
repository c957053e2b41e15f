// Go's text/template, for `inspect --format`.
//
// skopeo hands the user's --format to c/common's report package, which runs
// it through Go's text/template with a handful of extra functions over the Go
// struct it would otherwise print as JSON. What the user sees is therefore
// decided by Go: how fmt prints a map, a *time.Time or a float, which
// mistakes are parse errors and which only fail when executed, and the exact
// words of both. This is a clean implementation of that engine over the
// struct's JSON form.
//
// Data model: `data` is the Go value as JSON, objects holding EVERY struct
// field in declaration order (omitempty fields too, with their zero value:
// a template can read .Name even when json.Marshal would drop it). JSON
// cannot say whether an object is a struct or a map, whether a null is a nil
// map, slice or pointer, or whether a string is a time.Time; `hints` says so
// where it matters.
#pragma once

#include <map>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace ferry::gotemplate {

using Json = nlohmann::ordered_json;

// Go kinds JSON cannot express but that change how a value prints. A bit set:
// combine with |, e.g. GoKind::Time | GoKind::OmitEmpty for
// `Created *time.Time json:"created,omitempty"`.
enum class GoKind : unsigned {
  Time = 1,       // JSON string in RFC 3339 (null = nil *time.Time)
  Map = 2,        // map[string]T (null = nil map, prints map[])
  Slice = 4,      // []T (null = nil slice, prints [])
  Struct = 8,     // the default for objects; null = nil *struct
  OmitEmpty = 16, // `json:",omitempty"`: the `json` function drops the key
                  // when its value is empty, as json.Marshal would
  Embedded = 32,  // an embedded struct (v1.Image's Platform): its fields are
                  // promoted (.Architecture) and `json` inlines them
};
constexpr GoKind operator|(GoKind a, GoKind b) {
  return static_cast<GoKind>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(GoKind set, GoKind k) {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(k)) != 0;
}

// Keys are JSON-pointer-like paths from the root of `data`, "*" standing for
// any array element or map value: "/Created", "/Labels",
// "/LayersData/*/Annotations".
using TypeHints = std::map<std::string, GoKind>;

// Thrown for parse and execution errors. Go writes output as it executes, so
// skopeo has already printed whatever came before a failing action;
// partial_output() is that text.
class TemplateError : public Error {
 public:
  TemplateError(const std::string& msg, std::string partial)
      : Error(msg), partial_(std::move(partial)) {}
  const std::string& partial_output() const { return partial_; }

 private:
  std::string partial_;
};

// Parses and executes `tmpl` (named "format") over `data`. Returns exactly
// the executed text. Errors read like Go's:
//   template: format:1: function "foo" not defined
//   template: format:1:2: executing "format" at <.Foo>: can't evaluate field Foo in type struct
// Functions: Go's builtins plus c/common report's json, join, lower, pad,
// split, title, truncate, upper. Templates longer than 1 MiB, nesting deeper
// than 100, output over 64 MiB or runaway execution are errors.
std::string render(const std::string& tmpl, const Json& data, const TypeHints& hints = {});

// What `skopeo inspect --format FORMAT` writes to stdout: c/common's
// report.Formatter for a user template over []any{data}, template name
// "skopeo inspect". That is: `\t` and `\n` typed as two characters become a
// tab and a newline, a trailing newline is added, the text is wrapped in
// {{range .}}...{{end -}} unless it already ranges over `.`, and if that
// normalized text does not parse the original is tried instead. A "table "
// prefix turns every space into a tab and aligns the output in columns
// (text/tabwriter, min width 12, padding 2). The caller handles IsJSON
// formats (`json`, `{{json .}}`) itself. `hints` are relative to `data`.
std::string render_report(const std::string& format, const Json& data,
                          const TypeHints& hints = {});

}  // namespace ferry::gotemplate
