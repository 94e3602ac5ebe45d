// Helpers shared by the conversion tests: a scratch directory, a conversion into it, and the forward
// pass measured against a fixture's float64 references (the measure tests/parity/parity_test.cpp uses).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "../../support/reference_parity.h"
#include "convert/convert.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "../../support/scratch_root.h"
#include "../../support/shared_dir.h"

namespace arbiter::convert_test {

using arbiter::testing::kShared;
inline std::string hf_fixture(const std::string& name) { return kShared + "/fixtures/hf/" + name; }
inline std::string gguf_fixture(const std::string& name) { return kShared + "/fixtures/gguf/" + name; }

// A fresh directory per test process, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string d = (arbiter::test::scratch_root() / ("arbiter_convert_test_" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(d);
    return d;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

// Converts fixtures/hf/<name> to <scratch>/<name>.<type>.gguf once per process.
inline std::string converted(const std::string& name, const std::string& type) {
  const std::string out = scratch_dir() + "/" + name + "." + type + ".gguf";
  if (!std::filesystem::exists(out)) {
    ConvertOptions options;
    options.out_path = out;
    options.type = type;
    options.progress = false;
    auto report = convert_hf_to_gguf(hf_fixture(name), options);
    EXPECT_TRUE(report.is_ok()) << report.message();
  }
  return out;
}

// `dir` converted to <scratch>/<name>.gguf (f32): its path, or "" after a failed expectation.
inline std::string convert_f32(const std::string& dir, const std::string& name) {
  ConvertOptions options;
  options.out_path = scratch_dir() + "/" + name + ".gguf";
  options.type = "f32";
  options.progress = false;
  auto report = convert_hf_to_gguf(dir, options);
  EXPECT_TRUE(report.is_ok()) << report.message();
  return report.is_ok() ? options.out_path : "";
}

// The same, loaded; null after a failed expectation.
inline std::shared_ptr<const Model> convert_and_load(const std::string& dir, const std::string& name) {
  const std::string path = convert_f32(dir, name);
  if (path.empty()) return nullptr;
  auto model = load_model(path);
  EXPECT_TRUE(model.is_ok()) << model.message();
  return model.is_ok() ? std::shared_ptr<const Model>(std::move(*model)) : nullptr;
}

// A copy of a fixture directory (symlinked files) that a test may change file by file (write_text
// replaces the link, never the fixture).
inline std::string copy_fixture(const std::string& name, const std::string& as) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(scratch_dir()) / as;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(hf_fixture(name))) {
    fs::create_symlink(entry.path(), dir / entry.path().filename());
  }
  return dir.string();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::remove(path);
  std::ofstream(path) << text;
}

using arbiter::testing::as_floats;
using arbiter::testing::relative_max_error;

struct ParityResult {
  double worst_states = 0;  // layer states, final norm, logits
  double worst_scores = 0;  // classifier scores, max |ours - ref| / max |ref|
  // max over labels of |ours - ref| / (|w_label| |h_ref|), h_ref the reference final-norm state the
  // head reads: by Cauchy-Schwarz a score moves by at most |w| |dh|, so this is at most the relative
  // L2 error of that state, whatever the size of the score itself.
  double worst_score_vs_bound = 0;
};

// Runs the three reference sequences of fixtures/hf/<ref_name> through the model at `model_path` and
// expects every captured tensor within `tolerance` (scores within `score_tolerance`).
inline ParityResult check_parity(const std::string& model_path, const std::string& ref_name, double tolerance,
                                 double score_tolerance) {
  ParityResult result;
  auto model = load_model(model_path);
  EXPECT_TRUE(model.is_ok()) << model.message();
  if (!model.is_ok()) return result;
  auto ref = SafetensorsFile::open(hf_fixture(ref_name) + "/ref.safetensors");
  EXPECT_TRUE(ref.is_ok()) << ref.message();
  if (!ref.is_ok()) return result;
  const ModelConfig& c = (*model)->config;
  auto backend = make_cpu_backend(*model);
  const int64_t d = c.hidden_size;
  const std::vector<SequenceInput> sequences = testing::reference_sequences(**ref);
  for (int s = 0; s < int(sequences.size()); ++s) {
    auto out = backend->forward({sequences[size_t(s)]}, testing::reference_read_options(c));
    EXPECT_TRUE(out.is_ok()) << out.message();
    if (!out.is_ok()) return result;
    for (const testing::ComparedTensor& tensor : testing::compared_tensors(**ref, s, (*out)[0], c)) {
      const bool is_score = tensor.name == "scores";
      const double err = relative_max_error(tensor.ours, tensor.reference);
      double& worst = is_score ? result.worst_scores : result.worst_states;
      worst = std::max(worst, err);
      EXPECT_LE(err, is_score ? score_tolerance : tolerance) << model_path << " seq" << s << "." << tensor.name;
      if (!is_score) continue;
      // The score error against |w| |h|, h the reference final-norm state at the last position.
      const TensorView* ref_norm = (*ref)->tensor("seq" + std::to_string(s) + ".final_norm");
      if (ref_norm == nullptr || tensor.ours.size() != tensor.reference.size()) continue;
      const std::vector<float> h_ref = as_floats(*ref_norm);
      const int64_t t = (*out)[0].num_reads;
      double h_norm = 0;
      for (int64_t i = 0; i < d; ++i) h_norm += double(h_ref[size_t((t - 1) * d + i)]) * h_ref[size_t((t - 1) * d + i)];
      h_norm = std::sqrt(h_norm);
      for (int64_t k = 0; k < c.num_labels; ++k) {
        double w_norm = 0;
        for (int64_t i = 0; i < d; ++i) w_norm += double((*model)->score_head[size_t(k * d + i)]) * (*model)->score_head[size_t(k * d + i)];
        const double diff = std::fabs(double(tensor.ours[size_t(k)]) - double(tensor.reference[size_t(k)]));
        result.worst_score_vs_bound = std::max(result.worst_score_vs_bound, diff / (std::sqrt(w_norm) * h_norm));
      }
    }
  }
  return result;
}

}  // namespace arbiter::convert_test
