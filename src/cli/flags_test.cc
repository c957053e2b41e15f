#include "cli/flags.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "util/error.h"

// Expected texts were checked against spf13/pflag + spf13/cobra (a Go
// harness with the same flag definitions) and, where skopeo 1.9.3 has the
// same flags, against `skopeo ... --help` output.

namespace ferry::cli {
namespace {

using Args = std::vector<std::string>;

// One flag of every kind, with the shorthands skopeo-style commands use.
struct Kitchen {
  bool quiet = false;
  bool all = false;
  std::optional<bool> tls_verify;
  std::string str;
  OptionalString creds;
  int64_t num = 0;
  OptionalInt level;
  uint64_t par = 0;
  std::vector<std::string> tags;
  std::vector<int64_t> layers;
  Duration delay{0};
  std::string old;
  bool secret = false;
  std::ostringstream warnings;
  FlagSet fs{"kitchen"};

  Kitchen() {
    fs.set_warning_stream(&warnings);
    fs.add_bool("quiet", 'q', &quiet, "Suppress output");
    fs.add_bool("all", 'a', &all, "Copy all images");
    fs.add_optional_bool("tls-verify", 0, &tls_verify, "require HTTPS");
    fs.add_string("str", 's', &str, "a `VALUE` string");
    fs.add_optional_string("creds", 0, &creds, "Use `USERNAME[:PASSWORD]` for accessing the registry");
    fs.add_alias("screds", "creds");
    fs.add_int("num", 'i', &num, "a number");
    fs.add_optional_int("level", 'L', &level, "`LEVEL` to use");
    fs.add_uint("par", 'u', &par, "parallel copies");
    fs.add_string_slice("tag", 't', &tags, "additional tags");
    fs.add_int_slice("layer", 'l', &layers, "layer indices");
    fs.add_duration("delay", 'd', &delay, "retry delay");
    fs.add_string("old", 0, &old, "old flag");
    fs.mark_deprecated("old", "use --str instead");
    fs.add_bool("secret", 0, &secret, "hidden bool");
    fs.mark_hidden("secret");
  }

  Args parse(const Args& args) { return fs.parse(args); }

