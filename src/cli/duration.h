// Go's time.Duration text form, as skopeo's --command-timeout and
// --retry-delay accept and print it ("1h2m3.5s", "300ms", "1.5µs", "0").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ferry::cli {

using Duration = std::chrono::nanoseconds;

// time.ParseDuration: a sign, then one or more decimal numbers (fraction
// allowed) each with a unit out of ns us µs μs ms s m h. Throws ferry::Error
// with Go's exact message, e.g. `time: invalid duration "x"`,
// `time: missing unit in duration "1"`,
// `time: unknown unit "d" in duration "1d"`.
Duration parse_go_duration(std::string_view s);

// time.Duration.String(): "0s", "1.5µs", "300ms", "1h2m3.5s", "-1m0s".
std::string format_go_duration(Duration d);

}  // namespace ferry::cli
