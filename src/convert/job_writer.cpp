#include "convert/job_writer.h"

#include <optional>

#include "convert/gguf_stream_writer.h"
#include "core/progress.h"

namespace arbiter {

Result<ConvertReport> write_gguf_jobs(const std::string& out_path, const GgufMetadata& metadata,
                                      const std::vector<TensorJob>& jobs, const std::string& progress_label,
                                      bool progress) {
  ConvertReport report;
  std::vector<GgufTensorInfo> infos;
  for (const TensorJob& job : jobs) {
    infos.push_back({job.name, job.dtype, job.shape});
    int64_t n = 1;
    for (int64_t d : job.shape) n *= d;
    report.parameter_count += n;
    report.tensors.push_back({job.name, job.dtype, job.shape, job.type_note});
  }
  ARB_ASSIGN(auto writer, GgufStreamWriter::open(out_path, metadata, std::move(infos)));
  std::optional<Progress> bar;
  if (progress) bar.emplace(progress_label, int64_t(jobs.size()), "tensors");
  for (const TensorJob& job : jobs) {
    ARB_ASSIGN(std::vector<uint8_t> bytes, encode_tensor(job, global_thread_pool()));
    ARB_TRY(writer->write_next(bytes.data(), bytes.size()));
    report.bytes += bytes.size();
    if (bar) bar->advance(1);
  }
  ARB_TRY(writer->finish());
  if (bar) bar->finish();
  return report;
}

}  // namespace arbiter
