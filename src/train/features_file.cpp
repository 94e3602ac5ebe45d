#include "train/features_file.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "data/json_rows.h"
#include "io/safetensors.h"

namespace arbiter::train {

namespace {

using nlohmann::json;

Result<std::vector<std::string>> string_array(const std::string& text, const std::string& what) {
  auto parsed = data::parse_json(text);
  if (!parsed) return parsed.status().with_context(what);
  if (!parsed->is_array()) return error(what + ": not a JSON array");
  std::vector<std::string> out;
  for (const json& v : *parsed) {
    if (!v.is_string()) return error(what + ": holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

template <typename T>
std::vector<T> copy_values(const TensorView& t) {
  std::vector<T> out(size_t(t.numel()));
  std::memcpy(out.data(), t.data, out.size() * sizeof(T));  // the data may be unaligned in the map
  return out;
}

// A JSON row's id as the data readers spell it: a string, or an integer in decimal.
std::string id_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return "";
}

// One features file; without `values`, its shapes, row ids and indices, and metadata only; with `labels`
// alone, its labels too (what a join of parts needs beside their mapped features).
Result<FeatureSet> read_features_file(const std::string& path, bool values = true, bool labels = false) {
  labels = labels || values;
  ARB_ASSIGN(auto file, SafetensorsFile::open(path));
  FeatureSet set;
  const TensorView* features = file->tensor("features");
  if (!features) return error(path + ": no tensor 'features'");
  if (features->dtype != DType::F32 || features->shape.size() != 3)
    return error(path + ": tensor 'features' must be F32 [N, R, d], got " + dtype_name(features->dtype) + " " +
                 features->shape_string());
  set.rows = features->shape[0];
  set.responses = features->shape[1];
  set.dim = features->shape[2];
  if (set.rows < 1 || set.responses < 1 || set.dim < 1) return error(path + ": tensor 'features' is empty");
  if (values) {
    // The writer pads the header to 8 bytes, so the values of a file it wrote are aligned and read in place;
    // another writer's may not be, and are copied.
    const float* in_place = reinterpret_cast<uintptr_t>(features->data) % alignof(float) == 0
                                ? static_cast<const float*>(features->data)
                                : nullptr;
    if (!in_place) set.features = copy_values<float>(*features);
    const float* all = in_place ? in_place : set.features.data();
    for (int64_t i = 0; i < features->numel(); ++i)
      if (!std::isfinite(all[i])) return error(path + ": tensor 'features' holds a non-finite value");
    if (in_place) {
      const int64_t width = set.responses * set.dim;  // [R, d] per row
      set.mapped_rows.resize(size_t(set.rows));
      for (int64_t r = 0; r < set.rows; ++r) set.mapped_rows[size_t(r)] = in_place + r * width;
      set.mapped_files.push_back(file);
    }
  }
  for (const TensorView& t : file->tensors()) {
    if (!labels || t.name.rfind("label.", 0) != 0) continue;
    if (t.dtype != DType::F32 || t.shape != std::vector<int64_t>{set.rows})
      return error(path + ": tensor '" + t.name + "' must be F32 [" + std::to_string(set.rows) + "], got " +
                   dtype_name(t.dtype) + " " + t.shape_string());
    const std::vector<float> values = copy_values<float>(t);
    set.labels[t.name.substr(6)] = std::vector<double>(values.begin(), values.end());
  }
  if (const TensorView* hashes = file->tensor("prompt_hash")) {
    if (hashes->dtype != DType::I64 || hashes->shape != std::vector<int64_t>{set.rows})
      return error(path + ": tensor 'prompt_hash' must be I64 [" + std::to_string(set.rows) + "]");
    set.prompt_hashes = copy_values<int64_t>(*hashes);
  }
  if (const TensorView* rows = file->tensor("row_index")) {
    if (rows->dtype != DType::I32 || rows->shape != std::vector<int64_t>{set.rows})
      return error(path + ": tensor 'row_index' must be I32 [" + std::to_string(set.rows) + "]");
    set.row_index = copy_values<int32_t>(*rows);
  }
  const auto& meta = file->metadata();
  if (auto it = meta.find("ids"); it != meta.end()) {
    ARB_ASSIGN(set.ids, string_array(it->second, path + ": metadata 'ids'"));
    if (int64_t(set.ids.size()) != set.rows)
      return error(path + ": metadata 'ids' has " + std::to_string(set.ids.size()) + " entries for " +
                   std::to_string(set.rows) + " rows");
  }
  if (auto it = meta.find("row_digests"); it != meta.end()) {
    ARB_ASSIGN(set.row_digests, string_array(it->second, path + ": metadata 'row_digests'"));
    if (int64_t(set.row_digests.size()) != set.rows)
      return error(path + ": metadata 'row_digests' has " + std::to_string(set.row_digests.size()) + " entries for " +
                   std::to_string(set.rows) + " rows");
  }
  if (auto it = meta.find("labels"); labels && it != meta.end()) {
    ARB_ASSIGN(const auto names, string_array(it->second, path + ": metadata 'labels'"));
    for (const std::string& name : names)
      if (!set.labels.count(name)) return error(path + ": metadata 'labels' names '" + name + "' but there is no tensor 'label." + name + "'");
  }
  if (auto it = meta.find("layer"); it != meta.end()) set.layer = it->second;
  if (auto it = meta.find("model"); it != meta.end()) set.model = it->second;
  if (auto it = meta.find("model_fingerprint"); it != meta.end()) set.model_fingerprint = it->second;
  if (auto it = meta.find("model_commit"); it != meta.end()) set.model_commit = it->second;
  if (auto it = meta.find("model_digests"); it != meta.end()) {
    const json doc = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) return error(path + ": metadata 'model_digests' is not a JSON object");
    auto field = [&](const char* key) { return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : ""; };
    set.model_digests = {field("chat_template"), field("tokenizer"), field("config")};
  }
  if (auto it = meta.find("input_rows"); it != meta.end()) {
    int64_t rows = -1;
    const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), rows);
    if (ec != std::errc() || end != it->second.data() + it->second.size() || rows < 0)
      return error(path + ": metadata 'input_rows' is not a row count: '" + it->second + "'");
    set.input_rows = rows;
  }
  if (auto it = meta.find("settings"); it != meta.end()) {
    const json doc = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return error(path + ": metadata 'settings' is not a JSON object");
    set.settings = RunSettings::from_json(doc);
  }
  return set;
}

// A set read in place, copied into memory.
void hold_in_memory(FeatureSet& set) {
  if (set.mapped_rows.empty()) return;
  set.features = set.values();
  set.mapped_rows.clear();
  set.mapped_files.clear();
}

// Appends `more` (read from `path`) to `set`, whose first file is `first`: the same model, layer, response
// count and width, and ids and row indices in both or in neither. A label one side lacks is NaN for its
// rows, as within one file.
Status append_features(FeatureSet& set, FeatureSet&& more, const std::string& first, const std::string& path) {
  auto differs = [&](const std::string& what, const std::string& ours, const std::string& theirs) {
    return error(path + ": " + what + " " + theirs + ", where " + first + " has " + ours +
                 ": features of one training set come from one extraction");
  };
  if (!set.same_model_as(more))
    return differs("model", "'" + set.model + "' (" + set.model_fingerprint + ")", "'" + more.model + "' (" + more.model_fingerprint + ")");
  if (more.layer != set.layer) return differs("layer", "'" + set.layer + "'", "'" + more.layer + "'");
  // Shards formatted otherwise (another chat template, another truncation, the model's files edited in
  // between) are not one training set.
  if (const auto edited = describe_digest_differences(set.model_digests, more.model_digests, "in " + first, "here");
      !edited.empty())
    return error(path + ": extracted with other model files than " + first + " (" + edited.front() +
                 "): features of one training set come from one extraction");
  if (set.settings && more.settings)
    if (const auto differences = describe_setting_differences(*set.settings, *more.settings, "in " + first, "here"); !differences.empty()) {
      std::string listed;
      for (const std::string& d : differences) listed += (listed.empty() ? "" : "; ") + d;
      return error(path + ": extracted with other options than " + first + " (" + listed +
                   "): features of one training set come from one extraction");
    }
  if (more.responses != set.responses)
    return differs("responses per row", std::to_string(set.responses), std::to_string(more.responses));
  if (more.dim != set.dim) return differs("feature width", std::to_string(set.dim), std::to_string(more.dim));
  if (more.ids.empty() != set.ids.empty())
    return differs("row ids", set.ids.empty() ? "none" : "some", more.ids.empty() ? "none" : "some");
  if (more.row_index.empty() != set.row_index.empty())
    return differs("row indices", set.row_index.empty() ? "none" : "some", more.row_index.empty() ? "none" : "some");
  const double missing = std::numeric_limits<double>::quiet_NaN();
  for (auto& [name, values] : more.labels) set.labels[name].resize(size_t(set.rows), missing);
  for (auto& [name, values] : set.labels) {
    const auto theirs = more.labels.find(name);
    if (theirs == more.labels.end()) values.resize(size_t(set.rows + more.rows), missing);
    else values.insert(values.end(), theirs->second.begin(), theirs->second.end());
  }
  set.rows += more.rows;
  if (!set.mapped_rows.empty() && !more.mapped_rows.empty()) {
    set.mapped_rows.insert(set.mapped_rows.end(), more.mapped_rows.begin(), more.mapped_rows.end());
    set.mapped_files.insert(set.mapped_files.end(), more.mapped_files.begin(), more.mapped_files.end());
  } else {
    // A file copied into memory (its values unaligned) takes the rest with it.
    hold_in_memory(set);
    hold_in_memory(more);
    set.features.insert(set.features.end(), more.features.begin(), more.features.end());
  }
  set.ids.insert(set.ids.end(), more.ids.begin(), more.ids.end());
  set.row_index.insert(set.row_index.end(), more.row_index.begin(), more.row_index.end());
  // Fingerprints only mean something for every row or none.
  if (set.row_digests.empty() || more.row_digests.empty()) set.row_digests.clear();
  else set.row_digests.insert(set.row_digests.end(), more.row_digests.begin(), more.row_digests.end());
  set.input_rows = -1;  // a set of several files is no one extraction's output
  if (set.prompt_hashes.empty() || more.prompt_hashes.empty()) set.prompt_hashes.clear();
  else set.prompt_hashes.insert(set.prompt_hashes.end(), more.prompt_hashes.begin(), more.prompt_hashes.end());
  return Status::ok();
}

// Puts the rows of shards read one after the other back in dataset order (row_index), so that a training
// split and shuffle of the same seed see the rows the whole extraction's file holds, in its order,
// whatever order the files were named in.
void order_by_row_index(FeatureSet& set) {
  if (set.row_index.size() != size_t(set.rows) || std::is_sorted(set.row_index.begin(), set.row_index.end())) return;
  std::vector<size_t> order(size_t(set.rows));
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return set.row_index[a] < set.row_index[b]; });
  auto permute = [&](auto& values) {
    if (values.size() != order.size()) return;
    auto copy = values;
    for (size_t i = 0; i < order.size(); ++i) values[i] = copy[order[i]];
  };
  permute(set.ids);
  permute(set.row_index);
  permute(set.row_digests);
  permute(set.prompt_hashes);
  for (auto& [name, values] : set.labels) permute(values);
  if (!set.mapped_rows.empty()) {
    permute(set.mapped_rows);
    return;
  }
  const size_t width = size_t(set.responses * set.dim);  // [R, d] per row
  const std::vector<float> features = set.features;
  for (size_t i = 0; i < order.size(); ++i)
    std::copy_n(features.begin() + long(order[i] * width), width, set.features.begin() + long(i * width));
}

}  // namespace

