// libFuzzer target: one dataset row as `arbiter score` / `judge` / `features` read it, under every schema.
// The first byte picks the schema and a field mapping; the rest is the row's JSON text. Reading must give
// an error naming what is wrong, or an Example the scorers can use.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "data/schema.h"

namespace {

using arbiter::data::Schema;

constexpr Schema kSchemas[] = {Schema::kAuto,     Schema::kHelpSteer2, Schema::kHelpSteer2Preference,
                               Schema::kRewardBench, Schema::kGeneric, Schema::kTokenIds,
                               Schema::kSteps,    Schema::kMathShepherd};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Schema schema = kSchemas[data[0] % (sizeof(kSchemas) / sizeof(kSchemas[0]))];
  arbiter::data::FieldMapping mapping;
  if (data[0] & 0x10) mapping.fields = {{"prompt", "question"}, {"response", "a,b"}, {"score", "rating"}};
  if (data[0] & 0x20) mapping.fields["steps"] = "solution";
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const nlohmann::json row = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (row.is_discarded()) return 0;
  auto example = arbiter::data::to_example(row, schema, mapping, 7);
  if (!example.is_ok()) {
    if (example.message().empty()) __builtin_trap();
    return 0;
  }
  // A steps row is one response: its steps joined; step labels, where given, one per step.
  if (!example->steps.empty() && example->responses.size() != 1) __builtin_trap();
  if (!example->step_labels.empty() && example->step_labels.size() != example->steps.size()) __builtin_trap();
  if (example->row_index != 7) __builtin_trap();
  return 0;
}
