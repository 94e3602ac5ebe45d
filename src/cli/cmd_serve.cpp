// arbiter serve: one reward model or judge over HTTP, for RLHF trainers (OpenRLHF's /get_reward, vLLM's
// /classify and /pooling) and arbiter's own /v1/score and /v1/judge. See docs/serve.md.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/command.h"
#include "cli/dataset_options.h"
#include "cli/model_source.h"
#include "cli/device_option.h"
#include "cli/job_setup.h"
#include "cli/run_record.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "core/thread_pool.h"
#include "model/model_tokenizer.h"
#include "model/random_model.h"
#include "serve/server.h"

namespace arbiter::cli {

namespace {

struct ServeArgs {
  std::string model_path, mode = "reward", config_file, shape, chat_template_file, chat_template_kwargs;
  std::string truncation = "prompt-left", name;
  bool random_weights = false, plain = false;
  int64_t max_length = 0, max_sequence_tokens = 0;
  int threads = 0;
  serve::ServerOptions server;
  RewardArgs reward;
  JudgeArgs judge;
};

// --config FILE: a JSON object whose keys are the long option names (dashes or underscores); options
// given on the command line win over the file.
Status apply_config_file(CLI::App& sub, const std::string& path) {
  ARB_ASSIGN(std::string text, read_file(path));
  nlohmann::json config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) return error(path + ": not a JSON object");
  for (const auto& [key, value] : config.items()) {
    std::string name = key;
    for (char& c : name)
      if (c == '_') c = '-';
    if (name == "config") return error(path + ": 'config' cannot name another file");
    CLI::Option* option = sub.get_option_no_throw("--" + name);
    if (!option) return error(path + ": unknown option '" + key + "'");
    if (option->count() > 0) continue;
    std::string text_value;
    if (value.is_string()) text_value = value.get<std::string>();
    else if (value.is_boolean() && !value.get<bool>()) continue;  // a flag left off
    else if (value.is_boolean()) text_value = "true";
    else if (value.is_number()) text_value = value.dump();
    else return error(path + ": '" + key + "' must be a string, number or boolean");
    try {
      option->add_result(text_value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return error(path + ": '" + key + "': " + e.what());
    }
  }
  return Status::ok();
}

Result<std::shared_ptr<Model>> load_served_model(const ServeArgs& args, serve::Mode mode) {
  if (!args.random_weights) {
    if (args.model_path.empty()) return error("--model is required (or --random-weights with --shape)");
    return load_model(args.model_path);
  }
  if (!args.model_path.empty()) return error("--random-weights builds a model: do not give --model");
  ARB_ASSIGN(ModelConfig config, shape_preset(args.shape.empty() ? "qwen2.5-0.5b" : args.shape));
  if (mode == serve::Mode::kReward) {  // a one-output reward head, as a reward model has
    config.head = HeadKind::kSequenceClassification;
    config.num_labels = 1;
  }
  log_info("creating a random-weight " + (args.shape.empty() ? std::string("qwen2.5-0.5b") : args.shape) +
           " model (benchmarking only: its scores mean nothing)");
  return make_random_model(config, DType::F32, 42);
}

Status run_serve(CLI::App& sub, ServeArgs& args) {
  if (!args.config_file.empty()) ARB_TRY(apply_config_file(sub, args.config_file));
  if (args.threads > 0) set_num_threads(args.threads);
  if (args.server.api_key.empty())
    if (const char* env = std::getenv("ARBITER_API_KEY")) args.server.api_key = env;
  ARB_ASSIGN(serve::Mode mode, serve::parse_mode(args.mode));
  if (mode == serve::Mode::kJudge && sub.get_option("--truncation")->count() > 0 && args.truncation != "error")
    return error("--truncation " + args.truncation + ": a judge's prompts are never cut (a cut would drop its "
                 "instructions or the text judged); an item longer than --max-length is a 400 naming it");
  ARB_ASSIGN(std::shared_ptr<Model> model, load_served_model(args, mode));

  serve::ServiceOptions service;
  service.mode = mode;
  service.model_name = !args.name.empty() ? args.name : args.random_weights ? "random-" + args.shape : args.model_path;
  service.format.max_length = args.max_length;
  ARB_ASSIGN(service.format.truncation, parse_truncation(args.truncation));
  service.format.plain = args.plain;
  if (!args.chat_template_kwargs.empty()) {
    ARB_ASSIGN(service.format.template_kwargs, parse_template_kwargs(args.chat_template_kwargs));
  }
  if (!args.chat_template_file.empty()) {
    ARB_ASSIGN(service.format.chat_template_source, read_chat_template_file(args.chat_template_file));
  }
  service.max_sequence_tokens = args.max_sequence_tokens;
  if (mode == serve::Mode::kReward) {
    ARB_ASSIGN(service.reward, make_reward_job_options(args.reward, *model, option_settings(sub)));
  } else {
    auto tokenizer = load_model_tokenizer(*model);
    ARB_ASSIGN(service.judge, make_judge_options(args.judge, *model, tokenizer ? tokenizer->get() : nullptr,
                                                      option_settings(sub)));
  }

  // SIGINT/SIGTERM are taken by one thread with sigwait, so no handler runs inside a server thread;
  // they are blocked before any thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ARB_ASSIGN(auto server, serve::Server::create(model, service, args.server));
  ARB_ASSIGN(int port, server->bind());
  std::atomic<bool> served{false};
  std::thread signal_thread([&server, &served, signals] {
    int received = 0;
    sigwait(&signals, &received);
    if (served) return;
    log_info(std::string("received ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
             ": finishing requests in flight (a second signal exits at once)");
    server->stop();
    sigwait(&signals, &received);
    if (served) return;
    log_warn("received a second signal: exiting without finishing the requests in flight");
    std::_Exit(130);
  });
  // Announced once the HTTP threads run: a supervisor that waits for this line finds the server taking
  // requests, and a thread limit that stops the server stops it before it says it serves.
  Status status = server->serve([&](int http_threads) {
    log_info("serving " + service.model_name + " (" + serve::mode_name(mode) + ") on http://" + args.server.host + ":" +
             std::to_string(port) + " with " + std::to_string(global_thread_pool().size()) + " compute threads and " +
             std::to_string(http_threads) + " HTTP threads");
  });
  // The signal thread still waits when serve() ended: wake it so it can be joined.
  served = true;
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  server.reset();
  log_info("server stopped");
  return status;
}

const CommandRegistration kServeRegistration({
    "serve",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<ServeArgs>();
      sub.add_option("-m,--model", args->model_path, "GGUF file or Hugging Face model directory, or one to download: hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, https://...");
      add_device_option(sub, args->server.device);
      sub.add_option("--mode", args->mode, "reward (a classifier or --head) or judge (a causal LM)")->default_val("reward");
      sub.add_option("--config", args->config_file, "a JSON file of options (keys as the long option names)");
      sub.add_option("--host", args->server.host, "address to listen on")->default_val("127.0.0.1");
      sub.add_option("--port", args->server.port, "port (0: any free port)")->default_val(8000)->check(CLI::Range(0, 65535));
      sub.add_option("--name", args->name, "model name reported in responses (default: the --model path)");
      sub.add_option("--max-batch-tokens", args->server.max_batch_tokens,
                     "tokens computed per forward pass (a prefix its sequences share counts once; 0, the default: "
                     "4096 on the CPU, 16384 on a GPU)");
      sub.add_option("--max-queue", args->server.max_queue, "sequences waiting at most; a request that finds no room waits for it (--queue-wait-ms)")->default_val(1024);
      sub.add_option("--queue-wait-ms", args->server.queue_wait_ms, "how long a request waits for room in a full queue (within --timeout-ms) before it is answered 429; 0: at once")
          ->default_val(10000)
          ->check(CLI::Range(int64_t(0), int64_t(86400000)));
      sub.add_option("--timeout-ms", args->server.timeout_ms, "per-request time limit; then 504 (at most a week)")
          ->default_val(60000)
          ->check(CLI::Range(int64_t(1), serve::kMaxServeTimeoutMs));
      sub.add_option("--max-body-bytes", args->server.max_body_bytes, "request body limit; larger is 413")->default_val(8 << 20);
      sub.add_option("--max-sequence-tokens", args->max_sequence_tokens,
                     "longest sequence accepted; longer is 400 (default: --max-length)")
          ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
      sub.add_option("--max-length", args->max_length, "formatted conversations are truncated to this (default: the model's context)")
          ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
      sub.add_option("--truncation", args->truncation, "prompt-left (keep the response), right, or error")->default_val("prompt-left");
      sub.add_option("--chat-template", args->chat_template_file, "a Jinja chat template file to use instead of the model's");
      sub.add_option("--chat-template-kwargs", args->chat_template_kwargs,
                     "JSON object of extra chat template variables, e.g. '{\"enable_thinking\": false}' (Qwen3)");
      sub.add_flag("--plain", args->plain, "ignore the chat template: plain 'User: ... Assistant: ...' text");
      sub.add_option("--api-key", args->server.api_key, "require 'Authorization: Bearer KEY' (default: $ARBITER_API_KEY)");
      sub.add_option("--threads", args->threads, "compute threads (default: all cores)")->check(CLI::Range(0, 4096));
      sub.add_option("--http-threads", args->server.http_threads,
                     "requests handled at once (idle and slow connections hold none)")
          ->default_val(64);
      sub.add_option("--header-timeout-ms", args->server.header_timeout_ms,
                     "a request's headers must arrive within this of its first byte (then 408 and the connection closed)")
          ->default_val(10000)
          ->check(CLI::Range(int64_t(1), serve::kMaxServeTimeoutMs));
      sub.add_flag("--quiet-requests", [args](int64_t) { args->server.log_requests = false; }, "no log line per request");
      sub.add_flag("--random-weights", args->random_weights, "serve a random-weight model at --shape (benchmarking only)");
      sub.add_option("--shape", args->shape, "random model shape: tiny, small, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b");
      add_reward_options(sub, args->reward);
      add_judge_options(sub, args->judge);
      CLI::App* app = &sub;
      return [args, app]() -> Status {
        ARB_TRY(pull_model_source(args->model_path));
        return run_serve(*app, *args);
      };
    },
    "serve a reward model or judge over HTTP (OpenRLHF /get_reward, vLLM /classify and /pooling, /v1/score, /v1/judge)",
    60,
});

}  // namespace

}  // namespace arbiter::cli
