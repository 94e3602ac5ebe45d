// Which transformers tokenizer class a Hugging Face folder loads, where arbiter has to follow it: a
// tokenizer.model is read by Gemma's tokenizer otherwise than by the others (SpmReader).
#pragma once

#include <string>

#include "text/tokenizer.h"

namespace arbiter {

// As AutoTokenizer picks the class: tokenizer_config.json's "tokenizer_class" where it names one, else
// the one config.json's "model_type" maps to (gemma, gemma2 and gemma3 map to GemmaTokenizer). Files that
// are missing or unreadable name no class (kModelSettings); reading the tokenizer reports them.
SpmReader sentencepiece_reader_for(const std::string& dir);

}  // namespace arbiter