  std::string error(const Args& args) {
    try {
      fs.parse(args);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }
};

// ---------------------------------------------------------------------------
// Syntax forms

TEST(FlagSetParse, LongForms) {
  Kitchen k;
  EXPECT_EQ(k.parse({"--str", "a", "--num=5", "--par", "7", "--delay=1m"}), Args{});
  EXPECT_EQ(k.str, "a");
  EXPECT_EQ(k.num, 5);
  EXPECT_EQ(k.par, 7u);
  EXPECT_EQ(k.delay, std::chrono::minutes(1));
}

TEST(FlagSetParse, ValueMayLookLikeAFlag) {
  Kitchen k;
  EXPECT_EQ(k.parse({"--str", "--quiet", "-s", "-q"}), Args{});
  EXPECT_EQ(k.str, "-q");
  EXPECT_FALSE(k.quiet);
}

TEST(FlagSetParse, EqualsSplitsAtTheFirstEquals) {
  Kitchen k;
  k.parse({"--str=a=b"});
  EXPECT_EQ(k.str, "a=b");
  k.parse({"--str="});
  EXPECT_EQ(k.str, "");
}

TEST(FlagSetParse, ShorthandForms) {
  Kitchen k;
  k.parse({"-sVALUE"});
  EXPECT_EQ(k.str, "VALUE");
  k.parse({"-s", "spaced"});
  EXPECT_EQ(k.str, "spaced");
  k.parse({"-s=eq"});
  EXPECT_EQ(k.str, "eq");
  // "-s=" is "-s" followed by the value "=": only "-s=x" strips the '='.
  k.parse({"-s="});
  EXPECT_EQ(k.str, "=");
  k.parse({"-i42"});
  EXPECT_EQ(k.num, 42);
}

TEST(FlagSetParse, CombinedBoolShorthands) {
  Kitchen k;
  EXPECT_EQ(k.parse({"-qa", "pos"}), Args{"pos"});
  EXPECT_TRUE(k.quiet);
  EXPECT_TRUE(k.all);
}

TEST(FlagSetParse, BoolsThenValueInOneGroup) {
  Kitchen k;
  k.parse({"-qasX"});
  EXPECT_TRUE(k.quiet);
  EXPECT_TRUE(k.all);
  EXPECT_EQ(k.str, "X");
  Kitchen k2;
  EXPECT_EQ(k2.parse({"-qs", "next", "pos"}), Args{"pos"});
  EXPECT_EQ(k2.str, "next");
}

TEST(FlagSetParse, BoolValues) {
  Kitchen k;
  k.parse({"--quiet"});
  EXPECT_TRUE(k.quiet);
  k.parse({"--quiet=false"});
  EXPECT_FALSE(k.quiet);
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    k.quiet = false;
    k.parse({std::string("--quiet=") + t});
    EXPECT_TRUE(k.quiet) << t;
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    k.quiet = true;
    k.parse({std::string("-q=") + f});
    EXPECT_FALSE(k.quiet) << f;
  }
}

TEST(FlagSetParse, BoolDoesNotTakeTheNextWord) {
  Kitchen k;
  EXPECT_EQ(k.parse({"--quiet", "false", "--tls-verify", "false"}), (Args{"false", "false"}));
  EXPECT_TRUE(k.quiet);
  EXPECT_EQ(k.tls_verify, true);
}

TEST(FlagSetParse, OptionalBoolIsTriState) {
  Kitchen absent;
  absent.parse({"x"});
  EXPECT_EQ(absent.tls_verify, std::nullopt);
  Kitchen on;
  on.parse({"--tls-verify"});
  EXPECT_EQ(on.tls_verify, true);
  Kitchen off;
  off.parse({"--tls-verify=false"});
  EXPECT_EQ(off.tls_verify, false);
}

TEST(FlagSetParse, OptionalStringTracksPresence) {
  Kitchen absent;
  absent.parse({});
  EXPECT_FALSE(absent.creds.present);
  Kitchen empty;
  empty.parse({"--creds="});
  EXPECT_TRUE(empty.creds.present);
  EXPECT_EQ(empty.creds.value, "");
  Kitchen spaced;
  spaced.parse({"--creds", ""});
  EXPECT_TRUE(spaced.creds.present);
  EXPECT_EQ(spaced.creds.value, "");
}

TEST(FlagSetParse, AliasWritesTheSameVariable) {
  Kitchen k;
  k.parse({"--screds=u:p"});
  EXPECT_TRUE(k.creds.present);
  EXPECT_EQ(k.creds.value, "u:p");
  EXPECT_TRUE(k.fs.lookup("screds")->hidden);
}

TEST(FlagSetParse, OptionalInt) {
  Kitchen k;
  k.parse({"-L", "0x10"});
  EXPECT_TRUE(k.level.present);
  EXPECT_EQ(k.level.value, 16);
}

TEST(FlagSetParse, IntSyntaxIsStrconvBaseZero) {
  Kitchen k;
  const std::pair<const char*, int64_t> cases[] = {
      {"0x1f", 31}, {"0X1F", 31}, {"0b101", 5}, {"0o17", 15}, {"017", 15}, {"1_000", 1000},
      {"0x_1f", 31}, {"-0b11", -3}, {"+7", 7}, {"0", 0}, {"-9223372036854775808", INT64_MIN},
      {"9223372036854775807", INT64_MAX},
  };
  for (const auto& [text, want] : cases) {
    k.parse({std::string("--num=") + text});
    EXPECT_EQ(k.num, want) << text;
  }
}

TEST(FlagSetParse, Uint) {
  Kitchen k;
  k.parse({"--par=18446744073709551615"});
  EXPECT_EQ(k.par, UINT64_MAX);
  k.parse({"-u0x_ff"});
  EXPECT_EQ(k.par, 255u);
}

TEST(FlagSetParse, StringSliceRepeatsAndSplitsAsCsv) {
  Kitchen k;
  k.parse({"--tag=a,b", "-t", "c", "--tag", "\"d,e\",\"f\"\"g\"", "--tag="});
  EXPECT_EQ(k.tags, (Args{"a", "b", "c", "d,e", "f\"g"}));
}

TEST(FlagSetParse, StringSliceFirstUseReplacesDefault) {
  std::vector<std::string> v{"default"};
  FlagSet fs("x");
  fs.add_string_slice("v", 0, &v, "");
  fs.parse({"--v=a"});
  EXPECT_EQ(v, Args{"a"});
  fs.parse({"--v=b"});  // later uses (even in a later parse) append
  EXPECT_EQ(v, (Args{"a", "b"}));
}

TEST(FlagSetParse, StringSliceCsvCorners) {
  const std::pair<std::string, Args> cases[] = {
      {"a,", {"a", ""}},
      {",", {"", ""}},
      {" a , b", {" a ", " b"}},
      {"a\nb", {"a"}},               // one CSV record: the first line only
      {"\n\na,b", {"a", "b"}},       // leading empty lines are skipped
      {"\"a\nb\"", {"a\nb"}},        // quoted newlines are kept
      {"\"a\r\nb\",c", {"a\nb", "c"}},
      {"a\r", {"a"}},                // a final \r is dropped
      {"\"\"", {""}},
  };
  for (const auto& [value, want] : cases) {
    Kitchen k;
    k.parse({"--tag=" + value});
    EXPECT_EQ(k.tags, want) << go_quote(value);
  }
}

TEST(FlagSetParse, IntSlice) {
  Kitchen k;
  k.parse({"--layer=1,-2", "-l", "+3"});
  EXPECT_EQ(k.layers, (std::vector<int64_t>{1, -2, 3}));
}

TEST(FlagSetParse, PositionalsInterspersed) {
  Kitchen k;
  EXPECT_EQ(k.parse({"src", "-q", "dst", "--str", "v", "third"}), (Args{"src", "dst", "third"}));
}

TEST(FlagSetParse, DoubleDashEndsFlags) {
  Kitchen k;
  EXPECT_EQ(k.parse({"a", "--", "-q", "--str=x", "--"}), (Args{"a", "-q", "--str=x", "--"}));
  EXPECT_FALSE(k.quiet);
}

TEST(FlagSetParse, SingleDashAndEmptyArePositionals) {
  Kitchen k;
  EXPECT_EQ(k.parse({"-", "", "x"}), (Args{"-", "", "x"}));
}

TEST(FlagSetParse, GoTestFlagsAreIgnored) {
  // pflag silently skips "-test.*" (Go test binaries pass those).
  Kitchen k;
  EXPECT_EQ(k.parse({"-test.v", "-qtest.x", "pos"}), Args{"pos"});
  EXPECT_TRUE(k.quiet);
  EXPECT_EQ(k.tags, Args{});  // not "-t est.v"
}

TEST(FlagSetParse, HelpFlag) {
  Kitchen k;
  k.parse({"pos", "--help"});
  EXPECT_TRUE(k.fs.help_requested());
  Kitchen shorthand;
  shorthand.parse({"-qh"});
  EXPECT_TRUE(shorthand.fs.help_requested());
  Kitchen off;
  off.parse({"--help=false"});
  EXPECT_FALSE(off.fs.help_requested());
}

TEST(FlagSetParse, HelpGivesUpItsShorthandToAFlagThatClaimsIt) {
  bool host = false;
  FlagSet fs("x");
  fs.add_bool("host", 'h', &host, "");
  fs.parse({"-h"});
  EXPECT_TRUE(host);
  EXPECT_FALSE(fs.help_requested());
  EXPECT_EQ(fs.usages(),
            "      --help   help for x\n"
            "  -h, --host   \n");
}

TEST(FlagSetParse, ChangedIsRecorded) {
  Kitchen k;
  k.parse({"--num=0"});
  EXPECT_TRUE(k.fs.lookup("num")->changed);
  EXPECT_FALSE(k.fs.lookup("str")->changed);
}

TEST(FlagSetParse, DeprecationWarningPrintedAfterSuccess) {
  Kitchen k;
  k.parse({"--old=a", "--old", "b"});
  EXPECT_EQ(k.old, "b");
  EXPECT_EQ(k.warnings.str(),
            "Flag --old has been deprecated, use --str instead\n"
            "Flag --old has been deprecated, use --str instead\n");
  Kitchen failed;
  EXPECT_EQ(failed.error({"--old=a", "--bogus"}), "unknown flag: --bogus");
  EXPECT_EQ(failed.warnings.str(), "");
}

// ---------------------------------------------------------------------------
// Errors, word for word as pflag

TEST(FlagSetErrors, UnknownFlags) {
  Kitchen k;
  EXPECT_EQ(k.error({"--x"}), "unknown flag: --x");
  EXPECT_EQ(k.error({"--x=1"}), "unknown flag: --x");
  EXPECT_EQ(k.error({"-x"}), "unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(k.error({"-qx"}), "unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(k.error({"-qxq"}), "unknown shorthand flag: 'x' in -xq");
  EXPECT_EQ(k.error({"-q="}), "unknown shorthand flag: '=' in -=");
  EXPECT_EQ(k.error({"-'"}), "unknown shorthand flag: '\\'' in -'");
  EXPECT_EQ(k.error({"-\\"}), "unknown shorthand flag: '\\\\' in -\\");
  EXPECT_EQ(k.error({"-\x01"}), "unknown shorthand flag: '\\x01' in -\x01");
  // %q of a byte treats it as a rune: 0xC3 prints as U+00C3.
  EXPECT_EQ(k.error({"-\xC3\xA9"}), "unknown shorthand flag: '\xC3\x83' in -\xC3\xA9");
  EXPECT_EQ(k.error({"-\x85"}), "unknown shorthand flag: '\\u0085' in -\x85");
  EXPECT_EQ(k.error({"-\xAD"}), "unknown shorthand flag: '\\u00ad' in -\xAD");
}

TEST(FlagSetErrors, BadSyntax) {
  Kitchen k;
  EXPECT_EQ(k.error({"--=x"}), "bad flag syntax: --=x");
  EXPECT_EQ(k.error({"--="}), "bad flag syntax: --=");
  EXPECT_EQ(k.error({"---x"}), "bad flag syntax: ---x");
  EXPECT_EQ(k.error({"---"}), "bad flag syntax: ---");
}

TEST(FlagSetErrors, MissingArgument) {
  Kitchen k;
  EXPECT_EQ(k.error({"--str"}), "flag needs an argument: --str");
  EXPECT_EQ(k.error({"-s"}), "flag needs an argument: 's' in -s");
  EXPECT_EQ(k.error({"-qs"}), "flag needs an argument: 's' in -s");
  EXPECT_EQ(k.error({"x", "--delay"}), "flag needs an argument: --delay");
}

TEST(FlagSetErrors, InvalidValues) {
  Kitchen k;
  EXPECT_EQ(k.error({"--quiet=maybe"}),
            "invalid argument \"maybe\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing "
            "\"maybe\": invalid syntax");
  EXPECT_EQ(k.error({"--tls-verify=maybe"}),
            "invalid argument \"maybe\" for \"--tls-verify\" flag: strconv.ParseBool: parsing "
            "\"maybe\": invalid syntax");
  EXPECT_EQ(k.error({"-q=yes"}),
            "invalid argument \"yes\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing "
            "\"yes\": invalid syntax");
  EXPECT_EQ(k.error({"--num", "x"}),
            "invalid argument \"x\" for \"-i, --num\" flag: strconv.ParseInt: parsing \"x\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--num="}),
            "invalid argument \"\" for \"-i, --num\" flag: strconv.ParseInt: parsing \"\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--num=99999999999999999999"}),
            "invalid argument \"99999999999999999999\" for \"-i, --num\" flag: strconv.ParseInt: "
            "parsing \"99999999999999999999\": value out of range");
  EXPECT_EQ(k.error({"--num=-9223372036854775809"}),
            "invalid argument \"-9223372036854775809\" for \"-i, --num\" flag: strconv.ParseInt: "
            "parsing \"-9223372036854775809\": value out of range");
  EXPECT_EQ(k.error({"--num=08"}),
            "invalid argument \"08\" for \"-i, --num\" flag: strconv.ParseInt: parsing \"08\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--num=1__0"}),
            "invalid argument \"1__0\" for \"-i, --num\" flag: strconv.ParseInt: parsing "
            "\"1__0\": invalid syntax");
  EXPECT_EQ(k.error({"--num=+"}),
            "invalid argument \"+\" for \"-i, --num\" flag: strconv.ParseInt: parsing \"+\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"-L", "x"}),
            "invalid argument \"x\" for \"-L, --level\" flag: strconv.ParseInt: parsing \"x\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--par=-1"}),
            "invalid argument \"-1\" for \"-u, --par\" flag: strconv.ParseUint: parsing \"-1\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--par=18446744073709551616"}),
            "invalid argument \"18446744073709551616\" for \"-u, --par\" flag: "
            "strconv.ParseUint: parsing \"18446744073709551616\": value out of range");
  EXPECT_EQ(k.error({"--layer=x"}),
            "invalid argument \"x\" for \"-l, --layer\" flag: strconv.Atoi: parsing \"x\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--layer="}),
            "invalid argument \"\" for \"-l, --layer\" flag: strconv.Atoi: parsing \"\": invalid "
            "syntax");
  EXPECT_EQ(k.error({"--layer=1,,2"}),
            "invalid argument \"1,,2\" for \"-l, --layer\" flag: strconv.Atoi: parsing \"\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--layer=0x1"}),
            "invalid argument \"0x1\" for \"-l, --layer\" flag: strconv.Atoi: parsing \"0x1\": "
            "invalid syntax");
  EXPECT_EQ(k.error({"--delay=x"}),
            "invalid argument \"x\" for \"-d, --delay\" flag: time: invalid duration \"x\"");
  EXPECT_EQ(k.error({"--delay=1"}),
            "invalid argument \"1\" for \"-d, --delay\" flag: time: missing unit in duration "
            "\"1\"");
}

