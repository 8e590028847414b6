#pragma once
/// Remembers what POST /orders answered for each Idempotency-Key for a bounded time and number of
/// keys, so a client's retry gets the first result instead of placing a second order. Pure: the
/// caller passes the time; no I/O.
///
/// Memory bound: at most `capacity` keys, pending or settled, are held at once; a new key finds
/// room by forgetting the oldest settled key, and is refused (`full`) when every key held is still
/// pending. A key costs its bytes (at most 255, as the API allows) in the map and in at most two
/// places of the eviction queue (which is compacted at twice the capacity), the stored answer (a
/// 201 body of about 100 bytes and a 55-byte traceparent), a pinned order id and the nodes'
/// overhead: measured 1,153 heap bytes per key with 255-byte keys and 593 with 36-byte ones. So
/// the cache holds at most about 1.2 KiB x `capacity` (about 115 MB at the default 100,000), plus
/// one waiter per HTTP connection waiting on a pending key, which the server's connection limit
/// bounds.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
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

  /// How the attempt that a retry waited for ended.
  enum class ending {
    answered,  ///< with the stored answer
    failed,    ///< the order is not on the broker: the retry may place it again
    unknown,   ///< the order may be on the broker: a retry re-sends it with the same order_id
  };
  /// Called once with how the first request ended; `a` is the answer when `answered`, else null.
  using waiter = std::function<void(ending how, const answer* a)>;

  enum class outcome {
    first,     ///< new key (or an uncertain one, see pinned()): the caller places the order, then
               ///< calls complete(), abandon() or uncertain() with the attempt
    waiting,   ///< the first request is still in flight; `w` runs when it ends
    replayed,  ///< answered before; `w` already ran with that answer
    conflict,  ///< the key was used with a different body
    full,      ///< `capacity` keys are all pending: nothing is remembered, try again later
  };

  /// What start() decided, and for `first` the attempt to pass to complete/abandon/uncertain.
  struct started {
    outcome result = outcome::first;
    std::uint64_t attempt = 0;
    friend bool operator==(const started& s, outcome o) { return s.result == o; }
  };

  idempotency_cache(std::size_t capacity, std::chrono::seconds window);

  started start(const std::string& key, std::uint64_t body_fingerprint, clock::time_point now,
                waiter w);
  /// True when start() would not return `first` (nor `full`): the key's answer is stored, its
  /// first request is still in flight, or the body conflicts. Such a request needs no producer.
  bool answers_alone(const std::string& key, std::uint64_t body_fingerprint,
                     clock::time_point now) const;
  /// The attempt succeeded: remember `a` and give it to the waiting retries. An attempt that is
  /// no longer the key's latest (the key was retried or re-created since) changes nothing.
  void complete(const std::string& key, std::uint64_t attempt, const answer& a);
  /// The attempt failed and its order is not on the broker: forget the key and tell the waiting
  /// retries. If an earlier attempt's outcome is unknown, the key stays uncertain instead.
  void abandon(const std::string& key, std::uint64_t attempt);
  /// The attempt's outcome is unknown (the order may be on the broker): tell the waiting retries,
  /// and let the next request with this key try again with the same `order_id`, so a duplicate
  /// in the log is one order to its consumers, not two.
  void uncertain(const std::string& key, std::uint64_t attempt, std::string order_id);
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
    std::uint64_t attempt = 0;  ///< the latest attempt
    std::uint64_t settled = 0;  ///< its place in settled_, 0 while an attempt is in flight
  };
  bool pending(const entry& e) const { return !e.done && e.in_flight; }
  bool expired(const entry& e, clock::time_point now) const;
  void settle(const std::string& key, entry& e);
  void expire(clock::time_point now);
  bool make_room();
  static void tell(std::vector<waiter> waiters, ending how, const answer* a);

  std::size_t capacity_;
  std::chrono::seconds window_;
  std::unordered_map<std::string, entry> entries_;
  /// Keys whose attempt has ended (answered or uncertain), oldest first, with their `settled`
  /// mark so that a stale place (the key was retried or re-created since) is skipped. Only these
  /// are ever forgotten: a pending key still owes its waiters an answer.
  std::deque<std::pair<std::string, std::uint64_t>> settled_;
  std::uint64_t next_attempt_ = 1;
  std::uint64_t next_settled_ = 1;
};

/// A 64-bit FNV-1a hash of a request body, to tell a genuine retry from a reused key.
std::uint64_t fingerprint(std::string_view body);

}  // namespace order_tracker::order
