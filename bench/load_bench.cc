// Checkpoint load speed from the page cache: open (header/pickle parsing), touch every byte of
// every tensor, and convert every floating tensor to the target dtype. Reports GB/s of
// checkpoint bytes. Without a path it writes a synthetic safetensors checkpoint first.
//
//   load_bench [MODEL_DIR] [--format auto|safetensors|pt] [--dtype bfloat16|float16|float32]
//              [--iters 3] [--synth-mb 1024] [--synth-dtype bfloat16|float32]
//              [--synth-format safetensors|pt]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/file.h"
#include "model/pt_checkpoint_test_util.h"
#include "model/safetensors.h"
#include "model/weight_source.h"

namespace pagellm {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

struct Args {
  std::string path, format = "auto", dtype = "bfloat16", synth_dtype = "bfloat16";
  std::string synth_format = "safetensors";
  int iters = 3;
  int64_t synth_mb = 1024;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--format") a.format = next();
    else if (k == "--dtype") a.dtype = next();
    else if (k == "--iters") a.iters = std::stoi(next());
    else if (k == "--synth-mb") a.synth_mb = std::stoll(next());
    else if (k == "--synth-dtype") a.synth_dtype = next();
    else if (k == "--synth-format") a.synth_format = next();
    else a.path = k;
  }
  return a;
}

// A torch.save-style archive of the tensors (64-byte aligned stored entries, as torch writes).
Status WritePt(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  testing::PickleWriter p;
  testing::ZipWriter z;
  p.Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i].second;
    std::string type = t.dtype() == DType::kBF16 ? "BFloat16Storage" : "FloatStorage";
    std::vector<int64_t> size = t.shape().ToVector(), stride(size.size(), 1);
    for (int d = static_cast<int>(size.size()) - 2; d >= 0; --d) stride[d] = stride[d + 1] * size[d + 1];
    p.Str(tensors[i].first).Tensor(type, std::to_string(i), t.numel(), 0, size, stride);
  }
  p.Op('u');
  z.Add("archive/data.pkl", p.Finish());
  for (size_t i = 0; i < tensors.size(); ++i)
    z.Add("archive/data/" + std::to_string(i),
          std::string(static_cast<const char*>(tensors[i].second.data()), tensors[i].second.nbytes()));
  return WriteStringToFile(path, z.Finish(/*zip64=*/true));
}

// A Llama-like layout: square-ish 2-D weights of ~32 MB each, plus small norms.
std::string WriteSynthetic(const Args& a) {
  DType dt = *ParseDType(a.synth_dtype);
  std::string dir = (std::filesystem::temp_directory_path() / "pagellm_load_bench").string();
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, Tensor>> tensors;
  int64_t per = (32ll << 20) / static_cast<int64_t>(DTypeSize(dt)) / 4096;
  int64_t n = std::max<int64_t>(1, (a.synth_mb << 20) / (32ll << 20));
  for (int64_t i = 0; i < n; ++i) {
    Tensor t = Tensor::EmptyHost(Shape{per, 4096}, dt);
    std::memset(t.data(), static_cast<int>(i), t.nbytes());
    tensors.emplace_back("model.layers." + std::to_string(i) + ".mlp.weight", t);
    tensors.emplace_back("model.layers." + std::to_string(i) + ".norm.weight", Tensor::EmptyHost(Shape{4096}, dt));
  }
  std::filesystem::remove(dir + "/model.safetensors");
  std::filesystem::remove(dir + "/pytorch_model.bin");
  Status s = a.synth_format == "pt" ? WritePt(dir + "/pytorch_model.bin", tensors)
                                    : WriteSafetensors(dir + "/model.safetensors", tensors);
  if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return dir;
}

uint64_t Touch(const Tensor& t) {
  const uint8_t* p = static_cast<const uint8_t*>(t.data());
  size_t n = t.nbytes(), words = n / 8;
  uint64_t acc = 0;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + i * 8, 8);
    acc += w;
  }
  for (size_t i = words * 8; i < n; ++i) acc += p[i];
  return acc;
}

int Run(const Args& a) {
  std::string dir = a.path.empty() ? WriteSynthetic(a) : a.path;
  auto format = ParseLoadFormat(a.format);
  auto target = ParseDType(a.dtype);
  if (!format.ok() || !target.ok()) {
    std::fprintf(stderr, "bad --format or --dtype\n");
    return 2;
  }
  std::printf("checkpoint %s, %d threads\n", dir.c_str(), omp_get_max_threads());
  for (int it = 0; it < a.iters; ++it) {
    auto t0 = Clock::now();
    auto src = OpenCheckpoint(dir, *format);
    if (!src.ok()) {
      std::fprintf(stderr, "%s\n", src.status().ToString().c_str());
      return 1;
    }
    double open_s = Seconds(t0);
    std::vector<std::string> names = (*src)->Names();
    std::vector<Tensor> views(names.size());
    size_t bytes = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      views[i] = *(*src)->Get(names[i]);
      bytes += views[i].nbytes();
    }
    auto t1 = Clock::now();
    uint64_t sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(dynamic)
    for (size_t i = 0; i < views.size(); ++i) sum += Touch(views[i]);
    double touch_s = Seconds(t1);
    auto t2 = Clock::now();
#pragma omp parallel for schedule(dynamic)
    for (size_t i = 0; i < views.size(); ++i) {
      const Tensor& v = views[i];
      if (!IsFloating(v.dtype()) || v.dtype() == DType::kFP8E4M3) continue;
      Tensor out = Tensor::EmptyHost(v.shape(), *target);
      if (v.dtype() == *target) std::memcpy(out.data(), v.data(), v.nbytes());
      else ConvertBuffer(v.data(), v.dtype(), out.data(), *target, v.numel());
    }
    double conv_s = Seconds(t2);
    double gb = bytes / 1e9;
    std::printf("iter %d: %zu tensors, %.2f GB | open %.1f ms | touch %.2f GB/s | convert->%s %.2f GB/s (sum %llu)\n",
                it, names.size(), gb, open_s * 1e3, gb / touch_s, a.dtype.c_str(), gb / conv_s,
                static_cast<unsigned long long>(sum & 0xff));
  }
  return 0;
}

}  // namespace
}  // namespace pagellm

int main(int argc, char** argv) { return pagellm::Run(pagellm::ParseArgs(argc, argv)); }
