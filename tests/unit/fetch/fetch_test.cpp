// Downloads from a loopback HTTP server started inside the test (127.0.0.1, ephemeral port): full download
// with checksum, wrong checksum, resume after a dropped connection, a server that ignores Range, 404,
// redirects, cache hits, the Hugging Face token, and the CLI's stdout.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fetch/cache.h"
#include "fetch/fetch.h"
#include "fetch/hf_model.h"
#include "model/model.h"
#include "train/features_file.h"
#include "train/reward_head.h"
#include "../../support/hub_records.h"
#include "../../support/scratch_root.h"

namespace arbiter::fetch {
namespace {

namespace fs = std::filesystem;

const char* const kStoriesPath = ARBITER_SHARED_DIR "/models/stories260K/stories260K.gguf";
// From shared/models/stories260K/README.md.
const char* const kStoriesSha256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
constexpr size_t kCutAfter = 1 << 20;  // the flaky route drops the connection after this many bytes

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// 3 MiB of seeded pseudo-random bytes: large enough to arrive in many writes, to be cut, and resumed.
std::string big_payload() {
  std::mt19937 rng(1234);
  std::string bytes(3 << 20, '\0');
  for (char& c : bytes) c = char(rng() & 0xff);
  return bytes;
}

// The commit the mock Hub's branches are at.
constexpr const char* kBranchCommit = "0123456789abcdef0123456789abcdef01234567";

struct Request {
  std::string path, range, authorization, method, if_range;
};

class LoopbackServer {
 public:
  LoopbackServer() {
    files_["stories260K.gguf"] = read_file(kStoriesPath);
    files_["big.bin"] = big_payload();
    // A model split in three files as gguf-split names them, and one whose second file is missing.
    for (int i = 1; i <= 3; ++i) files_["m-0000" + std::to_string(i) + "-of-00003.gguf"] = "file " + std::to_string(i);
    files_["lone-00001-of-00002.gguf"] = "file 1";
    // Model repositories: the sharded and the whole Qwen2 fixtures as published, one with a config and
    // PyTorch weights only, one whose index names a file outside the repository's folder.
    for (const auto& [repo, fixture] : {std::pair<std::string, std::string>{"org/sharded", "qwen2-sharded"}, {"org/whole", "qwen2"}})
      for (const auto& entry : fs::directory_iterator(std::string(ARBITER_SHARED_DIR) + "/fixtures/hf/" + fixture))
        if (entry.path().filename() != "ref.safetensors")
          files_[repo + "/" + entry.path().filename().string()] = read_file(entry.path().string());
    files_["org/pairs/pairs.jsonl"] = R"({"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."})" "\n";
    files_["org/pytorch/config.json"] = "{}";
    files_["org/pytorch/pytorch_model.bin"] = "weights";
    files_["org/escape/config.json"] = "{}";
    files_["org/escape/model.safetensors.index.json"] = R"({"weight_map": {"w": "../../outside.safetensors"}})";
    // Served with a content provider, so httplib answers Range requests with 206.
    server_.Get("/files/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      serve(req.matches[1], res, /*cut=*/false);
    });
    // The first request is cut after kCutAfter bytes (the connection closes mid-body); later ones are whole.
    server_.Get("/flaky/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
      const bool first = record(req) == 1;
      serve(req.matches[1], res, first);
    });
    // Ignores Range: always the whole file with 200.
    server_.Get("/norange/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      auto it = files_.find(req.matches[1]);
      if (it == files_.end()) return void(res.status = 404);
      res.status = 200;
      const std::string* body = &it->second;
      res.set_chunked_content_provider("application/octet-stream", [body](size_t offset, httplib::DataSink& sink) {
        const size_t n = std::min<size_t>(64 << 10, body->size() - offset);
        sink.write(body->data() + offset, n);
        if (offset + n == body->size()) sink.done();
        return true;
      });
    });
    // As a Hugging Face endpoint answers for an LFS file: X-Linked-Etag holds its SHA-256 (here the right
    // one, a wrong one, or a 40-digit git blob id, which is not a SHA-256).
    for (const auto& [route, etag] : {std::pair<std::string, std::string>{"/lfs/", std::string(kStoriesSha256)},
                                      {"/badlfs/", std::string(64, 'a')},
                                      {"/gitblob/", std::string(40, 'b')}}) {
      server_.Get(route + "([^/]+)", [this, etag](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.set_header("X-Linked-Etag", "\"" + etag + "\"");
        serve(req.matches[1], res, false);
      });
    }
    // A file that may be replaced between requests, with a strong ETag of its content; the first request is
    // cut as /flaky/'s is. /versioned/ honours If-Range (a validator of another version gets the whole new
    // file, 200); /versioned-no-if-range/ ignores it and answers the range of whatever it holds now.
    for (const bool honours_if_range : {true, false}) {
      const std::string route = honours_if_range ? "/versioned/" : "/versioned-no-if-range/";
      server_.Get(route + "([^/]+)", [this, honours_if_range](const httplib::Request& req, httplib::Response& res) {
        const bool first = record(req) == 1;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = files_.find(req.matches[1]);
        if (it == files_.end()) return void(res.status = 404);
        const std::string etag = "\"" + std::to_string(std::hash<std::string>{}(it->second)) + "\"";
        res.set_header("ETag", etag);
        const bool stale = req.has_header("If-Range") && req.get_header_value("If-Range") != etag;
        if (honours_if_range && req.has_header("Range") && stale) {
          auto body = std::make_shared<std::string>(it->second);
          res.status = 200;
          res.set_chunked_content_provider("application/octet-stream", [body](size_t offset, httplib::DataSink& sink) {
            const size_t n = std::min<size_t>(64 << 10, body->size() - offset);
            sink.write(body->data() + offset, n);
            if (offset + n == body->size()) sink.done();
            return true;
          });
          return;
        }
        auto body = std::make_shared<std::string>(it->second);
        res.set_content_provider(body->size(), "application/octet-stream",
                                 [body, first](size_t offset, size_t length, httplib::DataSink& sink) {
                                   if (first && offset >= kCutAfter) return false;
                                   size_t n = std::min<size_t>(length, 64 << 10);
                                   if (first) n = std::min(n, kCutAfter - offset);
                                   sink.write(body->data() + offset, n);
                                   return true;
                                 });
      });
    }
    server_.Get("/redirect/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_redirect("/files/" + std::string(req.matches[1]), 302);
    });
    // A Hugging Face style path (ORG/REPO/resolve/REV/FILE) for the hf:// tests.
    // A file of one repository (ORG/REPO/FILE in files_) is served from it; any other name from files_.
    // Its answers carry the Hub's record of the file: X-Linked-Etag (the SHA-256) for weights, kept in LFS,
    // and ETag (the git blob id) for the rest; and X-Repo-Commit, the commit the revision resolves to (a
    // full commit id itself, else kBranchCommit).
    const auto from_repo = [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      const std::string revision = req.matches[2];
      const std::string in_repo = std::string(req.matches[1]) + "/" + std::string(req.matches[3]);
      const std::string name = files_.count(in_repo) ? in_repo : std::string(req.matches[3]);
      res.set_header("X-Repo-Commit", revision.size() == 40 ? revision : std::string(kBranchCommit));
      if (const auto it = files_.find(name); it != files_.end()) {
        const bool lfs = name.find(".safetensors") != std::string::npos || name.find(".gguf") != std::string::npos;
        if (lfs) res.set_header("X-Linked-Etag", "\"" + arbiter::test::lfs_sha256_of(it->second) + "\"");
        res.set_header("ETag", "W/\"" + (lfs ? arbiter::test::lfs_sha256_of(it->second)
                                              : arbiter::test::git_blob_id_of(it->second)) + "\"");
      }
      serve(name, res, false);
    };
    server_.Get("/([^/]+/[^/]+)/resolve/([^/]+)/([^/]+)", from_repo);
    server_.Get("/datasets/([^/]+/[^/]+)/resolve/([^/]+)/([^/]+)", from_repo);
    // Down: every request is answered 503, as a Hub outage would be.
    server_.set_pre_routing_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!down_) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 503;
      return httplib::Server::HandlerResponse::Handled;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listen_returned_ = true;
    });
    // httplib's stop() does nothing before the accept loop runs: a test that never touches the server
    // would otherwise reach the destructor first and wait on the thread forever.
    while (!server_.is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_down(bool down) { down_ = down; }
  // Replaces (or, with nullopt, removes) a file between requests, as a new commit on the branch would.
  void set_file(const std::string& name, std::optional<std::string> bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bytes) files_[name] = *bytes;
    else files_.erase(name);
  }
  std::string url(const std::string& path) const { return base() + path; }
  const std::string& file(const std::string& name) { return files_.at(name); }
  int count(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    return counts_[path];
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  int record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back({req.path, req.get_header_value("Range"), req.get_header_value("Authorization"), req.method,
                         req.get_header_value("If-Range")});
    return ++counts_[req.path];
  }

  void serve(const std::string& name, httplib::Response& res, bool cut) {
    auto it = files_.find(name);
    if (it == files_.end()) return void(res.status = 404);
    const std::string* body = &it->second;
    res.set_content_provider(body->size(), "application/octet-stream",
                             [body, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                               if (cut && offset >= kCutAfter) return false;  // drop the connection
                               size_t n = std::min<size_t>(length, 64 << 10);
                               if (cut) n = std::min(n, kCutAfter - offset);
                               sink.write(body->data() + offset, n);
                               return true;
                             });
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::atomic<bool> down_{false};
  std::map<std::string, std::string> files_;
  std::mutex mutex_;
  std::map<std::string, int> counts_;
  std::vector<Request> requests_;
};

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = arbiter::test::scratch_root() / ("arbiter_fetch_test_" + std::to_string(::getpid()) + "_" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
    options_.cache_dir = cache_.string();
    options_.connect_timeout_s = 5;
    options_.stall_timeout_s = 5;
    options_.retry_delay_ms = 0;
    options_.progress = false;
  }
  void TearDown() override { fs::remove_all(cache_); }

  // Regular files anywhere under the cache.
  std::vector<std::string> cached_files() const {
    std::vector<std::string> files;
    if (!fs::exists(cache_)) return files;
    for (const auto& e : fs::recursive_directory_iterator(cache_))
      if (e.is_regular_file()) files.push_back(e.path().filename().string());
    return files;
  }

  LoopbackServer server_;
  fs::path cache_;
  FetchOptions options_;
};

