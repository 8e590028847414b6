#pragma once
/// Remembers what POST /orders answered for each Idempotency-Key for a bounded time and number of
/// keys, so a client's retry gets the first result instead of placing a second order. Pure: the
/// caller passes the time; no I/O.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace order_tracker::order {

class idempotency_cache {
 public:
  using clock = std::chrono::steady_clock;

  /// The answer given for a key.
  struct answer {
    unsigned status = 0;
    std::string body;
    std::string traceparent;
  };
  /// Called with the first request's answer, or with nullptr when it failed (then the retry is
  /// not remembered and may try again).
  using waiter = std::function<void(const answer*)>;

  enum class outcome {
    first,     ///< new key (or an uncertain one, see pinned()): the caller places the order, then
               ///< calls complete(), abandon() or uncertain()
    waiting,   ///< the first request is still in flight; `w` runs when it ends
    replayed,  ///< answered before; `w` already ran with that answer
    conflict,  ///< the key was used with a different body
  };

  idempotency_cache(std::size_t capacity, std::chrono::seconds window);

  outcome start(const std::string& key, std::uint64_t body_fingerprint, clock::time_point now,
                waiter w);
  /// The first request succeeded: remember `a` and give it to the waiting retries.
  void complete(const std::string& key, const answer& a);
  /// The first request failed: forget the key and tell the waiting retries.
  void abandon(const std::string& key);
  /// The first request's outcome is unknown (the order may be on the broker): tell the waiting
  /// retries, and let the next request with this key try again with the same `order_id`, so a
  /// duplicate in the log is one order to its consumers, not two.
  void uncertain(const std::string& key, std::string order_id);
  /// The order id an uncertain earlier attempt used (empty if none): start() returned `first`.
  std::string pinned(const std::string& key) const;

  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::uint64_t fingerprint = 0;
    clock::time_point created;
    bool done = false;
    bool in_flight = true;  ///< false after uncertain(): the next start() goes ahead
    std::string pinned;     ///< the order id of an uncertain attempt
    answer result;
    std::vector<waiter> waiters;
    std::uint64_t generation = 0;
  };
  void expire(clock::time_point now);

  std::size_t capacity_;
  std::chrono::seconds window_;
  std::unordered_map<std::string, entry> entries_;
  /// Keys in creation order with their generation, so a re-created key is not expired early.
  std::deque<std::pair<std::string, std::uint64_t>> order_;
  std::uint64_t next_generation_ = 0;
};

/// A 64-bit FNV-1a hash of a request body, to tell a genuine retry from a reused key.
std::uint64_t fingerprint(std::string_view body);

}  // namespace order_tracker::order
