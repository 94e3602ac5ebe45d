#include "text/tokenizer.h"

#include <algorithm>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "text/unicode.h"

namespace arbiter {

namespace {

// The code point that starts at `pos` (its byte length in *len); U+FFFD for a broken sequence.
UChar32 code_point_at(std::string_view text, size_t pos, size_t* len) {
  int32_t i = int32_t(pos);
  UChar32 c = 0;
  U8_NEXT(reinterpret_cast<const uint8_t*>(text.data()), i, int32_t(text.size()), c);
  *len = size_t(i) - pos;
  return c < 0 ? 0xFFFD : c;
}

// The code point that ends just before `pos` (its byte length in *len).
UChar32 code_point_before(std::string_view text, size_t pos, size_t* len) {
  int32_t i = int32_t(pos);
  UChar32 c = 0;
  U8_PREV(reinterpret_cast<const uint8_t*>(text.data()), 0, i, c);
  *len = pos - size_t(i);
  return c < 0 ? 0xFFFD : c;
}

// What lstrip / rstrip added tokens swallow: Unicode White_Space (no-break and ideographic spaces too),
// as the tokenizers library's \s.
bool is_space(UChar32 c) { return u_isUWhiteSpace(c); }

// A word character for single_word added tokens, as the tokenizers library's \w: letters, marks, decimal
// digits, connector punctuation and joiners (not other punctuation, symbols or emoji).
bool is_word(UChar32 c) {
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL)) return true;
  switch (u_charType(c)) {
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_CONNECTOR_PUNCTUATION: return true;
    default: return false;
  }
}

// Whether text[begin, end) has a word character right before or right after it (a single_word token
// there is refused).
bool inside_word(std::string_view text, size_t begin, size_t end) {
  size_t len = 0;
  return (begin > 0 && is_word(code_point_before(text, begin, &len))) ||
         (end < text.size() && is_word(code_point_at(text, end, &len)));
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(text);
  std::string out;
  size_t last = 0;
  for (size_t pos = text.find(from); pos != std::string_view::npos; pos = text.find(from, last)) {
    out.append(text.substr(last, pos - last));
    out.append(to);
    last = pos + from.size();
  }
  out.append(text.substr(last));
  return out;
}

