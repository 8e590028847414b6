#include "common/observability/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iterator>
#include <mutex>

#include "common/observability/log_sink.hpp"

namespace order_tracker::log {
namespace {

// Written once by configure() before other threads start; read by librdkafka's threads after.
std::atomic<level> min_level_{level::info};
std::atomic<format> format_{format::text};

constexpr std::array<std::string_view, 4> level_names{"debug", "info", "warn", "error"};

// The process's sink, made by the first line logged and never destroyed: lines logged from a
// static destructor, or by a thread still running at exit, find it still there. An atexit
// handler writes out what it holds.
std::atomic<line_sink*> sink_{nullptr};
std::once_flag sink_once_;
// At exit, a stderr that takes nothing for this long loses what is left, rather than hang the
// exit forever as a blocking write would.
constexpr auto exit_flush_timeout = std::chrono::seconds(2);

// Lines are built in a stack buffer: no allocation for a line shorter than its inline size, and
// nothing thread_local with a destructor, which a line logged during exit could outlive.
using line_buffer = fmt::memory_buffer;

void append(line_buffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

void append_timestamp(line_buffer& out) {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  // "YYYY-MM-DDTHH:MM:SS" is formatted once per second and thread, not once per line.
  struct second_text {
    std::time_t secs = -1;
    std::array<char, 32> text{};
    std::size_t size = 0;
  };
  thread_local second_text cached;  // trivially destructible: safe to use during exit
  if (cached.secs != secs) {
    std::tm utc{};
    gmtime_r(&secs, &utc);
    const auto r = fmt::format_to_n(
        cached.text.data(), cached.text.size(), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached.size = std::min(r.size, cached.text.size());
    cached.secs = secs;
  }
  out.append(cached.text.data(), cached.text.data() + cached.size);
  const std::array<char, 5> tail{'.', static_cast<char>('0' + millis / 100),
                                 static_cast<char>('0' + millis / 10 % 10),
                                 static_cast<char>('0' + millis % 10), 'Z'};
  out.append(tail.data(), tail.data() + tail.size());
}

void append_json_string(line_buffer& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        append(out, "\\\"");
        break;
      case '\\':
        append(out, "\\\\");
        break;
      case '\n':
        append(out, "\\n");
        break;
      case '\r':
        append(out, "\\r");
        break;
      case '\t':
        append(out, "\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

/// Text: `<ts> <level, 5 wide> [<component>] <message>`. JSON: ts, level, component, msg.
/// `message(out)` appends the message, unescaped; for JSON it goes through `scratch` first.
template <typename Message>
void append_line(line_buffer& out, level l, std::string_view component, Message&& message) {
  const auto name = level_names[static_cast<std::size_t>(l)];
  if (format_.load(std::memory_order_relaxed) == format::json) {
    append(out, "{\"ts\":\"");
    append_timestamp(out);
    append(out, "\",\"level\":\"");
    append(out, name);
    append(out, "\",\"component\":");
    append_json_string(out, component);
    append(out, ",\"msg\":");
    line_buffer scratch;
    message(scratch);
    append_json_string(out, {scratch.data(), scratch.size()});
    append(out, "}\n");
  } else {
    append_timestamp(out);
    out.push_back(' ');
    append(out, name);
    append(out, std::string_view("     ", 5 - name.size()));  // fmt's {:<5}
    append(out, " [");
    append(out, component);
    append(out, "] ");
    message(out);
    out.push_back('\n');
  }
}

void append_drop_notice(std::string& out, std::uint64_t dropped) {
  line_buffer line;
  append_line(line, level::warn, "log", [dropped](line_buffer& m) {
    fmt::format_to(std::back_inserter(m), "dropped {} lines: stderr too slow", dropped);
  });
  out.append(line.data(), line.size());
}

void flush_at_exit() {
  if (auto* s = sink_.load(std::memory_order_acquire)) s->close(exit_flush_timeout);
}

line_sink* sink() noexcept {
  if (auto* s = sink_.load(std::memory_order_acquire)) return s;
  try {
    std::call_once(sink_once_, [] {
      sink_.store(new line_sink(STDERR_FILENO, line_sink::default_capacity, &append_drop_notice),
                  std::memory_order_release);
      std::atexit(&flush_at_exit);
    });
  } catch (...) {
    // No thread to be had: lines are written directly, as before the sink. The next line
    // tries again.
  }
  return sink_.load(std::memory_order_acquire);
}

void emit(const line_buffer& line) noexcept {
  const std::string_view text{line.data(), line.size()};
  if (auto* s = sink()) {
    s->push(text);
  } else {
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, text.data(), text.size());
  }
}

}  // namespace

std::optional<level> parse_level(std::string_view name) {
  for (std::size_t i = 0; i < level_names.size(); ++i) {
    if (name == level_names[i]) return static_cast<level>(i);
  }
  if (name == "warning") return level::warn;
  if (name == "off") return level::off;
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view name) {
  if (name == "text") return format::text;
  if (name == "json") return format::json;
  return std::nullopt;
}

void configure(level min_level, format fmt) {
  min_level_.store(min_level);
  format_.store(fmt);
}

bool enabled(level l) noexcept {
  return l >= min_level_.load(std::memory_order_relaxed);
}

void write(level l, std::string_view component, std::string_view message) noexcept {
  if (!enabled(l) || l == level::off) return;
  try {
    line_buffer line;
    append_line(line, l, component, [message](line_buffer& m) { append(m, message); });
    emit(line);
  } catch (...) {
    // Logging must never take the service down; a line lost to bad_alloc is the lesser harm.
  }
}

void vwrite(level l, std::string_view component, fmt::string_view f,
            fmt::format_args args) noexcept {
  if (!enabled(l) || l == level::off) return;
  try {
    line_buffer line;
    append_line(line, l, component,
                [&](line_buffer& m) { fmt::vformat_to(std::back_inserter(m), f, args); });
    emit(line);
  } catch (...) {
    // As in write(): a line lost to bad_alloc (or a bad format) is the lesser harm.
  }
}

bool flush(std::chrono::milliseconds timeout) noexcept {
  auto* s = sink_.load(std::memory_order_acquire);
  return s == nullptr || s->flush(timeout);
}

std::uint64_t dropped_lines() noexcept {
  auto* s = sink_.load(std::memory_order_acquire);
  return s == nullptr ? 0 : s->dropped();
}

void redirect_for_test(int fd, std::size_t capacity) {
  auto* fresh = new line_sink(fd, capacity, &append_drop_notice);
  sink();  // the first sink and the atexit handler exist before they are replaced
  delete sink_.exchange(fresh, std::memory_order_acq_rel);
}

}  // namespace order_tracker::log
