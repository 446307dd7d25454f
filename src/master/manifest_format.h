// Constants of the MANIFEST file, the one mutable object of the master
// dataset. Prose specification: docs/formats/manifest.md.
#pragma once

#include <cstdint>

namespace lf::manifest_format {

inline constexpr char kFileName[] = "MANIFEST";
// First line: "<kMagic> <version>".
inline constexpr char kMagic[] = "lambdaflow-manifest";
inline constexpr uint32_t kVersion = 1;
// Last line (in every version): "checksum <16 hex digits>", the xxh64
// (seed 0) of every byte before that line.
inline constexpr char kChecksumKeyword[] = "checksum";
// A manifest larger than this is refused as corrupt without being parsed.
inline constexpr uint64_t kMaxBytes = 1ull << 30;

}  // namespace lf::manifest_format
