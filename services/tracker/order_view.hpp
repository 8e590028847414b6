#pragma once
/// The Tracker's view of the orders it has consumed: the detail of recent orders, a dedup window
/// of recent order ids, and totals per item and per user. Pure: no Asio, no Kafka, no clock (the
/// caller passes the received time). Not thread-safe: it lives on the io thread.
///
/// Design:
/// - One structure does the tracking and the dedup, because both are keyed by order id and both
///   forget in insertion order. The view remembers the ids of the last `id_window` orders and
///   keeps the detail (tracked_order) of the newest `max_orders` of them. An order whose detail
///   was evicted still has its id in the window, so a redelivery of it is still a duplicate;
///   once its id has left the window too, a redelivery counts as a new order. So size
///   `id_window` to cover the redeliveries you expect (uncommitted messages after a crash, a
///   restore), and `max_orders` to the detail you want to answer GET /orders/{id} for.
/// - Eviction is exact: the detail is dropped only when `max_orders` orders already have detail,
///   and an id is forgotten only when `id_window` ids are remembered. Evicting detail counts in
///   `evicted`; forgetting an id is not counted.
/// - Totals are kept per partition and summed by stats(), so they describe the partitions this
///   instance owns now: every order applied for them (live or restored), including orders whose
///   detail was evicted or whose id was forgotten. Eviction never changes totals; a duplicate
///   never changes them; drop_partition() removes that partition's totals with its orders and ids.
/// - The counters (orders, duplicates, evicted, restored) are monotonic for the life of the
///   view, like Prometheus counters: drop_partition() does not lower them.
/// - Restore: after an assignment the Tracker replays a partition up to its committed offset with
///   origin::restore. Those orders enter the view, the window and the totals like live ones, but
///   count in `restored`, not `orders`; a duplicate met during the replay is absorbed without
///   counting (the previous owner counted it). A live redelivery of a restored order is a
///   duplicate.
/// - Cost: apply() is O(1): one hash lookup and one insert of a 16-byte id, two string lookups in
///   the partition's totals, and at most one eviction. Memory is bounded by `id_window` ids
///   (about 60 bytes each) plus `max_orders` details (about 150 bytes each, plus user, item and
///   traceparent text longer than the small-string buffer). Slots and their string buffers are
///   reused, so at steady state apply() allocates only for user or item text new to that
///   partition's totals, and when the id index rehashes (rarely: Boost's anti-drift rehash after
///   many insert/erase cycles).
///   drop_partition() is O(remembered ids). The number of distinct users and items in the totals
///   is not bounded by the view.

#include <boost/json/value.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/uuid/uuid.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/events/order_placed.hpp"

namespace order_tracker::tracker {

/// One order as the view answers for it.
struct tracked_order {
  boost::uuids::uuid order_id{};
  std::string user;
  std::string item;
  std::int64_t quantity = 0;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::chrono::system_clock::time_point received_at{};
  std::string traceparent;  ///< the W3C traceparent header the event came with; may be empty

  friend bool operator==(const tracked_order&, const tracked_order&) = default;
};

/// Where an applied order comes from.
enum class origin {
  live,     ///< consumed in the normal course: a new order processed by this instance
  restore,  ///< replayed from the log, up to the committed offset, after an assignment
};

/// What the consumer knows about an order besides the event.
struct tracked_meta {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::chrono::system_clock::time_point received_at{};
  std::string_view traceparent;  ///< copied by apply(); empty when the message had none
  origin from = origin::live;
};

enum class apply_result {
  added,      ///< a new order: tracked, counted and in the totals
  duplicate,  ///< its order id is in the window: nothing changed but the duplicates counter
};

/// Orders and quantity summed over a set of orders.
struct totals {
  std::uint64_t orders = 0;
  std::int64_t quantity = 0;

  friend bool operator==(const totals&, const totals&) = default;
};

/// The view's counters: cheap to read, e.g. for /metrics.
struct view_counters {
  std::uint64_t orders = 0;      ///< new orders applied live
  std::uint64_t duplicates = 0;  ///< live orders absorbed as duplicates
  std::uint64_t evicted = 0;     ///< orders whose detail was dropped to stay within max_orders
  std::uint64_t restored = 0;    ///< new orders applied by a restore
  std::size_t tracked = 0;       ///< orders whose detail is held now (at most max_orders)
  std::size_t remembered = 0;    ///< order ids in the dedup window now (at most id_window)

