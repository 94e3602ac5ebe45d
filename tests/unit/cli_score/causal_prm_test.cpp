// A causal LM as a process reward model (Math-Shepherd's PRM: the logits of "+" and "-" at each step tag,
// the reward the softmax's share of "+"), through the binary as a user runs it. The step rewards are held
// to the fixtures' float64 reference logits at the separators; the formatting of listed steps (a chat
// template that only concatenates, the join text around the tag) to a forward read by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/cli_helpers.h"
#include "../../support/reference_parity.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/model_tokenizer.h"
#include "runtime/backend.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;


// softmax([right, wrong])[0], in double.
double share_of_right(double right, double wrong) { return 1.0 / (1.0 + std::exp(wrong - right)); }

// The reference's third sequence holds token 11 twice: read as the step tag, two steps.
constexpr int32_t kTag = 11, kRight = 7, kWrong = 300;
constexpr int64_t kVocab = 512;

class CausalPrm : public ::testing::TestWithParam<std::string> {};

TEST_P(CausalPrm, StepRewardsFollowTheReferenceLogitsAtEachTag) {
  const std::string name = GetParam();
  const bool gguf = name.find(".gguf") != std::string::npos;
  const std::string ref_dir = kShared + "/fixtures/hf/" + (gguf ? "llama" : name);
  const std::string model = gguf ? kShared + "/fixtures/gguf/" + name : ref_dir;
  auto ref = SafetensorsFile::open(ref_dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const TensorView* ids_view = (*ref)->tensor("seq2.input_ids");
  const auto* p = static_cast<const int32_t*>(ids_view->data);
  const std::vector<int32_t> ids(p, p + ids_view->numel());
  const std::vector<float> logits = as_floats(*(*ref)->tensor("seq2.logits"));  // [T, vocab]

  std::vector<double> expected;
  for (size_t t = 0; t < ids.size(); ++t)
    if (ids[t] == kTag) expected.push_back(share_of_right(logits[t * kVocab + kRight], logits[t * kVocab + kWrong]));
  ASSERT_EQ(expected.size(), 2u) << "the fixture's sequence should hold the tag twice";

  const std::string dir = temp_dir("causal-prm-" + name);
  write_text(dir + "/rows.jsonl", nlohmann::json{{"id", "seq2"}, {"input_ids", ids}}.dump() + "\n");
  auto r = run_arbiter("score -q -m " + model + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl --step-tag-id " +
                       std::to_string(kTag) + " --step-token-ids " + std::to_string(kRight) + "," +
                       std::to_string(kWrong) + " --step-threshold 0.5");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/out.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  const auto got = lines[0]["step_rewards"].get<std::vector<double>>();
  ASSERT_EQ(got.size(), expected.size()) << lines[0].dump();
  int64_t first_error = -1;
  for (size_t s = 0; s < got.size(); ++s) {
    EXPECT_NEAR(got[s], expected[s], 2e-5) << name << " step " << s;
    if (first_error < 0 && expected[s] < 0.5) first_error = int64_t(s);
  }
  EXPECT_NEAR(lines[0]["score"].get<double>(), std::min(expected[0], expected[1]), 2e-5);  // min, the default
  EXPECT_EQ(lines[0]["first_error_step"].get<int64_t>(), first_error);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CausalPrm, ::testing::Values("llama", "qwen2", "gemma2", "llama.f32.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '.') c = '_';
                           return n;
                         });

// Math-Shepherd's layout: "{question} {solution}" with no chat markup, each step followed by " ки\n". Here the
// fixture's vocabulary stands in: "Rew" is one token, "+" and "-" are bytes.
const std::string kConcatTemplate = "{{ messages | map(attribute='content') | join(' ') }}";

TEST(CausalPrmSteps, ListedStepsAreJoinedAroundTheTagAndReadThere) {
  const std::string model_dir = kShared + "/fixtures/hf/qwen2";
  const std::string dir = temp_dir("causal-prm-steps");
  write_text(dir + "/template.jinja", kConcatTemplate);
  const std::string problem = "What is 2 + 2?";
  const std::vector<std::string> steps = {"2 + 2 is 4.", "So it is 5.", "Done."};
  write_text(dir + "/rows.jsonl", nlohmann::json{{"problem", problem}, {"steps", steps}, {"label", 1}}.dump() + "\n");
  auto r = run_arbiter("score -q -m " + model_dir + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl --chat-template " +
                       dir + "/template.jinja --step-tag Rew --step-join '\\nRew\\n' --step-tokens '+,-' "
                       "--step-aggregate product");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/out.jsonl");
  ASSERT_EQ(lines.size(), 1u);

  // By hand: the text the template and join make, the tag's positions, the two tokens' logits there.
  auto model = load_model(model_dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  std::string text = problem + " ";
  for (const std::string& step : steps) text += step + "\nRew\n";
  auto tokens = (*tokenizer)->encode(text, false, true);
  ASSERT_TRUE(tokens.is_ok()) << tokens.message();
  const auto tag = (*tokenizer)->encode("Rew", false, true);
  const auto right = (*tokenizer)->encode("+", false, true);
  const auto wrong = (*tokenizer)->encode("-", false, true);
  ASSERT_EQ(tag->size(), 1u);
  SequenceInput seq{*tokens, {}};
  for (size_t i = 0; i < tokens->size(); ++i)
    if ((*tokens)[i] == (*tag)[0]) seq.read_positions.push_back(int32_t(i));
  ASSERT_EQ(seq.read_positions.size(), steps.size());
  ForwardOptions options;
  options.logits = LogitsMode::kSelected;
  options.logit_token_ids = {(*right)[0], (*wrong)[0]};
  auto out = make_cpu_backend(*model)->forward({seq}, options);
  ASSERT_TRUE(out.is_ok()) << out.message();

  const auto got = lines[0]["step_rewards"].get<std::vector<double>>();
  ASSERT_EQ(got.size(), steps.size()) << lines[0].dump();
  double product = 1.0;
  for (size_t s = 0; s < steps.size(); ++s) {
    const double expected = share_of_right((*out)[0].logits[s * 2], (*out)[0].logits[s * 2 + 1]);
    EXPECT_NEAR(got[s], expected, 1e-6) << "step " << s;
    product *= expected;
  }
  EXPECT_NEAR(lines[0]["score"].get<double>(), product, 1e-6);
  EXPECT_EQ(lines[0]["human_first_error_step"].get<double>(), 1.0) << lines[0].dump();
}

// A prompt cut from the left on a model with a BOS (which the cut keeps): the prompt's own separators are
// not the response's steps, so the cut row has the whole row's two steps.
TEST(CausalPrmSteps, APromptCutFromTheLeftKeepsItsSeparatorsOutOfTheSteps) {
  const std::string dir = temp_dir("causal-prm-cut");
  // "x" (id 362 in the llama fixture's vocabulary, with its word-start mark) is the separator, in the
  // prompt as well as after each of the response's two steps.
  write_text(dir + "/rows.jsonl",
             nlohmann::json{{"prompt", "q x wa x eb x rc x td x ye x uf x ig x oh"}, {"response", "a x b x"}}.dump() + "\n");
  const std::string command = "score -q -t 1 -m " + kShared + "/fixtures/hf/llama -i " + dir +
                              "/rows.jsonl --step-tokens a,b --step-tag-id 362";
  auto whole = run_arbiter(command + " -o " + dir + "/whole.jsonl");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  auto cut = run_arbiter(command + " -o " + dir + "/cut.jsonl --max-length 40");
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  const nlohmann::json whole_line = read_jsonl(dir + "/whole.jsonl").at(0), cut_line = read_jsonl(dir + "/cut.jsonl").at(0);
  ASSERT_GT(cut_line.value("truncated_tokens", 0), 0) << cut_line.dump();
  EXPECT_EQ(whole_line["step_rewards"].size(), 2u) << whole_line.dump();
  EXPECT_EQ(cut_line["step_rewards"].size(), 2u) << cut_line.dump();
}

TEST(CausalPrmSteps, OptionsThatCannotBeReadAreErrorsNamingThem) {
  const std::string model_dir = kShared + "/fixtures/hf/qwen2";
  const std::string dir = temp_dir("causal-prm-errors");
  write_text(dir + "/rows.jsonl", nlohmann::json{{"problem", "p"}, {"steps", {"a", "b"}}}.dump() + "\n");
  const std::string base = "score -q -m " + model_dir + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl ";
  struct Case {
    std::string options, message;
  };
  const std::vector<Case> cases = {
      {"--step-tokens '+,-'", "--step-tag"},                          // where to read them
      {"--step-tag Rew --step-tokens '+'", "two tokens"},             // one token given
      {"--step-tag Rew --step-tokens 'abc def,-'", "'abc def' is"},   // not one token
      {"--step-tag Rew --step-tokens '+,+'", "the same token"},
      {"--step-tag Rew --step-token-ids 5,5", "the same"},
      {"--step-tag Rew --step-token-ids 5,600", "outside the vocabulary"},
      {"--step-tag Rew --step-tokens '+,-' --step-token-ids 5,6", "give one"},
      {"--step-tag Rew --step-tokens '+,-' --step-join ' ки\\n'", "does not hold the separator"},
      {"--step-tag-id 300 --step-tokens '+,-'", "--step-join"},       // listed steps need the tag's text
      {"--step-tag Rew", "--step-tokens"},                            // a causal LM without them
      // ' #' is one token of its own: the steps written out with it hold no '#' token to read at.
      {"--step-tag '#' --step-tokens '+,-' --step-join ' #\\n'", "give --step-tag as the tokenizer spells it there"},
  };
  for (const Case& c : cases) {
    auto r = run_arbiter(base + c.options);
    EXPECT_NE(r.exit_code, 0) << c.options << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.options << "\n" << r.out;
  }
  // On a classifier the step tokens have no logits to come from.
  auto r = run_arbiter("score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + dir +
                       "/cls.jsonl --step-tag Rew --step-tokens '+,-'");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("sequence-classification"), std::string::npos) << r.out;
  // Step options on a classifier that reads the last token would change nothing: refused, naming them.
  for (const std::string option : {"--step-aggregate mean", "--step-threshold 0.3"}) {
    auto given = run_arbiter("score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + dir +
                             "/cls.jsonl " + option);
    EXPECT_NE(given.exit_code, 0) << option << "\n" << given.out;
    EXPECT_NE(given.out.find(option.substr(0, option.find(' ')) + ": "), std::string::npos) << given.out;
    EXPECT_NE(given.out.find("is not a process reward model"), std::string::npos) << given.out;
  }
}

}  // namespace
}  // namespace arbiter