std::vector<float> FeatureSet::values() const {
  if (mapped_rows.empty()) return features;
  const size_t width = size_t(responses * dim);  // [R, d] per row
  std::vector<float> out(mapped_rows.size() * width);
  for (size_t r = 0; r < mapped_rows.size(); ++r) std::copy_n(mapped_rows[r], width, out.begin() + long(r * width));
  return out;
}

Result<FeatureSet> read_feature_files(const std::vector<std::string>& files) {
  if (files.empty()) return error("no features files");
  ARB_ASSIGN(FeatureSet set, read_features_file(files.front()));
  for (size_t f = 1; f < files.size(); ++f) {
    ARB_ASSIGN(FeatureSet more, read_features_file(files[f]));
    ARB_TRY(append_features(set, std::move(more), files.front(), files[f]));
  }
  if (files.size() > 1) order_by_row_index(set);
  return set;
}

Result<FeatureSet> read_features_header(const std::string& path) { return read_features_file(path, false); }

Result<FeatureSet> read_features(const std::string& path) {
  ARB_ASSIGN(const std::vector<std::string> files, data::files_named_by(path));
  ARB_ASSIGN(FeatureSet set, read_feature_files(files));
  // A dataset holds each row once (shards split it, steps are ids of their own): a row twice would be
  // trained on twice, or land on both sides of the validation split and flatter its figures.
  if (!set.ids.empty()) {
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < set.ids.size(); ++i)
      if (const auto [first, fresh] = seen.emplace(set.ids[i], i); !fresh)
        return error(files.size() > 1 ? path + ": row id '" + set.ids[i] + "' is in more than one of its " +
                                             std::to_string(files.size()) + " files"
                                       : path + ": row id '" + set.ids[i] + "' appears twice (feature rows " +
                                             std::to_string(first->second) + " and " + std::to_string(i) + ")");
  }
  return set;
}

