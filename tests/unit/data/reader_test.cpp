#include "data/reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/json_rows.h"
#include "data/values.h"
#include "../../support/scratch_root.h"

namespace arbiter::data {
namespace {

const std::string kHelpSteer2 = std::string(ARBITER_SHARED_DIR) + "/data/helpsteer2-sample/sample.jsonl";

using arbiter::test::scratch_path;

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = scratch_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string write_gz(const std::string& name, const std::string& text) {
  const std::string path = scratch_path(name);
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), unsigned(text.size()));
  gzclose(f);
  return path;
}

std::vector<Example> read_all(const std::string& path, const ReaderOptions& options, Status* status) {
  std::vector<Example> out;
  auto reader = DatasetReader::open(path, options);
  if (!reader) {
    *status = reader.status();
    return out;
  }
  Example ex;
  while (true) {
    auto got = reader->next(ex);
    if (!got) {
      *status = got.status();
      return out;
    }
    if (!*got) break;
    out.push_back(ex);
  }
  *status = Status::ok();
  return out;
}

TEST(Reader, HelpSteer2SampleRows) {
  Status status;
  auto rows = read_all(kHelpSteer2, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 8u);
  // Values from the sample's README and first row: ratings 4 4 4 3 2.
  const Example& first = rows[0];
  EXPECT_EQ(first.id, "0");
  EXPECT_EQ(first.line, 1u);
  ASSERT_EQ(first.prompt_turns.size(), 1u);
  EXPECT_EQ(first.prompt_turns[0].role, "user");
  EXPECT_EQ(first.prompt_turns[0].content, "explain master slave replication nsql");
  ASSERT_EQ(first.responses.size(), 1u);
  EXPECT_EQ(first.responses[0].rfind("In the context of NoSQL databases, master-slave replication", 0), 0u);
  EXPECT_EQ(first.labels.at("helpfulness"), 4);
  EXPECT_EQ(first.labels.at("correctness"), 4);
  EXPECT_EQ(first.labels.at("coherence"), 4);
  EXPECT_EQ(first.labels.at("complexity"), 3);
  EXPECT_EQ(first.labels.at("verbosity"), 2);
  // Row 6 (0-based 5): helpfulness 0, correctness 0, coherence 2.
  EXPECT_EQ(rows[5].id, "5");
  EXPECT_EQ(rows[5].labels.at("helpfulness"), 0);
  EXPECT_EQ(rows[5].labels.at("coherence"), 2);
  // Adjacent rows share a prompt.
  EXPECT_EQ(rows[6].prompt_turns[0].content, rows[7].prompt_turns[0].content);
}

// A NUL byte is a byte of its line, not its end: the line is a row the parser refuses (naming it), the next
// line stays a row of its own with its own number, and a line of NULs is a bad row, not a blank line. The
// same through gzip. Each row's index counts the bad ones.
TEST(Reader, ANulByteKeepsItsLineAndTheNextOne) {
  std::string text = R"({"id": "a", "prompt": "p", "response": "x"})" "\n";
  text += std::string(R"({"id": "b", "prompt": "p", "response": "y)") + std::string(1, '\0') + "\"}\n";
  text += R"({"id": "c", "prompt": "p", "response": "z"})" "\n";
  text += std::string(40, '\0') + "\n";
  text += R"({"id": "d", "prompt": "p", "response": "w"})" "\n";
  for (const std::string& path : {write_file("nul.jsonl", text), write_gz("nul.jsonl.gz", text)}) {
    auto reader = DatasetReader::open(path, {});
    ASSERT_TRUE(reader) << reader.message();
    std::vector<std::string> read;
    Example ex;
    for (int i = 0; i < 8; ++i) {
      auto got = reader->next(ex);
      if (got && !*got) break;
      if (!got) {
        EXPECT_NE(got.message().find("a NUL byte"), std::string::npos) << got.message();
      }
      read.push_back(got ? ex.id + "@" + std::to_string(ex.row_index) : got.message().substr(path.size(), 3));
    }
    EXPECT_EQ(read, (std::vector<std::string>{"a@0", ":2:", "c@2", ":4:", "d@4"})) << path;
  }
}

