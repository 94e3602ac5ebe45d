// Helpers shared by the conversion tests: a scratch directory, a conversion into it, and the forward
// pass measured against a fixture's float64 references (the measure tests/parity/parity_test.cpp uses).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "convert/convert.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"

namespace arbiter::convert_test {

inline const std::string kShared = ARBITER_SHARED_DIR;
inline std::string hf_fixture(const std::string& name) { return kShared + "/fixtures/hf/" + name; }
inline std::string gguf_fixture(const std::string& name) { return kShared + "/fixtures/gguf/" + name; }

// A fresh directory per test process, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string d = (std::filesystem::temp_directory_path() / ("arbiter_convert_test_" + std::to_string(::getpid()))).string();
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

inline std::vector<float> as_floats(const TensorView& t) {
  std::vector<float> v(size_t(t.numel()));
  dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

// max |ours - ref| / max |ref|.
inline double relative_max_error(const float* ours, const std::vector<float>& ref) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(ours[i]) - double(ref[i])));
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

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
  for (int s = 0; s < 3; ++s) {
    const std::string prefix = "seq" + std::to_string(s) + ".";
    const TensorView* ids_view = (*ref)->tensor(prefix + "input_ids");
    EXPECT_NE(ids_view, nullptr);
    if (ids_view == nullptr) return result;
    SequenceInput seq;
    const auto* ids = static_cast<const int32_t*>(ids_view->data);
    seq.tokens.assign(ids, ids + ids_view->numel());
    const int64_t t = int64_t(seq.tokens.size());
    for (int32_t p = 0; p < t; ++p) seq.read_positions.push_back(p);
    ForwardOptions options;
    for (int32_t l = 0; l <= c.num_layers; ++l) options.capture_layers.push_back(l);
    options.final_norm = true;
    options.logits = c.is_classifier() ? LogitsMode::kNone : LogitsMode::kFull;
    options.score_head = c.is_classifier();
    auto out = backend->forward({seq}, options);
    EXPECT_TRUE(out.is_ok()) << out.message();
    if (!out.is_ok()) return result;
    const SequenceOutput& o = (*out)[0];
    auto check = [&](const std::string& name, const float* ours, double bound, double& worst) {
      const TensorView* r = (*ref)->tensor(prefix + name);
      ASSERT_NE(r, nullptr) << prefix + name;
      const double err = relative_max_error(ours, as_floats(*r));
      worst = std::max(worst, err);
      EXPECT_LE(err, bound) << model_path << " " << prefix << name;
    };
    for (int32_t l = 0; l <= c.num_layers; ++l)
      check("layer" + std::to_string(l), o.layer_states.data() + l * t * d, tolerance, result.worst_states);
    check("final_norm", o.final_norm.data(), tolerance, result.worst_states);
    if (c.is_classifier()) {
      check("scores", o.scores.data() + (t - 1) * c.num_labels, score_tolerance, result.worst_scores);
      const TensorView* ref_scores = (*ref)->tensor(prefix + "scores");
      const TensorView* ref_norm = (*ref)->tensor(prefix + "final_norm");
      if (ref_scores != nullptr && ref_norm != nullptr) {
        const std::vector<float> s_ref = as_floats(*ref_scores), h_ref = as_floats(*ref_norm);
        double h_norm = 0;
        for (int64_t i = 0; i < d; ++i) h_norm += double(h_ref[size_t((t - 1) * d + i)]) * h_ref[size_t((t - 1) * d + i)];
        h_norm = std::sqrt(h_norm);
        for (int64_t k = 0; k < c.num_labels; ++k) {
          double w_norm = 0;
          for (int64_t i = 0; i < d; ++i) w_norm += double((*model)->score_head[size_t(k * d + i)]) * (*model)->score_head[size_t(k * d + i)];
          const double diff = std::fabs(double(o.scores[size_t((t - 1) * c.num_labels + k)]) - double(s_ref[size_t(k)]));
          result.worst_score_vs_bound = std::max(result.worst_score_vs_bound, diff / (std::sqrt(w_norm) * h_norm));
        }
      }
    } else {
      check("logits", o.logits.data(), tolerance, result.worst_states);
    }
  }
  return result;
}

}  // namespace arbiter::convert_test
