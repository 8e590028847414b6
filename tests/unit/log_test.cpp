#include "common/observability/log.hpp"

#define BOOST_TEST_MODULE log
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/observability/log_sink.hpp"

namespace otlog = order_tracker::log;
using namespace std::chrono_literals;

namespace {

/// A file that exists while the test runs and is removed when closed.
class temp_file {
 public:
  temp_file() : f_(std::tmpfile()) { BOOST_TEST_REQUIRE(f_ != nullptr); }
  ~temp_file() { std::fclose(f_); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  int fd() const { return fileno(f_); }
  std::string contents() const {
    std::string out;
    char buf[65536];
    for (off_t at = 0;;) {
      const auto n = ::pread(fd(), buf, sizeof buf, at);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
      at += n;
    }
  }

 private:
  std::FILE* f_;
};

/// A pipe whose reader does not read until told to, with the smallest buffer the kernel allows.
class stalled_pipe {
 public:
  stalled_pipe() {
    BOOST_TEST_REQUIRE(::pipe(fds_) == 0);
    ::fcntl(fds_[1], F_SETPIPE_SZ, 4096);
  }
  ~stalled_pipe() {
    close_writer();
    if (reader_.joinable()) reader_.join();
    ::close(fds_[0]);
  }
  stalled_pipe(const stalled_pipe&) = delete;
  stalled_pipe& operator=(const stalled_pipe&) = delete;

  int writer() const { return fds_[1]; }
  /// The reader starts taking everything written, until the write end is closed.
  void start_reading() {
    reader_ = std::thread([this] {
      char buf[65536];
      for (;;) {
        const auto n = ::read(fds_[0], buf, sizeof buf);
        if (n <= 0) return;
        read_.append(buf, static_cast<std::size_t>(n));
      }
    });
  }
  /// Closes the write end and returns all that was read.
  std::string finish() {
    close_writer();
    reader_.join();
    return read_;
  }

 private:
  void close_writer() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

  int fds_[2] = {-1, -1};
  std::thread reader_;
  std::string read_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  BOOST_TEST(start == text.size(), "a line without its '\\n' at the end");
  return out;
}

void numbered_notice(std::string& out, std::uint64_t dropped) {
  out += "dropped " + std::to_string(dropped) + "\n";
}

/// Every line is "line <i>" or "dropped <n>"; the numbers run from 0 to `pushed` - 1 with no
/// gap that a notice right before it does not account for. Returns the dropped total.
std::uint64_t check_numbered(const std::string& text, std::uint64_t pushed) {
  std::uint64_t next = 0;
  std::uint64_t dropped = 0;
  for (const auto& line : lines_of(text)) {
    if (line.starts_with("dropped ")) {
      const auto n = std::stoull(line.substr(8));
      BOOST_TEST(n > 0U);
      next += n;
      dropped += n;
    } else {
      BOOST_TEST_REQUIRE(line == "line " + std::to_string(next));
      ++next;
    }
  }
  BOOST_TEST(next == pushed);
  return dropped;
}

std::string numbered(std::uint64_t i) {
  return "line " + std::to_string(i) + "\n";
}

/// Pushes the numbered lines [from, to); returns how many the sink kept.
std::uint64_t push_numbered(otlog::line_sink& s, std::uint64_t from, std::uint64_t to) {
  std::uint64_t kept = 0;
  for (std::uint64_t i = from; i < to; ++i)
    kept += s.push(numbered(i)) ? 1 : 0;
  return kept;
}

/// Points the process's logger at a file for one test, and back at stderr after it.
struct logger_on_file {
  logger_on_file() {
    otlog::configure(otlog::level::info, otlog::format::text);
    otlog::redirect_for_test(file.fd(), otlog::line_sink::default_capacity);
  }
  ~logger_on_file() {
    otlog::redirect_for_test(STDERR_FILENO, otlog::line_sink::default_capacity);
    otlog::configure(otlog::level::info, otlog::format::text);
  }
  std::string written() {
    BOOST_TEST(otlog::flush(10s));
    return file.contents();
  }
  temp_file file;
};

const std::string ts = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)";

/// Counts how often it is formatted.
struct counted {
  static inline std::atomic<int> formatted{0};
};

}  // namespace

template <>
struct fmt::formatter<counted> : fmt::formatter<std::string_view> {
  auto format(const counted&, fmt::format_context& ctx) const {
    ++counted::formatted;
    return fmt::formatter<std::string_view>::format("counted", ctx);
  }
};

BOOST_AUTO_TEST_SUITE(sink)

