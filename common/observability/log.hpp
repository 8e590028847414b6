#pragma once
/// One logger for a process: one line per event on stderr, as text or as JSON.
///
/// Lines are formatted on the thread that logs and handed to a sink thread, which writes them
/// to stderr in batches (common/observability/log_sink.hpp): a slow stderr stalls that thread,
/// never the io thread. What does not fit in the sink's bounded buffer is dropped, counted
/// (dropped_lines()) and reported on stderr as soon as it takes lines again. Any thread may
/// log, librdkafka's included. What is pending is written when the process exits normally.

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace order_tracker::log {

enum class level { debug = 0, info, warn, error, off };
enum class format { text, json };

std::optional<level> parse_level(std::string_view name);
std::optional<format> parse_format(std::string_view name);

/// Set once at start, before any other thread exists.
void configure(level min_level, format fmt);
bool enabled(level l) noexcept;

/// Writes one line. `component` says which part of the service speaks ("kafka", "http", ...).
void write(level l, std::string_view component, std::string_view message) noexcept;

/// Writes one line whose message is `f` formatted with `args`, without a string in between.
void vwrite(level l, std::string_view component, fmt::string_view f,
            fmt::format_args args) noexcept;

/// Waits until every line logged before the call is on stderr, or `timeout` passes. True if
/// all are. For a message written to std::cerr that must come after the log lines.
bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(2)) noexcept;

/// Lines lost since start because stderr did not keep up (or failed): for /metrics.
std::uint64_t dropped_lines() noexcept;

/// Test hook: from now on lines go to `fd` (not owned, kept open by the caller) through a new
/// sink holding at most `capacity` bytes waiting; the previous sink writes what it holds first.
/// Only while no other thread logs.
void redirect_for_test(int fd, std::size_t capacity);

template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::debug)) vwrite(level::debug, component, f, fmt::make_format_args(args...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::info)) vwrite(level::info, component, f, fmt::make_format_args(args...));
}
template <typename... Args>
void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::warn)) vwrite(level::warn, component, f, fmt::make_format_args(args...));
}
template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::error)) vwrite(level::error, component, f, fmt::make_format_args(args...));
}

}  // namespace order_tracker::log
