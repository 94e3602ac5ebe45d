// The server's numbers equal the offline commands': /v1/score against `arbiter score`, /get_reward
// against `arbiter score --schema input_ids` on the same tokens, /v1/judge against `arbiter judge`
// (pointwise, and pairwise with items of several responses).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include "model/model_tokenizer.h"
#include "score/pairwise.h"
#include "serve_helpers.h"
#include "text/tokenizer.h"
#include "../../support/scratch_root.h"

namespace arbiter::testing {
namespace {

using nlohmann::json;

int run_binary(const std::string& args, std::string* output) {
  const std::string cmd = std::string(ARBITER_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

std::string temp_dir(const std::string& name) {
  const auto dir = arbiter::test::scratch_root() / ("arbiter-serve-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_rows(const std::string& path, const std::vector<json>& rows) {
  std::ofstream out(path);
  for (const json& r : rows) out << r.dump() << "\n";
}

// The same job on the same tokens; only the batch neighbours differ, which changes the kernels' f32
// summation order (a few ulps), so the bound is an f32 one. The largest difference seen is printed.
double g_max_relative = 0;
void expect_same_number(const json& a, const json& b, const std::string& what) {
  ASSERT_TRUE(a.is_number() && b.is_number()) << what << ": " << a << " vs " << b;
  const double x = a.get<double>(), y = b.get<double>();
  g_max_relative = std::max(g_max_relative, std::fabs(x - y) / (1e-6 + std::fabs(y)));
  EXPECT_NEAR(x, y, 1e-5 * (1 + std::fabs(y))) << what;
}

class PrintLargestDifference : public ::testing::Environment {
 public:
  void TearDown() override { std::printf("serve vs offline: largest relative difference %.3g\n", g_max_relative); }
};
const auto* const kPrinter = ::testing::AddGlobalTestEnvironment(new PrintLargestDifference);

const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"What is the capital of France?", "Paris is the capital of France."},
    {"Write a haiku about rain.", "Soft rain on the roof / the garden drinks quietly / puddles hold the sky"},
    {"2 + 2 = ?", "5"},
    {"Explain recursion briefly.", "A function that calls itself on a smaller input until a base case."},
};

// A judge service as `arbiter serve --mode judge --template NAME --score-tokens SPEC` sets it up.
serve::ServiceOptions judge_service(const Model& model, const std::string& template_name, const std::string& spec) {
  serve::ServiceOptions service;
  service.mode = serve::Mode::kJudge;
  service.model_name = "judge";
  service.judge.prompt_template = *builtin_judge_template(template_name);
  auto tokenizer = load_model_tokenizer(model);
  EXPECT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  if (!tokenizer) return service;
  service.judge.score_tokens = *resolve_score_tokens(**tokenizer, spec);
  if (service.judge.prompt_template.pairwise) service.judge.score_tokens.values = *pairwise_label_values(2);
  return service;
}

// `arbiter judge` on stories260K over `rows` (written to DIR/in.jsonl) with `options`: the lines it writes.
std::vector<json> judge_offline(const std::string& dir, const std::vector<json>& rows, const std::string& options) {
  write_rows(dir + "/in.jsonl", rows);
  std::string log;
  EXPECT_EQ(run_binary("judge -m " + kStories + " -i " + dir + "/in.jsonl -o " + dir + "/out.jsonl " + options, &log), 0)
      << log;
  return read_lines(dir + "/out.jsonl");
}

class OfflineEquality : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  }
};

TEST_F(OfflineEquality, ScoreMatchesTheScoreCommand) {
  const std::string dir = temp_dir("score");
  std::vector<json> rows;
  json pairs = json::array();
  for (const auto& [prompt, response] : kPairs) {
    rows.push_back({{"prompt", prompt}, {"response", response}});
    pairs.push_back({{"prompt", prompt}, {"response", response}});
  }
  write_rows(dir + "/in.jsonl", rows);
  std::string log;
  ASSERT_EQ(run_binary("score -m " + kSeqCls5 + " -i " + dir + "/in.jsonl -o " + dir + "/out.jsonl --attribute-weights nemotron",
                       &log), 0) << log;
  const std::vector<json> offline = read_lines(dir + "/out.jsonl");
  ASSERT_EQ(offline.size(), kPairs.size());

  auto model = load_model(kSeqCls5);
  ASSERT_TRUE(model.is_ok());
  serve::ServiceOptions service;
  service.model_name = "rm";
  const RewardJob unweighted(**model, nullptr, {});
  service.reward.weights = *parse_attribute_weights("nemotron", unweighted.labels());
  serve::ServerOptions options;
  options.max_batch_tokens = 64;  // several forward passes, unlike the command's one
  auto s = start_server(*model, service, options);
  ASSERT_TRUE(s);
  int status = 0;
  const json served = post_json(*s, "/v1/score", json{{"pairs", pairs}}.dump(), &status);
  ASSERT_EQ(status, 200) << served.dump();
  ASSERT_EQ(served["data"].size(), kPairs.size());
  for (size_t i = 0; i < kPairs.size(); ++i) {
    expect_same_number(served["data"][i]["score"], offline[i]["score"], "score of row " + std::to_string(i));
    for (const auto& [name, value] : offline[i]["attributes"].items())
      expect_same_number(served["data"][i]["attributes"][name], value, name + " of row " + std::to_string(i));
  }
}

// /get_reward reads a query as OpenRLHF's reward server does: its text with the pad and EOS tokens around
// it removed and one EOS appended, tokenized as it is. A trainer's left-padded, EOS-ended decodings get the
// reward of the bare text.
TEST_F(OfflineEquality, GetRewardMatchesTheScoreCommandOnTheSameTokens) {
  auto model = load_model(kSeqCls1);
  ASSERT_TRUE(model.is_ok());
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  ASSERT_TRUE((*tokenizer)->eos_id().has_value());
  const int32_t eos_id = *(*tokenizer)->eos_id();
  const std::string eos = (*tokenizer)->id_to_token(eos_id);
  const std::string dir = temp_dir("reward");
  std::vector<json> rows;
  json queries = json::array(), padded = json::array();
  for (const auto& [prompt, response] : kPairs) {
    const std::string query = "User: " + prompt + "\nAssistant: " + response;
    queries.push_back(query);
    padded.push_back(eos + eos + query + eos + eos + eos);  // this tokenizer has no pad token: EOS pads
    auto ids = (*tokenizer)->encode(query, /*add_special=*/false, /*parse_special=*/true);
    ASSERT_TRUE(ids.is_ok());
    ids->push_back(eos_id);
    rows.push_back({{"input_ids", *ids}});
  }
  write_rows(dir + "/in.jsonl", rows);
  std::string log;
  ASSERT_EQ(run_binary("score -m " + kSeqCls1 + " -i " + dir + "/in.jsonl -o " + dir + "/out.jsonl --schema input_ids", &log), 0)
      << log;
  const std::vector<json> offline = read_lines(dir + "/out.jsonl");
  ASSERT_EQ(offline.size(), kPairs.size());

  serve::ServiceOptions service;
  service.model_name = "rm";
  auto s = start_server(*model, service);
  ASSERT_TRUE(s);
  int status = 0;
  const json served = post_json(*s, "/get_reward", json{{"query", queries}, {"prompts", json::array({"a", "b", "c", "d"})},
                                                        {"labels", json::array({"", "", "", ""})}}.dump(), &status);
  ASSERT_EQ(status, 200) << served.dump();
  const json served_padded = post_json(*s, "/get_reward", json{{"query", padded}}.dump(), &status);
  ASSERT_EQ(status, 200) << served_padded.dump();
  for (size_t i = 0; i < kPairs.size(); ++i) {
    expect_same_number(served["rewards"][i], offline[i]["score"], "reward of query " + std::to_string(i));
    expect_same_number(served_padded["rewards"][i], offline[i]["score"], "reward of padded query " + std::to_string(i));
  }
}

TEST_F(OfflineEquality, JudgeMatchesTheJudgeCommand) {
  const std::string dir = temp_dir("judge");
  std::vector<json> rows;
  json items = json::array();
  for (size_t i = 0; i < kPairs.size(); ++i) {
    json row = {{"prompt", kPairs[i].first}, {"response", kPairs[i].second}};
    if (i == 1) row["rubric"] = "Score the imagery.";
    if (i == 2) row["reference"] = "4";
    rows.push_back(row);
    items.push_back(row);
  }
  write_rows(dir + "/in.jsonl", rows);
  std::string log;
  ASSERT_EQ(run_binary("judge -m " + kStories + " -i " + dir + "/in.jsonl -o " + dir + "/out.jsonl --template prometheus --per-layer",
                       &log), 0) << log;
  const std::vector<json> offline = read_lines(dir + "/out.jsonl");
  ASSERT_EQ(offline.size(), kPairs.size());

  auto model = load_model(kStories);
  ASSERT_TRUE(model.is_ok());
  auto s = start_server(*model, judge_service(**model, "prometheus", "1..5"));
  ASSERT_TRUE(s);
  int status = 0;
  const json served = post_json(*s, "/v1/judge", json{{"items", items}, {"per_layer", true}}.dump(), &status);
  ASSERT_EQ(status, 200) << served.dump();
  for (size_t i = 0; i < kPairs.size(); ++i) {
    const std::string row = "row " + std::to_string(i);
    for (const char* score : {"vanilla", "expected", "lager"})
      expect_same_number(served["data"][i][score], offline[i][score], std::string(score) + " of " + row);
    const json& a = served["data"][i]["per_layer_logits"];
    const json& b = offline[i]["per_layer_logits"];
    ASSERT_EQ(a.size(), b.size());
    for (size_t l = 0; l < a.size(); ++l)
      for (size_t k = 0; k < a[l].size(); ++k) expect_same_number(a[l][k], b[l][k], "per-layer logit of " + row);
  }
}

// A server started with --generate lets the judge write, as `arbiter judge --generate` does: stories260K
// writes "He was" after the generic grading prompt of these rows, so with the labels happy,was the score
// is read where it writes "was". And --per-layer at start-up puts the logits in every answer.
TEST_F(OfflineEquality, GeneratingJudgeMatchesTheJudgeCommand) {
  const std::string dir = temp_dir("generate");
  std::vector<json> rows;
  json items = json::array();
  for (size_t i = 0; i < 2; ++i) {
    rows.push_back({{"prompt", kPairs[i].first}, {"response", kPairs[i].second}});
    items.push_back(rows.back());
  }
  const std::vector<json> offline =
      judge_offline(dir, rows, "--score-tokens happy,was --generate --max-new-tokens 40 --per-layer");
  ASSERT_EQ(offline.size(), rows.size());

  auto model = load_model(kStories);
  ASSERT_TRUE(model.is_ok());
  serve::ServiceOptions service = judge_service(**model, "generic", "happy,was");
  service.judge.generate = true;
  service.judge.max_new_tokens = 40;
  service.judge.per_layer = true;
  auto s = start_server(*model, service);
  ASSERT_TRUE(s);
  int status = 0;
  const json served = post_json(*s, "/v1/judge", json{{"items", items}}.dump(), &status);
  ASSERT_EQ(status, 200) << served.dump();
  int64_t written = 0;
  for (const json& line : offline) written += line["generated_tokens"].get<int64_t>();
  EXPECT_EQ(served["usage"]["completion_tokens"], written) << served["usage"].dump();
  EXPECT_EQ(served["usage"]["total_tokens"].get<int64_t>(), served["usage"]["prompt_tokens"].get<int64_t>() + written);
  // /metrics counts each written token as one decoding step the model computed.
  auto metrics = s->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(counter(metrics->body, "arbiter_generated_tokens_total"), written) << metrics->body;
  EXPECT_EQ(counter(metrics->body, "arbiter_tokens_total"), served["usage"]["prompt_tokens"].get<int64_t>());
  EXPECT_GE(counter(metrics->body, "arbiter_computed_tokens_total"), written) << metrics->body;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string row = "row " + std::to_string(i);
    const json& got = served["data"][i];
    ASSERT_GT(offline[i]["generated_tokens"].get<int>(), 0) << offline[i].dump();
    EXPECT_EQ(got["generated_tokens"], offline[i]["generated_tokens"]) << row;
    EXPECT_EQ(got["generated"], offline[i]["generated"]) << row;
    for (const char* score : {"vanilla", "expected", "lager"})
      expect_same_number(got[score], offline[i][score], std::string(score) + " of " + row);
    ASSERT_TRUE(got.contains("per_layer_logits")) << got.dump();
    ASSERT_EQ(got["per_layer_logits"].size(), offline[i]["per_layer_logits"].size());
    for (size_t l = 0; l < got["per_layer_logits"].size(); ++l)
      for (size_t k = 0; k < 2; ++k)
        expect_same_number(got["per_layer_logits"][l][k], offline[i]["per_layer_logits"][l][k], "per-layer logit of " + row);
  }
  s->shutdown();