BOOST_AUTO_TEST_CASE(lines_come_out_whole_and_in_the_order_they_were_pushed) {
  temp_file f;
  constexpr std::uint64_t n = 100'000;
  {
    otlog::line_sink s(f.fd(), 4 << 20, &numbered_notice);  // more than all the lines: no drops
    BOOST_TEST(push_numbered(s, 0, n) == n);
    BOOST_TEST(s.dropped() == 0U);
  }
  BOOST_TEST(check_numbered(f.contents(), n) == 0U);
}

BOOST_AUTO_TEST_CASE(flush_returns_once_every_line_pushed_before_it_is_written) {
  temp_file f;
  otlog::line_sink s(f.fd(), 1 << 20, &numbered_notice);
  push_numbered(s, 0, 1000);
  BOOST_TEST(s.flush(10s));
  BOOST_TEST(check_numbered(f.contents(), 1000) == 0U);
  BOOST_TEST(s.flush(0ms), "nothing left to wait for");
}

BOOST_AUTO_TEST_CASE(destroying_the_sink_writes_every_line_it_holds) {
  temp_file f;
  {
    otlog::line_sink s(f.fd(), 1 << 20, &numbered_notice);
    push_numbered(s, 0, 5000);
  }
  BOOST_TEST(check_numbered(f.contents(), 5000) == 0U);
}

BOOST_AUTO_TEST_CASE(after_close_lines_are_written_directly_in_order) {
  temp_file f;
  otlog::line_sink s(f.fd(), 1 << 20, &numbered_notice);
  push_numbered(s, 0, 100);
  BOOST_TEST(s.close(10s));
  BOOST_TEST(push_numbered(s, 100, 200) == 100U);
  BOOST_TEST(check_numbered(f.contents(), 200) == 0U);
}

BOOST_AUTO_TEST_CASE(lines_from_several_threads_stay_whole_and_each_thread_keeps_its_order) {
  temp_file f;
  constexpr int threads = 4;
  constexpr int per_thread = 20'000;
  {
    otlog::line_sink s(f.fd(), 8 << 20, &numbered_notice);
    std::vector<std::thread> loggers;
    for (int t = 0; t < threads; ++t) {
      loggers.emplace_back([&s, t] {
        for (int i = 0; i < per_thread; ++i) {
          s.push("thread " + std::to_string(t) + " line " + std::to_string(i) + "\n");
        }
      });
    }
    for (auto& l : loggers)
      l.join();
    BOOST_TEST(s.dropped() == 0U);
  }
  std::vector<int> next(threads, 0);
  const std::regex shape(R"(thread (\d) line (\d+))");
  for (const auto& line : lines_of(f.contents())) {
    std::smatch m;
    BOOST_TEST_REQUIRE(std::regex_match(line, m, shape), line);
    const auto t = std::stoi(m[1].str());
    BOOST_TEST_REQUIRE(std::stoi(m[2].str()) == next[t]);
    ++next[t];
  }
  for (int t = 0; t < threads; ++t)
    BOOST_TEST(next[t] == per_thread);
}

BOOST_AUTO_TEST_CASE(a_stalled_reader_stalls_the_writer_never_the_caller_and_drops_are_reported) {
  stalled_pipe pipe;
  constexpr std::uint64_t n = 20'000;
  std::uint64_t refused = 0;
  auto slowest = std::chrono::steady_clock::duration::zero();
  {
    otlog::line_sink s(pipe.writer(), 4096, &numbered_notice);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto before = std::chrono::steady_clock::now();
      if (!s.push(numbered(i))) ++refused;
      slowest = std::max(slowest, std::chrono::steady_clock::now() - before);
    }
    const auto took = std::chrono::steady_clock::now() - start;
    // Nobody reads: a caller that waited for the pipe would never have got here. The bounds
    // are loose for a loaded CI machine; a push is a lock and a copy.
    BOOST_TEST_MESSAGE(
        "20,000 pushes into a stalled pipe: "
        << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us, slowest "
        << std::chrono::duration_cast<std::chrono::microseconds>(slowest).count() << " us");
    BOOST_TEST(took < 2s);
    BOOST_TEST(slowest < 500ms);
    BOOST_TEST(refused > n / 2);
    BOOST_TEST(s.dropped() == refused);
    BOOST_TEST(!s.flush(50ms), "the writer is stuck in its write");

    pipe.start_reading();
    BOOST_TEST(s.flush(10s));
  }
  // Everything kept came out in order; each gap has a notice saying how many lines it lost.
  BOOST_TEST(check_numbered(pipe.finish(), n) == refused);
}