TEST_F(FetchTest, FullDownloadWithChecksum) {
  options_.expected_sha256 = kStoriesSha256;
  auto r = fetch(server_.url("/files/stories260K.gguf"), options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_FALSE(r->cache_hit);
  EXPECT_EQ(r->sha256, kStoriesSha256);
  EXPECT_EQ(r->size, 1185376);  // README's size
  EXPECT_EQ(r->bytes_downloaded, 1185376);
  EXPECT_EQ(fs::path(r->path).filename(), "stories260K.gguf");
  EXPECT_EQ(read_file(r->path), read_file(kStoriesPath));
  EXPECT_EQ(read_file(r->path + ".sha256"), std::string(kStoriesSha256) + "  stories260K.gguf\n");
  EXPECT_FALSE(fs::exists(r->path + ".part"));
}

// The SHA-256 a Hugging Face endpoint records for an LFS file (X-Linked-Etag) checks the download even
// without --sha256; a git blob id in that header is not taken for one.
TEST_F(FetchTest, TheServersRecordedSha256ChecksTheDownload) {
  auto verified = fetch(server_.url("/lfs/stories260K.gguf"), options_);
  ASSERT_TRUE(verified.is_ok()) << verified.message();
  EXPECT_EQ(verified->server_sha256, kStoriesSha256);
  EXPECT_EQ(verified->sha256, kStoriesSha256);

  const std::string bad = server_.url("/badlfs/stories260K.gguf");
  auto refused = fetch(bad, options_);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find(bad + ": sha256 mismatch: the Hub records " + std::string(64, 'a')),
            std::string::npos)
      << refused.message();
  EXPECT_FALSE(fs::exists(cache_entry_path(cache_.string(), bad)));
  EXPECT_FALSE(fs::exists(cache_entry_path(cache_.string(), bad) + ".part"));

  auto blob = fetch(server_.url("/gitblob/stories260K.gguf"), options_);
  ASSERT_TRUE(blob.is_ok()) << blob.message();
  EXPECT_EQ(blob->server_sha256, "");
}

