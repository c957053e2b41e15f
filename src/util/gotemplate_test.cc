#include "util/gotemplate.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::gotemplate {
namespace {

// skopeo inspect's Output struct as JSON, every field present.
const Json& sample() {
  static const Json data = Json::parse(R"({
    "Name": "docker.io/library/alpine",
    "Tag": "",
    "Digest": "sha256:abc",
    "RepoTags": ["3.19", "latest"],
    "Created": "2024-01-02T03:04:05.120000000Z",
    "DockerVersion": "",
    "Labels": {"b": "2", "a": "1", "x<y": "a&b"},
    "Architecture": "amd64",
    "Os": "linux",
    "Layers": ["sha256:l1", "sha256:l2"],
    "LayersData": [
      {"MIMEType": "application/vnd.oci.image.layer.v1.tar+gzip", "Digest": "sha256:l1", "Size": 123, "Annotations": null},
      {"MIMEType": "application/vnd.oci.image.layer.v1.tar+zstd", "Digest": "sha256:l2", "Size": -1, "Annotations": {"k": "v"}}
    ],
    "Env": null
  })");
  return data;
}

const TypeHints& hints() {
  static const TypeHints h{
      {"/Name", GoKind::OmitEmpty},
      {"/Tag", GoKind::OmitEmpty},
      {"/Created", GoKind::Time},
      {"/Labels", GoKind::Map},
      {"/LayersData/*/Annotations", GoKind::Map},
      {"/Env", GoKind::Slice},
  };
  return h;
}

std::string r(const std::string& tmpl) { return render(tmpl, sample(), hints()); }

