#pragma once
/// One partition's part of the Tracker's view: its dedup window, its totals and the detail of its
/// newest orders. Pure: no Asio, no Kafka, no clock. Not thread-safe: it lives on the io thread.
///
/// Dedup is defined on the partition's log, so that any replay of the same offsets decides it
/// the same way: the message at offset `o` is a duplicate when a message with the same order id
/// was seen at an offset in [o - window, o]. So whether an order counts depends only on the
/// `window` offsets before it, and a restore rebuilds the exact dedup state by replaying those
/// offsets. Totals after any sequence of snapshots, crashes and restores are then the totals a
/// full replay of the partition gives (the model test in tracker_restore_test checks this).
///
/// Totals may start from a snapshot (start_from): offsets below the snapshot's offset are then
/// already counted, and applying one of them only rebuilds the window and the detail.
///
/// Memory: at most window + 1 remembered ids (about 56 bytes each: a 24-byte ring entry and a
/// 32-byte hash slot) and `max_details` details (about 150 bytes each, plus text beyond the
/// small-string buffer). Slots are reused, so at steady state apply() allocates only for user or
/// item names new to the totals.

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/uuid/uuid.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/events/order_placed.hpp"
#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

class partition_view {
 public:
  /// `window`: offsets a duplicate is recognised across. `max_details`: orders whose detail is
  /// kept (0: none).
  partition_view(std::int32_t partition, std::uint64_t window, std::size_t max_details);

  /// Applies the message at meta.offset, updating `counters` (orders, duplicates, restored,
  /// evicted). Throws only std::bad_alloc.
  apply_result apply(const events::order_placed& order, const tracked_meta& meta,
                     view_counters& counters);

  /// Starts the totals from a snapshot; call before anything is applied.
  void start_from(const partition_snapshot& snapshot);

  /// The totals over [0, next_offset()) of the partition, for a snapshot.
  partition_snapshot snapshot(std::string topic) const;
  /// One past the highest offset applied (or the snapshot's offset): what a snapshot covers.
  std::int64_t next_offset() const noexcept { return next_offset_; }

  /// Keeps the newest `max_details` details; the others are dropped and counted as evicted.
  void set_max_details(std::size_t max_details, view_counters& counters);

  const tracked_order* find(const boost::uuids::uuid& order_id) const;
  bool contains(const boost::uuids::uuid& order_id) const { return index_.contains(order_id); }

  /// Lets the totals be looked up by string_view without building a std::string.
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using totals_map = boost::unordered_flat_map<std::string, totals, text_hash, std::equal_to<>>;

  const totals_map& by_item() const noexcept { return by_item_; }
  const totals_map& by_user() const noexcept { return by_user_; }
  std::size_t remembered() const noexcept { return index_.size(); }
  std::size_t tracked() const noexcept { return details_.size(); }
  std::uint64_t window() const noexcept { return window_; }

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
  struct seen {
    std::int64_t offset;   ///< the latest offset the id was seen at
    std::uint32_t detail;  ///< slot in details_, or npos; valid only if that slot holds the id
  };
  /// One sighting, in offset order: when it leaves the window, the id goes unless seen since.
  struct sighting {
    boost::uuids::uuid id;
    std::int64_t offset;
  };

  void forget_before(std::int64_t offset);
  void keep_detail(const events::order_placed& order, const tracked_meta& meta, seen& s,
                   view_counters& counters);
  void rebuild_details(std::size_t keep, view_counters& counters);

  std::int32_t partition_;
  std::uint64_t window_;
  std::size_t max_details_;
  std::int64_t next_offset_ = 0;
  std::int64_t covered_until_ = 0;  ///< offsets below are in the totals already (snapshot)

  boost::unordered_flat_map<boost::uuids::uuid, seen, uuid_hash> index_;
  /// A ring of sightings, oldest at ring_head_; its size a power of two, grown by doubling while
  /// the window fills (up to the first power of two above window + 1 entries).
  std::vector<sighting> ring_;
  std::size_t ring_head_ = 0;
  std::size_t ring_size_ = 0;
  /// The newest details, a ring: the next one goes to next_detail_ (the oldest when full).
  std::vector<tracked_order> details_;
  std::size_t next_detail_ = 0;

  totals_map by_item_;
  totals_map by_user_;
};

}  // namespace order_tracker::tracker
