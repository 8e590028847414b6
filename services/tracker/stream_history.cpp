#include "services/tracker/stream_history.hpp"

#include <algorithm>
#include <charconv>

namespace order_tracker::tracker {

stream_history::stream_history(std::size_t capacity, std::string epoch, renderer render)
    : epoch_(std::move(epoch)), render_(render), ring_(std::max<std::size_t>(capacity, 1)) {}

std::uint64_t stream_history::append(const tracked_order& order) {
  const auto seq = next_++;
  auto& s = ring_[seq % ring_.size()];
  // Copy-assignment reuses the slot's string capacity: no allocation once the ring has gone round.
  s.order = order;
  s.rendered = false;
  size_ = std::min(size_ + 1, ring_.size());
  return seq;
}

const std::string& stream_history::text(std::uint64_t seq) const {
  auto& s = ring_[seq % ring_.size()];
  if (!s.rendered) {
    s.text.assign("id: ");
    s.text.append(epoch_);
    s.text.push_back('-');
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, seq).ptr;
    s.text.append(digits, end);
    s.text.append("\ndata: ");
    render_(s.order, s.text);
    s.text.append("\n\n");
    s.rendered = true;
  }
  return s.text;
}

std::string stream_history::id_of(std::uint64_t seq) const {
  return epoch_ + "-" + std::to_string(seq);
}

resume_point stream_history::resume_after(std::string_view last_event_id) const {
  if (last_event_id.empty()) return {next_, 0, true};
  const auto dash = last_event_id.rfind('-');
  std::uint64_t last = 0;
  bool ours = dash != std::string_view::npos && last_event_id.substr(0, dash) == epoch_;
  if (ours) {
    const auto digits = last_event_id.substr(dash + 1);
    const auto* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, last);
    ours = !digits.empty() && ec == std::errc{} && ptr == end && last < next_;
  }
  // Another instance's id, one from before a restart, or garbage: what happened in between is
  // unknown, so the client gets everything held and is told it may have missed more.
  if (!ours) return {oldest(), std::nullopt, false};
  if (last + 1 >= oldest()) return {last + 1, 0, true};
  return {oldest(), oldest() - (last + 1), false};
}

}  // namespace order_tracker::tracker
