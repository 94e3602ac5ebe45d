// A process reward model behind the server: every endpoint reads the head at each step separator, /pooling
// returns the step rewards, /get_reward one reward per query (their minimum by default), /v1/score the
// scoring run's lines; /classify and text without a separator are the client's errors. The expected step
// rewards come from a forward read at the separators and the head computed here in double precision.
#include <cmath>

#include "../../support/step_token_reads.h"
#include "../../support/reward_head_fixture.h"
#include "model/model_tokenizer.h"
#include "serve_helpers.h"
#include "../../support/scratch_root.h"

namespace arbiter::testing {
namespace {

using nlohmann::json;
using namespace arbiter::reward_head_test;

const std::string kQuery =
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n2 + 2 = 4.<extra_0>The answer is 4.<extra_0>"
    "<|im_end|>\n";

TEST(ProcessRewardServe, EveryEndpointReadsTheStepSeparators) {
  const MlpHead head = random_head(64, 2, 13);
  const std::string dir = model_with_head(arbiter::test::scratch_root() / "serve-prm", "Qwen2ForProcessRewardModel",
                                          head, true, true);
  auto loaded = load_model(dir);
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  std::shared_ptr<const Model> model = *loaded;

  // Expected: the forward's final-norm rows at the two separators through the head, softmax's second class.
  auto tokenizer = load_model_tokenizer(*model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  auto tokens = (*tokenizer)->encode(kQuery, false, true);
  ASSERT_TRUE(tokens.is_ok()) << tokens.message();
  SequenceInput seq{*tokens, {}};
  for (size_t p = 0; p < tokens->size(); ++p)
    if ((*tokens)[p] == kStepTagId) seq.read_positions.push_back(int32_t(p));
  ASSERT_EQ(seq.read_positions.size(), 2u);
  ForwardOptions options;
  options.final_norm = true;
  auto out = make_cpu_backend(model)->forward({seq}, options);
  ASSERT_TRUE(out.is_ok()) << out.message();
  std::vector<double> expected;
  for (int s = 0; s < 2; ++s) {
    const std::vector<double> logits = head_in_double(head, (*out)[0].final_norm.data() + s * 64, nullptr);
    expected.push_back(1.0 / (1.0 + std::exp(logits[0] - logits[1])));
  }

  serve::ServiceOptions service;
  service.mode = serve::Mode::kReward;
  service.model_name = "prm";
  auto server = start_server(model, service);
  ASSERT_TRUE(server);
  int status = 0;
  const json pooled = post_json(*server, "/pooling", json{{"input", kQuery}}.dump(), &status);
  ASSERT_EQ(status, 200) << pooled.dump();
  const auto rewards = pooled["data"][0]["data"].get<std::vector<double>>();
  ASSERT_EQ(rewards.size(), 2u) << pooled.dump();
  for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(rewards[s], expected[s], 1e-5) << "step " << s;

  const json reward = post_json(*server, "/get_reward", json{{"query", {kQuery}}}.dump(), &status);
  ASSERT_EQ(status, 200) << reward.dump();
  EXPECT_NEAR(reward["rewards"][0].get<double>(), std::min(expected[0], expected[1]), 1e-5) << reward.dump();
  // The steps travel beside the aggregate.
  ASSERT_EQ(reward["step_rewards"][0].size(), 2u) << reward.dump();
  for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(reward["step_rewards"][0][s].get<double>(), expected[s], 1e-5) << reward.dump();
  EXPECT_EQ(reward["first_error_step"][0].get<int64_t>(), expected[0] < 0.5 ? 0 : expected[1] < 0.5 ? 1 : -1);

  const json conversation = {{"role", "user"}, {"content", "What is 2 + 2?"}};
  const json answer = {{"role", "assistant"}, {"content", "2 + 2 = 4.<extra_0>The answer is 4.<extra_0>"}};
  const json scored = post_json(*server, "/v1/score", json{{"conversations", {{conversation, answer}}}}.dump(), &status);
  ASSERT_EQ(status, 200) << scored.dump();
  const auto step_rewards = scored["data"][0]["step_rewards"].get<std::vector<double>>();
  ASSERT_EQ(step_rewards.size(), 2u) << scored.dump();
  for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(step_rewards[s], expected[s], 1e-5) << "step " << s;

  // A solution's steps as a list: the server ends each with the separator, as `arbiter score` does.
  const json listed = post_json(*server, "/v1/score",
                                json{{"pairs", {{{"prompt", "What is 2 + 2?"},
                                                 {"steps", {"2 + 2 = 4.", "The answer is 4."}}}}}}.dump(), &status);
  ASSERT_EQ(status, 200) << listed.dump();
  EXPECT_EQ(listed["data"][0]["step_rewards"], scored["data"][0]["step_rewards"]) << listed.dump();
  const json both = post_json(*server, "/v1/score",
                              json{{"pairs", {{{"prompt", "p"}, {"response", "r"}, {"steps", {"a"}}}}}}.dump(), &status);
  EXPECT_EQ(status, 400) << both.dump();
  EXPECT_NE(both.dump().find("pairs[0]"), std::string::npos) << both.dump();
  const json empty_steps = post_json(*server, "/v1/score", json{{"pairs", {{{"prompt", "p"}, {"steps", json::array()}}}}}.dump(), &status);
  EXPECT_EQ(status, 400) << empty_steps.dump();

  const json untagged = post_json(*server, "/get_reward", R"({"query": ["no steps marked here"]})", &status);
  EXPECT_EQ(status, 400) << untagged.dump();
  EXPECT_NE(untagged.dump().find("step separator"), std::string::npos) << untagged.dump();
  const json classified = post_json(*server, "/classify", json{{"input", kQuery}}.dump(), &status);
  EXPECT_EQ(status, 400) << classified.dump();
  EXPECT_NE(classified.dump().find("process reward"), std::string::npos) << classified.dump();
}

// A causal LM served as a process reward model by its step tokens' logits (Math-Shepherd's "+" / "-"), here
// with the fixture vocabulary's "Rew" as the tag.
TEST(ProcessRewardServe, ACausalLmReadByStepTokens) {
  auto loaded = load_model(qwen2_fixture());
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  std::shared_ptr<const Model> model = *loaded;
  const std::string query = "What is 2 + 2? 2 + 2 = 4.\nRew\nSo it is 5.\nRew\n";
  const std::vector<double> expected = rewards_at_tags(model, query, "Rew", "+", "-");
  ASSERT_EQ(expected.size(), 2u);

  serve::ServiceOptions service;
  service.mode = serve::Mode::kReward;
  service.model_name = "shepherd";
  service.reward.step_tag = "Rew";
  service.reward.step_label_tokens = {"+", "-"};
  service.reward.step_aggregate = StepAggregate::kLast;
  auto server = start_server(model, service);
  ASSERT_TRUE(server);
  int status = 0;
  const json pooled = post_json(*server, "/pooling", json{{"input", query}}.dump(), &status);
  ASSERT_EQ(status, 200) << pooled.dump();
  const auto rewards = pooled["data"][0]["data"].get<std::vector<double>>();
  ASSERT_EQ(rewards.size(), 2u) << pooled.dump();
  for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(rewards[s], expected[s], 1e-6) << "step " << s;
  const json reward = post_json(*server, "/get_reward", json{{"query", {query}}}.dump(), &status);
  ASSERT_EQ(status, 200) << reward.dump();
  EXPECT_NEAR(reward["rewards"][0].get<double>(), expected[1], 1e-6) << reward.dump();  // the last step's
  const json classified = post_json(*server, "/classify", json{{"input", query}}.dump(), &status);
  EXPECT_EQ(status, 400) << classified.dump();
}

// A solution longer than the maximum length: its steps past the cut would go unread, and the reward of
// the steps before it would pass for the whole solution's. /get_reward refuses it, naming the query, as
// /v1/score does; the same solution within the limit is answered.
TEST(ProcessRewardServe, GetRewardRefusesASolutionTheCutWouldShorten) {
  auto loaded = load_model(qwen2_fixture());
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  std::shared_ptr<const Model> model = *loaded;
  serve::ServiceOptions service;
  service.mode = serve::Mode::kReward;
  service.model_name = "shepherd";
  service.reward.step_tag = "Rew";
  service.reward.step_label_tokens = {"+", "-"};
  service.format.max_length = 24;
  auto server = start_server(model, service);
  ASSERT_TRUE(server);
  std::string long_query = "What is 2 + 2?";
  for (int step = 0; step < 12; ++step) long_query += " 2 + 2 = 4.\nRew\n";
  int status = 0;
  const json refused = post_json(*server, "/get_reward", json{{"query", {"2 + 2 = 4.\nRew\n", long_query}}}.dump(), &status);
  EXPECT_EQ(status, 400) << refused.dump();
  EXPECT_NE(refused.dump().find("query[1]: "), std::string::npos) << refused.dump();
  EXPECT_NE(refused.dump().find("more than the maximum length 24"), std::string::npos) << refused.dump();
  const json short_one = post_json(*server, "/get_reward", json{{"query", {"2 + 2 = 4.\nRew\n"}}}.dump(), &status);
  EXPECT_EQ(status, 200) << short_one.dump();
  EXPECT_FALSE(short_one.contains("truncated_tokens")) << short_one.dump();
}

// OpenRLHF sends each query's prompt beside it: a separator that the prompt also holds is not a step.
TEST(ProcessRewardServe, GetRewardReadsOnlyAfterTheQuerysPrompt) {
  auto loaded = load_model(qwen2_fixture());
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  std::shared_ptr<const Model> model = *loaded;
  const std::string prompt = "Rew is a word. What is 2 + 2? ";
  const std::string query = prompt + "2 + 2 = 4.\nRew\nSo it is 5.\nRew\n";
  const std::vector<double> every = rewards_at_tags(model, query, "Rew", "+", "-");
  ASSERT_EQ(every.size(), 3u);  // one in the prompt, two in the response

  serve::ServiceOptions service;
  service.mode = serve::Mode::kReward;
  service.model_name = "shepherd";
  service.reward.step_tag = "Rew";
  service.reward.step_label_tokens = {"+", "-"};
  auto server = start_server(model, service);
  ASSERT_TRUE(server);
  int status = 0;
  auto step_rewards = [](const json& reply) { return reply["step_rewards"][0].get<std::vector<double>>(); };

  const json with_prompt = post_json(*server, "/get_reward", json{{"query", {query}}, {"prompts", {prompt}}}.dump(), &status);
  ASSERT_EQ(status, 200) << with_prompt.dump();
  ASSERT_EQ(step_rewards(with_prompt).size(), 2u) << with_prompt.dump();
  for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(step_rewards(with_prompt)[s], every[s + 1], 1e-6) << "step " << s;
  EXPECT_NEAR(with_prompt["rewards"][0].get<double>(), std::min(every[1], every[2]), 1e-6) << with_prompt.dump();

  // A trainer's left-padded decoding puts the same pad run before the query and its prompt: both are read
  // without it, as OpenRLHF's server strips it.
  auto tokenizer = load_model_tokenizer(*model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  const auto pad_id = (*tokenizer)->pad_id() ? (*tokenizer)->pad_id() : (*tokenizer)->eos_id();
  ASSERT_TRUE(pad_id.has_value());
  const std::string pad = (*tokenizer)->id_to_token(*pad_id);
  const json padded =
      post_json(*server, "/get_reward", json{{"query", {pad + pad + query}}, {"prompts", {pad + pad + prompt}}}.dump(), &status);
  ASSERT_EQ(status, 200) << padded.dump();
  EXPECT_EQ(step_rewards(padded), step_rewards(with_prompt)) << padded.dump();

  // Without prompts, or with one the query does not hold, every separator is read.
  for (const json& body : {json{{"query", {query}}}, json{{"query", {query}}, {"prompts", {"another prompt"}}}}) {
    const json reply = post_json(*server, "/get_reward", body.dump(), &status);
    ASSERT_EQ(status, 200) << reply.dump();
    ASSERT_EQ(step_rewards(reply).size(), 3u) << reply.dump();
    for (size_t s = 0; s < 3; ++s) EXPECT_NEAR(step_rewards(reply)[s], every[s], 1e-6) << "step " << s;
  }

  // A prompt that holds every separator leaves none in the response; a prompt that is not text is an error.
  const json none_left = post_json(*server, "/get_reward", json{{"query", {query}}, {"prompts", {query}}}.dump(), &status);
  EXPECT_EQ(status, 400) << none_left.dump();
  EXPECT_NE(none_left.dump().find("query[0]"), std::string::npos) << none_left.dump();
  const json not_text = post_json(*server, "/get_reward", json{{"query", {query}}, {"prompts", {7}}}.dump(), &status);
  EXPECT_EQ(status, 400) << not_text.dump();
  EXPECT_NE(not_text.dump().find("prompts[0]"), std::string::npos) << not_text.dump();
}

// Steps as turns (RLHFlow's PRMs): each step a user's turn answered with "+", read where each assistant
// turn opens; an earlier exchange of the conversation, sent as the query's prompt, is not a step.
TEST(ProcessRewardServe, StepsAsTurnsReadWhereEachAnswerOpens) {
  auto loaded = load_model(qwen2_fixture());
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  std::shared_ptr<const Model> model = *loaded;
  const std::string problem = "What is 2 * 3?";
  const std::vector<std::string> steps = {"2 * 3 is 6.", "So it is 7."};
  const std::string earlier = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n+<|im_end|>\n";
  const std::string query = earlier + qwen_step_turns(problem, steps, "+");
  const std::vector<double> every = rewards_before_answers(model, query, "+", "-");  // the earlier answer too
  ASSERT_EQ(every.size(), 3u);
  const std::vector<double> alone = rewards_before_answers(model, qwen_step_turns(problem, steps, "+"), "+", "-");

  serve::ServiceOptions service;
  service.mode = serve::Mode::kReward;
  service.model_name = "rlhflow";
  service.reward.step_label_tokens = {"+", "-"};
  service.reward.step_turns = true;
  auto server = start_server(model, service);
  ASSERT_TRUE(server);
  int status = 0;
  const json with_prompt = post_json(*server, "/get_reward", json{{"query", {query}}, {"prompts", {earlier}}}.dump(), &status);
  ASSERT_EQ(status, 200) << with_prompt.dump();
  const auto got = with_prompt["step_rewards"][0].get<std::vector<double>>();
  ASSERT_EQ(got.size(), 2u) << with_prompt.dump();
  for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(got[s], every[s + 1], 1e-6) << "step " << s;
  const json whole = post_json(*server, "/get_reward", json{{"query", {query}}}.dump(), &status);
  ASSERT_EQ(status, 200) << whole.dump();
  EXPECT_EQ(whole["step_rewards"][0].size(), 3u) << whole.dump();

  // Listed steps: the server lays them out as turns itself.
  const json listed = post_json(*server, "/v1/score", json{{"pairs", {{{"prompt", problem}, {"steps", steps}}}}}.dump(), &status);
  ASSERT_EQ(status, 200) << listed.dump();
  const auto listed_rewards = listed["data"][0]["step_rewards"].get<std::vector<double>>();
  ASSERT_EQ(listed_rewards.size(), alone.size()) << listed.dump();
  for (size_t s = 0; s < alone.size(); ++s) EXPECT_NEAR(listed_rewards[s], alone[s], 1e-6) << "step " << s;
}

}  // namespace
}  // namespace arbiter::testing