// "<0x41>" -> 0x41.
std::optional<uint8_t> byte_token_value(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(token[3]), lo = hex(token[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

std::vector<std::string> decode_byte_fallback(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  std::string pending;
  size_t pending_count = 0;
  auto flush = [&]() {
    if (pending_count == 0) return;
    if (!utf8_first_invalid(pending)) {
      out.push_back(pending);
    } else {
      for (size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
    }
    pending.clear();
    pending_count = 0;
  };
  for (std::string& token : tokens) {
    if (auto byte = byte_token_value(token)) {
      pending += static_cast<char>(*byte);
      ++pending_count;
    } else {
      flush();
      out.push_back(std::move(token));
    }
  }
  flush();
  return out;
}

std::string strip_token(const std::string& token, const std::string& ch, size_t start, size_t stop) {
  std::string_view view(token);
  for (size_t i = 0; i < start && !ch.empty() && view.substr(0, ch.size()) == ch; ++i) view.remove_prefix(ch.size());
  for (size_t i = 0; i < stop && !ch.empty() && view.size() >= ch.size() &&
                     view.substr(view.size() - ch.size()) == ch; ++i) {
    view.remove_suffix(ch.size());
  }
  return std::string(view);
}

// transformers' clean_up_tokenization: no space before punctuation and English contractions.
std::string clean_up_spaces(std::string text) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto [from, to] : kRules) text = replace_all(text, from, to);
  return text;
}

}  // namespace

Result<std::shared_ptr<Tokenizer>> Tokenizer::create(TokenizerConfig config) {
  std::shared_ptr<Tokenizer> tok(new Tokenizer());
  tok->config_ = std::move(config);
  TokenizerConfig& c = tok->config_;
  int32_t n = static_cast<int32_t>(c.tokens.size());
  for (const AddedToken& added : c.added_tokens) {
    if (added.id < 0 || added.id >= n) {
      return Status::error("added token '" + added.content + "': id " + std::to_string(added.id) +
                           " outside the vocabulary of " + std::to_string(n));
    }
    if (added.content.empty()) return Status::error("added token " + std::to_string(added.id) + ": empty content");
  }
  auto check_id = [&](const std::optional<int32_t>& id, const char* what) -> Status {
    if (id && (*id < 0 || *id >= n)) {
      return Status::error(std::string(what) + " id " + std::to_string(*id) + " outside the vocabulary of " +
                           std::to_string(n));
    }
    return Status::ok();
  };
  ARB_TRY(check_id(c.bos_id, "bos"));
  ARB_TRY(check_id(c.eos_id, "eos"));
  ARB_TRY(check_id(c.pad_id, "pad"));
  for (int32_t id : c.prefix_ids) ARB_TRY(check_id(id, "post-processor"));
  for (int32_t id : c.suffix_ids) ARB_TRY(check_id(id, "post-processor"));

  c.model.pieces.resize(c.tokens.size());
  // The BPE model reads c.model where it is (config_ outlives bpe_): a copy would double the largest part
  // of the tokenizer's memory (Llama 3: 128k pieces, 280k merges) and its load time.
  ARB_ASSIGN(tok->bpe_, Bpe::create(c.model));

  tok->token_to_id_.reserve(c.tokens.size());
  for (int32_t id = 0; id < n; ++id) {
    if (!c.tokens[id].empty()) tok->token_to_id_.emplace(c.tokens[id], id);
  }
  tok->special_.assign(c.tokens.size(), false);
  tok->normalized_contents_.resize(c.added_tokens.size());
  for (size_t i = 0; i < c.added_tokens.size(); ++i) {
    const AddedToken& added = c.added_tokens[i];
    tok->token_to_id_[added.content] = added.id;
    if (added.special) tok->special_[added.id] = true;
    std::string_view text = added.content;
    if (added.normalized && c.normalize_added_content && !c.normalizers.empty()) {
      auto normalized = normalize(c.normalizers, added.content);
      if (!normalized.is_ok()) return normalized.status().with_context("added token '" + added.content + "'");
      tok->normalized_contents_[i] = std::move(normalized).value();
      text = tok->normalized_contents_[i];
      // A token the normalizers erase entirely can never be found in normalized text.
      if (text.empty()) continue;
    }
    Matcher& m = added.normalized ? tok->normalized_ : tok->raw_;
    m.by_first_byte[static_cast<uint8_t>(text[0])].push_back({&added, text});
    m.empty = false;
  }
  for (Matcher* m : {&tok->raw_, &tok->normalized_}) {
    for (auto& bucket : m->by_first_byte) {
      std::stable_sort(bucket.begin(), bucket.end(),
                       [](const Candidate& a, const Candidate& b) { return a.text.size() > b.text.size(); });
    }
  }
  return tok;
}

std::vector<Tokenizer::Segment> Tokenizer::split_added(std::string_view text, const Matcher& matcher,
                                                       bool parse_special) const {
  std::vector<Segment> segments;
  size_t text_start = 0;  // start of the text not yet emitted
  size_t pos = 0;
  while (pos < text.size() && !matcher.empty) {
    // The leftmost match, longest first, as the tokenizers library's Aho-Corasick (LeftmostLongest) finds it.
    const auto& bucket = matcher.by_first_byte[static_cast<uint8_t>(text[pos])];
    const auto found = std::find_if(bucket.begin(), bucket.end(), [&](const Candidate& candidate) {
      return text.compare(pos, candidate.text.size(), candidate.text) == 0;
    });
    if (found == bucket.end()) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = pos + found->text.size();
    // A match refused (a special token not parsed, a single_word token inside a word) stays text, and the
    // library's match iterator has consumed its span: no shorter token at the same place, nor one starting
    // inside it, is tried.
    if ((found->token->special && !parse_special) || (found->token->single_word && inside_word(text, begin, end))) {
      pos = end;
      continue;
    }
    if (found->token->lstrip) {
      size_t len = 0;
      while (begin > text_start && is_space(code_point_before(text, begin, &len))) begin -= len;
    }
    if (found->token->rstrip) {
      size_t len = 0;
      while (end < text.size() && is_space(code_point_at(text, end, &len))) end += len;
    }
    if (begin > text_start) segments.push_back({text_start, begin, -1});
    segments.push_back({begin, end, found->token->id});
    text_start = pos = end;
  }
  if (text_start < text.size()) segments.push_back({text_start, text.size(), -1});
  return segments;
}

Status Tokenizer::encode_text(std::string_view text, bool at_input_start, bool parse_special,
                              std::vector<int32_t>& out) const {
  ARB_ASSIGN(std::string normalized, normalize(config_.normalizers, text, config_.prepend_at_input_start_only && !at_input_start));
  for (const Segment& seg : split_added(normalized, normalized_, parse_special)) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    std::string_view piece = std::string_view(normalized).substr(seg.begin, seg.end - seg.begin);
    ARB_ASSIGN(auto words, pre_tokenize(config_.pre_tokenizers, piece, at_input_start && seg.begin == 0));
    for (const std::string& word : words) ARB_TRY(bpe_->encode_word(word, out));
  }
  return Status::ok();
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  if (auto bad = utf8_first_invalid(text)) {
    return Status::error("encode: invalid UTF-8 at byte offset " + std::to_string(*bad) + " (byte 0x" +
                         "0123456789abcdef"[static_cast<uint8_t>(text[*bad]) >> 4] +
                         "0123456789abcdef"[static_cast<uint8_t>(text[*bad]) & 15] + ")");
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special) ids.insert(ids.end(), config_.prefix_ids.begin(), config_.prefix_ids.end());
  for (const Segment& seg : split_added(text, raw_, parse_special)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    ARB_TRY(encode_text(text.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, parse_special, ids));
  }
  if (add_special) ids.insert(ids.end(), config_.suffix_ids.begin(), config_.suffix_ids.end());
  return ids;
}

