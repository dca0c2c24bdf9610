// SortedIdMap: request id → count, kept sorted by id in one vector (SchedulerOutput's
// num_scheduled_tokens). It iterates like the std::map<std::string, int32_t> it replaces (same
// order, same (id, n) pairs) but holds no node per entry: with ~1000 requests per step the
// nodes' allocations, frees and pointer chasing showed in the host time of every step.
// Thread-safety: a plain value type.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/check.h"

namespace pagellm {

class SortedIdMap {
 public:
  using value_type = std::pair<std::string, int32_t>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  SortedIdMap() = default;
  // Like std::map's: any order; the first of equal ids wins.
  SortedIdMap(std::initializer_list<value_type> init) {
    for (const value_type& v : init) Insert(v.first, v.second);
  }

  // The count of `id`, inserted as 0 when absent (std::map::operator[]).
  int32_t& operator[](std::string_view id) {
    if (entries_.empty() || entries_.back().first < id) {  // in-order fills: no search
      entries_.emplace_back(std::string(id), 0);
      return entries_.back().second;
    }
    auto it = LowerBound(id);
    if (it == entries_.end() || it->first != id) it = entries_.emplace(it, std::string(id), 0);
    return it->second;
  }
  // Fast path for callers that produce ids in order. REQUIRES: id sorts after every id present.
  void AppendSorted(std::string id, int32_t n) {
    DCHECK(entries_.empty() || entries_.back().first < id);
    entries_.emplace_back(std::move(id), n);
  }

  iterator find(std::string_view id) {
    auto it = LowerBound(id);
    return it != entries_.end() && it->first == id ? it : entries_.end();
  }
  const_iterator find(std::string_view id) const {
    return const_cast<SortedIdMap*>(this)->find(id);
  }
  size_t count(std::string_view id) const { return find(id) != end() ? 1 : 0; }
  // REQUIRES: id is present (checked: std::map's at() would throw).
  int32_t& at(std::string_view id) {
    auto it = find(id);
    CHECK(it != end()) << "no request " << id << " in the map";
    return it->second;
  }
  const int32_t& at(std::string_view id) const { return const_cast<SortedIdMap*>(this)->at(id); }

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }

  bool operator==(const SortedIdMap& o) const = default;

 private:
  void Insert(const std::string& id, int32_t n) {
    auto it = LowerBound(id);
    if (it == entries_.end() || it->first != id) entries_.emplace(it, id, n);
  }
  iterator LowerBound(std::string_view id) {
    return std::lower_bound(entries_.begin(), entries_.end(), id,
                            [](const value_type& e, std::string_view k) { return e.first < k; });
  }

  std::vector<value_type> entries_;
};

}  // namespace pagellm
