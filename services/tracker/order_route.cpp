#include "services/tracker/order_route.hpp"

#include <charconv>
#include <utility>

namespace order_tracker::tracker {
namespace {

std::string join(const std::vector<std::int32_t>& parts) {
  std::string out;
  for (const auto p : parts)
    out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

}  // namespace

std::string format_partitions(const std::vector<std::int32_t>& partitions) {
  std::string out;
  for (const auto p : partitions)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

std::vector<std::int32_t> parse_partitions(std::string_view text) {
  std::vector<std::int32_t> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    std::int32_t p = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), p);
    if (ec == std::errc() && end == item.data() + item.size() && p >= 0) out.push_back(p);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

order_route::order_route(const partition_owners& owners, std::int32_t partition, std::string self,
                         local_answer mine)
    : owners_(owners), self_(std::move(self)), owner_(owners.owner_of(partition)) {
  asked_.insert(self_);
  answered(self_, std::move(mine));
  waiting_.erase(self_);
}

std::vector<std::string> order_route::next() {
  if (found_by_ || !waiting_.empty()) return {};
  std::vector<std::string> ask;
  // One hop to the owner first: for orders keyed by their id (the Order service's), that is the
  // only one that can have it.
  if (!owner_asked_) {
    owner_asked_ = true;
    if (!owner_.empty() && !asked_.contains(owner_)) ask.push_back(owner_);
  }
  // Then everyone else at once: an order written without a key may be on any partition.
  if (ask.empty() && !others_asked_) {
    others_asked_ = true;
    for (const auto& m : owners_.members()) {
      if (!asked_.contains(m)) ask.push_back(m);
    }
  }
  for (const auto& m : ask) {
    asked_.insert(m);
    waiting_.insert(m);
  }
  return ask;
}

void order_route::answered(const std::string& instance, local_answer answer) {
  if (instance != self_ && !waiting_.erase(instance)) return;
  switch (answer.what) {
    case local_answer::kind::found:
      if (!found_by_) found_by_ = instance;
      break;
    case local_answer::kind::absent:
      covered_.insert(answer.live_partitions.begin(), answer.live_partitions.end());
      break;
    case local_answer::kind::no_answer:
      silent_[instance] = answer.detail;
      break;
  }
}

std::optional<route_outcome> order_route::outcome() const {
  if (found_by_) return route_outcome{route_outcome::kind::found, *found_by_, {}, {}};
  if (!waiting_.empty() || !owner_asked_ || !others_asked_) return std::nullopt;
  if (!owners_.known()) {
    return route_outcome{route_outcome::kind::unavailable, self_, "owner_unknown",
                         "the group's partition owners are not known yet"};
  }
  std::vector<std::int32_t> unknown, silent, restoring;
  for (std::int32_t p = 0; p < owners_.partition_count(); ++p) {
    if (covered_.contains(p)) continue;
    const auto owner = owners_.owner_of(p);
    if (owner.empty() || !asked_.contains(owner)) {
      unknown.push_back(p);
    } else if (silent_.contains(owner)) {
      silent.push_back(p);
    } else {
      restoring.push_back(p);
    }
  }
  if (unknown.empty() && silent.empty() && restoring.empty())
    return route_outcome{route_outcome::kind::absent, self_, {}, {}};
  // The most telling reason first: the client's retry helps in each case, after a while.
  if (!silent.empty()) {
    std::string who;
    for (const auto& [instance, why] : silent_)
      who += (who.empty() ? "" : "; ") + instance + ": " + why;
    return route_outcome{
        route_outcome::kind::unavailable, self_, "owner_unavailable",
        "the owner of partitions " + join(silent) + " did not answer (" + who + ")"};
  }
  if (!unknown.empty()) {
    return route_outcome{
        route_outcome::kind::unavailable, self_, "rebalancing",
        "partitions " + join(unknown) + " have no known owner (the group is rebalancing)"};
  }
  return route_outcome{
      route_outcome::kind::unavailable, self_, "restoring",
      "the owners of partitions " + join(restoring) + " are restoring them, or no longer own them"};
}

}  // namespace order_tracker::tracker
