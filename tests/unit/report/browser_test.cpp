// The HTML reports render in headless Chromium: the screenshot is a real PNG with something drawn on it,
// and the rendered DOM keeps every section id and every inline SVG as an element. Skips when Chromium is
// not installed (scripts/install-browser.sh installs it; scripts/test.sh runs that in CI).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "png_check.h"
#include "../../support/scratch_root.h"
#include "../../support/shared_dir.h"

namespace {

namespace fs = std::filesystem;

using arbiter::testing::kFlask;

struct RunResult {
  int exit_code = -1;
  std::string out;
};

RunResult run(const std::string& command) {
  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.out.append(buf.data(), got);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    RunResult r = run(std::string("command -v ") + name + " 2>/dev/null");
    if (r.exit_code == 0 && !r.out.empty()) return r.out.substr(0, r.out.find('\n'));
  }
  return "";
}

std::string read_text(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = arbiter::test::scratch_root() / ("arbiter_browser_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class Browser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    if (chromium_.empty())
      GTEST_SKIP() << "chromium is not installed (scripts/install-browser.sh installs it); not testing the rendering";
    if (!fs::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  }

  // One headless run with its own fresh profile, bounded so a hung browser cannot hang the tests.
  RunResult chromium(const fs::path& work, const std::string& mode, const fs::path& html, const fs::path& output) {
    static int runs = 0;
    const fs::path profile = work / ("profile-" + std::to_string(runs++));
    fs::remove_all(profile);
    fs::create_directories(profile);
    const std::string command =
        "timeout -k 5 60 " + chromium_ +
        " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
        " --disable-component-update --disable-sync --user-data-dir=" + profile.string() + " " + mode +
        " --window-size=1200,2000 file://" + html.string() + " > " + output.string() + " 2> " +
        (work / "chromium.log").string();
    RunResult r = run(command);
    if (r.exit_code != 0) r.out = read_text(work / "chromium.log");
    return r;
  }

  // Renders report.html in `dir`: a screenshot that shows something, and a DOM with the sections and SVGs.
  void expect_renders(const fs::path& dir, const std::vector<std::string>& section_ids, size_t svg_count) {
    const fs::path html = dir / "report.html";
    ASSERT_TRUE(fs::exists(html));
    const fs::path png = dir / "screenshot.png";
    const RunResult shot = chromium(dir, "--screenshot=" + png.string(), html, dir / "screenshot.out");
    ASSERT_EQ(shot.exit_code, 0) << "chromium --screenshot failed (124: timed out):\n" << shot.out;
    ASSERT_TRUE(fs::exists(png)) << png;
    EXPECT_GT(fs::file_size(png), 20000u) << "a screenshot of charts and tables is not that small";
    const arbiter::test::PngSummary image = arbiter::test::summarize_png(png.string());
    ASSERT_EQ(image.error, "") << png;
    EXPECT_EQ(image.width, 1200u);
    EXPECT_EQ(image.height, 2000u);
    EXPECT_GT(image.distinct_colors, 16u) << "the page rendered as (nearly) one colour";
    EXPECT_GT(image.non_white_fraction, 0.02);
    std::printf("screenshot: %s (%u x %u, %zu colours)\n", png.c_str(), image.width, image.height,
                image.distinct_colors);

    const fs::path dom_file = dir / "dom.html";
    const RunResult dump = chromium(dir, "--dump-dom", html, dom_file);
    ASSERT_EQ(dump.exit_code, 0) << "chromium --dump-dom failed (124: timed out):\n" << dump.out;
    const std::string dom = read_text(dom_file);
    for (const auto& id : section_ids)
      EXPECT_NE(dom.find("<section id=\"" + id + "\">"), std::string::npos) << "section " << id << " missing";
    // Parsed as SVG elements (not text or a parse error) inside the HTML DOM.
    EXPECT_EQ(count(dom, "<svg xmlns=\"http://www.w3.org/2000/svg\""), svg_count);
    EXPECT_EQ(count(dom, "</svg>"), svg_count);
    EXPECT_EQ(dom.find("parsererror"), std::string::npos);
    EXPECT_EQ(dom.find("&lt;svg"), std::string::npos);
  }

  std::string chromium_;
};

TEST_F(Browser, FlaskCorrelateReportRenders) {
  const fs::path dir = fresh_dir("correlate");
  const RunResult r = run(std::string(ARBITER_BINARY) + " eval correlate --bootstrap 200 --pred " + kFlask +
                          "palmscore_w.json --human " + kFlask + "human_score.json --report " + dir.string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_renders(dir, {"correlation", "histograms", "calibration"}, 4);
  // Every one of the 1997 scatter points survived as an element.
  EXPECT_GE(count(read_text(dir / "dom.html"), "<circle"), 1997u);
}

TEST_F(Browser, RewardBenchLayersAndRmBenchReportsRender) {
  const fs::path dir = fresh_dir("other");
  std::ofstream rows(dir / "rb.jsonl");
  const char* subsets[] = {"alpacaeval-easy", "llmbar-natural", "donotanswer", "math-prm", "hep-go"};
  for (int i = 0; i < 200; ++i)
    rows << "{\"subset\": \"" << subsets[i % 5] << "\", \"score_chosen\": " << (i % 7) * 0.5
         << ", \"score_rejected\": " << (i % 3) * 0.75 << "}\n";
  rows.close();
  const RunResult rb = run(std::string(ARBITER_BINARY) + " eval rewardbench --input " + (dir / "rb.jsonl").string() +
                           " --report " + (dir / "rb").string() + " 2>&1");
  ASSERT_EQ(rb.exit_code, 0) << rb.out;
  expect_renders(dir / "rb", {"categories", "subsets", "margins"}, 2);

  std::ofstream layers(dir / "layers.jsonl");
  for (int i = 0; i < 20; ++i) {
    layers << "{\"human\": " << i % 5 << ", \"score_values\": [1, 2, 3], \"per_layer_logits\": [";
    for (int l = 0; l <= 12; ++l)
      layers << (l ? ", " : "") << "[0, " << (l * (i % 5) + (i * 7 % 11)) * 0.1 << ", " << (i % 3) * 0.2 << "]";
    layers << "]}\n";
  }
  layers.close();
  const RunResult ly = run(std::string(ARBITER_BINARY) + " eval layers --input " + (dir / "layers.jsonl").string() +
                           " --human-field human --report " + (dir / "ly").string() + " 2>&1");
  ASSERT_EQ(ly.exit_code, 0) << ly.out;
  expect_renders(dir / "ly", {"layers"}, 1);

  std::ofstream rm(dir / "rm.jsonl");
  const char* domains[] = {"chat", "math", "code", "safety-refuse", "safety-response"};
  for (int i = 0; i < 50; ++i) {
    rm << "{\"domain\": \"" << domains[i % 5] << "\", \"num_chosen\": 3, \"scores\": [";
    for (int k = 0; k < 6; ++k) rm << (k ? ", " : "") << ((i * 7 + k * 5) % 11) * 0.3;
    rm << "]}\n";
  }
  rm.close();
  const RunResult rmb = run(std::string(ARBITER_BINARY) + " eval rmbench --input " + (dir / "rm.jsonl").string() +
                            " --report " + (dir / "rmb").string() + " 2>&1");
  ASSERT_EQ(rmb.exit_code, 0) << rmb.out;
  expect_renders(dir / "rmb", {"difficulty", "domains", "styles"}, 1);
}

}  // namespace
