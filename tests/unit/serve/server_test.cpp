// The server in-process on 127.0.0.1: each bad input gets its 4xx with a JSON error body and the server
// keeps answering valid requests correctly; auth, queue bounds, timeouts, metrics, and the reference
// scores of the fixture classifier through /pooling.
#include <atomic>
#include <mutex>
#include <cmath>

#include "io/safetensors.h"
#include "model/fingerprint.h"
#include "model/model_tokenizer.h"
#include "serve_helpers.h"

namespace arbiter::testing {
namespace {

using nlohmann::json;

std::shared_ptr<const Model> load(const std::string& path) {
  auto model = load_model(path);
  EXPECT_TRUE(model.is_ok()) << model.message();
  return model ? std::shared_ptr<const Model>(*model) : nullptr;
}

serve::ServiceOptions reward_service(const Model& model, bool nemotron_weights) {
  serve::ServiceOptions s;
  s.mode = serve::Mode::kReward;
  s.model_name = "rm";
  if (nemotron_weights) {
    const RewardJob unweighted(model, nullptr, {});
    auto w = parse_attribute_weights("nemotron", unweighted.labels());
    EXPECT_TRUE(w.is_ok());
    s.reward.weights = *w;
  }
  return s;
}

void expect_error(const json& body, int status, int expected_status, const std::string& type, const std::string& fragment) {
  EXPECT_EQ(status, expected_status) << body.dump();
  ASSERT_TRUE(body.is_object()) << "no JSON error body";
  ASSERT_TRUE(body.contains("error")) << body.dump();
  EXPECT_EQ(body["error"]["type"], type) << body.dump();
  EXPECT_NE(body["error"]["message"].get<std::string>().find(fragment), std::string::npos) << body.dump();
}

const std::string kValid = R"({"pairs": [{"prompt": "Hello there", "response": "General Kenobi"}]})";

// The reference float64 head outputs of the fixture for seq2 (33 tokens).
std::pair<std::vector<int32_t>, std::vector<float>> reference_seq2(const std::string& dir) {
  auto ref = SafetensorsFile::open(dir + "/ref.safetensors");
  EXPECT_TRUE(ref.is_ok()) << ref.message();
  const TensorView* ids = (*ref)->tensor("seq2.input_ids");
  const TensorView* scores = (*ref)->tensor("seq2.scores");
  const auto* i = static_cast<const int32_t*>(ids->data);
  const auto* s = static_cast<const float*>(scores->data);
  return {std::vector<int32_t>(i, i + ids->numel()), std::vector<float>(s, s + scores->numel())};
}

TEST(Server, PoolingAndClassifyGiveTheReferenceScores) {
  auto model = load(kSeqCls5);
  ASSERT_TRUE(model);
  auto s = start_server(model, reward_service(*model, false));
  ASSERT_TRUE(s);
  const auto [ids, scores] = reference_seq2(kSeqCls5);
  int status = 0;
  json pooled = post_json(*s, "/pooling", json{{"input", ids}}.dump(), &status);
  ASSERT_EQ(status, 200) << pooled.dump();
  EXPECT_EQ(pooled["object"], "list");
  EXPECT_EQ(pooled["usage"]["prompt_tokens"], ids.size());
  const auto& got = pooled["data"][0]["data"];
  ASSERT_EQ(got.size(), scores.size());
  for (size_t k = 0; k < scores.size(); ++k) EXPECT_NEAR(got[k].get<double>(), scores[k], 1e-4 * (1 + std::fabs(scores[k])));

  json classified = post_json(*s, "/classify", json{{"input", json::array({ids, ids})}, {"model", "rm"}}.dump(), &status);
  ASSERT_EQ(status, 200) << classified.dump();
  ASSERT_EQ(classified["data"].size(), 2u);
  const json& d = classified["data"][1];
  EXPECT_EQ(d["index"], 1);
  EXPECT_EQ(d["num_classes"], 5);
  double top = -1e30, sum = 0;
  size_t best = 0;
  for (size_t k = 0; k < scores.size(); ++k) {
    if (scores[k] > top) top = scores[k], best = k;
  }
  for (size_t k = 0; k < scores.size(); ++k) sum += std::exp(scores[k] - top);
  for (size_t k = 0; k < scores.size(); ++k)
    EXPECT_NEAR(d["probs"][k].get<double>(), std::exp(scores[k] - top) / sum, 1e-5);
  const std::vector<std::string> names = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};
  EXPECT_EQ(d["label"], names[best]);
  EXPECT_TRUE(classified["id"].get<std::string>().rfind("classify-", 0) == 0);