std::string err(const std::string& tmpl, const Json& data = sample()) {
  try {
    render(tmpl, data, hints());
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "no error";
}

TEST(GoTemplate, TextAndFields) {
  EXPECT_EQ(r(""), "");
  EXPECT_EQ(r("plain text"), "plain text");
  EXPECT_EQ(r("{{.Name}}"), "docker.io/library/alpine");
  EXPECT_EQ(r("{{ .Os }}/{{.Architecture}}"), "linux/amd64");
  EXPECT_EQ(r("{{(index .LayersData 1).Annotations.k}}"), "v");
  EXPECT_EQ(r("{{$.Os}}{{$}}"), "linux" + r("{{.}}"));
  EXPECT_EQ(r("{{.Tag}}|"), "|");
}

TEST(GoTemplate, TrimMarkersAndComments) {
  EXPECT_EQ(r("a  \n {{- .Os -}} \n  b"), "alinuxb");
  EXPECT_EQ(r("a {{- /* comment */ -}} b"), "ab");
  EXPECT_EQ(r("a {{/* comment */}} b"), "a  b");
  EXPECT_EQ(r("{{-3}}"), "-3");  // no space: a number, not a trim marker
  EXPECT_EQ(r("x {{- 3 }}"), "x3");
  EXPECT_EQ(r("{{/* a\nmulti-line\ncomment */}}z"), "z");
}

TEST(GoTemplate, Variables) {
  EXPECT_EQ(r("{{$x := .Os}}{{$x}}{{$x = \"mac\"}}{{$x}}"), "linuxmac");
  EXPECT_EQ(r("{{range $i, $v := .RepoTags}}{{$i}}:{{$v}} {{end}}"), "0:3.19 1:latest ");
  EXPECT_EQ(r("{{range $v := .RepoTags}}{{$v}},{{end}}"), "3.19,latest,");
  EXPECT_EQ(r("{{$n := 0}}{{range $i, $v := .Layers}}{{$n = $i}}{{end}}{{$n}}"), "1");
  EXPECT_EQ(r("{{with $x := .Os}}{{$x}}{{end}}"), "linux");
  EXPECT_EQ(r("{{range .RepoTags}}{{$.Os}}{{end}}"), "linuxlinux");
}

TEST(GoTemplate, Conditionals) {
  EXPECT_EQ(r("{{if .Name}}y{{else}}n{{end}}"), "y");
  EXPECT_EQ(r("{{if .DockerVersion}}y{{else}}n{{end}}"), "n");
  EXPECT_EQ(r("{{if eq .Os \"mac\"}}m{{else if eq .Os \"linux\"}}l{{else}}o{{end}}"), "l");
  EXPECT_EQ(r("{{with .Labels.a}}[{{.}}]{{else}}none{{end}}"), "[1]");
  EXPECT_EQ(r("{{with .Labels.zz}}[{{.}}]{{else}}none{{end}}"), "none");
  EXPECT_EQ(r("{{with .Env}}x{{else with .Layers}}{{len .}}{{end}}"), "2");
  EXPECT_EQ(r("{{if .Env}}x{{end}}{{if .Labels}}L{{end}}{{if .Created}}C{{end}}"), "LC");
}

TEST(GoTemplate, Range) {
  EXPECT_EQ(r("{{range .RepoTags}}<{{.}}>{{end}}"), "<3.19><latest>");
  EXPECT_EQ(r("{{range .Env}}x{{else}}empty{{end}}"), "empty");
  EXPECT_EQ(r("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}"), "a=1;b=2;x<y=a&b;");
  EXPECT_EQ(r("{{range .Labels}}{{.}}{{end}}"), "12a&b");
  EXPECT_EQ(r("{{range .Labels.missing}}x{{else}}e{{end}}"), "e");
  EXPECT_EQ(r("{{range .RepoTags}}{{if eq . \"3.19\"}}{{continue}}{{end}}{{.}}{{end}}"), "latest");
  EXPECT_EQ(r("{{range .RepoTags}}{{.}}{{break}}{{end}}"), "3.19");
  EXPECT_EQ(r("{{range 3}}{{.}}{{end}}"), "012");
  EXPECT_EQ(r("{{range .LayersData}}{{.Size}} {{end}}"), "123 -1 ");
  EXPECT_EQ(err("{{range .Os}}{{end}}"),
            "template: format:1:8: executing \"format\" at <.Os>: range can't iterate over linux");
}

TEST(GoTemplate, BreakInRangeElseEndsOnlyThatRange) {
  // Go recovers the {{break}} in the inner range's else branch there.
  EXPECT_EQ(r("{{range .RepoTags}}{{range $.Env}}{{else}}{{break}}{{end}}{{.}};{{end}}"), "3.19;latest;");
  EXPECT_EQ(r("{{range .RepoTags}}{{range $.Env}}{{else}}{{continue}}{{end}}{{.}};{{end}}"), "");
}

TEST(GoTemplate, EmbeddedStruct) {
  // v1.Image embeds Platform: fields are promoted, printing nests, json inlines.
  Json image = Json::parse(R"({"Author": "me", "Platform": {"Architecture": "arm64", "OS": "linux"},
                               "Config": {"User": "", "Env": ["A=1"]}})");
  TypeHints h{{"/Platform", GoKind::Embedded}, {"/Config/User", GoKind::OmitEmpty}};
  EXPECT_EQ(render("{{.Architecture}}/{{.OS}} {{.Platform.OS}}", image, h), "arm64/linux linux");
  EXPECT_EQ(render("{{.}}", image, h), "{me {arm64 linux} { [A=1]}}");
  EXPECT_EQ(render("{{json .}}", image, h),
            "{\"Author\":\"me\",\"Architecture\":\"arm64\",\"OS\":\"linux\",\"Config\":{\"Env\":[\"A=1\"]}}");
  EXPECT_THROW(render("{{.Variant}}", image, h), TemplateError);
}

TEST(GoTemplate, DefineTemplateBlock) {
  EXPECT_EQ(r("{{define \"t\"}}[{{.}}]{{end}}{{template \"t\" .Os}}{{template \"t\"}}"), "[linux][<no value>]");
  EXPECT_EQ(r("{{block \"b\" .Architecture}}<{{.}}>{{end}}"), "<amd64>");
  EXPECT_EQ(err("{{template \"nope\"}}"),
            "template: format:1:11: executing \"format\" at <{{template \"nope\"}}>: template \"nope\" not defined");
  EXPECT_EQ(err("{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}"),
            "template: format:1:25: executing \"a\" at <{{template \"a\"}}>: exceeded maximum template depth (500)");
}