TEST(Reader, DetectsHelpSteer2Schema) {
  auto reader = DatasetReader::open(kHelpSteer2);
  ASSERT_TRUE(reader);
  Example ex;
  ASSERT_TRUE(*reader->next(ex));
  EXPECT_EQ(reader->schema(), Schema::kHelpSteer2);
}

TEST(Reader, GzipOfJsonlMatchesPlain) {
  std::ifstream in(kHelpSteer2, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string gz = write_gz("hs2.jsonl.gz", text);
  Status s1, s2;
  auto plain = read_all(kHelpSteer2, {}, &s1);
  auto packed = read_all(gz, {}, &s2);
  ASSERT_TRUE(s2) << s2.message();
  ASSERT_EQ(packed.size(), plain.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(packed[i].responses, plain[i].responses);
    EXPECT_EQ(packed[i].labels, plain[i].labels);
  }
}

TEST(Reader, JsonArrayDocumentGzipped) {
  const std::string path = write_gz(
      "rb.json.gz",
      R"([{"prompt": "q1", "chosen": "good", "rejected": "bad", "subset": "hep-go", "id": 17},
          {"prompt": "q2", "chosen": "yes", "rejected": "no", "subset": "donotanswer", "id": 18}])");
  Status status;
  auto rows = read_all(path, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "17");
  EXPECT_EQ(rows[0].responses, (std::vector<std::string>{"good", "bad"}));
  EXPECT_EQ(rows[1].raw.at("subset"), "donotanswer");
}

TEST(Reader, MultiTurnHelpSteer2PromptSplitsIntoTurns) {
  const auto turns = split_helpsteer2_turns("Hello!<extra_id_1>Assistant\nHi there.<extra_id_1>User\nWhat now?");
  ASSERT_EQ(turns.size(), 3u);
  EXPECT_EQ(turns[0].role, "user");
  EXPECT_EQ(turns[0].content, "Hello!");
  EXPECT_EQ(turns[1].role, "assistant");
  EXPECT_EQ(turns[1].content, "Hi there.");
  EXPECT_EQ(turns[2].role, "user");
  EXPECT_EQ(turns[2].content, "What now?");
  const auto labelled = split_helpsteer2_turns("User\nA<extra_id_1>Assistant\nB<extra_id_1>User\nC");
  ASSERT_EQ(labelled.size(), 3u);
  EXPECT_EQ(labelled[0].content, "A");
  EXPECT_EQ(labelled[1].role, "assistant");
}

// Anthropic HH-RLHF rows: chosen and rejected are whole "Human: / Assistant:" transcripts that share
// every turn but the last; the shared turns are the prompt, the last Assistant turns the two responses.
TEST(Reader, HhRlhfTranscriptsSplitIntoPromptAndResponses) {
  const auto turns = split_hh_transcript("\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: And 3+3?\n\nAssistant: 6.");
  ASSERT_EQ(turns.size(), 4u);
  EXPECT_EQ(turns[0].role, "user");
  EXPECT_EQ(turns[0].content, "What is 2+2?");
  EXPECT_EQ(turns[1].role, "assistant");
  EXPECT_EQ(turns[2].content, "And 3+3?");
  EXPECT_EQ(turns[3].content, "6.");
  EXPECT_TRUE(split_hh_transcript("Just text").empty());

  const std::string path = write_file(
      "hh.jsonl",
      R"({"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant: A pun.", )"
      R"("rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant: No."})" "\n"
      R"({"chosen": "\n\nHuman: Hi\n\nAssistant: Hello", "rejected": "\n\nHuman: Hey\n\nAssistant: Hello"})" "\n");
  auto reader = DatasetReader::open(path);
  ASSERT_TRUE(reader) << reader.message();
  Example ex;
  auto got = reader->next(ex);
  ASSERT_TRUE(got) << got.message();
  EXPECT_EQ(reader->schema(), Schema::kRewardBench);
  EXPECT_EQ(ex.responses, (std::vector<std::string>{"A pun.", "No."}));
  ASSERT_EQ(ex.prompt_turns.size(), 3u);
  EXPECT_EQ(ex.prompt_turns[0].content, "Hi");
  EXPECT_EQ(ex.prompt_turns[1].role, "assistant");
  EXPECT_EQ(ex.prompt_turns[2].content, "Joke?");
  got = reader->next(ex);  // the transcripts differ before their last turn
  ASSERT_FALSE(got);
  EXPECT_NE(got.message().find("hh.jsonl:2"), std::string::npos) << got.message();
  EXPECT_NE(got.message().find("differ at turn 1"), std::string::npos) << got.message();
}

