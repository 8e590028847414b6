#pragma once
/// Where a newly assigned partition's restore starts, from what the snapshot lookup found. Pure.
///
/// With a usable snapshot at offset O (totals over [0, O)) and the committed offset C, the restore
/// starts the totals from the snapshot and reads from max(log start, min(O, C) - window): the
/// `window` offsets before O rebuild the dedup ids (and the detail) without touching the totals,
/// [O, C) adds to them, and from C on the partition is live. A snapshot ahead of C (written,
/// then the commit lost in a crash) is as good: [C, O) is processed live again but is already in
/// the totals (apply_result::covered). Without a usable snapshot the restore reads the partition
/// from its log start, as a full replay: slower, never wrong.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

/// What the snapshot lookup of a partition found.
struct snapshot_lookup {
  bool failed = false;                ///< the state topic could not be read (see `error`)
  std::string error;                  ///< why, when `failed`
  std::optional<std::string> record;  ///< the latest snapshot record's value, if any
  std::int64_t log_start = -1;        ///< the partition's low watermark (-1: unknown)
  std::int64_t log_end = -1;          ///< the partition's high watermark (-1: unknown)
};

struct restore_plan {
  /// The totals to start from; empty: from nothing, reading from the log start.
  std::optional<partition_snapshot> start;
  /// The first offset to read (0: the log start).
  std::int64_t read_from = 0;
  /// Set when a snapshot should have been used but was not (missing, unreadable, inconsistent):
  /// why, for a warning and a metric.
  std::string fallback;
};

/// `committed`: the group's committed offset (< 0: none; then nothing is restored and no snapshot
/// is needed).
restore_plan plan_restore(const snapshot_lookup& found, std::string_view topic,
                          std::int32_t partition, std::int64_t committed, std::uint64_t window);

}  // namespace order_tracker::tracker
