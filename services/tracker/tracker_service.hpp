#pragma once
/// The Tracker service: consumes OrderPlaced events in its consumer group, rebuilds its view of
/// newly assigned partitions from the log, tracks each new order once, dead-letters poison, and
/// stores an offset only once everything up to it is processed.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/events/order_placed.hpp"
#include "common/http/server.hpp"
#include "common/kafka/admin.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"
#include "common/kafka/statistics.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/dead_letter.hpp"
#include "services/tracker/order_router.hpp"
#include "services/tracker/order_stream.hpp"
#include "services/tracker/order_view.hpp"
#include "services/tracker/owners_watch.hpp"
#include "services/tracker/partition_states.hpp"
#include "services/tracker/snapshot_reader.hpp"
#include "services/tracker/snapshot_writer.hpp"
#include "services/tracker/tracker_api.hpp"
#include "services/tracker/tracker_options.hpp"

namespace order_tracker::tracker {

class tracker_service {
 public:
  /// Throws config::config_error when Kafka rejects the configuration.
  tracker_service(boost::asio::io_context& io, tracker_options options);

  /// Listens, subscribes; io_context::run() returns once the service has stopped. Throws
  /// config::config_error if the HTTP address cannot be used.
  void start();
  int exit_code() const { return exit_code_; }

 private:
  /// A topic made sure of at start, asked for again until the broker confirms it.
  struct ensured_topic {
    kafka::topic_spec spec;
    boost::asio::steady_timer retry;
    bool in_flight = false;  ///< a request is out (admin::detach() drops it unanswered)
  };
  /// A committed-offset lookup: each partition asked about, with the assignment it was asked for.
  using lookup = std::map<std::int32_t, partition_states::assignment>;

  void on_message(kafka::message&& m);
  void process_live(kafka::message&& m);
  void on_assigned(std::vector<kafka::assigned_partition>& parts);
  void on_revoked(const std::vector<kafka::topic_partition>& parts, bool lost);
  void fetch_committed(lookup asked);
  void on_committed(const lookup& asked, const std::vector<kafka::topic_partition>& offsets);
  void read_snapshot(std::int32_t p, partition_states::assignment a, std::int64_t committed);
  void on_snapshot(std::int32_t p, partition_states::assignment a, std::int64_t committed,
                   const snapshot_lookup& found);
  void start_restore(std::int32_t p, partition_states::assignment a, std::int64_t committed,
                     const restore_plan& plan);
  void on_offsets_committed(const boost::system::error_code& ec,
                            const std::vector<kafka::topic_partition>& offsets);
  void on_kafka_error(const boost::system::error_code& ec, std::string_view reason, bool fatal);
  void on_dlq_error(const boost::system::error_code& ec, std::string_view reason, bool fatal);
  void renew_dlq_producer();
  void on_stats(std::string_view json);
  void store(std::int32_t partition, std::optional<std::int64_t> offset);
  /// The time the current batch of messages is processed at: one clock read per batch.
  std::chrono::system_clock::time_point batch_now();
  void ensure_topic(ensured_topic& t);
  std::string not_ready_reason() const;
  void arm_tick();
  void shutdown(std::string_view why);
  void maybe_finish();

  boost::asio::io_context& io_;
  tracker_options options_;
  observability::registry metrics_;
  order_view view_;
  partition_states partitions_;
  /// The state the Kafka clients' handlers write, before the clients: a client may report an
  /// error from inside its own constructor (an error event queued at start).
  kafka::broker_reachability brokers_;
  bool joined_ = false;
  /// Every broker the last statistics listed was up: the group is described only then (a
  /// librdkafka abort, owners_watch.cpp). True until the first statistics (a second after
  /// start) say otherwise, so that the owners are known right away.
  bool every_broker_up_ = true;
  bool renewing_dlq_ = false;
  bool topic_missing_ = false;
  bool stopping_ = false;
  bool consumer_closed_ = false;
  bool http_drained_ = true;
  int exit_code_ = 0;
  /// Reused by every message: decoding allocates nothing once its strings have grown.
  events::order_placed decoded_;
  /// Set by batch_now() for the batch in hand; reset by a handler that runs after it.
  std::optional<std::chrono::system_clock::time_point> batch_clock_;
  kafka::producer dlq_producer_;
  kafka::admin admin_;
  /// Before the messages below: they must be destroyed before the client they came from.
  kafka::consumer consumer_;
  /// Snapshots of the partitions' totals, read on assignment and written on commit.
  snapshot_reader snapshot_reader_;
  snapshot_writer snapshot_writer_;
  /// Messages that arrived before their partition's committed offset was known.
  std::map<std::int32_t, std::vector<kafka::message>> held_;
  dead_letter dead_letter_;
  /// Who owns which partition in the group, and GET requests routed to them.
  owners_watch owners_;
  order_router router_;
  tracker_api api_;
  /// GET /orders/stream's fan-out; before the server, whose streams report to it.
  order_stream stream_;
  /// Last: its handlers read the parts above.
  std::optional<http::server> http_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tick_timer_;
  /// The topic consumed (the seed's producer does not create it) and the dead-letter topic.
  ensured_topic topic_;
  ensured_topic dlq_topic_;
  ensured_topic state_topic_;
  std::chrono::steady_clock::time_point last_summary_{};
  std::uint64_t orders_at_last_summary_ = 0;
  observability::counter& dead_lettered_;
  observability::counter& rebalances_;
  observability::counter& invalid_;
  observability::histogram& end_to_end_;
  observability::counter& dlq_renewals_;
  observability::counter& snapshot_fallbacks_;
  observability::counter& snapshot_restores_;
};

}  // namespace order_tracker::tracker
