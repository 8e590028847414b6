#pragma once
/// A librdkafka group consumer driven by an asio::io_context: messages, rebalances, commit results
/// and errors arrive as handler calls on the io thread; offsets are stored only when the service
/// says a message is processed; closing never blocks the loop.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config/options.hpp"

struct rd_kafka_message_s;

namespace order_tracker::kafka {

/// One consumed message. Owns librdkafka's message until destroyed, so a service may keep it
/// while it finishes processing asynchronously (e.g. a dead-letter write).
class message {
 public:
  explicit message(rd_kafka_message_s* m) noexcept : m_(m) {}
  message(message&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}
  message& operator=(message&& other) noexcept;
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message();

  std::string_view topic() const;
  std::int32_t partition() const;
  std::int64_t offset() const;
  std::string_view key() const;
  std::string_view payload() const;
  /// Milliseconds since the epoch (producer's create time or broker's log-append time).
  std::int64_t timestamp_ms() const;
  /// The last header called `name`, if any.
  std::optional<std::string_view> header(std::string_view name) const;

 private:
  rd_kafka_message_s* m_;
};

/// librdkafka's logical offsets.
inline constexpr std::int64_t offset_beginning = -2;
inline constexpr std::int64_t offset_invalid = -1001;  ///< "none": e.g. nothing committed yet

/// A topic partition and an offset (offset_invalid when not meaningful).
struct topic_partition {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = offset_invalid;
};

/// A partition being added to this member's assignment, and how to start on it.
struct assigned_partition {
  topic_partition where;      ///< offset: where to start; offset_invalid means the committed offset
  bool start_paused = false;  ///< assign it paused; consumer::resume() starts fetching
};

struct consumer_events {
  /// Each message, in partition order. Call consumer::store_offset() once it is processed.
  std::function<void(message&&)> on_message;
  /// Partitions being added to this member's assignment (incremental with cooperative-sticky).
  /// Runs before they are assigned; it may choose each one's start offset and pause it.
  std::function<void(std::vector<assigned_partition>&)> on_assigned;
  /// Before partitions leave the assignment: the last moment to store offsets for them. `lost`:
  /// they were taken away (session timeout), so commits for them will fail.
  std::function<void(const std::vector<topic_partition>&, bool lost)> on_revoked;
  /// Client errors (broker down, topic missing, ...). `fatal`: the consumer is done.
  std::function<void(const boost::system::error_code&, std::string_view reason, bool fatal)>
      on_error;
  /// The result of an offset commit (empty error on success).
  std::function<void(const boost::system::error_code&, const std::vector<topic_partition>&)>
      on_commit;
  /// librdkafka's statistics JSON, every statistics.interval.ms when that is set.
  std::function<void(std::string_view json)> on_stats;
};

class consumer {
 public:
  /// Joins `group_id`. Offsets are stored only through store_offset() and committed every
  /// auto.commit.interval.ms, on revoke and on close. Throws config::config_error on a property
  /// librdkafka rejects.
  consumer(boost::asio::io_context& io, const config::kafka_options& options, std::string group_id,
           std::vector<config::property> defaults, consumer_events events);
  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  /// Subscribes and starts consuming. Returns the error librdkafka gives.
  boost::system::error_code subscribe(const std::vector<std::string>& topics);

  /// Marks `offset` of the partition processed: the next commit covers it (stores offset + 1).
  void store_offset(std::string_view topic, std::int32_t partition, std::int64_t offset);

  /// Commits the stored offsets now, asynchronously; the result comes to on_commit.
  void commit();

  /// Asks the group coordinator for the committed offsets of `parts` (this member's group);
  /// `done` runs on the io thread with them (offset_invalid where nothing is committed).
  using committed_handler =
      std::function<void(const boost::system::error_code&, const std::vector<topic_partition>&)>;
  void fetch_committed(const std::vector<topic_partition>& parts, std::chrono::milliseconds timeout,
                       committed_handler done);

  /// Moves assigned partitions' fetch positions to their `offset`s, asynchronously (a paused
  /// partition fetches from there once resumed). Messages fetched before are not handed out.
  void seek(const std::vector<topic_partition>& parts);

  void pause(const std::vector<topic_partition>& parts);
  void resume(const std::vector<topic_partition>& parts);

  /// The low and high watermarks last seen in fetch responses, if any.
  std::optional<std::pair<std::int64_t, std::int64_t>> cached_watermarks(
      const std::string& topic, std::int32_t partition) const;

  /// Leaves the group: stores and commits, revokes, and calls `done` once closed, or after
  /// `timeout` even if the broker is gone. Then io_context::run() can return.
  void close(std::chrono::milliseconds timeout, std::function<void()> done);

  /// The partitions currently assigned to this member.
  std::vector<topic_partition> assignment() const;

 private:
  friend struct consumer_callbacks;
  struct impl;
  void drain();
  void schedule_drain();
  void report_handler_failure(const std::string& what) noexcept;
  void drain_admin();
  void flush_stores();
  void arm_keepalive();
  void check_closed();
  void final_commit();
  void leave_group();

  std::unique_ptr<impl> impl_;
  consumer_events events_;
  boost::asio::steady_timer keepalive_;
  boost::asio::steady_timer close_timer_;
  boost::asio::steady_timer continue_;  ///< the next batch of a drain, on a later loop turn
  boost::asio::steady_timer
      commit_retry_;  ///< the final commit again, after a rebalance refused it
  bool drain_scheduled_ = false;
  bool reporting_failure_ = false;
  std::function<void()> close_done_;
  std::string group_id_;
  std::chrono::steady_clock::time_point close_deadline_{};
  bool closing_ = false;
  bool leaving_ = false;  ///< the final commit is done (or given up on): the group exit began
  /// Until when the final commit may delay the group exit: half of close()'s timeout.
  std::chrono::steady_clock::time_point commit_deadline_{};
  bool handler_failed_ = false;
};

}  // namespace order_tracker::kafka
