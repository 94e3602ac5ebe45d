// Reading dataset rows: the same rows as Parquet (three writers' layouts: SNAPPY dictionary pages, ZSTD
// lists, GZIP v2 pages) and as the JSONL they were written from, through JsonRowReader, which every
// command uses. Rates are rows/s and bytes of the JSONL text per second, so the two formats compare on
// the same content.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "data/json_rows.h"

namespace {

const char* const kFixtures[] = {"rewardbench_snappy", "rewardbench2_zstd", "helpsteer2_gzip"};

void BM_ReadRows(benchmark::State& state) {
  const std::string name = kFixtures[state.range(0)];
  const bool parquet = state.range(1) == 1;
  const std::string dir = std::string(ARBITER_TEST_DATA_DIR) + "/parquet/";
  const std::string path = dir + name + (parquet ? ".parquet" : ".expected.jsonl");
  const auto text_bytes = int64_t(std::filesystem::file_size(dir + name + ".expected.jsonl"));
  int64_t rows = 0;
  for (auto _ : state) {
    auto reader = arbiter::data::JsonRowReader::open(path);
    if (!reader) {
      state.SkipWithError(reader.message().c_str());
      return;
    }
    arbiter::data::JsonRow row;
    while (true) {
      auto got = reader->next(row);
      if (!got) {
        state.SkipWithError(got.message().c_str());
        return;
      }
      if (!*got) break;
      benchmark::DoNotOptimize(row.value);
      ++rows;
    }
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(int64_t(state.iterations()) * text_bytes);
  state.SetLabel(name + (parquet ? " parquet" : " jsonl"));
}

BENCHMARK(BM_ReadRows)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"file", "parquet"})->Unit(benchmark::kMicrosecond);

}  // namespace