TEST(FlagSetErrors, CsvErrors) {
  Kitchen k;
  EXPECT_EQ(k.error({"--tag=a\"b"}),
            "invalid argument \"a\\\"b\" for \"-t, --tag\" flag: parse error on line 1, column 2: "
            "bare \" in non-quoted-field");
  EXPECT_EQ(k.error({"--tag=\"ab"}),
            "invalid argument \"\\\"ab\" for \"-t, --tag\" flag: parse error on line 1, column 4: "
            "extraneous or missing \" in quoted-field");
  EXPECT_EQ(k.error({"--tag=\"a\"b"}),
            "invalid argument \"\\\"a\\\"b\" for \"-t, --tag\" flag: parse error on line 1, "
            "column 3: extraneous or missing \" in quoted-field");
  EXPECT_EQ(k.error({"--tag=\"a\nb"}),
            "invalid argument \"\\\"a\\nb\" for \"-t, --tag\" flag: record on line 1; parse error "
            "on line 2, column 2: extraneous or missing \" in quoted-field");
  EXPECT_EQ(k.error({"--tag=\n"}), "invalid argument \"\\n\" for \"-t, --tag\" flag: EOF");
  EXPECT_EQ(k.error({"--tag=\r"}), "invalid argument \"\\r\" for \"-t, --tag\" flag: EOF");
}

TEST(FlagSetErrors, ValuesAreGoQuoted) {
  Kitchen k;
  EXPECT_EQ(k.error({"--num=\xC3\xA9\xFF\t\xE2\x80\x8B"}),
            "invalid argument \"\xC3\xA9\\xff\\t\\u200b\" for \"-i, --num\" flag: "
            "strconv.ParseInt: parsing \"\xC3\xA9\\xff\\t\\u200b\": invalid syntax");
}

TEST(FlagSetErrors, StopsAtTheFirstError) {
  Kitchen k;
  EXPECT_EQ(k.error({"--str=set", "--bogus", "--num=x"}), "unknown flag: --bogus");
  EXPECT_EQ(k.str, "set");  // pflag has applied what came before
}

// ---------------------------------------------------------------------------
// Hostile input

TEST(FlagSetHostile, VeryLongArguments) {
  Kitchen k;
  const std::string big(1 << 20, 'a');
  EXPECT_EQ(k.parse({"--str=" + big, big}), Args{big});
  EXPECT_EQ(k.str, big);
  EXPECT_EQ(k.error({"--" + big}), "unknown flag: --" + big);
  const std::string digits(1 << 16, '7');
  EXPECT_EQ(k.error({"--num=" + digits}),
            "invalid argument \"" + digits + "\" for \"-i, --num\" flag: strconv.ParseInt: parsing \"" +
                digits + "\": value out of range");
}

TEST(FlagSetHostile, ManyArguments) {
  Kitchen k;
  Args args;
  for (int i = 0; i < 100000; i++) args.push_back(i % 2 == 0 ? "-t" : "x");
  k.parse(args);
  EXPECT_EQ(k.tags.size(), 50000u);
}

TEST(FlagSetHostile, LongShorthandGroup) {
  Kitchen k;
  EXPECT_EQ(k.parse({"-" + std::string(100000, 'q')}), Args{});
  EXPECT_TRUE(k.quiet);
}

