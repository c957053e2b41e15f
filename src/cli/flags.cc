#include "cli/flags.h"

#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <utility>

#include "util/error.h"

namespace ferry::cli {
namespace {

// ---------------------------------------------------------------------------
// Go text primitives: what fmt's %q and strings.TrimSpace-style helpers do.

constexpr uint32_t kRuneError = 0xFFFD;

struct DecodedRune {
  uint32_t rune;
  size_t width;
};

// utf8.DecodeRuneInString: invalid or truncated sequences (overlong forms,
// surrogates, > U+10FFFF) decode as RuneError with width 1.
DecodedRune decode_rune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = b(0);
  if (b0 < 0x80) return {b0, 1};
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return {kRuneError, 1};
  for (size_t i = 2; i < n; i++) {
    if (b(i) < 0x80 || b(i) > 0xBF) return {kRuneError, 1};
  }
  uint32_t r = b0 & (0xFF >> (n + 1));
  for (size_t i = 1; i < n; i++) r = (r << 6) | (b(i) & 0x3F);
  return {r, n};
}

void append_utf8(std::string& out, uint32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

struct RuneRange {
  uint32_t lo, hi;
};

// strconv.IsPrint above U+00FF: the printable ranges (letters, marks,
// numbers, punctuation, symbols) generated from Go 1.19's strconv.IsPrint,
// the Go release that built the reference skopeo.
constexpr RuneRange kPrintRanges[] = {
    {0x100,0x377}, {0x37a,0x37f}, {0x384,0x38a}, {0x38c,0x38c}, {0x38e,0x3a1},
    {0x3a3,0x52f}, {0x531,0x556}, {0x559,0x58a}, {0x58d,0x58f}, {0x591,0x5c7},
    {0x5d0,0x5ea}, {0x5ef,0x5f4}, {0x606,0x61b}, {0x61e,0x6dc}, {0x6de,0x70d},
    {0x710,0x74a}, {0x74d,0x7b1}, {0x7c0,0x7fa}, {0x7fd,0x82d}, {0x830,0x83e},
    {0x840,0x85b}, {0x85e,0x85e}, {0x860,0x86a}, {0x8a0,0x8b4}, {0x8b6,0x8c7},
    {0x8d3,0x8e1}, {0x8e3,0x983}, {0x985,0x98c}, {0x98f,0x990}, {0x993,0x9a8},
    {0x9aa,0x9b0}, {0x9b2,0x9b2}, {0x9b6,0x9b9}, {0x9bc,0x9c4}, {0x9c7,0x9c8},
    {0x9cb,0x9ce}, {0x9d7,0x9d7}, {0x9dc,0x9dd}, {0x9df,0x9e3}, {0x9e6,0x9fe},
    {0xa01,0xa03}, {0xa05,0xa0a}, {0xa0f,0xa10}, {0xa13,0xa28}, {0xa2a,0xa30},
    {0xa32,0xa33}, {0xa35,0xa36}, {0xa38,0xa39}, {0xa3c,0xa3c}, {0xa3e,0xa42},
    {0xa47,0xa48}, {0xa4b,0xa4d}, {0xa51,0xa51}, {0xa59,0xa5c}, {0xa5e,0xa5e},
    {0xa66,0xa76}, {0xa81,0xa83}, {0xa85,0xa8d}, {0xa8f,0xa91}, {0xa93,0xaa8},
    {0xaaa,0xab0}, {0xab2,0xab3}, {0xab5,0xab9}, {0xabc,0xac5}, {0xac7,0xac9},
    {0xacb,0xacd}, {0xad0,0xad0}, {0xae0,0xae3}, {0xae6,0xaf1}, {0xaf9,0xaff},
    {0xb01,0xb03}, {0xb05,0xb0c}, {0xb0f,0xb10}, {0xb13,0xb28}, {0xb2a,0xb30},
    {0xb32,0xb33}, {0xb35,0xb39}, {0xb3c,0xb44}, {0xb47,0xb48}, {0xb4b,0xb4d},
    {0xb55,0xb57}, {0xb5c,0xb5d}, {0xb5f,0xb63}, {0xb66,0xb77}, {0xb82,0xb83},
    {0xb85,0xb8a}, {0xb8e,0xb90}, {0xb92,0xb95}, {0xb99,0xb9a}, {0xb9c,0xb9c},
    {0xb9e,0xb9f}, {0xba3,0xba4}, {0xba8,0xbaa}, {0xbae,0xbb9}, {0xbbe,0xbc2},
    {0xbc6,0xbc8}, {0xbca,0xbcd}, {0xbd0,0xbd0}, {0xbd7,0xbd7}, {0xbe6,0xbfa},
    {0xc00,0xc0c}, {0xc0e,0xc10}, {0xc12,0xc28}, {0xc2a,0xc39}, {0xc3d,0xc44},
    {0xc46,0xc48}, {0xc4a,0xc4d}, {0xc55,0xc56}, {0xc58,0xc5a}, {0xc60,0xc63},
    {0xc66,0xc6f}, {0xc77,0xc8c}, {0xc8e,0xc90}, {0xc92,0xca8}, {0xcaa,0xcb3},
    {0xcb5,0xcb9}, {0xcbc,0xcc4}, {0xcc6,0xcc8}, {0xcca,0xccd}, {0xcd5,0xcd6},
    {0xcde,0xcde}, {0xce0,0xce3}, {0xce6,0xcef}, {0xcf1,0xcf2}, {0xd00,0xd0c},
    {0xd0e,0xd10}, {0xd12,0xd44}, {0xd46,0xd48}, {0xd4a,0xd4f}, {0xd54,0xd63},
    {0xd66,0xd7f}, {0xd81,0xd83}, {0xd85,0xd96}, {0xd9a,0xdb1}, {0xdb3,0xdbb},
    {0xdbd,0xdbd}, {0xdc0,0xdc6}, {0xdca,0xdca}, {0xdcf,0xdd4}, {0xdd6,0xdd6},
    {0xdd8,0xddf}, {0xde6,0xdef}, {0xdf2,0xdf4}, {0xe01,0xe3a}, {0xe3f,0xe5b},
    {0xe81,0xe82}, {0xe84,0xe84}, {0xe86,0xe8a}, {0xe8c,0xea3}, {0xea5,0xea5},
    {0xea7,0xebd}, {0xec0,0xec4}, {0xec6,0xec6}, {0xec8,0xecd}, {0xed0,0xed9},
    {0xedc,0xedf}, {0xf00,0xf47}, {0xf49,0xf6c}, {0xf71,0xf97}, {0xf99,0xfbc},
    {0xfbe,0xfcc}, {0xfce,0xfda}, {0x1000,0x10c5}, {0x10c7,0x10c7}, {0x10cd,0x10cd},
    {0x10d0,0x1248}, {0x124a,0x124d}, {0x1250,0x1256}, {0x1258,0x1258}, {0x125a,0x125d},
    {0x1260,0x1288}, {0x128a,0x128d}, {0x1290,0x12b0}, {0x12b2,0x12b5}, {0x12b8,0x12be},
    {0x12c0,0x12c0}, {0x12c2,0x12c5}, {0x12c8,0x12d6}, {0x12d8,0x1310}, {0x1312,0x1315},
    {0x1318,0x135a}, {0x135d,0x137c}, {0x1380,0x1399}, {0x13a0,0x13f5}, {0x13f8,0x13fd},
    {0x1400,0x167f}, {0x1681,0x169c}, {0x16a0,0x16f8}, {0x1700,0x170c}, {0x170e,0x1714},
    {0x1720,0x1736}, {0x1740,0x1753}, {0x1760,0x176c}, {0x176e,0x1770}, {0x1772,0x1773},
    {0x1780,0x17dd}, {0x17e0,0x17e9}, {0x17f0,0x17f9}, {0x1800,0x180d}, {0x1810,0x1819},
    {0x1820,0x1878}, {0x1880,0x18aa}, {0x18b0,0x18f5}, {0x1900,0x191e}, {0x1920,0x192b},
    {0x1930,0x193b}, {0x1940,0x1940}, {0x1944,0x196d}, {0x1970,0x1974}, {0x1980,0x19ab},
    {0x19b0,0x19c9}, {0x19d0,0x19da}, {0x19de,0x1a1b}, {0x1a1e,0x1a5e}, {0x1a60,0x1a7c},
    {0x1a7f,0x1a89}, {0x1a90,0x1a99}, {0x1aa0,0x1aad}, {0x1ab0,0x1ac0}, {0x1b00,0x1b4b},
    {0x1b50,0x1b7c}, {0x1b80,0x1bf3}, {0x1bfc,0x1c37}, {0x1c3b,0x1c49}, {0x1c4d,0x1c88},
    {0x1c90,0x1cba}, {0x1cbd,0x1cc7}, {0x1cd0,0x1cfa}, {0x1d00,0x1df9}, {0x1dfb,0x1f15},
    {0x1f18,0x1f1d}, {0x1f20,0x1f45}, {0x1f48,0x1f4d}, {0x1f50,0x1f57}, {0x1f59,0x1f59},
    {0x1f5b,0x1f5b}, {0x1f5d,0x1f5d}, {0x1f5f,0x1f7d}, {0x1f80,0x1fb4}, {0x1fb6,0x1fc4},
    {0x1fc6,0x1fd3}, {0x1fd6,0x1fdb}, {0x1fdd,0x1fef}, {0x1ff2,0x1ff4}, {0x1ff6,0x1ffe},
    {0x2010,0x2027}, {0x2030,0x205e}, {0x2070,0x2071}, {0x2074,0x208e}, {0x2090,0x209c},
    {0x20a0,0x20bf}, {0x20d0,0x20f0}, {0x2100,0x218b}, {0x2190,0x2426}, {0x2440,0x244a},
    {0x2460,0x2b73}, {0x2b76,0x2b95}, {0x2b97,0x2c2e}, {0x2c30,0x2c5e}, {0x2c60,0x2cf3},
    {0x2cf9,0x2d25}, {0x2d27,0x2d27}, {0x2d2d,0x2d2d}, {0x2d30,0x2d67}, {0x2d6f,0x2d70},
    {0x2d7f,0x2d96}, {0x2da0,0x2da6}, {0x2da8,0x2dae}, {0x2db0,0x2db6}, {0x2db8,0x2dbe},
    {0x2dc0,0x2dc6}, {0x2dc8,0x2dce}, {0x2dd0,0x2dd6}, {0x2dd8,0x2dde}, {0x2de0,0x2e52},
    {0x2e80,0x2e99}, {0x2e9b,0x2ef3}, {0x2f00,0x2fd5}, {0x2ff0,0x2ffb}, {0x3001,0x303f},
    {0x3041,0x3096}, {0x3099,0x30ff}, {0x3105,0x312f}, {0x3131,0x318e}, {0x3190,0x31e3},
    {0x31f0,0x321e}, {0x3220,0x9ffc}, {0xa000,0xa48c}, {0xa490,0xa4c6}, {0xa4d0,0xa62b},
    {0xa640,0xa6f7}, {0xa700,0xa7bf}, {0xa7c2,0xa7ca}, {0xa7f5,0xa82c}, {0xa830,0xa839},
    {0xa840,0xa877}, {0xa880,0xa8c5}, {0xa8ce,0xa8d9}, {0xa8e0,0xa953}, {0xa95f,0xa97c},
    {0xa980,0xa9cd}, {0xa9cf,0xa9d9}, {0xa9de,0xa9fe}, {0xaa00,0xaa36}, {0xaa40,0xaa4d},
    {0xaa50,0xaa59}, {0xaa5c,0xaac2}, {0xaadb,0xaaf6}, {0xab01,0xab06}, {0xab09,0xab0e},
    {0xab11,0xab16}, {0xab20,0xab26}, {0xab28,0xab2e}, {0xab30,0xab6b}, {0xab70,0xabed},
    {0xabf0,0xabf9}, {0xac00,0xd7a3}, {0xd7b0,0xd7c6}, {0xd7cb,0xd7fb}, {0xf900,0xfa6d},
    {0xfa70,0xfad9}, {0xfb00,0xfb06}, {0xfb13,0xfb17}, {0xfb1d,0xfb36}, {0xfb38,0xfb3c},
    {0xfb3e,0xfb3e}, {0xfb40,0xfb41}, {0xfb43,0xfb44}, {0xfb46,0xfbc1}, {0xfbd3,0xfd3f},
    {0xfd50,0xfd8f}, {0xfd92,0xfdc7}, {0xfdf0,0xfdfd}, {0xfe00,0xfe19}, {0xfe20,0xfe52},
    {0xfe54,0xfe66}, {0xfe68,0xfe6b}, {0xfe70,0xfe74}, {0xfe76,0xfefc}, {0xff01,0xffbe},
    {0xffc2,0xffc7}, {0xffca,0xffcf}, {0xffd2,0xffd7}, {0xffda,0xffdc}, {0xffe0,0xffe6},
    {0xffe8,0xffee}, {0xfffc,0xfffd}, {0x10000,0x1000b}, {0x1000d,0x10026}, {0x10028,0x1003a},
    {0x1003c,0x1003d}, {0x1003f,0x1004d}, {0x10050,0x1005d}, {0x10080,0x100fa}, {0x10100,0x10102},
    {0x10107,0x10133}, {0x10137,0x1018e}, {0x10190,0x1019c}, {0x101a0,0x101a0}, {0x101d0,0x101fd},
    {0x10280,0x1029c}, {0x102a0,0x102d0}, {0x102e0,0x102fb}, {0x10300,0x10323}, {0x1032d,0x1034a},
    {0x10350,0x1037a}, {0x10380,0x1039d}, {0x1039f,0x103c3}, {0x103c8,0x103d5}, {0x10400,0x1049d},
    {0x104a0,0x104a9}, {0x104b0,0x104d3}, {0x104d8,0x104fb}, {0x10500,0x10527}, {0x10530,0x10563},
    {0x1056f,0x1056f}, {0x10600,0x10736}, {0x10740,0x10755}, {0x10760,0x10767}, {0x10800,0x10805},
    {0x10808,0x10808}, {0x1080a,0x10835}, {0x10837,0x10838}, {0x1083c,0x1083c}, {0x1083f,0x10855},
    {0x10857,0x1089e}, {0x108a7,0x108af}, {0x108e0,0x108f2}, {0x108f4,0x108f5}, {0x108fb,0x1091b},
    {0x1091f,0x10939}, {0x1093f,0x1093f}, {0x10980,0x109b7}, {0x109bc,0x109cf}, {0x109d2,0x10a03},
    {0x10a05,0x10a06}, {0x10a0c,0x10a13}, {0x10a15,0x10a17}, {0x10a19,0x10a35}, {0x10a38,0x10a3a},
    {0x10a3f,0x10a48}, {0x10a50,0x10a58}, {0x10a60,0x10a9f}, {0x10ac0,0x10ae6}, {0x10aeb,0x10af6},
    {0x10b00,0x10b35}, {0x10b39,0x10b55}, {0x10b58,0x10b72}, {0x10b78,0x10b91}, {0x10b99,0x10b9c},
    {0x10ba9,0x10baf}, {0x10c00,0x10c48}, {0x10c80,0x10cb2}, {0x10cc0,0x10cf2}, {0x10cfa,0x10d27},
    {0x10d30,0x10d39}, {0x10e60,0x10e7e}, {0x10e80,0x10ea9}, {0x10eab,0x10ead}, {0x10eb0,0x10eb1},
    {0x10f00,0x10f27}, {0x10f30,0x10f59}, {0x10fb0,0x10fcb}, {0x10fe0,0x10ff6}, {0x11000,0x1104d},
    {0x11052,0x1106f}, {0x1107f,0x110bc}, {0x110be,0x110c1}, {0x110d0,0x110e8}, {0x110f0,0x110f9},
    {0x11100,0x11134}, {0x11136,0x11147}, {0x11150,0x11176}, {0x11180,0x111df}, {0x111e1,0x111f4},
    {0x11200,0x11211}, {0x11213,0x1123e}, {0x11280,0x11286}, {0x11288,0x11288}, {0x1128a,0x1128d},
    {0x1128f,0x1129d}, {0x1129f,0x112a9}, {0x112b0,0x112ea}, {0x112f0,0x112f9}, {0x11300,0x11303},
    {0x11305,0x1130c}, {0x1130f,0x11310}, {0x11313,0x11328}, {0x1132a,0x11330}, {0x11332,0x11333},
    {0x11335,0x11339}, {0x1133b,0x11344}, {0x11347,0x11348}, {0x1134b,0x1134d}, {0x11350,0x11350},
    {0x11357,0x11357}, {0x1135d,0x11363}, {0x11366,0x1136c}, {0x11370,0x11374}, {0x11400,0x1145b},
    {0x1145d,0x11461}, {0x11480,0x114c7}, {0x114d0,0x114d9}, {0x11580,0x115b5}, {0x115b8,0x115dd},
    {0x11600,0x11644}, {0x11650,0x11659}, {0x11660,0x1166c}, {0x11680,0x116b8}, {0x116c0,0x116c9},
    {0x11700,0x1171a}, {0x1171d,0x1172b}, {0x11730,0x1173f}, {0x11800,0x1183b}, {0x118a0,0x118f2},
    {0x118ff,0x11906}, {0x11909,0x11909}, {0x1190c,0x11913}, {0x11915,0x11916}, {0x11918,0x11935},
    {0x11937,0x11938}, {0x1193b,0x11946}, {0x11950,0x11959}, {0x119a0,0x119a7}, {0x119aa,0x119d7},
    {0x119da,0x119e4}, {0x11a00,0x11a47}, {0x11a50,0x11aa2}, {0x11ac0,0x11af8}, {0x11c00,0x11c08},
    {0x11c0a,0x11c36}, {0x11c38,0x11c45}, {0x11c50,0x11c6c}, {0x11c70,0x11c8f}, {0x11c92,0x11ca7},
    {0x11ca9,0x11cb6}, {0x11d00,0x11d06}, {0x11d08,0x11d09}, {0x11d0b,0x11d36}, {0x11d3a,0x11d3a},
    {0x11d3c,0x11d3d}, {0x11d3f,0x11d47}, {0x11d50,0x11d59}, {0x11d60,0x11d65}, {0x11d67,0x11d68},
    {0x11d6a,0x11d8e}, {0x11d90,0x11d91}, {0x11d93,0x11d98}, {0x11da0,0x11da9}, {0x11ee0,0x11ef8},
    {0x11fb0,0x11fb0}, {0x11fc0,0x11ff1}, {0x11fff,0x12399}, {0x12400,0x1246e}, {0x12470,0x12474},
    {0x12480,0x12543}, {0x13000,0x1342e}, {0x14400,0x14646}, {0x16800,0x16a38}, {0x16a40,0x16a5e},
    {0x16a60,0x16a69}, {0x16a6e,0x16a6f}, {0x16ad0,0x16aed}, {0x16af0,0x16af5}, {0x16b00,0x16b45},
    {0x16b50,0x16b59}, {0x16b5b,0x16b61}, {0x16b63,0x16b77}, {0x16b7d,0x16b8f}, {0x16e40,0x16e9a},
    {0x16f00,0x16f4a}, {0x16f4f,0x16f87}, {0x16f8f,0x16f9f}, {0x16fe0,0x16fe4}, {0x16ff0,0x16ff1},
    {0x17000,0x187f7}, {0x18800,0x18cd5}, {0x18d00,0x18d08}, {0x1b000,0x1b11e}, {0x1b150,0x1b152},
    {0x1b164,0x1b167}, {0x1b170,0x1b2fb}, {0x1bc00,0x1bc6a}, {0x1bc70,0x1bc7c}, {0x1bc80,0x1bc88},
    {0x1bc90,0x1bc99}, {0x1bc9c,0x1bc9f}, {0x1d000,0x1d0f5}, {0x1d100,0x1d126}, {0x1d129,0x1d172},
    {0x1d17b,0x1d1e8}, {0x1d200,0x1d245}, {0x1d2e0,0x1d2f3}, {0x1d300,0x1d356}, {0x1d360,0x1d378},
    {0x1d400,0x1d454}, {0x1d456,0x1d49c}, {0x1d49e,0x1d49f}, {0x1d4a2,0x1d4a2}, {0x1d4a5,0x1d4a6},
    {0x1d4a9,0x1d4ac}, {0x1d4ae,0x1d4b9}, {0x1d4bb,0x1d4bb}, {0x1d4bd,0x1d4c3}, {0x1d4c5,0x1d505},
    {0x1d507,0x1d50a}, {0x1d50d,0x1d514}, {0x1d516,0x1d51c}, {0x1d51e,0x1d539}, {0x1d53b,0x1d53e},
    {0x1d540,0x1d544}, {0x1d546,0x1d546}, {0x1d54a,0x1d550}, {0x1d552,0x1d6a5}, {0x1d6a8,0x1d7cb},
    {0x1d7ce,0x1da8b}, {0x1da9b,0x1da9f}, {0x1daa1,0x1daaf}, {0x1e000,0x1e006}, {0x1e008,0x1e018},
    {0x1e01b,0x1e021}, {0x1e023,0x1e024}, {0x1e026,0x1e02a}, {0x1e100,0x1e12c}, {0x1e130,0x1e13d},
    {0x1e140,0x1e149}, {0x1e14e,0x1e14f}, {0x1e2c0,0x1e2f9}, {0x1e2ff,0x1e2ff}, {0x1e800,0x1e8c4},
    {0x1e8c7,0x1e8d6}, {0x1e900,0x1e94b}, {0x1e950,0x1e959}, {0x1e95e,0x1e95f}, {0x1ec71,0x1ecb4},
    {0x1ed01,0x1ed3d}, {0x1ee00,0x1ee03}, {0x1ee05,0x1ee1f}, {0x1ee21,0x1ee22}, {0x1ee24,0x1ee24},
    {0x1ee27,0x1ee27}, {0x1ee29,0x1ee32}, {0x1ee34,0x1ee37}, {0x1ee39,0x1ee39}, {0x1ee3b,0x1ee3b},
    {0x1ee42,0x1ee42}, {0x1ee47,0x1ee47}, {0x1ee49,0x1ee49}, {0x1ee4b,0x1ee4b}, {0x1ee4d,0x1ee4f},
    {0x1ee51,0x1ee52}, {0x1ee54,0x1ee54}, {0x1ee57,0x1ee57}, {0x1ee59,0x1ee59}, {0x1ee5b,0x1ee5b},
    {0x1ee5d,0x1ee5d}, {0x1ee5f,0x1ee5f}, {0x1ee61,0x1ee62}, {0x1ee64,0x1ee64}, {0x1ee67,0x1ee6a},
    {0x1ee6c,0x1ee72}, {0x1ee74,0x1ee77}, {0x1ee79,0x1ee7c}, {0x1ee7e,0x1ee7e}, {0x1ee80,0x1ee89},
    {0x1ee8b,0x1ee9b}, {0x1eea1,0x1eea3}, {0x1eea5,0x1eea9}, {0x1eeab,0x1eebb}, {0x1eef0,0x1eef1},
    {0x1f000,0x1f02b}, {0x1f030,0x1f093}, {0x1f0a0,0x1f0ae}, {0x1f0b1,0x1f0bf}, {0x1f0c1,0x1f0cf},
    {0x1f0d1,0x1f0f5}, {0x1f100,0x1f1ad}, {0x1f1e6,0x1f202}, {0x1f210,0x1f23b}, {0x1f240,0x1f248},
    {0x1f250,0x1f251}, {0x1f260,0x1f265}, {0x1f300,0x1f6d7}, {0x1f6e0,0x1f6ec}, {0x1f6f0,0x1f6fc},
    {0x1f700,0x1f773}, {0x1f780,0x1f7d8}, {0x1f7e0,0x1f7eb}, {0x1f800,0x1f80b}, {0x1f810,0x1f847},
    {0x1f850,0x1f859}, {0x1f860,0x1f887}, {0x1f890,0x1f8ad}, {0x1f8b0,0x1f8b1}, {0x1f900,0x1f978},
    {0x1f97a,0x1f9cb}, {0x1f9cd,0x1fa53}, {0x1fa60,0x1fa6d}, {0x1fa70,0x1fa74}, {0x1fa78,0x1fa7a},
    {0x1fa80,0x1fa86}, {0x1fa90,0x1faa8}, {0x1fab0,0x1fab6}, {0x1fac0,0x1fac2}, {0x1fad0,0x1fad6},
    {0x1fb00,0x1fb92}, {0x1fb94,0x1fbca}, {0x1fbf0,0x1fbf9}, {0x20000,0x2a6dd}, {0x2a700,0x2b734},
    {0x2b740,0x2b81d}, {0x2b820,0x2cea1}, {0x2ceb0,0x2ebe0}, {0x2f800,0x2fa1d}, {0x30000,0x3134a},
    {0xe0100,0xe01ef}
};

bool go_is_print(uint32_t r) {
  if (r <= 0xFF) {
    if (r >= 0x20 && r <= 0x7E) return true;
    return r >= 0xA1 && r != 0xAD;
  }
  const auto* end = std::end(kPrintRanges);
  const auto* it = std::upper_bound(std::begin(kPrintRanges), end, r,
                                    [](uint32_t v, const RuneRange& rr) { return v < rr.lo; });
  if (it == std::begin(kPrintRanges)) return false;
  --it;
  return r >= it->lo && r <= it->hi;
}

void append_hex(std::string& out, uint32_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
}

// strconv's appendEscapedRune (not ASCII-only, not graphic-only).
void append_escaped_rune(std::string& out, uint32_t r, char quote) {
  if (r == static_cast<unsigned char>(quote) || r == '\\') {
    out += '\\';
    append_utf8(out, r);
    return;
  }
  if (go_is_print(r)) {
    append_utf8(out, r);
    return;
  }
  switch (r) {
    case '\a': out += "\\a"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\v': out += "\\v"; return;
    default: break;
  }
  if (r < ' ' || r == 0x7F) {
    out += "\\x";
    append_hex(out, r, 2);
  } else if (r < 0x10000) {
    out += "\\u";
    append_hex(out, r, 4);
  } else {
    out += "\\U";
    append_hex(out, r, 8);
  }
}

// What Go's %q prints for a byte: the byte taken as a rune (so 0xC3 shows
// as 'Ã'), which is how pflag names an unknown shorthand.
std::string quote_byte_as_rune(unsigned char c) {
  std::string out = "'";
  append_escaped_rune(out, c, '\'');
  out += '\'';
  return out;
}

// unicode.IsSpace.
bool is_go_space(uint32_t r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// strings.TrimRightFunc(s, unicode.IsSpace), cobra's trimTrailingWhitespaces.
std::string trim_right_space(std::string_view s) {
  while (!s.empty()) {
    // utf8.DecodeLastRuneInString: the last rune starts at the nearest
    // non-continuation byte at most 3 back; anything else is an invalid
    // byte, which is not a space.
    size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      start--;
    }
    const DecodedRune d = decode_rune(s.substr(start));
    if (start + d.width != s.size() || !is_go_space(d.rune)) break;
    s.remove_suffix(d.width);
  }
  return std::string(s);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// ---------------------------------------------------------------------------
// strconv: pflag reports their errors verbatim after "invalid argument".

enum class NumErr { kNone, kSyntax, kRange };

[[noreturn]] void throw_num_error(const char* fn, std::string_view num, NumErr err) {
  throw Error(std::string("strconv.") + fn + ": parsing " + go_quote(num) + ": " +
              (err == NumErr::kRange ? "value out of range" : "invalid syntax"));
}

char lower(char c) { return static_cast<char>(c | ('x' - 'X')); }

// Underscores may only separate digits (or follow a base prefix).
bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); i++) {
    if ((s[i] >= '0' && s[i] <= '9') || (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseUint(s, base, 64) for base 0 (prefixes, underscores) or 10.
NumErr go_parse_uint(std::string_view s, int base, uint64_t* out) {
  *out = 0;
  if (s.empty()) return NumErr::kSyntax;
  const bool base0 = base == 0;
  const std::string_view s0 = s;
  if (base0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && lower(s[1]) == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  const uint64_t ubase = static_cast<uint64_t>(base);
  const uint64_t cutoff = UINT64_MAX / ubase + 1;
  bool underscores = false;
  uint64_t n = 0;
  for (char c : s) {
    uint64_t d;
    if (c == '_' && base0) {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = static_cast<uint64_t>(lower(c) - 'a' + 10);
    } else {
      return NumErr::kSyntax;
    }
    if (d >= ubase) return NumErr::kSyntax;
    if (n >= cutoff) {
      *out = UINT64_MAX;
      return NumErr::kRange;
    }
    n *= ubase;
    const uint64_t n1 = n + d;
    if (n1 < n) {
      *out = UINT64_MAX;
      return NumErr::kRange;
    }
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) return NumErr::kSyntax;
  *out = n;
  return NumErr::kNone;
}

// strconv.ParseInt(s, base, 64); errors carry the whole input, sign included.
int64_t go_parse_int(std::string_view s, int base, const char* fn) {
  if (s.empty()) throw_num_error(fn, s, NumErr::kSyntax);
  const std::string_view s0 = s;
  bool neg = false;
  if (s[0] == '+') {
    s.remove_prefix(1);
  } else if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  uint64_t un;
  NumErr err = go_parse_uint(s, base, &un);
  if (err == NumErr::kSyntax) throw_num_error(fn, s0, err);
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!neg && un >= kCutoff) throw_num_error(fn, s0, NumErr::kRange);
  if (neg && un > kCutoff) throw_num_error(fn, s0, NumErr::kRange);
  return neg ? static_cast<int64_t>(0 - un) : static_cast<int64_t>(un);
}

uint64_t go_parse_uint_checked(std::string_view s) {
  uint64_t v;
  NumErr err = go_parse_uint(s, 0, &v);
  if (err != NumErr::kNone) throw_num_error("ParseUint", s, err);
  return v;
}

bool go_parse_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  throw Error("strconv.ParseBool: parsing " + go_quote(s) + ": invalid syntax");
}

// ---------------------------------------------------------------------------
// encoding/csv, as pflag's StringSlice uses it: one record from a reader
// with default settings (comma ',', no comments, strict quotes).

class CsvReader {
 public:
  explicit CsvReader(std::string_view in) : in_(in) {}

  std::vector<std::string> read_record() {
    std::string line;
    for (;;) {
      if (!read_line(line)) throw Error("EOF");
      if (line.size() == length_nl(line)) continue;  // empty lines are skipped
      break;
    }
    const int rec_line = num_line_;
    int pos_line = num_line_;
    size_t pos_col = 1;
    std::string buf;
    std::vector<size_t> ends;
    std::string_view ln = line;
    for (;;) {
      if (ln.empty() || ln[0] != '"') {
        const size_t i = ln.find(',');
        std::string_view field =
            i != std::string_view::npos ? ln.substr(0, i) : ln.substr(0, ln.size() - length_nl(ln));
        const size_t j = field.find('"');
        if (j != std::string_view::npos) {
          parse_error(rec_line, num_line_, pos_col + j, "bare \" in non-quoted-field");
        }
        buf += field;
        ends.push_back(buf.size());
        if (i == std::string_view::npos) break;
        ln.remove_prefix(i + 1);
        pos_col += i + 1;
        continue;
      }
      ln.remove_prefix(1);
      pos_col += 1;
      bool next_field = false;
      for (;;) {
        const size_t i = ln.find('"');
        if (i != std::string_view::npos) {
          buf += ln.substr(0, i);
          ln.remove_prefix(i + 1);
          pos_col += i + 1;
          if (!ln.empty() && ln[0] == '"') {
            buf += '"';
            ln.remove_prefix(1);
            pos_col += 1;
          } else if (!ln.empty() && ln[0] == ',') {
            ln.remove_prefix(1);
            pos_col += 1;
            ends.push_back(buf.size());
            next_field = true;
            break;
          } else if (length_nl(ln) == ln.size()) {
            ends.push_back(buf.size());
            break;
          } else {
            parse_error(rec_line, num_line_, pos_col - 1, kErrQuote);
          }
        } else if (!ln.empty()) {
          buf += ln;
          pos_col += ln.size();
          read_line(line);
          ln = line;
          if (!ln.empty()) {
            pos_line++;
            pos_col = 1;
          }
        } else {
          parse_error(rec_line, pos_line, pos_col, kErrQuote);
        }
      }
      if (!next_field) break;
    }
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t end : ends) {
      fields.emplace_back(buf.substr(start, end - start));
      start = end;
    }
    return fields;
  }

 private:
  static constexpr const char* kErrQuote = "extraneous or missing \" in quoted-field";

  static size_t length_nl(std::string_view s) { return !s.empty() && s.back() == '\n' ? 1 : 0; }

  // bufio ReadSlice('\n') plus csv's normalisation: a trailing "\r" before
  // EOF is dropped and "\r\n" becomes "\n". False at EOF (nothing read).
  bool read_line(std::string& line) {
    num_line_++;
    if (pos_ >= in_.size()) {
      line.clear();
      return false;
    }
    size_t nl = in_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? in_.size() : nl + 1;
    line.assign(in_.substr(pos_, end - pos_));
    pos_ = end;
    if (nl == std::string_view::npos && !line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() >= 2 && line[line.size() - 2] == '\r' && line.back() == '\n') {
      line.erase(line.size() - 2, 1);
    }
    return true;
  }

  [[noreturn]] static void parse_error(int start_line, int line, size_t col, const char* what) {
    std::string msg;
    if (start_line != line) msg = "record on line " + std::to_string(start_line) + "; ";
    msg += "parse error on line " + std::to_string(line) + ", column " + std::to_string(col) +
           ": " + what;
    throw Error(msg);
  }

  std::string_view in_;
  size_t pos_ = 0;
  int num_line_ = 0;
};

std::vector<std::string> read_as_csv(std::string_view v) {
  if (v.empty()) return {};
  return CsvReader(v).read_record();
}

// csv.Writer for one record without the final newline (pflag's String()).
std::string write_as_csv(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t n = 0; n < fields.size(); n++) {
    if (n > 0) out += ',';
    const std::string& f = fields[n];
    bool quote = false;
    if (f == "\\.") {
      quote = true;
    } else if (!f.empty()) {
      quote = f.find_first_of("\n\r\",") != std::string::npos || is_go_space(decode_rune(f).rune);
    }
    if (!quote) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

std::vector<int64_t> parse_int_list(std::string_view v) {
  std::vector<int64_t> out;
  for (;;) {
    const size_t comma = v.find(',');
    out.push_back(go_parse_int(v.substr(0, comma), 10, "Atoi"));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Per-kind behaviour of a flag: what pflag's Value implementations do.

template <class... Fs>
struct Overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overload(Fs...) -> Overload<Fs...>;

// Bools take "--x" alone as "--x=true" (pflag NoOptDefVal).
bool takes_no_value(const Flag& f) {
  return std::holds_alternative<bool*>(f.target) ||
         std::holds_alternative<std::optional<bool>*>(f.target);
}

// Value.Type(), after UnquoteUsage's renaming, as help shows it.
std::string type_name(const Flag& f) {
  return std::visit(Overload{
                        [](bool*) { return std::string(); },
                        [](std::optional<bool>*) { return std::string(); },
                        [](std::string*) { return std::string("string"); },
                        [](OptionalString*) { return std::string("string"); },
                        [](int64_t*) { return std::string("int"); },
                        [](OptionalInt*) { return std::string("int"); },
                        [](uint64_t*) { return std::string("uint"); },
                        [](std::vector<std::string>*) { return std::string("strings"); },
                        [](std::vector<int64_t>*) { return std::string("ints"); },
                        [](Duration*) { return std::string("duration"); },
                    },
                    f.target);
}

std::string int_list_string(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); i++) {
    if (i > 0) out += ',';
    out += std::to_string(v[i]);
  }
  return out + "]";
}

// pflag's defaultIsZeroValue. c/common's Optional* values are not pflag
// types, so pflag asks for their *current* value there: after
// `--creds=x --help`, skopeo's help shows `(default "")`.
bool default_is_zero(const Flag& f) {
  return std::visit(
      Overload{
          [&](bool*) { return f.def_value == "false"; },
          [&](std::optional<bool>*) { return f.def_value == "false"; },
          [&](std::string*) { return f.def_value.empty(); },
          [&](OptionalString* t) {
            const std::string v = t->present ? t->value : "";
            return v.empty() || v == "false" || v == "<nil>" || v == "0";
          },
          [&](int64_t*) { return f.def_value == "0"; },
          [&](OptionalInt* t) { return !t->present || t->value == 0; },
          [&](uint64_t*) { return f.def_value == "0"; },
          [&](std::vector<std::string>*) { return f.def_value == "[]"; },
          [&](std::vector<int64_t>*) { return f.def_value == "[]"; },
          [&](Duration*) { return f.def_value == "0" || f.def_value == "0s"; },
      },
      f.target);
}

// Value.Set. Slices replace their default on first use and append after.
void assign(Flag& f, const std::string& value) {
  std::visit(Overload{
                 [&](bool* t) { *t = go_parse_bool(value); },
                 [&](std::optional<bool>* t) { *t = go_parse_bool(value); },
                 [&](std::string* t) { *t = value; },
                 [&](OptionalString* t) {
                   t->present = true;
                   t->value = value;
                 },
                 [&](int64_t* t) { *t = go_parse_int(value, 0, "ParseInt"); },
                 [&](OptionalInt* t) {
                   t->value = go_parse_int(value, 0, "ParseInt");
                   t->present = true;
                 },
                 [&](uint64_t* t) { *t = go_parse_uint_checked(value); },
                 [&](std::vector<std::string>* t) {
                   std::vector<std::string> v = read_as_csv(value);
                   if (!f.changed) t->clear();
                   t->insert(t->end(), std::make_move_iterator(v.begin()),
                             std::make_move_iterator(v.end()));
                 },
                 [&](std::vector<int64_t>* t) {
                   std::vector<int64_t> v = parse_int_list(value);
                   if (!f.changed) t->clear();
                   t->insert(t->end(), v.begin(), v.end());
                 },
                 [&](Duration* t) { *t = parse_go_duration(value); },
             },
             f.target);
}

std::string flag_display_name(const Flag& f) {
  if (f.shorthand != 0) return std::string("-") + f.shorthand + ", --" + f.name;
  return "--" + f.name;
}

[[noreturn]] void throw_help_requested() { throw Error("pflag: help requested"); }

// The parser proper: pflag's parseArgs over one FlagSet (with its parents'
// persistent flags).
class Parser {
 public:
  Parser(FlagSet& fs, bool help_defined, const std::vector<std::string>& args)
      : fs_(fs), help_defined_(help_defined), args_(args) {}

  std::vector<std::string> run() {
    std::vector<std::string> positionals;
    while (next_ < args_.size()) {
      const std::string& s = args_[next_++];
      if (s.size() < 2 || s[0] != '-') {
        positionals.push_back(s);
        continue;
      }
      if (s[1] == '-') {
        if (s.size() == 2) {  // "--" ends the flags
          positionals.insert(positionals.end(), args_.begin() + static_cast<ptrdiff_t>(next_),
                             args_.end());
          break;
        }
        parse_long(s);
      } else {
        parse_short(s);
      }
    }
    return positionals;
  }

  const std::string& warnings() const { return warnings_; }

 private:
  Flag* find_long(std::string_view name) {
    Flag* f = fs_.find_long(name);
    if (f != nullptr && !help_defined_ && fs_.is_help_flag(f)) return nullptr;
    return f;
  }
  Flag* find_short(char c) {
    Flag* f = fs_.find_short(c);
    if (f != nullptr && !help_defined_ && fs_.is_help_flag(f)) return nullptr;
    return f;
  }

  void parse_long(const std::string& s) {
    std::string_view name = std::string_view(s).substr(2);
    if (name.empty() || name[0] == '-' || name[0] == '=') throw Error("bad flag syntax: " + s);
    const size_t eq = name.find('=');
    const std::string_view flag_name = name.substr(0, eq);
    Flag* f = find_long(flag_name);
    if (f == nullptr) {
      if (flag_name == "help") throw_help_requested();
      throw Error("unknown flag: --" + std::string(flag_name));
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = name.substr(eq + 1);
    } else if (takes_no_value(*f)) {
      value = "true";
    } else if (next_ < args_.size()) {
      value = args_[next_++];  // even if it looks like a flag: `--format --raw`
    } else {
      throw Error("flag needs an argument: " + s);
    }
    set(*f, value);
  }

  void parse_short(const std::string& s) {
    std::string_view shorthands = std::string_view(s).substr(1);
    while (!shorthands.empty()) {
      // pflag skips Go test-binary flags (`-test.v`), even inside a group.
      if (starts_with(shorthands, "test.")) return;
      const char c = shorthands[0];
      Flag* f = find_short(c);
      if (f == nullptr) {
        if (c == 'h') throw_help_requested();
        throw Error("unknown shorthand flag: " + quote_byte_as_rune(static_cast<unsigned char>(c)) +
                    " in -" + std::string(shorthands));
      }
      std::string value;
      std::string_view rest;
      if (shorthands.size() > 2 && shorthands[1] == '=') {
        value = shorthands.substr(2);
      } else if (takes_no_value(*f)) {
        value = "true";
        rest = shorthands.substr(1);
      } else if (shorthands.size() > 1) {
        value = shorthands.substr(1);
      } else if (next_ < args_.size()) {
        value = args_[next_++];
      } else {
        throw Error("flag needs an argument: " + quote_byte_as_rune(static_cast<unsigned char>(c)) +
                    " in -" + std::string(shorthands));
      }
      set(*f, value);
      shorthands = rest;
    }
  }

  void set(Flag& f, const std::string& value) {
    try {
      assign(f, value);
    } catch (const Error& e) {
      throw Error("invalid argument " + go_quote(value) + " for " +
                  go_quote(flag_display_name(f)) + " flag: " + e.what());
    }
    f.changed = true;
    if (!f.deprecated.empty()) {
      warnings_ += "Flag --" + f.name + " has been deprecated, " + f.deprecated + "\n";
    }
  }

  FlagSet& fs_;
  const bool help_defined_;
  const std::vector<std::string>& args_;
  size_t next_ = 0;
  std::string warnings_;
};

// cobra's isFlagArg (as fixed after 1.6: "a-b" is not a flag).
bool is_flag_arg(std::string_view arg) {
  return (arg.size() >= 3 && arg.substr(0, 2) == "--") ||
         (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-');
}

std::string replace_newlines(std::string_view s, size_t indent) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out.append(indent, ' ');
  }
  return out;
}

void append_description(std::string& out, const CommandHelp& cmd) {
  const std::string text = trim_right_space(cmd.long_desc.empty() ? cmd.short_desc : cmd.long_desc);
  if (!text.empty()) out += text + "\n\n";
}

}  // namespace

// ---------------------------------------------------------------------------

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    const unsigned char b = static_cast<unsigned char>(s[0]);
    DecodedRune d = b < 0x80 ? DecodedRune{b, 1} : decode_rune(s);
    if (d.width == 1 && d.rune == kRuneError) {
      out += "\\x";
      append_hex(out, b, 2);
    } else {
      append_escaped_rune(out, d.rune, '"');
    }
    s.remove_prefix(d.width);
  }
  out += '"';
  return out;
}

