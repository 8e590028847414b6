#pragma once
/// How GET /orders/{id} finds an order in the group, as a state machine without I/O: which
/// instances to ask, in which order, and what to answer from what they said.
///
/// The order's partition comes from its id (murmur2, as the Order service keys it), so its owner
/// is asked first (one hop). An order written without a key (the seed's producer.py) may be on
/// any partition: before answering 404 every other member is asked too. 404 only when every
/// partition of the topic was looked at by an instance that owns it and has restored it;
/// anything less (a rebalance, an owner that does not answer, a restore) is 503.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "services/tracker/partition_owners.hpp"

namespace order_tracker::tracker {

/// What one instance said when asked for an order from its own view only.
struct local_answer {
  enum class kind { found, absent, no_answer };
  kind what = kind::no_answer;
  /// For `absent`: the partitions the instance owns and has restored, so its "absent" covers them.
  std::vector<std::int32_t> live_partitions;
  /// For `no_answer`: why (timeout, connection refused, an unexpected status).
  std::string detail;
};

/// The final answer to the client.
struct route_outcome {
  enum class kind {
    found,       ///< 200: `instance` found it
    absent,      ///< 404: every partition was searched by its restored owner
    unavailable  ///< 503 + Retry-After: `reason` (a stable code) and `detail` (for people)
  };
  kind what = kind::unavailable;
  std::string instance;
  std::string reason;
  std::string detail;
};

/// "0,2" for {0, 2}.
std::string format_partitions(const std::vector<std::int32_t>& partitions);
/// The partitions of a `Tracker-Live-Partitions` value; malformed entries are skipped.
std::vector<std::int32_t> parse_partitions(std::string_view text);

class order_route {
 public:
  /// `self`: this instance's advertised address; `mine`: what its own view said.
  order_route(const partition_owners& owners, std::int32_t partition, std::string self,
              local_answer mine);

  /// The instances to ask now (each once, none twice over the route). Empty once the outcome is
  /// known or while answers are awaited.
  std::vector<std::string> next();
  /// Records what `instance` said.
  void answered(const std::string& instance, local_answer answer);
  /// The answer, once it is known.
  std::optional<route_outcome> outcome() const;

 private:
  partition_owners owners_;
  std::string self_;
  std::string owner_;
  std::optional<std::string> found_by_;
  bool owner_asked_ = false;
  bool others_asked_ = false;
  std::set<std::string> waiting_;
  std::set<std::string> asked_;
  /// Partitions an instance that owns and has restored them looked at, and found nothing.
  std::set<std::int32_t> covered_;
  /// Who did not answer, and why.
  std::map<std::string, std::string> silent_;
};

}  // namespace order_tracker::tracker
