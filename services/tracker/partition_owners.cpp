#include "services/tracker/partition_owners.hpp"

#include <algorithm>
#include <set>

namespace order_tracker::tracker {

std::string advertising_client_id(std::string_view base, std::string_view http_address) {
  std::string id(base);
  id += '@';
  id += http_address;
  return id;
}

std::string advertised_address(std::string_view client_id) {
  // The last '@': the address itself never holds one, the base might.
  const auto at = client_id.rfind('@');
  if (at == std::string_view::npos) return {};
  const auto address = client_id.substr(at + 1);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return {};
  return std::string(address);
}

partition_owners::partition_owners(const std::vector<member_partitions>& members,
                                   std::int32_t partition_count)
    : partition_count_(std::max<std::int32_t>(partition_count, 0)) {
  std::set<std::int32_t> contested;
  std::set<std::string> addresses;
  for (const auto& m : members) {
    auto address = advertised_address(m.client_id);
    if (address.empty()) continue;
    addresses.insert(address);
    for (const auto p : m.partitions) {
      if (p < 0 || p >= partition_count_) continue;
      // Two members holding one partition: the description caught a hand-over half way.
      if (const auto [it, added] = owner_.emplace(p, address); !added && it->second != address)
        contested.insert(p);
    }
  }
  for (const auto p : contested)
    owner_.erase(p);
  members_.assign(addresses.begin(), addresses.end());
}

std::string partition_owners::owner_of(std::int32_t partition) const {
  const auto it = owner_.find(partition);
  return it == owner_.end() ? std::string() : it->second;
}

std::vector<std::int32_t> partition_owners::unowned() const {
  std::vector<std::int32_t> out;
  for (std::int32_t p = 0; p < partition_count_; ++p) {
    if (!owner_.contains(p)) out.push_back(p);
  }
  return out;
}

}  // namespace order_tracker::tracker