  // A judge that stops writing before its score: the item is named, as the offline row error names the row.
  service.judge.max_new_tokens = 1;
  s = start_server(*model, service);
  ASSERT_TRUE(s);
  const json failed = post_json(*s, "/v1/judge", json{{"items", items}}.dump(), &status);
  EXPECT_EQ(status, 500) << failed.dump();
  const std::string message = failed.dump();
  EXPECT_NE(message.find("items[0]"), std::string::npos) << message;
  EXPECT_NE(message.find("the model wrote 1 token (ended by max_tokens)"), std::string::npos) << message;
}

TEST_F(OfflineEquality, PairwiseJudgeMatchesTheJudgeCommand) {
  // Items of two responses (the server's `responses`), judged pairwise in both orders: the win rates and
  // every comparison's scores equal those `arbiter judge` writes for the same pairs as chosen / rejected.
  const std::string dir = temp_dir("pairwise");
  std::vector<json> rows;
  json items = json::array();
  for (size_t i = 0; i + 1 < kPairs.size(); ++i) {
    rows.push_back({{"prompt", kPairs[i].first}, {"chosen", kPairs[i].second}, {"rejected", kPairs[i + 1].second}});
    items.push_back({{"prompt", kPairs[i].first}, {"responses", {kPairs[i].second, kPairs[i + 1].second}}});
  }
  write_rows(dir + "/in.jsonl", rows);
  std::string log;
  ASSERT_EQ(run_binary("judge -m " + kStories + " -i " + dir + "/in.jsonl -o " + dir + "/out.jsonl --template pairwise",
                       &log), 0) << log;
  const std::vector<json> offline = read_lines(dir + "/out.jsonl");
  ASSERT_EQ(offline.size(), rows.size());

  auto model = load_model(kStories);
  ASSERT_TRUE(model.is_ok());
  auto s = start_server(*model, judge_service(**model, "pairwise", "A,B"));
  ASSERT_TRUE(s);
  int status = 0;
  const json served = post_json(*s, "/v1/judge", json{{"items", items}}.dump(), &status);
  ASSERT_EQ(status, 200) << served.dump();
  EXPECT_EQ(served["score_values"], json::array({1.0, 0.0}));
  ASSERT_EQ(served["data"].size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string row = "row " + std::to_string(i);
    const json& got = served["data"][i];
    ASSERT_EQ(got["responses"].size(), 2u) << got.dump();
    ASSERT_EQ(got["comparisons"].size(), 2u) << got.dump();
    for (const char* score : {"vanilla", "expected", "lager"})
      for (size_t r = 0; r < 2; ++r) {
        expect_same_number(got["responses"][r][score], offline[i]["responses"][r][score],
                           std::string(score) + " win rate of response " + std::to_string(r) + ", " + row);
        expect_same_number(got["comparisons"][r][score], offline[i]["comparisons"][r][score],
                           std::string(score) + " of comparison " + std::to_string(r) + ", " + row);
      }
    EXPECT_EQ(got["order_agreement"], offline[i]["order_agreement"]) << row;
    EXPECT_FALSE(got["comparisons"][0].contains("human")) << "an item carries no human verdict";
  }

  // One response is not a pair: 400, naming the item.
  const json single = post_json(*s, "/v1/judge", R"({"items": [{"prompt": "p", "responses": ["a", "b"]},
      {"prompt": "p", "response": "only one"}]})", &status);
  EXPECT_EQ(status, 400) << single.dump();
  EXPECT_NE(single.dump().find("items[1]"), std::string::npos) << single.dump();
  EXPECT_NE(single.dump().find("two or more responses"), std::string::npos) << single.dump();
}