TEST(GoTemplate, GoValuePrinting) {
  EXPECT_EQ(r("{{.RepoTags}}"), "[3.19 latest]");
  EXPECT_EQ(r("{{.Labels}}"), "map[a:1 b:2 x<y:a&b]");
  EXPECT_EQ(r("{{.Env}}"), "[]");  // nil []string
  EXPECT_EQ(r("{{(index .LayersData 0).Annotations}}"), "map[]");  // nil map
  EXPECT_EQ(r("{{index .LayersData 1}}"),
            "{application/vnd.oci.image.layer.v1.tar+zstd sha256:l2 -1 map[k:v]}");
  EXPECT_EQ(r("{{printf \"%+v\" (index .LayersData 1)}}"),
            "{MIMEType:application/vnd.oci.image.layer.v1.tar+zstd Digest:sha256:l2 Size:-1 Annotations:map[k:v]}");
  EXPECT_EQ(r("{{.Created}}"), "2024-01-02 03:04:05.12 +0000 UTC");
  EXPECT_EQ(r("{{.}}"),
            "{docker.io/library/alpine  sha256:abc [3.19 latest] 2024-01-02 03:04:05.12 +0000 UTC  "
            "map[a:1 b:2 x<y:a&b] amd64 linux [sha256:l1 sha256:l2] "
            "[{application/vnd.oci.image.layer.v1.tar+gzip sha256:l1 123 map[]} "
            "{application/vnd.oci.image.layer.v1.tar+zstd sha256:l2 -1 map[k:v]}] []}");
  EXPECT_EQ(r("{{true}} {{false}} {{1.5}} {{2e6}} {{100000.0}} {{1e21}} {{0.0001}} {{0.00001}} {{-0.5}}"),
            "true false 1.5 2e+06 100000 1e+21 0.0001 1e-05 -0.5");
  EXPECT_EQ(r("{{0x1F}} {{1_000}} {{0o17}} {{017}} {{0b101}} {{'a'}} {{1.5e3}}"), "31 1000 15 15 5 97 1500");
}

TEST(GoTemplate, MissingValues) {
  EXPECT_EQ(r("{{.Labels.missing}}"), "<no value>");
  EXPECT_EQ(r("{{.Labels.missing.deeper}}"), "<no value>");
  EXPECT_EQ(r("{{print .Labels.missing}}"), "<nil>");
  EXPECT_EQ(r("{{index .Labels \"missing\"}}|"), "|");  // zero value of the element type
  EXPECT_EQ(r("{{eq .Labels.missing \"x\"}}"), "false");
  Json data = {{"Created", nullptr}, {"Any", nullptr}};
  EXPECT_EQ(render("{{.Created}}|{{.Any}}", data, {{"/Created", GoKind::Time}}), "<nil>|<no value>");
  EXPECT_EQ(err("{{.Any.X}}", data),
            "template: format:1:6: executing \"format\" at <.Any.X>: nil pointer evaluating interface {}.X");
}

TEST(GoTemplate, TimeValues) {
  TypeHints h{{"/T", GoKind::Time}};
  auto t = [&](const std::string& v, const std::string& tmpl = "{{.T}}") {
    return render(tmpl, Json{{"T", v}}, h);
  };
  EXPECT_EQ(t("2024-01-01T00:00:00Z"), "2024-01-01 00:00:00 +0000 UTC");
  EXPECT_EQ(t("2024-01-01T00:00:00.123456789Z"), "2024-01-01 00:00:00.123456789 +0000 UTC");
  EXPECT_EQ(t("2024-01-01T00:00:00.100Z"), "2024-01-01 00:00:00.1 +0000 UTC");
  EXPECT_EQ(t("2024-01-01T02:00:00+02:00"), "2024-01-01 02:00:00 +0200 +0200");
  EXPECT_EQ(t("2024-01-01T02:00:00-05:30"), "2024-01-01 02:00:00 -0530 -0530");
  EXPECT_EQ(t("2024-01-01T02:00:00+00:00"), "2024-01-01 02:00:00 +0000 UTC");
  EXPECT_EQ(t("2024-03-05T07:08:09+02:00", "{{.T.Format \"2006-01-02T15:04:05Z07:00 Mon Jan _2 3PM\"}}"),
            "2024-03-05T07:08:09+02:00 Tue Mar  5 7AM");
  EXPECT_EQ(t("2024-03-05T07:08:09Z", "{{.T.Year}} {{.T.Month}} {{.T.Day}} {{.T.Weekday}} {{.T.Unix}}"),
            "2024 March 5 Tuesday 1709622489");
  EXPECT_EQ(t("2024-03-05T01:00:00+02:00", "{{.T.UTC}}"), "2024-03-04 23:00:00 +0000 UTC");
  EXPECT_EQ(t("2024-03-05T07:08:09Z", "{{printf \"%d\" .T.Month}} {{json .T}}"), "3 \"2024-03-05T07:08:09Z\"");
}

