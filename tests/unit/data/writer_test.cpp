#include "data/writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <sys/stat.h>
#include "core/atomic_file.h"
#include "../../support/scratch_root.h"
#include "../../support/temp_files.h"

namespace arbiter::data {
namespace {

using arbiter::test::scratch_path;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json output_row(int i) {
  return {{"id", "row-" + std::to_string(i)}, {"score", 0.25 * i}, {"text", "caf\xc3\xa9 " + std::to_string(i)}};
}

// Runs the "job": every input row not yet in the output is written, in input order.
Status run_job(const std::string& path, int rows, bool resume, int crash_after = -1) {
  WriterOptions options;
  options.resume = resume;
  ARB_ASSIGN(JsonlWriter writer, JsonlWriter::open(path, options));
  int written = 0;
  for (int i = 0; i < rows; ++i) {
    if (writer.done("row-" + std::to_string(i))) continue;
    if (written == crash_after) return Status::ok();  // stop without closing, as a killed process would
    ARB_TRY(writer.write(output_row(i)));
    ++written;
  }
  return writer.close();
}

TEST(Writer, ResumeAfterCrashGivesTheUninterruptedFile) {
  const std::string full = scratch_path("full.jsonl"), partial = scratch_path("partial.jsonl");
  ASSERT_TRUE(run_job(full, 10, false));
  ASSERT_TRUE(run_job(partial, 10, false, 5));
  // The crash also cut the 6th line in the middle of its write.
  const std::string expected = slurp(full);
  const size_t fifth_end = [&] {
    size_t pos = 0;
    for (int i = 0; i < 5; ++i) pos = expected.find('\n', pos) + 1;
    return pos;
  }();
  EXPECT_EQ(slurp(partial), expected.substr(0, fifth_end));
  {
    std::ofstream out(partial, std::ios::binary | std::ios::app);
    out << expected.substr(fifth_end, 9);  // a truncated last line
  }
  WriterOptions options;
  options.resume = true;
  {
    auto writer = JsonlWriter::open(partial, options);
    ASSERT_TRUE(writer) << writer.message();
    EXPECT_EQ(writer->done_count(), 5u);
    EXPECT_TRUE(writer->done("row-4"));
    EXPECT_FALSE(writer->done("row-5"));
    ASSERT_TRUE(writer->close());
  }
  EXPECT_EQ(slurp(partial), expected.substr(0, fifth_end));  // the partial line is gone
  ASSERT_TRUE(run_job(partial, 10, true));
  EXPECT_EQ(slurp(partial), expected);
}

TEST(Writer, WithoutResumeStartsEmptyAndResumeOfMissingFileStartsFresh) {
  const std::string path = scratch_path("fresh.jsonl");
  ASSERT_TRUE(run_job(path, 3, false));
  ASSERT_TRUE(run_job(path, 2, false));
  const std::string overwritten = slurp(path);
  EXPECT_EQ(std::count(overwritten.begin(), overwritten.end(), '\n'), 2);
  const std::string missing = scratch_path("missing.jsonl");
  std::filesystem::remove(missing);
  ASSERT_TRUE(run_job(missing, 2, true));
  const std::string text = slurp(missing);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(Writer, ResumeRejectsACorruptCompleteLine) {
  const std::string path = scratch_path("corrupt.jsonl");
  std::ofstream(path, std::ios::binary) << "{\"id\": \"a\"}\n{broken}\n";
  WriterOptions options;
  options.resume = true;
  auto writer = JsonlWriter::open(path, options);
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.message().find("corrupt.jsonl:2"), std::string::npos) << writer.message();
}

// A blank line in a file to resume is refused, naming it: kept, the file would differ from an uninterrupted
// run's.
TEST(Writer, ABlankLineIsNotResumedOver) {
  const std::string path = scratch_path("blank-line.jsonl");
  std::ofstream(path, std::ios::binary) << "{\"id\": \"a\"}\n\n{\"id\": \"b\"}\n";
  WriterOptions options;
  options.resume = true;
  auto writer = JsonlWriter::open(path, options);
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.message().find("blank-line.jsonl:2: a blank line"), std::string::npos) << writer.message();
  EXPECT_EQ(slurp(path), "{\"id\": \"a\"}\n\n{\"id\": \"b\"}\n");
}

// The output removed (its folder deleted) while lines were appended: the run is told its lines are lost,
// instead of reporting rows written to a file that is not there.
TEST(Writer, AFileRemovedWhileWrittenIsAnError) {
  for (const bool replaced : {false, true}) {
    const std::string path = scratch_path(replaced ? "replaced.jsonl" : "removed.jsonl");
    std::filesystem::remove(path);
    auto writer = JsonlWriter::open(path);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write({{"id", 1}}));
    ASSERT_TRUE(writer->flush());
    std::filesystem::remove(path);
    if (replaced) std::ofstream(path) << "{\"id\": 9}\n";
    const Status closed = writer->close();
    ASSERT_FALSE(closed.is_ok()) << path;
    EXPECT_NE(closed.message().find(path + ": the file was removed or replaced while this run wrote it"), std::string::npos)
        << closed.message();
  }
}

