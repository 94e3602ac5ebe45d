// arbiter bench: prefill throughput of a model file or of a random-weight model at a named shape, on the
// CPU or the GPU (--device cuda: random weights are drawn in bf16 directly in device memory), and with
// --gemm N the rate of one cuBLAS bf16 N^3 GEMM, the ceiling GPU figures are compared against.
// FLOPs are counted as 2 x (layer matrix parameters) x tokens plus causal attention (2 x T^2 x q_dim per
// layer and sequence), the usual prefill accounting; the CPU peak is measured on the pool's threads with
// the instruction the matmuls use (f32 FMA or bf16 dot product, runtime/cpu/peak.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "cli/model_source.h"
#include "cli/device_option.h"
#include "core/thread_pool.h"
#include "model/random_model.h"
#include "runtime/backend.h"
#include "runtime/cpu/peak.h"
#include "runtime/device.h"
#include "runtime/shared_prefix.h"

namespace arbiter::cli {

namespace {

struct BenchArgs {
  std::string model_path, shape = "qwen2.5-0.5b", type = "f32", device = "cpu", head = "lm";
  int tokens = 512, batch = 1, repeat = 3, warmup = 1, shared_prefix = 0;
  int64_t gemm = 0;
  uint64_t seed = 42;
  bool json = false;
  bool head_given = false, shape_given = false, type_given = false;  // options of the random model
};

double layer_matrix_params(const Model& m) {
  const ModelConfig& c = m.config;
  if (m.layers.empty())  // weights that live only on the device: count from the shapes
    return double(c.num_layers) * double(c.hidden_size) *
           double(2 * c.q_dim() + 2 * c.kv_dim() + 3 * c.intermediate_size);
  double n = 0;
  for (const LayerWeights& w : m.layers)
    n += double(w.wq.numel() + w.wk.numel() + w.wv.numel() + w.wo.numel() + w.w_gate.numel() + w.w_up.numel() +
                w.w_down.numel());
  return n;
}

Status run_gemm_bench(const BenchArgs& args) {
  ARB_ASSIGN(const DeviceChoice device, parse_device(args.device));
  // The GEMM runs on a GPU whatever --device says; cuda:N chooses which.
  ARB_ASSIGN(const double tflops, cuda_gemm_tflops(args.gemm, args.repeat, device.kind == Device::kCuda ? device.cuda_index : 0));
  if (args.json) {
    nlohmann::json j;
    j["gemm"] = args.gemm;
    j["dtype"] = "bf16";
    j["tflops"] = tflops;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("cuBLAS bf16 GEMM %lld^3: %.1f TFLOP/s (median of %d)\n", static_cast<long long>(args.gemm), tflops,
                args.repeat);
  }
  return Status::ok();
}

// The whole batch is one forward pass: its activations (the residual stream, attention's q/k/v, the MLP's
// gate and up rows, in f32) must fit in this machine's memory, or the pass would swap or be killed.
Status check_host_memory(const ModelConfig& c, int64_t tokens) {
  const double per_token = 4.0 * double(6 * c.hidden_size + c.q_dim() + 2 * c.kv_dim() + 3 * c.intermediate_size);
  const double needed = per_token * double(tokens);
  const double physical = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  if (physical > 0 && needed > physical)
    return error("--batch x --tokens = " + std::to_string(tokens) + " tokens in one pass need about " +
                 std::to_string(int64_t(needed / double(1 << 30))) + " GiB of activations, more than this machine's " +
                 std::to_string(int64_t(physical / double(1 << 30))) + " GiB");
  return Status::ok();
}

// The model and its backend: a file, random weights on the host, or (cuda) random weights on the device.

// ", Q5_0 where rows of 896 do not fit Q4_K's blocks": the matrices a random model of a block type could
// not give that type (row_type_or_fallback), so a figure is not read as the type's alone.
std::string fallback_note(const Model& model, DType wanted) {
  std::map<std::string, std::set<int64_t>> fallbacks;  // type name -> row lengths
  for (const LayerWeights& layer : model.layers)
    for (const TensorView* m : {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w_gate, &layer.w_up, &layer.w_down})
      if (m->data != nullptr && m->dtype != wanted) fallbacks[dtype_name(m->dtype)].insert(m->shape.back());
  std::string note;
  for (const auto& [name, lengths] : fallbacks) {
    std::string rows;
    for (int64_t n : lengths) rows += (rows.empty() ? "" : ", ") + std::to_string(n);
    note += std::string(", ") + name + " where rows of " + rows + " do not fit " + dtype_name(wanted) + "'s blocks";
  }
  return note;
}
Status make_bench_backend(const BenchArgs& args, std::unique_ptr<Backend>& backend, std::string& label) {
  ARB_ASSIGN(const DeviceChoice requested, parse_device(args.device));
  ARB_ASSIGN(const DeviceChoice device, resolve_device(requested));
  if (!args.model_path.empty()) {
    for (const auto& [given, name] : {std::pair{args.head_given, "--head"}, {args.shape_given, "--shape"}, {args.type_given, "--type"}})
      if (given) return error(std::string(name) + " describes the random model; -m " + args.model_path + " is used as it is");
    ARB_ASSIGN(std::shared_ptr<Model> model, load_model(args.model_path));
    label = args.model_path;
    ARB_ASSIGN(backend, make_backend(model, device));
    return Status::ok();
  }
  ARB_ASSIGN(ModelConfig config, shape_preset(args.shape));
  if (args.head == "classifier") {  // a one-output reward head, as LlamaForSequenceClassification
    config.head = HeadKind::kSequenceClassification;
    config.num_labels = 1;
  } else if (args.head != "lm") {
    return error("--head: '" + args.head + "' is not lm or classifier");
  }
  if (device.kind == Device::kCuda) {
    std::fprintf(stderr, "creating random %s weights in bf16 on the GPU ...\n", args.shape.c_str());
    ARB_ASSIGN(backend, make_random_cuda_backend(config, args.seed, device.cuda_index));
    label = args.shape + " bf16 (random weights)";
    return Status::ok();
  }
  ARB_ASSIGN(DType type, dtype_from_name(args.type));
  std::fprintf(stderr, "creating random %s weights in %s ...\n", args.shape.c_str(), dtype_name(type));
  ARB_ASSIGN(std::shared_ptr<Model> model, make_random_model(config, type, args.seed));
  label = args.shape + " " + dtype_name(type) + " (random weights" + fallback_note(*model, type) + ")";
  backend = make_cpu_backend(model);
  return Status::ok();
}

Status run_bench(const BenchArgs& args) {
  if (args.tokens <= 0 || args.batch <= 0 || args.repeat <= 0) return error("--tokens, --batch and --repeat must be positive");
  if (args.shared_prefix < 0 || args.shared_prefix >= args.tokens)
    return error("--shared-prefix must be at least 0 and below --tokens (" + std::to_string(args.tokens) + ")");
  if (args.gemm > 0) return run_gemm_bench(args);
  std::unique_ptr<Backend> backend;
  std::string label;
  ARB_TRY(make_bench_backend(args, backend, label));
  const Model& model = backend->model();
  const ModelConfig& c = model.config;
  if (backend->name().rfind("cuda", 0) != 0) ARB_TRY(check_host_memory(c, int64_t(args.tokens) * args.batch));
  // Every repeat computes the batch as the first did: keys and values kept from one pass for the next
  // would turn the later ones into lookups.
  set_prefix_cache_bytes(0);
  // Sequences differ from their first token on, except for --shared-prefix tokens they all start with.
  std::vector<SequenceInput> batch(size_t(args.batch));
  for (int s = 0; s < args.batch; ++s)
    for (int t = 0; t < args.tokens; ++t) {
      const int source = t < args.shared_prefix ? 0 : s;
      batch[size_t(s)].tokens.push_back(int32_t((t * 7 + source * 13 + 1) % c.vocab_size));
    }
  const int64_t computed = backend->shares_prefixes() ? plan_shared_prefixes(batch).computed_tokens
                                                      : int64_t(args.tokens) * args.batch;
  const bool gpu = backend->name().rfind("cuda", 0) == 0;
  ForwardOptions options;
  options.logits = c.is_classifier() ? LogitsMode::kNone : LogitsMode::kSelected;
  options.logit_token_ids = {0};
  options.score_head = c.is_classifier();
  for (int i = 0; i < args.warmup; ++i) ARB_TRY(backend->forward(batch, options).status());
  std::vector<double> seconds;
  for (int i = 0; i < args.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ARB_TRY(backend->forward(batch, options).status());
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double tokens = double(args.tokens) * args.batch;
  // FLOPs of the whole batch as written: with a shared prefix computed once, more than were computed.
  const double flops = 2.0 * layer_matrix_params(model) * tokens +
                       2.0 * double(args.tokens) * args.tokens * double(c.q_dim()) * double(c.num_layers) * args.batch;
  const int threads = global_thread_pool().size();
  const DType weight_type = model.layers.empty() ? DType::BF16 : model.layers[0].w_up.dtype;
  const MatmulPrecision arithmetic = effective_matmul_precision(weight_type);
  const double peak = gpu ? 0.0 : measure_cpu_peak_flops(arithmetic);
  nlohmann::json j;
  j["model"] = label;
  j["device"] = backend->name();
  j["threads"] = threads;
  j["batch"] = args.batch;
  j["tokens_per_sequence"] = args.tokens;
  j["shared_prefix"] = args.shared_prefix;
  j["computed_tokens"] = computed;
  j["median_seconds"] = median;
  j["tokens_per_second"] = tokens / median;
  j["gflops"] = flops / median / 1e9;
  j["tflops"] = flops / median / 1e12;
  if (!gpu) j["cpu_matmul"] = matmul_precision_name(arithmetic);
  j["peak_gflops_measured"] = peak / 1e9;
  j["fraction_of_peak"] = peak > 0 ? flops / median / peak : 0.0;
  if (args.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else if (gpu) {
    std::printf("%s on %s: %d x %d tokens: %.1f tokens/s, %.1f TFLOP/s (median of %d)\n", label.c_str(),
                backend->name().c_str(), args.batch, args.tokens, tokens / median, flops / median / 1e12, args.repeat);
  } else if (computed < int64_t(tokens)) {
    // FLOP rates of tokens that were not computed would be no measure of the machine.
    std::printf("%s: %d x %d tokens, %d threads, %s matmuls: %.1f tokens/s counting every token; the %d-token shared "
                "prefix computed once: %lld of %.0f tokens computed\n",
                label.c_str(), args.batch, args.tokens, threads, matmul_precision_name(arithmetic), tokens / median,
                args.shared_prefix, static_cast<long long>(computed), tokens);
  } else {
    std::printf("%s: %d x %d tokens, %d threads, %s matmuls: %.1f tokens/s, %.1f GFLOP/s (%.0f%% of the measured %.0f "
                "GFLOP/s %s peak)\n",
                label.c_str(), args.batch, args.tokens, threads, matmul_precision_name(arithmetic), tokens / median,
                flops / median / 1e9, 100.0 * j["fraction_of_peak"].get<double>(), peak / 1e9,
                matmul_precision_name(arithmetic));
  }
  return Status::ok();
}

const CommandRegistration kBenchRegistration({
    "bench",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<BenchArgs>();
      sub.add_option("-m,--model", args->model_path, "model file or directory (default: random weights at --shape)");
      auto* shape = sub.add_option("--shape", args->shape, "random model shape: tiny, small, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b")
          ->default_val("qwen2.5-0.5b");
      auto* type = sub.add_option("--type", args->type, "random model weight type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, iq4_nl, iq4_xs")
          ->default_val("f32");
      sub.add_option("--tokens", args->tokens, "tokens per sequence")->default_val(512);
      sub.add_option("--batch", args->batch, "sequences per forward pass")->default_val(1);
      sub.add_option("--repeat", args->repeat, "timed runs (the median is reported)")->default_val(3);
      sub.add_option("--shared-prefix", args->shared_prefix,
                     "tokens every sequence of the batch starts with (the CPU computes them once; rates count every "
                     "token)")
          ->default_val(0);
      sub.add_option("--warmup", args->warmup, "untimed runs first")->default_val(1)->check(non_negative_number());
      sub.add_option("--seed", args->seed, "random weights seed")->default_val(42)->check(non_negative_number());
      add_device_option(sub, args->device);
      auto* head = sub.add_option("--head", args->head, "random model head: lm (causal LM) or classifier (one-label reward head)")
          ->default_val("lm");
      sub.add_option("--gemm", args->gemm, "instead of a model: the rate of one cuBLAS bf16 N^3 GEMM (needs cuda)");
      sub.add_flag("--json", args->json, "print JSON");
      return [args, shape, type, head]() -> Status {
        args->shape_given = shape->count() > 0;
        args->type_given = type->count() > 0;
        args->head_given = head->count() > 0;
        ARB_TRY(pull_model_source(args->model_path));
        return run_bench(*args);
      };
    },
    "measure prefill throughput (tokens/s, GFLOP/s, fraction of peak)",
    90,
});

}  // namespace

}  // namespace arbiter::cli
