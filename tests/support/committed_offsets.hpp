#pragma once
/// A consumer group's committed offsets as the broker has them, read through the Admin API
/// (ListConsumerGroupOffsets, what `kafka-consumer-groups --describe` shows). For tests that watch
/// a service commit from outside it, without joining its group.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

struct rd_kafka_s;

namespace order_tracker::test {

class committed_offsets {
 public:
  /// An admin client of `bootstrap` asking about `group`.
  committed_offsets(const std::string& bootstrap, std::string group);
  ~committed_offsets();
  committed_offsets(const committed_offsets&) = delete;
  committed_offsets& operator=(const committed_offsets&) = delete;

  /// Partition -> committed offset of partitions 0 .. partitions-1 of `topic` (those with nothing
  /// committed are left out); empty when the broker did not answer within `timeout` or answered
  /// with an error.
  std::optional<std::map<std::int32_t, std::int64_t>> of(
      const std::string& topic, int partitions = 3,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The sum over those partitions: how many messages the group has committed when the topic's
  /// offsets start at 0.
  std::optional<std::int64_t> sum(const std::string& topic, int partitions = 3,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  rd_kafka_s* handle_ = nullptr;
  std::string group_;
};

}  // namespace order_tracker::test
