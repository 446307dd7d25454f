// Sidecar writer and reader. The reader validates a row group once when it
// loads it (checksum, then every length, offset and dictionary code against
// the group's bounds), so that handing out batches is plain copying.
#include "master/column_file.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/string_arena.h"
#include "master/segment_format.h"

namespace lf {
namespace {

namespace sf = segment_format;
static_assert(std::endian::native == std::endian::little, "the sidecar codec assumes a little-endian host");
// Type ids and reject reasons are stored by value (docs/formats/master_segment.md).
static_assert(static_cast<int>(TypeId::kBoolean) == 1 && static_cast<int>(TypeId::kInt) == 2 &&
                  static_cast<int>(TypeId::kBigInt) == 3 && static_cast<int>(TypeId::kDouble) == 4 &&
                  static_cast<int>(TypeId::kText) == 5 && static_cast<int>(TypeId::kTimestamp) == 6,
              "sidecar type ids changed");
static_assert(static_cast<int>(RejectReason::kMalformedJson) == 0 &&
                  static_cast<int>(RejectReason::kDuplicateField) == 9 && kNumRejectReasons == 10,
              "sidecar reject reasons changed");

void PutU8(std::string* s, uint8_t v) { s->push_back(static_cast<char>(v)); }
void PutU16(std::string* s, uint16_t v) { s->append(reinterpret_cast<const char*>(&v), 2); }
void PutU32(std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* s, uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); }
void Pad8(std::string* s) { s->append((8 - s->size() % 8) % 8, '\0'); }

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint8_t WidthFor(uint64_t range) {
  if (range == 0) return 0;
  if (range <= 0xff) return 1;
  if (range <= 0xffff) return 2;
  if (range <= 0xffffffffu) return 4;
  return 8;
}

template <typename U>
void PutDeltas(std::string* s, const std::vector<int64_t>& v, const std::vector<uint8_t>& valid, uint64_t base) {
  size_t at = s->size();
  s->resize(at + v.size() * sizeof(U));
  char* p = s->data() + at;
  for (size_t i = 0; i < v.size(); ++i) {
    U d = valid[i] ? static_cast<U>(static_cast<uint64_t>(v[i]) - base) : 0;
    std::memcpy(p + i * sizeof(U), &d, sizeof(U));
  }
}

template <typename U>
void GetDeltas(const char* p, size_t n, uint64_t base, int64_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(base + Load<U>(p + i * sizeof(U)));
}

template <typename U>
void GetDictViews(const char* codes, size_t n, const std::string_view* dict, std::string_view* out) {
  for (size_t i = 0; i < n; ++i) out[i] = dict[Load<U>(codes + i * sizeof(U))];
}

template <typename U>
bool CodesBelow(const char* codes, size_t n, uint32_t limit) {
  U max = 0;
  for (size_t i = 0; i < n; ++i) max = std::max(max, Load<U>(codes + i * sizeof(U)));
  return n == 0 || max < limit;
}

// True if the u32 offsets at `p` (count n + 1) start at 0, never decrease
// and end at most at `limit`.
bool OffsetsOk(const char* p, size_t n, uint64_t limit) {
  if (Load<uint32_t>(p) != 0) return false;
  uint32_t prev = 0;
  bool ok = true;
  for (size_t i = 1; i <= n; ++i) {
    uint32_t o = Load<uint32_t>(p + 4 * i);
    ok &= o >= prev;
    prev = o;
  }
  return ok && prev <= limit;
}

}  // namespace

// --- Writer ------------------------------------------------------------------

struct ColumnFileWriter::HashState {
  XXH64_state_t* s = XXH64_createState();
  HashState() { XXH64_reset(s, 0); }
  ~HashState() { XXH64_freeState(s); }
};

// The open row group's values of one column.
struct ColumnFileWriter::ColumnBuilder {
  explicit ColumnBuilder(TypeId t) : type(t), phys(PhysicalOf(t)) {}