namespace {

// `features` holds the [N, R, d] values, from set.features or from pieces of mapped files.
Status write_features_with(const std::string& path, const FeatureSet& set, OwnedTensor features) {
  if (int64_t(features.byte_size()) != set.rows * set.responses * set.dim * int64_t(sizeof(float)))
    return error(path + ": features hold " + std::to_string(features.byte_size() / sizeof(float)) + " values, not N*R*d");
  std::vector<OwnedTensor> tensors;
  tensors.push_back(std::move(features));
  json names = json::array();
  for (const auto& [name, values] : set.labels) {
    if (int64_t(values.size()) != set.rows) return error(path + ": label '" + name + "' has the wrong length");
    tensors.push_back(make_f32_tensor("label." + name, {set.rows}, std::vector<float>(values.begin(), values.end())));
    names.push_back(name);
  }
  if (!set.row_index.empty()) tensors.push_back(make_i32_tensor("row_index", {set.rows}, set.row_index));
  if (!set.prompt_hashes.empty()) {
    if (int64_t(set.prompt_hashes.size()) != set.rows) return error(path + ": prompt hashes have the wrong length");
    OwnedTensor hashes;
    hashes.name = "prompt_hash";
    hashes.dtype = DType::I64;
    hashes.shape = {set.rows};
    const auto* bytes = reinterpret_cast<const uint8_t*>(set.prompt_hashes.data());
    hashes.bytes.assign(bytes, bytes + set.prompt_hashes.size() * sizeof(int64_t));
    tensors.push_back(std::move(hashes));
  }
  std::map<std::string, std::string> meta;
  meta["labels"] = data::dump_json(names);
  if (!set.ids.empty()) meta["ids"] = data::dump_json(json(set.ids));
  if (!set.row_digests.empty()) {
    if (int64_t(set.row_digests.size()) != set.rows) return error(path + ": row digests have the wrong length");
    meta["row_digests"] = data::dump_json(json(set.row_digests));
  }
  if (!set.layer.empty()) meta["layer"] = set.layer;
  if (!set.model.empty()) meta["model"] = set.model;
  if (!set.model_fingerprint.empty()) meta["model_fingerprint"] = set.model_fingerprint;
  if (!set.model_commit.empty()) meta["model_commit"] = set.model_commit;
  const ModelDigests& d = set.model_digests;
  if (!d.chat_template.empty() || !d.tokenizer.empty() || !d.config.empty())
    meta["model_digests"] = json{{"chat_template", d.chat_template}, {"tokenizer", d.tokenizer}, {"config", d.config}}.dump();
  if (set.settings) meta["settings"] = set.settings->to_json().dump();
  if (set.input_rows >= 0) meta["input_rows"] = std::to_string(set.input_rows);
  Status written = write_safetensors(path, tensors, meta);
  if (!written.is_ok() && !set.ids.empty() && written.message().find("the header") != std::string::npos)
    return error(written.message() + ": the row ids take most of it; give the rows shorter ids, or write them in "
                 "several files (--shard)");
  return written;
}

}  // namespace