// Message-list conversations as chosen / rejected (RewardBench 2, UltraFeedback binarized): every message
// but the last is the shared prompt. Lists that differ earlier, or whose last message is not the
// assistant's, are refused: scoring the rejected answer after the chosen conversation would be wrong.
TEST(Reader, MessageListPairsMustShareAllButTheirLastMessage) {
  const std::string user = R"({"role": "user", "content": "Hi"})";
  auto pair = [](const std::string& chosen, const std::string& rejected) {
    return R"({"chosen": [)" + chosen + R"(], "rejected": [)" + rejected + "]}\n";
  };
  const std::string path = write_file(
      "message-pairs.jsonl",
      pair(user + R"(, {"role": "assistant", "content": "Good"})", user + R"(, {"role": "assistant", "content": "Bad"})") +
          pair(R"({"role": "user", "content": "Hi A"}, {"role": "assistant", "content": "Good"})",
               R"({"role": "user", "content": "Hi B"}, {"role": "assistant", "content": "Bad"})") +
          pair(user + R"(, {"role": "assistant", "content": "Good"})", R"({"role": "assistant", "content": "Bad"})") +
          pair(user + R"(, {"role": "tool", "content": "x"})", user + R"(, {"role": "tool", "content": "y"})"));
  auto reader = DatasetReader::open(path);
  ASSERT_TRUE(reader) << reader.message();
  Example ex;
  auto got = reader->next(ex);
  ASSERT_TRUE(got) << got.message();
  EXPECT_EQ(ex.responses, (std::vector<std::string>{"Good", "Bad"}));
  ASSERT_EQ(ex.prompt_turns.size(), 1u);
  const char* expected[] = {"differ at message 0, before their last", "message lists of different lengths (2 and 1)",
                            "the last message is the response to score, and its role is \"tool\""};
  for (const char* message : expected) {
    got = reader->next(ex);
    ASSERT_FALSE(got);
    EXPECT_NE(got.message().find(message), std::string::npos) << got.message();
  }
}

// The shared messages are compared as read: a turn given as text parts on one side and as the string on
// the other is one turn; a part a text model cannot read is named in the side that holds it.
TEST(Reader, MessageListPairsCompareTheirTurnsAsRead) {
  auto pair = [](const std::string& chosen_user, const std::string& rejected_user) {
    return R"({"chosen": [{"role": "user", "content": )" + chosen_user + R"(}, {"role": "assistant", "content": "Good"}], )"
           R"("rejected": [{"role": "user", "content": )" + rejected_user + R"(}, {"role": "assistant", "content": "Bad"}]})"
           "\n";
  };
  const std::string parts = R"([{"type": "text", "text": "Hi"}])";
  const std::string image = R"([{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {"url": "x"}}])";
  const std::string path = write_file("message-parts-pairs.jsonl",
                                      pair("\"Hi\"", parts) + pair(parts, image) + pair(image, parts));
  auto reader = DatasetReader::open(path);
  ASSERT_TRUE(reader) << reader.message();
  Example ex;
  auto got = reader->next(ex);
  ASSERT_TRUE(got) << got.message();
  ASSERT_EQ(ex.prompt_turns.size(), 1u);
  EXPECT_EQ(ex.prompt_turns[0].content, "Hi");
  got = reader->next(ex);
  ASSERT_FALSE(got);
  EXPECT_NE(got.message().find("field 'rejected', message 0: content part 1 is of type 'image_url'"), std::string::npos)
      << got.message();
  got = reader->next(ex);
  ASSERT_FALSE(got);
  EXPECT_NE(got.message().find("field 'chosen', message 0: content part 1 is of type 'image_url'"), std::string::npos)
      << got.message();
}

