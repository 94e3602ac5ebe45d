// Models split across several GGUF files, as llama.cpp's gguf-split writes them and as large models are
// published (Qwen's own GGUF releases split most files): NAME-00001-of-00003.gguf holds the metadata and
// perhaps some tensors, the later files hold only the split keys and their tensors. Every file carries
// split.no (its index from 0), split.count and split.tensors.count (the tensors of all files together).
//
// The files open as one GgufFile: the first file's metadata without the split keys (a quantized copy is
// then one whole file), every file's tensors in file order, each file kept mapped while the model lives.
#include <filesystem>
#include <string>

#include "io/gguf.h"
#include "io/gguf_parse.h"
#include "io/gguf_split_name.h"

namespace arbiter {

namespace {

constexpr const char* kSplitNo = "split.no";
constexpr const char* kSplitCount = "split.count";
constexpr const char* kSplitTensorsCount = "split.tensors.count";

// split.no and split.count of one file, checked; `count` is the first file's when given.
Status read_split_keys(const GgufFile& file, int64_t& index, int64_t& count) {
  const std::optional<int64_t> no = file.get_int(kSplitNo);
  const std::optional<int64_t> of = file.get_int(kSplitCount);
  if (!no) return error(file.path() + ": a split model's file without an integer '" + std::string(kSplitNo) + "'");
  if (!of) return error(file.path() + ": a split model's file without an integer '" + std::string(kSplitCount) + "'");
  // gguf-split writes both as u16; far beyond that is a corrupt file, not a model in 100,000 pieces.
  if (*of < 1 || *of > 65535)
    return error(file.path() + ": '" + std::string(kSplitCount) + "' is " + std::to_string(*of));
  if (*no < 0 || *no >= *of)
    return error(file.path() + ": '" + std::string(kSplitNo) + "' is " + std::to_string(*no) + " of " +
                 std::to_string(*of) + " files");
  index = *no;
  count = *of;
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<GgufFile>> GgufFile::join_shards(std::shared_ptr<GgufFile> first) {
  int64_t index = 0, count = 0;
  ARB_TRY(read_split_keys(*first, index, count));
  const std::string& path = first->path_;
  const std::optional<GgufSplitName> name = parse_gguf_split_name(path);
  if (!name || name->index != index || name->count != count) {
    if (count == 1 && index == 0) return first;  // one whole file that carries split keys
    return error(path + ": file " + std::to_string(index + 1) + " of a model split in " + std::to_string(count) +
                 ", but its name does not end in '" + gguf_split_name("", index, count) +
                 "', so its other files cannot be found");
  }
  if (index != 0) {
    return error(path + ": file " + std::to_string(index + 1) + " of a model split in " + std::to_string(count) +
                 ": open the first, " + gguf_split_name(name->prefix, 0, count));
  }

  for (int64_t i = 1; i < count; ++i) {
    const std::string shard_path = gguf_split_name(name->prefix, i, count);
    std::error_code ec;
    if (!std::filesystem::exists(shard_path, ec)) {
      return error(path + ": file " + std::to_string(i + 1) + " of the " + std::to_string(count) +
                   " it is split in is missing: " + shard_path);
    }
    // A later file is a GGUF of its own; open() on it would try to join again, so parse it as it is.
    ARB_ASSIGN(std::shared_ptr<MappedFile> mapped, MappedFile::open(shard_path));
    const uint8_t* data = mapped->data();
    const size_t size = mapped->size();
    ARB_ASSIGN(std::shared_ptr<GgufFile> shard, parse_gguf(data, size, shard_path, std::move(mapped)));
    int64_t shard_index = 0, shard_count = 0;
    ARB_TRY(read_split_keys(*shard, shard_index, shard_count));
    if (shard_index != i || shard_count != count) {
      return error(shard_path + ": says it is file " + std::to_string(shard_index + 1) + " of " +
                   std::to_string(shard_count) + ", where its name makes it file " + std::to_string(i + 1) + " of " +
                   std::to_string(count));
    }
    for (const TensorView& view : shard->tensors_) {
      if (first->tensor_index_.count(view.name)) {
        return error(shard_path + ": tensor '" + view.name + "' is also in an earlier file of " + path);
      }
      first->tensor_index_.emplace(view.name, first->tensors_.size());
      first->tensors_.push_back(view);
    }
    first->shards_.push_back(std::move(shard));
  }

  if (const std::optional<int64_t> expected = first->get_int(kSplitTensorsCount);
      expected && *expected != int64_t(first->tensors_.size())) {
    return error(path + ": '" + std::string(kSplitTensorsCount) + "' is " + std::to_string(*expected) + ", but its " +
                 std::to_string(count) + " files hold " + std::to_string(first->tensors_.size()) + " tensors");
  }

  // What describes the split describes these files, not the model: a copy written from it is one file.
  std::erase_if(first->metadata_, [](const auto& entry) { return entry.first.rfind("split.", 0) == 0; });
  first->metadata_index_.clear();
  for (size_t i = 0; i < first->metadata_.size(); ++i) first->metadata_index_.emplace(first->metadata_[i].first, i);
  return first;
}

}  // namespace arbiter
