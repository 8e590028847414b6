#include "common/kafka/murmur2.hpp"

namespace order_tracker::kafka {

std::uint32_t murmur2(std::string_view key) noexcept {
  constexpr std::uint32_t seed = 0x9747b28c;
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const auto length = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = seed ^ length;
  const std::uint32_t whole = length & ~3U;
  // Little-endian words whatever the machine, as Java reads them.
  for (std::uint32_t i = 0; i < whole; i += 4) {
    std::uint32_t k = data[i] | (std::uint32_t{data[i + 1]} << 8) |
                      (std::uint32_t{data[i + 2]} << 16) | (std::uint32_t{data[i + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (length & 3U) {
    case 3:
      h ^= std::uint32_t{data[whole + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= std::uint32_t{data[whole + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= data[whole];
      h *= m;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

std::int32_t murmur2_partition(std::string_view key, std::int32_t partitions) noexcept {
  if (partitions <= 0) return -1;
  return static_cast<std::int32_t>((murmur2(key) & 0x7fffffffU) %
                                   static_cast<std::uint32_t>(partitions));
}

}  // namespace order_tracker::kafka
