#include "convert/job_writer.h"

#include <memory>
#include <optional>

#include "convert/gguf_stream_writer.h"
#include "convert/split_plan.h"
#include "core/progress.h"

namespace arbiter {

namespace {

GgufValue u16_value(uint64_t v) {
  GgufValue value;
  value.type = GgufType::UINT16;
  value.u = v;
  return value;
}

// The metadata of file `index` of `count`: the model's in the first file only, and in every file the
// keys gguf-split writes (u16 split.no from 0 and split.count, i32 split.tensors.count of all files).
GgufMetadata split_file_metadata(const GgufMetadata& model, size_t index, size_t count, size_t tensors) {
  GgufMetadata metadata;
  if (index == 0) metadata = model;
  set_metadata(metadata, "split.no", u16_value(index));
  set_metadata(metadata, "split.count", u16_value(count));
  set_metadata(metadata, "split.tensors.count", GgufValue::from_i32(int32_t(tensors)));
  return metadata;
}

}  // namespace

Result<ConvertReport> write_gguf_jobs(const std::string& out_path, const GgufMetadata& metadata,
                                      const std::vector<TensorJob>& jobs, const std::string& progress_label,
                                      bool progress, uint64_t split_max_bytes) {
  ConvertReport report;
  std::vector<GgufTensorInfo> infos;
  std::vector<uint64_t> sizes;  // with the padding to the next tensor, as a file holds them
  for (const TensorJob& job : jobs) {
    infos.push_back({job.name, job.dtype, job.shape});
    int64_t n = 1;
    for (int64_t d : job.shape) n *= d;
    report.parameter_count += n;
    report.tensors.push_back({job.name, job.dtype, job.shape, job.type_note});
    ARB_ASSIGN(const size_t bytes, tensor_bytes(job.name, job.dtype, job.shape));
    sizes.push_back((uint64_t(bytes) + 31) / 32 * 32);
  }
  const std::vector<size_t> starts = plan_gguf_split(sizes, split_max_bytes);
  if (starts.size() > 65535) return error(out_path + ": " + std::to_string(starts.size()) + " files is more than a split model can have");
  ARB_ASSIGN(report.files, split_output_paths(out_path, starts.size()));

  std::optional<Progress> bar;
  if (progress) bar.emplace(progress_label, int64_t(jobs.size()), "tensors");
  // Every file is written and closed before any is renamed into place: all of them land, or none.
  std::vector<std::unique_ptr<GgufStreamWriter>> writers;
  for (size_t f = 0; f < starts.size(); ++f) {
    const size_t begin = starts[f], end = f + 1 < starts.size() ? starts[f + 1] : jobs.size();
    const GgufMetadata file_metadata =
        starts.size() == 1 ? metadata : split_file_metadata(metadata, f, starts.size(), jobs.size());
    std::vector<GgufTensorInfo> file_infos(infos.begin() + std::ptrdiff_t(begin), infos.begin() + std::ptrdiff_t(end));
    ARB_ASSIGN(auto writer, GgufStreamWriter::open(report.files[f], file_metadata, std::move(file_infos)));
    for (size_t t = begin; t < end; ++t) {
      ARB_ASSIGN(std::vector<uint8_t> bytes, encode_tensor(jobs[t], global_thread_pool()));
      ARB_TRY(writer->write_next(bytes.data(), bytes.size()));
      report.bytes += bytes.size();
      if (bar) bar->advance(1);
    }
    ARB_TRY(writer->close());
    writers.push_back(std::move(writer));
  }
  for (auto& writer : writers) ARB_TRY(writer->commit());
  if (bar) bar->finish();
  return report;
}

}  // namespace arbiter
