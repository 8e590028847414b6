#pragma once
/// The Java client's default partitioner for keyed records (murmur2), which librdkafka's
/// `murmur2_random` partitioner reproduces: the Tracker computes an order's partition from its id
/// exactly as the Order service's producer chose it.

#include <cstdint>
#include <string_view>

namespace order_tracker::kafka {

/// Murmur2 (32 bit, seed 0x9747b28c) of `key`, as Kafka's `Utils.murmur2`.
std::uint32_t murmur2(std::string_view key) noexcept;

/// The partition a keyed record lands on among `partitions` (> 0): the positive part of the hash
/// modulo the count, as `murmur2_random` for a non-empty key.
std::int32_t murmur2_partition(std::string_view key, std::int32_t partitions) noexcept;

}  // namespace order_tracker::kafka
