// hf:// shorthand, URL origins and cache file names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "../../support/scratch_root.h"
#include "fetch/cache.h"
#include "fetch/fetch.h"
#include "fetch/source.h"

namespace arbiter::fetch {
namespace {

std::string resolved(const std::string& source, const std::string& endpoint = kHuggingFaceEndpoint) {
  auto url = resolve_source(source, endpoint);
  return url.is_ok() ? *url : "error: " + url.message();
}

TEST(Source, HuggingFaceModelFile) {
  EXPECT_EQ(resolved("hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf"),
            "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf");
}

TEST(Source, HuggingFaceRevisionAndNestedPath) {
  EXPECT_EQ(resolved("hf://org/repo@v1.0/sub/dir/model.gguf"), "https://huggingface.co/org/repo/resolve/v1.0/sub/dir/model.gguf");
  EXPECT_EQ(resolved("hf://org/repo@0123abc/a.bin"), "https://huggingface.co/org/repo/resolve/0123abc/a.bin");
}

TEST(Source, HuggingFaceDatasetFile) {
  EXPECT_EQ(resolved("hf://datasets/nvidia/HelpSteer2/validation.jsonl.gz"),
            "https://huggingface.co/datasets/nvidia/HelpSteer2/resolve/main/validation.jsonl.gz");
  EXPECT_EQ(resolved("hf://datasets/nvidia/HelpSteer2@refs%2Fpr%2F1/preference/preference.jsonl.gz"),
            "https://huggingface.co/datasets/nvidia/HelpSteer2/resolve/refs%2Fpr%2F1/preference/preference.jsonl.gz");
  EXPECT_EQ(resolved("hf://spaces/org/app/\xc3\xa9#.txt"), "https://huggingface.co/spaces/org/app/resolve/main/%C3%A9%23.txt");
}

TEST(Source, HuggingFaceMirrorEndpoint) {
  EXPECT_EQ(resolved("hf://a/b/c.txt", "http://127.0.0.1:8080/"), "http://127.0.0.1:8080/a/b/resolve/main/c.txt");
}

TEST(Source, PlainUrlsPassThrough) {
  EXPECT_EQ(resolved("https://example.org/x.gguf?download=1"), "https://example.org/x.gguf?download=1");
  EXPECT_EQ(resolved("HTTP://127.0.0.1:9/y"), "HTTP://127.0.0.1:9/y");
}

TEST(Source, RejectsWhatItCannotFetch) {
  for (const char* bad : {"ftp://host/file", "file:///etc/passwd", "model.gguf", "hf://org/repo", "hf://datasets/org/repo",
                          "hf://org//file", "hf://org/repo/../x", "hf://org/repo@/x", "https://", "https://host/a b"}) {
    auto url = resolve_source(bad);
    EXPECT_FALSE(url.is_ok()) << bad << " -> " << (url.is_ok() ? *url : "");
  }
  auto url = resolve_source("hf://org/repo");
  EXPECT_NE(url.message().find("hf://org/repo"), std::string::npos);
}

TEST(Source, Origins) {
  EXPECT_EQ(url_origin("https://HuggingFace.co/a/b"), "https://huggingface.co");
  EXPECT_EQ(url_origin("https://huggingface.co:443/a"), "https://huggingface.co");
  EXPECT_EQ(url_origin("http://127.0.0.1:8080?x"), "http://127.0.0.1:8080");
  EXPECT_EQ(url_origin("http://user:pw@host:80/"), "http://host");
  EXPECT_NE(url_origin("https://huggingface.co.evil.org/"), url_origin("https://huggingface.co/"));
  EXPECT_EQ(url_origin("ftp://host/"), "");
}

TEST(Source, FileNames) {
  EXPECT_EQ(url_file_name("https://h/org/repo/resolve/main/model-q8_0.gguf?download=true"), "model-q8_0.gguf");
  EXPECT_EQ(url_file_name("https://h/dir/"), "dir");
  EXPECT_EQ(url_file_name("https://h"), "download");
  EXPECT_EQ(url_file_name("https://h/a%20b.txt"), "a_20b.txt");
  EXPECT_EQ(url_file_name("https://h/.."), "download");
}

TEST(Cache, EntryIsKeyedByTheWholeUrl) {
  const std::string a = cache_entry_path("/c/", "https://h/org/repo/resolve/main/m.gguf");
  const std::string b = cache_entry_path("/c", "https://h/org/repo/resolve/v2/m.gguf");
  EXPECT_EQ(a.substr(0, 3), "/c/");
  EXPECT_EQ(a.size(), std::string("/c/").size() + 16 + std::string("/m.gguf").size());
  EXPECT_EQ(a.substr(a.size() - 7), "/m.gguf");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, cache_entry_path("/c", "https://h/org/repo/resolve/main/m.gguf"));
}

TEST(Cache, DefaultDirectoryFollowsTheEnvironment) {
  auto saved = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string("\x01");
  };
  const std::string arbiter = saved("ARBITER_CACHE"), xdg = saved("XDG_CACHE_HOME"), home = saved("HOME");
  setenv("ARBITER_CACHE", "/tmp/a", 1);
  setenv("XDG_CACHE_HOME", "/tmp/x", 1);
  setenv("HOME", "/tmp/h", 1);
  EXPECT_EQ(*default_cache_dir(), "/tmp/a");
  unsetenv("ARBITER_CACHE");
  EXPECT_EQ(*default_cache_dir(), "/tmp/x/arbiter");
  setenv("XDG_CACHE_HOME", "relative", 1);
  EXPECT_EQ(*default_cache_dir(), "/tmp/h/.cache/arbiter");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  EXPECT_FALSE(default_cache_dir().is_ok());
  auto restore = [](const char* name, const std::string& v) {
    if (v == "\x01") unsetenv(name);
    else setenv(name, v.c_str(), 1);
  };
  restore("ARBITER_CACHE", arbiter);
  restore("XDG_CACHE_HOME", xdg);
  restore("HOME", home);
}

}  // namespace
}  // namespace arbiter::fetch

