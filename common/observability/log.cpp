#include "common/observability/log.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>

namespace order_tracker::log {
namespace {

// Written once by configure() before other threads start; read by librdkafka's threads after.
std::atomic<level> min_level_{level::info};
std::atomic<format> format_{format::text};

constexpr std::array<std::string_view, 4> level_names{"debug", "info", "warn", "error"};

void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, millis);
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
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
    std::string line;
    line.reserve(64 + message.size());
    const auto name = level_names[static_cast<std::size_t>(l)];
    if (format_.load(std::memory_order_relaxed) == format::json) {
      line += "{\"ts\":\"";
      append_timestamp(line);
      line += "\",\"level\":\"";
      line += name;
      line += "\",\"component\":";
      append_json_string(line, component);
      line += ",\"msg\":";
      append_json_string(line, message);
      line += "}\n";
    } else {
      append_timestamp(line);
      fmt::format_to(std::back_inserter(line), " {:<5} [{}] {}\n", name, component, message);
    }
    // One write per line keeps lines whole when several threads log at once.
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
  } catch (...) {
    // Logging must never take the service down; a line lost to bad_alloc is the lesser harm.
  }
}

}  // namespace order_tracker::log
