#include "services/order/order_service.hpp"

#include <boost/uuid/uuid_io.hpp>
#include <csignal>

#include "common/kafka/error.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::order {
namespace {

constexpr std::chrono::milliseconds max_retry_backoff{10'000};
constexpr std::chrono::seconds summary_interval{10};
// Below this rate every delivery gets its own line, as the seed's producer prints; above it the
// periodic summary counts them, so logging never becomes the bottleneck.
constexpr double per_order_log_rate = 50;

std::vector<config::property> producer_defaults(const order_options& o) {
  return {
      {"client.id", "order-service"},
      {"message.timeout.ms", std::to_string(o.delivery_timeout.count())},
      // Java clients place keys with murmur2; so do we, so an order lands where they would put it.
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"statistics.interval.ms", "5000"},
  };
}

}  // namespace

order_service::order_service(boost::asio::io_context& io, order_options options)
    : io_(io),
      options_(std::move(options)),
      producer_(
          io, options_.common.kafka, producer_defaults(options_),
          kafka::producer_events{
              .on_progress =
                  [this] {
                    if (generator_)
                      generator_->resume();
                  },
              .on_error =
                  [](const boost::system::error_code& ec, std::string_view reason, bool fatal) {
                    if (fatal) {
                      log::error("kafka", "fatal producer error: {} ({})", reason, ec.message());
                    } else {
                      log::warn("kafka", "{} ({})", reason, ec.message());
                    }
                  },
              .on_stats = nullptr,
          }),
      admin_(io, producer_),
      signals_(io, SIGINT, SIGTERM),
      retry_timer_(io),
      summary_timer_(io) {
  if (options_.generate_rate) {
    log_each_delivery_ =
        *options_.generate_rate > 0 && *options_.generate_rate <= per_order_log_rate;
    generator_.emplace(
        io, *options_.generate_rate, static_cast<std::uint64_t>(options_.count),
        [this](const events::order_placed& o) { return publish_generated(o); },
        [this] { shutdown("generated all orders"); });
  }
}

void order_service::start() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
    // A second signal while flushing cuts the wait short.
    signals_.async_wait([this](const boost::system::error_code& ec2, int) {
      if (ec2)
        return;
      log::warn("order", "second signal: giving up on outstanding deliveries");
      producer_.flush(std::chrono::milliseconds(0), [](std::size_t) {});
    });
  });
  log::info("order", "starting: brokers {}, topic {}", options_.common.kafka.bootstrap_servers,
            options_.common.kafka.topic);
  ensure_topic();
  arm_summary();
}

void order_service::ensure_topic() {
  kafka::topic_spec spec{
      options_.common.kafka.topic, options_.partitions, options_.replication_factor, {}};
  if (options_.min_insync_replicas > 0) {
    spec.configs.emplace_back("min.insync.replicas", std::to_string(options_.min_insync_replicas));
  }
  admin_.ensure_topic(spec, std::chrono::milliseconds(10'000),
                      [this](const boost::system::error_code& ec, const std::string& detail) {
                        on_topic(ec, detail);
                      });
}

void order_service::on_topic(const boost::system::error_code& ec, const std::string& detail) {
  if (stopping_)
    return;
  if (ec) {
    log::warn("order", "cannot make sure topic {} exists: {} ({}); retrying in {} ms",
              options_.common.kafka.topic, detail, ec.message(), retry_backoff_.count());
    retry_timer_.expires_after(retry_backoff_);
    retry_backoff_ = std::min(retry_backoff_ * 2, max_retry_backoff);
    retry_timer_.async_wait([this](const boost::system::error_code& e) {
      if (!e && !stopping_)
        ensure_topic();
    });
    return;
  }
  log::info("order", "topic {} is ready", options_.common.kafka.topic);
  if (generator_) {
    log::info("order", "generating orders at {}",
              *options_.generate_rate > 0 ? fmt::format("{}/s", *options_.generate_rate)
                                          : std::string("full speed"));
    generator_->start();
  }
}

bool order_service::publish_generated(const events::order_placed& order) {
  encoded_.clear();
  events::encode(order, encoded_);
  const auto id = boost::uuids::to_string(order.order_id);
  const auto ec =
      producer_.send(options_.common.kafka.topic, id, encoded_, {},
                     [this, order_id = order.order_id](const kafka::delivery_report& r) {
                       on_delivered(order_id, r);
                     });
  if (!ec)
    return true;
  if (kafka::is_queue_full(ec))
    return false;
  ++failed_;
  log::error("order", "order {} not queued: {}", id, ec.message());
  if (producer_.failed())
    shutdown("fatal producer error");
  return true;  // dropped, not retried: it was never acknowledged to anyone
}

void order_service::on_delivered(const boost::uuids::uuid& id, const kafka::delivery_report& r) {
  if (r.error) {
    ++failed_;
    log::error("order", "order {} failed: {}", boost::uuids::to_string(id), r.error.message());
    return;
  }
  ++delivered_;
  if (log_each_delivery_) {
    log::info("order", "Delivered order {} to {} : partition {} : at offset {}",
              boost::uuids::to_string(id), options_.common.kafka.topic, r.partition, r.offset);
  }
}

void order_service::arm_summary() {
  summary_timer_.expires_after(summary_interval);
  summary_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_)
      return;
    log_summary();
    arm_summary();
  });
}

void order_service::log_summary() {
  const auto interval = static_cast<double>(summary_interval.count());
  log::info("order", "delivered {} ({:.0f}/s), failed {}, queued {}", delivered_,
            static_cast<double>(delivered_ - delivered_at_last_summary_) / interval, failed_,
            producer_.queue_length());
  delivered_at_last_summary_ = delivered_;
}

void order_service::shutdown(std::string_view why) {
  if (stopping_)
    return;
  stopping_ = true;
  log::info("order", "stopping ({}): flushing {} outstanding messages, at most {} ms", why,
            producer_.queue_length(), options_.shutdown_timeout.count());
  if (generator_)
    generator_->stop();
  retry_timer_.cancel();
  summary_timer_.cancel();
  producer_.flush(options_.shutdown_timeout,
                  [this](std::size_t unfinished) { finish(unfinished); });
}

void order_service::finish(std::size_t unfinished) {
  log::info("order", "stopped: delivered {}, failed {}, unfinished {}", delivered_, failed_,
            unfinished);
  if (producer_.failed())
    exit_code_ = 1;
  signals_.cancel();
  admin_.stop();
  producer_.stop();
}

}  // namespace order_tracker::order
