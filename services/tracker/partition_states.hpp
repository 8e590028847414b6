#pragma once
/// Where each partition this Tracker owns stands, and which offset may be committed for it. Pure.
///
/// After an assignment a partition first waits for its committed offset C, then replays the log
/// below C into the view (restore: no log lines, nothing counted as new, nothing stored), then
/// goes live. While live, offsets are handed out in order, and a message whose dead-letter write
/// is still in flight holds back the commit of everything after it, so a crash can never skip it.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace order_tracker::tracker {

class partition_states {
 public:
  enum class route {
    hold,     ///< the committed offset is not known yet: keep the message until it is
    restore,  ///< below the committed offset: rebuild the view with it, silently
    live,     ///< process it
    drop,     ///< not (or no longer) ours: leave it to the owner, touch nothing
  };

  /// Tells one assignment of a partition from the next: the committed offset looked up for an
  /// assignment that has since been revoked (and perhaps given back) is stale.
  using assignment = std::uint64_t;

  /// Starts a new assignment of `p`, waiting for its committed offset; the id is never reused.
  assignment assigned(std::int32_t p);
  /// The committed offset looked up for assignment `a` of `p` (< 0: nothing committed, everything
  /// is new). Returns false, changing nothing, when `a` is no longer `p`'s assignment or its
  /// committed offset is already known.
  bool committed_known(std::int32_t p, assignment a, std::int64_t committed);
  void revoked(std::int32_t p);

  /// Decides what to do with the message at `offset` of partition `p`; a message at or past the
  /// committed offset ends the restore.
  route route_of(std::int32_t p, std::int64_t offset);
  /// The log start moved past the committed offset (retention): nothing is left to restore.
  void log_start(std::int32_t p, std::int64_t low_watermark);

  /// A live message was handed over; `dead_letter` when its dead-letter write is still pending.
  /// Returns the offset that may now be stored (the last one with everything before it done).
  std::optional<std::int64_t> processed(std::int32_t p, std::int64_t offset, bool dead_letter);
  /// The dead-letter write of `offset` succeeded. Returns the offset that may now be stored.
  std::optional<std::int64_t> dead_lettered(std::int32_t p, std::int64_t offset);

  bool owns(std::int32_t p) const { return parts_.contains(p); }
  /// Whether `a` is the assignment of `p` that is still in place.
  bool current(std::int32_t p, assignment a) const;
  bool all_live() const;
  /// Whether `p` is owned and past its restore.
  bool is_live(std::int32_t p) const;
  std::vector<std::int32_t> not_live() const;
  /// The owned partitions past their restore, ascending.
  std::vector<std::int32_t> live() const;
  /// Partitions waiting for the committed offset, or restoring, with their committed offset.
  std::int64_t committed_of(std::int32_t p) const;

 private:
  enum class phase { awaiting_committed, restoring, live };
  struct state {
    assignment id = 0;
    phase ph = phase::awaiting_committed;
    std::int64_t committed = -1;
    std::int64_t highest = -1;            ///< highest live offset handed over
    std::int64_t stored = -1;             ///< last offset reported as storable
    std::set<std::int64_t> dead_letters;  ///< offsets whose dead-letter write is in flight
  };
  std::optional<std::int64_t> storable(state& s);

  std::map<std::int32_t, state> parts_;
  assignment last_assignment_ = 0;
};

}  // namespace order_tracker::tracker
