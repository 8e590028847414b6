#include "services/tracker/restore_plan.hpp"

#include <algorithm>

#include "services/tracker/snapshot_codec.hpp"

namespace order_tracker::tracker {

restore_plan plan_restore(const snapshot_lookup& found, std::string_view topic,
                          std::int32_t partition, std::int64_t committed, std::uint64_t window) {
  restore_plan plan;
  if (committed <= 0) return plan;  // nothing processed before: nothing to restore
  const auto full_replay = [&](std::string why) {
    plan.fallback = std::move(why);
    return plan;
  };
  if (found.failed) return full_replay("cannot read the state topic: " + found.error);
  if (!found.record) return full_replay("no snapshot");
  auto decoded = decode_snapshot(*found.record);
  if (!decoded) return full_replay("snapshot unusable: " + decoded.error().detail);
  partition_snapshot& s = *decoded;
  if (s.topic != topic || s.partition != partition)
    return full_replay("snapshot of " + s.topic + "-" + std::to_string(s.partition));
  // Totals counted with another window would not be the totals this window gives.
  if (s.window != window) {
    return full_replay("snapshot counted with a dedup window of " + std::to_string(s.window) +
                       " offsets, this Tracker uses " + std::to_string(window));
  }
  // Past the log's end: the topic was deleted and created again since.
  if (found.log_end >= 0 && s.offset > found.log_end) {
    return full_replay("snapshot at offset " + std::to_string(s.offset) + " is past the log end " +
                       std::to_string(found.log_end));
  }
  // Retention removed orders the snapshot does not cover: a full replay of what is left is the
  // only answer a replay can check.
  if (found.log_start > 0 && s.offset < found.log_start) {
    return full_replay("snapshot at offset " + std::to_string(s.offset) +
                       " is older than the log start " + std::to_string(found.log_start));
  }
  const std::int64_t w = static_cast<std::int64_t>(std::min<std::uint64_t>(window, INT64_MAX));
  const std::int64_t from = std::min(s.offset, committed);
  plan.read_from = std::max<std::int64_t>({0, found.log_start, from > w ? from - w : 0});
  plan.start = std::move(s);
  return plan;
}

}  // namespace order_tracker::tracker