  const TypeId type;
  const PhysicalType phys;
  std::vector<uint8_t> valid;
  size_t nulls = 0;
  std::vector<int64_t> ints;
  std::vector<double> dbls;
  std::string bytes;                 // text, concatenated
  std::vector<uint32_t> offsets{0};  // text, rows + 1
  bool dict_ok = true;               // still at most kMaxDictEntries distinct values
  StringArena dict_arena;
  std::unordered_map<std::string_view, uint32_t> dict;
  std::vector<std::string_view> dict_order;
  std::vector<uint32_t> codes;

  void Reset() {
    valid.clear();
    nulls = 0;
    ints.clear();
    dbls.clear();
    bytes.clear();
    offsets.assign(1, 0);
    dict_ok = true;
    dict.clear();
    dict_order.clear();
    dict_arena.Reset();
    codes.clear();
  }

  size_t ApproxBytes() const { return valid.size() * 9 + bytes.size() + offsets.size() * 4; }

  void Append(const Vector& v, size_t begin, size_t n) {
    for (size_t i = begin; i < begin + n; ++i) {
      const uint8_t ok = v.valid[i] ? 1 : 0;
      valid.push_back(ok);
      nulls += !ok;
      switch (phys) {
        case PhysicalType::kInt64:
          ints.push_back(ok ? v.ints[i] : 0);
          break;
        case PhysicalType::kDouble:
          dbls.push_back(ok ? v.dbls[i] : 0.0);
          break;
        case PhysicalType::kString:
          AppendText(ok ? v.strs[i] : std::string_view(), ok);
          break;
      }
    }
  }

  void AppendText(std::string_view s, bool ok) {
    bytes.append(s);
    offsets.push_back(static_cast<uint32_t>(bytes.size()));
    if (!dict_ok) return;
    if (!ok) {
      codes.push_back(0);
      return;
    }
    auto it = dict.find(s);
    if (it != dict.end()) {
      codes.push_back(it->second);
      return;
    }
    if (dict_order.size() >= sf::kMaxDictEntries) {
      dict_ok = false;
      return;
    }
    std::string_view kept = dict_arena.Copy(s);
    uint32_t code = static_cast<uint32_t>(dict_order.size());
    dict.emplace(kept, code);
    dict_order.push_back(kept);
    codes.push_back(code);
  }

