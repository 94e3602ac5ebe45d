// Cutting a GGUF model into files of at most a given size, as llama.cpp's gguf-split does (hosting sites
// cap a file's size: the Hugging Face Hub at 50 GB). Tensors stay whole and in order; a tensor larger
// than the limit gets a file of its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter {

// The index of the first tensor of each file, for tensors of these sizes (in bytes, padding included)
// and files of at most `max_bytes` of tensor data (0: one file). Never an empty file.
std::vector<size_t> plan_gguf_split(const std::vector<uint64_t>& tensor_bytes, uint64_t max_bytes);

// "5G", "500M", "1.5G", "2GiB", "123456" (bytes): K, M, G, T are powers of 1000 (as gguf-split and the
// Hub count), KiB, MiB, GiB, TiB of 1024; a trailing "B" is allowed. An error names the text.
Result<uint64_t> parse_byte_size(const std::string& text);

// The files of OUT when split into `count` (OUT must end in .gguf): OUT itself for one, else
// PREFIX-00001-of-0000N.gguf, ... An OUT that is already such a name is an error (it would nest).
Result<std::vector<std::string>> split_output_paths(const std::string& out_path, size_t count);

}  // namespace arbiter