Result<std::string> Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    int32_t id = ids[i];
    if (id < 0 || id >= vocab_size()) {
      return Status::error("decode: id " + std::to_string(id) + " at position " + std::to_string(i) +
                           " outside the vocabulary of " + std::to_string(vocab_size()));
    }
    if (skip_special && special_[id]) continue;
    tokens.push_back(config_.tokens[id]);
  }
  for (const DecoderStep& step : config_.decoders) {
    switch (step.kind) {
      case DecoderKind::kByteLevel: {
        std::string bytes;
        for (const std::string& t : tokens) {
          // HF keeps a token verbatim when a character is outside the byte map (added tokens).
          if (auto b = unicode_to_bytes(t)) bytes += *b;
          else bytes += t;
        }
        tokens.assign(1, utf8_lossy(bytes));
        break;
      }
      case DecoderKind::kReplace:
        for (std::string& t : tokens) t = replace_all(t, step.pattern, step.content);
        break;
      case DecoderKind::kByteFallback:
        tokens = decode_byte_fallback(std::move(tokens));
        break;
      case DecoderKind::kFuse: {
        std::string joined;
        for (const std::string& t : tokens) joined += t;
        tokens.assign(1, std::move(joined));
        break;
      }
      case DecoderKind::kStrip:
        for (std::string& t : tokens) t = strip_token(t, step.content, step.strip_start, step.strip_stop);
        break;
      case DecoderKind::kMetaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          tokens[i] = replace_all(tokens[i], step.replacement, " ");
          if (i == 0 && step.strip_first_space && !tokens[i].empty() && tokens[i][0] == ' ') tokens[i].erase(0, 1);
        }
        break;
    }
  }
  std::string text;
  for (const std::string& t : tokens) text += t;
  if (config_.clean_up_spaces) text = clean_up_spaces(std::move(text));
  return utf8_lossy(text);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return config_.tokens[id];
}

bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && special_[id]; }

}  // namespace arbiter