  // Appends this column's chunk to `body` (whose size is a multiple of 8).
  void Encode(std::string* body) const {
    const size_t rows = valid.size();
    uint8_t validity = nulls == 0 ? sf::kValidityAll : nulls == rows ? sf::kValidityNone : sf::kValidityBytes;
    uint8_t encoding = 0, width = 0;
    uint32_t aux = 0;
    uint64_t base = 0;
    bool use_dict = false;
    switch (phys) {
      case PhysicalType::kInt64: {
        encoding = sf::kEncodingIntFor;
        bool any = false;
        int64_t lo = 0, hi = 0;
        for (size_t i = 0; i < rows; ++i) {
          if (!valid[i]) continue;
          lo = any ? std::min(lo, ints[i]) : ints[i];
          hi = any ? std::max(hi, ints[i]) : ints[i];
          any = true;
        }
        base = static_cast<uint64_t>(lo);
        width = WidthFor(static_cast<uint64_t>(hi) - base);
        break;
      }
      case PhysicalType::kDouble:
        encoding = sf::kEncodingDoublePlain;
        break;
      case PhysicalType::kString: {
        const uint32_t d = static_cast<uint32_t>(dict_order.size());
        if (dict_ok && d > 0) {
          uint8_t w = d <= 0x100 ? 1 : d <= 0x10000 ? 2 : 4;
          size_t dict_bytes = 0;
          for (auto s : dict_order) dict_bytes += s.size();
          size_t dict_size = 4 * (d + 1) + dict_bytes + 8 + rows * w;
          size_t plain_size = 4 * (rows + 1) + bytes.size();
          use_dict = dict_size < plain_size;
          if (use_dict) {
            width = w;
            aux = d;
          }
        }
        encoding = use_dict ? sf::kEncodingTextDict : sf::kEncodingTextPlain;
        break;
      }
    }
    PutU8(body, validity);
    PutU8(body, encoding);
    PutU8(body, width);
    PutU8(body, 0);
    PutU32(body, aux);
    PutU64(body, base);
    if (validity == sf::kValidityBytes) {
      body->append(reinterpret_cast<const char*>(valid.data()), rows);
      Pad8(body);
    }
    switch (encoding) {
      case sf::kEncodingIntFor:
        switch (width) {
          case 1:
            PutDeltas<uint8_t>(body, ints, valid, base);
            break;
          case 2:
            PutDeltas<uint16_t>(body, ints, valid, base);
            break;
          case 4:
            PutDeltas<uint32_t>(body, ints, valid, base);
            break;
          case 8:
            PutDeltas<uint64_t>(body, ints, valid, base);
            break;
          default:
            break;
        }
        break;
      case sf::kEncodingDoublePlain:
        body->append(reinterpret_cast<const char*>(dbls.data()), rows * sizeof(double));
        break;
      case sf::kEncodingTextPlain:
        body->append(reinterpret_cast<const char*>(offsets.data()), offsets.size() * 4);
        body->append(bytes);
        break;
      case sf::kEncodingTextDict: {
        uint32_t off = 0;
        PutU32(body, 0);
        for (auto s : dict_order) PutU32(body, off += static_cast<uint32_t>(s.size()));
        for (auto s : dict_order) body->append(s);
        Pad8(body);
        for (uint32_t c : codes) {
          if (width == 1)
            PutU8(body, static_cast<uint8_t>(c));
          else if (width == 2)
            PutU16(body, static_cast<uint16_t>(c));
          else
            PutU32(body, c);
        }
        break;
      }
    }
    Pad8(body);
  }
};

ColumnFileWriter::ColumnFileWriter(const StreamSchema& schema, const ColumnFileKey& key, uint32_t group_rows,
                                   WritableFile* out)
    : schema_(schema), key_(key), group_rows_(group_rows), out_(out), hash_(std::make_unique<HashState>()) {
  CHECK(group_rows_ > 0 && group_rows_ <= sf::kMaxGroupRows, "row group size out of range");
  for (const auto& c : schema_.columns) cols_.push_back(std::make_unique<ColumnBuilder>(c.type));
  // Header.
  std::string h(sf::kColsMagic, 8);
  PutU32(&h, sf::kColsVersion);
  PutU32(&h, 0);  // length, patched below
  PutU64(&h, key_.schema_fingerprint);
  PutU32(&h, static_cast<uint32_t>(key_.partition));
  PutU32(&h, static_cast<uint32_t>(schema_.columns.size()));
  PutU64(&h, key_.from);
  PutU64(&h, key_.to);
  PutU32(&h, group_rows_);
  PutU32(&h, 0);
  for (const auto& c : schema_.columns) {
    PutU8(&h, static_cast<uint8_t>(c.type));
    PutU8(&h, c.not_null ? 1 : 0);
    PutU16(&h, static_cast<uint16_t>(std::min<size_t>(c.name.size(), 0xffff)));
    h.append(c.name.substr(0, 0xffff));
  }
  Pad8(&h);
  uint32_t len = static_cast<uint32_t>(h.size() + 8);
  std::memcpy(h.data() + sf::kHeaderLength, &len, 4);
  PutU64(&h, XXH64(h.data(), h.size(), 0));
  status_ = Write(h);
}

ColumnFileWriter::~ColumnFileWriter() = default;

uint64_t ColumnFileWriter::hash() const { return XXH64_digest(hash_->s); }

