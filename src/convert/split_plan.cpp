#include "convert/split_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "io/gguf_split_name.h"

namespace arbiter {

std::vector<size_t> plan_gguf_split(const std::vector<uint64_t>& tensor_bytes, uint64_t max_bytes) {
  std::vector<size_t> starts{0};
  uint64_t in_file = 0;
  for (size_t t = 0; t < tensor_bytes.size(); ++t) {
    if (max_bytes > 0 && in_file > 0 && in_file + tensor_bytes[t] > max_bytes) {
      starts.push_back(t);
      in_file = 0;
    }
    in_file += tensor_bytes[t];
  }
  return starts;
}

Result<uint64_t> parse_byte_size(const std::string& text) {
  // Digits with at most one '.', then the unit (strtod alone would also take "1e9", "0x10" and "inf").
  const size_t number_end = text.find_first_not_of("0123456789.");
  const std::string number = text.substr(0, number_end);
  const double value = number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1
                           ? 0.0
                           : std::strtod(number.c_str(), nullptr);
  if (!(value > 0)) return error("'" + text + "' is not a size (e.g. 5G, 500M, 2GiB)");
  const std::string end = number_end == std::string::npos ? std::string() : text.substr(number_end);
  std::string unit = end;
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double scale = 1;
  if (unit.empty()) scale = 1;
  else if (unit == "K" || unit == "k") scale = 1e3;
  else if (unit == "M") scale = 1e6;
  else if (unit == "G") scale = 1e9;
  else if (unit == "T") scale = 1e12;
  else if (unit == "Ki") scale = 1024.0;
  else if (unit == "Mi") scale = 1024.0 * 1024;
  else if (unit == "Gi") scale = 1024.0 * 1024 * 1024;
  else if (unit == "Ti") scale = 1024.0 * 1024 * 1024 * 1024;
  else return error("'" + text + "': unknown unit '" + end + "' (K, M, G, T, or KiB, MiB, GiB, TiB)");
  const double bytes = value * scale;
  if (bytes < 1 || bytes > 1.8e19) return error("'" + text + "' is outside 1 byte .. 18 EB");
  return uint64_t(bytes);
}

Result<std::vector<std::string>> split_output_paths(const std::string& out_path, size_t count) {
  if (count <= 1) return std::vector<std::string>{out_path};
  static const std::string kExtension = ".gguf";
  if (out_path.size() <= kExtension.size() ||
      out_path.compare(out_path.size() - kExtension.size(), kExtension.size(), kExtension) != 0)
    return error(out_path + ": a model split into files needs an output name ending in .gguf (its files are "
                            "NAME-00001-of-0000N.gguf, ...)");
  if (parse_gguf_split_name(out_path))
    return error(out_path + ": name the whole model (NAME.gguf); its files are named NAME-00001-of-0000N.gguf, ...");
  const std::string prefix = out_path.substr(0, out_path.size() - kExtension.size());
  std::vector<std::string> paths;
  for (size_t i = 0; i < count; ++i) paths.push_back(gguf_split_name(prefix, int64_t(i), int64_t(count)));
  return paths;
}

}  // namespace arbiter
