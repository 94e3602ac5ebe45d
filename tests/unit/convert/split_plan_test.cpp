// Cutting a model's tensors into files of a maximum size, and reading the size option.
#include <gtest/gtest.h>

#include "convert/split_plan.h"

namespace arbiter {
namespace {

TEST(SplitPlan, FilesHoldWholeTensorsUpToTheLimit) {
  EXPECT_EQ(plan_gguf_split({10, 10, 10, 10}, 0), (std::vector<size_t>{0}));
  EXPECT_EQ(plan_gguf_split({10, 10, 10, 10}, 40), (std::vector<size_t>{0}));
  EXPECT_EQ(plan_gguf_split({10, 10, 10, 10}, 20), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(plan_gguf_split({10, 10, 10, 10}, 25), (std::vector<size_t>{0, 2}));
  // A tensor over the limit gets a file of its own; no file is empty.
  EXPECT_EQ(plan_gguf_split({5, 100, 5, 5}, 20), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(plan_gguf_split({100}, 20), (std::vector<size_t>{0}));
  EXPECT_EQ(plan_gguf_split({}, 20), (std::vector<size_t>{0}));
}

TEST(SplitPlan, SizesReadAsGgufSplitAndTheHubCount) {
  EXPECT_EQ(*parse_byte_size("123456"), 123456u);
  EXPECT_EQ(*parse_byte_size("5G"), 5000000000u);
  EXPECT_EQ(*parse_byte_size("5GB"), 5000000000u);
  EXPECT_EQ(*parse_byte_size("500M"), 500000000u);
  EXPECT_EQ(*parse_byte_size("1.5G"), 1500000000u);
  EXPECT_EQ(*parse_byte_size("2GiB"), 2147483648u);
  EXPECT_EQ(*parse_byte_size("64Ki"), 65536u);
  for (const char* bad : {"", "G", "-1G", "0", "1e9", "0x10", "1..5G", "5 G", "5X", "inf", "."}) {
    auto r = parse_byte_size(bad);
    EXPECT_FALSE(r.is_ok()) << bad;
  }
}

TEST(SplitPlan, OutputNamesFollowGgufSplit) {
  EXPECT_EQ(*split_output_paths("m.gguf", 1), (std::vector<std::string>{"m.gguf"}));
  EXPECT_EQ(*split_output_paths("dir/m.gguf", 2),
            (std::vector<std::string>{"dir/m-00001-of-00002.gguf", "dir/m-00002-of-00002.gguf"}));
  EXPECT_FALSE(split_output_paths("m.bin", 2).is_ok());
  EXPECT_FALSE(split_output_paths("m-00001-of-00002.gguf", 2).is_ok());
}

}  // namespace
}  // namespace arbiter
