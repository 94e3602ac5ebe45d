#include "model/model_path.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/same_file.h"
#include "io/gguf_split_name.h"

namespace arbiter {

Result<std::optional<std::string>> gguf_model_in_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> models;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".gguf") continue;
    const std::string path = it->path().string();
    // A split model's later files belong to its first.
    if (const std::optional<GgufSplitName> split = parse_gguf_split_name(path); split && split->index != 0) continue;
    models.push_back(path);
  }
  if (ec) return error(dir + ": cannot list: " + ec.message());
  if (models.empty()) return std::optional<std::string>();
  if (models.size() == 1) return std::optional<std::string>(models.front());
  std::sort(models.begin(), models.end());
  std::string names;
  for (size_t i = 0; i < models.size() && i < 6; ++i) names += (i ? ", " : "") + fs::path(models[i]).filename().string();
  if (models.size() > 6) names += ", ...";
  return error(dir + ": holds " + std::to_string(models.size()) + " GGUF models (" + names + "): give one of them");
}

bool model_reads_file(const std::string& model_path, const std::string& output) {
  namespace fs = std::filesystem;
  if (model_path.empty() || output.empty()) return false;
  if (same_file(model_path, output)) return true;
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) {
    // The files a model folder is read from, not whatever else it holds (an output written there before,
    // a GGUF file converted into it beside a Hugging Face model).
    const bool hugging_face = fs::exists(fs::path(model_path) / "config.json", ec);
    for (const fs::directory_entry& entry : fs::directory_iterator(model_path, ec)) {
      const std::string name = entry.path().filename().string();
      const bool read = hugging_face ? name == "config.json" || name.ends_with(".safetensors") ||
                                           name.ends_with(".safetensors.index.json") || name.rfind("tokenizer", 0) == 0 ||
                                           name == "chat_template.jinja" || name == "special_tokens_map.json" || name == "added_tokens.json" ||
                                           name == "generation_config.json"
                                     : name.ends_with(".gguf");
      if (read && same_file(entry.path().string(), output)) return true;
    }
    return false;
  }
  // A split GGUF model: its other files, beside the one named.
  if (const auto split = parse_gguf_split_name(model_path))
    for (int64_t i = 0; i < split->count; ++i)
      if (same_file(gguf_split_name(split->prefix, i, split->count), output)) return true;
  return false;
}

}  // namespace arbiter
