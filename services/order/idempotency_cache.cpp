#include "services/order/idempotency_cache.hpp"

#include <algorithm>
#include <utility>

namespace order_tracker::order {

idempotency_cache::idempotency_cache(std::size_t capacity, std::chrono::seconds window)
    : capacity_(std::max<std::size_t>(capacity, 1)), window_(window) {}

bool idempotency_cache::expired(const entry& e, clock::time_point now) const {
  return !pending(e) && now - e.created >= window_;
}

void idempotency_cache::settle(const std::string& key, entry& e) {
  e.settled = next_settled_++;
  settled_.emplace_back(key, e.settled);
  // A key settled again (uncertain, retried, uncertain...) leaves a stale place behind; drop them
  // in one pass now and then, so that the queue stays within twice the capacity.
  if (settled_.size() > 2 * capacity_) {
    std::erase_if(settled_, [this](const auto& place) {
      const auto it = entries_.find(place.first);
      return it == entries_.end() || it->second.settled != place.second;
    });
  }
}

void idempotency_cache::expire(clock::time_point now) {
  while (!settled_.empty()) {
    const auto& [key, mark] = settled_.front();
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.settled != mark) {
      settled_.pop_front();  // abandoned, retried or re-created since
      continue;
    }
    // Settled in another order than created: a key behind this one may be older, and start()
    // checks each key's own age, so this only frees memory a little later.
    if (!expired(it->second, now)) break;
    entries_.erase(it);
    settled_.pop_front();
  }
}

bool idempotency_cache::make_room() {
  while (!settled_.empty()) {
    const auto [key, mark] = std::move(settled_.front());
    settled_.pop_front();
    const auto it = entries_.find(key);
    if (it != entries_.end() && it->second.settled == mark) {
      entries_.erase(it);  // settled: nobody waits on it
      return true;
    }
  }
  return false;
}

void idempotency_cache::tell(std::vector<waiter> waiters, ending how, const answer* a) {
  for (auto& w : waiters)
    w(how, a);
}

idempotency_cache::started idempotency_cache::start(const std::string& key,
                                                    std::uint64_t body_fingerprint,
                                                    clock::time_point now, waiter w) {
  expire(now);
  auto it = entries_.find(key);
  if (it != entries_.end() && expired(it->second, now)) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    // A pending key is never forgotten to make room: its attempt may still succeed, and a
    // forgotten key would let a retry place a second order.
    if (entries_.size() >= capacity_ && !make_room()) return {outcome::full, 0};
    entry e;
    e.fingerprint = body_fingerprint;
    e.created = now;
    e.attempt = next_attempt_++;
    const auto attempt = e.attempt;
    entries_.emplace(key, std::move(e));
    return {outcome::first, attempt};
  }
  entry& e = it->second;
  if (e.fingerprint != body_fingerprint) return {outcome::conflict, 0};
  if (e.done) {
    w(ending::answered, &e.result);
    return {outcome::replayed, 0};
  }
  if (!e.in_flight) {  // the earlier attempt's outcome is unknown: this one tries again
    e.in_flight = true;
    e.settled = 0;
    e.attempt = next_attempt_++;
    return {outcome::first, e.attempt};
  }
  e.waiters.push_back(std::move(w));
  return {outcome::waiting, 0};
}

bool idempotency_cache::answers_alone(const std::string& key, std::uint64_t body_fingerprint,
                                      clock::time_point now) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() || expired(it->second, now)) return false;
  const entry& e = it->second;
  return e.fingerprint != body_fingerprint || e.done || e.in_flight;
}

void idempotency_cache::uncertain(const std::string& key, std::uint64_t attempt,
                                  std::string order_id) {
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second.attempt != attempt || it->second.done) return;
  entry& e = it->second;
  e.in_flight = false;
  if (e.pinned.empty()) e.pinned = std::move(order_id);
  settle(key, e);
  tell(std::move(e.waiters), ending::unknown, nullptr);
}

std::string idempotency_cache::pinned(const std::string& key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? std::string{} : it->second.pinned;
}

void idempotency_cache::complete(const std::string& key, std::uint64_t attempt, const answer& a) {
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second.attempt != attempt || it->second.done) return;
  entry& e = it->second;
  e.done = true;
  e.in_flight = false;
  e.result = a;
  settle(key, e);
  // The waiters get a copy: one of them may start another key, and that may forget this one.
  const answer given = e.result;
  tell(std::move(e.waiters), ending::answered, &given);
}

void idempotency_cache::abandon(const std::string& key, std::uint64_t attempt) {
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second.attempt != attempt || it->second.done) return;
  entry& e = it->second;
  if (!e.pinned.empty()) {
    // An earlier attempt may be on the broker: its order id stays pinned for the next retry.
    e.in_flight = false;
    settle(key, e);
    tell(std::move(e.waiters), ending::unknown, nullptr);
    return;
  }
  auto waiters = std::move(e.waiters);
  entries_.erase(it);
  tell(std::move(waiters), ending::failed, nullptr);
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