TEST(Writer, InvalidUtf8IsWrittenReplacedNotThrown) {
  const std::string path = scratch_path("utf8.jsonl");
  auto writer = JsonlWriter::open(path);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write({{"id", 1}, {"text", "bad \xff"}}));
  ASSERT_TRUE(writer->close());
  EXPECT_EQ(slurp(path), "{\"id\":1,\"text\":\"bad \xef\xbf\xbd\"}\n");
}

// A fresh file is emptied when its first line comes: a run that fails before it leaves the old file whole,
// and a run that ends without lines leaves an empty one.
// A run that fails before its first line leaves no output where there was none; one that wrote a line keeps it.
// Two runs writing one output would interleave their lines and both report success: the second is refused
// before it reads, cuts or empties anything.
TEST(Writer, ASecondWriterOfOneFileIsRefused) {
  const std::string path = scratch_path("two-writers.jsonl");
  std::filesystem::remove(path);
  auto first = JsonlWriter::open(path);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->write(output_row(1)));
  for (const bool resume : {false, true}) {
    WriterOptions options;
    options.resume = resume;
    auto second = JsonlWriter::open(path, options);
    ASSERT_FALSE(second) << "resume " << resume;
    EXPECT_NE(second.message().find("another process is writing this file"), std::string::npos) << second.message();
  }
  ASSERT_TRUE(first->close());
  EXPECT_NE(slurp(path).find("\"row-1\""), std::string::npos);
  auto after = JsonlWriter::open(path);  // free once the first is closed
  EXPECT_TRUE(after) << after.message();
}

// Written whole through a link, the link's target is replaced and the link stays; a FIFO (or a device, as
// -o /dev/stdout names) is written as a stream, never renamed over.
TEST(Writer, AWholeFileGoesThroughLinksAndStreamsToFifos) {
  const std::string target = scratch_path("whole-target.jsonl"), link = scratch_path("whole-link.jsonl");
  std::filesystem::remove(link);
  std::ofstream(target) << "{\"id\": \"old\"}\n";
  std::filesystem::create_symlink(target, link);
  auto through = JsonlWriter::open(link, whole_file());
  ASSERT_TRUE(through) << through.message();
  ASSERT_TRUE(through->write(output_row(3)));
  ASSERT_TRUE(through->close());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_NE(slurp(target).find("\"row-3\""), std::string::npos) << slurp(target);

  const std::string fifo = scratch_path("whole.fifo");
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = slurp(fifo); });
  auto streamed = JsonlWriter::open(fifo, whole_file());
  ASSERT_TRUE(streamed) << streamed.message();
  ASSERT_TRUE(streamed->write(output_row(4)));
  ASSERT_TRUE(streamed->close());
  reader.join();
  EXPECT_NE(received.find("\"row-4\""), std::string::npos) << received;
  EXPECT_EQ(std::filesystem::status(fifo).type(), std::filesystem::file_type::fifo);
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(fifo));
}

// A file written whole is refused while another run writes it line by line; names under /dev and /proc
// are streams (the shell's redirection), never emptied, renamed over or given a record beside them.
TEST(Writer, AWholeFileWaitsForNoOneAndStreamsStayStreams) {
  const std::string path = scratch_path("whole-locked.jsonl");
  std::filesystem::remove(path);
  auto line_by_line = JsonlWriter::open(path);
  ASSERT_TRUE(line_by_line);
  ASSERT_TRUE(line_by_line->write(output_row(5)));
  auto whole = JsonlWriter::open(path, whole_file());
  ASSERT_FALSE(whole);
  EXPECT_NE(whole.message().find("another process is writing this file"), std::string::npos) << whole.message();
  ASSERT_TRUE(line_by_line->close());
  EXPECT_TRUE(is_stream_path("/dev/stdout"));
  EXPECT_TRUE(is_stream_path("/proc/self/fd/1"));
  EXPECT_FALSE(is_stream_path(path));
  EXPECT_FALSE(is_stream_path(scratch_path("not-there-yet.jsonl")));
}

// A .gz name would promise gzip: refused, naming the way out, before anything is written.
TEST(Writer, AGzipNameIsRefused) {
  const std::string path = scratch_path("out.jsonl.gz");
  std::filesystem::remove(path);
  auto writer = JsonlWriter::open(path);
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.message().find("out.jsonl.gz: outputs are written as plain JSONL"), std::string::npos) << writer.message();
  EXPECT_FALSE(std::filesystem::exists(path));
}