TEST(FlagSetHostile, OddNamesAreUnknownNotCrashes) {
  Kitchen k;
  EXPECT_EQ(k.error({"--\xE2\x80\x8Bstr"}), "unknown flag: --\xE2\x80\x8Bstr");
  EXPECT_EQ(k.error({"--str\xFF=1"}), "unknown flag: --str\xFF");
  // The message keeps the NUL (as Go's does); what() shows it as a C string.
  EXPECT_EQ(k.error({std::string("--st\0r", 6)}), "unknown flag: --st");
  EXPECT_EQ(k.error({"-\xFF"}), "unknown shorthand flag: '\xC3\xBF' in -\xFF");
}

TEST(FlagSetHostile, EmptyValuesEverywhere) {
  Kitchen k;
  EXPECT_EQ(k.parse({"--str=", "--creds=", "--tag=", "-s", ""}), Args{});
  EXPECT_TRUE(k.creds.present);
  EXPECT_EQ(k.tags, Args{});
}

// ---------------------------------------------------------------------------
// Help: pflag's FlagUsages and cobra's templates

TEST(FlagUsages, Layout) {
  Kitchen k;
  EXPECT_EQ(k.fs.usages(),
            "  -a, --all                         Copy all images\n"
            "      --creds USERNAME[:PASSWORD]   Use USERNAME[:PASSWORD] for accessing the registry\n"
            "  -d, --delay duration              retry delay\n"
            "  -h, --help                        help for kitchen\n"
            "  -l, --layer ints                  layer indices\n"
            "  -L, --level LEVEL                 LEVEL to use\n"
            "  -i, --num int                     a number\n"
            "  -u, --par uint                    parallel copies\n"
            "  -q, --quiet                       Suppress output\n"
            "  -s, --str VALUE                   a VALUE string\n"
            "  -t, --tag strings                 additional tags\n"
            "      --tls-verify                  require HTTPS\n");
}

TEST(FlagUsages, Defaults) {
  bool b = true;
  std::string s = "a \"q\"";
  int64_t i = -3;
  uint64_t u = 8;
  std::vector<std::string> ss{"x", "y z", "c,d", ""};
  std::vector<int64_t> is{1, -2};
  Duration d = std::chrono::seconds(90);
  std::optional<bool> ob = true;
  OptionalString os{true, "kept?"};
  FlagSet fs("d");
  fs.add_bool("b", 0, &b, "bool");
  fs.add_string("s", 0, &s, "string");
  fs.add_int("i", 0, &i, "int");
  fs.add_uint("u", 0, &u, "uint");
  fs.add_string_slice("ss", 0, &ss, "strings");
  fs.add_int_slice("is", 0, &is, "ints");
  fs.add_duration("dur", 0, &d, "duration");
  fs.add_optional_bool("ob", 0, &ob, "optional bools never show a default");
  fs.add_optional_string("os", 0, &os, "nor optional strings");
  EXPECT_EQ(ob, std::nullopt);
  EXPECT_FALSE(os.present);
  EXPECT_EQ(fs.usages(),
            "      --b              bool (default true)\n"
            "      --dur duration   duration (default 1m30s)\n"
            "  -h, --help           help for d\n"
            "      --i int          int (default -3)\n"
            "      --is ints        ints (default [1,-2])\n"
            "      --ob             optional bools never show a default\n"
            "      --os string      nor optional strings\n"
            "      --s string       string (default \"a \\\"q\\\"\")\n"
            "      --ss strings     strings (default [x,y z,\"c,d\",])\n"
            "      --u uint         uint (default 8)\n");
}

TEST(FlagUsages, OptionalValuesShowPflagsQuirk) {
  // pflag judges c/common's Optional* defaults by their current value, so
  // skopeo prints `(default "")` once --creds was given (seen in 1.9.3).
  Kitchen k;
  k.parse({"--creds=x", "--level=5"});
  const std::string u = k.fs.usages();
  EXPECT_NE(u.find("for accessing the registry (default \"\")\n"), std::string::npos) << u;
  EXPECT_NE(u.find("LEVEL to use (default )\n"), std::string::npos) << u;
}

TEST(FlagUsages, BackquotesAndNewlines) {
  std::string a, b, c;
  FlagSet fs("q");
  fs.add_string("one", 0, &a, "only one ` backquote");
  fs.add_string("two", 0, &b, "use `A` and `B`");
  fs.add_string("multi", 0, &c, "line one\nline two");
  EXPECT_EQ(fs.usages(),
            "  -h, --help           help for q\n"
            "      --multi string   line one\n"
            "                       line two\n"
            "      --one string     only one ` backquote\n"
            "      --two A          use A and `B`\n");
}

TEST(FlagUsages, DeprecatedButVisibleShowsTheNote) {
  std::string v;
  FlagSet fs("q");
  fs.add_string("v", 0, &v, "value");
  fs.mark_deprecated("v", "gone soon");
  fs.lookup("v")->hidden = false;
  EXPECT_EQ(fs.usages(),
            "  -h, --help       help for q\n"
            "      --v string   value (DEPRECATED: gone soon)\n");
}

// The flags of skopeo 1.9.3's `inspect`, defined as skopeo defines them.
struct Inspect193 {
  std::string authfile, cert_dir, daemon_host, format, shared_blob_dir;
  bool config = false, no_creds = false, no_tags = false, raw = false;
  OptionalString creds, password, registry_token, username;
  int64_t retry_times = 0;
  std::optional<bool> tls_verify;
  FlagSet fs{"inspect"};

  Inspect193() {
    fs.add_string("authfile", 0, &authfile,
                  "path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json");
    fs.add_optional_string("creds", 0, &creds, "Use `USERNAME[:PASSWORD]` for accessing the registry");
    fs.add_optional_string("username", 0, &username, "Username for accessing the registry");
    fs.add_optional_string("password", 0, &password, "Password for accessing the registry");
    fs.add_optional_string("registry-token", 0, &registry_token,
                           "Provide a Bearer token for accessing the registry");
    fs.add_string("cert-dir", 0, &cert_dir,
                  "use certificates at `PATH` (*.crt, *.cert, *.key) to connect to the registry or daemon");
    fs.add_optional_bool("tls-verify", 0, &tls_verify,
                         "require HTTPS and verify certificates when talking to the container registry or daemon");
    fs.add_bool("no-creds", 0, &no_creds, "Access the registry anonymously");
    fs.add_string("shared-blob-dir", 0, &shared_blob_dir,
                  "`DIRECTORY` to use to share blobs across OCI repositories");
    fs.add_string("daemon-host", 0, &daemon_host, "use docker daemon host at `HOST` (docker-daemon: only)");
    fs.add_int("retry-times", 0, &retry_times, "the number of times to possibly retry");
    fs.add_bool("raw", 0, &raw, "output raw manifest or configuration");
    fs.add_bool("config", 0, &config, "output configuration");
    fs.add_string("format", 'f', &format, "Format the output to a Go template");
    fs.add_bool("no-tags", 'n', &no_tags, "Do not list the available tags from the repository in the output");
  }
};

// `skopeo inspect --help` of skopeo 1.9.3 (Debian 12), verbatim.
constexpr const char* kInspectHelp193 =
    R"(Return low-level information about "IMAGE-NAME" in a registry/transport