TEST_F(FetchTest, WithoutChecksumTheHashIsComputedAndStored) {
  auto r = fetch(server_.url("/files/stories260K.gguf"), options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->sha256, kStoriesSha256);
  EXPECT_EQ(read_file(r->path + ".sha256").substr(0, 64), kStoriesSha256);
}

TEST_F(FetchTest, WrongChecksumFailsAndLeavesNoFile) {
  options_.expected_sha256 = std::string(64, '0');
  const std::string url = server_.url("/files/stories260K.gguf");
  auto r = fetch(url, options_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("sha256 mismatch"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(url), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(kStoriesSha256), std::string::npos) << r.message();
  EXPECT_TRUE(cached_files().empty());
}

TEST_F(FetchTest, DroppedConnectionResumesWithRangeInTheSameCall) {
  auto r = fetch(server_.url("/flaky/big.bin"), options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(read_file(r->path), server_.file("big.bin"));
  EXPECT_EQ(r->bytes_downloaded, int64_t(server_.file("big.bin").size()));
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(kCutAfter) + "-");
}

TEST_F(FetchTest, DroppedConnectionResumesInTheNextCall) {
  options_.max_attempts = 1;
  const std::string url = server_.url("/flaky/big.bin");
  auto first = fetch(url, options_);
  ASSERT_FALSE(first.is_ok());
  EXPECT_NE(first.message().find(url), std::string::npos) << first.message();
  const std::string entry = cache_entry_path(cache_.string(), url);
  EXPECT_FALSE(fs::exists(entry));  // nothing at the final path
  ASSERT_TRUE(fs::exists(entry + ".part"));
  EXPECT_EQ(fs::file_size(entry + ".part"), kCutAfter);

  auto second = fetch(url, options_);
  ASSERT_TRUE(second.is_ok()) << second.message();
  EXPECT_EQ(second->path, entry);
  EXPECT_EQ(read_file(entry), server_.file("big.bin"));
  EXPECT_EQ(second->bytes_downloaded, int64_t(server_.file("big.bin").size() - kCutAfter));
  EXPECT_FALSE(fs::exists(entry + ".part"));
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(kCutAfter) + "-");
}

// A file replaced on the server between two attempts: the resume asks If-Range with the first attempt's
// ETag, and the bytes stored are the new file's alone, never the old one's beginning with the new one's end.
TEST_F(FetchTest, AFileChangedBetweenAttemptsIsNotSpliced) {
  for (const std::string route : {"/versioned/", "/versioned-no-if-range/"}) {
    SCOPED_TRACE(route);
    server_.set_file("v.bin", big_payload());
    options_.max_attempts = 1;
    const std::string url = server_.url(route + "v.bin");
    auto first = fetch(url, options_);
    ASSERT_FALSE(first.is_ok());
    const std::string entry = cache_entry_path(cache_.string(), url);
    ASSERT_EQ(fs::file_size(entry + ".part"), kCutAfter);
    std::string replaced(2 << 20, 'n');  // another file, of another length
    for (size_t i = 0; i < replaced.size(); i += 7) replaced[i] = char(i & 0x7f);
    server_.set_file("v.bin", replaced);
    auto second = fetch(url, options_);
    ASSERT_TRUE(second.is_ok()) << second.message();
    EXPECT_TRUE(read_file(entry) == replaced);
    std::vector<Request> mine;
    for (const Request& r : server_.requests())
      if (r.path == route + "v.bin") mine.push_back(r);
    ASSERT_GE(mine.size(), 2u);
    EXPECT_EQ(mine[1].range, "bytes=" + std::to_string(kCutAfter) + "-");
    EXPECT_FALSE(mine[1].if_range.empty()) << "the resume names the version its bytes came from";
    // A server that ignores If-Range answers the range of the new file; its length gives it away, and the
    // download starts over without a Range.
    if (route == "/versioned-no-if-range/") {
      ASSERT_EQ(mine.size(), 3u);
      EXPECT_EQ(mine[2].range, "");
    } else {
      EXPECT_EQ(mine.size(), 2u);
    }
  }
}

