#include "cli/model_options.h"

#include <algorithm>
#include <charconv>

namespace arbiter::cli {

Result<std::vector<int32_t>> parse_int_list(const std::string& text, const std::string& what) {
  std::vector<int32_t> values;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    int32_t value = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec == std::errc::result_out_of_range && ptr == item.data() + item.size())
      return error(what + ": '" + item + "' is outside the 32-bit integer range");
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size())
      return error(what + ": '" + item + "' is not an integer");
    values.push_back(value);
    start = end + 1;
  }
  return values;
}

Result<std::vector<int32_t>> parse_layer_list(const std::string& text, int64_t num_layers) {
  std::vector<int32_t> layers;
  if (text == "all") {
    for (int32_t l = 0; l <= num_layers; ++l) layers.push_back(l);
    return layers;
  }
  ARB_ASSIGN(std::vector<int32_t> raw, parse_int_list(text, "--layers"));
  for (int32_t l : raw) {
    const int64_t layer = l < 0 ? num_layers + 1 + l : l;
    if (layer < 0 || layer > num_layers)
      return error("--layers: layer " + std::to_string(l) + " is outside 0.." + std::to_string(num_layers));
    // -1 and L are one layer: asked for twice, it is written once.
    if (std::find(layers.begin(), layers.end(), int32_t(layer)) != layers.end()) continue;
    layers.push_back(int32_t(layer));
  }
  return layers;
}

}  // namespace arbiter::cli