Supported transports:
containers-storage, dir, docker, docker-archive, docker-daemon, oci, oci-archive, ostree, sif, tarball

See skopeo(1) section "IMAGE NAMES" for the expected format

Usage:
skopeo inspect [command options] IMAGE-NAME

Examples:
skopeo inspect docker://registry.fedoraproject.org/fedora
  skopeo inspect --config docker://docker.io/alpine
  skopeo inspect  --format "Name: {{.Name}} Digest: {{.Digest}}" docker://registry.access.redhat.com/ubi8

Flags:
      --authfile string             path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json
      --cert-dir PATH               use certificates at PATH (*.crt, *.cert, *.key) to connect to the registry or daemon
      --config                      output configuration
      --creds USERNAME[:PASSWORD]   Use USERNAME[:PASSWORD] for accessing the registry
      --daemon-host HOST            use docker daemon host at HOST (docker-daemon: only)
  -f, --format string               Format the output to a Go template
  -h, --help                        help for inspect
      --no-creds                    Access the registry anonymously
  -n, --no-tags                     Do not list the available tags from the repository in the output
      --password string             Password for accessing the registry
      --raw                         output raw manifest or configuration
      --registry-token string       Provide a Bearer token for accessing the registry
      --retry-times int             the number of times to possibly retry
      --shared-blob-dir DIRECTORY   DIRECTORY to use to share blobs across OCI repositories
      --tls-verify                  require HTTPS and verify certificates when talking to the container registry or daemon
      --username string             Username for accessing the registry

)";

CommandHelp inspect_help_193() {
  CommandHelp h;
  h.use = "inspect [command options] IMAGE-NAME";
  h.short_desc = "Inspect image IMAGE-NAME";
  h.long_desc =
      "Return low-level information about \"IMAGE-NAME\" in a registry/transport\n"
      "Supported transports:\n"
      "containers-storage, dir, docker, docker-archive, docker-daemon, oci, oci-archive, ostree, "
      "sif, tarball\n\n"
      "See skopeo(1) section \"IMAGE NAMES\" for the expected format\n";
  h.example =
      "skopeo inspect docker://registry.fedoraproject.org/fedora\n"
      "  skopeo inspect --config docker://docker.io/alpine\n"
      "  skopeo inspect  --format \"Name: {{.Name}} Digest: {{.Digest}}\" "
      "docker://registry.access.redhat.com/ubi8";
  return h;
}

// The root of skopeo 1.9.3 with its global flags, for help and traversal.
struct Root193 {
  bool version = false, debug = false, insecure_policy = false;
  std::string policy, registries_d, override_arch, override_os, override_variant, registries_conf,
      tmpdir;
  Duration command_timeout{0};
  std::optional<bool> tls_verify;
  FlagSet fs{"skopeo"};

  Root193() {
    fs.add_bool("version", 'v', &version, "Version for Skopeo");
    auto global = [](Flag& f) { f.persistent = true; };
    global(fs.add_bool("debug", 0, &debug, "enable debug output"));
    global(fs.add_string("policy", 0, &policy, "Path to a trust policy file"));
    global(fs.add_bool("insecure-policy", 0, &insecure_policy, "run the tool without any policy check"));
    global(fs.add_string("registries.d", 0, &registries_d,
                         "use registry configuration files in `DIR` (e.g. for container signature storage)"));
    global(fs.add_string("override-arch", 0, &override_arch,
                         "use `ARCH` instead of the architecture of the machine for choosing images"));
    global(fs.add_string("override-os", 0, &override_os,
                         "use `OS` instead of the running OS for choosing images"));
    global(fs.add_string("override-variant", 0, &override_variant,
                         "use `VARIANT` instead of the running architecture variant for choosing images"));
    global(fs.add_duration("command-timeout", 0, &command_timeout, "timeout for the command execution"));
    global(fs.add_string("registries-conf", 0, &registries_conf, "path to the registries.conf file"));
    fs.mark_hidden("registries-conf");
    global(fs.add_string("tmpdir", 0, &tmpdir, "directory used to store temporary files"));
    fs.add_optional_bool("tls-verify", 0, &tls_verify,
                         "Require HTTPS and verify certificates when accessing the registry")
        .hidden = true;
  }
};

TEST(CommandHelp, Skopeo193InspectVerbatim) {
  Root193 root;
  Inspect193 inspect;
  inspect.fs.set_parent(&root.fs);
  EXPECT_EQ(command_help("skopeo", inspect_help_193(), inspect.fs), kInspectHelp193);
}

TEST(CommandHelp, ProgramNameIsConfigurable) {
  Root193 root;
  Inspect193 inspect;
  inspect.fs.set_parent(&root.fs);
  const std::string help = command_help("ferry", inspect_help_193(), inspect.fs);
  EXPECT_NE(help.find("\nUsage:\nferry inspect [command options] IMAGE-NAME\n"), std::string::npos);
}

TEST(CommandHelp, WithoutInheritedFlagsThereIsNoExtraBlankLine) {
  Inspect193 inspect;
  const std::string help = command_help("skopeo", inspect_help_193(), inspect.fs);
  const std::string tail = "Username for accessing the registry\n";
  ASSERT_GE(help.size(), tail.size());
  EXPECT_EQ(help.substr(help.size() - tail.size()), tail);
}

TEST(CommandHelp, ShortDescriptionWhenNoLongOne) {
  FlagSet fs("x");
  CommandHelp h;
  h.use = "x ARG";
  h.short_desc = "Does x  \n\t";
  EXPECT_EQ(command_help("p", h, fs),
            "Does x\n\nUsage:\np x ARG\n\nFlags:\n  -h, --help   help for x\n");
}