TEST(GoTemplate, NilTimeMethodIsAnError) {
  TypeHints h{{"/T", GoKind::Time}};
  try {
    render("{{.T.Year}}", Json{{"T", nullptr}}, h);
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(),
                 "template: format:1:4: executing \"format\" at <.T.Year>: error calling Year: runtime error: "
                 "invalid memory address or nil pointer dereference");
  }
}

TEST(GoTemplate, Builtins) {
  EXPECT_EQ(r("{{and 1 0}} {{and 1 2}} {{or 0 \"\"}} {{or 0 \"z\"}} {{not .Env}}"), "0 2  z true");
  EXPECT_EQ(r("{{len .RepoTags}} {{len .Labels}} {{len .Os}} {{len .Env}}"), "2 3 5 0");
  EXPECT_EQ(r("{{index .RepoTags 1}} {{index .Labels \"b\"}} {{index .Os 0}}"), "latest 2 108");
  EXPECT_EQ(r("{{slice .RepoTags 1}} {{slice .Os 1 3}} {{slice .Layers 0 1}}"), "[latest] in [sha256:l1]");
  EXPECT_EQ(r("{{eq 1 1}} {{eq \"a\" \"b\" \"a\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}}"),
            "true true true true true true false");
  EXPECT_EQ(r("{{eq (index .LayersData 0).Size 123}} {{lt -1 (index .LayersData 1).Size}}"), "true false");
  EXPECT_EQ(r("{{print \"a\" 1 2 \"b\" 3}}|{{println 1 \"a\"}}|"), "a1 2b3|1 a\n|");
  EXPECT_EQ(r("{{html \"<a href='x'>&\"}} {{js \"it's <b>\"}} {{urlquery \"a b&c\"}}"),
            "&lt;a href=&#39;x&#39;&gt;&amp; it\\'s \\u003Cb\\u003E a+b%26c");
  EXPECT_EQ(r("{{.Os | printf \"%s!\"}} {{\"a\" | printf \"%s%s\" \"b\"}}"), "linux! ba");
}

TEST(GoTemplate, Printf) {
  EXPECT_EQ(r("{{printf \"%-10s|%5d|%x|%X|%o|%b\" .Os 42 255 255 8 5}}"), "linux     |   42|ff|FF|10|101");
  EXPECT_EQ(r("{{printf \"%q %v %t %c %U %#x %+d % d %05d\" \"a\\\"b\" 3.0 true 65 65 255 5 5 -42}}"),
            "\"a\\\"b\" 3 true A U+0041 0xff +5  5 -0042");
  EXPECT_EQ(r("{{printf \"%.2f %e %g %8.3f %-8.1f| %08.3f\" 3.14159 1234.5 0.5 2.0 2.0 -3.14159}}"),
            "3.14 1.234500e+03 0.5    2.000 2.0     | -003.142");
  EXPECT_EQ(r("{{printf \"%.3s|%5.1s|%x|% x\" \"abcdef\" \"xyz\" \"hi\" \"hi\"}}"), "abc|    x|6869|68 69");
  EXPECT_EQ(r("{{printf \"%v %s %d\" .RepoTags .RepoTags .RepoTags}}"),
            "[3.19 latest] [3.19 latest] [%!d(string=3.19) %!d(string=latest)]");
  EXPECT_EQ(r("{{printf \"%d %s\" 1}}"), "1 %!s(MISSING)");
  EXPECT_EQ(r("{{printf \"%d\" 1 \"x\"}}"), "1%!(EXTRA string=x)");
  EXPECT_EQ(r("{{printf \"%s\" 5}} {{printf \"%z\" 1}} {{printf \"100%%\"}} {{printf \"%\"}}"),
            "%!s(int=5) %!z(int=1) 100% %!(NOVERB)");
  EXPECT_EQ(r("{{printf \"%[2]s %[1]s\" \"a\" \"b\"}} {{printf \"%*d\" 4 7}}"), "b a    7");
  EXPECT_EQ(r("{{printf \"%T %T %T %T\" 1 \"s\" .RepoTags .Labels}}"), "int string []string map[string]string");
  EXPECT_EQ(r("{{printf \"%v|%s\" .Labels.missing .Labels.missing}}"), "<nil>|%!s(<nil>)");
  EXPECT_EQ(r("{{printf \"%s\" .Created}}"), "2024-01-02 03:04:05.12 +0000 UTC");
}