TEST_F(FetchTest, ServerIgnoringRangeStartsOverCleanly) {
  const std::string url = server_.url("/norange/big.bin");
  const std::string entry = cache_entry_path(cache_.string(), url);
  write_file(entry + ".part", std::string(1000, 'x'));  // stale bytes from an earlier attempt
  auto r = fetch(url, options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(read_file(r->path), server_.file("big.bin"));
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=1000-");
}

TEST_F(FetchTest, CompletePartFileIsKeptOnRangeNotSatisfiable) {
  const std::string url = server_.url("/files/stories260K.gguf");
  const std::string entry = cache_entry_path(cache_.string(), url);
  write_file(entry + ".part", read_file(kStoriesPath));
  auto r = fetch(url, options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->sha256, kStoriesSha256);
  EXPECT_EQ(r->bytes_downloaded, 0);
}

TEST_F(FetchTest, NotFoundNamesTheUrlAndStatus) {
  const std::string url = server_.url("/files/missing.gguf");
  auto r = fetch(url, options_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(url), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("HTTP 404"), std::string::npos) << r.message();
  EXPECT_TRUE(cached_files().empty());
  // Nor the folder made for it.
  const std::string entry = cache_entry_path(cache_.string(), url);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(entry).parent_path()));
}

TEST_F(FetchTest, RefusedConnectionNamesTheUrl) {
  // A port bound without listen(): a connection there is refused at once.
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x.bin";
  const auto start = std::chrono::steady_clock::now();
  auto r = fetch(url, options_);
  ::close(sock);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(url), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("connect"), std::string::npos) << r.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));  // no retries, no timeout
  EXPECT_TRUE(cached_files().empty());
}

