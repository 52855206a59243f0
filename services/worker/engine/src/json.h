// A small, strict JSON reader (RFC 8259) for the two JSON inputs of a Hugging Face model directory: the
// safetensors header and config.json (+ the shard index). The engine needs it for the safetensors header
// anyway, so config.json is read here too and `new Engine(dir)` stays self-contained (the C++ check and
// bench tools load directories without Node). Numbers are doubles; \uXXXX escapes (surrogate pairs
// included) decode to UTF-8. Errors are std::runtime_error "<source>: invalid JSON at byte N: <why>".
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom {

struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> items;              // Array
  std::map<std::string, Json> members;  // Object (a repeated key: the last one wins, as in Python's json)

  bool isNull() const { return kind == Kind::Null; }
  bool isNumber() const { return kind == Kind::Number; }
  bool isString() const { return kind == Kind::String; }
  bool isObject() const { return kind == Kind::Object; }
  bool isArray() const { return kind == Kind::Array; }
  // Member `key` of an object, or nullptr (also when this is not an object).
  const Json* get(const std::string& key) const;
};

// Parses `text` (one JSON value, surrounded by whitespace only). `source` names it in errors.
Json parseJson(const char* text, size_t len, const std::string& source);

// The whole file at `path` parsed; errors name the file.
Json readJsonFile(const std::string& path);

}  // namespace loom