// HelpSteer3's preference rows (NVIDIA's successor to HelpSteer2-Preference) read as the same schema:
// the context's messages are the prompt, overall_preference is the preference strength.
TEST(Reader, HelpSteer3PreferenceRows) {
  const std::string path = write_file(
      "hs3.jsonl",
      R"({"domain": "general", "language": "english", "context": [{"role": "user", "content": "Hi"}, )"
      R"({"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Name a color"}], )"
      R"("response1": "Blue.", "response2": "I like turtles.", "overall_preference": -2})" "\n");
  Status status;
  auto rows = read_all(path, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].responses, (std::vector<std::string>{"Blue.", "I like turtles."}));
  EXPECT_EQ(rows[0].labels.at("preference_strength"), -2);
  ASSERT_EQ(rows[0].prompt_turns.size(), 3u);
  EXPECT_EQ(rows[0].prompt_turns[1].role, "assistant");
  EXPECT_EQ(rows[0].prompt_turns[2].content, "Name a color");
  EXPECT_EQ(detect_schema(nlohmann::json::parse(read_text_file(path).value())), Schema::kHelpSteer2Preference);
}

TEST(Reader, HelpSteer2PreferenceRows) {
  const std::string path = write_file(
      "pref.jsonl",
      R"({"prompt": "p", "response_1": "a", "response_2": "b", "preference_strength": -2, "split": "train"})"
      "\n");
  Status status;
  auto rows = read_all(path, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].responses, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rows[0].labels.at("preference_strength"), -2);
}

