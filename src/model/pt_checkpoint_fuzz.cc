// Fuzz target: torch .bin archives (zip reader + pickle interpreter); inputs that are not a zip
// go straight to the pickle interpreter.
#include "model/checkpoint_fuzz.h"
#include "model/pt_checkpoint.h"
#include "model/pt_checkpoint_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pagellm;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    auto c = PtCheckpoint::FromMapped(MappedFile::FromString(std::move(bytes), "fuzz.bin"));
    if (!c.ok()) return 0;
    unsigned sum = 0;
    for (const auto& n : (*c)->Names()) {
      auto t = (*c)->Get(n);
      if (!t.ok()) continue;
      const uint8_t* p = static_cast<const uint8_t*>(t->data());
      for (size_t i = 0; i < t->nbytes(); ++i) sum += p[i];
    }
    return static_cast<int>(sum & 0);
  }
  (void)Unpickle(bytes, "fuzz.pkl");
  return 0;
}

namespace pagellm::fuzz {
std::vector<std::string> Seeds() {
  using testing::PickleWriter;
  using testing::ZipWriter;
  PickleWriter p;
  p.Global("collections", "OrderedDict").Op(')').Op('R').Put(0).Op('(');
  p.Str("t").Tensor("FloatStorage", "0", 6, 0, {3, 2}, {1, 3});
  p.Str("h").Tensor("HalfStorage", "1", 2, 1, {1}, {1});
  p.Op('u');
  std::string pkl = p.Finish();
  ZipWriter z;
  z.Add("archive/data.pkl", pkl, true);
  z.Add("archive/data/0", std::string(24, '\x11'));
  z.Add("archive/data/1", std::string(4, '\x22'), true);
  return {testing::MakePtArchive({{"w", {1, 2, 3}}, {"b", {4}}}), z.Finish(true), pkl,
          std::string("\x80\x02]q\x00h\x00" "a.", 9)};
}
}  // namespace pagellm::fuzz