TEST_F(FetchTest, RedirectIsFollowed) {
  options_.expected_sha256 = kStoriesSha256;
  auto r = fetch(server_.url("/redirect/stories260K.gguf"), options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(read_file(r->path), read_file(kStoriesPath));
  EXPECT_EQ(server_.count("/redirect/stories260K.gguf"), 1);
  EXPECT_EQ(server_.count("/files/stories260K.gguf"), 1);
}

TEST_F(FetchTest, CacheHitDoesNotDownloadAgain) {
  const std::string url = server_.url("/files/big.bin");
  auto first = fetch(url, options_);
  ASSERT_TRUE(first.is_ok()) << first.message();
  auto second = fetch(url, options_);
  ASSERT_TRUE(second.is_ok()) << second.message();
  EXPECT_TRUE(second->cache_hit);
  EXPECT_EQ(second->bytes_downloaded, 0);
  EXPECT_EQ(second->path, first->path);
  EXPECT_EQ(second->sha256, first->sha256);
  // Verified hit: the bytes are hashed again and still match.
  options_.expected_sha256 = first->sha256;
  auto third = fetch(url, options_);
  ASSERT_TRUE(third.is_ok()) << third.message();
  EXPECT_TRUE(third->cache_hit);
  EXPECT_EQ(server_.count("/files/big.bin"), 1);
}

TEST_F(FetchTest, CorruptCacheEntryIsDownloadedAgainWhenAChecksumIsGiven) {
  const std::string url = server_.url("/files/stories260K.gguf");
  auto first = fetch(url, options_);
  ASSERT_TRUE(first.is_ok()) << first.message();
  write_file(first->path, "not the model");
  options_.expected_sha256 = kStoriesSha256;
  auto second = fetch(url, options_);
  ASSERT_TRUE(second.is_ok()) << second.message();
  EXPECT_FALSE(second->cache_hit);
  EXPECT_EQ(read_file(second->path), read_file(kStoriesPath));
  EXPECT_EQ(server_.count("/files/stories260K.gguf"), 2);
}

TEST_F(FetchTest, OutPathGetsTheWholeFile) {
  options_.out_path = (cache_ / "elsewhere" / "model.gguf").string();
  auto r = fetch(server_.url("/files/stories260K.gguf"), options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->path, options_.out_path);
  EXPECT_EQ(read_file(options_.out_path), read_file(kStoriesPath));
  EXPECT_FALSE(fs::exists(options_.out_path + ".part"));
}

// --out places a hard link to the cache entry: a copy edited in place edits the entry. A later hit sees
// the entry written after its hash and hashes it again: changed bytes are downloaded again, never served
// with the downloaded file's sha256.
TEST_F(FetchTest, AnEntryEditedThroughItsOutPathIsDownloadedAgain) {
  const std::string url = server_.url("/files/stories260K.gguf");
  options_.out_path = (cache_ / "mine" / "model.gguf").string();
  auto first = fetch(url, options_);
  ASSERT_TRUE(first.is_ok()) << first.message();
  std::ofstream(options_.out_path, std::ios::app) << "my edit";
  // Written after the hash, however coarse the filesystem's clock.
  fs::last_write_time(options_.out_path, fs::last_write_time(sha256_sidecar_path(first->cache_path)) + std::chrono::seconds(2));
  options_.out_path.clear();
  auto second = fetch(url, options_);
  ASSERT_TRUE(second.is_ok()) << second.message();
  EXPECT_FALSE(second->cache_hit);
  EXPECT_EQ(second->sha256, kStoriesSha256);
  EXPECT_EQ(read_file(second->path), read_file(kStoriesPath));
  EXPECT_EQ(server_.count("/files/stories260K.gguf"), 2);
  // Written again with the same bytes (touched), it is hashed once more and used.
  fs::last_write_time(second->path, fs::last_write_time(sha256_sidecar_path(second->path)) + std::chrono::seconds(2));
  auto third = fetch(url, options_);
  ASSERT_TRUE(third.is_ok()) << third.message();
  EXPECT_TRUE(third->cache_hit);
  EXPECT_EQ(server_.count("/files/stories260K.gguf"), 2);
}

TEST_F(FetchTest, HuggingFaceTokenGoesOnlyToTheEndpoint) {
  options_.hf_endpoint = server_.base();
  options_.hf_token = "hf_secret";
  auto r = fetch("hf://org/repo@v1/stories260K.gguf", options_);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(read_file(r->path), read_file(kStoriesPath));

  options_.hf_endpoint = kHuggingFaceEndpoint;  // the server is no longer the endpoint
  auto other = fetch(server_.url("/files/big.bin"), options_);
  ASSERT_TRUE(other.is_ok()) << other.message();

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/org/repo/resolve/v1/stories260K.gguf");
  EXPECT_EQ(requests[0].authorization, "Bearer hf_secret");
  EXPECT_EQ(requests[1].authorization, "");
}

TEST_F(FetchTest, ASplitModelsFirstFileBringsTheOthersBesideIt) {
  auto hf_options = [this] {
    FetchOptions o = options_;
    o.hf_endpoint = server_.base();
    o.progress = false;
    return o;
  };
  auto files = fetch_with_split_files("hf://org/repo/m-00001-of-00003.gguf", hf_options());
  ASSERT_TRUE(files.is_ok()) << files.message();
  ASSERT_EQ(files->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const std::string name = "m-0000" + std::to_string(i + 1) + "-of-00003.gguf";
    EXPECT_EQ(fs::path((*files)[size_t(i)].path).filename(), name);
    EXPECT_EQ(read_file((*files)[size_t(i)].path), server_.file(name));
    // Side by side, where the reader looks for a split model's later files.
    EXPECT_EQ(fs::path((*files)[size_t(i)].path).parent_path(), fs::path((*files)[0].path).parent_path());
  }
  // A later file alone is fetched alone.
  auto second = fetch_with_split_files("hf://org/repo/m-00002-of-00003.gguf", hf_options());
  ASSERT_TRUE(second.is_ok()) << second.message();
  EXPECT_EQ(second->size(), 1u);
  EXPECT_TRUE(second->front().cache_hit);

  // -o places them all, and must name a first file of as many.
  FetchOptions placed = hf_options();
  placed.out_path = (fs::path(arbiter::test::scratch_path("out")) / "judge-00001-of-00003.gguf").string();
  auto out = fetch_with_split_files("hf://org/repo/m-00001-of-00003.gguf", placed);
  ASSERT_TRUE(out.is_ok()) << out.message();
  EXPECT_EQ(read_file((fs::path(arbiter::test::scratch_path("out")) / "judge-00003-of-00003.gguf").string()), "file 3");
  placed.out_path = (fs::path(arbiter::test::scratch_path("out")) / "judge.gguf").string();
  auto misnamed = fetch_with_split_files("hf://org/repo/m-00001-of-00003.gguf", placed);
  ASSERT_FALSE(misnamed.is_ok());
  EXPECT_NE(misnamed.message().find("-00001-of-00003.gguf"), std::string::npos) << misnamed.message();

  // A missing later file is an error naming it.
  auto lone = fetch_with_split_files("hf://org/repo/lone-00001-of-00002.gguf", hf_options());
  ASSERT_FALSE(lone.is_ok());
  EXPECT_NE(lone.message().find("file 2 of 2"), std::string::npos) << lone.message();
  EXPECT_NE(lone.message().find("lone-00002-of-00002.gguf"), std::string::npos) << lone.message();
}

// hf://ORG/REPO: the files a model directory needs, found by name, in one folder that loads as the model.
TEST_F(FetchTest, AModelRepositoryBecomesAFolderThatLoads) {
  options_.hf_endpoint = server_.base();
  options_.progress = false;
  auto folder = fetch_hf_model("hf://org/sharded", options_);
  ASSERT_TRUE(folder.is_ok()) << folder.message();
  const std::string fixture = std::string(ARBITER_SHARED_DIR) + "/fixtures/hf/qwen2-sharded";
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(fixture)) {
    const std::string name = entry.path().filename().string();
    if (name == "ref.safetensors") continue;
    EXPECT_EQ(read_file(*folder + "/" + name), read_file(entry.path().string())) << name;
    ++files;
  }
  EXPECT_EQ(size_t(std::distance(fs::directory_iterator(*folder), fs::directory_iterator())), files);
  auto model = load_model(*folder);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto file_of = [](const Request& request) { return fs::path(request.path).filename().string(); };
  // The index was there, so model.safetensors was never asked for.
  for (const Request& request : server_.requests()) EXPECT_NE(file_of(request), "model.safetensors");

  // Again: every file is a cache hit, checked against the Hub's record with a HEAD request, and the folder
  // is the same; only what the repository lacks is asked for again.
  const size_t requests_before = server_.requests().size();
  auto again = fetch_hf_model("hf://org/sharded", options_);
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_EQ(*again, *folder);
  const std::set<std::string> lacking{"tokenizer.model", "special_tokens_map.json", "chat_template.jinja", "added_tokens.json"};
  size_t heads = 0;
  for (size_t i = requests_before; i < server_.requests().size(); ++i) {
    const Request& request = server_.requests()[i];
    if (request.method == "HEAD") ++heads;
    else EXPECT_TRUE(lacking.count(file_of(request))) << request.path;
  }
  EXPECT_EQ(heads, files);

  // A repository with one model.safetensors, into the folder -o names.
  FetchOptions into = options_;
  into.out_path = arbiter::test::scratch_path("whole-model");
  auto whole = fetch_hf_model("hf://org/whole", into);
  ASSERT_TRUE(whole.is_ok()) << whole.message();
  EXPECT_EQ(*whole, into.out_path);
  EXPECT_TRUE(load_model(*whole).is_ok());
}

