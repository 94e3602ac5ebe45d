#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/pretokenize_regex.h"

#include <pcre2.h>

#include "text/regex_white_space.h"
#include "text/unicode.h"

namespace arbiter {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Match data is not shareable between threads; one per thread, grown on demand, is enough because a
// match only needs the overall range.
pcre2_match_data* thread_match_data() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

}  // namespace

Result<std::shared_ptr<const Regex>> Regex::compile(const std::string& pattern, bool literal) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  // PCRE2_LITERAL admits UTF but not UCP (which only matters for classes).
  uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  const std::string compiled = literal ? pattern : with_unicode_white_space(pattern);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(), options,
                                   &err, &err_offset, nullptr);
  if (!code) {
    return Status::error("regex '" + pattern + "': " + pcre2_message(err) + " at offset " +
                         std::to_string(err_offset));
  }
  std::shared_ptr<Regex> regex(new Regex());
  regex->pattern_ = pattern;
  regex->code_ = code;
  regex->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return std::shared_ptr<const Regex>(std::move(regex));
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Result<std::vector<std::pair<size_t, size_t>>> Regex::find_all(std::string_view text) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = thread_match_data();
  std::vector<std::pair<size_t, size_t>> matches;
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    int rc = jit_ ? pcre2_jit_match(code, subject, text.size(), pos, 0, md, nullptr)
                  : pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return Status::error("regex '" + pattern_ + "': " + pcre2_message(rc));
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t begin = ov[0], end = ov[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      pos = end;
    } else {
      if (begin >= text.size()) break;
      pos = begin + utf8_char_len(static_cast<uint8_t>(text[begin]));
    }
  }
  return matches;
}

}  // namespace arbiter
