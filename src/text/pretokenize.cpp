#include "text/pretokenize.h"

namespace arbiter {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kTekkenPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kSingleDigitPattern = R"(\p{N})";

Result<std::vector<std::pair<size_t, size_t>>> split_spans(const Regex& pattern, SplitBehavior behavior, bool invert,
                                                           std::string_view text) {
  ARB_ASSIGN(auto matches, pattern.find_all(text));
  // Every byte of the text in order, each span marked as delimiter or not.
  struct Span { size_t begin, end; bool delim; };
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t last = 0;
  for (auto [b, e] : matches) {
    if (b > last) spans.push_back({last, b, invert});
    spans.push_back({b, e, !invert});
    last = e;
  }
  if (last < text.size()) spans.push_back({last, text.size(), invert});

  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(spans.size());
  bool pending_merge_next = false;  // kMergedWithNext: a delimiter waiting for the span after it
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    switch (behavior) {
      case SplitBehavior::kRemoved:
        if (!s.delim) out.emplace_back(s.begin, s.end);
        break;
      case SplitBehavior::kIsolated:
        out.emplace_back(s.begin, s.end);
        break;
      case SplitBehavior::kMergedWithPrevious:
        if (s.delim && !out.empty() && out.back().second == s.begin && i > 0 && !spans[i - 1].delim) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        break;
      case SplitBehavior::kMergedWithNext:
        if (pending_merge_next && !s.delim) {
          out.back().second = s.end;
          pending_merge_next = false;
        } else {
          out.emplace_back(s.begin, s.end);
          pending_merge_next = s.delim;
        }
        break;
      case SplitBehavior::kContiguous:
        if (s.delim && i > 0 && spans[i - 1].delim && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        break;
    }
  }
  return out;
}

namespace {

Result<std::vector<std::string>> apply_split(const Regex& pattern, SplitBehavior behavior, bool invert,
                                             std::vector<std::string> words) {
  std::vector<std::string> out;
  out.reserve(words.size());
  for (const std::string& word : words) {
    ARB_ASSIGN(auto spans, split_spans(pattern, behavior, invert, word));
    for (auto [b, e] : spans) out.emplace_back(word, b, e - b);
  }
  return out;
}

std::string replace_spaces(std::string_view text, const std::string& replacement) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    if (c == ' ') out += replacement;
    else out += c;
  }
  return out;
}

// Metaspace: spaces become the replacement, a prefix is added per the scheme, and with `split` each
// word starts at a replacement (HF MergedWithNext on the replacement string).
std::vector<std::string> apply_metaspace(const PreTokenizerStep& step, std::vector<std::string> words,
                                         bool at_input_start) {
  std::vector<std::string> out;
  for (size_t w = 0; w < words.size(); ++w) {
    std::string text = replace_spaces(words[w], step.replacement);
    bool prepend = step.prepend_scheme == PrependScheme::kAlways ||
                   (step.prepend_scheme == PrependScheme::kFirst && at_input_start && w == 0);
    if (prepend && text.compare(0, step.replacement.size(), step.replacement) != 0) text = step.replacement + text;
    if (!step.split) {
      out.push_back(std::move(text));
      continue;
    }
    size_t start = 0;
    for (size_t pos = text.find(step.replacement, 1); pos != std::string::npos;
         pos = text.find(step.replacement, pos + 1)) {
      if (pos > start) out.emplace_back(text, start, pos - start);
      start = pos;
    }
    out.emplace_back(text, start);
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> pre_tokenize(const std::vector<PreTokenizerStep>& steps, std::string_view text,
                                              bool at_input_start) {
  std::vector<std::string> words;
  if (!text.empty()) words.emplace_back(text);
  for (const PreTokenizerStep& step : steps) {
    switch (step.kind) {
      case PreTokenizerKind::kSplit: {
        ARB_ASSIGN(words, apply_split(*step.pattern, step.behavior, step.invert, std::move(words)));
        break;
      }
      case PreTokenizerKind::kByteLevel: {
        if (step.add_prefix_space) {
          for (std::string& w : words) {
            if (w.empty() || w[0] != ' ') w.insert(w.begin(), ' ');
          }
        }
        if (step.pattern) {
          ARB_ASSIGN(words, apply_split(*step.pattern, SplitBehavior::kIsolated, false, std::move(words)));
        }
        break;
      }
      case PreTokenizerKind::kMetaspace:
        words = apply_metaspace(step, std::move(words), at_input_start);
        break;
    }
  }
  std::erase_if(words, [](const std::string& w) { return w.empty(); });
  return words;
}

}  // namespace arbiter
