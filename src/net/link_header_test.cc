#include "net/link_header.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace ferry::net {
namespace {

TEST(LinkHeader, DistributionPagination) {
  EXPECT_EQ(next_link({R"(</v2/x/tags/list?n=100&last=y>; rel="next")"}),
            "/v2/x/tags/list?n=100&last=y");
}

TEST(LinkHeader, ParamsAnyOrderAndCase) {
  EXPECT_EQ(next_link({R"(<a>; title="x, y; z"; REL=Next)"}), "a");
  EXPECT_EQ(next_link({R"(<a> ;type="t";rel = "prev next")"}), "a");
  EXPECT_EQ(next_link({R"(<https://h/v2/r/tags/list?last=a,b>;rel=next)"}),
            "https://h/v2/r/tags/list?last=a,b");
}

TEST(LinkHeader, PicksNextAmongSeveral) {
  EXPECT_EQ(next_link({R"(</first>; rel="first", </prev>; rel="prev", </next>; rel="next")"}), "/next");
  EXPECT_EQ(next_link({R"(</prev>; rel="prev")", R"(</n2>; rel="next")"}), "/n2");
  // Only the first rel parameter counts.
  EXPECT_EQ(next_link({R"(</a>; rel="prev"; rel="next", </b>; rel=next)"}), "/b");
}

TEST(LinkHeader, NoNext) {
  EXPECT_EQ(next_link({}), std::nullopt);
  EXPECT_EQ(next_link({""}), std::nullopt);
  EXPECT_EQ(next_link({"</a>"}), std::nullopt);
  EXPECT_EQ(next_link({R"(</a>; rel="nextpage")"}), std::nullopt);
  EXPECT_EQ(next_link({R"(</a>; rel)"}), std::nullopt);
}

TEST(LinkHeader, MalformedValuesAreSkipped) {
  EXPECT_EQ(next_link({R"(junk; rel="next", </ok>; rel="next")"}), "/ok");
  EXPECT_EQ(next_link({R"(</bad> garbage; rel="next", </ok>; rel="next")"}), "/ok");
  EXPECT_EQ(next_link({R"(</bad>; rel="next)"}), std::nullopt);  // unterminated quote
  EXPECT_EQ(next_link({R"(</bad>; ="next", </ok>; rel=next)"}), "/ok");
  EXPECT_EQ(next_link({"<unterminated; rel=next"}), std::nullopt);
  EXPECT_EQ(next_link({std::string("\0<\xff>; rel=next", 15)}), std::nullopt);
  EXPECT_EQ(next_link({std::string("<\xff\x01>; rel=next", 14)}), std::string("\xff\x01"));
}

TEST(LinkHeader, SizeLimit) {
  std::string v = "</a>; rel=next";
  EXPECT_EQ(next_link({v + std::string(kMaxLinkHeaderBytes - v.size(), ' ')}), "/a");
  try {
    next_link({v, std::string(kMaxLinkHeaderBytes, ',')});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Link header is too large: 65550 bytes, limit 65536");
  }
}

TEST(LinkHeader, ManyElementsTerminate) {
  std::string s;
  for (int i = 0; i < 3000; i++) s += "<x>; a=b, ";
  EXPECT_EQ(next_link({s}), std::nullopt);
  EXPECT_EQ(next_link({std::string(60000, '<')}), std::nullopt);
  EXPECT_EQ(next_link({std::string(60000, '"')}), std::nullopt);
}

// RFC 3986 §5.4.
TEST(ResolveUrl, Rfc3986Examples) {
  const std::string base = "http://a/b/c/d;p?q";
  const std::pair<const char*, const char*> cases[] = {
      {"g:h", "g:h"},
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"},
      {"g?y#s", "http://a/b/c/g?y#s"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y#s"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g#s/./x"},
      {"g#s/../x", "http://a/b/c/g#s/../x"},
      {"http:g", "http:g"},
  };
  for (const auto& [ref, want] : cases) EXPECT_EQ(resolve_url(base, ref), want) << ref;
}

TEST(ResolveUrl, RegistryCases) {
  const std::string base = "https://reg:5000/v2/a/b/tags/list?n=10";
  EXPECT_EQ(resolve_url(base, "/v2/a/b/tags/list?n=10&last=t"),
            "https://reg:5000/v2/a/b/tags/list?n=10&last=t");
  EXPECT_EQ(resolve_url(base, "https://cdn.example/blob?sig=x"), "https://cdn.example/blob?sig=x");
  EXPECT_EQ(resolve_url(base, "//cdn.example/x"), "https://cdn.example/x");
  EXPECT_EQ(resolve_url("http://h", "x"), "http://h/x");  // empty base path with authority
  EXPECT_EQ(resolve_url("http://h/a#frag", ""), "http://h/a");
  EXPECT_EQ(resolve_url("http://[::1]:5000/v2/", "uploads/u?_state=a%2Fb"),
            "http://[::1]:5000/v2/uploads/u?_state=a%2Fb");
  // A colon in the first segment that is not a valid scheme stays a path.
  EXPECT_EQ(resolve_url("http://h/d/", "1a:b"), "http://h/d/1a:b");
}

TEST(ResolveUrl, ControlCharactersRejected) {
  EXPECT_THROW(resolve_url("http://h/", "/a\r\nX-Injected: 1"), Error);
  EXPECT_THROW(resolve_url(std::string("http://h/\0", 10), "a"), Error);
  EXPECT_THROW(resolve_url("http://h/", "a\x7f"), Error);
  EXPECT_EQ(resolve_url("http://h/", "\xff"), "http://h/\xff");
}

TEST(ResolveUrl, DeepDotSegmentsAreLinear) {
  std::string ref;
  for (int i = 0; i < 100000; i++) ref += "a/";
  for (int i = 0; i < 100001; i++) ref += "../";
  ref += "z";
  EXPECT_EQ(resolve_url("http://h/base/x", ref), "http://h/z");
}

}  // namespace
}  // namespace ferry::net
