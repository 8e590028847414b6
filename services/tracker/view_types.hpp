#pragma once
/// The value types the Tracker's view is made of and answers with. Pure.

#include <boost/uuid/uuid.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace order_tracker::tracker {

/// One order as the view answers for it.
struct tracked_order {
  boost::uuids::uuid order_id{};
  std::string user;
  std::string item;
  std::int64_t quantity = 0;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  /// The event's Kafka timestamp (when the producer created it) when it has one: the same
  /// whichever instance applies it, live or by a restore. Else the time it was applied.
  std::chrono::system_clock::time_point received_at{};
  bool event_time = false;  ///< received_at is the event's timestamp, not the time applied
  std::string traceparent;  ///< the W3C traceparent header the event came with; may be empty

  friend bool operator==(const tracked_order&, const tracked_order&) = default;
};

/// Where an applied order comes from.
enum class origin {
  live,     ///< consumed in the normal course: processed by this instance
  restore,  ///< replayed from the log, below the committed offset, after an assignment
};

/// What the consumer knows about an order besides the event.
struct tracked_meta {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::chrono::system_clock::time_point received_at{};
  std::string_view traceparent;  ///< copied by apply(); empty when the message had none
  origin from = origin::live;
  bool event_time = false;  ///< received_at is the event's timestamp
};

enum class apply_result {
  added,      ///< a new order: tracked, counted and in the totals
  duplicate,  ///< its order id was seen within the window: nothing changed but a counter
  covered,    ///< below the partition's snapshot offset: already in its totals, tracked only
};

/// Orders and quantity summed over a set of orders.
struct totals {
  std::uint64_t orders = 0;
  std::int64_t quantity = 0;

  friend bool operator==(const totals&, const totals&) = default;
};

/// The view's counters: cheap to read, e.g. for /metrics.
struct view_counters {
  std::uint64_t orders = 0;  ///< new orders applied live
  std::uint64_t duplicates =
      0;                       ///< live orders absorbed (a duplicate id, or covered by a snapshot)
  std::uint64_t evicted = 0;   ///< orders whose detail was dropped to stay within the budget
  std::uint64_t restored = 0;  ///< orders rebuilt into the view by a restore
  std::size_t tracked = 0;     ///< orders whose detail is held now
  std::size_t remembered = 0;  ///< order ids in the dedup windows now

  friend bool operator==(const view_counters&, const view_counters&) = default;
};

/// Where totals go for items and users beyond the first 10,000 distinct ones of a partition.
inline constexpr std::string_view other_key = "(others)";

using totals_by_name = std::map<std::string, totals, std::less<>>;

/// The counters and the totals of the partitions owned now, for GET /stats.
struct view_stats {
  view_counters counters;
  totals_by_name by_item;
  totals_by_name by_user;
  std::vector<std::int32_t> partitions;  ///< owned, ascending
};

/// A partition's totals over offsets [0, offset): what a restore starts from instead of the log
/// start. `window` is the dedup window the totals were counted with.
struct partition_snapshot {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = 0;
  std::uint64_t window = 0;
  totals_by_name by_item;
  totals_by_name by_user;

  friend bool operator==(const partition_snapshot&, const partition_snapshot&) = default;
};

}  // namespace order_tracker::tracker