  friend bool operator==(const view_counters&, const view_counters&) = default;
};

/// Where totals go for items and users beyond the first 10,000 distinct ones of a partition.
inline constexpr std::string_view other_key = "(others)";

/// The counters and the totals of the partitions owned now, for GET /stats.
struct view_stats {
  view_counters counters;
  std::map<std::string, totals, std::less<>> by_item;
  std::map<std::string, totals, std::less<>> by_user;
  std::vector<std::int32_t> partitions;  ///< owned, ascending
};

class order_view {
 public:
  /// Keeps the detail of up to `max_orders` orders (0: ids only) and the ids of up to
  /// `id_window` orders; a window smaller than `max_orders` is raised to it. Throws
  /// std::invalid_argument when both are 0 or the window is over 2^32 - 2.
  order_view(std::size_t max_orders, std::size_t id_window);

  /// Tracks `order` unless its id is in the window. The partition becomes owned if it was not.
  /// Throws only std::bad_alloc, after which the view must not be used again.
  apply_result apply(const events::order_placed& order, const tracked_meta& meta);

  /// Lists `partition` as owned before any order arrives for it (e.g. on assignment).
  void assign_partition(std::int32_t partition);

  /// Forgets a partition this instance no longer owns: its orders' detail, its ids and its totals.
  /// A later assignment rebuilds them by a restore. Counters are unchanged. Returns how many ids
  /// were forgotten.
  std::size_t drop_partition(std::int32_t partition);

  /// The order's detail, or nullptr when unknown or evicted. Valid until the next apply(),
  /// drop_partition() or destruction.
  const tracked_order* find(const boost::uuids::uuid& order_id) const;

  /// Whether the id is in the dedup window (with or without detail).
  bool contains(const boost::uuids::uuid& order_id) const { return index_.contains(order_id); }

  view_counters counters() const noexcept;
  view_stats stats() const;

  std::size_t max_orders() const noexcept { return max_orders_; }
  std::size_t id_window() const noexcept { return id_window_; }

 private:
  static constexpr std::uint32_t npos = 0xFFFF'FFFF;

  /// Order ids are mostly random (UUIDv4): fold the 16 bytes and let the map mix the result.
  struct uuid_hash {
    std::size_t operator()(const boost::uuids::uuid& id) const noexcept {
      std::uint64_t a = 0;
      std::uint64_t b = 0;
      std::memcpy(&a, id.data, 8);
      std::memcpy(&b, id.data + 8, 8);
      return static_cast<std::size_t>(a ^ (b * 0x9E37'79B9'7F4A'7C15ULL));
    }
  };

  /// Lets the totals be looked up by string_view without building a std::string.
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using totals_map = boost::unordered_flat_map<std::string, totals, text_hash, std::equal_to<>>;

  struct partition_state {
    totals_map by_item;
    totals_map by_user;
  };

  /// One remembered id, linked in insertion order; free nodes are chained through `next`.
  struct id_node {
    boost::uuids::uuid id{};
    std::int32_t partition = 0;
    std::uint32_t prev = npos;
    std::uint32_t next = npos;
    std::uint32_t detail = npos;  ///< index in details_, npos when only the id is kept
  };

  std::uint32_t allocate_node();
  void unlink(std::uint32_t n);
  /// Removes node `n` (and its detail) from the window.
  void forget(std::uint32_t n);
  /// Drops the detail of the oldest order that has one.
  void evict_oldest_detail();
  std::uint32_t allocate_detail();

  std::size_t max_orders_;
  std::size_t id_window_;

  /// Order id -> node index, for every id in the window.
  boost::unordered_flat_map<boost::uuids::uuid, std::uint32_t, uuid_hash> index_;
  std::vector<id_node> nodes_;
  std::vector<tracked_order> details_;
  std::vector<std::uint32_t> free_details_;
  std::uint32_t free_nodes_ = npos;
  std::uint32_t head_ = npos;  ///< oldest remembered id
  std::uint32_t tail_ = npos;  ///< newest remembered id
  /// The oldest node with detail. Nodes with detail are always the newest ones, so they are this
  /// node and every node after it.
  std::uint32_t first_detail_ = npos;

  boost::unordered_flat_map<std::int32_t, partition_state> partitions_;
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
