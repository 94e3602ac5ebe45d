#include "fetch/fetch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/ascii.h"
#include "core/atomic_file.h"
#include "core/log.h"
#include "fetch/cache.h"
#include "fetch/hf_listing.h"
#include "fetch/hub_check.h"
#include "fetch/http_transfer.h"
#include "fetch/sha256.h"
#include "io/gguf_split_name.h"

namespace arbiter::fetch {

namespace fs = std::filesystem;

namespace {

struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// A sidecar's hex value (a hash, a commit id), lower case; "" when the file is absent or holds no valid one.
std::string read_hex_sidecar(const std::string& path, bool (*valid)(std::string_view)) {
  std::ifstream in(path);
  std::string hex;
  in >> hex;
  return valid(hex) ? ascii_lower(hex) : std::string();
}

std::string read_sidecar(const std::string& entry) { return read_hex_sidecar(sha256_sidecar_path(entry), is_sha256_hex); }

// sha256sum's format, so `sha256sum -c NAME.sha256` checks the entry from its folder.
Status write_sidecar(const std::string& entry, const std::string& hex) {
  return write_file_atomically(sha256_sidecar_path(entry), hex + "  " + fs::path(entry).filename().string() + "\n");
}

void remove_entry(const std::string& entry) {
  std::error_code ec;
  fs::remove(entry, ec);
  fs::remove(sha256_sidecar_path(entry), ec);
  fs::remove(commit_sidecar_path(entry), ec);
}

std::string read_commit_sidecar(const std::string& entry) {
  return read_hex_sidecar(commit_sidecar_path(entry), is_git_blob_id);
}

// Keeps the commit an entry was served at beside it; an unknown one removes what an older download kept.
Status write_commit_sidecar(const std::string& entry, const std::string& commit) {
  if (commit.empty()) {
    std::error_code ec;
    fs::remove(commit_sidecar_path(entry), ec);
    return Status::ok();
  }
  return write_file_atomically(commit_sidecar_path(entry), commit + "\n");
}

// Fills r.sha256 and returns true when the cache entry can be used as it is. A cached file that does not
// match --sha256 is removed, so that it is downloaded again.
Result<bool> use_cached(FetchResult& r, const std::string& expected) {
  std::error_code ec;
  if (!fs::is_regular_file(r.cache_path, ec)) return false;
  if (!expected.empty()) {
    // Asked to verify: hash the bytes themselves rather than trust the sidecar.
    ARB_ASSIGN(std::string actual, sha256_file(r.cache_path));
    if (actual != expected) {
      log_warn(r.cache_path + " (cached " + r.url + ") has sha256 " + actual + ", not " + expected +
               "; downloading again");
      remove_entry(r.cache_path);
      return false;
    }
    r.sha256 = actual;
    if (read_sidecar(r.cache_path) != actual) ARB_TRY(write_sidecar(r.cache_path, actual));
    return true;
  }
  r.sha256 = read_sidecar(r.cache_path);
  if (r.sha256.empty()) {
    ARB_ASSIGN(r.sha256, sha256_file(r.cache_path));
    ARB_TRY(write_sidecar(r.cache_path, r.sha256));
    return true;
  }
  // Written after its sidecar, the entry was changed since it was downloaded: through a hard link to it
  // (pull --out places one), or by hand. Its hash says whether its bytes are still the ones downloaded.
  const auto written = fs::last_write_time(r.cache_path, ec);
  const auto hashed = fs::last_write_time(sha256_sidecar_path(r.cache_path), ec);
  if (!ec && written > hashed) {
    ARB_ASSIGN(const std::string actual, sha256_file(r.cache_path));
    if (actual != r.sha256) {
      log_warn(r.cache_path + " (cached " + r.url + ") was changed since it was downloaded (sha256 " + actual +
               ", downloaded " + r.sha256 + "; a copy placed with --out is the same file, edited in place?); "
               "downloading again");
      remove_entry(r.cache_path);
      return false;
    }
    ARB_TRY(write_sidecar(r.cache_path, actual));  // the same bytes, written again: hashed now
  }
  return true;
}

Status download(FetchResult& r, const std::string& expected, const FetchOptions& options) {
  const std::string part = r.cache_path + ".part";
  FileDescriptor file;
  file.fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (file.fd < 0) return error(part + ": cannot open: " + std::strerror(errno));
  // Two pulls of one URL would interleave their bytes in one .part file: the second one stops instead.
  if (::flock(file.fd, LOCK_EX | LOCK_NB) != 0)
    return error("another process is downloading " + r.url + " into " + part + "; try again when it is done");

  TransferOptions transfer;
  const std::string origin = url_origin(r.url);
  if (!options.hf_token.empty() && !origin.empty() && origin == url_origin(options.hf_endpoint))
    transfer.bearer_token = options.hf_token;
  transfer.connect_timeout_s = options.connect_timeout_s;
  transfer.stall_timeout_s = options.stall_timeout_s;
  transfer.progress = options.progress;
  transfer.label = "pull " + fs::path(r.cache_path).filename().string();

  // What the bytes already in the .part file were downloaded as, so that a resume asks for the same file.
  const std::string validator_path = part + ".validator";
  // A download given up on goes whole: its bytes and the record of what they were.
  auto discard_part = [&part, &validator_path] {
    std::error_code ec;
    fs::remove(part, ec);
    fs::remove(validator_path, ec);
  };
  std::error_code validator_ec;
  if (::lseek(file.fd, 0, SEEK_END) > 0) {
    std::ifstream in(validator_path);
    std::string validator, total;
    if (std::getline(in, validator) && std::getline(in, total)) {
      transfer.if_range = validator;
      transfer.expected_total = std::strtoll(total.c_str(), nullptr, 10);
    }
  } else {
    fs::remove(validator_path, validator_ec);
  }
  // Recorded as a body starts, before its first byte is written: a run killed mid-transfer leaves it.
  // A 206 that says less than the response the bytes began with keeps what that one said; a 200 replaces
  // the bytes, and its own word with them.
  transfer.on_body_start = [&validator_path, &transfer](const std::string& validator, int64_t total, bool continued) {
    std::ofstream(validator_path) << (continued && validator.empty() ? transfer.if_range : validator) << "\n"
                                  << (continued && total < 0 ? transfer.expected_total : total) << "\n";
  };
  const int attempts = options.max_attempts < 1 ? 1 : options.max_attempts;
  for (int attempt = 1;; ++attempt) {
    TransferOutcome out = transfer_into(r.url, file.fd, transfer);
    if (out.restarted || !out.validator.empty()) transfer.if_range = out.validator;
    if (out.restarted || out.total >= 0) transfer.expected_total = out.total;
    r.bytes_downloaded += out.bytes_received;
    // A 64-digit X-Linked-Etag is the SHA-256 the Hub records for an LFS file (a small file's is its git
    // blob id, 40 digits, which says nothing about SHA-256).
    if (is_sha256_hex(out.linked_etag)) r.server_sha256 = out.linked_etag;
    if (is_git_blob_id(out.repo_commit)) r.repo_commit = out.repo_commit;
    if (out.restarted)
      log_warn(r.url + ": the server did not continue the partial download (it ignored the range, or the file "
               "changed since it was begun); started over");
    if (out.status.is_ok()) break;
    if (out.http_status == 404 && options.missing_ok) {
      discard_part();
      r.missing = true;
      return Status::ok();
    }
    if (!out.retryable || attempt >= attempts) {
      const off_t kept = ::lseek(file.fd, 0, SEEK_END);
      if (kept > 0)
        return out.status.with_context(std::to_string(kept) + " bytes kept in " + part +
                                       " (the same command resumes from there)");
      discard_part();
      return out.status;
    }
    log_warn(out.status.message() + "; resuming (transfer " + std::to_string(attempt + 1) + " of " +
             std::to_string(attempts) + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(options.retry_delay_ms));
  }
  if (::fsync(file.fd) != 0) return error(part + ": fsync failed: " + std::strerror(errno));

  // Hashed from the file once it is complete: one path for fresh and resumed downloads, and reading back
  // at disk speed costs little next to the download.
  ARB_ASSIGN(std::string actual, sha256_file(part));
  if (!expected.empty() && actual != expected) {
    discard_part();
    return error(r.url + ": sha256 mismatch: expected " + expected + ", downloaded " + actual +
                 "; the file was deleted");
  }
  if (!r.server_sha256.empty() && actual != r.server_sha256) {
    discard_part();
    return error(r.url + ": sha256 mismatch: the Hub records " + r.server_sha256 +
                 " for this file (X-Linked-Etag, or the repository's listing), downloaded " + actual +
                 "; the file was deleted (a file changed on the Hub while it was pulled gives this too: run again)");
  }
  ARB_TRY(write_sidecar(r.cache_path, actual));
  ARB_TRY(write_commit_sidecar(r.cache_path, r.repo_commit));
  std::error_code ec;
  fs::rename(part, r.cache_path, ec);
  if (ec) return error(r.cache_path + ": cannot move the finished download into place: " + ec.message());
  fs::remove(validator_path, ec);
  r.sha256 = actual;
  return Status::ok();
}

// Puts the cache entry at `out` as a whole file: a hard link when both are on one filesystem, else a copy,
// either one renamed into place (over the file a link at `out` points to, so the link stays). A device,
// FIFO or socket (-o /dev/stdout) is refused: a rename would replace the node itself, and pull's result is
// a file that other commands open by its path.
// What -o names, followed through links, must be a file or nothing yet: not a device, FIFO, socket or
// directory (a new file under /dev/shm is a file).
Status check_out_path(const std::string& requested) {
  std::error_code ec;
  const fs::file_status status = fs::status(requested, ec);
  if (requested.empty() || (fs::exists(status) && !fs::is_regular_file(status)))
    return error("-o " + requested + " " + why_not_a_file(requested) + ", not a file: pull writes a file (give a "
                 "path, or read the cached file whose path it prints)");
  return Status::ok();
}

Status place_at(const std::string& entry, const std::string& requested) {
  ARB_TRY(check_out_path(requested));
  std::error_code ec;
  // A link keeps pointing where it did: the file it names is replaced.
  std::string out = requested;
  if (fs::is_symlink(fs::symlink_status(requested, ec))) {
    const fs::path resolved = fs::canonical(requested, ec);
    if (!ec) out = resolved.string();
  }
  if (fs::exists(out, ec) && fs::equivalent(entry, out, ec)) return Status::ok();
  const fs::path parent = fs::path(out).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return error(parent.string() + ": cannot create: " + ec.message());
  }
  const std::string tmp = out + ".part";
  fs::remove(tmp, ec);
  fs::create_hard_link(entry, tmp, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(entry, tmp, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return error(out + ": cannot copy " + entry + " there");
    }
  }
  fs::rename(tmp, out, ec);
  if (ec) return error(out + ": cannot write: " + ec.message());
  return Status::ok();
}

}  // namespace

