#pragma once
/// A librdkafka producer driven by an asio::io_context: sends never block, delivery reports come
/// back as handler calls on the io thread, and flushing is bounded.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/config/options.hpp"

struct rd_kafka_s;

namespace order_tracker::kafka {

/// A Kafka message header (name and bytes), borrowed for the duration of send().
struct header {
  std::string_view name;
  std::string_view value;
};

/// Whether a failed message may still be on the broker (librdkafka's persistence status).
enum class persistence { not_persisted, possibly_persisted, persisted };

/// What became of one message.
struct delivery_report {
  boost::system::error_code error;  ///< empty when the broker acknowledged it
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::chrono::microseconds latency{0};  ///< from send() to the broker's acknowledgement
  persistence status = persistence::not_persisted;
  std::string_view key;  ///< the message's key, valid during the call only
};

using delivery_handler = std::function<void(const delivery_report&)>;

/// Notifications from the producer, all on the io thread.
struct producer_events {
  /// After each batch of delivery reports: the local queue has room again (resume held work).
  std::function<void()> on_progress;
  /// Client-level errors (broker down, authentication failed, ...). `fatal`: the producer is done.
  std::function<void(const boost::system::error_code&, std::string_view reason, bool fatal)>
      on_error;
  /// librdkafka's statistics JSON, every statistics.interval.ms when that is set.
  std::function<void(std::string_view json)> on_stats;
  /// The report of every message sent without a handler of its own. One sink for all costs
  /// nothing per message, where a handler per message is an allocation at full rate.
  std::function<void(const delivery_report&)> on_unowned_delivery;
};

class producer {
 public:
  /// `defaults` are the service's property choices; the user's -X properties override them.
  /// Idempotence (and so acks=all) is on unless the user explicitly turns it off. Throws
  /// config::config_error on a property librdkafka rejects.
  producer(boost::asio::io_context& io, const config::kafka_options& options,
           std::vector<config::property> defaults, producer_events events);
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  /// Queues one message. On success `on_delivered` (or, when it is empty, the producer's
  /// on_unowned_delivery) runs exactly once, later, on the io thread. On failure nothing is
  /// queued, no handler is called, and the error says why (is_queue_full: back off until
  /// on_progress; is_fatal: the producer is done).
  /// `partition`: where it goes; any_partition lets the partitioner choose from the key.
  boost::system::error_code send(std::string_view topic, std::string_view key,
                                 std::string_view value, std::span<const header> headers,
                                 delivery_handler on_delivered,
                                 std::int32_t partition = any_partition);
  static constexpr std::int32_t any_partition = -1;

  /// Sends what is queued now, without linger, and calls `done(unfinished)` once every queued
  /// message has its report, or at `timeout`, when the rest is purged (their handlers see the
  /// purge error) and counted in `unfinished`. `done` always runs from a handler of its own,
  /// never from inside flush() or a drain, so it may renew or stop this producer.
  void flush(std::chrono::milliseconds timeout, std::function<void(std::size_t unfinished)> done);

  /// Messages queued or in flight, plus reports not yet handled.
  std::size_t queue_length() const;

  /// True once librdkafka raised a fatal error; every later send fails.
  bool failed() const { return failed_; }

  /// Stops the wake-ups so that io_context::run() can return. Undelivered messages stay queued.
  void stop();

  /// Replaces the librdkafka instance with a new one of the same configuration: the way out of a
  /// fatal error (e.g. an idempotence sequence the broker lost in a crash). Call flush() first and
  /// renew from its completion, so that every message sent so far has had its report. A message
  /// with a handler that still has none gets one now: error _DESTROY, possibly persisted (the
  /// broker may have it), with an empty key. The old instance is destroyed from a posted handler,
  /// never under a caller's frames, so renew() may also be called from this producer's callbacks.
  /// Clients of native_handle() must let go of the old handle before.
  void renew();

  /// For the admin client, which shares this producer's connections.
  rd_kafka_s* native_handle() const;

 private:
  struct impl;
  struct owned;
  void open();
  void drain();
  bool drain_pass();
  bool finish_flush_if_empty();
  void arm_flush_check();
  void report_unreported();

  std::unique_ptr<impl> impl_;
  /// Handlers of messages that have no report yet (an intrusive list): a renewal answers them.
  owned* unreported_ = nullptr;
  /// Counts renewals, so that a drain notices that its instance was replaced under it.
  std::uint64_t instance_ = 0;
  bool draining_ = false;
  producer_events events_;
  boost::asio::io_context& io_;
  config::kafka_options options_;
  std::vector<config::property> base_;
  boost::asio::steady_timer flush_timer_;
  std::function<void(std::size_t)> flush_done_;
  std::chrono::steady_clock::time_point flush_deadline_{};
  bool purged_ = false;
  bool failed_ = false;
};

}  // namespace order_tracker::kafka
