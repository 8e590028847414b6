#include "services/tracker/order_view.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace order_tracker::tracker {
namespace {

namespace json = boost::json;

template <class Map>
void sum_into(totals_by_name& out, const Map& in) {
  for (const auto& [key, t] : in) {
    auto it = out.find(key);
    if (it == out.end()) it = out.emplace(key, totals{}).first;
    it->second.orders += t.orders;
    it->second.quantity += t.quantity;
  }
}

json::string uuid_text(const boost::uuids::uuid& id) {
  const auto text = events::uuid_chars(id);
  return json::string(text.data(), text.size());
}

json::object totals_json(const totals_by_name& by_key) {
  json::object out;
  out.reserve(by_key.size());
  for (const auto& [key, t] : by_key) {
    json::object entry;
    entry.emplace("orders", t.orders);
    entry.emplace("quantity", t.quantity);
    out.emplace(key, std::move(entry));
  }
  return out;
}

}  // namespace

order_view::order_view(std::size_t max_orders, std::uint64_t window)
    : max_orders_(max_orders), window_(window) {
  if (window_ == 0) {
    throw std::invalid_argument(
        "order view: the dedup window is 0 offsets; it must cover at least one offset");
  }
}

partition_view& order_view::owned(std::int32_t partition) {
  if (const auto it = partitions_.find(partition); it != partitions_.end()) return it->second;
  assign_partition(partition);
  return partitions_.find(partition)->second;
}

apply_result order_view::apply(const events::order_placed& order, const tracked_meta& meta) {
  return owned(meta.partition).apply(order, meta, counters_);
}

void order_view::assign_partition(std::int32_t partition) {
  if (partitions_.contains(partition)) return;
  partitions_.emplace(partition, partition_view(partition, window_, 0));
  share_budget();
}

void order_view::start_from(const partition_snapshot& snapshot) {
  owned(snapshot.partition).start_from(snapshot);
}

std::optional<partition_snapshot> order_view::snapshot(std::int32_t partition,
                                                       std::string topic) const {
  const auto it = partitions_.find(partition);
  if (it == partitions_.end()) return std::nullopt;
  return it->second.snapshot(std::move(topic));
}

std::size_t order_view::drop_partition(std::int32_t partition) {
  const auto it = partitions_.find(partition);
  if (it == partitions_.end()) return 0;
  const std::size_t dropped = it->second.remembered();
  partitions_.erase(it);
  share_budget();
  return dropped;
}

std::size_t order_view::details_per_partition() const noexcept {
  return partitions_.empty() ? max_orders_ : max_orders_ / partitions_.size();
}

void order_view::share_budget() {
  const std::size_t share = details_per_partition();
  for (auto& [p, view] : partitions_)
    view.set_max_details(share, counters_);
}

const tracked_order* order_view::find(const boost::uuids::uuid& order_id) const {
  // A handful of partitions: asking each is cheaper than a second index to keep in step.
  for (const auto& [p, view] : partitions_) {
    if (const auto* d = view.find(order_id)) return d;
  }
  return nullptr;
}

bool order_view::contains(const boost::uuids::uuid& order_id) const {
  for (const auto& [p, view] : partitions_) {
    if (view.contains(order_id)) return true;
  }
  return false;
}

view_counters order_view::counters() const noexcept {
  view_counters c = counters_;
  c.tracked = 0;
  c.remembered = 0;
  for (const auto& [p, view] : partitions_) {
    c.tracked += view.tracked();
    c.remembered += view.remembered();
  }
  return c;
}

view_stats order_view::stats() const {
  view_stats s;
  s.counters = counters();
  s.partitions.reserve(partitions_.size());
  for (const auto& [partition, view] : partitions_) {
    s.partitions.push_back(partition);
    sum_into(s.by_item, view.by_item());
    sum_into(s.by_user, view.by_user());
  }
  std::sort(s.partitions.begin(), s.partitions.end());
  return s;
}

json::value to_json(const tracked_order& order) {
  json::object o;
  o.reserve(9);
  o.emplace("order_id", uuid_text(order.order_id));
  o.emplace("user", order.user);
  o.emplace("item", order.item);
  o.emplace("quantity", order.quantity);
  o.emplace("partition", order.partition);
  o.emplace("offset", order.offset);
  o.emplace("received_at", rfc3339_utc_ms(order.received_at));
  o.emplace("received_at_source", order.event_time ? "event" : "applied");
  if (!order.traceparent.empty()) {
    o.emplace("traceparent", order.traceparent);
  }
  return o;
}

json::value to_json(const view_stats& stats) {
  json::object o;
  o.reserve(9);
  o.emplace("orders", stats.counters.orders);
  o.emplace("duplicates", stats.counters.duplicates);
  o.emplace("evicted", stats.counters.evicted);
  o.emplace("restored", stats.counters.restored);
  o.emplace("tracked", stats.counters.tracked);
  o.emplace("remembered", stats.counters.remembered);
  o.emplace("by_item", totals_json(stats.by_item));
  o.emplace("by_user", totals_json(stats.by_user));
  json::array partitions;
  partitions.reserve(stats.partitions.size());
  for (const std::int32_t p : stats.partitions) {
    partitions.emplace_back(p);
  }
  o.emplace("partitions", std::move(partitions));
  return o;
}

std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss time{ms - day};
  char text[32];
  const int n = std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
      static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return std::string(text, static_cast<std::size_t>(std::max(n, 0)));
}

}  // namespace order_tracker::tracker