Status write_features(const std::string& path, const FeatureSet& set) {
  if (set.mapped_rows.empty())
    return write_features_with(path, set, make_f32_tensor("features", {set.rows, set.responses, set.dim}, set.features));
  // Rows read in place are written from where they are, rows that follow each other in one piece.
  OwnedTensor features;
  features.name = "features";
  features.shape = {set.rows, set.responses, set.dim};
  const size_t row_bytes = size_t(set.responses * set.dim) * sizeof(float);
  for (const float* row : set.mapped_rows) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(row);
    if (!features.pieces.empty() && features.pieces.back().first + features.pieces.back().second == bytes)
      features.pieces.back().second += row_bytes;
    else
      features.pieces.emplace_back(bytes, row_bytes);
  }
  return write_features_with(path, set, std::move(features));
}

Status join_feature_files(const std::vector<std::string>& files, const std::string& path, int64_t input_rows,
                          const std::optional<RunSettings>& settings) {
  if (files.empty()) return error("no features files");
  // Labels, ids and row indices of every part (a label first seen in a later part is NaN before it); the
  // features themselves stay in the mapped parts and are copied from there.
  ARB_ASSIGN(FeatureSet whole, read_features_file(files.front(), false, true));
  for (size_t f = 1; f < files.size(); ++f) {
    ARB_ASSIGN(FeatureSet more, read_features_file(files[f], false, true));
    ARB_TRY(append_features(whole, std::move(more), files.front(), files[f]));
  }
  if (!std::is_sorted(whole.row_index.begin(), whole.row_index.end())) {
    // Out of dataset order (not what one extraction writes): joined in memory, in order.
    ARB_ASSIGN(whole, read_feature_files(files));
    whole.row_digests.clear();
    whole.settings = settings;
    whole.input_rows = input_rows;
    return write_features(path, whole);
  }
  std::vector<std::shared_ptr<SafetensorsFile>> mapped;
  OwnedTensor features;
  features.name = "features";
  features.shape = {whole.rows, whole.responses, whole.dim};
  for (const std::string& file : files) {
    ARB_ASSIGN(auto part, SafetensorsFile::open(file));
    const TensorView* values = part->tensor("features");
    if (values == nullptr) return error(file + ": no tensor 'features'");
    features.pieces.emplace_back(static_cast<const uint8_t*>(values->data), size_t(values->nbytes));
    mapped.push_back(std::move(part));
  }
  whole.row_digests.clear();  // they served a resume; a finished file does not carry them
  whole.settings = settings;
  whole.input_rows = input_rows;
  return write_features_with(path, whole, std::move(features));
}

