// SHA-256 against the FIPS 180-2 appendix B examples (one block, two blocks, a million 'a').
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "fetch/sha256.h"
#include "../../support/scratch_root.h"

namespace arbiter::fetch {
namespace {

TEST(Sha256, FipsExamples) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, FileOfAMillionAcrossReadBuffers) {
  const std::string path = (arbiter::test::scratch_root() / "arbiter_sha256_test.bin").string();
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const std::string a(1000000, 'a');
  std::fwrite(a.data(), 1, a.size(), f);
  std::fclose(f);
  auto hex = sha256_file(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(hex.is_ok()) << hex.message();
  EXPECT_EQ(*hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StoriesModelMatchesItsPublishedHash) {
  auto hex = sha256_file(ARBITER_SHARED_DIR "/models/stories260K/stories260K.gguf");
  ASSERT_TRUE(hex.is_ok()) << hex.message();
  // The sha256 recorded in shared/models/stories260K/README.md.
  EXPECT_EQ(*hex, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
}

TEST(Sha256, MissingFileNamesThePath) {
  auto hex = sha256_file("/nonexistent/arbiter/file.bin");
  ASSERT_FALSE(hex.is_ok());
  EXPECT_NE(hex.message().find("/nonexistent/arbiter/file.bin"), std::string::npos);
}

TEST(Sha256, HexValidation) {
  EXPECT_TRUE(is_sha256_hex("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"));
  EXPECT_TRUE(is_sha256_hex("270CBA1BD5109F42D03350F60406024560464DB173C0E387D91F0426D3BD256D"));
  EXPECT_FALSE(is_sha256_hex("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256"));
  EXPECT_FALSE(is_sha256_hex("z70cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"));
}

}  // namespace
}  // namespace arbiter::fetch
