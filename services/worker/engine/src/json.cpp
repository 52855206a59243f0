#include "json.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace loom {

namespace {

// Nesting deeper than this is refused: real configs nest 3-4 levels, and recursion must stay bounded.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(const char* s, size_t n, const std::string& source) : s_(s), n_(n), source_(source) {}

  Json document() {
    Json v = value(0);
    ws();
    if (p_ != n_) fail("trailing characters after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(source_ + ": invalid JSON at byte " + std::to_string(p_) + ": " + why);
  }
  void ws() {
    while (p_ < n_ && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) p_++;
  }
  // Consumes c when it is next.
  bool eat(char c) {
    if (p_ >= n_ || s_[p_] != c) return false;
    p_++;
    return true;
  }
  bool literal(const char* word) {
    const size_t len = std::strlen(word);
    if (n_ - p_ < len || std::memcmp(s_ + p_, word, len) != 0) return false;
    p_ += len;
    return true;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    ws();
    if (p_ >= n_) fail("unexpected end of input");
    Json v;
    const char c = s_[p_];
    if (c == '{') {
      v.kind = Json::Kind::Object;
      p_++;
      ws();
      if (eat('}')) return v;
      for (;;) {
        ws();
        if (p_ >= n_ || s_[p_] != '"') fail("expected a string key");
        std::string key = string();
        ws();
        if (!eat(':')) fail("expected ':'");
        v.members[key] = value(depth + 1);
        ws();
        if (eat(',')) continue;
        if (eat('}')) return v;
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::Array;
      p_++;
      ws();
      if (eat(']')) return v;
      for (;;) {
        v.items.push_back(value(depth + 1));
        ws();
        if (eat(',')) continue;
        if (eat(']')) return v;
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::String;
      v.str = string();
      return v;
    }
    if (literal("true")) {
      v.kind = Json::Kind::Bool;
      v.b = true;
      return v;
    }
    if (literal("false")) {
      v.kind = Json::Kind::Bool;
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Json::Kind::Number;
      v.num = number();
      return v;
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  double number() {
    const size_t start = p_;
    if (s_[p_] == '-') p_++;
    auto digits = [&] {
      const size_t d = p_;
      while (p_ < n_ && s_[p_] >= '0' && s_[p_] <= '9') p_++;
      if (p_ == d) fail("malformed number");
    };
    digits();
    if (eat('.')) digits();
    if (p_ < n_ && (s_[p_] == 'e' || s_[p_] == 'E')) {
      p_++;
      if (p_ < n_ && (s_[p_] == '+' || s_[p_] == '-')) p_++;
      digits();
    }
    // strtod needs a terminated buffer; numbers are short.
    const std::string text(s_ + start, p_ - start);
    return std::strtod(text.c_str(), nullptr);
  }

  unsigned hex4() {
    if (n_ - p_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
      const char h = s_[p_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= (unsigned)(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= (unsigned)(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= (unsigned)(h - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return v;
  }

  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += (char)cp;
    } else if (cp < 0x800) {
      out += (char)(0xc0 | (cp >> 6));
      out += (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += (char)(0xe0 | (cp >> 12));
      out += (char)(0x80 | ((cp >> 6) & 0x3f));
      out += (char)(0x80 | (cp & 0x3f));
    } else {
      out += (char)(0xf0 | (cp >> 18));
      out += (char)(0x80 | ((cp >> 12) & 0x3f));
      out += (char)(0x80 | ((cp >> 6) & 0x3f));
      out += (char)(0x80 | (cp & 0x3f));
    }
  }

  std::string string() {
    p_++;  // opening quote
    std::string out;
    for (;;) {
      if (p_ >= n_) fail("unterminated string");
      const char c = s_[p_++];
      if (c == '"') return out;
      if ((unsigned char)c < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= n_) fail("unterminated escape");
      const char e = s_[p_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xd800 && cp < 0xdc00 && n_ - p_ >= 6 && s_[p_] == '\\' && s_[p_ + 1] == 'u') {
            p_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xdc00 || lo >= 0xe000) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          utf8(out, cp);
          break;
        }
        default:
          fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  const char* s_;
  size_t n_;
  const std::string& source_;
  size_t p_ = 0;
};

}  // namespace

const Json* Json::get(const std::string& key) const {
  if (kind != Kind::Object) return nullptr;
  auto it = members.find(key);
  return it == members.end() ? nullptr : &it->second;
}

Json parseJson(const char* text, size_t len, const std::string& source) { return Parser(text, len, source).document(); }

Json readJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  return parseJson(text.data(), text.size(), path);
}

}  // namespace loom
