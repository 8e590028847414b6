#include "common/observability/traceparent.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace order_tracker::observability {
namespace {

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

}  // namespace

bool is_valid_traceparent(std::string_view v) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16),
             flags = v.substr(53, 2);
  return version == "00" && is_lower_hex(trace) && is_lower_hex(parent) && is_lower_hex(flags) &&
         !all_zero(trace) && !all_zero(parent);
}

trace_ids::trace_ids(std::uint64_t seed) : rng_(seed) {}

std::string trace_ids::child_of(std::optional<std::string_view> incoming) {
  std::uint64_t span = 0;
  while (span == 0)
    span = rng_();
  if (incoming && is_valid_traceparent(*incoming)) {
    return fmt::format("00-{}-{:016x}-{}", incoming->substr(3, 32), span, incoming->substr(53, 2));
  }
  std::uint64_t hi = 0, lo = 0;
  while (hi == 0 && lo == 0) {
    hi = rng_();
    lo = rng_();
  }
  return fmt::format("00-{:016x}{:016x}-{:016x}-01", hi, lo, span);
}

}  // namespace order_tracker::observability
