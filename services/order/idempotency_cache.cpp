#include "services/order/idempotency_cache.hpp"

namespace order_tracker::order {

idempotency_cache::idempotency_cache(std::size_t capacity, std::chrono::seconds window)
    : capacity_(capacity), window_(window) {}

void idempotency_cache::expire(clock::time_point now) {
  while (!order_.empty()) {
    const auto& [key, generation] = order_.front();
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.generation != generation) {
      order_.pop_front();  // already abandoned or re-created since
      continue;
    }
    if (entries_.size() <= capacity_ && now - it->second.created < window_) break;
    // A pending entry pushed out by the cap still owes its waiters an answer.
    auto waiters = std::move(it->second.waiters);
    entries_.erase(it);
    order_.pop_front();
    for (auto& w : waiters)
      w(nullptr);
  }
}

idempotency_cache::outcome idempotency_cache::start(const std::string& key,
                                                    std::uint64_t body_fingerprint,
                                                    clock::time_point now, waiter w) {
  expire(now);
  const auto it = entries_.find(key);
  if (it == entries_.end()) {
    entry e;
    e.fingerprint = body_fingerprint;
    e.created = now;
    e.generation = next_generation_++;
    order_.emplace_back(key, e.generation);
    entries_.emplace(key, std::move(e));
    expire(now);
    return outcome::first;
  }
  entry& e = it->second;
  if (e.fingerprint != body_fingerprint) return outcome::conflict;
  if (e.done) {
    w(&e.result);
    return outcome::replayed;
  }
  if (!e.in_flight) {  // the earlier attempt's outcome is unknown: this one tries again
    e.in_flight = true;
    return outcome::first;
  }
  e.waiters.push_back(std::move(w));
  return outcome::waiting;
}

void idempotency_cache::uncertain(const std::string& key, std::string order_id) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.in_flight = false;
  it->second.pinned = std::move(order_id);
  auto waiters = std::move(it->second.waiters);
  for (auto& w : waiters)
    w(nullptr);
}

std::string idempotency_cache::pinned(const std::string& key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? std::string{} : it->second.pinned;
}

void idempotency_cache::complete(const std::string& key, const answer& a) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.done = true;
  it->second.result = a;
  auto waiters = std::move(it->second.waiters);
  for (auto& w : waiters)
    w(&it->second.result);
}

void idempotency_cache::abandon(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  auto waiters = std::move(it->second.waiters);
  entries_.erase(it);
  for (auto& w : waiters)
    w(nullptr);
}

std::uint64_t fingerprint(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace order_tracker::order
