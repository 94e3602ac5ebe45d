// A Hugging Face model directory: model.safetensors, or shards named by model.safetensors.index.json.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"

namespace arbiter {

namespace {

namespace fs = std::filesystem;

// A shard name from the index must be a plain file name in the same directory.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos;
}

// weight_map of the index, as (tensor name, shard file) pairs in the index's order.
Result<std::vector<std::pair<std::string, std::string>>> read_weight_map(const std::string& index_path) {
  ARB_ASSIGN(std::string text, read_file(index_path));
  const nlohmann::ordered_json index = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object()) return error(index_path + ": not a JSON object");
  const auto map_it = index.find("weight_map");
  if (map_it == index.end() || !map_it->is_object()) return error(index_path + ": missing object 'weight_map'");
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [tensor, shard] : map_it->items()) {
    if (!shard.is_string()) return error(index_path + ": weight_map entry '" + tensor + "' is not a file name");
    const std::string& shard_name = shard.get_ref<const std::string&>();
    if (!is_plain_file_name(shard_name)) {
      return error(index_path + ": weight_map entry '" + tensor + "' names '" + shard_name +
                   "', which is not a file in the model directory");
    }
    entries.emplace_back(tensor, shard_name);
  }
  return entries;
}

}  // namespace

Result<std::shared_ptr<SafetensorsModel>> SafetensorsModel::open_dir(const std::string& dir) {
  auto model = std::shared_ptr<SafetensorsModel>(new SafetensorsModel());
  const fs::path root(dir);
  std::error_code ec;
  const fs::path single = root / "model.safetensors";
  const fs::path index_path = root / "model.safetensors.index.json";

  if (fs::is_regular_file(single, ec)) {
    ARB_ASSIGN(std::shared_ptr<SafetensorsFile> file, SafetensorsFile::open(single.string()));
    model->shards_.push_back(file);
    for (const TensorView& view : file->tensors()) model->index_.emplace(view.name, &view);
    return model;
  }
  if (!fs::is_regular_file(index_path, ec)) {
    return error(dir + ": no model.safetensors or model.safetensors.index.json in this directory");
  }

  ARB_ASSIGN(auto weight_map, read_weight_map(index_path.string()));
  std::unordered_map<std::string, std::shared_ptr<SafetensorsFile>> by_shard;
  for (const auto& [tensor, shard] : weight_map) {
    if (by_shard.count(shard)) continue;
    const fs::path shard_path = root / shard;
    if (!fs::is_regular_file(shard_path, ec)) {
      return error(index_path.string() + ": shard '" + shard + "' (holding '" + tensor + "') does not exist");
    }
    ARB_ASSIGN(std::shared_ptr<SafetensorsFile> file, SafetensorsFile::open(shard_path.string()));
    by_shard.emplace(shard, file);
    model->shards_.push_back(file);
  }
  for (const auto& [tensor, shard] : weight_map) {
    const TensorView* view = by_shard.at(shard)->tensor(tensor);
    if (view == nullptr) {
      return error(index_path.string() + ": tensor '" + tensor + "' is not in its shard '" + shard + "'");
    }
    model->index_.emplace(tensor, view);
  }
  // Tensors a shard holds beyond the index are still the model's; a name in two shards is ambiguous.
  for (const auto& file : model->shards_) {
    for (const TensorView& view : file->tensors()) {
      auto [it, inserted] = model->index_.emplace(view.name, &view);
      if (!inserted && it->second != &view) {
        return error(dir + ": tensor '" + view.name + "' appears in more than one shard (" + file->path() + ")");
      }
    }
  }
  return model;
}

const TensorView* SafetensorsModel::tensor(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<const TensorView*> SafetensorsModel::tensors() const {
  std::vector<const TensorView*> out;
  for (const auto& file : shards_) {
    for (const TensorView& view : file->tensors()) out.push_back(&view);
  }
  return out;
}

}  // namespace arbiter