FlagSet::FlagSet(std::string name) : name_(std::move(name)), warnings_(&std::cerr) {
  help_flag_ = &add_bool("help", 'h', &help_, "help for " + name_);
}

Flag& FlagSet::add(std::string name, char shorthand, std::string usage, std::string def_value,
                   Flag::Target target) {
  if (name.empty() || name[0] == '-' || name.find('=') != std::string::npos) {
    throw std::logic_error("bad flag name: " + name);
  }
  if (lookup(name) != nullptr) throw std::logic_error(name_ + " flag redefined: " + name);
  if (shorthand != 0) {
    for (const auto& f : flags_) {
      if (f->shorthand != shorthand) continue;
      // cobra adds -h for help only when no flag of the command claims it.
      if (f.get() != help_flag_) {
        throw std::logic_error(std::string("shorthand -") + shorthand + " redefined by " + name);
      }
      f->shorthand = 0;
    }
  }
  auto flag = std::make_unique<Flag>();
  flag->name = std::move(name);
  flag->shorthand = shorthand;
  flag->usage = std::move(usage);
  flag->def_value = std::move(def_value);
  flag->target = target;
  flags_.push_back(std::move(flag));
  return *flags_.back();
}

Flag& FlagSet::add_bool(std::string name, char shorthand, bool* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), *target ? "true" : "false", target);
}