std::string hf_token_file() {
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
  };
  if (!env("HF_TOKEN_PATH").empty()) return env("HF_TOKEN_PATH");
  if (!env("HF_HOME").empty()) return (fs::path(env("HF_HOME")) / "token").string();
  // huggingface_hub's HF_HOME: $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
  const std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty() && xdg[0] == '/') return (fs::path(xdg) / "huggingface" / "token").string();
  if (!env("HOME").empty()) return (fs::path(env("HOME")) / ".cache" / "huggingface" / "token").string();
  return "";
}

void apply_environment(FetchOptions& options) {
  if (const char* token = std::getenv("HF_TOKEN"); token != nullptr && *token != '\0') {
    options.hf_token = token;
  } else if (const std::string file = hf_token_file(); !file.empty()) {
    // The token `huggingface-cli login` (or `hf auth login`) saved, as huggingface_hub reads it.
    std::ifstream in(file);
    std::string saved;
    if (in >> saved) options.hf_token = saved;
  }
  if (const char* endpoint = std::getenv("HF_ENDPOINT"); endpoint != nullptr && *endpoint != '\0')
    options.hf_endpoint = endpoint;
  if (const char* offline = std::getenv("HF_HUB_OFFLINE"); offline != nullptr) {
    const std::string value = ascii_lower(offline);
    options.offline = value == "1" || value == "true" || value == "yes" || value == "on";
  }
}

