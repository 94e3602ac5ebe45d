#include "score/judge_templates.h"

#include <cctype>
#include <functional>
#include <set>

namespace arbiter {

namespace {

const char* const kGeneric =
    "You are a careful evaluator. Rate the quality of the response to the user's request below on a scale "
    "from {min_score} to {max_score}, where {min_score} means very poor and {max_score} means excellent. "
    "Consider helpfulness, correctness, coherence and appropriate detail.\n\n"
    "[Request]\n{prompt}\n\n[Response]\n{response}\n\n"
    "Answer with a single number from {scores} and nothing else.";

// Prometheus-style absolute grading: task, response, an optional reference answer, and a score rubric.
const char* const kPrometheus =
    "###Task Description:\n"
    "An instruction (might include an Input inside it), a response to evaluate, and a score rubric "
    "representing an evaluation criterion are given.\n"
    "1. Assess the quality of the response strictly based on the given score rubric, not evaluating in general.\n"
    "2. Give a score that is an integer between {min_score} and {max_score}, referring to the score rubric.\n"
    "3. Output only the score.\n\n"
    "###The instruction to evaluate:\n{prompt}\n\n"
    "###Response to evaluate:\n{response}\n\n"
    "###Reference Answer (Score {max_score}):\n{reference}\n\n"
    "###Score Rubrics:\n{rubric}\n\n"
    "###Score:";

// The same grading, with written feedback before the score, read after the [RESULT] marker.
const char* const kPrometheusFeedback =
    "###Task Description:\n"
    "An instruction (might include an Input inside it), a response to evaluate, and a score rubric "
    "representing an evaluation criterion are given.\n"
    "1. Write brief feedback that assesses the response strictly against the given score rubric, not in general.\n"
    "2. Then give a score that is an integer between {min_score} and {max_score}, referring to the score rubric.\n"
    "3. Use exactly this format: \"Feedback: (your feedback) [RESULT] (an integer from {min_score} to {max_score})\"\n\n"
    "###The instruction to evaluate:\n{prompt}\n\n"
    "###Response to evaluate:\n{response}\n\n"
    "###Reference Answer (Score {max_score}):\n{reference}\n\n"
    "###Score Rubrics:\n{rubric}\n\n"
    "###Feedback:";

const char* const kPrometheusRubric =
    "[Is the response helpful, correct and well written for the instruction?]\n"
    "Score 1: The response is irrelevant, wrong or harmful.\n"
    "Score 2: The response addresses the instruction only partly and has major errors.\n"
    "Score 3: The response is acceptable but has noticeable errors or omissions.\n"
    "Score 4: The response is good, with minor issues.\n"
    "Score 5: The response is excellent: complete, correct and clear.";

// Pairwise: which of two responses is better, then how to answer. {verdicts} spells out the labels (and a
// tie, when given).
std::string pairwise_text(const std::string& answer) {
  return "You are a careful, impartial evaluator. Two assistants answered the user's request below. Decide which "
         "response is better: more helpful, more correct, clearer, and more faithful to what the request asks. "
         "Judge the content only: which response is shown first, how long each is, and how it is styled must not "
         "sway you.\n\n"
         "[Request]\n{prompt}\n\n[Response {label_a}]\n{response_a}\n\n[Response {label_b}]\n{response_b}\n\n" +
         answer;
}
const char* const kPairwiseAnswer = "Answer with a single letter: {verdicts}.";
const char* const kPairwiseFeedbackAnswer =
    "First compare the two responses in a few sentences. Then give your verdict in exactly this format: "
    "\"[RESULT] X\", where X is {verdicts}.";

// Listwise: which of all the responses is best (RewardBench 2's four-way comparison).
const char* const kListwise =
    "You are a careful, impartial evaluator. {n} assistants answered the user's request below. Decide which "
    "response is best: the most helpful, the most correct, the clearest, and the most faithful to what the "
    "request asks. Judge the content only: the order in which the responses are shown, how long each is, and "
    "how it is styled must not sway you.\n\n"
    "[Request]\n{prompt}\n\n{responses}\n\n"
    "Answer with a single letter: the label of the best response, {labels}.";

struct AttributeText {
  const char* attribute;
  const char* definition;
};
// HelpSteer2's attribute definitions, asked one at a time as LAGER's direct prompts do.
constexpr AttributeText kAttributes[] = {
    {"helpfulness", "Overall helpfulness of the response to the prompt."},
    {"correctness", "Inclusion of all pertinent facts without errors."},
    {"coherence", "Consistency and clarity of expression."},
    {"complexity", "Intellectual depth required to write the response (basic language competency versus deep "
                   "domain expertise)."},
    {"verbosity", "Amount of detail included in the response, relative to what is asked for in the prompt."},
};

std::string direct_prompt(const AttributeText& a) {
  return std::string("Please act as an impartial judge and rate the ") + a.attribute +
         " of the response to the prompt below. " + a.attribute + ": " + a.definition +
         "\nUse a scale from {min_score} to {max_score}, where higher means more " + a.attribute + ".\n\n"
         "[Prompt]\n{prompt}\n\n[Response]\n{response}\n\n"
         "Output only the score, one of {scores}.";
}

}  // namespace

std::vector<std::string> builtin_judge_template_names() {
  std::vector<std::string> names = {"generic", "prometheus", "prometheus-feedback"};
  for (const auto& a : kAttributes) names.push_back(std::string("direct-") + a.attribute);
  names.push_back("pairwise");
  names.push_back("pairwise-feedback");
  names.push_back("listwise");
  return names;
}

bool is_listwise_template(const std::string& text) { return text.find("{responses}") != std::string::npos; }

JudgeTemplate make_judge_template(std::string name, std::string text, std::string default_rubric,
                                  std::string score_marker) {
  JudgeTemplate t;
  t.name = std::move(name);
  t.pairwise = is_pairwise_template(text);
  t.listwise = is_listwise_template(text);
  t.text = std::move(text);
  t.default_rubric = std::move(default_rubric);
  t.score_marker = std::move(score_marker);
  return t;
}

bool is_pairwise_template(const std::string& text) { return text.find("{response_a}") != std::string::npos; }

Result<JudgeTemplate> builtin_judge_template(const std::string& name) {
  if (name == "generic") return make_judge_template(name, kGeneric);
  if (name == "prometheus") return make_judge_template(name, kPrometheus, kPrometheusRubric);
  if (name == "prometheus-feedback") return make_judge_template(name, kPrometheusFeedback, kPrometheusRubric, "[RESULT]");
  for (const auto& a : kAttributes)
    if (name == std::string("direct-") + a.attribute) return make_judge_template(name, direct_prompt(a));
  if (name == "listwise") return make_judge_template(name, kListwise);
  if (name == "pairwise") return make_judge_template(name, pairwise_text(kPairwiseAnswer));
  if (name == "pairwise-feedback") return make_judge_template(name, pairwise_text(kPairwiseFeedbackAnswer), "", "[RESULT]");
  std::string known;
  for (const auto& n : builtin_judge_template_names()) known += (known.empty() ? "" : ", ") + n;
  return error("unknown judge template '" + name + "' (built in: " + known + "; or a file with --template-file)");
}

namespace {

// Walks a template's text: `literal` gets each run of plain text ({{ and }} as one brace), `placeholder`
// each {name}; stops at the first error either returns.
Status walk_template(const std::string& text, const std::function<void(char)>& literal,
                     const std::function<Status(const std::string&)>& placeholder) {
  for (size_t i = 0; i < text.size();) {
    if ((text[i] == '{' || text[i] == '}') && i + 1 < text.size() && text[i + 1] == text[i]) {
      literal(text[i]);
      i += 2;
      continue;
    }
    if (text[i] == '{') {
      const size_t close = text.find('}', i);
      if (close != std::string::npos) {
        const std::string key = text.substr(i + 1, close - i - 1);
        // A name in braces is a placeholder, whatever its case or the blanks around it: {Prompt} or
        // { prompt } written out as text would leave the judge without the prompt, so they reach
        // `placeholder` (which knows no such name) rather than the output.
        const size_t first = key.find_first_not_of(' '), last = key.find_last_not_of(' ');
        const std::string name = first == std::string::npos ? "" : key.substr(first, last - first + 1);
        const bool identifier =
            !name.empty() &&
            name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
        if (identifier) {
          ARB_TRY(placeholder(key));
          i = close + 1;
          continue;
        }
      }
    }
    literal(text[i++]);
  }
  return Status::ok();
}

}  // namespace

Status check_judge_template(const JudgeTemplate& t) {
  std::set<std::string> known = {"prompt", "rubric", "reference", "scores"};
  std::vector<std::string> required;
  const char* kind = "a pointwise";
  if (t.pairwise) {
    kind = "a pairwise";
    known.insert({"response_a", "response_b", "label_a", "label_b", "label_tie", "verdicts"});
    required = {"response_a", "response_b"};
  } else if (t.listwise) {
    kind = "a listwise";
    known.insert({"responses", "labels", "n"});
    required = {"responses"};
  } else {
    known.insert({"response", "min_score", "max_score"});
    required = {"response"};
  }
  std::set<std::string> used;
  ARB_TRY(walk_template(t.text, [](char) {}, [&](const std::string& key) -> Status {
    if (!known.count(key)) {
      // {Prompt}, { prompt }: the placeholder meant, spelled as the template takes it.
      std::string meant;
      for (const char c : key)
        if (c != ' ') meant += char(std::tolower(static_cast<unsigned char>(c)));
      if (known.count(meant) && meant != key)
        return error("judge template " + t.name + ": {" + key + "} is not a placeholder: write {" + meant +
                     "} (placeholders are lower case, without blanks; {{ and }} write a brace)");
      std::string listed;
      for (const std::string& k : known) listed += (listed.empty() ? "{" : ", {") + k + "}";
      return error("judge template " + t.name + ": unknown placeholder {" + key + "} in " + kind + " template (it takes " +
                   listed + "; {{ and }} write a brace)");
    }
    used.insert(key);
    return Status::ok();
  }));
  for (const std::string& key : required)
    if (!used.count(key))
      return error("judge template " + t.name + ": " + kind + " template must show {" + key +
                   "}: without it the judge never reads what it grades");
  return Status::ok();
}

Result<std::string> fill_judge_template(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  ARB_TRY(walk_template(text, [&](char c) { out += c; }, [&](const std::string& key) -> Status {
    auto it = values.find(key);
    if (it == values.end()) return error("judge template: unknown placeholder {" + key + "}");
    out += it->second;
    return Status::ok();
  }));
  return out;
}

}  // namespace arbiter
