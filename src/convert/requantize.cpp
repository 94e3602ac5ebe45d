// arbiter quantize: a GGUF file -> the same model in another type, tensor by tensor.
#include <filesystem>

#include "convert/convert.h"
#include "convert/job_writer.h"
#include "convert/metadata.h"
#include "convert/quant_plan.h"
#include "core/same_file.h"
#include "io/gguf.h"
#include "io/gguf_split_name.h"

namespace arbiter {

Result<ConvertReport> quantize_gguf(const std::string& in_path, const std::string& out_path,
                                    const QuantizeOptions& options) {
  ARB_ASSIGN(const OutputType type, parse_output_type(options.type));
  if (in_path == out_path) return error(out_path + ": the output must not overwrite the input");
  ARB_ASSIGN(auto gguf, GgufFile::open(in_path));
  // Nor any file of a split input: the same name, or a split output named as the input's files are.
  const std::string out_prefix = out_path.size() > 5 ? out_path.substr(0, out_path.size() - 5) : out_path;
  for (const std::string& file : gguf->files()) {
    const auto split = parse_gguf_split_name(file);
    if (same_place(file, out_path) || (split && options.split_max_bytes > 0 && same_place(split->prefix, out_prefix)))
      return error(out_path + ": the output must not overwrite the input (" + file + ")");
  }
  const std::string arch = gguf->get_string("general.architecture").value_or("");
  const int64_t n_layers = gguf->get_int(arch + ".block_count").value_or(0);
  const bool has_output = gguf->tensor("output.weight") != nullptr;
  // Query heads per key/value head (1 when the file does not say, as for models without grouping).
  const int64_t heads = gguf->get_int(arch + ".attention.head_count").value_or(1);
  const int64_t kv_heads = gguf->get_int(arch + ".attention.head_count_kv").value_or(heads);
  const int64_t query_heads_per_kv_head = kv_heads > 0 ? heads / kv_heads : 1;

  std::vector<TensorJob> jobs;
  for (const TensorView& t : gguf->tensors()) {
    TensorJob job;
    job.name = t.name;
    job.source = &t;
    job.source_name = in_path + ": " + t.name;
    job.shape = t.shape;
    const TensorTypeChoice choice = choose_tensor_type(type, t.name, t.shape, n_layers, has_output, query_heads_per_kv_head);
    job.dtype = choice.dtype;
    job.type_note = choice.note;
    jobs.push_back(std::move(job));
  }
  GgufMetadata metadata = gguf->metadata();
  set_metadata(metadata, "general.file_type", GgufValue::from_u32(type.file_type));
  set_metadata(metadata, "general.quantization_version", GgufValue::from_u32(2));
  return write_gguf_jobs(out_path, metadata, jobs, "quantize", options.progress, options.split_max_bytes);
}

}  // namespace arbiter
