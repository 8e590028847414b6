#include "services/order/generator.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace order_tracker::order {
namespace {

constexpr std::array<std::string_view, 4> users{"John Doe", "Jane Doe", "Ada Lovelace",
                                                "Alan Turing"};
constexpr std::array<std::string_view, 5> items{"Shoes", "Phone", "Laptop", "Book", "Coffee"};
// Unpaced bursts yield to the io_context this often, so HTTP and signals stay responsive.
constexpr std::uint64_t max_per_turn = 2000;
constexpr std::chrono::milliseconds paced_tick{10};

}  // namespace

sample_orders::sample_orders(std::uint64_t seed) : rng_(seed), uuids_(rng_) {}

events::order_placed sample_orders::next() {
  events::order_placed o;
  o.order_id = uuids_();
  o.user = users[rng_() % users.size()];
  o.item = items[rng_() % items.size()];
  o.quantity = static_cast<std::int64_t>(rng_() % 5) + 1;
  return o;
}

generator::generator(boost::asio::io_context& io, double rate, std::uint64_t count,
                     publish_fn publish, std::function<void()> on_finished)
    : timer_(io),
      rate_(rate),
      count_(count),
      publish_(std::move(publish)),
      on_finished_(std::move(on_finished)) {}

void generator::start() {
  stopped_ = false;
  started_ = std::chrono::steady_clock::now();
  schedule(std::chrono::steady_clock::duration::zero());
}

void generator::stop() {
  stopped_ = true;
  timer_.cancel();
}

void generator::resume() {
  if (stopped_ || !waiting_for_room_) return;
  waiting_for_room_ = false;
  schedule(std::chrono::steady_clock::duration::zero());
}

void generator::schedule(std::chrono::steady_clock::duration delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted || stopped_) return;
    on_tick();
  });
}

bool generator::publish_some(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    if (count_ != 0 && generated_ >= count_) return true;
    if (!held_) held_ = samples_.next();
    if (!publish_(*held_)) {
      waiting_for_room_ = true;
      return false;
    }
    held_.reset();
    ++generated_;
  }
  return true;
}

void generator::on_tick() {
  std::uint64_t due = max_per_turn;
  if (rate_ > 0) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
    const auto target = static_cast<std::uint64_t>(elapsed.count() * rate_) + 1;
    due = target > generated_ ? std::min(target - generated_, max_per_turn) : 0;
  }
  if (!publish_some(due)) return;  // resume() continues
  if (count_ != 0 && generated_ >= count_) {
    stopped_ = true;
    if (on_finished_) on_finished_();
    return;
  }
  if (rate_ > 0) {
    const auto next = std::chrono::duration<double>(static_cast<double>(generated_) / rate_);
    const auto at =
        started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(next);
    schedule(std::min<std::chrono::steady_clock::duration>(
        std::max<std::chrono::steady_clock::duration>(at - std::chrono::steady_clock::now(),
                                                      std::chrono::steady_clock::duration::zero()),
        paced_tick * 100));
  } else {
    schedule(std::chrono::steady_clock::duration::zero());
  }
}

}  // namespace order_tracker::order