Flag& FlagSet::add_optional_bool(std::string name, char shorthand, std::optional<bool>* target,
                                 std::string usage) {
  target->reset();
  return add(std::move(name), shorthand, std::move(usage), "false", target);
}

Flag& FlagSet::add_string(std::string name, char shorthand, std::string* target,
                          std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), *target, target);
}

Flag& FlagSet::add_optional_string(std::string name, char shorthand, OptionalString* target,
                                   std::string usage) {
  *target = OptionalString{};
  return add(std::move(name), shorthand, std::move(usage), "", target);
}

Flag& FlagSet::add_int(std::string name, char shorthand, int64_t* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), std::to_string(*target), target);
}

Flag& FlagSet::add_optional_int(std::string name, char shorthand, OptionalInt* target,
                                std::string usage) {
  *target = OptionalInt{};
  return add(std::move(name), shorthand, std::move(usage), "", target);
}

Flag& FlagSet::add_uint(std::string name, char shorthand, uint64_t* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), std::to_string(*target), target);
}

Flag& FlagSet::add_string_slice(std::string name, char shorthand,
                                std::vector<std::string>* target, std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), "[" + write_as_csv(*target) + "]",
             target);
}

Flag& FlagSet::add_int_slice(std::string name, char shorthand, std::vector<int64_t>* target,
                             std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), int_list_string(*target), target);
}