// `skopeo copy --help` of 1.9.3: the Flags block, from the definitions in
// skopeo's copy.go and utils.go (hidden --screds/--dcreds/--tls-verify too).
TEST(CommandHelp, Skopeo193CopyFlagsBlock) {
  struct {
    std::vector<std::string> additional_tags, decryption_keys, encryption_keys;
    std::vector<int64_t> encrypt_layer;
    bool all = false, quiet = false, remove_signatures = false, preserve_digests = false;
    std::string authfile, digestfile, sign_by, sign_by_key, sign_passphrase_file, sign_identity;
    OptionalString format, multi_arch;
    int64_t retry_times = 0;
    std::optional<bool> deprecated_tls;
  } o;
  struct Side {
    OptionalString authfile, creds, username, password, token;
    std::string cert_dir, shared_blob_dir, daemon_host, compress_format;
    std::optional<bool> tls_verify;
    bool no_creds = false, compress = false, decompress = false, oci_uncompressed = false,
         precompute = false;
    OptionalInt compress_level;
  } src, dest;
  FlagSet fs("copy");
  fs.add_string_slice("additional-tag", 0, &o.additional_tags,
                      "additional tags (supports docker-archive)");
  fs.add_bool("all", 'a', &o.all, "Copy all images if SOURCE-IMAGE is a list");
  fs.add_string("authfile", 0, &o.authfile,
                "path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json");
  fs.add_optional_bool("tls-verify", 0, &o.deprecated_tls,
                       "require HTTPS and verify certificates when accessing the container registry")
      .hidden = true;
  for (auto [side, prefix, alias] :
       {std::tuple{&src, "src-", "screds"}, std::tuple{&dest, "dest-", "dcreds"}}) {
    const std::string p = prefix;
    fs.add_optional_string(p + "authfile", 0, &side->authfile,
                           "path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json");
    fs.add_optional_string(p + "creds", 0, &side->creds,
                           "Use `USERNAME[:PASSWORD]` for accessing the registry");
    fs.add_optional_string(p + "username", 0, &side->username, "Username for accessing the registry");
    fs.add_optional_string(p + "password", 0, &side->password, "Password for accessing the registry");
    fs.add_alias(alias, p + "creds");
    fs.add_optional_string(p + "registry-token", 0, &side->token,
                           "Provide a Bearer token for accessing the registry");
    fs.add_string(p + "cert-dir", 0, &side->cert_dir,
                  "use certificates at `PATH` (*.crt, *.cert, *.key) to connect to the registry or daemon");
    fs.add_optional_bool(p + "tls-verify", 0, &side->tls_verify,
                         "require HTTPS and verify certificates when talking to the container registry or daemon");
    fs.add_bool(p + "no-creds", 0, &side->no_creds, "Access the registry anonymously");
    fs.add_string(p + "shared-blob-dir", 0, &side->shared_blob_dir,
                  "`DIRECTORY` to use to share blobs across OCI repositories");
    fs.add_string(p + "daemon-host", 0, &side->daemon_host,
                  "use docker daemon host at `HOST` (docker-daemon: only)");
  }
  fs.add_bool("dest-compress", 0, &dest.compress,
              "Compress tarball image layers when saving to directory using the 'dir' transport. "
              "(default is same compression type as source)");
  fs.add_bool("dest-decompress", 0, &dest.decompress,
              "Decompress tarball image layers when saving to directory using the 'dir' transport. "
              "(default is same compression type as source)");
  fs.add_bool("dest-oci-accept-uncompressed-layers", 0, &dest.oci_uncompressed,
              "Allow uncompressed image layers when saving to an OCI image using the 'oci' transport. "
              "(default is to compress things that aren't compressed)");
  fs.add_string("dest-compress-format", 0, &dest.compress_format, "`FORMAT` to use for the compression");
  fs.add_optional_int("dest-compress-level", 0, &dest.compress_level, "`LEVEL` to use for the compression");
  fs.add_bool("dest-precompute-digests", 0, &dest.precompute,
              "Precompute digests to prevent uploading layers already on the registry using the "
              "'docker' transport.");
  fs.add_int("retry-times", 0, &o.retry_times, "the number of times to possibly retry");
  fs.add_bool("remove-signatures", 0, &o.remove_signatures, "Do not copy signatures from SOURCE-IMAGE");
  fs.add_string("sign-by", 0, &o.sign_by, "Sign the image using a GPG key with the specified `FINGERPRINT`");
  fs.add_string("sign-by-sigstore-private-key", 0, &o.sign_by_key,
                "Sign the image using a sigstore private key at `PATH`");
  fs.add_string("sign-passphrase-file", 0, &o.sign_passphrase_file,
                "Read a passphrase for signing an image from `PATH`");
  fs.add_optional_string("format", 'f', &o.format,
                         "MANIFEST TYPE (oci, v2s1, or v2s2) to use in the destination (default is "
                         "manifest type of source, with fallbacks)");
  fs.add_bool("preserve-digests", 0, &o.preserve_digests, "Preserve digests of images and lists");
  fs.add_string("digestfile", 0, &o.digestfile, "Write the digest of the pushed image to the specified file");
  fs.add_bool("quiet", 'q', &o.quiet, "Suppress output information when copying images");
  fs.add_string("sign-identity", 0, &o.sign_identity,
                "Identity of signed image, must be a fully specified docker reference. Defaults to "
                "the target docker reference.");
  fs.add_optional_string("multi-arch", 0, &o.multi_arch,
                         "How to handle multi-architecture images (system, all, or index-only)");
  fs.add_string_slice("encryption-key", 0, &o.encryption_keys,
                      "*Experimental* key with the encryption protocol to use needed to encrypt the "
                      "image (e.g. jwe:/path/to/key.pem)");
  fs.add_int_slice("encrypt-layer", 0, &o.encrypt_layer,
                   "*Experimental* the 0-indexed layer indices, with support for negative indexing "
                   "(e.g. 0 is the first layer, -1 is the last layer)");
  fs.add_string_slice("decryption-key", 0, &o.decryption_keys,
                      "*Experimental* key needed to decrypt the image");

  EXPECT_EQ(fs.usages(),
      R"(      --additional-tag strings                additional tags (supports docker-archive)
  -a, --all                                   Copy all images if SOURCE-IMAGE is a list
      --authfile string                       path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json
      --decryption-key strings                *Experimental* key needed to decrypt the image
      --dest-authfile string                  path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json
      --dest-cert-dir PATH                    use certificates at PATH (*.crt, *.cert, *.key) to connect to the registry or daemon
      --dest-compress                         Compress tarball image layers when saving to directory using the 'dir' transport. (default is same compression type as source)
      --dest-compress-format FORMAT           FORMAT to use for the compression
      --dest-compress-level LEVEL             LEVEL to use for the compression
      --dest-creds USERNAME[:PASSWORD]        Use USERNAME[:PASSWORD] for accessing the registry
      --dest-daemon-host HOST                 use docker daemon host at HOST (docker-daemon: only)
      --dest-decompress                       Decompress tarball image layers when saving to directory using the 'dir' transport. (default is same compression type as source)
      --dest-no-creds                         Access the registry anonymously
      --dest-oci-accept-uncompressed-layers   Allow uncompressed image layers when saving to an OCI image using the 'oci' transport. (default is to compress things that aren't compressed)
      --dest-password string                  Password for accessing the registry
      --dest-precompute-digests               Precompute digests to prevent uploading layers already on the registry using the 'docker' transport.
      --dest-registry-token string            Provide a Bearer token for accessing the registry
      --dest-shared-blob-dir DIRECTORY        DIRECTORY to use to share blobs across OCI repositories
      --dest-tls-verify                       require HTTPS and verify certificates when talking to the container registry or daemon
      --dest-username string                  Username for accessing the registry
      --digestfile string                     Write the digest of the pushed image to the specified file
      --encrypt-layer ints                    *Experimental* the 0-indexed layer indices, with support for negative indexing (e.g. 0 is the first layer, -1 is the last layer)
      --encryption-key strings                *Experimental* key with the encryption protocol to use needed to encrypt the image (e.g. jwe:/path/to/key.pem)
  -f, --format string                         MANIFEST TYPE (oci, v2s1, or v2s2) to use in the destination (default is manifest type of source, with fallbacks)
  -h, --help                                  help for copy
      --multi-arch string                     How to handle multi-architecture images (system, all, or index-only)
      --preserve-digests                      Preserve digests of images and lists
  -q, --quiet                                 Suppress output information when copying images
      --remove-signatures                     Do not copy signatures from SOURCE-IMAGE
      --retry-times int                       the number of times to possibly retry
      --sign-by FINGERPRINT                   Sign the image using a GPG key with the specified FINGERPRINT
      --sign-by-sigstore-private-key PATH     Sign the image using a sigstore private key at PATH
      --sign-identity string                  Identity of signed image, must be a fully specified docker reference. Defaults to the target docker reference.
      --sign-passphrase-file PATH             Read a passphrase for signing an image from PATH
      --src-authfile string                   path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json
      --src-cert-dir PATH                     use certificates at PATH (*.crt, *.cert, *.key) to connect to the registry or daemon
      --src-creds USERNAME[:PASSWORD]         Use USERNAME[:PASSWORD] for accessing the registry
      --src-daemon-host HOST                  use docker daemon host at HOST (docker-daemon: only)
      --src-no-creds                          Access the registry anonymously
      --src-password string                   Password for accessing the registry
      --src-registry-token string             Provide a Bearer token for accessing the registry
      --src-shared-blob-dir DIRECTORY         DIRECTORY to use to share blobs across OCI repositories
      --src-tls-verify                        require HTTPS and verify certificates when talking to the container registry or daemon
      --src-username string                   Username for accessing the registry
)");
  // The hidden alias still works.
  fs.parse({"--dcreds=u:p"});
  EXPECT_EQ(dest.creds.value, "u:p");
}

std::vector<CommandHelp> skopeo193_commands() {
  auto cmd = [](std::string use, std::string short_desc, bool hidden = false) {
    CommandHelp h;
    h.use = std::move(use);
    h.short_desc = std::move(short_desc);
    h.hidden = hidden;
    return h;
  };
  return {
      cmd("copy [command options] SOURCE-IMAGE DESTINATION-IMAGE",
          "Copy an IMAGE-NAME from one location to another"),
      cmd("delete [command options] IMAGE-NAME", "Delete image IMAGE-NAME"),
      cmd("inspect [command options] IMAGE-NAME", "Inspect image IMAGE-NAME"),
      cmd("layers [command options] IMAGE-NAME [LAYER...]", "Get layers of IMAGE-NAME", true),
      cmd("login [command options] REGISTRY", "Login to a container registry"),
      cmd("logout [command options] REGISTRY", "Logout of a container registry"),
      cmd("manifest-digest MANIFEST-FILE", "Compute a manifest digest of a file"),
      cmd("experimental-image-proxy [command options] IMAGE", "Interactive proxy for fetching container images (EXPERIMENTAL)", true),
      cmd("sync [command options] SOURCE DESTINATION",
          "Synchronize one or more images from one location to another"),
      cmd("standalone-sign [command options] MANIFEST DOCKER-REFERENCE KEY-FINGERPRINT --output|-o SIGNATURE",
          "Create a signature using local files"),
      cmd("standalone-verify MANIFEST DOCKER-REFERENCE KEY-FINGERPRINTS SIGNATURE",
          "Verify a signature using local files"),
      cmd("list-tags [command options] SOURCE-IMAGE",
          "List tags in the transport/repository specified by the SOURCE-IMAGE"),
      cmd("untrusted-signature-dump-without-verification SIGNATURE",
          "Dump contents of a signature WITHOUT VERIFYING IT", true),
      cmd("completion", "Generate the autocompletion script for the specified shell", true),
      cmd("help [command]", "Help about any command"),
  };
}

// `skopeo --help` of skopeo 1.9.3, verbatim.
constexpr const char* kRootHelp193 =
    R"(Various operations with container images and container image registries

Usage:
  skopeo [flags]
  skopeo [command]

Available Commands:
  copy                                          Copy an IMAGE-NAME from one location to another
  delete                                        Delete image IMAGE-NAME
  help                                          Help about any command
  inspect                                       Inspect image IMAGE-NAME
  list-tags                                     List tags in the transport/repository specified by the SOURCE-IMAGE
  login                                         Login to a container registry
  logout                                        Logout of a container registry
  manifest-digest                               Compute a manifest digest of a file
  standalone-sign                               Create a signature using local files
  standalone-verify                             Verify a signature using local files
  sync                                          Synchronize one or more images from one location to another

Flags:
      --command-timeout duration   timeout for the command execution
      --debug                      enable debug output
  -h, --help                       help for skopeo
      --insecure-policy            run the tool without any policy check
      --override-arch ARCH         use ARCH instead of the architecture of the machine for choosing images
      --override-os OS             use OS instead of the running OS for choosing images
      --override-variant VARIANT   use VARIANT instead of the running architecture variant for choosing images
      --policy string              Path to a trust policy file
      --registries.d DIR           use registry configuration files in DIR (e.g. for container signature storage)
      --tmpdir string              directory used to store temporary files
  -v, --version                    Version for Skopeo

Use "skopeo [command] --help" for more information about a command.
)";

