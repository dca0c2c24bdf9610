// Prints BuildRopeCosSin tables for the fixed cases that rope_table_check.py recomputes with
// transformers (run on a machine with torch + transformers):
//   python3 src/ops/rope_table_check.py build/src/ops/rope_table_dump
// Output lines: "<case> <position> <i> <cos> <sin>" with %.9g floats.
#include <cstdio>
#include <string>
#include <vector>

#include "ops/rope_table.h"

namespace pagellm {
namespace {

struct Case {
  std::string name;
  int rot_dim;
  double theta;
  RopeScalingParams p;
};

std::vector<Case> Cases() {
  std::vector<Case> c;
  c.push_back({"default", 128, 10000.0, {}});
  c.push_back({"partial", 64, 10000.0, {}});  // head_dim 128, partial_rotary_factor 0.5
  RopeScalingParams lin;
  lin.type = "linear";
  lin.factor = 4.0;
  c.push_back({"linear", 128, 10000.0, lin});
  RopeScalingParams dyn;
  dyn.type = "dynamic";
  dyn.factor = 2.0;
  dyn.max_position_embeddings = 2048;
  dyn.seq_len = 4096;
  c.push_back({"dynamic", 128, 10000.0, dyn});
  RopeScalingParams l3;
  l3.type = "llama3";
  l3.factor = 8.0;
  l3.low_freq_factor = 1.0;
  l3.high_freq_factor = 4.0;
  l3.original_max_position_embeddings = 8192;
  c.push_back({"llama3", 128, 500000.0, l3});
  RopeScalingParams yarn;
  yarn.type = "yarn";
  yarn.factor = 4.0;
  yarn.original_max_position_embeddings = 32768;
  yarn.max_position_embeddings = 131072;
  c.push_back({"yarn", 128, 1000000.0, yarn});
  RopeScalingParams lr;
  lr.type = "longrope";
  lr.max_position_embeddings = 131072;
  lr.original_max_position_embeddings = 4096;
  for (int i = 0; i < 48; ++i) {
    lr.short_factor.push_back(1.0 + 0.05 * i);
    lr.long_factor.push_back(1.0 + 0.5 * i);
  }
  c.push_back({"longrope_short", 96, 10000.0, lr});
  lr.seq_len = 5000;
  c.push_back({"longrope_long", 96, 10000.0, lr});
  return c;
}

// Positions compared (the largest sets dynamic/longrope's current length in transformers).
std::vector<int> Positions(const std::string& name) {
  if (name == "dynamic") return {0, 1, 7, 100, 2047, 4095};
  if (name == "longrope_long") return {0, 1, 7, 100, 4095, 4999};
  return {0, 1, 2, 7, 100, 1000, 4095};
}

}  // namespace
}  // namespace pagellm

int main() {
  using namespace pagellm;
  for (const Case& c : Cases()) {
    std::vector<int> pos = Positions(c.name);
    auto t = BuildRopeCosSin(c.rot_dim, pos.back() + 1, c.theta, c.p);
    if (!t.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), t.status().ToString().c_str());
      return 1;
    }
    const float* d = t->data<float>();
    int half = c.rot_dim / 2;
    for (int p : pos)
      for (int i = 0; i < half; ++i)
        std::printf("%s %d %d %.9g %.9g\n", c.name.c_str(), p, i,
                    d[static_cast<int64_t>(p) * c.rot_dim + i],
                    d[static_cast<int64_t>(p) * c.rot_dim + half + i]);
  }
  return 0;
}
