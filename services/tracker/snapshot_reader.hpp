#pragma once
/// Looks up, for a newly assigned partition, its latest snapshot on the state topic and its
/// watermarks, on the io thread and without blocking it. A consumer of its own, outside any group,
/// assigns the state topic's partition at its last records and the orders partition at its end;
/// librdkafka wakes the loop through its queue (queue_waker), and a lookup is answered once both
/// reached what was their end when it began (partition EOF, or a record at or past that end: a
/// partition written all the time may never report EOF), or when it times out.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/config/options.hpp"
#include "services/tracker/restore_plan.hpp"

namespace order_tracker::tracker {

class snapshot_reader {
 public:
  /// Snapshots of `orders_topic`'s partition p are the records with key snapshot_key(group,
  /// orders_topic, p) in partition p of `state_topic`. Throws config::config_error when Kafka
  /// rejects the configuration.
  snapshot_reader(boost::asio::io_context& io, const config::kafka_options& options,
                  std::string state_topic, std::string group);
  ~snapshot_reader();
  snapshot_reader(const snapshot_reader&) = delete;
  snapshot_reader& operator=(const snapshot_reader&) = delete;

  using handler = std::function<void(const snapshot_lookup&)>;
  /// Looks partition `p` up; `done` runs once on the io thread, never from inside this call. A
  /// lookup of a partition already being looked up replaces it (the earlier one is not answered).
  void read(std::int32_t p, std::chrono::milliseconds timeout, handler done);
  /// Drops the lookup of `p`, unanswered (e.g. the partition was revoked).
  void cancel(std::int32_t p);
  /// Drops every lookup and stops the wake-ups, so that io_context::run() can return.
  void stop();

  /// How many records at the end of a state partition a lookup reads: one per group sharing it.
  static constexpr int tail_records = 16;

 private:
  struct impl;
  struct lookup;
  void drain();
  void finish(std::int32_t p);
  void unassign(std::int32_t p);
  std::pair<std::int64_t, std::int64_t> watermarks(const std::string& topic, std::int32_t p) const;

  std::unique_ptr<impl> impl_;
  boost::asio::io_context& io_;
  std::string state_topic_;
  std::string orders_topic_;
  std::string group_;
  std::map<std::int32_t, std::unique_ptr<lookup>> pending_;
  boost::asio::steady_timer continue_;
  bool stopped_ = false;
};

}  // namespace order_tracker::tracker