Result<FetchResult> fetch(const std::string& source, const FetchOptions& options) {
  FetchResult r;
  ARB_ASSIGN(r.url, resolve_source(source, options.hf_endpoint));
  if (!options.out_path.empty()) ARB_TRY(check_out_path(options.out_path));  // before any byte is fetched
  const std::string expected = ascii_lower(options.expected_sha256);
  if (!expected.empty() && !is_sha256_hex(expected))
    return error("sha256 '" + options.expected_sha256 + "': expected 64 hex digits");
  std::string cache_dir = options.cache_dir;
  if (cache_dir.empty()) {
    ARB_ASSIGN(cache_dir, default_cache_dir());
  }
  r.cache_path = cache_entry_path(cache_dir, r.url);
  std::error_code ec;
  fs::create_directories(fs::path(r.cache_path).parent_path(), ec);
  if (ec) return error(fs::path(r.cache_path).parent_path().string() + ": cannot create the cache folder: " + ec.message());

  ARB_ASSIGN(r.cache_hit, use_cached(r, expected));
  if (r.cache_hit) r.repo_commit = read_commit_sidecar(r.cache_path);
  // A pinned hash (--sha256) already says which bytes are wanted; otherwise a branch may have moved on.
  if (r.cache_hit && expected.empty() && !options.offline && names_a_moving_revision(source)) {
    ARB_ASSIGN(const CacheCheck check, check_cache_entry(source, r.url, r.cache_path, r.sha256, options));
    if (check.outcome == CacheCheck::Outcome::kCurrent && r.repo_commit.empty() && !check.repo_commit.empty()) {
      // Pulled before the Hub said (or by an older arbiter): the file is as the commit just checked serves it.
      r.repo_commit = check.repo_commit;
      ARB_TRY(write_commit_sidecar(r.cache_path, r.repo_commit));
    }
    if (!check.unchecked_because.empty()) {
      log_warn(source + ": the cached copy was not checked against the Hub (" + check.unchecked_because +
               "); using it");
    } else if (check.outcome == CacheCheck::Outcome::kGone) {
      // The stale file goes from the cache and from where it was placed, so that nothing reads it as current.
      if (!options.out_path.empty() && fs::exists(options.out_path, ec) && fs::equivalent(options.out_path, r.cache_path, ec))
        fs::remove(options.out_path, ec);
      remove_entry(r.cache_path);
      fs::remove(fs::path(r.cache_path).parent_path(), ec);  // the entry's folder, now empty
      if (options.missing_ok) {
        r.missing = true;
        r.cache_hit = false;
        return r;
      }
      return error(source + ": the Hub no longer has this file (HEAD " + r.url +
                   ": HTTP 404); the copy pulled before was removed from the cache");
    } else if (check.outcome == CacheCheck::Outcome::kChanged) {
      log_info(source + ": changed on the Hub since it was pulled (now " +
               (check.record.sha256.empty() ? "git blob " + check.record.git_blob_id : "sha256 " + check.record.sha256) +
               "); pulling it again");
      remove_entry(r.cache_path);
      r.cache_hit = false;
      if (!check.record.sha256.empty()) r.server_sha256 = ascii_lower(check.record.sha256);
    }
  }
  if (!r.cache_hit && options.offline) {
    fs::remove(fs::path(r.cache_path).parent_path(), ec);  // the folder made for it, when empty
    if (options.missing_ok) {
      r.missing = true;
      return r;
    }
    return error(source + ": not in the cache, and HF_HUB_OFFLINE is set, so it is not downloaded (" + r.url + ")");
  }
  if (!r.cache_hit) {
    if (const auto listed = options.listed_records.find(source); listed != options.listed_records.end())
      r.server_sha256 = ascii_lower(listed->second.sha256);  // what the download must hash to
    r.repo_commit.clear();  // a stale copy's
    if (Status downloaded = download(r, expected, options); !downloaded) {
      // The folder made for it goes when nothing was written there (a partial download stays, to resume).
      fs::remove(fs::path(r.cache_path).parent_path(), ec);
      return downloaded;
    }
  }
  if (r.missing) {
    fs::remove(fs::path(r.cache_path).parent_path(), ec);  // the folder made for it, when empty
    return r;
  }
  r.path = r.cache_path;
  if (!options.out_path.empty()) {
    ARB_TRY(place_at(r.cache_path, options.out_path));
    r.path = options.out_path;
  }
  r.size = int64_t(fs::file_size(r.path, ec));
  if (ec) return error(r.path + ": " + ec.message());
  // A source pinned to a full commit id names its commit even where the Hub did not say it.
  if (r.repo_commit.empty() && source.rfind("hf://", 0) == 0) {
    if (const Result<HfSourceParts> parts = parse_hf_source(source); parts && is_git_blob_id(parts->repo.revision))
      r.repo_commit = ascii_lower(parts->repo.revision);
  }
  if (options.served_commits && !r.repo_commit.empty()) options.served_commits->insert(r.repo_commit);
  return r;
}

