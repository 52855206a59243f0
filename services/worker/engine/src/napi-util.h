// Small helpers over plain C N-API (node_api.h). A JsError carries the JS error class to throw.
#pragma once
#include <node_api.h>

#include <cmath>
#include <string>

namespace loom {

enum class JsErrorKind { Error, TypeError, RangeError };

struct JsError {
  JsErrorKind kind;
  std::string message;
};

inline napi_value makeError(napi_env env, const JsError& e) {
  napi_value msg, err;
  napi_create_string_utf8(env, e.message.c_str(), e.message.size(), &msg);
  if (e.kind == JsErrorKind::TypeError)
    napi_create_type_error(env, nullptr, msg, &err);
  else if (e.kind == JsErrorKind::RangeError)
    napi_create_range_error(env, nullptr, msg, &err);
  else
    napi_create_error(env, nullptr, msg, &err);
  return err;
}

inline void throwJs(napi_env env, const JsError& e) { napi_throw(env, makeError(env, e)); }

// The name of a JS value in an error message, a whole name or a prefix and a field ("seqs[2]" + ".topP"), made into
// a string only when an error is thrown: validating a step's fields allocates nothing (a step checks ~20 per sequence).
class What {
 public:
  What(const char* name) : a_(name) {}
  What(const std::string& name) : a_(name.c_str()) {}
  What(const std::string& prefix, const char* field) : a_(prefix.c_str()), b_(field) {}
  std::string str() const { return b_ ? std::string(a_) + b_ : std::string(a_); }

 private:
  const char* a_;  // both borrowed: a What lives no longer than the call it is passed to
  const char* b_ = nullptr;
};

inline napi_value getProp(napi_env env, napi_value obj, const char* key) {
  napi_value v = nullptr;
  napi_get_named_property(env, obj, key, &v);
  return v;
}

inline napi_valuetype typeOf(napi_env env, napi_value v) {
  napi_valuetype t = napi_undefined;
  if (v) napi_typeof(env, v, &t);
  return t;
}

// A finite number, or `fallback` when undefined. Throws JsError (TypeError) otherwise.
inline double numberOr(napi_env env, napi_value v, const What& what, double fallback) {
  const napi_valuetype t = typeOf(env, v);
  if (t == napi_undefined) return fallback;
  double d = 0;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d))
    throw JsError{JsErrorKind::TypeError, what.str() + " must be a finite number"};
  return d;
}

// An integer in [lo, hi], or `fallback` when undefined (pass a fallback outside [lo, hi] to make it required).
inline double intIn(napi_env env, napi_value v, const What& what, double lo, double hi, double fallback) {
  const bool required = fallback < lo || fallback > hi;
  if (required && typeOf(env, v) == napi_undefined)
    throw JsError{JsErrorKind::TypeError, what.str() + " is required (an integer)"};
  const double d = numberOr(env, v, what, fallback);
  if (d != std::floor(d))
    throw JsError{JsErrorKind::TypeError, what.str() + " must be an integer, got " + std::to_string(d)};
  if (d < lo || d > hi)
    throw JsError{JsErrorKind::RangeError, what.str() + " = " + std::to_string((long long)d) + " is out of range [" +
                                               std::to_string((long long)lo) + ", " + std::to_string((long long)hi) +
                                               "]"};
  return d;
}

inline std::string stringOr(napi_env env, napi_value v, const What& what, const std::string& fallback) {
  const napi_valuetype t = typeOf(env, v);
  if (t == napi_undefined) return fallback;
  if (t != napi_string) throw JsError{JsErrorKind::TypeError, what.str() + " must be a string"};
  size_t n = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &n);
  std::string s(n, '\0');
  napi_get_value_string_utf8(env, v, &s[0], n + 1, &n);
  return s;
}

// A typed array's elements when it is of type `want`; throws "<what> must be <kind>" as a
// TypeError for anything else (another array type included).
template <typename T>
inline const T* typedArrayOf(napi_env env, napi_value v, napi_typedarray_type want, const char* kind, const What& what,
                             size_t* length) {
  bool is = false;
  if (v) napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  void* data = nullptr;
  if (!is || napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr) != napi_ok || type != want)
    throw JsError{JsErrorKind::TypeError, what.str() + " must be " + kind};
  return static_cast<const T*>(data);
}

inline const int32_t* int32Array(napi_env env, napi_value v, const What& what, size_t* length) {
  return typedArrayOf<int32_t>(env, v, napi_int32_array, "an Int32Array", what, length);
}

inline const float* float32Array(napi_env env, napi_value v, const What& what, size_t* length) {
  return typedArrayOf<float>(env, v, napi_float32_array, "a Float32Array", what, length);
}

inline const uint8_t* uint8Array(napi_env env, napi_value v, const What& what, size_t* length) {
  return typedArrayOf<uint8_t>(env, v, napi_uint8_array, "a Uint8Array", what, length);
}

inline napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

inline napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

// A new typed array (Int32Array / Float32Array) holding a copy of n elements.
template <class T>
napi_value copyTypedArray(napi_env env, napi_typedarray_type type, const T* src, size_t n) {
  void* data = nullptr;
  napi_value ab, ta;
  napi_create_arraybuffer(env, n * sizeof(T), &data, &ab);
  if (n) __builtin_memcpy(data, src, n * sizeof(T));
  napi_create_typedarray(env, type, n, ab, 0, &ta);
  return ta;
}

}  // namespace loom
