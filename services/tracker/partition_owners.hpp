#pragma once
/// Who owns which partition of the topic, as the consumer group's description says, and where
/// each owner answers HTTP. Each member advertises its HTTP address in its Kafka `client.id`
/// ("tracker-service@HOST:PORT"), which the group coordinator reports for every member. Pure:
/// no Kafka, no sockets.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace order_tracker::tracker {

/// The `client.id` a member joins with: `base` with its HTTP address after an '@'.
std::string advertising_client_id(std::string_view base, std::string_view http_address);

/// The HTTP address a member advertises in its `client.id`, or empty when it advertises none
/// (another kind of client in the group, or an older Tracker).
std::string advertised_address(std::string_view client_id);

/// One member of the group: its `client.id` and the partitions of the topic it holds now.
struct member_partitions {
  std::string client_id;
  std::vector<std::int32_t> partitions;
};

/// The owners of the topic's partitions at one moment.
class partition_owners {
 public:
  /// Not known yet: every partition's owner is unknown.
  partition_owners() = default;
  /// From the group's members and the topic's partition count. A partition held by no member
  /// that advertises an address, or claimed by two members, has no known owner.
  partition_owners(const std::vector<member_partitions>& members, std::int32_t partition_count);

  /// Whether a group description has been taken in at all.
  bool known() const { return partition_count_ > 0; }
  std::int32_t partition_count() const { return partition_count_; }
  /// The HTTP address of the owner of `partition`, or empty when unknown.
  std::string owner_of(std::int32_t partition) const;
  /// Every advertised address in the group, sorted, each once.
  const std::vector<std::string>& members() const { return members_; }
  /// Partitions without a known owner (a rebalance in progress, a member that advertises
  /// nothing), ascending.
  std::vector<std::int32_t> unowned() const;

 private:
  std::int32_t partition_count_ = 0;
  std::map<std::int32_t, std::string> owner_;
  std::vector<std::string> members_;
};

}  // namespace order_tracker::tracker