namespace arbiter::fetch {
namespace {

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Without HF_TOKEN, the token a Hugging Face login saved is used, found where huggingface_hub looks.
TEST(HfToken, TheSavedLoginIsReadWhereHuggingFaceHubKeepsIt) {
  const std::filesystem::path home = arbiter::test::scratch_root() / "hf-token-home";
  std::filesystem::create_directories(home / ".cache" / "huggingface");
  std::ofstream(home / ".cache" / "huggingface" / "token") << "hf_saved_login\n";
  ScopedEnv token("HF_TOKEN", nullptr), path("HF_TOKEN_PATH", nullptr), hf_home("HF_HOME", nullptr),
      xdg("XDG_CACHE_HOME", nullptr), user_home("HOME", home.c_str());
  FetchOptions options;
  apply_environment(options);
  EXPECT_EQ(options.hf_token, "hf_saved_login");

  // HF_HOME, then HF_TOKEN_PATH, take precedence; HF_TOKEN over all.
  std::filesystem::create_directories(home / "hf");
  std::ofstream(home / "hf" / "token") << "hf_from_hf_home";
  {
    ScopedEnv set_home("HF_HOME", (home / "hf").c_str());
    FetchOptions o;
    apply_environment(o);
    EXPECT_EQ(o.hf_token, "hf_from_hf_home");
    std::ofstream(home / "elsewhere") << "  hf_from_path  \n";
    ScopedEnv set_path("HF_TOKEN_PATH", (home / "elsewhere").c_str());
    FetchOptions p;
    apply_environment(p);
    EXPECT_EQ(p.hf_token, "hf_from_path");
    ScopedEnv set_token("HF_TOKEN", "hf_env");
    FetchOptions e;
    apply_environment(e);
    EXPECT_EQ(e.hf_token, "hf_env");
  }
  // No saved login: no token.
  ScopedEnv nowhere("HOME", (home / "nobody").c_str());
  FetchOptions none;
  apply_environment(none);
  EXPECT_EQ(none.hf_token, "");
}

}  // namespace
}  // namespace arbiter::fetch
