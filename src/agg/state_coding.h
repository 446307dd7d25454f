// Little-endian fixed-width encoding of aggregate states (docs/aggregates.md).
// Readers take a std::string_view*, consume what they read, and return false
// (consuming nothing useful) when the input is too short, so that a decoder
// built from them turns truncated or garbage input into Status::Corruption.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lf::agg_coding {

inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

inline void PutU16(std::string* out, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out->append(b, 2);
}

inline void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

inline void PutI64(std::string* out, int64_t v) { PutU64(out, static_cast<uint64_t>(v)); }
inline void PutF64(std::string* out, double v) { PutU64(out, std::bit_cast<uint64_t>(v)); }

// Two's complement, low 64 bits first.
inline void PutI128(std::string* out, __int128 v) {
  auto u = static_cast<unsigned __int128>(v);
  PutU64(out, static_cast<uint64_t>(u));
  PutU64(out, static_cast<uint64_t>(u >> 64));
}

inline bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

inline bool GetU16(std::string_view* in, uint16_t* v) {
  if (in->size() < 2) return false;
  auto b = reinterpret_cast<const unsigned char*>(in->data());
  *v = static_cast<uint16_t>(b[0] | (b[1] << 8));
  in->remove_prefix(2);
  return true;
}

inline bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  auto b = reinterpret_cast<const unsigned char*>(in->data());
  *v = uint32_t{b[0]} | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 24);
  in->remove_prefix(4);
  return true;
}

inline void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}

inline bool GetU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  auto b = reinterpret_cast<const unsigned char*>(in->data());
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | b[i];
  *v = x;
  in->remove_prefix(8);
  return true;
}

inline bool GetI64(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetU64(in, &u)) return false;
  *v = static_cast<int64_t>(u);
  return true;
}

inline bool GetF64(std::string_view* in, double* v) {
  uint64_t u;
  if (!GetU64(in, &u)) return false;
  *v = std::bit_cast<double>(u);
  return true;
}

inline bool GetI128(std::string_view* in, __int128* v) {
  uint64_t lo, hi;
  if (!GetU64(in, &lo) || !GetU64(in, &hi)) return false;
  *v = static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
  return true;
}

}  // namespace lf::agg_coding
