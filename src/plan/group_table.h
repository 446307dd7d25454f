// GroupTable: maps group-key tuples to dense group ids (0, 1, 2, ...), the
// index of every aggregate state array. Open addressing with linear
// probing over (hash tag, group id) slots; keys are stored column-wise and
// own their string bytes. A table with no key columns has exactly one
// group, 0 (a view without GROUP BY).
// Not thread-safe: one per thread per view; tables are merged by
// re-inserting another table's keys (see ViewState::Combine).
#pragma once

#include <cstdint>
#include <vector>

#include "common/string_arena.h"
#include "common/vector.h"

namespace lf {

class GroupTable {
 public:
  explicit GroupTable(std::vector<TypeId> key_types);
  GroupTable(const GroupTable&) = delete;
  GroupTable& operator=(const GroupTable&) = delete;

  size_t size() const { return size_; }
  size_t num_keys() const { return keys_.size(); }

  // For k in [0, count): finds or inserts the tuple (keys[0][rows[k]], ...)
  // and writes its group id to gids[k].
  void FindOrInsert(const std::vector<const Vector*>& keys, const uint32_t* rows, size_t count, uint32_t* gids);
  // The group id of the tuple (keys[0][row], ...), or -1 if it has no group.
  int64_t Find(const std::vector<const Vector*>& keys, uint32_t row) const;

  // The stored key column c: its first size() rows are the groups' keys.
  const Vector& key_column(size_t c) const { return keys_[c]; }

  size_t MemoryUsage() const;

  // Sizes the slots for `groups` groups (at most half full) and reserves
  // the key columns, so that growing to that many does not rehash.
  void Reserve(size_t groups);

  // Makes this table (empty, of the same key types) a copy of `other`:
  // same groups under the same ids, its own copy of the key bytes.
  void CopyFrom(const GroupTable& other);

 private:
  void Grow();
  void ReserveKeys(size_t groups);
  bool KeysEqual(uint32_t gid, const std::vector<const Vector*>& keys, uint32_t row) const;
  void FindOrInsertText(const std::vector<const Vector*>& keys, const uint32_t* rows, size_t count, uint32_t* gids);
  template <typename Eq>
  void Probe(const std::vector<const Vector*>& keys, const uint32_t* rows, size_t count, uint32_t* gids, Eq eq);
  uint32_t Insert(const std::vector<const Vector*>& keys, uint32_t row);

  std::vector<Vector> keys_;     // grown with push_back-style appends
  std::vector<uint64_t> slots_;  // 0 = empty; else (hash >> 32) << 32 | (gid + 1)
  size_t mask_ = 0;
  size_t size_ = 0;
  StringArena arena_;
  std::vector<uint64_t> hashes_;  // scratch, one per input row
};

}  // namespace lf
