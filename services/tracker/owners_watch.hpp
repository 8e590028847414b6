#pragma once
/// Keeps the partition owners of the Tracker's group up to date from the Admin API
/// (DescribeConsumerGroups and DescribeTopics), event-driven: after each of this member's own
/// rebalances, when a lookup meets an unknown owner, and on a timer for the rebalances of the
/// others. Never blocks: the requests complete on the io_context like any other Kafka event.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/admin.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/partition_owners.hpp"

namespace order_tracker::tracker {

class owners_watch {
 public:
  /// Whether a broker is reachable now.
  using reachability = std::function<bool()>;
  /// Whether this member holds partition `p` of the topic now.
  using ownership = std::function<bool(std::int32_t p)>;

  /// Watches `group`'s owners of `topic` through `admin`, which must outlive this object. Asks
  /// only while `brokers_up()`, and describes the group only while `owns` says this member
  /// (joined as `self_client_id`) lacks a partition: see owners_watch.cpp.
  owners_watch(boost::asio::io_context& io, kafka::admin& admin, std::string group,
               std::string topic, reachability brokers_up, ownership owns,
               std::string self_client_id, observability::registry& metrics);

  /// Starts the periodic refresh.
  void start();
  /// Stops the timer; answers still on their way are ignored.
  void stop();
  /// Asks again soon (coalesced): the group changed, or a lookup found an owner missing.
  void refresh_soon();
  /// The owners as last described.
  const partition_owners& owners() const { return owners_; }

 private:
  void arm(std::chrono::milliseconds after);
  void refresh();
  void on_answer(std::uint64_t round);
  void describe_group(std::uint64_t round);

  boost::asio::io_context& io_;
  kafka::admin& admin_;
  std::string group_;
  std::string topic_;
  reachability brokers_up_;
  ownership owns_;
  std::string self_client_id_;
  observability::counter& describes_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point next_{};
  /// Numbers the refreshes: a late answer of an older one is ignored. An answer may also never
  /// come (the admin client is detached when the dead-letter producer is renewed), so a round
  /// older than the request timeout no longer holds the next one back.
  std::uint64_t round_ = 0;
  std::chrono::steady_clock::time_point round_started_{};
  bool in_flight_ = false;
  std::optional<std::vector<member_partitions>> members_;
  std::optional<std::int32_t> partition_count_;
  partition_owners owners_;
  bool stopped_ = false;
};

}  // namespace order_tracker::tracker