  json wrong_model = post_json(*s, "/classify", json{{"input", ids}, {"model", "other"}}.dump(), &status);
  expect_error(wrong_model, status, 404, "not_found_error", "'other'");
}

TEST(Server, RewardTokenLogitOfACausalModel) {
  // A causal LM served with --reward-token-id: /get_reward answers the reference logit of that token at the
  // last position (as Nemotron-70B-Reward-HF's reward is token 0's).
  const std::string dir = kShared + "/fixtures/hf/llama";
  auto model = load(dir);
  ASSERT_TRUE(model);
  serve::ServiceOptions service = reward_service(*model, false);
  service.reward.reward_token_id = 7;
  auto s = start_server(model, service);
  ASSERT_TRUE(s);
  auto ref = SafetensorsFile::open(dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const TensorView* ids = (*ref)->tensor("seq2.input_ids");
  const auto* p = static_cast<const int32_t*>(ids->data);
  const std::vector<int32_t> tokens(p, p + ids->numel());
  std::vector<float> logits(size_t((*ref)->tensor("seq2.logits")->numel()));
  dequantize_row(DType::F32, (*ref)->tensor("seq2.logits")->data, logits.data(), int64_t(logits.size()));
  const float expected = logits[(tokens.size() - 1) * 512 + 7];
  int status = 0;
  json pooled = post_json(*s, "/pooling", json{{"input", tokens}}.dump(), &status);
  ASSERT_EQ(status, 200) << pooled.dump();
  EXPECT_NEAR(pooled["data"][0]["data"][0].get<double>(), expected, 1e-4 * (1 + std::fabs(expected))) << pooled.dump();
}

TEST(Server, LaterRequestsStartAfterWhatEarlierOnesComputed) {
  // A trainer's samples of one prompt in two requests: the second computes only its own response, and
  // its scores are those of a request computed whole.
  auto model = load(kSeqCls5);
  ASSERT_TRUE(model);
  std::vector<int32_t> prompt, first, second;
  for (int i = 0; i < 100; ++i) prompt.push_back((i * 37 + 11) % 500);
  first = second = prompt;
  for (int i = 0; i < 20; ++i) {
    first.push_back((i * 13 + 3) % 500);
    second.push_back((i * 17 + 400) % 500);
  }
  int status = 0;
  json whole;
  {
    auto fresh = start_server(model, reward_service(*model, false));
    ASSERT_TRUE(fresh);
    whole = post_json(*fresh, "/pooling", json{{"input", second}}.dump(), &status);
    ASSERT_EQ(status, 200) << whole.dump();
  }
  auto s = start_server(model, reward_service(*model, false));
  ASSERT_TRUE(s);
  ASSERT_EQ(post_json(*s, "/pooling", json{{"input", first}}.dump(), &status).size() > 0, true);
  ASSERT_EQ(status, 200);
  json later = post_json(*s, "/pooling", json{{"input", second}}.dump(), &status);
  ASSERT_EQ(status, 200) << later.dump();
  EXPECT_EQ(later["data"][0]["data"], whole["data"][0]["data"]);  // the same bytes, as JSON numbers
  auto metrics = s->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(counter(metrics->body, "arbiter_tokens_total"), 240) << metrics->body;
  EXPECT_EQ(counter(metrics->body, "arbiter_computed_tokens_total"), 120 + 20) << metrics->body;
  // Both requests' sequences are kept whole (neither begins the other): 240 positions of keys and values.
  const ModelConfig& c = model->config;
  EXPECT_EQ(counter(metrics->body, "arbiter_kept_prefix_bytes"), 240 * 2 * c.num_layers * c.kv_dim() * 4) << metrics->body;
}

TEST(Server, BadInputsGetTheirStatusAndTheServerKeepsAnswering) {
  auto model = load(kSeqCls5);
  ASSERT_TRUE(model);
  serve::ServerOptions options;
  options.max_body_bytes = 4096;
  serve::ServiceOptions service = reward_service(*model, true);
  service.max_sequence_tokens = 40;
  auto s = start_server(model, service, options);
  ASSERT_TRUE(s);
  int status = 0;
  const json reference = post_json(*s, "/v1/score", kValid, &status);
  ASSERT_EQ(status, 200) << reference.dump();
  ASSERT_TRUE(reference["data"][0].contains("score"));
  ASSERT_EQ(reference["data"][0]["attributes"].size(), 5u);

  struct Case {
    std::string path, body;
    int status;
    std::string type, fragment;
  };
  const std::vector<Case> cases = {
      {"/v1/score", R"({"pairs": [{"prompt": "a", )", 400, "invalid_request_error", "malformed JSON"},
      {"/v1/score", "{\"pairs\": [{\"prompt\": \"a\xC3\x28\", \"response\": \"b\"}]}", 400, "invalid_request_error", "UTF-8"},
      {"/v1/score", R"({"pairs": []})", 400, "invalid_request_error", "empty list"},
      {"/v1/score", R"({"pairs": [{"prompt": 5, "response": "b"}]})", 400, "invalid_request_error", "pairs[0].prompt is number"},
      {"/v1/score", R"({"conversations": "x"})", 400, "invalid_request_error", "expected a list"},
      {"/v1/score", R"([1, 2, 3])", 400, "invalid_request_error", "expected a JSON object"},
      {"/v1/score", "", 400, "invalid_request_error", "empty"},
      {"/v1/score", R"({"input_ids": [[1, 2, 100000]]})", 400, "invalid_request_error", "input_ids[0]: token 2 is id 100000"},
      {"/v1/score", json{{"pairs", {{{"prompt", "short"}, {"response", "ok"}}, {{"prompt", std::string(600, 'x')}, {"response", "b"}}}}}.dump(),
       400, "invalid_request_error", "pairs[1]: "},
      {"/v1/score", "{\"pairs\": \"" + std::string(5000, 'a') + "\"}", 413, "request_too_large", "--max-body-bytes"},
      {"/get_reward", R"({"query": []})", 400, "invalid_request_error", "'query' is an empty list"},
      {"/get_reward", R"({"query": [1]})", 400, "invalid_request_error", "query[0] is number"},
      {"/classify", R"({"input": [[]]})", 400, "invalid_request_error", "input[0] is an empty list"},
      {"/v1/judge", R"({"items": [{"prompt": "a", "response": "b"}]})", 404, "not_found_error", "--mode judge"},
      {"/no/such/route", R"({})", 404, "not_found_error", "no such route"},
      {"/v1/score", R"({"input_ids": [[1, 2]], "model": "other"})", 404, "not_found_error", "model 'other' is not served here"},
      {"/get_reward", R"({"query": ["a"], "model": 5})", 400, "invalid_request_error", "field 'model' is number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path + " " + c.body.substr(0, 80));
    json body = post_json(*s, c.path, c.body, &status);
    expect_error(body, status, c.status, c.type, c.fragment);
    // The server still answers a valid request, with the same numbers.
    json again = post_json(*s, "/v1/score", kValid, &status);
    ASSERT_EQ(status, 200);
    EXPECT_EQ(again["data"], reference["data"]);
  }
  // The over-long item's message says how long it was and what the limit is.
  json too_long = post_json(*s, "/v1/score", cases[8].body, &status);
  EXPECT_NE(too_long["error"]["message"].get<std::string>().find("more than the limit of 40"), std::string::npos) << too_long.dump();

  auto metrics = s->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("arbiter_requests_total{route=\"/v1/score\",status=\"413\"} 1"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("arbiter_errors_total{route=\"other\",type=\"not_found_error\"} 1"), std::string::npos);
}

// An item that --max-length cut says so, as a line of `arbiter score` does, and is scored as what is left.
TEST(Server, ACutItemSaysSo) {
  auto model = load(kSeqCls5);
  ASSERT_TRUE(model);
  serve::ServiceOptions service = reward_service(*model, true);
  service.format.max_length = 8;
  service.format.truncation = Truncation::kRight;
  auto s = start_server(model, service);
  ASSERT_TRUE(s);
  std::vector<int32_t> ids;
  for (int32_t k = 0; k < 20; ++k) ids.push_back(100 + k);
  int status = 0;
  const json cut = post_json(*s, "/v1/score", json{{"input_ids", {ids}}}.dump(), &status);
  ASSERT_EQ(status, 200) << cut.dump();
  EXPECT_EQ(cut["data"][0]["truncated_tokens"], 12) << cut.dump();
  EXPECT_EQ(cut["data"][0]["response_end_cut"], true) << cut.dump();
  const std::vector<int32_t> kept(ids.begin(), ids.begin() + 8);
  const json whole = post_json(*s, "/v1/score", json{{"input_ids", {kept}}}.dump(), &status);
  ASSERT_EQ(status, 200) << whole.dump();
  EXPECT_EQ(cut["data"][0]["score"], whole["data"][0]["score"]);
  EXPECT_FALSE(whole["data"][0].contains("truncated_tokens")) << whole.dump();

  // /get_reward cuts an outcome model's query on the right, as OpenRLHF's server does, and says by how much
  // per query.
  service = reward_service(*model, true);
  service.format.max_length = 8;
  auto plain = start_server(model, service);
  ASSERT_TRUE(plain);
  const json rewarded = post_json(*plain, "/get_reward",
                                  json{{"query", {"one two three four five six seven eight nine ten eleven twelve", "hi"}}}.dump(),
                                  &status);
  ASSERT_EQ(status, 200) << rewarded.dump();
  ASSERT_TRUE(rewarded.contains("truncated_tokens")) << rewarded.dump();
  EXPECT_GT(rewarded["truncated_tokens"][0].get<int64_t>(), 0) << rewarded.dump();
  EXPECT_EQ(rewarded["truncated_tokens"][1].get<int64_t>(), 0) << rewarded.dump();
}

// A conversation whose message the chat template leaves out (a role it does not render) is a 400 naming it,
// not a score of the conversation without it; a role the template renders is scored.
TEST(Server, AMessageTheChatTemplateLeavesOutIsA400) {
  auto model = load(kSeqCls1);
  ASSERT_TRUE(model);
  serve::ServiceOptions service = reward_service(*model, false);
  // Renders system, user, assistant and tool turns and skips any other, as Qwen's templates do.
  service.format.chat_template_source =
      "{% for m in messages %}{% if m.role in ['system', 'user', 'assistant', 'tool'] %}<{{ m.role }}>{{ m.content }}\n"
      "{% endif %}{% endfor %}";
  auto s = start_server(model, service);
  ASSERT_TRUE(s);
  auto conversation = [](const std::string& role) {
    return json{{"conversations", {{{{"role", "user"}, {"content", "6 x 7?"}}, {{"role", role}, {"content", "42"}},
                                    {{"role", "assistant"}, {"content", "42."}}}}}}.dump();
  };
  int status = 0;
  const json left_out = post_json(*s, "/v1/score", conversation("ipython"), &status);
  expect_error(left_out, status, 400, "invalid_request_error",
               "conversations[0]: message 1 (role 'ipython'): the chat template leaves it out");
  const json rendered = post_json(*s, "/v1/score", conversation("tool"), &status);
  EXPECT_EQ(status, 200) << rendered.dump();
}

TEST(Server, ThousandsOfTinyRequests) {
  auto model = load(kSeqCls1);
  ASSERT_TRUE(model);
  serve::ServerOptions options;
  options.max_queue = 64;
  options.queue_wait_ms = 0;
  auto s = start_server(model, reward_service(*model, false), options);
  ASSERT_TRUE(s);
  int status = 0;
  const json expected = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status);
  ASSERT_EQ(status, 200) << expected.dump();
  constexpr int kThreads = 16, kPerThread = 150;
  std::atomic<int> ok{0}, refused{0}, wrong{0};
  std::mutex first_failure_mutex;
  std::string first_failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto client = s->client();
      for (int i = 0; i < kPerThread; ++i) {
        // A new connection per request, without retries: every one must be answered (connections_test.cpp).
        auto res = client.Post("/get_reward", R"({"query": ["hi"]})", "application/json");
        // Batch neighbours change the kernels' summation order, so f32 rounding may differ slightly.
        if (res && res->status == 200 &&
            std::fabs(json::parse(res->body)["rewards"][0].get<double>() - expected["rewards"][0].get<double>()) < 1e-5) {
          ++ok;
        } else if (res && res->status == 429 && res->has_header("Retry-After")) {
          ++refused;
        } else {
          ++wrong;
          std::lock_guard<std::mutex> lock(first_failure_mutex);
          if (first_failure.empty())
            first_failure = res ? std::to_string(res->status) + " " + res->body : "connection: " + httplib::to_string(res.error());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0) << "first failure: " << first_failure << " (expected reward " << expected["rewards"] << ")";
  EXPECT_EQ(ok.load() + refused.load(), kThreads * kPerThread);
  EXPECT_GT(ok.load(), 0);
  json after = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NEAR(after["rewards"][0].get<double>(), expected["rewards"][0].get<double>(), 1e-5);
  auto metrics = s->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("arbiter_batch_sequences_count"), std::string::npos);
}

TEST(Server, AFullQueueIsAnswered429) {
  auto model = load(kSeqCls1);
  ASSERT_TRUE(model);
  serve::ServerOptions options;
  options.max_queue = 2;
  options.queue_wait_ms = 0;  // refused at once (by default a request waits a while for room)
  auto s = start_server(model, reward_service(*model, false), options);
  ASSERT_TRUE(s);
  int status = 0;
  json too_big = post_json(*s, "/get_reward", R"({"query": ["a", "b", "c"]})", &status);
  expect_error(too_big, status, 413, "request_too_large", "--max-queue 2");
  // Many clients at once on a two-sequence queue: each gets its answer or a 429, never anything else.
  std::atomic<int> ok{0}, refused{0}, wrong{0};
  std::mutex first_failure_mutex;
  std::string first_failure;
  std::vector<std::thread> threads;
  const std::string body = json{{"query", {std::string(300, 'a'), std::string(300, 'b')}}}.dump();
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&] {
      auto client = s->client();
      client.set_keep_alive(true);  // as trainers' clients with a session do
      for (int i = 0; i < 10; ++i) {
        auto res = client.Post("/get_reward", body, "application/json");
        if (res && res->status == 200) ++ok;
        else if (res && res->status == 429 && res->get_header_value("Retry-After") == "1" &&
                 json::parse(res->body)["error"]["type"] == "queue_full") {
          ++refused;
        } else {
          ++wrong;
          std::lock_guard<std::mutex> lock(first_failure_mutex);
          if (first_failure.empty())
            first_failure = res ? std::to_string(res->status) + " " + res->body : "connection: " + httplib::to_string(res.error());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0) << "first failure: " << first_failure;
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(refused.load(), 0) << "24 concurrent clients never filled a queue of 2";
  json after = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status);
  EXPECT_EQ(status, 200);
}

TEST(Server, BearerTokenAuth) {
  auto model = load(kSeqCls1);
  ASSERT_TRUE(model);
  serve::ServerOptions options;
  options.api_key = "sekret";
  auto s = start_server(model, reward_service(*model, false), options);
  ASSERT_TRUE(s);
  int status = 0;
  json none = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status);
  expect_error(none, status, 401, "authentication_error", "API key");
  json wrong = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "Bearer sekreT"}});
  EXPECT_EQ(status, 401);
  json right = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "Bearer sekret"}});
  EXPECT_EQ(status, 200) << right.dump();
  EXPECT_EQ(right["rewards"].size(), 1u);
  EXPECT_EQ(right["scores"], right["rewards"]);
  // The scheme's name is case-insensitive; the key is not.
  post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "bearer sekret"}});
  EXPECT_EQ(status, 200);
  post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "BEARER sekret"}});
  EXPECT_EQ(status, 200);
  post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "Basic sekret"}});
  EXPECT_EQ(status, 401);
  // One or more spaces after the scheme (RFC 9110's 1*SP); none is another scheme's name.
  post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "Bearer   sekret"}});
  EXPECT_EQ(status, 200);
  post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "Bearersekret"}});
  EXPECT_EQ(status, 401);
  post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status, {{"Authorization", "Bearer sekret x"}});
  EXPECT_EQ(status, 401);
  auto health = s->client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto metrics = s->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 401);
  // A compressed body is refused by name, not read as its compressed bytes.
  json gzipped = post_json(*s, "/get_reward", R"({"query": ["hi"]})", &status,
                           {{"Authorization", "Bearer sekret"}, {"Content-Encoding", "gzip"}});
  expect_error(gzipped, status, 415, "unsupported_media_type", "Content-Encoding 'gzip'");
}

