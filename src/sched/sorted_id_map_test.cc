#include "sched/sorted_id_map.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace pagellm {
namespace {

// Same contents and order as std::map for any insertion order (ids as the engine makes them).
TEST(SortedIdMapTest, MatchesStdMap) {
  std::mt19937 rng(7);
  SortedIdMap m;
  std::map<std::string, int32_t> ref;
  for (int i = 0; i < 500; ++i) {
    std::string id = std::to_string(rng() % 300);
    if (rng() % 3 == 0) id = std::to_string(rng() % 4) + "_" + id;
    int32_t v = static_cast<int32_t>(rng() % 9);
    m[id] += v;
    ref[id] += v;
  }
  ASSERT_EQ(m.size(), ref.size());
  auto it = ref.begin();
  for (const auto& [id, n] : m) {
    EXPECT_EQ(id, it->first);
    EXPECT_EQ(n, it->second);
    ++it;
  }
  for (const auto& [id, n] : ref) {
    ASSERT_NE(m.find(id), m.end());
    EXPECT_EQ(m.find(id)->second, n);
  }
  EXPECT_EQ(m.find("absent"), m.end());
  EXPECT_EQ(m.count("absent"), 0u);
}

TEST(SortedIdMapTest, InitListAppendAndEquality) {
  SortedIdMap a = {{"b", 2}, {"a", 1}, {"b", 5}};  // first of equal ids wins, like std::map
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.begin()->first, "a");
  EXPECT_EQ(a["b"], 2);
  SortedIdMap b;
  b.AppendSorted("a", 1);
  b.AppendSorted("b", 2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.at("b"), 2);
  b["c"] = 3;
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(b.empty());
  b.clear();
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace pagellm