BOOST_AUTO_TEST_CASE(a_line_longer_than_the_buffer_is_dropped_and_reported) {
  temp_file f;
  {
    otlog::line_sink s(f.fd(), 64, &numbered_notice);
    BOOST_TEST(s.push(numbered(0)));
    BOOST_TEST(!s.push(std::string(100, 'x') + "\n"));
    BOOST_TEST(s.flush(10s));
    BOOST_TEST(s.push(numbered(2)));
    BOOST_TEST(s.dropped() == 1U);
  }
  BOOST_TEST(check_numbered(f.contents(), 3) == 1U);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(logger)

BOOST_FIXTURE_TEST_CASE(text_lines_keep_their_format, logger_on_file) {
  otlog::info("tracker", "Received order {}: {} x {}", "id", 2, "Shoes");
  otlog::write(otlog::level::warn, "kafka", "broker down");
  otlog::error("http", "{}", "bad");
  const auto lines = lines_of(written());
  BOOST_TEST_REQUIRE(lines.size() == 3U);
  BOOST_TEST(std::regex_match(
                 lines[0], std::regex(ts + R"( info  \[tracker\] Received order id: 2 x Shoes)")),
             lines[0]);
  BOOST_TEST(std::regex_match(lines[1], std::regex(ts + R"( warn  \[kafka\] broker down)")),
             lines[1]);
  BOOST_TEST(std::regex_match(lines[2], std::regex(ts + R"( error \[http\] bad)")), lines[2]);
}

BOOST_FIXTURE_TEST_CASE(json_lines_keep_their_format_and_escaping, logger_on_file) {
  otlog::configure(otlog::level::debug, otlog::format::json);
  otlog::debug("c\"x", "{} back\\slash new\nline tab\t cr\r bell\x01 del\x7f caf\xc3\xa9", "\"q\"");
  otlog::write(otlog::level::info, "kafka", "plain");
  const auto lines = lines_of(written());
  BOOST_TEST_REQUIRE(lines.size() == 2U);
  const std::regex shape("\\{\"ts\":\"(" + ts + ")\",(.*)\\}");
  std::smatch m;
  BOOST_TEST_REQUIRE(std::regex_match(lines[0], m, shape), lines[0]);
  BOOST_TEST(m[2].str() ==
             R"("level":"debug","component":"c\"x","msg":"\"q\" back\\slash new\nline tab\t cr\r )"
             "bell\\u0001 del\x7f caf\xc3\xa9\"");
  BOOST_TEST_REQUIRE(std::regex_match(lines[1], m, shape), lines[1]);
  BOOST_TEST(m[2].str() == R"("level":"info","component":"kafka","msg":"plain")");
}

BOOST_FIXTURE_TEST_CASE(nothing_is_formatted_for_a_level_that_is_off, logger_on_file) {
  counted::formatted = 0;
  otlog::debug("c", "{}", counted{});
  otlog::configure(otlog::level::off, otlog::format::text);
  otlog::error("c", "{}", counted{});
  otlog::write(otlog::level::error, "c", "not written either");
  BOOST_TEST(counted::formatted == 0);
  otlog::configure(otlog::level::info, otlog::format::text);
  otlog::info("c", "{}", counted{});
  BOOST_TEST(counted::formatted == 1);
  const auto lines = lines_of(written());
  BOOST_TEST_REQUIRE(lines.size() == 1U);
  BOOST_TEST(lines[0].ends_with(" info  [c] counted"), lines[0]);
}

BOOST_AUTO_TEST_CASE(a_stalled_stderr_costs_lines_that_are_counted_and_reported) {
  otlog::configure(otlog::level::info, otlog::format::text);
  stalled_pipe pipe;
  otlog::redirect_for_test(pipe.writer(), 4096);
  constexpr int n = 10'000;
  for (int i = 0; i < n; ++i)
    otlog::info("tracker", "order {}", i);
  const auto dropped = otlog::dropped_lines();
  BOOST_TEST(dropped > 0U);
  pipe.start_reading();
  BOOST_TEST(otlog::flush(10s));
  otlog::redirect_for_test(STDERR_FILENO, otlog::line_sink::default_capacity);

  const std::regex order(ts + R"( info  \[tracker\] order (\d+))");
  const std::regex notice(ts + R"( warn  \[log\] dropped (\d+) lines: stderr too slow)");
  std::uint64_t next = 0;
  std::uint64_t reported = 0;
  for (const auto& line : lines_of(pipe.finish())) {
    std::smatch m;
    if (std::regex_match(line, m, notice)) {
      next += std::stoull(m[1].str());
      reported += std::stoull(m[1].str());
    } else {
      BOOST_TEST_REQUIRE(std::regex_match(line, m, order), line);
      BOOST_TEST_REQUIRE(std::stoull(m[1].str()) == next);
      ++next;
    }
  }
  BOOST_TEST(next == static_cast<std::uint64_t>(n));
  BOOST_TEST(reported == dropped);
}

BOOST_AUTO_TEST_SUITE_END()
