#include "model/model_path.h"

#include <algorithm>
#include <filesystem>
#include <vector>

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

}  // namespace arbiter