TEST(RootHelp, Skopeo193Verbatim) {
  Root193 root;
  CommandHelp info;
  info.use = "skopeo";
  info.long_desc = "Various operations with container images and container image registries";
  EXPECT_EQ(root_help("skopeo", info, root.fs, skopeo193_commands()), kRootHelp193);
}

TEST(RootHelp, NarrowCommandColumnHasCobrasMinimum) {
  FlagSet fs("p");
  CommandHelp info;
  info.short_desc = "Short only";
  CommandHelp a;
  a.use = "a X";
  a.short_desc = "does a";
  const std::string help = root_help("p", info, fs, {a});
  EXPECT_EQ(help,
            "Short only\n\nUsage:\n  p [flags]\n  p [command]\n\nAvailable Commands:\n"
            "  a           does a\n\nFlags:\n  -h, --help   help for p\n\n"
            "Use \"p [command] --help\" for more information about a command.\n");
}

// ---------------------------------------------------------------------------
// traverse(): global flags around the subcommand, as cobra with
// TraverseChildren (skopeo's root) finds them.

struct Cli {
  Root193 root;
  Inspect193 inspect;
  Invocation inv;
  Args positionals;

  static bool is_command(std::string_view w) {
    return w == "inspect" || w == "copy" || w == "help" || w == "completion";
  }