// A node without network (a training cluster's) uses what an earlier pull cached: the optional files the
// repository lacked are not asked about again when the Hub cannot be reached, and with HF_HUB_OFFLINE
// nothing is asked at all; what was never pulled is an error that says so.
TEST_F(FetchTest, AModelRepositoryPulledBeforeLoadsWithoutTheNetwork) {
  options_.hf_endpoint = server_.base();
  auto folder = fetch_hf_model("hf://org/whole", options_);
  ASSERT_TRUE(folder.is_ok()) << folder.message();

  // The Hub down: the files the repository lacked cannot be asked about; the cached model still loads.
  server_.set_down(true);
  FetchOptions outage = options_;
  outage.max_attempts = 1;
  auto during_outage = fetch_hf_model("hf://org/whole", outage);
  ASSERT_TRUE(during_outage.is_ok()) << during_outage.message();
  EXPECT_EQ(*during_outage, *folder);
  server_.set_down(false);

  FetchOptions offline = options_;
  offline.offline = true;
  const size_t requests_before = server_.requests().size();
  auto cached = fetch_hf_model("hf://org/whole", offline);
  ASSERT_TRUE(cached.is_ok()) << cached.message();
  EXPECT_EQ(*cached, *folder);
  EXPECT_EQ(server_.requests().size(), requests_before);  // no request at all
  EXPECT_TRUE(load_model(*cached).is_ok());

  auto never = fetch_hf_model("hf://org/sharded", offline);
  ASSERT_FALSE(never.is_ok());
  EXPECT_NE(never.message().find("not in the cache, and HF_HUB_OFFLINE is set"), std::string::npos) << never.message();
  auto file = fetch("hf://org/repo/stories260K.gguf", offline);
  ASSERT_FALSE(file.is_ok());
  EXPECT_NE(file.message().find("HF_HUB_OFFLINE"), std::string::npos) << file.message();
}

