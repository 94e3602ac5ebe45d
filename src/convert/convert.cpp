// arbiter convert: a Hugging Face directory -> GGUF, writing what the canonical converter writes (tensor
// names, llama-arch Q/K row order, gemma norms as 1 + w, llama3 rope factors as rope_freqs.weight,
// metadata keys) plus what it leaves out that a self-contained reward model needs (classifier head and
// labels, the tokenizer's normalizer flags).
#include "convert/convert.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "convert/hf_metadata.h"
#include "model/model_path.h"
#include "convert/hf_tensor_names.h"
#include "convert/hf_vocab.h"
#include "convert/job_writer.h"
#include "convert/quant_plan.h"
#include "core/mapped_file.h"
#include "io/safetensors.h"
#include "model/hf_config.h"
#include "model/model.h"

namespace arbiter {

namespace {

namespace fs = std::filesystem;

// Per-frequency divisors of llama3 RoPE scaling, computed in f32 as the converter's torch code does, so
// the tensor matches the canonical file bit for bit.
std::vector<float> llama3_rope_factors(const ModelConfig& c) {
  const int64_t dim = c.rope_dim;
  const float base = float(c.rope_theta);
  const float factor = float(c.rope_factor);
  const float low = float(c.rope_low_freq_factor);
  const float old_context = float(c.rope_original_max_position);
  const double low_freq_wavelen = double(c.rope_original_max_position) / c.rope_low_freq_factor;
  const double high_freq_wavelen = double(c.rope_original_max_position) / c.rope_high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < dim; i += 2) {
    const float freq = 1.0f / std::pow(base, float(i) / float(dim));
    const float wavelen = float(2.0 * M_PI) / freq;
    if (wavelen < high_freq_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_freq_wavelen) {
      factors.push_back(factor);
    } else {
      const float smooth = (old_context / wavelen - low) / float(c.rope_high_freq_factor - c.rope_low_freq_factor);
      factors.push_back(1.0f / ((1.0f - smooth) / factor + smooth));
    }
  }
  return factors;
}

Result<std::vector<TensorJob>> plan_tensors(const std::string& dir, const ModelConfig& c, const SafetensorsModel& st,
                                            const OutputType& type) {
  std::vector<TensorJob> jobs;
  if (c.rope_scaling == RopeScaling::kLlama3) {
    TensorJob rope;
    rope.name = "rope_freqs.weight";
    rope.generated = llama3_rope_factors(c);
    rope.shape = {int64_t(rope.generated.size())};
    jobs.push_back(std::move(rope));
  }
  std::set<std::string> seen;
  const bool llama_arch = c.arch == Architecture::kLlama || c.arch == Architecture::kMistral;
  for (const TensorView* t : st.tensors()) {
    const MappedName mapped = map_hf_tensor_name(c, t->name);
    if (mapped.fate == TensorFate::kSkip) continue;
    if (mapped.fate == TensorFate::kUnknown) {
      return error(dir + ": tensor '" + t->name + "' has no GGUF name for " + architecture_name(c.arch));
    }
    if (!seen.insert(mapped.gguf).second) return error(dir + ": tensor '" + t->name + "' appears twice");
    TensorJob job;
    job.name = mapped.gguf;
    job.source = t;
    job.source_name = t->name;
    job.shape = t->shape;
    if (llama_arch && (t->name.ends_with("q_proj.weight") || t->name.ends_with("q_proj.bias"))) job.rope_heads = c.num_heads;
    if (llama_arch && (t->name.ends_with("k_proj.weight") || t->name.ends_with("k_proj.bias"))) job.rope_heads = c.num_kv_heads;
    if (c.norm_plus_one && t->name.ends_with("norm.weight")) job.add = 1.0f;
    jobs.push_back(std::move(job));
  }
  for (const std::string& hf : required_hf_tensors(c)) {
    if (!seen.count(map_hf_tensor_name(c, hf).gguf)) return error(dir + ": missing tensor '" + hf + "'");
  }
  const bool has_output = seen.count("output.weight") != 0;
  for (TensorJob& job : jobs) {
    const TensorTypeChoice choice = choose_tensor_type(type, job.name, job.shape, c.num_layers, has_output,
                                                          c.num_kv_heads > 0 ? c.num_heads / c.num_kv_heads : 1);
    job.dtype = choice.dtype;
    job.type_note = choice.note;
  }
  return jobs;
}

}  // namespace

Result<ConvertReport> convert_hf_to_gguf(const std::string& hf_dir, const ConvertOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(hf_dir, ec)) return error(hf_dir + ": not a directory");
  if (options.out_path.empty()) return error("no output path given");
  // The output replaces its path only once it is whole: named as one of the model's own files (its weights,
  // its tokenizer), it would succeed and leave the directory without them.
  if (model_reads_file(hf_dir, options.out_path))
    return error(options.out_path + ": is a file of the model being converted (" + hf_dir + "): the output would "
                 "overwrite it; write the GGUF file elsewhere");
  ARB_ASSIGN(const OutputType type, parse_output_type(options.type));
  const std::string config_path = (fs::path(hf_dir) / "config.json").string();
  if (!fs::exists(config_path, ec)) return error(config_path + ": missing (a Hugging Face model directory has config.json)");
  ARB_ASSIGN(const std::string config_text, read_file(config_path));
  ARB_ASSIGN(const ModelConfig config, parse_hf_config(config_text, config_path));
  const nlohmann::json config_json = nlohmann::json::parse(config_text, nullptr, /*allow_exceptions=*/false);
  // What is converted must load: the loader holds every tensor's shape to the config (vocabulary, widths,
  // layer count), so a config that disagrees with its weights is refused here, not in the GGUF file.
  ARB_TRY(load_model(hf_dir).status());
  ARB_ASSIGN(auto st, SafetensorsModel::open_dir(hf_dir));
  ARB_ASSIGN(std::vector<TensorJob> jobs, plan_tensors(hf_dir, config, *st, type));

  int64_t parameters = 0;
  for (const TensorJob& job : jobs) {
    int64_t n = 1;
    for (int64_t d : job.shape) n *= d;
    parameters += n;
  }
  auto metadata = model_metadata(config, config_json, model_name_from_dir(hf_dir), type, parameters);
  if (!metadata) return metadata.status().with_context(hf_dir);
  ARB_TRY(add_vocab_metadata(hf_dir, config, *metadata));
  set_metadata(*metadata, "general.quantization_version", GgufValue::from_u32(2));
  return write_gguf_jobs(options.out_path, *metadata, jobs, "convert", options.progress, options.split_max_bytes);
}

}  // namespace arbiter