TEST(GoTemplate, ReportFunctions) {
  EXPECT_EQ(r("{{json .Labels}}"), "{\"a\":\"1\",\"b\":\"2\",\"x<y\":\"a&b\"}");
  EXPECT_EQ(r("{{json .RepoTags}} {{json .Env}} {{json .Labels.missing}} {{json 1}} {{json .Os}}"),
            "[\"3.19\",\"latest\"] null null 1 \"linux\"");
  EXPECT_EQ(r("{{json (index .LayersData 0)}}"),
            "{\"MIMEType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"Digest\":\"sha256:l1\","
            "\"Size\":123,\"Annotations\":null}");
  // omitempty: Tag is "" and dropped; Name is kept.
  std::string all = r("{{json .}}");
  EXPECT_EQ(all.find("\"Tag\""), std::string::npos);
  EXPECT_EQ(all.rfind("{\"Name\":\"docker.io/library/alpine\",\"Digest\":\"sha256:abc\",", 0), 0u);
  EXPECT_NE(all.find("\"Created\":\"2024-01-02T03:04:05.12Z\""), std::string::npos);
  EXPECT_EQ(r("{{join .RepoTags \", \"}}|{{join .Env \",\"}}|{{join (split \"a:b:c\" \":\") \"-\"}}"),
            "3.19, latest||a-b-c");
  EXPECT_EQ(r("{{split \"a,b,,c\" \",\"}} {{split \"héj\" \"\"}} {{len (split \"\" \",\")}}"), "[a b  c] [h é j] 1");
  EXPECT_EQ(r("{{lower \"HeLLo ÄÖ\"}} {{upper \"hello äö\"}} {{title \"hello wORLD foo_bar x-y\"}}"),
            "hello äö HELLO ÄÖ Hello WORLD Foo_bar X-Y");
  EXPECT_EQ(r("[{{pad \"a\" 1 2}}][{{pad \"\" 3 3}}]"), "[ a  ][]");
  EXPECT_EQ(r("{{truncate .Name 6}} {{truncate .Os 100}} {{truncate .Os 0}}|"), "docker linux |");
  EXPECT_EQ(err("{{.Name | truncate 6}}"),
            "template: format:1:19: executing \"format\" at <6>: expected string; found 6");
}

TEST(GoTemplate, ParseErrors) {
  EXPECT_EQ(err("{{.Name"), "template: format:1: unclosed action");
  EXPECT_EQ(err("{{.Name}"), "template: format:1: bad character U+007D '}'");
  EXPECT_EQ(err("{{.Name }}}"), "no error");
  EXPECT_EQ(err("a\nb\n{{.Name\n\n"), "template: format:5: unclosed action started at format:3");
  EXPECT_EQ(err("{{foo .Name}}"), "template: format:1: function \"foo\" not defined");
  EXPECT_EQ(err("{{if .Name}}x"), "template: format:1: unexpected EOF");
  EXPECT_EQ(err("{{range .RepoTags}}\n{{.}}\n"), "template: format:3: unexpected EOF");
  EXPECT_EQ(err("{{end}}"), "template: format:1: unexpected {{end}}");
  EXPECT_EQ(err("{{else}}"), "template: format:1: unexpected {{else}}");
  EXPECT_EQ(err("{{if}}{{end}}"), "template: format:1: missing value for if");
  EXPECT_EQ(err("{{}}"), "template: format:1: missing value for command");
  EXPECT_EQ(err("{{$x}}"), "template: format:1: undefined variable \"$x\"");
  EXPECT_EQ(err("{{.A | 1}}"), "template: format:1: non executable command in pipeline stage 2");
  EXPECT_EQ(err("{{\"x\".y}}"), "template: format:1: unexpected . after term \"\\\"x\\\"\"");
  EXPECT_EQ(err("{{break}}"), "template: format:1: {{break}} outside {{range}}");
  EXPECT_EQ(err("{{range $a, $b, $c := .X}}{{end}}"), "template: format:1: too many declarations in range");
  EXPECT_EQ(err("{{/* x"), "template: format:1: unclosed comment");
  EXPECT_EQ(err("{{/* x */ }}"), "template: format:1: comment ends before closing delimiter");
  EXPECT_EQ(err("{{\"abc}}"), "template: format:1: unterminated quoted string");
  EXPECT_EQ(err("{{(.Name}}"), "template: format:1: unclosed left paren");
  EXPECT_EQ(err("{{.Name)}}"), "template: format:1: unexpected right paren");
  EXPECT_EQ(err("{{3x}}"), "template: format:1: bad number syntax: \"3x\"");
  EXPECT_EQ(err("{{99999999999999999999}}"), "template: format:1: integer overflow: \"99999999999999999999\"");
  EXPECT_EQ(err("{{1e400}}"), "template: format:1: illegal number syntax: \"1e400\"");
  EXPECT_EQ(err("{{.Name | printf \"%s\" | foo}}"), "template: format:1: function \"foo\" not defined");
  EXPECT_EQ(err("{{if 1}}{{else}}{{else}}{{end}}"), "template: format:1: expected end; found {{else}}");
  EXPECT_EQ(err("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}"),
            "template: format:1: template: multiple definition of template \"a\"");
  EXPECT_EQ(err("{{.Name @}}"), "template: format:1: unexpected \"@\" in operand");
  EXPECT_EQ(err("{{.Name \xff}}"), "template: format:1: unrecognized character in action: U+FFFD '\xEF\xBF\xBD'");
}