Status ColumnFileWriter::Write(std::string_view data) {
  RETURN_IF_ERROR(out_->Append(data));
  XXH64_update(hash_->s, data.data(), data.size());
  bytes_ += data.size();
  return Status::OK();
}

Status ColumnFileWriter::Add(const Batch& batch, size_t begin, size_t end) {
  RETURN_IF_ERROR(status_);
  CHECK(batch.columns.size() == cols_.size(), "batch does not match the schema");
  CHECK(begin <= end && end <= batch.size, "row range outside the batch");
  size_t done = begin;
  while (done < end) {
    // At most kSliceRows rows between budget checks, so that a group's text
    // stays far below 4 GiB (u32 offsets) even with 8 MiB events.
    constexpr size_t kSliceRows = 256;
    size_t n = std::min<size_t>({end - done, group_rows_ - group_size_, kSliceRows});
    for (size_t c = 0; c < cols_.size(); ++c) cols_[c]->Append(batch.columns[c], done, n);
    done += n;
    group_size_ += static_cast<uint32_t>(n);
    rows_ += n;
    size_t approx = 0;
    for (const auto& c : cols_) approx += c->ApproxBytes();
    if (group_size_ == group_rows_ || approx >= sf::kGroupByteBudget) {
      status_ = FlushGroup();
      RETURN_IF_ERROR(status_);
    }
  }
  return Status::OK();
}

Status ColumnFileWriter::FlushGroup() {
  if (group_size_ == 0) return Status::OK();
  body_.clear();
  for (const auto& c : cols_) c->Encode(&body_);
  RETURN_IF_ERROR(Write(body_));
  groups_.push_back({group_size_, body_.size(), XXH64(body_.data(), body_.size(), 0)});
  for (auto& c : cols_) c->Reset();
  group_size_ = 0;
  return Status::OK();
}