// hf://ORG/REPO/FILE names what the branch holds now: a cache hit is checked with a HEAD request against
// the Hub's record (the git blob id of a small file, the SHA-256 of an LFS file), and pulled again when the
// branch moved on. A commit, a --sha256 pin or HF_HUB_OFFLINE asks nothing; a Hub that does not answer
// leaves the cached copy in use; a file the branch no longer has is an error, and goes from the cache.
TEST_F(FetchTest, ACachedFileAtABranchIsCheckedAgainstTheHub) {
  options_.hf_endpoint = server_.base();
  auto gets_and_heads = [&](size_t since) {
    std::pair<int, int> counts{0, 0};
    const std::vector<Request> requests = server_.requests();
    for (size_t i = since; i < requests.size(); ++i) ++(requests[i].method == "HEAD" ? counts.second : counts.first);
    return counts;
  };
  for (const std::string name : {"notes.json", "weights.safetensors"}) {
    SCOPED_TRACE(name);
    const std::string source = "hf://org/moving/" + name;
    server_.set_file("org/moving/" + name, "version 1 of " + name);
    auto first = fetch(source, options_);
    ASSERT_TRUE(first.is_ok()) << first.message();
    EXPECT_FALSE(first->cache_hit);

    size_t before = server_.requests().size();
    auto unchanged = fetch(source, options_);
    ASSERT_TRUE(unchanged.is_ok()) << unchanged.message();
    EXPECT_TRUE(unchanged->cache_hit);
    EXPECT_EQ(gets_and_heads(before), std::make_pair(0, 1));

    server_.set_file("org/moving/" + name, "version 2 of " + name + ", longer");
    before = server_.requests().size();
    auto moved = fetch(source, options_);
    ASSERT_TRUE(moved.is_ok()) << moved.message();
    EXPECT_FALSE(moved->cache_hit);
    EXPECT_EQ(read_file(moved->path), "version 2 of " + name + ", longer");
    EXPECT_EQ(moved->sha256, arbiter::test::lfs_sha256_of("version 2 of " + name + ", longer"));
    EXPECT_EQ(gets_and_heads(before), std::make_pair(1, 1));
  }

  // Pinned by commit or by hash, or offline: no request.
  const std::string commit(40, 'c');
  server_.set_file("org/moving/pinned.json", "at a commit");
  ASSERT_TRUE(fetch("hf://org/moving@" + commit + "/pinned.json", options_).is_ok());
  size_t before = server_.requests().size();
  server_.set_file("org/moving/pinned.json", "the server would say otherwise");
  auto pinned = fetch("hf://org/moving@" + commit + "/pinned.json", options_);
  ASSERT_TRUE(pinned.is_ok()) << pinned.message();
  EXPECT_EQ(read_file(pinned->path), "at a commit");
  FetchOptions by_hash = options_;
  by_hash.expected_sha256 = arbiter::test::lfs_sha256_of("version 2 of notes.json, longer");
  EXPECT_TRUE(fetch("hf://org/moving/notes.json", by_hash).is_ok());
  FetchOptions offline = options_;
  offline.offline = true;
  EXPECT_TRUE(fetch("hf://org/moving/notes.json", offline).is_ok());
  EXPECT_EQ(server_.requests().size(), before);

  // The Hub down: the cached copy is used.
  server_.set_down(true);
  auto outage = fetch("hf://org/moving/notes.json", options_);
  server_.set_down(false);
  ASSERT_TRUE(outage.is_ok()) << outage.message();
  EXPECT_TRUE(outage->cache_hit);

  // Deleted on the branch: an error, and neither the cache nor the placed copy keeps the old bytes; where a
  // missing file is an answer (a repository's optional files), it is missing.
  FetchOptions placed = options_;
  placed.out_path = (cache_ / "placed" / "notes.json").string();
  ASSERT_TRUE(fetch("hf://org/moving/notes.json", placed).is_ok());
  server_.set_file("org/moving/notes.json", std::nullopt);
  server_.set_file("notes.json", std::nullopt);
  auto gone = fetch("hf://org/moving/notes.json", options_);
  ASSERT_FALSE(gone.is_ok());
  EXPECT_NE(gone.message().find("hf://org/moving/notes.json: the Hub no longer has this file"), std::string::npos)
      << gone.message();
  EXPECT_FALSE(fs::exists(cache_entry_path(cache_.string(), server_.base() + "/org/moving/resolve/main/notes.json")));
  EXPECT_TRUE(fs::exists(placed.out_path));  // a file placed elsewhere is the user's, once the entry is gone
  server_.set_file("org/moving/optional.json", "kept");
  FetchOptions optional = options_;
  optional.missing_ok = true;
  optional.out_path = (cache_ / "placed" / "optional.json").string();
  ASSERT_TRUE(fetch("hf://org/moving/optional.json", optional).is_ok());
  server_.set_file("org/moving/optional.json", std::nullopt);
  auto missing = fetch("hf://org/moving/optional.json", optional);
  ASSERT_TRUE(missing.is_ok()) << missing.message();
  EXPECT_TRUE(missing->missing);
  EXPECT_FALSE(fs::exists(optional.out_path));
}

// Which commit of a repository a file came from: the Hub's X-Repo-Commit, kept beside the cache entry for
// later runs from the cache; a source pinned to a commit names it; other servers say nothing.
TEST_F(FetchTest, TheCommitAFileWasServedAtIsKept) {
  options_.hf_endpoint = server_.base();
  std::set<std::string> served;
  options_.served_commits = &served;
  auto pulled = fetch("hf://org/repo/stories260K.gguf", options_);
  ASSERT_TRUE(pulled.is_ok()) << pulled.message();
  EXPECT_EQ(pulled->repo_commit, kBranchCommit);
  EXPECT_EQ(read_file(pulled->cache_path + ".commit"), std::string(kBranchCommit) + "\n");
  EXPECT_EQ(served, std::set<std::string>{kBranchCommit});

  // From the cache, offline: the kept commit.
  FetchOptions offline = options_;
  offline.offline = true;
  auto cached = fetch("hf://org/repo/stories260K.gguf", offline);
  ASSERT_TRUE(cached.is_ok()) << cached.message();
  EXPECT_TRUE(cached->cache_hit);
  EXPECT_EQ(cached->repo_commit, kBranchCommit);

  const std::string pinned_commit = "fedcba9876543210fedcba9876543210fedcba98";
  auto pinned = fetch("hf://org/repo@" + pinned_commit + "/stories260K.gguf", options_);
  ASSERT_TRUE(pinned.is_ok()) << pinned.message();
  EXPECT_EQ(pinned->repo_commit, pinned_commit);

  // A whole repository: every file from the one commit.
  served.clear();
  auto folder = fetch_hf_model("hf://org/whole", options_);
  ASSERT_TRUE(folder.is_ok()) << folder.message();
  EXPECT_EQ(served, std::set<std::string>{kBranchCommit});

  auto plain = fetch(server_.url("/files/stories260K.gguf"), options_);
  ASSERT_TRUE(plain.is_ok()) << plain.message();
  EXPECT_EQ(plain->repo_commit, "");
}