TEST(GoTemplate, ExecErrors) {
  EXPECT_EQ(err("{{.Foo}}"), "template: format:1:2: executing \"format\" at <.Foo>: can't evaluate field Foo in type struct");
  EXPECT_EQ(err("x\n  {{.Os.Foo}}"),
            "template: format:2:7: executing \"format\" at <.Os.Foo>: can't evaluate field Foo in type string");
  EXPECT_EQ(err("{{index .RepoTags 5}}"),
            "template: format:1:2: executing \"format\" at <index .RepoTags 5>: error calling index: index out of range: 5");
  EXPECT_EQ(err("{{eq 1 \"a\"}}"),
            "template: format:1:2: executing \"format\" at <eq 1 \"a\">: error calling eq: incompatible types for comparison");
  EXPECT_EQ(err("{{lower 1}}"), "template: format:1:8: executing \"format\" at <1>: expected string; found 1");
  EXPECT_EQ(err("{{lower .Created}}"),
            "template: format:1:8: executing \"format\" at <.Created>: wrong type for value; expected string; got *time.Time");
  EXPECT_EQ(err("{{join .LayersData \",\"}}"),
            "template: format:1:7: executing \"format\" at <.LayersData>: wrong type for value; expected []string; got []struct");
  // Go points at the last node it evaluated, here the 0.
  EXPECT_EQ(err("{{truncate .Os (index .LayersData 0).Size}}"),
            "template: format:1:34: executing \"format\" at <0>: wrong type for value; expected int; got int64");
  EXPECT_EQ(err("{{len 3}}"), "template: format:1:2: executing \"format\" at <len 3>: error calling len: len of type int");
  EXPECT_EQ(err("{{nil}}"), "template: format:1:2: executing \"format\" at <nil>: nil is not a command");
  EXPECT_EQ(err("{{.Name 1}}"),
            "template: format:1:2: executing \"format\" at <.Name>: Name has arguments but cannot be invoked as function");
  EXPECT_EQ(err("{{printf}}"),
            "template: format:1:2: executing \"format\" at <printf>: wrong number of args for printf: want at least 1 got 0");
  EXPECT_EQ(err("{{len .RepoTags .Os}}"),
            "template: format:1:2: executing \"format\" at <len>: wrong number of args for len: want 1 got 2");
  EXPECT_EQ(err("{{range $i, $v := 3}}{{end}}"),
            "template: format:1:18: executing \"format\" at <3>: can't use 3 to iterate over more than one variable");
  EXPECT_EQ(err("{{printf \"%s\" .LayersData | truncate \"x\"}}"),
            "template: format:1:37: executing \"format\" at <\"x\">: wrong type for value; expected int; got string");
  // The context is cut at 20 characters.
  EXPECT_EQ(err("{{slice \"abcdefghijklmnopqrstuvwxyz\" 3 1}}"),
            "template: format:1:2: executing \"format\" at <slice \"abcdefghijklm...>: error calling slice: invalid slice index: 3 > 1");
}

TEST(GoTemplate, PartialOutputOnError) {
  try {
    render("{{.Os}} and {{.Nope}} never", sample(), hints());
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.partial_output(), "linux and ");
  }
}