Status merge_labels_file(FeatureSet& set, const std::string& path, const std::vector<std::string>& names) {
  ARB_ASSIGN(data::JsonRowReader reader, data::JsonRowReader::open(path));
  std::unordered_map<std::string, size_t> by_id;
  for (size_t i = 0; i < set.ids.size(); ++i) by_id[set.ids[i]] = i;
  std::map<std::string, std::vector<double>> found;
  for (const std::string& name : names) found[name].assign(size_t(set.rows), NAN);
  std::vector<bool> seen(size_t(set.rows), false);
  data::JsonRow row;
  size_t count = 0;
  // A row file whose first row has no id is a dataset without ids: its rows are known by index, as the
  // features of such rows are (so the features of a --shard run find their rows).
  std::optional<bool> by_index;
  while (true) {
    ARB_ASSIGN(const bool got, reader.next(row));
    if (!got) break;
    ++count;
    size_t target = row.row_index;
    if (!by_id.empty()) {
      const bool has_id = row.value.is_object() && row.value.contains("id");
      if (!by_index) by_index = !has_id;
      if (has_id == *by_index)
        return error(reader.where(row) + (has_id ? ": has an 'id', where the rows before it have none" : ": no 'id'"));
      auto it = by_id.find(*by_index ? std::to_string(row.row_index) : id_string(row.value["id"]));
      if (it == by_id.end()) continue;  // a row the features do not hold
      target = it->second;
    } else if (target >= size_t(set.rows)) {
      return error(path + ": more rows than the features' " + std::to_string(set.rows));
    }
    if (seen[target])
      return error(reader.where(row) + ": a second row for feature row " + std::to_string(target) +
                   (set.ids.empty() ? "" : " (id '" + set.ids[target] + "')") + ": which label holds?");
    for (const std::string& name : names) {
      if (!row.value.is_object() || !row.value.contains(name) || !row.value[name].is_number())
        return error(reader.where(row) + ": field '" + name + "' missing or not a number");
      const double value = row.value[name].get<double>();
      // Labels are kept as F32 in features files: a larger one would be infinite there.
      if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max())
        return error(reader.where(row) + ": field '" + name + "' (" + row.value[name].dump() +
                     ") is outside what a label can be (a finite 32-bit float)");
      found[name][target] = value;
    }
    seen[target] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i]) continue;
    std::string why;
    if (by_index && *by_index) {
      // The features of rows without ids carry their indices as ids; other ids cannot match an index.
      const bool index_like = !set.ids[i].empty() && std::all_of(set.ids[i].begin(), set.ids[i].end(),
                                                                 [](char c) { return c >= '0' && c <= '9'; });
      why = ": the file's " + std::to_string(count) + " rows have no 'id', so each labels the feature row whose id is "
            "its index" + (index_like ? std::string(", and the file has no row ") + set.ids[i]
                                      : "; the features' rows have ids of their own: give the labels their rows' ids");
    }
    return error(path + ": no labels for feature row " + std::to_string(i) +
                 (set.ids.empty() ? " (matched by position: " + std::to_string(count) + " rows)" : " (id '" + set.ids[i] + "')") +
                 why);
  }
  for (auto& [name, values] : found) set.labels[name] = std::move(values);
  return Status::ok();
}

}  // namespace arbiter::train
