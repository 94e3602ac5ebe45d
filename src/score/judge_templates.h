// Grading prompts for LLM judges. A pointwise template is text with placeholders {prompt}, {response},
// {rubric}, {reference}, {min_score}, {max_score} and {scores} (the score labels joined by ", "). A
// pairwise template (score/pairwise.h) shows two responses, {response_a} and {response_b}, and names its
// labels with {label_a}, {label_b}, {label_tie} (a third label) and {verdicts} (what each label means);
// {prompt}, {rubric}, {reference} and {scores} work there too. A listwise template (score/listwise.h)
// shows all of a row's responses at once as {responses} (each under its label) and asks for the best:
// {labels} lists the labels in use ("A, B, C or D"), {n} counts them. Built-in templates are named, user
// ones come from a file; a template is pairwise when it has {response_a}, listwise when it has
// {responses}. {{ and }} write a literal brace.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter {

struct JudgeTemplate {
  std::string name;
  std::string text;
  std::string default_rubric;  // used for {rubric} when the row has none
  std::string answer_prefix;   // appended after the generation prompt, before the score token
  // With --generate: the score is the first score token written after this text (empty: the first
  // score token written at all). A template that sets it asks the model to write before it scores, so it
  // only makes sense with --generate.
  std::string score_marker;
  bool pairwise = false;  // shows two responses ({response_a}, {response_b}) and asks which is better
  bool listwise = false;  // shows every response ({responses}) and asks which is best
  std::string system_message;  // sent as the system turn before the grading prompt, when not empty
};

// Whether a template's text is pairwise: it has the {response_a} placeholder.
bool is_pairwise_template(const std::string& text);
// Whether a template's text is listwise: it has the {responses} placeholder.
bool is_listwise_template(const std::string& text);

// A template from its text, its kind (pointwise, pairwise, listwise) read from its placeholders.
JudgeTemplate make_judge_template(std::string name, std::string text, std::string default_rubric = "",
                                  std::string score_marker = "");

// "generic" (1-5 overall quality), "prometheus" (absolute grading against a rubric), "prometheus-feedback"
// (the same, but the model writes its feedback first and the score after "[RESULT]": needs --generate),
// and the LAGER-style
// direct prompts "direct-helpfulness", "direct-correctness", "direct-coherence", "direct-complexity",
// "direct-verbosity" (one HelpSteer2 attribute each); pairwise: "pairwise" (which of two responses is
// better, answered with its label) and "pairwise-feedback" (a short comparison first, the verdict after
// "[RESULT]": needs --generate); listwise: "listwise" (which of all the responses is best).
Result<JudgeTemplate> builtin_judge_template(const std::string& name);
std::vector<std::string> builtin_judge_template_names();

// Before any row: every placeholder is one the template's kind fills, and the template shows what it grades
// ({response}; pairwise {response_a} and {response_b}; listwise {responses}). Else an error naming the
// template and the placeholder: a template that fails on every row, or grades the prompt alone, is refused
// once rather than run.
Status check_judge_template(const JudgeTemplate& t);

// Fills the placeholders; unknown placeholders are an error naming them (a typo must not pass silently).
// {{ and }} write a literal brace.
Result<std::string> fill_judge_template(const std::string& text, const std::map<std::string, std::string>& values);

}  // namespace arbiter
