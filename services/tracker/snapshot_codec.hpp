#pragma once
/// The bytes of a partition snapshot on the state topic: versioned JSON. Pure and total: any bytes
/// decode to a snapshot or to the reason they are not one; nothing throws.
///
/// {"format":"order-tracker.partition-snapshot","version":1,"topic":"orders","partition":0,
///  "offset":1234,"window":50000,"by_item":{"Shoes":[orders,quantity],...},"by_user":{...}}
///
/// A reader meets snapshots written by other versions of the Tracker: a version it does not know
/// is refused (and the partition restored from the log), never guessed at.

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

inline constexpr int snapshot_version = 1;

/// Why bytes are not a usable snapshot.
struct snapshot_error {
  enum class kind { unreadable, unknown_version };
  kind what = kind::unreadable;
  std::string detail;  ///< a sentence for the log
};

/// Lets result<T, snapshot_error>::value() throw a std::runtime_error naming the reason.
[[noreturn]] void throw_exception_from_error(const snapshot_error& e,
                                             const boost::source_location& loc);

std::string encode(const partition_snapshot& snapshot);
boost::system::result<partition_snapshot, snapshot_error> decode_snapshot(
    std::string_view bytes) noexcept;

/// The state topic's key for a partition's snapshot: one per group, topic and partition.
std::string snapshot_key(std::string_view group, std::string_view topic, std::int32_t partition);

}  // namespace order_tracker::tracker
