#include "services/tracker/owners_watch.hpp"

#include <utility>

#include "common/observability/log.hpp"

namespace order_tracker::tracker {
namespace {

// Another member's rebalance is noticed within this; this member's own right away.
constexpr std::chrono::milliseconds period{2000};
// Right after a rebalance the coordinator may not have every member's new assignment yet: the
// refresh after one waits a little, and is repeated by the periodic one.
constexpr std::chrono::milliseconds soon{300};
constexpr std::chrono::milliseconds request_timeout{3000};

}  // namespace

owners_watch::owners_watch(boost::asio::io_context& io, kafka::admin& admin, std::string group,
                           std::string topic, reachability brokers_up, ownership owns,
                           std::string self_client_id, observability::registry& metrics)
    : io_(io),
      admin_(admin),
      group_(std::move(group)),
      topic_(std::move(topic)),
      brokers_up_(std::move(brokers_up)),
      owns_(std::move(owns)),
      self_client_id_(std::move(self_client_id)),
      describes_(metrics.counter("tracker_group_describes_total",
                                 "DescribeConsumerGroups requests sent to learn the partition "
                                 "owners (none while this member holds every partition)")),
      timer_(io) {}

void owners_watch::start() {
  stopped_ = false;
  arm(std::chrono::milliseconds(0));
}

void owners_watch::stop() {
  stopped_ = true;
  timer_.cancel();
}

void owners_watch::refresh_soon() {
  if (stopped_) return;
  if (std::chrono::steady_clock::now() + soon < next_) arm(soon);
}

void owners_watch::arm(std::chrono::milliseconds after) {
  next_ = std::chrono::steady_clock::now() + after;
  timer_.expires_at(next_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    refresh();
    arm(period);
  });
}

void owners_watch::refresh() {
  // Described only while every broker was up in the last statistics (1 s), and not at all while
  // this member holds every partition (a lone Tracker, the usual deployment): then every other
  // member holds none, and the owners are known without asking. The topic's partition count
  // comes from DescribeTopics. The last owners stay in use meanwhile. (These guards were first
  // written around a librdkafka 2.14.2 abort after a describe that timed out while its
  // coordinator was down, confluentinc/librdkafka#4605; deploy/librdkafka-patches/0002 fixes
  // that; they stay because they spare requests that would mostly wait out their timeout.)
  if (brokers_up_ && !brokers_up_()) return;
  const auto now = std::chrono::steady_clock::now();
  if (in_flight_ && now - round_started_ < request_timeout + period) return;
  in_flight_ = true;
  round_started_ = now;
  const auto round = ++round_;
  members_.reset();
  partition_count_.reset();
  admin_.count_partitions(
      topic_, request_timeout, [this, round](const boost::system::error_code& ec, int count) {
        if (stopped_ || round != round_) return;
        if (ec) {
          in_flight_ = false;
          return log::debug("tracker", "cannot describe topic {}: {}", topic_, ec.message());
        }
        partition_count_ = count;
        member_partitions self{self_client_id_, {}};
        for (std::int32_t p = 0; p < count; ++p) {
          if (owns_ && owns_(p)) self.partitions.push_back(p);
        }
        if (count > 0 && std::cmp_equal(self.partitions.size(), count)) {
          members_ = std::vector<member_partitions>{std::move(self)};
          return on_answer(round);
        }
        if (brokers_up_ && !brokers_up_()) {
          in_flight_ = false;
          return;
        }
        describe_group(round);
      });
}

void owners_watch::describe_group(std::uint64_t round) {
  describes_.inc();
  admin_.describe_group(
      group_, request_timeout,
      [this, round](const boost::system::error_code& ec, const kafka::group_description& g) {
        if (stopped_ || round != round_) return;
        if (ec) {
          in_flight_ = false;
          return log::debug("tracker", "cannot describe group {}: {}", group_, ec.message());
        }
        std::vector<member_partitions> members;
        for (const auto& m : g.members) {
          member_partitions mp{m.client_id, {}};
          for (const auto& tp : m.assignment) {
            if (tp.topic == topic_) mp.partitions.push_back(tp.partition);
          }
          members.push_back(std::move(mp));
        }
        members_ = std::move(members);
        on_answer(round);
      });
}

void owners_watch::on_answer(std::uint64_t round) {
  if (round != round_ || !members_ || !partition_count_) return;
  in_flight_ = false;
  partition_owners next(*members_, *partition_count_);
  if (next.members() != owners_.members() || next.unowned() != owners_.unowned() ||
      next.partition_count() != owners_.partition_count()) {
    log::info("tracker", "group {}: {} members advertise an address; partitions without one: {}",
              group_, next.members().size(), next.unowned().size());
  }
  owners_ = std::move(next);
}

}  // namespace order_tracker::tracker
