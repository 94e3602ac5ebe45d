// SHA-256 against the FIPS 180-2 appendix B examples (one block, two blocks, a million 'a'); git blob ids
// against git's own (`git hash-object`).
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

std::string write_scratch(const std::string& name, const std::string& bytes) {
  const std::string path = (arbiter::test::scratch_root() / name).string();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return "";
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return path;
}

TEST(GitBlobId, AsGitNamesTheBytes) {
  // The empty blob's id is the one every git repository knows; "hi" as `printf hi | git hash-object --stdin`.
  const std::string empty = write_scratch("arbiter_git_blob_empty", "");
  const std::string hi = write_scratch("arbiter_git_blob_hi", "hi");
  ASSERT_FALSE(empty.empty());
  EXPECT_EQ(git_blob_id_file(empty).value(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  EXPECT_EQ(git_blob_id_file(hi).value(), "32f95c0d1244a78b2be1bab8de17906fabb2c4a8");
  EXPECT_FALSE(git_blob_id_file("/nonexistent/arbiter/blob").is_ok());
  EXPECT_TRUE(is_git_blob_id("32F95C0D1244A78B2BE1BAB8DE17906FABB2C4A8"));
  EXPECT_FALSE(is_git_blob_id("32f95c0d1244a78b2be1bab8de17906fabb2c4a"));
  std::filesystem::remove(empty);
  std::filesystem::remove(hi);

  // Across the 1 MiB read buffer, against git itself where it is installed.
  std::string bytes;
  for (int i = 0; i < 1500000; ++i) bytes += char('a' + (i * 7) % 26);
  const std::string big = write_scratch("arbiter_git_blob_big", bytes);
  FILE* git = ::popen(("git hash-object '" + big + "' 2>/dev/null").c_str(), "r");
  char line[64] = {0};
  const bool answered = git != nullptr && std::fgets(line, sizeof line, git) != nullptr;
  if (git != nullptr) ::pclose(git);
  const std::string ours = git_blob_id_file(big).value();
  std::filesystem::remove(big);
  if (!answered) GTEST_SKIP() << "git is not installed";
  EXPECT_EQ(ours, std::string(line, 40));
}

}  // namespace
}  // namespace arbiter::fetch
