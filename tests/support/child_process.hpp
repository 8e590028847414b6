#pragma once
/// A child process for tests: started with posix_spawn, its stdout and stderr captured in a file,
/// signalled and reaped by pid. The destructor kills (SIGKILL) and reaps it if it still runs, so a
/// failing test leaves nothing behind.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace order_tracker::test {

class child_process {
 public:
  /// `env` entries (NAME=value) are added to the current environment, replacing same names.
  child_process(std::vector<std::string> argv, std::filesystem::path output,
                std::vector<std::string> env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;

  /// The exit code (128 + signal when killed by one), or empty if it still runs at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// The exit code, or -1 if it still runs at the deadline (printable in test assertions).
  int exit_code_after(std::chrono::milliseconds timeout) { return wait(timeout).value_or(-1); }
  bool running();

  /// Everything it wrote so far (stdout and stderr interleaved).
  std::string output() const;
  const std::filesystem::path& output_path() const { return output_; }

  /// Waits until `predicate(output())` holds; false at the deadline or if the process exited.
  template <typename Predicate>
  bool wait_for(Predicate predicate, std::chrono::milliseconds timeout);

  /// Waits until the output contains `text` `times` times.
  bool wait_for_text(const std::string& text, std::chrono::milliseconds timeout,
                     std::size_t times = 1);

 private:
  std::filesystem::path output_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

/// How many times `needle` occurs in `haystack`.
std::size_t count_of(const std::string& haystack, const std::string& needle);

/// Runs a command to completion (bounded), returning its exit code and output.
std::pair<int, std::string> run_command(std::vector<std::string> argv,
                                        std::chrono::milliseconds timeout,
                                        std::vector<std::string> env = {});

template <typename Predicate>
bool child_process::wait_for(Predicate predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (predicate(output())) return true;
    if (!running() || std::chrono::steady_clock::now() >= deadline) return predicate(output());
    // Tests watch a log file: a short sleep between looks is the simplest honest wait.
    struct timespec ts {
      0, 20'000'000
    };
    nanosleep(&ts, nullptr);
  }
}

}  // namespace order_tracker::test
