// The features file that `arbiter features` writes and `arbiter train head` reads (docs/formats.md,
// "Features files"): safetensors with
//   features   F32 [N, R, d]   hidden state of each of R responses per row (R = 1 rated rows, 2 pairs)
//   label.<n>  F32 [N]         optional labels (helpfulness, ..., preference_strength)
//   row_index  I32 [N]         optional: the row's index in the dataset
// and __metadata__ "ids" (JSON array of strings), "layer", "model", "model_fingerprint", "model_commit" (a pulled model's Hub commit), "labels" (JSON
// array of names), "settings" (the options of the extraction, core/run_settings.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/run_settings.h"
#include "core/model_digests.h"
#include "core/status.h"

namespace arbiter::train {

struct FeatureSet {
  int64_t rows = 0;       // N
  int64_t responses = 0;  // R
  int64_t dim = 0;        // d
  // [N, R, d] held in memory: a set built here (an extraction), or read from a file whose values are not
  // aligned for reading in place. A set read from features files leaves it empty and reads them in place:
  std::vector<float> features;
  // where each row's [R, d] values start in the files, mapped into memory and kept open by `mapped_files`.
  // A set of any size then costs a pointer a row, and the page cache what training reads of it.
  std::vector<const float*> mapped_rows;                // [N] or empty
  std::vector<std::shared_ptr<const void>> mapped_files;
  std::map<std::string, std::vector<double>> labels;  // name -> [N]
  std::vector<std::string> ids;                       // [N] or empty
  std::vector<int32_t> row_index;                     // [N] or empty
  // [N] or empty: a fingerprint of each feature row's dataset row. Checkpoint parts carry them, so that a
  // resumed extraction notices a dataset that changed under it; finished files do not.
  std::vector<std::string> row_digests;
  // [N] or empty (files written before they were kept): a fingerprint of each feature row's prompt (the
  // turns before its responses), so that a split keeps every response to one prompt on one side; rows
  // without a prompt (token ids) get their dataset row's own.
  std::vector<int64_t> prompt_hashes;
  // A finished extraction's count of the input's rows it reached (rows 0 .. input_rows - 1, its failed
  // ones included): what tells a resume whether a longer input or a larger --limit asks for more. -1 in
  // parts, in joined training sets, and in files written before it was kept.
  int64_t input_rows = -1;
  std::string layer, model;
  // model/fingerprint.h's of the model the features came from ("" in files written before it was kept):
  // what tells two extractions apart, where the model's path (another node's cache) may differ.
  std::string model_fingerprint;
  // Where the model was pulled from the Hub: the commit(s) it was served at (comma-separated), and `model`
  // is the source as given (hf://ORG/REPO...) rather than the cache's path. Empty otherwise.
  std::string model_commit;
  // model/fingerprint.h's digests of the model's own chat template (where it formatted the rows), its
  // tokenizer files and its configuration: metadata "model_digests"; empty in files written before.
  ModelDigests model_digests;
  // The options `arbiter features` was given that decide the features (formatting, layer, steps); none in
  // files written before they were kept. Shards and checkpoint parts of one extraction agree on them.
  std::optional<RunSettings> settings;

  // Whether `other` came from the same model: by fingerprint where both have one, else by path.
  bool same_model_as(const FeatureSet& other) const {
    return !model_fingerprint.empty() && !other.model_fingerprint.empty() ? model_fingerprint == other.model_fingerprint
                                                                          : model == other.model;
  }

  // Row `row`'s response `response`: d values.
  const float* at(int64_t row, int64_t response) const {
    const float* values = mapped_rows.empty() ? features.data() + row * responses * dim : mapped_rows[size_t(row)];
    return values + response * dim;
  }
  // Every value, [N, R, d], wherever they are kept.
  std::vector<float> values() const;
};

// Checks shapes, dtypes and metadata; errors name the file and the tensor or key. A quoted pattern
// ('feats.*.safetensors': the files of `arbiter features --shard K/N`) reads every match in name order as
// one set (read_feature_files), whose files must hold each row id once.
Result<FeatureSet> read_features(const std::string& path);
// Several files, in order, as one set: they must come from one extraction (model, layer, responses and
// width alike; ids and row indices in all or none); a label a file lacks is NaN for its rows.
Result<FeatureSet> read_feature_files(const std::vector<std::string>& files);
Status write_features(const std::string& path, const FeatureSet& set);
// Checkpoint parts of one extraction joined into one file at `path` (with `settings` and `input_rows`),
// their features copied from the mapped parts rather than held in memory: memory holds the labels and ids,
// not the set.
Status join_feature_files(const std::vector<std::string>& files, const std::string& path, int64_t input_rows,
                          const std::optional<RunSettings>& settings);
// One file's shapes (rows, responses, dim), ids, row indices and metadata, without its values (features and
// labels are left empty): what is needed to tell which extraction wrote it, at the cost of its header.
Result<FeatureSet> read_features_header(const std::string& path);

// Labels from a row file (JSONL / JSON, optionally .gz) for the given names: rows are matched to feature
// rows by their "id" when the features carry ids (every feature id must be found), else by position (the
// counts must agree). Adds or replaces set.labels[name]; a missing or non-numeric field names the row.
Status merge_labels_file(FeatureSet& set, const std::string& path, const std::vector<std::string>& names);

}  // namespace arbiter::train
