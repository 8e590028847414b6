#pragma once
/// Writes partition snapshots to the state topic (compacted: the newest record per key is kept),
/// into the state partition of the same number, so that a lookup reads one small partition's end.

#include <cstdint>
#include <map>
#include <string>

#include "common/kafka/producer.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

class snapshot_writer {
 public:
  /// `producer` and `metrics` must outlive this object.
  snapshot_writer(kafka::producer& producer, std::string state_topic, std::string group,
                  observability::registry& metrics);

  /// Sends `snapshot` unless the last one sent for its partition covered the same offset. A
  /// failed write is counted and logged: the next commit writes a newer one, and a restore
  /// without one replays more of the log, never wrongly.
  void write(const partition_snapshot& snapshot);
  /// The partition left this instance: its next owner writes its snapshots.
  void forget(std::int32_t partition) { last_offset_.erase(partition); }

 private:
  kafka::producer& producer_;
  std::string state_topic_;
  std::string group_;
  std::map<std::int32_t, std::int64_t> last_offset_;
  observability::counter& written_;
  observability::counter& failed_;
};

}  // namespace order_tracker::tracker