Flag& FlagSet::add_duration(std::string name, char shorthand, Duration* target,
                            std::string usage) {
  return add(std::move(name), shorthand, std::move(usage), format_go_duration(*target), target);
}

Flag& FlagSet::add_alias(std::string alias, const std::string& of) {
  const Flag* orig = lookup(of);
  if (orig == nullptr) throw std::logic_error("alias of undefined flag: " + of);
  Flag& f = add(std::move(alias), 0, orig->usage, orig->def_value, orig->target);
  f.hidden = true;
  return f;
}

void FlagSet::mark_hidden(const std::string& name) {
  Flag* f = lookup(name);
  if (f == nullptr) throw std::logic_error("no such flag: " + name);
  f->hidden = true;
}

void FlagSet::mark_deprecated(const std::string& name, std::string message) {
  Flag* f = lookup(name);
  if (f == nullptr || message.empty()) throw std::logic_error("cannot deprecate flag: " + name);
  f->deprecated = std::move(message);
  f->hidden = true;
}

Flag* FlagSet::lookup(std::string_view name) {
  for (const auto& f : flags_) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

const Flag* FlagSet::lookup(std::string_view name) const {
  return const_cast<FlagSet*>(this)->lookup(name);
}

void FlagSet::set_parent(FlagSet* parent) {
  for (const FlagSet* p = parent; p != nullptr; p = p->parent_) {
    if (p == this) throw std::logic_error("flag set parent cycle");
  }
  parent_ = parent;
}

Flag* FlagSet::find_long(std::string_view name) {
  if (Flag* f = lookup(name)) return f;
  for (FlagSet* p = parent_; p != nullptr; p = p->parent_) {
    Flag* f = p->lookup(name);
    if (f != nullptr && f->persistent) return f;
  }
  return nullptr;
}

Flag* FlagSet::find_short(char c) {
  for (const auto& f : flags_) {
    if (f->shorthand == c) return f.get();
  }
  for (FlagSet* p = parent_; p != nullptr; p = p->parent_) {
    for (const auto& f : p->flags_) {
      // A local flag of the same name shadows the inherited one entirely.
      if (f->shorthand == c && f->persistent && lookup(f->name) == nullptr) return f.get();
    }
  }
  return nullptr;
}

bool FlagSet::is_help_flag(const Flag* f) const { return f == help_flag_; }

std::vector<std::string> FlagSet::parse(const std::vector<std::string>& args) {
  return parse_impl(args, true);
}

std::vector<std::string> FlagSet::parse_impl(const std::vector<std::string>& args,
                                             bool help_defined) {
  Parser parser(*this, help_defined, args);
  std::vector<std::string> positionals = parser.run();
  if (!parser.warnings().empty() && warnings_ != nullptr) *warnings_ << parser.warnings();
  return positionals;
}

std::string FlagSet::usages() const {
  std::vector<const Flag*> visible;
  for (const auto& f : flags_) {
    if (!f->hidden) visible.push_back(f.get());
  }
  std::sort(visible.begin(), visible.end(),
            [](const Flag* a, const Flag* b) { return a->name < b->name; });

  struct Line {
    std::string head, usage;
  };
  std::vector<Line> lines;
  size_t width = 0;
  for (const Flag* f : visible) {
    Line line;
    line.head = f->shorthand != 0 ? std::string("  -") + f->shorthand + ", --" + f->name
                                  : "      --" + f->name;
    // UnquoteUsage: the first `quoted` word names the value.
    std::string varname = type_name(*f);
    line.usage = f->usage;
    const size_t open = f->usage.find('`');
    if (open != std::string::npos) {
      const size_t close = f->usage.find('`', open + 1);
      if (close != std::string::npos) {
        varname = f->usage.substr(open + 1, close - open - 1);
        line.usage = f->usage.substr(0, open) + varname + f->usage.substr(close + 1);
      }
    }
    if (!varname.empty()) line.head += " " + varname;
    width = std::max(width, line.head.size());
    if (!default_is_zero(*f)) {
      const bool quoted = std::holds_alternative<std::string*>(f->target) ||
                          std::holds_alternative<OptionalString*>(f->target);
      line.usage += " (default " + (quoted ? go_quote(f->def_value) : f->def_value) + ")";
    }
    if (!f->deprecated.empty()) line.usage += " (DEPRECATED: " + f->deprecated + ")";
    lines.push_back(std::move(line));
  }

  std::string out;
  for (const Line& line : lines) {
    out += line.head;
    out.append(width - line.head.size() + 3, ' ');
    out += replace_newlines(line.usage, width + 3);
    out += '\n';
  }
  return out;
}

bool FlagSet::has_visible_flags() const {
  return std::any_of(flags_.begin(), flags_.end(), [](const auto& f) { return !f->hidden; });
}

bool FlagSet::has_visible_inherited_flags() const {
  for (const FlagSet* p = parent_; p != nullptr; p = p->parent_) {
    for (const auto& f : p->flags_) {
      if (f->persistent && !f->hidden && lookup(f->name) == nullptr) return true;
    }
  }
  return false;
}

Invocation traverse(FlagSet& root, const std::vector<std::string>& argv,
                    const std::function<bool(std::string_view)>& is_command) {
  // Cobra has not yet added the root's help flag while it looks for the
  // subcommand, so -h/--help count as unknown flags (that take a value) here.
  auto lookup_long = [&](std::string_view name) -> Flag* {
    Flag* f = root.find_long(name);
    return f != nullptr && root.is_help_flag(f) ? nullptr : f;
  };
  auto lookup_short = [&](char c) -> Flag* {
    Flag* f = root.find_short(c);
    return f != nullptr && root.is_help_flag(f) ? nullptr : f;
  };

  std::vector<std::string> flags;
  bool in_flag = false;
  for (size_t i = 0; i < argv.size(); i++) {
    const std::string& arg = argv[i];
    const bool has_eq = arg.find('=') != std::string::npos;
    if (starts_with(arg, "--") && !has_eq) {
      const Flag* f = lookup_long(std::string_view(arg).substr(2));
      in_flag = !(f != nullptr && takes_no_value(*f));
      flags.push_back(arg);
      continue;
    }
    if (starts_with(arg, "-") && !has_eq && arg.size() == 2) {
      const Flag* f = lookup_short(arg[1]);
      if (!(f != nullptr && takes_no_value(*f))) {
        in_flag = true;
        flags.push_back(arg);
        continue;
      }
    }
    if (in_flag) {
      in_flag = false;
      flags.push_back(arg);
      continue;
    }
    if (is_flag_arg(arg)) {
      flags.push_back(arg);
      continue;
    }
    if (!is_command(arg)) break;
    root.parse_impl(flags, false);
    return Invocation{arg, std::vector<std::string>(argv.begin() + static_cast<ptrdiff_t>(i) + 1,
                                                    argv.end())};
  }
  return Invocation{"", argv};
}

std::string CommandHelp::name() const { return use.substr(0, use.find(' ')); }

std::string command_help(std::string_view program, const CommandHelp& cmd, const FlagSet& flags) {
  std::string out;
  append_description(out, cmd);
  out += "Usage:\n";
  out += std::string(program) + " " + cmd.use;
  if (!cmd.example.empty()) out += "\n\nExamples:\n" + cmd.example;
  if (flags.has_visible_flags()) out += "\n\nFlags:\n" + trim_right_space(flags.usages());
  if (flags.has_visible_inherited_flags()) out += "\n";
  out += "\n";
  return out;
}

std::string root_help(std::string_view program, const CommandHelp& root, const FlagSet& flags,
                      const std::vector<CommandHelp>& commands) {
  std::vector<const CommandHelp*> listed;
  size_t pad = 11;  // cobra's minimum name padding
  for (const CommandHelp& c : commands) {
    pad = std::max(pad, c.name().size());
    if (!c.hidden || c.name() == "help") listed.push_back(&c);
  }
  std::sort(listed.begin(), listed.end(),
            [](const CommandHelp* a, const CommandHelp* b) { return a->name() < b->name(); });
  const bool has_subcommands = std::any_of(listed.begin(), listed.end(), [](const CommandHelp* c) {
    return c->name() != "help";
  });

  std::string out;
  append_description(out, root);
  out += "Usage:\n  " + std::string(program);
  if (flags.has_visible_flags()) out += " [flags]";
  if (has_subcommands) out += "\n  " + std::string(program) + " [command]";
  if (!root.example.empty()) out += "\n\nExamples:\n" + root.example;
  if (has_subcommands) {
    out += "\n\nAvailable Commands:";
    for (const CommandHelp* c : listed) {
      std::string name = c->name();
      name.resize(pad, ' ');
      out += "\n  " + name + " " + c->short_desc;
    }
  }
  if (flags.has_visible_flags()) out += "\n\nFlags:\n" + trim_right_space(flags.usages());
  if (has_subcommands) {
    out += "\n\nUse \"" + std::string(program) +
           " [command] --help\" for more information about a command.";
  }
  out += "\n";
  return out;
}

std::string program_name(std::string_view argv0) {
  const size_t slash = argv0.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  return base == "skopeo" ? "skopeo" : "ferry";
}

}  // namespace ferry::cli