Result<std::vector<FetchResult>> fetch_with_split_files(const std::string& source, const FetchOptions& options) {
  const std::optional<GgufSplitName> split = parse_gguf_split_name(source);
  if (!split || split->index != 0 || split->count == 1) {
    ARB_ASSIGN(FetchResult whole, fetch(source, options));
    return std::vector<FetchResult>{std::move(whole)};
  }
  std::optional<GgufSplitName> out;
  if (!options.out_path.empty()) {
    out = parse_gguf_split_name(options.out_path);
    if (!out || out->index != 0 || out->count != split->count) {
      return error(options.out_path + ": " + source + " is the first of " + std::to_string(split->count) +
                   " files, which go side by side: give -o a name ending in '" +
                   gguf_split_name("", 0, split->count) + "'");
    }
  }
  std::vector<FetchResult> files;
  for (int64_t i = 0; i < split->count; ++i) {
    FetchOptions file_options = options;
    if (i > 0) file_options.expected_sha256.clear();
    if (out) file_options.out_path = gguf_split_name(out->prefix, i, out->count);
    const std::string file_source = gguf_split_name(split->prefix, i, split->count);
    Result<FetchResult> file = fetch(file_source, file_options);
    if (!file.is_ok()) {
      return error("file " + std::to_string(i + 1) + " of " + std::to_string(split->count) + " of " + source + ": " +
                   file.message());
    }
    files.push_back(std::move(*file));
  }
  return files;
}

}  // namespace arbiter::fetch
