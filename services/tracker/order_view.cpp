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

// Items and users are free text from clients: past this many distinct names per partition, new
// names are totalled under other_key, so that the totals cannot grow without bound.
constexpr std::size_t max_named_totals = 10'000;

template <class Map>
void add_to(Map& map, std::string_view key, std::int64_t quantity) {
  auto it = map.find(key);
  if (it == map.end()) {
    if (map.size() >= max_named_totals) key = other_key;
    it = map.find(key);
  }
  if (it == map.end()) {
    // Only the first order of an item or user in a partition builds a string.
    it = map.emplace(std::string(key), totals{}).first;
  }
  ++it->second.orders;
  it->second.quantity += quantity;
}

template <class Map>
void sum_into(std::map<std::string, totals, std::less<>>& out, const Map& in) {
  for (const auto& [key, t] : in) {
    auto it = out.find(key);
    if (it == out.end()) {
      it = out.emplace(key, totals{}).first;
    }
    it->second.orders += t.orders;
    it->second.quantity += t.quantity;
  }
}

json::string uuid_text(const boost::uuids::uuid& id) {
  const auto text = events::uuid_chars(id);
  return json::string(text.data(), text.size());
}

json::object totals_json(const std::map<std::string, totals, std::less<>>& by_key) {
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

order_view::order_view(std::size_t max_orders, std::size_t id_window)
    : max_orders_(max_orders), id_window_(std::max(id_window, max_orders)) {
  if (id_window_ == 0) {
    throw std::invalid_argument(
        "order view: max_orders and id_window are both 0; the view must remember at least one "
        "order id to recognise duplicates");
  }
  // Node and detail indices are 32-bit with npos reserved.
  if (id_window_ >= npos) {
    throw std::invalid_argument("order view: id_window is " + std::to_string(id_window_) +
                                ", the limit is " + std::to_string(npos - 1));
  }
}

apply_result order_view::apply(const events::order_placed& order, const tracked_meta& meta) {
  // One probe both recognises a duplicate and reserves the id's place. Erasing other ids below
  // does not move elements of a flat map, so `slot` stays valid until it is filled in.
  const auto [it, inserted] = index_.try_emplace(order.order_id, npos);
  if (!inserted) {
    if (meta.from == origin::live) {
      ++counters_.duplicates;
    }
    return apply_result::duplicate;
  }
  std::uint32_t& slot = it->second;

  partition_state& part = partitions_[meta.partition];
  add_to(part.by_item, order.item, order.quantity);
  add_to(part.by_user, order.user, order.quantity);

  if (counters_.remembered == id_window_) {
    // Only when id_window == max_orders can the oldest id still have detail.
    if (nodes_[head_].detail != npos) {
      ++counters_.evicted;
    }
    forget(head_);
  }

  std::uint32_t detail = npos;
  if (max_orders_ > 0) {
    if (counters_.tracked == max_orders_) {
      evict_oldest_detail();
    }
    detail = allocate_detail();
    // assign() into a reused slot keeps the strings' buffers: no allocation at steady state.
    tracked_order& d = details_[detail];
    d.order_id = order.order_id;
    d.user.assign(order.user);
    d.item.assign(order.item);
    d.quantity = order.quantity;
    d.partition = meta.partition;
    d.offset = meta.offset;
    d.received_at = meta.received_at;
    d.traceparent.assign(meta.traceparent);
    ++counters_.tracked;
  }

  const std::uint32_t n = allocate_node();
  id_node& node = nodes_[n];
  node.id = order.order_id;
  node.partition = meta.partition;
  node.detail = detail;
  node.prev = tail_;
  node.next = npos;
  if (tail_ == npos) {
    head_ = n;
  } else {
    nodes_[tail_].next = n;
  }
  tail_ = n;
  if (detail != npos && first_detail_ == npos) {
    first_detail_ = n;
  }
  slot = n;
  ++counters_.remembered;

  if (meta.from == origin::live) {
    ++counters_.orders;
  } else {
    ++counters_.restored;
  }
  return apply_result::added;
}

void order_view::assign_partition(std::int32_t partition) {
  partitions_.try_emplace(partition);
}

std::size_t order_view::drop_partition(std::int32_t partition) {
  std::size_t dropped = 0;
  for (std::uint32_t n = head_; n != npos;) {
    const std::uint32_t next = nodes_[n].next;
    if (nodes_[n].partition == partition) {
      forget(n);
      ++dropped;
    }
    n = next;
  }
  partitions_.erase(partition);
  return dropped;
}

const tracked_order* order_view::find(const boost::uuids::uuid& order_id) const {
  const auto it = index_.find(order_id);
  if (it == index_.end()) {
    return nullptr;
  }
  const std::uint32_t detail = nodes_[it->second].detail;
  return detail == npos ? nullptr : &details_[detail];
}

view_counters order_view::counters() const noexcept {
  return counters_;
}

view_stats order_view::stats() const {
  view_stats s;
  s.counters = counters_;
  s.partitions.reserve(partitions_.size());
  for (const auto& [partition, state] : partitions_) {
    s.partitions.push_back(partition);
    sum_into(s.by_item, state.by_item);
    sum_into(s.by_user, state.by_user);
  }
  std::sort(s.partitions.begin(), s.partitions.end());
  return s;
}

std::uint32_t order_view::allocate_node() {
  if (free_nodes_ != npos) {
    const std::uint32_t n = free_nodes_;
    free_nodes_ = nodes_[n].next;
    return n;
  }
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

std::uint32_t order_view::allocate_detail() {
  if (!free_details_.empty()) {
    const std::uint32_t d = free_details_.back();
    free_details_.pop_back();
    return d;
  }
  details_.emplace_back();
  return static_cast<std::uint32_t>(details_.size() - 1);
}

void order_view::unlink(std::uint32_t n) {
  id_node& node = nodes_[n];
  if (node.prev == npos) {
    head_ = node.next;
  } else {
    nodes_[node.prev].next = node.next;
  }
  if (node.next == npos) {
    tail_ = node.prev;
  } else {
    nodes_[node.next].prev = node.prev;
  }
}

void order_view::forget(std::uint32_t n) {
  id_node& node = nodes_[n];
  index_.erase(node.id);
  if (node.detail != npos) {
    free_details_.push_back(node.detail);
    --counters_.tracked;
    if (first_detail_ == n) {
      first_detail_ = node.next;  // the nodes after it have detail too
    }
  }
  unlink(n);
  node.detail = npos;
  node.prev = npos;
  node.next = free_nodes_;
  free_nodes_ = n;
  --counters_.remembered;
}

void order_view::evict_oldest_detail() {
  id_node& node = nodes_[first_detail_];
  free_details_.push_back(node.detail);
  node.detail = npos;
  first_detail_ = node.next;
  --counters_.tracked;
  ++counters_.evicted;
}

json::value to_json(const tracked_order& order) {
  json::object o;
  o.reserve(8);
  o.emplace("order_id", uuid_text(order.order_id));
  o.emplace("user", order.user);
  o.emplace("item", order.item);
  o.emplace("quantity", order.quantity);
  o.emplace("partition", order.partition);
  o.emplace("offset", order.offset);
  o.emplace("received_at", rfc3339_utc_ms(order.received_at));
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