TEST_F(FetchTest, AModelRepositoryThatCannotBeReadIsAnErrorSayingWhy) {
  options_.hf_endpoint = server_.base();
  options_.progress = false;
  auto expect_error = [&](const std::string& source, const std::string& part) {
    auto folder = fetch_hf_model(source, options_);
    ASSERT_FALSE(folder.is_ok()) << source;
    EXPECT_NE(folder.message().find(part), std::string::npos) << folder.message();
  };
  expect_error("hf://org/nothing", "the repository has no config.json");
  expect_error("hf://org/pytorch", "neither model.safetensors nor model.safetensors.index.json");
  expect_error("hf://org/escape", "names '../../outside.safetensors'");
  options_.expected_sha256 = std::string(64, '0');
  expect_error("hf://org/whole", "--sha256 checks one file");
  EXPECT_TRUE(is_hf_model_repository("hf://org/repo@v1"));
  EXPECT_TRUE(is_hf_model_repository("hf://org/repo/"));
  EXPECT_FALSE(is_hf_model_repository("hf://org/repo/config.json"));
  EXPECT_FALSE(is_hf_model_repository("hf://datasets/org"));
  EXPECT_FALSE(is_hf_model_repository("https://huggingface.co/org/repo"));
}

// -m takes where to download a model, and -i a dataset file: pulled into the cache (ARBITER_CACHE,
// HF_ENDPOINT) and used there.
TEST_F(FetchTest, ModelOptionsTakeADownloadSource) {
  const std::string env = "HF_ENDPOINT=" + server_.base() + " ARBITER_CACHE=" + cache_.string() + " ";
  auto run = [&](const std::string& args) {
    FILE* pipe = ::popen((env + ARBITER_BINARY + " " + args + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    return std::make_pair(WEXITSTATUS(::pclose(pipe)), out);
  };
  const auto [info_rc, info] = run("info -m hf://org/whole --json");
  ASSERT_EQ(info_rc, 0) << info;
  EXPECT_NE(info.find("\"architecture\": \"qwen2\""), std::string::npos) << info;
  const auto [gguf_rc, gguf] = run("info -m hf://org/repo/stories260K.gguf --json");
  ASSERT_EQ(gguf_rc, 0) << gguf;
  EXPECT_NE(gguf.find("\"format\": \"gguf\""), std::string::npos) << gguf;
  const auto [tokenize_rc, tokens] = run("tokenize -m hf://org/sharded --text hello");
  EXPECT_EQ(tokenize_rc, 0) << tokens;
  // -i (and info --data) take a dataset file's source.
  const auto [data_rc, data] = run("info --data hf://datasets/org/pairs/pairs.jsonl --json");
  ASSERT_EQ(data_rc, 0) << data;
  EXPECT_NE(data.find("\"rows\": 1"), std::string::npos) << data;
  // A run record names the commits the model and the rows were served at, beside the sources as given.
  const std::string judged = (cache_ / "judged.jsonl").string();
  const auto [judge_rc, judge] = run("judge -m hf://org/whole -i hf://datasets/org/pairs/pairs.jsonl -o " + judged);
  ASSERT_EQ(judge_rc, 0) << judge;
  EXPECT_NE(judge.find("hf://org/whole is "), std::string::npos) << judge;
  EXPECT_NE(judge.find(" (commit " + std::string(kBranchCommit) + ")"), std::string::npos) << judge;
  const nlohmann::json record = nlohmann::json::parse(read_file((cache_ / "judged.run.json").string()));
  EXPECT_EQ(record["model"], "hf://org/whole");
  EXPECT_EQ(record["model_commit"], kBranchCommit);
  EXPECT_EQ(record["input_commit"], kBranchCommit);
  // A features file, and a head trained on it, name the source as given and its commit (not the cache's path).
  const std::string features = (cache_ / "pairs.safetensors").string();
  const auto [features_rc, features_out] =
      run("features -m hf://org/whole -i hf://datasets/org/pairs/pairs.jsonl -o " + features);
  ASSERT_EQ(features_rc, 0) << features_out;
  const Result<train::FeatureSet> set = train::read_features(features);
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->model, "hf://org/whole");
  EXPECT_EQ(set->model_commit, kBranchCommit);
  const std::string head_path = (cache_ / "head.safetensors").string();
  const auto [head_rc, head_out] =
      run("train head --objective bt --validation-fraction 0 --epochs 2 --features " + features + " --out " + head_path);
  ASSERT_EQ(head_rc, 0) << head_out;
  const Result<train::RewardHead> head = train::load_reward_head(head_path);
  ASSERT_TRUE(head.is_ok()) << head.message();
  EXPECT_EQ(head->model, "hf://org/whole");
  EXPECT_EQ(head->model_commit, kBranchCommit);
  const auto [missing_rc, missing] = run("info -m hf://org/nothing");
  EXPECT_NE(missing_rc, 0);
  EXPECT_NE(missing.find("hf://org/nothing: the repository has no config.json"), std::string::npos) << missing;
}

TEST_F(FetchTest, CommandPrintsOnlyThePathOnStdout) {
  const std::string url = server_.url("/files/stories260K.gguf");
  const std::string command = std::string(ARBITER_BINARY) + " pull " + url + " --sha256 " + kStoriesSha256 +
                              " --cache-dir " + cache_.string() + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(out, cache_entry_path(cache_.string(), url) + "\n");

  const std::string bad = std::string(ARBITER_BINARY) + " pull " + server_.url("/files/nope.bin") +
                          " --cache-dir " + cache_.string() + " 2>&1";
  pipe = ::popen(bad.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  out.clear();
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  EXPECT_NE(WEXITSTATUS(::pclose(pipe)), 0);
  EXPECT_NE(out.find("HTTP 404"), std::string::npos) << out;
  EXPECT_NE(out.find(server_.url("/files/nope.bin")), std::string::npos) << out;
}

}  // namespace
}  // namespace arbiter::fetch
