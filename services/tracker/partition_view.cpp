#include "services/tracker/partition_view.hpp"

#include <algorithm>
#include <utility>

namespace order_tracker::tracker {
namespace {

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

}  // namespace

partition_view::partition_view(std::int32_t partition, std::uint64_t window,
                               std::size_t max_details)
    : partition_(partition), window_(window), max_details_(max_details) {}

apply_result partition_view::apply(const events::order_placed& order, const tracked_meta& meta,
                                   view_counters& counters) {
  const std::int64_t o = meta.offset;
  if (o > static_cast<std::int64_t>(window_)) forget_before(o - static_cast<std::int64_t>(window_));
  next_offset_ = std::max(next_offset_, o + 1);
  // One probe both recognises a duplicate and reserves the id's place.
  const auto [it, inserted] = index_.try_emplace(order.order_id, seen{o, npos});
  if (inserted || it->second.offset < o) {
    if (ring_size_ == ring_.size()) {
      // Linearise into a ring twice the size: happens only while the window fills up.
      std::vector<sighting> grown;
      // A power of two, so that positions wrap with a mask rather than a division.
      const std::size_t capacity = std::max<std::size_t>(16, ring_.size() * 2);
      grown.reserve(capacity);
      for (std::size_t i = 0; i < ring_size_; ++i)
        grown.push_back(ring_[(ring_head_ + i) & (ring_.size() - 1)]);
      grown.resize(capacity);
      ring_ = std::move(grown);
      ring_head_ = 0;
    }
    ring_[(ring_head_ + ring_size_) & (ring_.size() - 1)] = {order.order_id, o};
    ++ring_size_;
  }
  if (!inserted) {
    // Every id still indexed was seen within the window (older sightings were forgotten).
    it->second.offset = std::max(it->second.offset, o);
    if (meta.from == origin::live) ++counters.duplicates;
    return apply_result::duplicate;
  }
  keep_detail(order, meta, it->second, counters);
  if (o < covered_until_) {
    // Counted by the snapshot already: a live one is a redelivery of an order the previous
    // owner processed (its snapshot proves it), a restored one only rebuilds the window.
    ++(meta.from == origin::live ? counters.duplicates : counters.restored);
    return apply_result::covered;
  }
  add_to(by_item_, order.item, order.quantity);
  add_to(by_user_, order.user, order.quantity);
  ++(meta.from == origin::live ? counters.orders : counters.restored);
  return apply_result::added;
}

void partition_view::forget_before(std::int64_t offset) {
  while (ring_size_ > 0 && ring_[ring_head_].offset < offset) {
    const sighting& s = ring_[ring_head_];
    // Seen again since: a later sighting in the ring keeps it.
    if (const auto it = index_.find(s.id); it != index_.end() && it->second.offset == s.offset)
      index_.erase(it);
    ring_head_ = (ring_head_ + 1) & (ring_.size() - 1);
    --ring_size_;
  }
}

void partition_view::keep_detail(const events::order_placed& order, const tracked_meta& meta,
                                 seen& s, view_counters& counters) {
  if (max_details_ == 0) return;
  std::size_t slot = 0;
  if (details_.size() < max_details_) {
    slot = details_.size();
    details_.emplace_back();
  } else {
    slot = next_detail_;
    ++counters.evicted;
  }
  next_detail_ = slot + 1 == max_details_ ? 0 : slot + 1;
  // assign() into a reused slot keeps the strings' buffers: no allocation at steady state.
  tracked_order& d = details_[slot];
  d.order_id = order.order_id;
  d.user.assign(order.user);
  d.item.assign(order.item);
  d.quantity = order.quantity;
  d.partition = partition_;
  d.offset = meta.offset;
  d.received_at = meta.received_at;
  d.event_time = meta.event_time;
  d.traceparent.assign(meta.traceparent);
  s.detail = static_cast<std::uint32_t>(slot);
}

void partition_view::start_from(const partition_snapshot& snapshot) {
  by_item_.clear();
  by_user_.clear();
  for (const auto& [name, t] : snapshot.by_item)
    by_item_.emplace(name, t);
  for (const auto& [name, t] : snapshot.by_user)
    by_user_.emplace(name, t);
  covered_until_ = snapshot.offset;
  next_offset_ = std::max(next_offset_, snapshot.offset);
}

partition_snapshot partition_view::snapshot(std::string topic) const {
  partition_snapshot s{std::move(topic), partition_, next_offset_, window_, {}, {}};
  for (const auto& [name, t] : by_item_)
    s.by_item.emplace(name, t);
  for (const auto& [name, t] : by_user_)
    s.by_user.emplace(name, t);
  return s;
}

void partition_view::set_max_details(std::size_t max_details, view_counters& counters) {
  if (max_details == max_details_) return;
  rebuild_details(max_details, counters);
}

void partition_view::rebuild_details(std::size_t keep, view_counters& counters) {
  // Oldest first: a full ring starts at next_detail_, a filling one at 0.
  const std::size_t n = details_.size();
  const std::size_t first = n == max_details_ ? next_detail_ : 0;
  const std::size_t kept = std::min(keep, n);
  std::vector<tracked_order> out;
  out.reserve(kept);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t old_slot = (first + i) % n;
    tracked_order& d = details_[old_slot];
    const auto it = index_.find(d.order_id);
    const bool owned = it != index_.end() && it->second.detail == old_slot;
    if (i < n - kept) {
      if (owned) it->second.detail = npos;
      ++counters.evicted;
      continue;
    }
    if (owned) it->second.detail = static_cast<std::uint32_t>(out.size());
    out.push_back(std::move(d));
  }
  details_ = std::move(out);
  max_details_ = keep;
  next_detail_ = keep == 0 ? 0 : details_.size() % keep;
}

const tracked_order* partition_view::find(const boost::uuids::uuid& order_id) const {
  const auto it = index_.find(order_id);
  if (it == index_.end() || it->second.detail == npos) return nullptr;
  const tracked_order& d = details_[it->second.detail];
  // The slot may hold a newer order since: then this one's detail was evicted.
  return d.order_id == order_id ? &d : nullptr;
}

}  // namespace order_tracker::tracker
