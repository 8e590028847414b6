// bench_log: what one per-order info line costs the thread that logs it, through the logger's
// sink thread and, for comparison, written directly (one write(2) per line, as the logger did
// before the sink, and fprintf on a stdio stream) to /dev/null and to a file.
//
//   bench_log [lines] [directory for the file, default /tmp]
//
// "caller" is the wall time per line on the logging thread (what the io thread pays); "cpu" is
// the process CPU time per line, the sink thread's writes included, up to the last line written.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <thread>

#include "common/observability/log.hpp"
#include "common/observability/log_sink.hpp"

namespace {

namespace otlog = order_tracker::log;

constexpr std::string_view order_id = "6f1c2c5e-8f5b-4d3a-9a53-2f0d6f4e9b21";

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// The timestamp as the logger wrote it before the sink: gmtime_r and a format per line.
std::string timestamp_per_line() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

struct result {
  double caller_ns;
  double cpu_ns;
};

/// Runs `line(i)` for i in [0, n), then `finish()`; per-line caller wall time and process CPU.
result measure(std::uint64_t n, const std::function<void(std::uint64_t)>& line,
               const std::function<void()>& finish) {
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i)
    line(i);
  const auto t1 = std::chrono::steady_clock::now();
  finish();
  const double cpu1 = cpu_seconds();
  const auto dn = static_cast<double>(n);
  return {
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) /
          dn,
      (cpu1 - cpu0) * 1e9 / dn};
}

void report(std::string_view what, std::string_view where, result r, std::string_view note = "") {
  fmt::print("{:<34} {:<10} caller {:7.0f} ns/line   cpu {:7.0f} ns/line  {}\n", what, where,
             r.caller_ns, r.cpu_ns, note);
}

void sink_info(std::uint64_t i) {
  otlog::info("tracker", "Received order {}: {} x {} from {} (partition {}, offset {})", order_id,
              2, "Shoes", "alice", i % 3, i);
}

/// One write(2) per line, formatted as the logger did before the sink.
void direct_write(int fd, std::uint64_t i) {
  std::string line = timestamp_per_line();
  fmt::format_to(std::back_inserter(line), " {:<5} [{}] {}\n", "info", "tracker",
                 fmt::format("Received order {}: {} x {} from {} (partition {}, offset {})",
                             order_id, 2, "Shoes", "alice", i % 3, i));
  [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
}

void direct_fprintf(std::FILE* f, std::uint64_t i) {
  std::fprintf(f, "%s %-5s [%s] Received order %.*s: %d x %s from %s (partition %d, offset %llu)\n",
               timestamp_per_line().c_str(), "info", "tracker", static_cast<int>(order_id.size()),
               order_id.data(), 2, "Shoes", "alice", static_cast<int>(i % 3),
               static_cast<unsigned long long>(i));
}

}  // namespace

int main(int argc, char* argv[]) {
  const std::uint64_t n = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const std::string path = dir + "/bench_log.out";
  otlog::configure(otlog::level::info, otlog::format::text);
  fmt::print("{} per-order info lines of ~130 bytes each\n", n);

  const auto open_target = [&](bool file) {
    return file ? ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)
                : ::open("/dev/null", O_WRONLY);
  };
  for (const bool file : {false, true}) {
    const std::string_view where = file ? "file" : "/dev/null";

    int fd = open_target(file);
    otlog::redirect_for_test(fd, otlog::line_sink::default_capacity);
    const auto before = otlog::dropped_lines();
    const auto r = measure(n, sink_info, [] { otlog::flush(std::chrono::seconds(60)); });
    report("log::info through the sink", where, r,
           fmt::format("dropped {}", otlog::dropped_lines() - before));
    otlog::redirect_for_test(STDERR_FILENO, otlog::line_sink::default_capacity);
    ::close(fd);

    fd = open_target(file);
    report("direct: format + write(2) per line", where,
           measure(
               n, [fd](std::uint64_t i) { direct_write(fd, i); }, [] {}));
    ::close(fd);

    std::FILE* f = file ? std::fopen(path.c_str(), "w") : std::fopen("/dev/null", "w");
    std::setvbuf(f, nullptr, _IONBF, 0);  // as stderr is
    report("direct: fprintf, unbuffered", where,
           measure(
               n, [f](std::uint64_t i) { direct_fprintf(f, i); }, [] {}));
    std::fclose(f);

    f = file ? std::fopen(path.c_str(), "w") : std::fopen("/dev/null", "w");
    report("direct: fprintf, stdio-buffered", where,
           measure(
               n, [f](std::uint64_t i) { direct_fprintf(f, i); }, [f] { std::fflush(f); }));
    std::fclose(f);
  }

  // A reader that never reads: the caller goes on, the lines are dropped and counted.
  int fds[2];
  if (::pipe(fds) == 0) {
    otlog::redirect_for_test(fds[1], otlog::line_sink::default_capacity);
    const auto before = otlog::dropped_lines();
    const auto r = measure(n, sink_info, [] {});
    report("log::info through the sink", "stalled pipe", r,
           fmt::format("dropped {}", otlog::dropped_lines() - before));
    // Let the stuck writer finish before the pipe goes: read until the sink has written all.
    std::thread drain([fd = fds[0]] {
      char buf[65536];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
    });
    otlog::redirect_for_test(STDERR_FILENO, otlog::line_sink::default_capacity);
    ::close(fds[1]);
    drain.join();
    ::close(fds[0]);
  }
  ::unlink(path.c_str());
}