  // Runs like skopeo: traverse, then the subcommand's (or root's) parse.
  // Returns the error text, or "" on success.
  std::string run(const Args& argv) {
    try {
      inv = traverse(root.fs, argv, is_command);
      if (inv.command.empty()) {
        positionals = root.fs.parse(inv.args);
      } else {
        inspect.fs.set_parent(&root.fs);
        positionals = inspect.fs.parse(inv.args);
      }
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST(Traverse, GlobalFlagsBeforeAndAfterTheCommand) {
  Cli cli;
  EXPECT_EQ(cli.run({"--debug", "--policy", "/p.json", "inspect", "--override-arch=arm64",
                     "docker://x", "--command-timeout", "5s"}),
            "");
  EXPECT_EQ(cli.inv.command, "inspect");
  EXPECT_EQ(cli.positionals, Args{"docker://x"});
  EXPECT_TRUE(cli.root.debug);
  EXPECT_EQ(cli.root.policy, "/p.json");
  EXPECT_EQ(cli.root.override_arch, "arm64");
  EXPECT_EQ(cli.root.command_timeout, std::chrono::seconds(5));
}

TEST(Traverse, RootLocalFlagsOnlyBeforeTheCommand) {
  Cli before;
  EXPECT_EQ(before.run({"--tls-verify=false", "inspect", "x"}), "");
  EXPECT_EQ(before.root.tls_verify, false);
  EXPECT_EQ(before.inspect.tls_verify, std::nullopt);
  Cli after;
  EXPECT_EQ(after.run({"inspect", "--tls-verify=false", "x"}), "");
  EXPECT_EQ(after.root.tls_verify, std::nullopt);
  EXPECT_EQ(after.inspect.tls_verify, false);
  Cli version;
  EXPECT_EQ(version.run({"inspect", "x", "--version"}), "unknown flag: --version");
  EXPECT_EQ(version.run({"inspect", "-v"}), "unknown shorthand flag: 'v' in -v");
}

TEST(Traverse, ValueTakingFlagSwallowsTheNextWord) {
  // `--policy inspect x`: "inspect" is --policy's value, "x" is no command.
  Cli cli;
  EXPECT_EQ(cli.run({"--debug", "--policy", "inspect", "x"}), "");
  EXPECT_EQ(cli.inv.command, "");
  EXPECT_EQ(cli.root.policy, "inspect");
  EXPECT_EQ(cli.positionals, Args{"x"});
}

TEST(Traverse, BoolFollowedByFalseIsNotItsValue) {
  Cli cli;
  EXPECT_EQ(cli.run({"--tls-verify", "false", "inspect"}), "");
  EXPECT_EQ(cli.inv.command, "");
  EXPECT_EQ(cli.positionals, (Args{"false", "inspect"}));
}

TEST(Traverse, HelpBeforeTheCommand) {
  // cobra has no root help flag yet while traversing: --help takes "inspect"
  // as its value, then the root parse shows the root help.
  Cli cli;
  EXPECT_EQ(cli.run({"--help", "inspect"}), "");
  EXPECT_EQ(cli.inv.command, "");
  EXPECT_TRUE(cli.root.fs.help_requested());
  Cli short_form;
  EXPECT_EQ(short_form.run({"-h", "inspect"}), "");
  EXPECT_TRUE(short_form.root.fs.help_requested());
  // Forms that do not swallow the command fail as in skopeo.
  EXPECT_EQ(Cli().run({"--help=false", "inspect", "x"}), "pflag: help requested");
  EXPECT_EQ(Cli().run({"-vh", "inspect", "x"}), "pflag: help requested");
  EXPECT_EQ(Cli().run({"--help", "--bogus", "inspect", "x"}), "unknown flag: --bogus");
}

TEST(Traverse, HelpAfterTheCommand) {
  Cli cli;
  EXPECT_EQ(cli.run({"inspect", "--help"}), "");
  EXPECT_EQ(cli.inv.command, "inspect");
  EXPECT_TRUE(cli.inspect.fs.help_requested());
  EXPECT_FALSE(cli.root.fs.help_requested());
  EXPECT_EQ(Cli().run({"inspect", "--help", "--bogus"}), "unknown flag: --bogus");
}

TEST(Traverse, ErrorsInGlobalFlagsBeforeTheCommand) {
  EXPECT_EQ(Cli().run({"--debug=x", "inspect", "foo"}),
            "invalid argument \"x\" for \"--debug\" flag: strconv.ParseBool: parsing \"x\": "
            "invalid syntax");
  EXPECT_EQ(Cli().run({"--bogus", "inspect", "x"}), "unknown flag: --bogus");
  EXPECT_EQ(Cli().run({"--command-timeout=x", "inspect"}),
            "invalid argument \"x\" for \"--command-timeout\" flag: time: invalid duration \"x\"");
}

TEST(Traverse, NoCommand) {
  Cli empty;
  EXPECT_EQ(empty.run({}), "");
  EXPECT_EQ(empty.inv.command, "");
  EXPECT_EQ(empty.positionals, Args{});
  Cli unknown;
  EXPECT_EQ(unknown.run({"--debug", "inspecc", "x"}), "");
  EXPECT_EQ(unknown.inv.command, "");
  EXPECT_EQ(unknown.positionals, (Args{"inspecc", "x"}));
  // "--" is taken for a flag expecting a value, so "inspect" is that value.
  Cli dashdash;
  EXPECT_EQ(dashdash.run({"--", "inspect", "x"}), "");
  EXPECT_EQ(dashdash.inv.command, "");
  EXPECT_EQ(dashdash.positionals, (Args{"inspect", "x"}));
  // Not a flag (newer cobra): "a-b" is looked up as a command.
  Cli dashed;
  EXPECT_EQ(dashed.run({"a-b", "inspect"}), "");
  EXPECT_EQ(dashed.inv.command, "");
}

TEST(Traverse, FlagWithEqualsBeforeCommand) {
  Cli cli;
  EXPECT_EQ(cli.run({"--policy=p", "-v", "inspect", "x"}), "");
  EXPECT_EQ(cli.inv.command, "inspect");
  EXPECT_EQ(cli.root.policy, "p");
  EXPECT_TRUE(cli.root.version);
  EXPECT_EQ(cli.inv.args, Args{"x"});
}

TEST(Traverse, InheritedFlagsShadowedByLocalOnes) {
  // A subcommand flag of the same name wins over the persistent one.
  bool local_debug = false;
  Root193 root;
  FlagSet cmd("c");
  cmd.add_bool("debug", 0, &local_debug, "");
  cmd.set_parent(&root.fs);
  cmd.parse({"--debug"});
  EXPECT_TRUE(local_debug);
  EXPECT_FALSE(root.debug);
}

TEST(FlagSet, ParentCycleIsRejected) {
  FlagSet a("a"), b("b");
  a.set_parent(&b);
  EXPECT_THROW(b.set_parent(&a), std::logic_error);
  EXPECT_THROW(a.set_parent(&a), std::logic_error);
}

TEST(FlagSet, DefinitionErrorsAreProgrammerErrors) {
  bool v = false;
  FlagSet fs("x");
  fs.add_bool("v", 'v', &v, "");
  EXPECT_THROW(fs.add_bool("v", 0, &v, ""), std::logic_error);
  EXPECT_THROW(fs.add_bool("w", 'v', &v, ""), std::logic_error);
  EXPECT_THROW(fs.add_bool("", 0, &v, ""), std::logic_error);
  EXPECT_THROW(fs.add_bool("a=b", 0, &v, ""), std::logic_error);
  EXPECT_THROW(fs.add_alias("z", "nope"), std::logic_error);
}

TEST(ProgramName, SkopeoOnlyByName) {
  EXPECT_EQ(program_name("skopeo"), "skopeo");
  EXPECT_EQ(program_name("/usr/local/bin/skopeo"), "skopeo");
  EXPECT_EQ(program_name("/usr/bin/ferry"), "ferry");
  EXPECT_EQ(program_name("skopeo2"), "ferry");
  EXPECT_EQ(program_name("/skopeo/ferry"), "ferry");
  EXPECT_EQ(program_name(""), "ferry");
}

}  // namespace
}  // namespace ferry::cli
