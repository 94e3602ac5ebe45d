// Python str semantics over UTF-8: templates index, slice, strip and case-map by code point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace arbiter::jinja {

std::vector<uint32_t> utf8_decode(const std::string& s);
std::string utf8_encode(const std::vector<uint32_t>& cps);
void utf8_append(uint32_t cp, std::string* out);
size_t utf8_length(const std::string& s);
bool py_isspace(uint32_t cp);

// Python slice semantics: indices selected by [start:stop:step] from a sequence of `length`.
std::vector<int64_t> slice_indices(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   std::optional<int64_t> step);

// chars: nullopt strips whitespace, as str.strip() does.
std::string py_strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_capitalize(const std::string& s);
std::string py_title(const std::string& s);  // str.title()
std::vector<std::string> py_split(const std::string& s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> py_rsplit(const std::string& s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> py_splitlines(const std::string& s, bool keepends);
std::string py_replace(const std::string& s, const std::string& old, const std::string& repl, int64_t count);
int64_t py_count(const std::string& s, const std::string& sub);
// Code point index of the first occurrence, or -1.
int64_t py_find(const std::string& s, const std::string& sub);

}  // namespace arbiter::jinja