// Math-Shepherd's layout, as its dataset card shows it: the problem and the steps in `input`, each step
// followed by " ки"; `label` the same with "+" or "-" in each tag's place.
TEST(Reader, MathShepherdRowsGiveStepsAndTheirLabels) {
  const std::string problem = "If Buzz shares 78 slices in the ratio 5:8, how many does the waiter eat?";
  const std::string input = problem + " Step 1: The ratio totals 5+8 = <<5+8=13>>13. \u043a\u0438\n"
                            "Step 2: The waiter ate 78 * 8 / 13 = 48 slices. \u043a\u0438\nStep 3: The answer is: 48 \u043a\u0438";
  const std::string label = problem + " Step 1: The ratio totals 5+8 = <<5+8=13>>13. +\n"
                            "Step 2: The waiter ate 78 * 8 / 13 = 48 slices. -\nStep 3: The answer is: 48 -";
  const std::string path =
      write_file("shepherd.jsonl", nlohmann::json{{"input", input}, {"label", label}, {"task", "GSM8K"}}.dump() + "\n");
  Status status;
  auto rows = read_all(path, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(detect_schema(rows[0].raw), Schema::kMathShepherd);
  ASSERT_EQ(rows[0].prompt_turns.size(), 1u);
  EXPECT_EQ(rows[0].prompt_turns[0].content, problem);
  EXPECT_EQ(rows[0].steps, (std::vector<std::string>{"Step 1: The ratio totals 5+8 = <<5+8=13>>13.",
                                                     "Step 2: The waiter ate 78 * 8 / 13 = 48 slices.",
                                                     "Step 3: The answer is: 48"}));
  EXPECT_EQ(rows[0].step_labels, (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(rows[0].labels.at("first_error_step"), 1);

  // A label text that does not follow the input, a verdict missing, or no "Step 1:" name the problem.
  struct Bad {
    std::string label, input, message;
  };
  const std::string tag = "\u043a\u0438";
  const std::vector<Bad> bad = {
      {"q Step 1: b +", "q Step 1: a " + tag, "does not follow"},
      {"q Step 1: a x", "q Step 1: a " + tag, "no '+' or '-'"},
      {"q a +", "q a " + tag, "Step 1:"},
  };
  for (const Bad& b : bad) {
    const std::string bad_path =
        write_file("shepherd-bad.jsonl", nlohmann::json{{"input", b.input}, {"label", b.label}}.dump() + "\n");
    Status bad_status;
    read_all(bad_path, {}, &bad_status);
    EXPECT_FALSE(bad_status) << b.label;
    EXPECT_NE(bad_status.message().find(b.message), std::string::npos) << bad_status.message();
    EXPECT_NE(bad_status.message().find("shepherd-bad.jsonl"), std::string::npos) << bad_status.message();
  }
}

// PRM800K's layout, as its README annotates a line (trimmed): the steps of the labelled trajectory are
// each step's chosen completion, a labeller's own step where none was chosen, and, where neither is set,
// the last step's first completion (the solution's own, rated -1 here).
TEST(Reader, Prm800kRowsFollowTheLabelledTrajectory) {
  const nlohmann::json row = nlohmann::json::parse(R"({
    "labeler": "340d89bc", "generation": 9, "is_quality_control_question": false,
    "question": {"problem": "What is the greatest common factor of $20 !$ and $200,\\!000$?",
                 "ground_truth_answer": "40,\\!000"},
    "label": {"steps": [
        {"completions": [{"text": "I want the largest divisor of both.", "rating": 0, "flagged": null}],
         "human_completion": null, "chosen_completion": 0},
        {"completions": [{"text": "Factor 200,000 as 2^5 * 10^4.", "rating": -1, "flagged": null},
                         {"text": "Factor both numbers.", "rating": 1, "flagged": false}],
         "human_completion": null, "chosen_completion": 1},
        {"completions": [{"text": "Guess.", "rating": -1, "flagged": null}],
         "human_completion": {"text": "Count the factors of 2 in 20!.", "rating": null}, "chosen_completion": null},
        {"completions": [{"text": "So the answer is 320,000.", "rating": -1, "flagged": null},
                         {"text": "So it is 40,000.", "rating": 1, "flagged": false}],
         "human_completion": null, "chosen_completion": null}],
      "total_time": 278270, "finish_reason": "found_error"}})");
  const std::string path = write_file("prm800k.jsonl", row.dump() + "\n");
  Status status;
  auto rows = read_all(path, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(detect_schema(rows[0].raw), Schema::kPrm800k);
  ASSERT_EQ(rows[0].prompt_turns.size(), 1u);
  EXPECT_EQ(rows[0].prompt_turns[0].content, "What is the greatest common factor of $20 !$ and $200,\\!000$?");
  EXPECT_EQ(rows[0].steps, (std::vector<std::string>{"I want the largest divisor of both.", "Factor both numbers.",
                                                     "Count the factors of 2 in 20!.", "So the answer is 320,000."}));
  EXPECT_EQ(rows[0].step_labels, (std::vector<double>{1, 1, 1, 0}));  // neutral counts as right
  EXPECT_EQ(rows[0].labels.at("first_error_step"), 3);

  // A solution labelled to its end without a wrong step has none; one given up on has no such label.
  nlohmann::json solved = row, given_up = row;
  solved["label"]["steps"].erase(3);
  solved["label"]["finish_reason"] = "solution";
  given_up["label"]["steps"].erase(3);
  given_up["label"]["finish_reason"] = "give_up";
  const std::string more = write_file("prm800k-more.jsonl", solved.dump() + "\n" + given_up.dump() + "\n");
  rows = read_all(more, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].labels.at("first_error_step"), -1);
  EXPECT_EQ(rows[1].labels.count("first_error_step"), 0u);

  // A chosen index outside the completions, a trajectory that goes on after an unchosen step, a step
  // without completions: errors naming the step.
  struct Bad {
    nlohmann::json row;
    std::string message;
  };
  nlohmann::json out_of_range = row, goes_on = row, no_list = row;
  out_of_range["label"]["steps"][1]["chosen_completion"] = 2;
  goes_on["label"]["steps"][0]["chosen_completion"] = nullptr;
  no_list["label"]["steps"][2].erase("completions");
  for (const Bad& b : std::vector<Bad>{{out_of_range, "label.steps[1]"}, {goes_on, "label.steps[0]"}, {no_list, "label.steps[2]"}}) {
    const std::string bad_path = write_file("prm800k-bad.jsonl", b.row.dump() + "\n");
    Status bad_status;
    read_all(bad_path, {}, &bad_status);
    EXPECT_FALSE(bad_status) << b.message;
    EXPECT_NE(bad_status.message().find(b.message), std::string::npos) << bad_status.message();
    EXPECT_NE(bad_status.message().find("prm800k-bad.jsonl"), std::string::npos) << bad_status.message();
  }
}

TEST(Reader, StepLabelsListOnePerStep) {
  const std::string path = write_file(
      "step-labels.jsonl", R"({"problem": "p", "steps": ["a", "b", "c"], "step_labels": [true, 0.25, null]})" "\n");
  Status status;
  auto rows = read_all(path, {}, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows[0].step_labels.size(), 3u);
  EXPECT_EQ(rows[0].step_labels[0], 1.0);
  EXPECT_EQ(rows[0].step_labels[1], 0.25);
  EXPECT_TRUE(std::isnan(rows[0].step_labels[2]));
  for (const char* labels : {"[1, 0]", "[1, 2, 0]", "[\"yes\", 1, 0]"}) {
    const std::string bad = write_file("step-labels-bad.jsonl", std::string(R"({"problem": "p", "steps": ["a", "b", "c"], "step_labels": )") + labels + "}\n");
    read_all(bad, {}, &status);
    EXPECT_FALSE(status) << labels;
    EXPECT_NE(status.message().find("step_labels"), std::string::npos) << status.message();
  }
}

TEST(Reader, GenericFieldMappingAndTokenIds) {
  const std::string path = write_file(
      "generic.jsonl", "{\"question\": \"q\", \"answer\": \"a\", \"uid\": \"x-1\", \"gold\": 3.5}\n\n"
                       "{\"question\": \"q2\", \"answer\": \"a2\", \"uid\": \"x-2\", \"gold\": 1}\n");
  ReaderOptions options;
  options.schema = Schema::kGeneric;
  auto mapping = FieldMapping::parse({"prompt=question", "response=answer", "id=uid", "score=gold"});
  ASSERT_TRUE(mapping);
  options.mapping = *mapping;
  Status status;
  auto rows = read_all(path, options, &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].id, "x-2");
  EXPECT_EQ(rows[1].line, 3u);  // the blank line 2 is skipped but counted
  EXPECT_EQ(rows[1].labels.at("score"), 1);
  EXPECT_EQ(rows[0].prompt_turns[0].content, "q");

  const std::string ids = write_file("ids.jsonl", "{\"input_ids\": [1, 2, 3]}\n");
  auto tok = read_all(ids, {}, &status);
  ASSERT_TRUE(status) << status.message();
  EXPECT_EQ(tok[0].input_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(tok[0].id, "0");
}

TEST(Reader, MalformedJsonNamesFileAndLine) {
  const std::string path = write_file("bad.jsonl", "{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": oops}\n");
  Status status;
  auto rows = read_all(path, {}, &status);
  EXPECT_EQ(rows.size(), 1u);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("bad.jsonl:2"), std::string::npos) << status.message();
}

TEST(Reader, InvalidUtf8IsAnErrorWithLine) {
  const std::string path = write_file("utf8.jsonl", "{\"prompt\": \"ok\"}\n{\"prompt\": \"bad \xff\xfe\"}\n");
  Status status;
  read_all(path, {}, &status);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("utf8.jsonl:2"), std::string::npos) << status.message();
}

