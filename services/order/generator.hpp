#pragma once
/// Sample orders on an asio timer, for demos and load: at a fixed rate, or as fast as Kafka takes
/// them (then it pauses whenever the producer queue is full and resumes on progress).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/uuid/random_generator.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>

#include "common/events/order_placed.hpp"

namespace order_tracker::order {

/// Makes orders like the seed's: a random id, one of a few users and items, quantity 1-5.
class sample_orders {
 public:
  explicit sample_orders(std::uint64_t seed = std::random_device{}());
  events::order_placed next();

 private:
  std::mt19937_64 rng_;
  boost::uuids::basic_random_generator<std::mt19937_64> uuids_;
};

class generator {
 public:
  /// `publish` returns false when the order could not be queued (full): it is retried later.
  using publish_fn = std::function<bool(const events::order_placed&)>;

  /// `rate` orders/s (0: unpaced); stops by itself after `count` orders (0: never).
  generator(boost::asio::io_context& io, double rate, std::uint64_t count, publish_fn publish,
            std::function<void()> on_finished);

  void start();
  void stop();
  /// The producer made room: continue if we were held back.
  void resume();
  std::uint64_t generated() const { return generated_; }

 private:
  void schedule(std::chrono::steady_clock::duration delay);
  void on_tick();
  /// Publishes up to `n` orders; false when held back.
  bool publish_some(std::uint64_t n);

  boost::asio::steady_timer timer_;
  double rate_;
  std::uint64_t count_;
  publish_fn publish_;
  std::function<void()> on_finished_;
  sample_orders samples_;
  std::optional<events::order_placed> held_;  ///< refused by a full queue, sent first on resume
  std::chrono::steady_clock::time_point started_{};
  std::uint64_t generated_ = 0;
  bool stopped_ = true;
  bool waiting_for_room_ = false;
};

}  // namespace order_tracker::order
