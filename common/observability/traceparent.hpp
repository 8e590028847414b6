#pragma once
/// W3C Trace Context `traceparent` values ("00-<32 hex trace id>-<16 hex parent id>-<2 hex
/// flags>"), so one order can be followed from its HTTP request to the Tracker's log line.

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace order_tracker::observability {

/// True for a well-formed version-00 traceparent with non-zero trace and parent ids.
bool is_valid_traceparent(std::string_view value);

/// Makes the traceparent for a new span: same trace id and flags as `incoming` when that is
/// valid, otherwise a new trace; always a new parent (span) id.
class trace_ids {
 public:
  explicit trace_ids(std::uint64_t seed = std::random_device{}());
  std::string child_of(std::optional<std::string_view> incoming);

 private:
  std::mt19937_64 rng_;
};

}  // namespace order_tracker::observability
