// libFuzzer target: the Parquet reader on arbitrary bytes, every row read until the end or the first
// error. Reading must never crash, hang or read outside the input, whatever the footer, page headers,
// levels, encodings or compressed pages claim.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/parquet/file_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto reader = arbiter::data::parquet::ParquetRowReader::from_bytes(std::vector<uint8_t>(data, data + size),
                                                                     "fuzz.parquet");
  if (!reader.is_ok()) return 0;
  nlohmann::json row;
  for (int64_t n = 0; n <= reader->num_rows(); ++n) {
    auto got = reader->next(row);
    if (!got.is_ok() || !*got) return 0;
  }
  __builtin_trap();  // more rows than the footer declares
}
