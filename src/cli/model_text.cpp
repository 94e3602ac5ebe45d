#include "cli/model_text.h"

#include "model/model_tokenizer.h"
#include "text/tokenizer.h"

namespace arbiter::cli {

Result<std::vector<int32_t>> encode_text_for_model(const Model& model, const std::string& text, bool add_special) {
  ARB_ASSIGN(auto tokenizer, load_model_tokenizer(model));
  return tokenizer->encode(text, add_special, /*parse_special=*/true);
}

}  // namespace arbiter::cli
