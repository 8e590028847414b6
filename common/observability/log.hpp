#pragma once
/// One logger for a process: one line per event on stderr, as text or as JSON. A line is written
/// with a single write(2), so librdkafka's own threads may log through it too.

#include <fmt/format.h>

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

template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::debug))
    write(level::debug, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::info))
    write(level::info, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::warn))
    write(level::warn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::error))
    write(level::error, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace order_tracker::log
