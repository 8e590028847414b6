#include "services/tracker/snapshot_writer.hpp"

#include "common/observability/log.hpp"
#include "services/tracker/snapshot_codec.hpp"

namespace order_tracker::tracker {

snapshot_writer::snapshot_writer(kafka::producer& producer, std::string state_topic,
                                 std::string group, observability::registry& metrics)
    : producer_(producer),
      state_topic_(std::move(state_topic)),
      group_(std::move(group)),
      written_(metrics.counter("tracker_snapshots_written_total",
                               "Partition snapshots the state topic confirmed")),
      failed_(metrics.counter("tracker_snapshot_write_failures_total",
                              "Partition snapshots that could not be written")) {}

void snapshot_writer::write(const partition_snapshot& snapshot) {
  const auto it = last_offset_.find(snapshot.partition);
  if (it != last_offset_.end() && it->second == snapshot.offset) return;
  const std::string value = encode(snapshot);
  const std::string key = snapshot_key(group_, snapshot.topic, snapshot.partition);
  const auto partition = snapshot.partition;
  const auto offset = snapshot.offset;
  const auto ec = producer_.send(
      state_topic_, key, value, {},
      [this, partition, offset](const kafka::delivery_report& r) {
        if (!r.error) return written_.inc();
        failed_.inc();
        log::warn("tracker", "snapshot of partition {} at offset {} not written: {}", partition,
                  offset, r.error.message());
      },
      partition);
  if (ec) {
    failed_.inc();
    log::warn("tracker", "snapshot of partition {} at offset {} not sent: {}", partition, offset,
              ec.message());
    return;
  }
  last_offset_[partition] = offset;
}

}  // namespace order_tracker::tracker