TEST(Server, JudgeRouteAndTimeout) {
  auto model = load(kStories);
  ASSERT_TRUE(model);
  serve::ServiceOptions service;
  service.mode = serve::Mode::kJudge;
  service.model_name = "judge";
  auto templ = builtin_judge_template("generic");
  ASSERT_TRUE(templ.is_ok());
  service.judge.prompt_template = *templ;
  auto tokenizer = load_model_tokenizer(*model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  auto tokens = resolve_score_tokens(**tokenizer, "1..5");
  ASSERT_TRUE(tokens.is_ok()) << tokens.message();
  service.judge.score_tokens = *tokens;
  auto s = start_server(model, service);
  ASSERT_TRUE(s);
  int status = 0;
  json judged = post_json(*s, "/v1/judge", R"({"items": [{"prompt": "Tell a story", "response": "Once upon a time"},
      {"prompt": "Hi", "response": "Hello", "rubric": "Be kind"}], "per_layer": true})", &status);
  ASSERT_EQ(status, 200) << judged.dump();
  ASSERT_EQ(judged["data"].size(), 2u);
  EXPECT_EQ(judged["score_values"], json::array({1.0, 2.0, 3.0, 4.0, 5.0}));
  for (const json& d : judged["data"]) {
    EXPECT_GE(d["expected"].get<double>(), 1.0);
    EXPECT_LE(d["expected"].get<double>(), 5.0);
    EXPECT_EQ(d["per_layer_logits"].size(), size_t(model->config.num_layers + 1));
    EXPECT_EQ(d["probabilities"].size(), 5u);
  }
  // Responses given as a list come back as a list, even a list of one: the same shape for every length.
  json listed = post_json(*s, "/v1/judge", R"({"items": [{"prompt": "Tell a story", "responses": ["Once upon a time"]}]})",
                          &status);
  ASSERT_EQ(status, 200) << listed.dump();
  ASSERT_TRUE(listed["data"][0].contains("responses")) << listed.dump();
  ASSERT_EQ(listed["data"][0]["responses"].size(), 1u);
  EXPECT_EQ(listed["data"][0]["responses"][0]["expected"], judged["data"][0]["expected"]);
  json reward_route = post_json(*s, "/v1/score", kValid, &status);
  expect_error(reward_route, status, 404, "not_found_error", "--mode reward");
  s->shutdown();

  // A limit shorter than any forward pass: 504, and the server stays up for the next request.
  serve::ServerOptions hurried;
  hurried.timeout_ms = 1;
  auto t = start_server(model, service, hurried);
  ASSERT_TRUE(t);
  json items = json::array();
  for (int i = 0; i < 64; ++i) items.push_back({{"prompt", std::string(200, 'a')}, {"response", "b"}});
  json timed_out = post_json(*t, "/v1/judge", json{{"items", items}}.dump(), &status);
  expect_error(timed_out, status, 504, "timeout", "--timeout-ms");
  auto health = t->client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // /v1/models describes the served model, with the fingerprint run records and heads know it by.
  auto models = t->client().Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  const json described = json::parse(models->body)["data"][0];
  EXPECT_EQ(described["id"], "judge");
  EXPECT_EQ(described["mode"], "judge");
  EXPECT_EQ(described["fingerprint"], model_fingerprint(*model));
}

}  // namespace
}  // namespace arbiter::testing