TEST(Reader, MissingFieldNamesRowAndField) {
  const std::string path = write_file(
      "missing.jsonl",
      "{\"prompt\": \"p\", \"response\": \"r\", \"helpfulness\": 1, \"correctness\": 1, \"coherence\": 1, "
      "\"complexity\": 1, \"verbosity\": 1}\n"
      "{\"prompt\": \"p\", \"response\": \"r\", \"helpfulness\": 1}\n");
  Status status;
  read_all(path, {}, &status);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("missing.jsonl:2"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("correctness"), std::string::npos) << status.message();
}

TEST(Reader, MissingFileAndTruncatedGzipAreErrors) {
  EXPECT_FALSE(DatasetReader::open(scratch_path("does-not-exist.jsonl")));
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "{\"prompt\": \"row " + std::to_string(i) + "\", \"response\": \"r\"}\n";
  const std::string gz = write_gz("cut.jsonl.gz", text);
  std::filesystem::resize_file(gz, std::filesystem::file_size(gz) / 2);
  Status status;
  read_all(gz, {}, &status);
  EXPECT_FALSE(status);
}

TEST(Reader, LongLinesAndNoFinalNewline) {
  const std::string long_response(200000, 'x');  // longer than the line reader's chunk
  const std::string text = "{\"prompt\": \"p\", \"response\": \"" + long_response + "\"}\r\n" +
                           "{\"prompt\": \"last\", \"response\": \"r\"}";
  for (const std::string& path : {write_file("long.jsonl", text), write_gz("long.jsonl.gz", text)}) {
    Status status;
    auto rows = read_all(path, {}, &status);
    ASSERT_TRUE(status) << status.message();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].responses[0], long_response);
    EXPECT_EQ(rows[1].prompt_turns[0].content, "last");
    EXPECT_EQ(rows[1].line, 2u);
  }
}