TEST_F(OfflineEquality, ListwiseJudgeMatchesTheJudgeCommand) {
  // Items of three responses judged listwise in every rotation, against `arbiter judge` on the same rows.
  const std::string dir = temp_dir("listwise");
  std::vector<json> rows;
  json items = json::array();
  for (size_t i = 0; i + 2 < kPairs.size(); ++i) {
    const json responses = {kPairs[i].second, kPairs[i + 1].second, kPairs[i + 2].second};
    rows.push_back({{"prompt", kPairs[i].first}, {"samples", responses}});
    items.push_back({{"prompt", kPairs[i].first}, {"responses", responses}});
  }
  const std::vector<json> offline = judge_offline(dir, rows, "--template listwise --field response=samples");
  ASSERT_EQ(offline.size(), rows.size());

  auto model = load_model(kStories);
  ASSERT_TRUE(model.is_ok());
  auto s = start_server(*model, judge_service(**model, "listwise", "A,B,C,D,E,F,G,H"));
  ASSERT_TRUE(s);
  int status = 0;
  const json served = post_json(*s, "/v1/judge", json{{"items", items}}.dump(), &status);
  ASSERT_EQ(status, 200) << served.dump();
  ASSERT_EQ(served["data"].size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string row = "row " + std::to_string(i);
    const json& got = served["data"][i];
    ASSERT_EQ(got["orders"].size(), 3u) << got.dump();
    for (size_t r = 0; r < 3; ++r) {
      for (const char* score : {"vanilla", "expected", "lager"})
        expect_same_number(got["responses"][r][score], offline[i]["responses"][r][score],
                           std::string(score) + " of response " + std::to_string(r) + ", " + row);
      for (size_t k = 0; k < 3; ++k)
        expect_same_number(got["orders"][r]["probabilities"][k], offline[i]["orders"][r]["probabilities"][k],
                           "probability " + std::to_string(k) + " of order " + std::to_string(r) + ", " + row);
    }
  }
}

}  // namespace
}  // namespace arbiter::testing
