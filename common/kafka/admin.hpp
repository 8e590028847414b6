#pragma once
/// Asynchronous admin requests on a producer's connections, completed on the io thread.

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config/options.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"

namespace order_tracker::kafka {

/// What a topic should look like when we create it.
struct topic_spec {
  std::string name;
  int partitions = 3;
  int replication_factor = 1;
  std::vector<config::property> configs;  ///< e.g. {"min.insync.replicas", "2"}
};

/// One member of a consumer group, as the group coordinator describes it.
struct group_member {
  std::string client_id;
  std::string host;  ///< the address the broker sees the member connect from
  /// The partitions the member holds now (not its target during a rebalance); offsets unset.
  std::vector<topic_partition> assignment;
};

/// A consumer group's members and the partitions each one holds.
struct group_description {
  std::string state;  ///< e.g. "Stable", "PreparingRebalance", "Empty"
  std::vector<group_member> members;
};

/// The topic `name` as a service creates it from its --partitions, --replication-factor and
/// --min-insync-replicas settings.
topic_spec make_topic_spec(std::string name, const config::topic_options& options);

class admin {
 public:
  /// Uses `owner`'s client handle; `owner` must outlive this object.
  admin(boost::asio::io_context& io, producer& owner);
  ~admin();
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  using topic_handler =
      std::function<void(const boost::system::error_code&, const std::string& detail)>;

  /// CreateTopics; a topic that already exists counts as success (its layout is left as it is).
  /// `done` runs once on the io thread, with the broker's reason on failure.
  void ensure_topic(const topic_spec& spec, std::chrono::milliseconds timeout, topic_handler done);

  using group_handler =
      std::function<void(const boost::system::error_code&, const group_description&)>;
  /// DescribeConsumerGroups for one group; `done` runs once on the io thread.
  void describe_group(const std::string& group, std::chrono::milliseconds timeout,
                      group_handler done);

  using partition_count_handler = std::function<void(const boost::system::error_code&, int)>;
  /// DescribeTopics for one topic: how many partitions it has. `done` runs once on the io thread.
  void count_partitions(const std::string& topic, std::chrono::milliseconds timeout,
                        partition_count_handler done);

  /// Stops the wake-ups so that io_context::run() can return.
  void stop();

  /// Lets go of the producer's handle before producer::renew(); the next request attaches to the
  /// new one. Requests in flight are dropped without their handler being called. May be called
  /// from a request's handler: the queue and its waker are destroyed from a posted handler.
  void detach();

 private:
  struct impl;
  void attach();
  void drain();
  void drop_pending();
  std::unique_ptr<impl> impl_;
  boost::asio::io_context& io_;
  producer& owner_;
  /// Counts detaches, so that a drain notices its queue was let go of under it.
  std::uint64_t attachment_ = 0;
};

}  // namespace order_tracker::kafka
