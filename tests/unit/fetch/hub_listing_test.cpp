// Sources that need the Hub's listing, through a loopback server that answers as its tree API does
// (paginated by Link headers): dataset selections (hf://datasets/ORG/REPO, a folder, a pattern) pulled
// into one folder and read back through the dataset reader, with the sets of files a bare repository
// offers, stale files, working offline from an earlier pull; and GGUF releases (a model repository without
// config.json, a pattern such as *Q4_K_M*), a split model pulled whole.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "data/json_rows.h"
#include "fetch/hf_dataset.h"
#include "fetch/hf_model.h"
#include "fetch/http_get.h"
#include "model/model.h"
#include "model/model_tokenizer.h"
#include "../../support/hub_records.h"
#include "../../support/scratch_root.h"

namespace arbiter::fetch {
namespace hub_listing_test {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string rows(int first, int count) {
  std::string out;
  for (int i = first; i < first + count; ++i)
    out += R"({"id": "r)" + std::to_string(i) + R"(", "prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."})" "\n";
  return out;
}

// Repositories of files by path ("models:ORG/REPO" for a model repository); the tree API lists them two
// entries a page, folders included.
class HubServer {
 public:
  HubServer() {
    set("org/ds", "README.md", "# a dataset card");
    set("org/ds", "data/train-00000-of-00002.jsonl", rows(0, 3));
    set("org/ds", "data/train-00001-of-00002.jsonl", rows(3, 2));
    set("org/ds", "data/test-00000-of-00001.jsonl", rows(100, 1));
    set("org/one", "pairs.jsonl", rows(0, 4));
    set("org/one", ".gitattributes", "*.jsonl filter=lfs");
    // GGUF releases: several quantizations (one split in two) and a projector; one with a single model.
    set("models:org/q-GGUF", "README.md", "# quantized");
    set("models:org/q-GGUF", "q-f16.gguf", std::string(3000, 'f'));
    set("models:org/q-GGUF", "q-q4_k_m-00001-of-00002.gguf", "first half");
    set("models:org/q-GGUF", "q-q4_k_m-00002-of-00002.gguf", "second half");
    set("models:org/q-GGUF", "mmproj-q-f16.gguf", "projector");
    set("models:org/one-GGUF", "model.Q8_0.gguf", slurp(ARBITER_SHARED_DIR "/models/stories260K/stories260K.gguf"));
    // A safetensors model repository: the sharded fixture's files, and a chat template.
    for (const auto& entry : fs::directory_iterator(ARBITER_SHARED_DIR "/fixtures/hf/qwen2-sharded"))
      if (entry.path().filename() != "ref.safetensors")
        set("models:org/rm", entry.path().filename().string(), slurp(entry.path().string()));
    set("models:org/rm", "chat_template.jinja", "{{ messages[0]['content'] }}");
    set("models:org/rm", "README.md", "# a reward model");
    server_.Get(R"(/api/(models|datasets)/([^/]+/[^/]+)/tree/([^/]+)(/.*)?)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++listings_;
      const std::string repo = (req.matches[1] == "models" ? "models:" : "") + std::string(req.matches[2]);
      std::string folder = req.matches[4];
      if (!folder.empty()) folder = folder.substr(1) + "/";
      if (!repos_.count(repo) || req.get_param_value("recursive") != "true") return void(res.status = 404);
      // Every file and folder under `folder`, in path order, as the API gives them.
      std::vector<nlohmann::json> entries;
      std::set<std::string> folders;
      for (const auto& [path, body] : repos_[repo]) {
        if (path.rfind(folder, 0) != 0) continue;
        for (size_t slash = path.find('/', folder.size()); slash != std::string::npos; slash = path.find('/', slash + 1))
          if (folders.insert(path.substr(0, slash)).second)
            entries.push_back({{"type", "directory"}, {"oid", "0"}, {"size", 0}, {"path", path.substr(0, slash)}});
        // As the Hub lists them: data files and GGUF files kept in LFS (lfs.oid, their SHA-256), the
        // rest in git (oid, the git blob id).
        nlohmann::json file = {{"type", "file"}, {"oid", arbiter::test::git_blob_id_of(body)}, {"size", body.size()}, {"path", path}};
        if (path.rfind("data/", 0) == 0 || path.find(".gguf") != std::string::npos ||
            path.find(".safetensors") != std::string::npos)
          file["lfs"] = {{"oid", arbiter::test::lfs_sha256_of(body)}, {"size", body.size()}, {"pointerSize", 130}};
        entries.push_back(std::move(file));
      }
      if (entries.empty()) return void(res.status = 404);
      const size_t cursor = req.has_param("cursor") ? std::stoul(req.get_param_value("cursor")) : 0;
      nlohmann::json page = nlohmann::json::array();
      for (size_t i = cursor; i < entries.size() && i < cursor + 2; ++i) page.push_back(entries[i]);
      if (cursor + 2 < entries.size())
        res.set_header("Link", "<" + base() + req.path + "?recursive=true&cursor=" + std::to_string(cursor + 2) +
                                   ">; rel=\"next\"");
      res.set_content(page.dump(), "application/json");
    });
    server_.Get(R"(/(datasets/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::string name = (req.matches[1].length() == 0 ? "models:" : "") + std::string(req.matches[2]);
      auto repo = repos_.find(name);
      if (repo == repos_.end() || !repo->second.count(req.matches[4])) {
        ++misses_;
        return void(res.status = 404);
      }
      if (req.method == "HEAD") ++heads_;
      else ++downloads_;
      res.set_content(repo->second[req.matches[4]], "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listen_returned_ = true;
    });
    while (!server_.is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HubServer() {
    server_.stop();
    thread_.join();
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set(const std::string& repo, const std::string& path, const std::string& body) {
    std::lock_guard<std::mutex> lock(mutex_);
    repos_[repo][path] = body;
  }
  void remove(const std::string& repo, const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    repos_[repo].erase(path);
  }
  // Requests answered so far: listing pages, file GETs, HEADs, and 404s for files the repository lacks.
  int listings() { return counted(listings_); }
  int downloads() { return counted(downloads_); }
  int heads() { return counted(heads_); }
  int misses() { return counted(misses_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::mutex mutex_;
  std::map<std::string, std::map<std::string, std::string>> repos_;
  int counted(const int& counter) {
    std::lock_guard<std::mutex> lock(mutex_);
    return counter;
  }
  int listings_ = 0, downloads_ = 0, heads_ = 0, misses_ = 0;
};

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = arbiter::test::scratch_root() /
             ("hf_dataset_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(cache_);
    options_.cache_dir = cache_.string();
    options_.hf_endpoint = server_.base();
    options_.connect_timeout_s = 5;
    options_.stall_timeout_s = 5;
    options_.retry_delay_ms = 0;
    options_.progress = false;
  }

  // The rows the local selection holds, read as the dataset reader reads a pattern.
  std::string read_selection(const std::string& local) {
    auto files = data::files_named_by(local);
    EXPECT_TRUE(files.is_ok()) << files.message();
    std::string all;
    for (const std::string& f : *files) all += slurp(f);
    return all;
  }

  HubServer server_;
  fs::path cache_;
  FetchOptions options_;
};

TEST(HfDatasetSelection, WhichSourcesNameSeveralFiles) {
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds"));
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds@v1.0"));
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds/"));
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds/data"));
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds/data/"));
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds/data/train-*.parquet"));
  EXPECT_TRUE(is_hf_dataset_selection("hf://datasets/org/ds/*/train.jsonl"));
  EXPECT_FALSE(is_hf_dataset_selection("hf://datasets/org/ds/data/train.parquet"));
  EXPECT_FALSE(is_hf_dataset_selection("hf://datasets/org/ds/validation.jsonl.gz"));
  EXPECT_FALSE(is_hf_dataset_selection("hf://org/model"));
  EXPECT_FALSE(is_hf_dataset_selection("hf://org/model/file.gguf"));
  EXPECT_FALSE(is_hf_dataset_selection("hf://datasets/org"));
  EXPECT_FALSE(is_hf_dataset_selection("hf://datasets/org/ds/../x/"));
  EXPECT_FALSE(is_hf_dataset_selection("https://example.com/data/"));
}

TEST(HfDatasetSelection, ChoosesTheOneSetOfDataFilesOrNamesEach) {
  const std::vector<RepoFile> listing = {{"README.md", 10},
                                         {"data/test-00000-of-00001.parquet", 100},
                                         {"data/train-00000-of-00002.parquet", 2 << 20},
                                         {"data/train-00001-of-00002.parquet", 2 << 20},
                                         {"extra/notes.txt", 5}};
  auto train = choose_dataset_files(listing, "", "data/train-*.parquet", "S", "hf://datasets/o/r");
  ASSERT_TRUE(train.is_ok()) << train.message();
  ASSERT_EQ(train->size(), 2u);
  EXPECT_EQ((*train)[1].path, "data/train-00001-of-00002.parquet");
  // '*' does not cross '/'.
  EXPECT_FALSE(choose_dataset_files(listing, "", "*.parquet", "S", "hf://datasets/o/r").is_ok());
  auto none = choose_dataset_files(listing, "", "data/valid*", "S", "hf://datasets/o/r");
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.message().find("S: no file of the repository matches 'data/valid*'"), std::string::npos);

  auto both = choose_dataset_files(listing, "data", "", "S", "hf://datasets/o/r");
  ASSERT_FALSE(both.is_ok());
  EXPECT_NE(both.message().find("S holds 2 sets of data files; name one:"), std::string::npos) << both.message();
  EXPECT_NE(both.message().find("hf://datasets/o/r/data/test-00000-of-00001.parquet  (1 file, 100 bytes)"),
            std::string::npos)
      << both.message();
  EXPECT_NE(both.message().find("hf://datasets/o/r/data/train-*-of-*.parquet  (2 files, 4.0 MiB)"), std::string::npos)
      << both.message();

  const std::vector<RepoFile> one_split = {{"README.md", 1}, {"a/x-0.jsonl", 1}, {"a/x-1.jsonl", 1}, {"b.txt", 1}};
  auto whole = choose_dataset_files(one_split, "", "", "S", "p");
  ASSERT_TRUE(whole.is_ok()) << whole.message();
  EXPECT_EQ(whole->size(), 2u);
  auto empty = choose_dataset_files(one_split, "b", "", "S", "p");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.message().find("no data files (.parquet, .jsonl, .json, optionally .gz) under b/"), std::string::npos)
      << empty.message();
}

// Shard numbers make a set; other digits are part of a name; a pattern that would take more than its set
// is not offered.
TEST(HfDatasetSelection, SetsAreShardsOfOneName) {
  auto sources = [](const std::vector<RepoFile>& listing) {
    std::vector<std::string> out;
    for (const DatasetFileSet& set : group_data_files(listing, "", "p")) out.push_back(set.source);
    return out;
  };
  EXPECT_EQ(sources({{"default/train/0000.parquet", 1}, {"default/train/0001.parquet", 1}, {"default/test/0000.parquet", 1}}),
            (std::vector<std::string>{"p/default/test/0000.parquet", "p/default/train/*.parquet"}));
  EXPECT_EQ(sources({{"v1/train.jsonl", 1}, {"v2/train.jsonl", 1}}),
            (std::vector<std::string>{"p/v1/train.jsonl", "p/v2/train.jsonl"}));
  EXPECT_EQ(sources({{"test_0shot.jsonl", 1}, {"test_5shot.jsonl", 1}}),
            (std::vector<std::string>{"p/test_0shot.jsonl", "p/test_5shot.jsonl"}));
  EXPECT_EQ(sources({{"train-00000.jsonl", 1}, {"train-00001.jsonl", 1}}), (std::vector<std::string>{"p/train-*.jsonl"}));
  // train-*.jsonl would also take train-extra.jsonl: each file is named instead.
  EXPECT_EQ(sources({{"train-00000.jsonl", 1}, {"train-00001.jsonl", 1}, {"train-extra.jsonl", 1}}),
            (std::vector<std::string>{"p/train-00000.jsonl", "p/train-00001.jsonl", "p/train-extra.jsonl"}));
}

// A metadata request to an origin that gave no answer is not sent again: a node without network waits
// one connect timeout per command, not one per file.
TEST(HttpGet, AnOriginThatDidNotAnswerIsNotAskedAgain) {
  HttpGetOptions options;
  options.connect_timeout_s = 5;
  const Result<HttpHeadResult> first = http_head("http://127.0.0.1:1/org/repo/resolve/main/a.json", options);
  ASSERT_FALSE(first.is_ok());
  EXPECT_EQ(first.message().find("did not answer an earlier request"), std::string::npos) << first.message();
  const Result<HttpGetResult> listing = http_get("http://127.0.0.1:1/api/models/org/repo/tree/main", options);
  ASSERT_FALSE(listing.is_ok());
  EXPECT_NE(listing.message().find("GET http://127.0.0.1:1/api/models/org/repo/tree/main: http://127.0.0.1:1 did not "
                                   "answer an earlier request; not asked again"),
            std::string::npos)
      << listing.message();
}

TEST(HttpGet, NextLinkOfALinkHeader) {
  EXPECT_EQ(next_link_of(R"( <https://h/api?cursor=abc>; rel="next")"), "https://h/api?cursor=abc");
  EXPECT_EQ(next_link_of(R"(<https://h/p1>; rel="prev", <https://h/p3>; rel="next")"), "https://h/p3");
  EXPECT_EQ(next_link_of(R"(<https://h/p1>; rel="prev")"), "");
  EXPECT_EQ(next_link_of(""), "");
  EXPECT_EQ(next_link_of("<broken"), "");
}

// A pattern pulls the files it matches, listed over several pages, and reads as their rows in order.
TEST_F(HubTest, APatternPullsTheFilesItMatches) {
  auto local = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", options_);
  ASSERT_TRUE(local.is_ok()) << local.message();
  EXPECT_EQ(local->back(), '*') << *local;
  EXPECT_EQ(read_selection(*local), rows(0, 5));
  EXPECT_GE(server_.listings(), 2);  // the listing came in pages
  EXPECT_EQ(server_.downloads(), 2);

  // Again: the listing is asked for, the files come from the cache, checked against the listing's
  // SHA-256s without a request of their own.
  auto again = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", options_);
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_EQ(*again, *local);
  EXPECT_EQ(server_.downloads(), 2);
  EXPECT_EQ(server_.heads(), 0);

  // A file changed under the same name (a corrected shard) is pulled again; the other stays cached.
  server_.set("org/ds", "data/train-00000-of-00002.jsonl", rows(10, 3));
  auto changed = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", options_);
  ASSERT_TRUE(changed.is_ok()) << changed.message();
  EXPECT_EQ(read_selection(*changed), rows(10, 3) + rows(3, 2));
  EXPECT_EQ(server_.downloads(), 3);
  EXPECT_EQ(server_.heads(), 0);

  // A file the repository drops leaves the folder at the next pull.
  server_.remove("org/ds", "data/train-00001-of-00002.jsonl");
  auto fewer = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", options_);
  ASSERT_TRUE(fewer.is_ok()) << fewer.message();
  EXPECT_EQ(read_selection(*fewer), rows(10, 3));
}

// A repository with one set of data files is that set; a lone file comes back as its own path.
TEST_F(HubTest, ARepositoryWithOneSetIsThatSet) {
  auto local = fetch_hf_dataset("hf://datasets/org/one", options_);
  ASSERT_TRUE(local.is_ok()) << local.message();
  EXPECT_EQ(fs::path(*local).filename(), "pairs.jsonl");
  EXPECT_EQ(slurp(*local), rows(0, 4));
  auto folder = fetch_hf_dataset("hf://datasets/org/ds/data/", options_);
  ASSERT_FALSE(folder.is_ok());
  EXPECT_NE(folder.message().find("hf://datasets/org/ds/data/ holds 2 sets of data files; name one:\n  "
                                  "hf://datasets/org/ds/data/test-00000-of-00001.jsonl  (1 file, "),
            std::string::npos)
      << folder.message();
  EXPECT_NE(folder.message().find("hf://datasets/org/ds/data/train-*-of-*.jsonl  (2 files, "), std::string::npos)
      << folder.message();
  EXPECT_EQ(server_.downloads(), 1);  // nothing of the refused selection was pulled
}

// Without the network, a selection pulled before is read from the cache (with a warning).
TEST_F(HubTest, AnEarlierPullServesWhenTheHubCannotBeReached) {
  auto local = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", options_);
  ASSERT_TRUE(local.is_ok()) << local.message();
  FetchOptions offline = options_;
  offline.hf_endpoint = "http://127.0.0.1:1";  // nothing listens there
  auto kept = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", offline);
  // Another endpoint is another cache folder: nothing pulled there before, so the error stands.
  ASSERT_FALSE(kept.is_ok());
  EXPECT_NE(kept.message().find("GET http://127.0.0.1:1/api/datasets/org/ds/tree/main/data?recursive=true"),
            std::string::npos)
      << kept.message();
  // Into a named folder, then offline into the same folder.
  FetchOptions into = options_;
  into.out_path = (cache_ / "named").string();
  ASSERT_TRUE(fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", into).is_ok());
  into.hf_endpoint = "http://127.0.0.1:1";
  auto offline_named = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", into);
  ASSERT_TRUE(offline_named.is_ok()) << offline_named.message();
  EXPECT_EQ(read_selection(*offline_named), rows(0, 5));
  // Another selection is not served by the files this one pulled into the folder.
  auto other = fetch_hf_dataset("hf://datasets/org/ds/data/test-*.jsonl", into);
  EXPECT_FALSE(other.is_ok());
  // A Hub that answers "no such repository" is not a reason to read an old copy.
  FetchOptions answering = options_;
  answering.out_path = into.out_path;
  server_.remove("org/ds", "data/train-00000-of-00002.jsonl");
  server_.remove("org/ds", "data/train-00001-of-00002.jsonl");
  server_.remove("org/ds", "data/test-00000-of-00001.jsonl");
  server_.remove("org/ds", "README.md");
  auto gone = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", answering);
  ASSERT_FALSE(gone.is_ok());
  EXPECT_NE(gone.message().find("HTTP 404"), std::string::npos) << gone.message();
}

TEST_F(HubTest, ErrorsSayWhatIsWrong) {
  auto missing = fetch_hf_dataset("hf://datasets/org/nothing", options_);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("hf://datasets/org/nothing: no such repository, revision or folder"),
            std::string::npos)
      << missing.message();
  options_.expected_sha256 = std::string(64, 'a');
  auto hashed = fetch_hf_dataset("hf://datasets/org/one", options_);
  ASSERT_FALSE(hashed.is_ok());
  EXPECT_NE(hashed.message().find("--sha256 checks one file"), std::string::npos);
  options_.expected_sha256.clear();
  // A named folder that holds other files would make the pattern read them too.
  options_.out_path = (cache_ / "busy").string();
  fs::create_directories(options_.out_path);
  std::ofstream(options_.out_path + "/mine.txt") << "x";
  auto busy = fetch_hf_dataset("hf://datasets/org/ds/data/train-*.jsonl", options_);
  ASSERT_FALSE(busy.is_ok());
  EXPECT_NE(busy.message().find("holds mine.txt, which is not a file of"), std::string::npos) << busy.message();
  EXPECT_TRUE(fs::exists(options_.out_path + "/mine.txt"));
}

// -i and `pull` take a selection; pull prints the local pattern.
TEST_F(HubTest, CommandsTakeASelection) {
  const std::string env = "HF_ENDPOINT=" + server_.base() + " ARBITER_CACHE=" + cache_.string() + " ";
  auto run = [&](const std::string& args) {
    FILE* pipe = ::popen((env + ARBITER_BINARY + " " + args).c_str(), "r");
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    return std::make_pair(WEXITSTATUS(::pclose(pipe)), out);
  };
  const auto [info_rc, info] = run("info --data 'hf://datasets/org/ds/data/train-*.jsonl' --json 2>&1");
  ASSERT_EQ(info_rc, 0) << info;
  EXPECT_NE(info.find("\"rows\": 5"), std::string::npos) << info;
  const auto [pull_rc, pulled] = run("pull -q 'hf://datasets/org/ds/data/train-*.jsonl' 2>/dev/null");
  ASSERT_EQ(pull_rc, 0) << pulled;
  EXPECT_EQ(pulled.back(), '\n');
  EXPECT_EQ(read_selection(pulled.substr(0, pulled.size() - 1)), rows(0, 5));
  // A repository of several sets: info lists them (exit 0); a command that reads the dataset is refused.
  const auto [bare_rc, bare] = run("info --data hf://datasets/org/ds 2>&1");
  EXPECT_EQ(bare_rc, 0) << bare;
  EXPECT_NE(bare.find("hf://datasets/org/ds holds 2 sets of data files (pass one as the dataset):\n"
                      "  hf://datasets/org/ds/data/test-00000-of-00001.jsonl  (1 file, "),
            std::string::npos)
      << bare;
  const auto [sets_rc, sets] = run("info --data hf://datasets/org/ds --json 2>/dev/null");
  ASSERT_EQ(sets_rc, 0) << sets;
  const auto listed = nlohmann::json::parse(sets);
  ASSERT_EQ(listed["sets"].size(), 2u) << sets;
  EXPECT_EQ(listed["sets"][1]["source"], "hf://datasets/org/ds/data/train-*-of-*.jsonl");
  EXPECT_EQ(listed["sets"][1]["files"], 2);
  EXPECT_EQ(listed["sets"][1]["bytes"], rows(0, 5).size());
  const auto [score_rc, score] = run("score -m " ARBITER_SHARED_DIR "/fixtures/hf/qwen2-seqcls1 -i hf://datasets/org/ds -o " +
                                     (cache_ / "s.jsonl").string() + " 2>&1");
  EXPECT_NE(score_rc, 0);
  EXPECT_NE(score.find("hf://datasets/org/ds holds 2 sets of data files; name one:"), std::string::npos) << score;
}

TEST(GgufModelChoice, OneModelPerSplitSetAndNoProjectors) {
  const std::vector<RepoFile> listing = {{"README.md", 1},
                                         {"mmproj-q-f16.gguf", 5},
                                         {"q-Q8_0.gguf", 8 << 20},
                                         {"q-q4_k_m-00001-of-00002.gguf", 3 << 20},
                                         {"q-q4_k_m-00002-of-00002.gguf", 2 << 20}};
  auto q4 = choose_gguf_model(listing, "*Q4_K_M*", "S", "hf://o/r");
  ASSERT_TRUE(q4.is_ok()) << q4.message();
  EXPECT_EQ(*q4, "q-q4_k_m-00001-of-00002.gguf");
  // A later file's name selects its model too.
  EXPECT_EQ(*choose_gguf_model(listing, "*00002-of-00002*", "S", "hf://o/r"), "q-q4_k_m-00001-of-00002.gguf");
  EXPECT_EQ(*choose_gguf_model(listing, "*q8_0*", "S", "hf://o/r"), "q-Q8_0.gguf");
  auto both = choose_gguf_model(listing, "", "S", "hf://o/r");
  ASSERT_FALSE(both.is_ok());
  EXPECT_NE(both.message().find("S: the repository holds 2 GGUF models; name one:\n  hf://o/r/q-Q8_0.gguf  (8.0 MiB)\n  "
                                "hf://o/r/q-q4_k_m-00001-of-00002.gguf  (5.0 MiB, 2 files)"),
            std::string::npos)
      << both.message();
  auto none = choose_gguf_model(listing, "*q2_k*", "S", "hf://o/r");
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.message().find("no GGUF model of the repository matches '*q2_k*'; it has 2, name one:"), std::string::npos)
      << none.message();
  EXPECT_FALSE(choose_gguf_model({{"README.md", 1}}, "", "S", "p").is_ok());
  EXPECT_TRUE(is_hf_model_pattern("hf://org/q-GGUF/*Q4_K_M*"));
  EXPECT_FALSE(is_hf_model_pattern("hf://org/q-GGUF/q-f16.gguf"));
  EXPECT_FALSE(is_hf_model_pattern("hf://datasets/org/ds/*.parquet"));
  EXPECT_FALSE(is_hf_model_pattern("hf://org/q-GGUF"));
}

// A GGUF release has no config.json: its one model is pulled, or the error names each; a pattern picks one
// and brings every file of a split model.
// A safetensors repository, where the Hub lists it: one listing says which files to fetch (nothing that is
// not there is asked for) and what each holds (no request per cached file); files an earlier pull placed
// that the repository dropped leave the folder.
TEST_F(HubTest, AModelRepositoryIsPulledByItsListing) {
  auto folder = fetch_hf_model("hf://org/rm", options_);
  ASSERT_TRUE(folder.is_ok()) << folder.message();
  const std::string fixture = ARBITER_SHARED_DIR "/fixtures/hf/qwen2-sharded";
  EXPECT_EQ(slurp(*folder + "/model-00007-of-00013.safetensors"), slurp(fixture + "/model-00007-of-00013.safetensors"));
  EXPECT_EQ(slurp(*folder + "/chat_template.jinja"), "{{ messages[0]['content'] }}");
  EXPECT_FALSE(fs::exists(*folder + "/README.md"));
  auto model = load_model(*folder);
  ASSERT_TRUE(model.is_ok()) << model.message();
  // config, index, 13 shards, tokenizer.json, tokenizer_config.json, generation_config.json, the template.
  EXPECT_EQ(server_.downloads(), 19);
  EXPECT_EQ(server_.misses(), 0);
  EXPECT_EQ(server_.heads(), 0);

  auto again = fetch_hf_model("hf://org/rm", options_);
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_EQ(server_.downloads(), 19);
  EXPECT_EQ(server_.misses() + server_.heads(), 0);

  // The repository moves its template into tokenizer_config.json and fixes a shard.
  server_.remove("models:org/rm", "chat_template.jinja");
  std::string shard = slurp(fixture + "/model-00013-of-00013.safetensors");
  shard.back() ^= 1;  // a byte of the last tensor's data
  server_.set("models:org/rm", "model-00013-of-00013.safetensors", shard);
  auto moved = fetch_hf_model("hf://org/rm", options_);
  ASSERT_TRUE(moved.is_ok()) << moved.message();
  EXPECT_FALSE(fs::exists(*moved + "/chat_template.jinja"));
  EXPECT_EQ(slurp(*moved + "/model-00013-of-00013.safetensors"), shard);
  EXPECT_EQ(server_.downloads(), 20);

  // An index naming a shard the repository lacks is an error that names both.
  server_.remove("models:org/rm", "model-00005-of-00013.safetensors");
  auto broken = fetch_hf_model("hf://org/rm", options_);
  ASSERT_FALSE(broken.is_ok());
  EXPECT_NE(broken.message().find("model.safetensors.index.json names model-00005-of-00013.safetensors, which the "
                                  "repository does not have"),
            std::string::npos)
      << broken.message();
}

// Named chat templates live in additional_chat_templates/: the listing says which a repository has, they
// are pulled beside the default one and read with it, and one the repository drops leaves the folder.
// Nothing under a deeper folder, nor another extension, is taken for one.
TEST_F(HubTest, AModelRepositorysNamedChatTemplatesArePulled) {
  server_.set("models:org/rm", "additional_chat_templates/tool_use.jinja", "tools: {{ tools | length }}");
  server_.set("models:org/rm", "additional_chat_templates/old/rag.jinja", "not a template of this model");
  server_.set("models:org/rm", "additional_chat_templates/notes.txt", "not a template");
  auto folder = fetch_hf_model("hf://org/rm", options_);
  ASSERT_TRUE(folder.is_ok()) << folder.message();
  EXPECT_EQ(slurp(*folder + "/additional_chat_templates/tool_use.jinja"), "tools: {{ tools | length }}");
  EXPECT_FALSE(fs::exists(*folder + "/additional_chat_templates/old"));
  EXPECT_FALSE(fs::exists(*folder + "/additional_chat_templates/notes.txt"));
  auto model = load_model(*folder);
  ASSERT_TRUE(model.is_ok()) << model.message();
  EXPECT_EQ(describe_text_assets(**model).tool_use_template, "tools: {{ tools | length }}");

  server_.remove("models:org/rm", "additional_chat_templates/tool_use.jinja");
  auto dropped = fetch_hf_model("hf://org/rm", options_);
  ASSERT_TRUE(dropped.is_ok()) << dropped.message();
  EXPECT_FALSE(fs::exists(*dropped + "/additional_chat_templates/tool_use.jinja"));
}

TEST_F(HubTest, AGgufReleaseGivesItsModel) {
  auto one = fetch_hf_model("hf://org/one-GGUF", options_);
  ASSERT_TRUE(one.is_ok()) << one.message();
  EXPECT_EQ(fs::path(*one).filename(), "model.Q8_0.gguf");
  EXPECT_EQ(slurp(*one), slurp(ARBITER_SHARED_DIR "/models/stories260K/stories260K.gguf"));

  // -o as for a safetensors repository: the folder to put the model in.
  FetchOptions into = options_;
  into.out_path = (cache_ / "gguf-folder").string();
  auto placed = fetch_hf_model("hf://org/one-GGUF", into);
  ASSERT_TRUE(placed.is_ok()) << placed.message();
  EXPECT_EQ(*placed, into.out_path + "/model.Q8_0.gguf");
  EXPECT_EQ(slurp(*placed), slurp(*one));

  auto several = fetch_hf_model("hf://org/q-GGUF", options_);
  ASSERT_FALSE(several.is_ok());
  EXPECT_NE(several.message().find("hf://org/q-GGUF: the repository holds 2 GGUF models; name one:\n  "
                                   "hf://org/q-GGUF/q-f16.gguf  (3000 bytes)\n  "
                                   "hf://org/q-GGUF/q-q4_k_m-00001-of-00002.gguf  (21 bytes, 2 files)"),
            std::string::npos)
      << several.message();

  auto q4 = fetch_hf_model_pattern("hf://org/q-GGUF/*Q4_K_M*", options_);
  ASSERT_TRUE(q4.is_ok()) << q4.message();
  EXPECT_EQ(fs::path(*q4).filename(), "q-q4_k_m-00001-of-00002.gguf");
  EXPECT_EQ(slurp(*q4), "first half");
  EXPECT_EQ(slurp((fs::path(*q4).parent_path() / "q-q4_k_m-00002-of-00002.gguf").string()), "second half");

  // A release that re-uploads one file of a split model under the same name: that file is pulled again, by
  // the listing's record, and the other is a cache hit.
  const int downloads_before = server_.downloads();
  server_.set("models:org/q-GGUF", "q-q4_k_m-00002-of-00002.gguf", "second half, requantized");
  auto requantized = fetch_hf_model_pattern("hf://org/q-GGUF/*Q4_K_M*", options_);
  ASSERT_TRUE(requantized.is_ok()) << requantized.message();
  EXPECT_EQ(slurp((fs::path(*requantized).parent_path() / "q-q4_k_m-00002-of-00002.gguf").string()),
            "second half, requantized");
  EXPECT_EQ(server_.downloads(), downloads_before + 1);
  EXPECT_EQ(server_.heads(), 0);

  // -m takes the release and runs its model.
  const std::string env = "HF_ENDPOINT=" + server_.base() + " ARBITER_CACHE=" + cache_.string() + " ";
  FILE* pipe = ::popen((env + ARBITER_BINARY + " info -m hf://org/one-GGUF --json 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ASSERT_EQ(WEXITSTATUS(::pclose(pipe)), 0) << out;
  EXPECT_NE(out.find("\"format\": \"gguf\""), std::string::npos) << out;
}

}  // namespace hub_listing_test
}  // namespace arbiter::fetch