// An output made whole (select, pairs) replaces the old file only when closed: a run stopped before that
// leaves the old file as it was, and no temporary file.
TEST(Writer, AWholeFileReplacesTheOldOneOnlyWhenClosed) {
  const std::string path = scratch_path("whole.jsonl");
  std::ofstream(path) << "{\"id\": \"old\"}\n";
  {
    auto stopped = JsonlWriter::open(path, whole_file());
    ASSERT_TRUE(stopped);
    ASSERT_TRUE(stopped->write(output_row(1)));
    ASSERT_TRUE(stopped->flush());
    EXPECT_EQ(slurp(path), "{\"id\": \"old\"}\n");
  }
  EXPECT_EQ(slurp(path), "{\"id\": \"old\"}\n");
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(path));
  auto finished = JsonlWriter::open(path, whole_file());
  ASSERT_TRUE(finished);
  ASSERT_TRUE(finished->write(output_row(2)));
  ASSERT_TRUE(finished->close());
  EXPECT_EQ(slurp(path).find("old"), std::string::npos) << slurp(path);
  EXPECT_NE(slurp(path).find("\"row-2\""), std::string::npos) << slurp(path);
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(path));
}

// The file a whole-file write replaces keeps its permissions: a private (0600) output stays private, one
// shared with a group stays shared. A line written as it was read (select's kept lines) is written as is.
TEST(Writer, AReplacedFileKeepsItsPermissionsAndLinesAsRead) {
  for (const mode_t mode : {mode_t(0600), mode_t(0664), mode_t(04755)}) {
    const std::string path = scratch_path("private.jsonl");
    std::ofstream(path) << "{\"id\": \"old\"}\n";
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto writer = JsonlWriter::open(path, whole_file());
    ASSERT_TRUE(writer);
    const std::string as_read = R"({"b":1,"id":"x","a":1e5})";
    ASSERT_TRUE(writer->write(nlohmann::json::parse(as_read), as_read));
    ASSERT_TRUE(writer->close());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode & 0777);  // never setuid / setgid
    EXPECT_EQ(slurp(path), as_read + "\n");
    std::filesystem::remove(path);
  }
}

TEST(Writer, AFileMadeByAFailedRunIsRemoved) {
  const std::string path = scratch_path("never-written.jsonl");
  std::filesystem::remove(path);
  {
    auto failed_early = JsonlWriter::open(path);
    ASSERT_TRUE(failed_early);
    EXPECT_TRUE(std::filesystem::exists(path));
    JsonlWriter moved = std::move(failed_early).value();  // a moved-from writer removes nothing
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    auto failed_later = JsonlWriter::open(path);
    ASSERT_TRUE(failed_later);
    ASSERT_TRUE(failed_later->write(output_row(1)));
    ASSERT_TRUE(failed_later->flush());
  }
  EXPECT_NE(slurp(path).find("\"row-1\""), std::string::npos) << slurp(path);
  std::filesystem::remove(path);
  {
    auto no_rows = JsonlWriter::open(path);
    ASSERT_TRUE(no_rows);
    ASSERT_TRUE(no_rows->close());
  }
  EXPECT_TRUE(std::filesystem::exists(path)) << "a run over no rows writes an empty file";
}

TEST(Writer, AFreshFileIsEmptiedByItsFirstLineNotByOpening) {
  const std::string path = scratch_path("old-output.jsonl");
  const std::string old = "{\"id\": \"old\"}\n";
  std::ofstream(path, std::ios::binary) << old;
  int emptied = 0;
  std::string held_when_called;
  WriterOptions options;
  options.on_emptied = [&]() {
    ++emptied;
    held_when_called = slurp(path);  // called before the file is emptied (a run record written first)
    return Status::ok();
  };
  {
    auto failed_early = JsonlWriter::open(path, options);
    ASSERT_TRUE(failed_early);
  }  // gone without a line or a close, as a run that stops on its first row
  EXPECT_EQ(slurp(path), old);
  EXPECT_EQ(emptied, 0);

  auto writer = JsonlWriter::open(path, options);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write(output_row(1)));
  ASSERT_TRUE(writer->write(output_row(2)));
  ASSERT_TRUE(writer->close());
  EXPECT_EQ(emptied, 1);
  EXPECT_EQ(held_when_called, old);
  EXPECT_EQ(slurp(path), output_row(1).dump() + "\n" + output_row(2).dump() + "\n");

  // A callback that fails (a run record that cannot be written) leaves the old file as it was.
  const std::string kept = slurp(path);
  {
    WriterOptions refusing = options;
    refusing.on_emptied = []() { return Status::error("record not written"); };
    auto writer_refused = JsonlWriter::open(path, refusing);
    ASSERT_TRUE(writer_refused);
    EXPECT_FALSE(writer_refused->write(output_row(3)));
  }
  EXPECT_EQ(slurp(path), kept);

  auto no_lines = JsonlWriter::open(path, options);
  ASSERT_TRUE(no_lines);
  ASSERT_TRUE(no_lines->close());
  EXPECT_EQ(slurp(path), "");
  EXPECT_EQ(emptied, 2);
}

}  // namespace
}  // namespace arbiter::data
