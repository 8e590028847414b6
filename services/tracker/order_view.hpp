#pragma once
/// The Tracker's view of the orders it has consumed: one partition_view per partition it owns
/// (its dedup window, its totals, the detail of its newest orders). Pure: no Asio, no Kafka, no
/// clock. Not thread-safe: it lives on the io thread.
///
/// - Each partition is independent: a restore of one never evicts another's ids or detail, and
///   drop_partition() forgets exactly that partition's state.
/// - Dedup is per partition and by offsets (partition_view.hpp): an order id seen again within
///   `window` offsets of the same partition is a duplicate. Every member of the group must run
///   with the same window, since totals (and snapshots) are counted with it.
/// - Detail: the instance's budget of `max_orders` details is shared evenly by the partitions it
///   owns, re-divided on every assignment change (a shrinking share drops the oldest details, and
///   counts them as evicted).
/// - The counters (orders, duplicates, evicted, restored) are monotonic for the life of the
///   view, like Prometheus counters: drop_partition() does not lower them; `tracked` and
///   `remembered` describe what is held now.
/// - Cost: apply() is one lookup of the partition, then O(1) in its view.

#include <boost/json/value.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/events/order_placed.hpp"
#include "services/tracker/partition_view.hpp"
#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

class order_view {
 public:
  /// Keeps the detail of up to `max_orders` orders in all (0: none) and recognises duplicates
  /// within `window` offsets of a partition. Throws std::invalid_argument when the window is 0.
  order_view(std::size_t max_orders, std::uint64_t window);

  /// Applies the message at meta.offset of meta.partition. The partition becomes owned if it was
  /// not. Throws only std::bad_alloc, after which the view must not be used again.
  apply_result apply(const events::order_placed& order, const tracked_meta& meta);

  /// Lists `partition` as owned before any order arrives for it (e.g. on assignment), with
  /// empty state.
  void assign_partition(std::int32_t partition);

  /// Starts an owned partition's totals from a snapshot, before anything is applied to it.
  void start_from(const partition_snapshot& snapshot);

  /// The partition's totals and the offset they cover, if it is owned.
  std::optional<partition_snapshot> snapshot(std::int32_t partition, std::string topic) const;

  /// Forgets a partition this instance no longer owns: its detail, its ids and its totals.
  /// Counters are unchanged. Returns how many ids were forgotten.
  std::size_t drop_partition(std::int32_t partition);

  /// The order's detail, or nullptr when unknown or evicted. Valid until the next apply(),
  /// assign_partition(), drop_partition() or destruction.
  const tracked_order* find(const boost::uuids::uuid& order_id) const;

  /// Whether the id is in a dedup window (with or without detail).
  bool contains(const boost::uuids::uuid& order_id) const;

  view_counters counters() const noexcept;
  view_stats stats() const;

  std::size_t max_orders() const noexcept { return max_orders_; }
  std::uint64_t window() const noexcept { return window_; }
  /// The detail each owned partition may keep now.
  std::size_t details_per_partition() const noexcept;

 private:
  partition_view& owned(std::int32_t partition);
  void share_budget();

  std::size_t max_orders_;
  std::uint64_t window_;
  boost::unordered_flat_map<std::int32_t, partition_view> partitions_;
  view_counters counters_;
};

/// {"order_id","user","item","quantity","partition","offset","received_at","traceparent"}, with
/// received_at in RFC 3339 UTC with milliseconds and traceparent omitted when empty.
boost::json::value to_json(const tracked_order& order);

/// {"orders","duplicates","evicted","restored","tracked","remembered",
///  "by_item": {"<item>": {"orders", "quantity"}}, "by_user": {...}, "partitions": [...]}.
boost::json::value to_json(const view_stats& stats);

/// e.g. "2024-05-01T12:34:56.789Z": UTC, milliseconds, truncated toward the past.
std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t);

}  // namespace order_tracker::tracker
