#pragma once
/// Writes poison messages to the dead-letter topic with headers saying why and where from, and
/// keeps retrying a write that fails: a poison message is never skipped without a trace.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <set>
#include <string>

#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"

namespace order_tracker::tracker {

/// Header names on dead-lettered messages.
namespace dlq_headers {
inline constexpr std::string_view reason = "dlq-reason";  ///< the decode error, a sentence
inline constexpr std::string_view error = "dlq-error";    ///< its kind, e.g. not_json
inline constexpr std::string_view topic = "dlq-original-topic";
inline constexpr std::string_view partition = "dlq-original-partition";
inline constexpr std::string_view offset = "dlq-original-offset";
inline constexpr std::string_view timestamp = "dlq-original-timestamp";  ///< ms since the epoch
}  // namespace dlq_headers

class dead_letter {
 public:
  /// `on_stuck(partition, stuck)`: a write of that partition failed and is being retried (true),
  /// or every poison message of that partition has since been written (false), so the service can
  /// pause and resume it. Each partition alternates: true, false, true, ...
  dead_letter(boost::asio::io_context& io, kafka::producer& producer, std::string topic,
              std::function<void(std::int32_t partition, bool stuck)> on_stuck);

  /// Sends `m` with its reason; `done` runs once the broker has it (after retries if need be).
  void send(kafka::message&& m, std::string error, std::string reason, std::function<void()> done);

  /// Stops retrying (shutdown); what is not written stays uncommitted and is read again later.
  void stop();
  std::size_t pending() const { return pending_.size(); }

 private:
  struct item {
    kafka::message m;
    std::string error;
    std::string reason;
    std::function<void()> done;
  };
  void write(std::list<item>::iterator it);
  void retry_later(std::list<item>::iterator it);
  bool waiting(std::int32_t partition) const;

  boost::asio::io_context& io_;
  kafka::producer& producer_;
  std::string topic_;
  std::function<void(std::int32_t, bool)> on_stuck_;
  std::list<item> pending_;       ///< stable iterators while writes are in flight
  std::set<std::int32_t> stuck_;  ///< partitions reported stuck and not yet released
  std::chrono::milliseconds backoff_{500};
  bool stopped_ = false;
};

}  // namespace order_tracker::tracker