TEST(GoTemplate, HostileInput) {
  // Invalid UTF-8 and NULs in text pass through untouched.
  std::string raw = std::string("a\xff\xfe\0b", 5) + "{{.Os}}\xc3";
  EXPECT_EQ(r(raw), std::string("a\xff\xfe\0b", 5) + "linux\xc3");
  // Deep nesting is refused, not recursed into.
  std::string deep;
  for (int i = 0; i < 101; ++i) deep += "{{if 1}}";
  EXPECT_EQ(err(deep), "template: format:1: nesting deeper than 100 levels");
  std::string ok;
  for (int i = 0; i < 100; ++i) ok += "{{if 1}}";
  ok += "x";
  for (int i = 0; i < 100; ++i) ok += "{{end}}";
  EXPECT_EQ(r(ok), "x");
  std::string parens = "{{" + std::string(200, '(') + "1" + std::string(200, ')') + "}}";
  EXPECT_EQ(err(parens), "template: format:1: nesting deeper than 100 levels");
  std::string chain = "{{if 0}}";
  for (int i = 0; i < 150; ++i) chain += "{{else if 0}}";
  chain += "{{end}}";
  EXPECT_EQ(err(chain), "template: format:1: nesting deeper than 100 levels");
  // Oversized templates.
  EXPECT_EQ(err(std::string((1 << 20) + 1, 'x')),
            "template: format: template is 1048577 bytes, more than the limit of 1048576");
  EXPECT_EQ(r(std::string(1 << 20, 'x')).size(), size_t{1} << 20);
  // Runaway execution and output stop with an error.
  EXPECT_EQ(err("{{range 100000000}}{{end}}"),
            "template: format:1:19: executing \"format\" at <>: execution takes more than 10000000 steps");
  EXPECT_EQ(err("{{pad \"a\" 100000000 0}}"),
            "template: format:1:2: executing \"format\" at <pad \"a\" 100000000 0>: error calling pad: result longer "
            "than 67108864 bytes");
  EXPECT_EQ(err("{{printf \"%99999999d\" 1}}"), "no error");
  EXPECT_EQ(r("{{printf \"%99999999d\" 1}}"), "%!(NOVERB)%!(EXTRA int=1)");
  // Huge and odd numbers.
  EXPECT_EQ(err("{{18446744073709551615 | printf \"%v\"}}"),
            "template: format:1:2: executing \"format\" at <18446744073709551615>: 18446744073709551615 overflows int");
  EXPECT_EQ(r("{{printf \"%v\" 18446744073709551615.0}}"), "1.8446744073709552e+19");
}

TEST(GoTemplate, RenderReport) {
  auto rr = [](const std::string& f) { return render_report(f, sample(), hints()); };
  EXPECT_EQ(rr("{{.Name}}"), "docker.io/library/alpine\n");
  EXPECT_EQ(rr("{{.Name}}\n"), "docker.io/library/alpine\n");
  EXPECT_EQ(rr("{{.Os}}\\t{{.Architecture}}\\n"), "linux\tamd64\n");
  EXPECT_EQ(rr("{{range .}}{{.Os}}{{end}}"), "linux\n");
  // EnforceRange's `.*` does not cross lines, so this one is wrapped again.
  EXPECT_THROW(rr("{{range .}}\n{{.Os}}{{end}}"), TemplateError);
  EXPECT_EQ(rr("{{ range . }}{{.Os}}{{ end -}}"), "linux");
  EXPECT_EQ(rr("{{printf \"\\n\"}}"), "\n");  // falls back to the text as typed
  EXPECT_EQ(rr("table {{.Os}} {{.Name}}"), "linux       docker.io/library/alpine\n");
  EXPECT_EQ(rr("table {{.Os}}|\\n{{.Architecture}} {{.Name}}"), "linux|\namd64       docker.io/library/alpine\n");
  try {
    rr("{{.Os}} {{.Foo}}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(),
                 "template: skopeo inspect:1:21: executing \"skopeo inspect\" at <.Foo>: can't evaluate field Foo "
                 "in type interface {}");
    EXPECT_EQ(e.partial_output(), "linux ");
  }
  try {
    rr("{{.Os");
    FAIL();
  } catch (const TemplateError& e) {
    // The fallback text, "{{range .}}{{.Os{{end -}}", is what fails last.
    EXPECT_STREQ(e.what(), "template: skopeo inspect:1: bad character U+007B '{'");
  }
}

}  // namespace
}  // namespace ferry::gotemplate
