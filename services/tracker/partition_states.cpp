#include "services/tracker/partition_states.hpp"

namespace order_tracker::tracker {

partition_states::assignment partition_states::assigned(std::int32_t p) {
  state& s = parts_[p] = state{};
  s.id = ++last_assignment_;
  return s.id;
}

bool partition_states::committed_known(std::int32_t p, assignment a, std::int64_t committed) {
  const auto it = parts_.find(p);
  // An answer to the lookup of an earlier assignment predates whatever the owners in between
  // committed: applying it would process their orders again.
  if (it == parts_.end() || it->second.id != a || it->second.ph != phase::awaiting_committed)
    return false;
  it->second.committed = committed;
  it->second.ph = committed > 0 ? phase::restoring : phase::live;
  return true;
}

bool partition_states::current(std::int32_t p, assignment a) const {
  const auto it = parts_.find(p);
  return it != parts_.end() && it->second.id == a;
}

void partition_states::revoked(std::int32_t p) {
  parts_.erase(p);
}

partition_states::route partition_states::route_of(std::int32_t p, std::int64_t offset) {
  const auto it = parts_.find(p);
  // Fetched before a revoke and handed over after it: the new owner processes it.
  if (it == parts_.end()) return route::drop;
  state& s = it->second;
  switch (s.ph) {
    case phase::awaiting_committed:
      return route::hold;
    case phase::live:
      return route::live;
    case phase::restoring:
      if (offset < s.committed) {
        if (offset + 1 >= s.committed) s.ph = phase::live;
        return route::restore;
      }
      s.ph = phase::live;
      return route::live;
  }
  return route::live;
}

void partition_states::log_start(std::int32_t p, std::int64_t low_watermark) {
  const auto it = parts_.find(p);
  if (it != parts_.end() && it->second.ph == phase::restoring &&
      low_watermark >= it->second.committed) {
    it->second.ph = phase::live;
  }
}

std::optional<std::int64_t> partition_states::storable(state& s) {
  const std::int64_t upto = s.dead_letters.empty() ? s.highest : *s.dead_letters.begin() - 1;
  if (upto <= s.stored) return std::nullopt;
  s.stored = upto;
  return upto;
}

std::optional<std::int64_t> partition_states::processed(std::int32_t p, std::int64_t offset,
                                                        bool dead_letter) {
  const auto it = parts_.find(p);
  if (it == parts_.end()) return std::nullopt;  // not ours (any more): the owner commits it
  state& s = it->second;
  s.ph = phase::live;
  s.highest = std::max(s.highest, offset);
  if (dead_letter) s.dead_letters.insert(offset);
  return storable(s);
}

std::optional<std::int64_t> partition_states::dead_lettered(std::int32_t p, std::int64_t offset) {
  const auto it = parts_.find(p);
  if (it == parts_.end()) return std::nullopt;  // revoked meanwhile: the next owner re-reads it
  it->second.dead_letters.erase(offset);
  return storable(it->second);
}

bool partition_states::is_live(std::int32_t p) const {
  const auto it = parts_.find(p);
  return it != parts_.end() && it->second.ph == phase::live;
}

bool partition_states::all_live() const {
  for (const auto& [p, s] : parts_) {
    if (s.ph != phase::live) return false;
  }
  return true;
}

std::vector<std::int32_t> partition_states::not_live() const {
  std::vector<std::int32_t> out;
  for (const auto& [p, s] : parts_) {
    if (s.ph != phase::live) out.push_back(p);
  }
  return out;
}

std::vector<std::int32_t> partition_states::live() const {
  std::vector<std::int32_t> out;
  for (const auto& [p, s] : parts_) {
    if (s.ph == phase::live) out.push_back(p);
  }
  return out;
}

std::int64_t partition_states::committed_of(std::int32_t p) const {
  const auto it = parts_.find(p);
  return it == parts_.end() ? -1 : it->second.committed;
}

}  // namespace order_tracker::tracker