Status ColumnFileWriter::Finish() {
  RETURN_IF_ERROR(status_);
  RETURN_IF_ERROR(FlushGroup());
  std::sort(rejects_.begin(), rejects_.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
  const uint64_t trailer_offset = bytes_;
  std::string t;
  PutU64(&t, rows_);
  PutU64(&t, groups_.size());
  PutU64(&t, rejects_.size());
  for (const auto& g : groups_) {
    PutU32(&t, g.rows);
    PutU32(&t, 0);
    PutU64(&t, g.bytes);
    PutU64(&t, g.hash);
  }
  for (const auto& r : rejects_) {
    PutU64(&t, r.offset);
    PutU32(&t, static_cast<uint32_t>(r.reason));
    PutU32(&t, 0);
  }
  PutU64(&t, XXH64(t.data(), t.size(), 0));
  const uint64_t trailer_len = t.size();
  PutU64(&t, trailer_offset);
  PutU64(&t, trailer_len);
  t.append(sf::kColsTailMagic, 8);
  return Write(t);
}

// --- Reader ------------------------------------------------------------------

// One column of the loaded row group: pointers into the group buffer.
struct ColumnFileReader::Chunk {
  uint8_t validity = 0, encoding = 0, width = 0;
  uint64_t base = 0;
  const char* valid = nullptr;
  const char* data = nullptr;   // deltas, doubles, text offsets, or dictionary codes
  const char* bytes = nullptr;  // text bytes (plain)
  std::vector<std::string_view> dict;
};

ColumnFileReader::ColumnFileReader(std::unique_ptr<RandomAccessFile> file, std::string path, std::vector<TypeId> types)
    : file_(std::move(file)), path_(std::move(path)), types_(std::move(types)), chunks_(types_.size()) {}

ColumnFileReader::~ColumnFileReader() = default;

Result<std::unique_ptr<ColumnFileReader>> ColumnFileReader::Open(FileSystem* fs, const std::string& path,
                                                                 const StreamSchema& schema, const ColumnFileKey& key) {
  ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  return Open(std::move(file), path, schema, key);
}

Result<std::unique_ptr<ColumnFileReader>> ColumnFileReader::Open(std::unique_ptr<RandomAccessFile> file,
                                                                 const std::string& path, const StreamSchema& schema,
                                                                 const ColumnFileKey& key) {
  auto corrupt = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  auto stale = [&](const std::string& what) { return Status::InvalidArgument(path + ": stale: " + what); };
  const uint64_t size = file->size();
  auto read_exact = [&](uint64_t off, size_t n, std::string* out) -> Status {
    out->resize(n);
    ASSIGN_OR_RETURN(size_t got, file->Read(off, n, out->data()));
    if (got != n) return corrupt("short read at " + std::to_string(off));
    return Status::OK();
  };
  if (size < sf::kHeaderFixedSize + 8 + sf::kTrailerFixedSize + 8 + sf::kTailSize) return corrupt("truncated");
  std::string h;
  RETURN_IF_ERROR(read_exact(0, sf::kHeaderFixedSize, &h));
  if (std::memcmp(h.data(), sf::kColsMagic, 8) != 0) return corrupt("not a sidecar file (bad magic)");
  const uint32_t version = Load<uint32_t>(h.data() + sf::kHeaderVersion);
  if (version > sf::kColsVersion) {
    return stale("format version " + std::to_string(version) + " is newer than this build reads (" +
                 std::to_string(sf::kColsVersion) + ")");
  }
  const uint32_t hlen = Load<uint32_t>(h.data() + sf::kHeaderLength);
  if (version != sf::kColsVersion || hlen < sf::kHeaderFixedSize + 8 || hlen % 8 != 0 || hlen > size - sf::kTailSize) {
    return corrupt("bad header");
  }
  RETURN_IF_ERROR(read_exact(0, hlen, &h));
  if (XXH64(h.data(), hlen - 8, 0) != Load<uint64_t>(h.data() + hlen - 8)) return corrupt("header checksum mismatch");
  const uint64_t fp = Load<uint64_t>(h.data() + sf::kHeaderFingerprint);
  const uint32_t part = Load<uint32_t>(h.data() + sf::kHeaderPartition);
  const uint64_t from = Load<uint64_t>(h.data() + sf::kHeaderFrom);
  const uint64_t to = Load<uint64_t>(h.data() + sf::kHeaderTo);
  const uint32_t max_group = Load<uint32_t>(h.data() + sf::kHeaderGroupRows);
  const uint32_t ncols = Load<uint32_t>(h.data() + sf::kHeaderColumns);
  char fps[40];
  std::snprintf(fps, sizeof fps, "%016" PRIx64, fp);
  if (fp != key.schema_fingerprint) return stale(std::string("built for another schema (") + fps + ")");
  if (part != static_cast<uint32_t>(key.partition) || from != key.from || to != key.to) {
    return stale("built for another segment");
  }
  if (ncols != schema.columns.size()) return stale("column count differs from the schema");
  size_t pos = sf::kHeaderFixedSize;
  for (const auto& c : schema.columns) {
    if (pos + 4 > hlen - 8) return corrupt("bad header");
    uint16_t name_len = Load<uint16_t>(h.data() + pos + 2);
    if (static_cast<uint8_t>(h[pos]) != static_cast<uint8_t>(c.type)) return stale("column types differ");
    pos += 4 + name_len;
  }
  if (pos > hlen - 8 || max_group == 0 || max_group > sf::kMaxGroupRows) return corrupt("bad header");

  // Tail and trailer.
  std::string tail;
  RETURN_IF_ERROR(read_exact(size - sf::kTailSize, sf::kTailSize, &tail));
  if (std::memcmp(tail.data() + 16, sf::kColsTailMagic, 8) != 0) return corrupt("truncated (no tail)");
  const uint64_t toff = Load<uint64_t>(tail.data());
  const uint64_t tlen = Load<uint64_t>(tail.data() + 8);
  if (toff < hlen || tlen < sf::kTrailerFixedSize + 8 || toff > size || tlen != size - sf::kTailSize - toff) {
    return corrupt("bad tail");
  }
  std::string t;
  RETURN_IF_ERROR(read_exact(toff, tlen, &t));
  if (XXH64(t.data(), tlen - 8, 0) != Load<uint64_t>(t.data() + tlen - 8)) return corrupt("trailer checksum mismatch");
  const uint64_t rows = Load<uint64_t>(t.data());
  const uint64_t ngroups = Load<uint64_t>(t.data() + 8);
  const uint64_t nrejects = Load<uint64_t>(t.data() + 16);
  if (ngroups > tlen || nrejects > tlen ||
      tlen != sf::kTrailerFixedSize + ngroups * sf::kGroupEntrySize + nrejects * sf::kRejectEntrySize + 8) {
    return corrupt("bad trailer");
  }
  // Fewer than the range where the source's offsets have gaps; the store
  // checks the exact count against its manifest.
  if (rows + nrejects > to - from) return corrupt("row and reject counts exceed the segment's range");
  auto reader = std::unique_ptr<ColumnFileReader>(new ColumnFileReader(std::move(file), path, schema.types()));
  reader->rows_ = rows;
  uint64_t off = hlen, first_row = 0;
  const char* p = t.data() + sf::kTrailerFixedSize;
  for (uint64_t g = 0; g < ngroups; ++g, p += sf::kGroupEntrySize) {
    Group gr{Load<uint32_t>(p), off, Load<uint64_t>(p + 8), Load<uint64_t>(p + 16), first_row};
    if (gr.rows == 0 || gr.rows > max_group || gr.bytes > toff - off || gr.bytes % 8 != 0) {
      return corrupt("bad row group index");
    }
    off += gr.bytes;
    first_row += gr.rows;
    reader->groups_.push_back(gr);
  }
  if (off != toff || first_row != rows) return corrupt("row group index does not cover the file");
  for (uint64_t r = 0; r < nrejects; ++r, p += sf::kRejectEntrySize) {
    ColumnFileReject rj{Load<uint64_t>(p), static_cast<RejectReason>(Load<uint32_t>(p + 8))};
    if (rj.offset < from || rj.offset >= to || Load<uint32_t>(p + 8) >= kNumRejectReasons ||
        (!reader->rejects_.empty() && rj.offset <= reader->rejects_.back().offset)) {
      return corrupt("bad reject list");
    }
    reader->rejects_.push_back(rj);
  }
  return reader;
}

void ColumnFileReader::SeekToRow(uint64_t row) {
  CHECK(row <= rows_, "seek beyond the end of a sidecar");
  auto it =
      std::upper_bound(groups_.begin(), groups_.end(), row, [](uint64_t r, const Group& g) { return r < g.first_row; });
  if (it == groups_.begin()) {
    group_ = 0;
    in_group_ = 0;
    return;
  }
  group_ = static_cast<size_t>(it - groups_.begin()) - 1;
  in_group_ = static_cast<uint32_t>(row - groups_[group_].first_row);
}

Status ColumnFileReader::LoadGroup(size_t g) {
  const Group& gr = groups_[g];
  if (gr.bytes > buf_cap_) {
    uint64_t max = 0;
    for (const auto& x : groups_) max = std::max(max, x.bytes);
    buf_ = std::make_unique_for_overwrite<char[]>(max);
    buf_cap_ = max;
  }
  loaded_ = SIZE_MAX;
  ASSIGN_OR_RETURN(size_t got, file_->Read(gr.offset, gr.bytes, buf_.get()));
  if (got != gr.bytes) return Status::Corruption(path_ + ": short read of row group " + std::to_string(g));
  if (XXH64(buf_.get(), gr.bytes, 0) != gr.hash) {
    return Status::Corruption(path_ + ": row group " + std::to_string(g) + " checksum mismatch");
  }
  RETURN_IF_ERROR(ParseGroup(g));
  loaded_ = g;
  return Status::OK();
}

Status ColumnFileReader::ParseGroup(size_t g) {
  const Group& gr = groups_[g];
  const size_t rows = gr.rows;
  const char* body = buf_.get();
  const uint64_t end = gr.bytes;
  uint64_t pos = 0;
  auto bad = [&](size_t c, const char* what) {
    return Status::Corruption(path_ + ": row group " + std::to_string(g) + " column " + std::to_string(c) + ": " +
                              what);
  };
  auto take = [&](uint64_t n, const char** out) {
    if (n > end - pos) return false;
    *out = body + pos;
    pos += (n + 7) / 8 * 8;
    return pos <= end;
  };
  for (size_t c = 0; c < types_.size(); ++c) {
    Chunk& ch = chunks_[c];
    const char* hdr;
    if (!take(sf::kChunkHeaderSize, &hdr)) return bad(c, "truncated chunk header");
    ch.validity = static_cast<uint8_t>(hdr[0]);
    ch.encoding = static_cast<uint8_t>(hdr[1]);
    ch.width = static_cast<uint8_t>(hdr[2]);
    const uint32_t aux = Load<uint32_t>(hdr + 4);
    ch.base = Load<uint64_t>(hdr + 8);
    if (ch.validity > sf::kValidityBytes) return bad(c, "bad validity kind");
    if (ch.validity == sf::kValidityBytes && !take(rows, &ch.valid)) return bad(c, "truncated validity");
    const PhysicalType phys = PhysicalOf(types_[c]);
    switch (ch.encoding) {
      case sf::kEncodingIntFor:
        if (phys != PhysicalType::kInt64) return bad(c, "encoding does not fit the column type");
        if (ch.width != 0 && ch.width != 1 && ch.width != 2 && ch.width != 4 && ch.width != 8) {
          return bad(c, "bad width");
        }
        if (!take(rows * ch.width, &ch.data)) return bad(c, "truncated data");
        break;
      case sf::kEncodingDoublePlain:
        if (phys != PhysicalType::kDouble) return bad(c, "encoding does not fit the column type");
        if (!take(rows * 8, &ch.data)) return bad(c, "truncated data");
        break;
      case sf::kEncodingTextPlain: {
        if (phys != PhysicalType::kString) return bad(c, "encoding does not fit the column type");
        // Offsets and bytes are one padded section.
        if ((rows + 1) * 4 > end - pos) return bad(c, "truncated offsets");
        ch.data = body + pos;
        ch.bytes = ch.data + (rows + 1) * 4;
        if (!OffsetsOk(ch.data, rows, end - pos - (rows + 1) * 4)) return bad(c, "bad text offsets");
        const char* unused;
        if (!take((rows + 1) * 4 + Load<uint32_t>(ch.data + rows * 4), &unused)) return bad(c, "truncated text");
        break;
      }
      case sf::kEncodingTextDict: {
        if (phys != PhysicalType::kString) return bad(c, "encoding does not fit the column type");
        if (aux == 0 || aux > sf::kMaxDictEntries || (ch.width != 1 && ch.width != 2 && ch.width != 4)) {
          return bad(c, "bad dictionary");
        }
        const uint64_t dn = aux;
        if ((dn + 1) * 4 > end - pos) return bad(c, "truncated dictionary");
        const char* offs = body + pos;
        if (!OffsetsOk(offs, dn, end - pos - (dn + 1) * 4)) return bad(c, "bad dictionary offsets");
        const char* dict_start;
        if (!take((dn + 1) * 4 + Load<uint32_t>(offs + dn * 4), &dict_start)) return bad(c, "truncated dictionary");
        const char* dict_bytes = offs + (dn + 1) * 4;
        ch.dict.resize(dn);
        for (uint64_t i = 0; i < dn; ++i) {
          uint32_t a = Load<uint32_t>(offs + 4 * i), b = Load<uint32_t>(offs + 4 * i + 4);
          ch.dict[i] = std::string_view(dict_bytes + a, b - a);
        }
        if (!take(rows * ch.width, &ch.data)) return bad(c, "truncated codes");
        bool ok = ch.width == 1   ? CodesBelow<uint8_t>(ch.data, rows, aux)
                  : ch.width == 2 ? CodesBelow<uint16_t>(ch.data, rows, aux)
                                  : CodesBelow<uint32_t>(ch.data, rows, aux);
        if (!ok) return bad(c, "dictionary code out of range");
        break;
      }
      default:
        return bad(c, "unknown encoding");
    }
  }
  if (pos != end) return Status::Corruption(path_ + ": row group " + std::to_string(g) + " has trailing bytes");
  return Status::OK();
}

Result<bool> ColumnFileReader::Next(Batch* batch) {
  while (group_ < groups_.size() && in_group_ == groups_[group_].rows) {
    ++group_;
    in_group_ = 0;
  }
  batch->size = 0;
  if (group_ >= groups_.size()) return false;
  if (loaded_ != group_) RETURN_IF_ERROR(LoadGroup(group_));
  const size_t r0 = in_group_;
  const size_t n = std::min<size_t>(batch->capacity(), groups_[group_].rows - r0);
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const Chunk& ch = chunks_[c];
    Vector& v = batch->columns[c];
    uint8_t* valid = v.valid.data();
    if (ch.validity == sf::kValidityAll)
      std::memset(valid, 1, n);
    else if (ch.validity == sf::kValidityNone)
      std::memset(valid, 0, n);
    else
      std::memcpy(valid, ch.valid + r0, n);
    switch (ch.encoding) {
      case sf::kEncodingIntFor: {
        int64_t* out = v.ints.data();
        switch (ch.width) {
          case 0:
            std::fill(out, out + n, static_cast<int64_t>(ch.base));
            break;
          case 1:
            GetDeltas<uint8_t>(ch.data + r0, n, ch.base, out);
            break;
          case 2:
            GetDeltas<uint16_t>(ch.data + r0 * 2, n, ch.base, out);
            break;
          case 4:
            GetDeltas<uint32_t>(ch.data + r0 * 4, n, ch.base, out);
            break;
          default:
            GetDeltas<uint64_t>(ch.data + r0 * 8, n, ch.base, out);
            break;
        }
        break;
      }
      case sf::kEncodingDoublePlain:
        std::memcpy(v.dbls.data(), ch.data + r0 * 8, n * 8);
        break;
      case sf::kEncodingTextPlain: {
        std::string_view* out = v.strs.data();
        const char* offs = ch.data + r0 * 4;
        uint32_t a = Load<uint32_t>(offs);
        for (size_t i = 0; i < n; ++i) {
          uint32_t b = Load<uint32_t>(offs + 4 * (i + 1));
          out[i] = std::string_view(ch.bytes + a, b - a);
          a = b;
        }
        break;
      }
      case sf::kEncodingTextDict:
        if (ch.width == 1)
          GetDictViews<uint8_t>(ch.data + r0, n, ch.dict.data(), v.strs.data());
        else if (ch.width == 2)
          GetDictViews<uint16_t>(ch.data + r0 * 2, n, ch.dict.data(), v.strs.data());
        else
          GetDictViews<uint32_t>(ch.data + r0 * 4, n, ch.dict.data(), v.strs.data());
        break;
    }
  }
  in_group_ += static_cast<uint32_t>(n);
  batch->size = n;
  return true;
}

Status ColumnFileReader::VerifyAll() {
  for (size_t g = 0; g < groups_.size(); ++g) RETURN_IF_ERROR(LoadGroup(g));
  return Status::OK();
}

}  // namespace lf