TEST(Values, NumberColumnsFromEachLayout) {
  auto bare = read_number_column(write_file("bare.json", "[1, 2.5, 3]"), "");
  ASSERT_TRUE(bare) << bare.message();
  EXPECT_EQ(*bare, (std::vector<double>{1, 2.5, 3}));
  auto objects = read_number_column(write_file("obj.json", R"([{"s": 1}, {"s": 4}])"), "s");
  ASSERT_TRUE(objects) << objects.message();
  EXPECT_EQ(*objects, (std::vector<double>{1, 4}));
  auto lines = read_number_column(write_file("obj.jsonl", "{\"s\": 2}\n{\"s\": 5}\n"), "s");
  ASSERT_TRUE(lines) << lines.message();
  EXPECT_EQ(*lines, (std::vector<double>{2, 5}));
  auto wrong = read_number_column(write_file("wrong.jsonl", "{\"s\": 2}\n{\"s\": \"x\"}\n"), "s");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.message().find("wrong.jsonl:2"), std::string::npos) << wrong.message();
}

TEST(Values, FieldNamesReachNestedKeysThatHoldDots) {
  const nlohmann::json row = nlohmann::json::parse(
      R"({"score": 1, "attributes": {"helpfulness": 2, "v1.5": 3, "v1": {"6": 4}}, "a.b": 5, "a": {"b": 6, "c": 7},
          "x": {"y.z": {"w": 8}}})");
  const auto at = [&](const std::string& path) {
    const nlohmann::json* found = find_field(row, path);
    return found == nullptr ? nlohmann::json("missing") : *found;
  };
  EXPECT_EQ(at("score"), 1);
  EXPECT_EQ(at("attributes.helpfulness"), 2);
  EXPECT_EQ(at("attributes.v1.5"), 3);
  EXPECT_EQ(at("attributes.v1.6"), 4);  // no key "v1.6": the path goes on into "v1"
  EXPECT_EQ(at("a.b"), 5);              // the key as written wins over the nested reading
  EXPECT_EQ(at("a.c"), 7);
  EXPECT_EQ(at("x.y.z.w"), 8);
  for (const char* absent : {"attributes.v2", "attributes.", ".score", "", "score.x", "a.b.c"})
    EXPECT_EQ(at(absent), "missing") << absent;
}

// A pipe or FIFO can be read once: nothing peeks at it first (a Parquet sniff, a second open for a JSON
// document), so its rows all arrive, as JSONL and as a JSON array.
TEST(Reader, APipeIsReadOnceAndWhole) {
  for (const std::string& text : {std::string("{\"id\": \"a\", \"v\": 1}\n{\"id\": \"b\", \"v\": 2}\n"),
                                 std::string("[\n{\"id\": \"a\", \"v\": 1},\n{\"id\": \"b\", \"v\": 2}\n]\n")}) {
    const std::string source = write_file("piped-source.txt", text);
    const std::string fifo = scratch_path("rows.fifo");
    std::filesystem::remove(fifo);
    ASSERT_EQ(std::system(("mkfifo " + fifo).c_str()), 0);
    // The writer blocks until the reader opens the FIFO; in the background, it never holds the test up.
    ASSERT_EQ(std::system(("cat " + source + " > " + fifo + " &").c_str()), 0);
    auto reader = JsonRowReader::open(fifo);
    ASSERT_TRUE(reader) << reader.message();
    std::vector<std::string> ids;
    JsonRow row;
    while (true) {
      auto got = reader->next(row);
      ASSERT_TRUE(got) << got.message();
      if (!*got) break;
      ids.push_back(row.value["id"]);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"})) << text;
    std::filesystem::remove(fifo);
  }
}

// Hugging Face datasets' to_json() writes JSON Lines by default, under a .json name: read as such. A .json
// file that is broken otherwise is still an error naming it.
TEST(Reader, JsonLinesUnderAJsonNameAreReadAsJsonLines) {
  const std::string lines = write_file("to-json.json", "{\"id\": \"a\", \"v\": 1}\n{\"id\": \"b\", \"v\": 2}\n");
  auto values = read_number_column(lines, "v");
  ASSERT_TRUE(values) << values.message();
  EXPECT_EQ(*values, (std::vector<double>{1, 2}));
  const std::string broken = write_file("broken.json", "[{\"id\": \"a\", \"v\": 1},\n");
  auto refused = read_number_column(broken, "v");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("broken.json"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace arbiter::data
