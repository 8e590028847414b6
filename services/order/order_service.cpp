#include "services/order/order_service.hpp"

#include <boost/uuid/uuid_io.hpp>
#include <csignal>

#include "common/kafka/error.hpp"
#include "common/kafka/statistics.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::order {
namespace {

constexpr std::chrono::milliseconds max_retry_backoff{10'000};
constexpr std::chrono::seconds summary_interval{10};
// After a fatal producer error: how long orders in flight get before the instance is replaced.
constexpr std::chrono::milliseconds renew_flush_timeout{2000};
// An accepted order's own deadline runs this long past librdkafka's message.timeout.ms, which
// should report first: long enough for a renewal's flush and purge, short enough that no client
// or graceful shutdown waits on a report that will never come.
constexpr std::chrono::milliseconds delivery_deadline_slack{5000};
// Below this rate every generated delivery gets its own line, as the seed's producer prints;
// above it the periodic summary counts them, so logging never becomes the bottleneck.
constexpr double per_order_log_rate = 50;

std::vector<config::property> producer_defaults(const order_options& o) {
  return {
      {"client.id", "order-service"},
      {"message.timeout.ms", std::to_string(o.delivery_timeout.count())},
      // Java clients place keys with murmur2; so do we, so an order lands where they would put it.
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      // Each 201 waits for a produce round trip: Nagle's algorithm holding a small produce
      // request back until the previous one is acknowledged (delayed ACKs on the broker's side)
      // added tens of milliseconds (BENCHMARKS.md, "linger.ms and Nagle").
      {"socket.nagle.disable", "true"},
      // Readiness follows broker state from the statistics, so they come often.
      {"statistics.interval.ms", "1000"},
      {"reconnect.backoff.max.ms", "2000"},
  };
}

}  // namespace

order_service::order_service(boost::asio::io_context& io, order_options options)
    : options_(std::move(options)),
      producer_(io, options_.common.kafka, producer_defaults(options_),
                kafka::producer_events{
                    .on_progress =
                        [this] {
                          if (generator_) generator_->resume();
                        },
                    .on_error = [this](const boost::system::error_code& ec, std::string_view reason,
                                       bool fatal) { on_kafka_error(ec, reason, fatal); },
                    .on_stats = [this](std::string_view json) { on_stats(json); },
                    .on_unowned_delivery =
                        [this](const kafka::delivery_report& r) { on_generated_delivery(r); },
                }),
      admin_(io, producer_),
      publisher_(producer_, options_.common.kafka.topic, metrics_),
      idempotency_(options_.idempotency_capacity, options_.idempotency_window),
      api_(
          io, publisher_, idempotency_, metrics_, [this] { return not_ready_reason(); },
          options_.delivery_timeout + delivery_deadline_slack),
      signals_(io, SIGINT, SIGTERM),
      retry_timer_(io),
      summary_timer_(io),
      renewals_(metrics_.counter("kafka_producer_renewals_total",
                                 "Producer instances replaced after a fatal error")) {
  metrics_.gauge_callback("log_dropped_lines_total",
                          "Log lines lost because stderr did not keep up",
                          [] { return static_cast<double>(log::dropped_lines()); });
  if (options_.generate_rate) {
    log_each_delivery_ =
        *options_.generate_rate > 0 && *options_.generate_rate <= per_order_log_rate;
    generator_.emplace(
        io, *options_.generate_rate, static_cast<std::uint64_t>(options_.count),
        [this](const events::order_placed& o) { return publish_generated(o); },
        [this] { shutdown("generated all orders"); });
  }
  if (options_.http_enabled) {
    http::limits limits;
    limits.max_body_bytes = options_.max_body_bytes;
    limits.max_connections = options_.max_connections;
    http_.emplace(
        io,
        [this](http::request&& req, http::responder respond) {
          api_.handle(std::move(req), std::move(respond));
        },
        limits, [](std::string_view line) { log::warn("http", "{}", line); });
    http_->on_refused([this](http::beast_http::status status) { api_.refused_by_server(status); });
  }
}

void order_service::start() {
  if (http_) {
    const auto endpoint = http::parse_endpoint(options_.http_listen);
    if (!endpoint) {
      throw config::config_error("--http-listen " + options_.http_listen + ": " +
                                 endpoint.error().message());
    }
    if (const auto ec = http_->listen(*endpoint)) {
      throw config::config_error("--http-listen " + options_.http_listen + ": " + ec.message());
    }
    log::info("order", "HTTP API on {}:{}", http_->local_endpoint().address().to_string(),
              http_->local_endpoint().port());
  }
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
    // A second signal while flushing cuts the wait short.
    signals_.async_wait([this](const boost::system::error_code& ec2, int) {
      if (ec2) return;
      log::warn("order", "second signal: giving up on outstanding deliveries");
      producer_.flush(std::chrono::milliseconds(0), [this](std::size_t unfinished) {
        unfinished_ = unfinished;
        flushed_ = true;
        maybe_finish();
      });
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
  if (stopping_) return;
  if (ec) {
    log::warn("order", "cannot make sure topic {} exists: {} ({}); retrying in {} ms",
              options_.common.kafka.topic, detail, ec.message(), retry_backoff_.count());
    retry_timer_.expires_after(retry_backoff_);
    retry_backoff_ = std::min(retry_backoff_ * 2, max_retry_backoff);
    retry_timer_.async_wait([this](const boost::system::error_code& e) {
      if (!e && !stopping_) ensure_topic();
    });
    return;
  }
  topic_ready_ = true;
  log::info("order", "topic {} is ready", options_.common.kafka.topic);
  if (generator_) {
    log::info("order", "generating orders at {}",
              *options_.generate_rate > 0 ? fmt::format("{}/s", *options_.generate_rate)
                                          : std::string("full speed"));
    generator_->start();
  }
}

std::string order_service::not_ready_reason() const {
  if (stopping_) return "shutting down";
  if (renewing_ || producer_.failed())
    return "renewing the producer after a fatal error: " + last_kafka_error_;
  // The broker first: when it cannot be reached (or refuses our credentials) that is also why the
  // topic is not ensured, and the broker's error is the one an operator can act on.
  if (!brokers_.up()) return brokers_.down_reason();
  if (!topic_ready_) return "topic " + options_.common.kafka.topic + " not ensured yet";
  // A broker that accepts connections but answers nothing (paused, overloaded) looks up in the
  // statistics; what shows it is orders waiting with no verdict. New orders would only wait too.
  if (const auto stalled = publisher_.unconfirmed_for(std::chrono::steady_clock::now());
      stalled >= options_.stall_timeout) {
    return fmt::format("the broker has confirmed none of {} orders in flight for {} s",
                       publisher_.in_flight(),
                       std::chrono::duration_cast<std::chrono::seconds>(stalled).count());
  }
  return {};
}

void order_service::renew_producer() {
  if (renewing_ || stopping_) return;
  renewing_ = true;
  // Every order in flight gets its verdict first (the failed instance purges what it holds), so
  // no client waits on a report the old instance will never send. The completion is posted by
  // the producer, so the renewal runs from a handler of its own, never inside the producer's
  // drain (issue 12); renew() answers any message still without a report.
  producer_.flush(renew_flush_timeout, [this](std::size_t unfinished) {
    if (stopping_) return;
    admin_.detach();
    producer_.renew();
    renewing_ = false;
    renewals_.inc();
    log::info("kafka", "producer renewed ({} orders were left without a report)", unfinished);
  });
}

void order_service::on_kafka_error(const boost::system::error_code& ec, std::string_view reason,
                                   bool fatal) {
  last_kafka_error_ = std::string(reason);
  brokers_.on_error(ec, reason);
  if (fatal) {
    log::error("kafka", "fatal producer error: {} ({}): renewing the producer", reason,
               ec.message());
    renew_producer();
  } else {
    log::warn("kafka", "{} ({})", reason, ec.message());
  }
}

void order_service::on_stats(std::string_view json) {
  const auto stats = kafka::parse_statistics(json);
  if (!stats) return;
  if (brokers_.on_statistics(*stats)) {
    log::info("order", "{}", brokers_.up() ? "broker reachable again" : "no broker reachable");
  }
  for (const auto& b : stats->brokers) {
    metrics_
        .gauge("kafka_broker_up", "1 when the connection to the broker is up", {{"broker", b.name}})
        .set(b.up ? 1 : 0);
    metrics_
        .gauge("kafka_broker_rtt_seconds", "Average broker round-trip time (librdkafka window)",
               {{"broker", b.name}})
        .set(b.rtt_avg_seconds);
  }
  metrics_
      .gauge("kafka_producer_tx_messages", "Messages transmitted to brokers (librdkafka txmsgs)")
      .set(static_cast<double>(stats->tx_messages));
  metrics_
      .gauge("kafka_producer_queued_bytes", "Bytes in the producer queues (librdkafka msg_size)")
      .set(static_cast<double>(stats->queued_bytes));
}

void order_service::on_generated_delivery(const kafka::delivery_report& r) {
  publisher_.record(r);
  if (r.error) {
    ++generated_failed_;
    log::error("order", "order {} failed: {}", r.key, r.error.message());
    return;
  }
  ++generated_delivered_;
  if (log_each_delivery_) {
    log::info("order", "Delivered order {} to {} : partition {} : at offset {}", r.key,
              publisher_.topic(), r.partition, r.offset);
  }
}

bool order_service::publish_generated(const events::order_placed& order) {
  // No handler: the verdict comes to on_generated_delivery, keyed by the order id.
  const auto ec = publisher_.publish(order, {}, nullptr);
  if (!ec) return true;
  if (kafka::is_queue_full(ec)) return false;
  ++generated_failed_;
  log::error("order", "order {} not queued: {}", boost::uuids::to_string(order.order_id),
             ec.message());
  return true;  // dropped, not retried: it was never acknowledged to anyone
}

void order_service::arm_summary() {
  summary_timer_.expires_after(summary_interval);
  summary_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    const auto interval = static_cast<double>(summary_interval.count());
    const auto window = publisher_.take_window();
    log::info(
        "order",
        "accepted {:.1f}/s, rejected {:.1f}/s, generated {:.1f}/s, p99 delivery {:.1f} ms, "
        "in flight {}",
        static_cast<double>(api_.accepted() - accepted_at_last_summary_) / interval,
        static_cast<double>(api_.rejected() - rejected_at_last_summary_) / interval,
        static_cast<double>(window.delivered - (api_.accepted() - accepted_at_last_summary_)) /
            interval,
        window.delivered == 0 ? 0.0 : window.p99_seconds * 1000, publisher_.in_flight());
    accepted_at_last_summary_ = api_.accepted();
    rejected_at_last_summary_ = api_.rejected();
    arm_summary();
  });
}

void order_service::shutdown(std::string_view why) {
  if (stopping_) return;
  stopping_ = true;
  log::info("order",
            "stopping ({}): answering orders in flight, flushing {} messages, at most {} ms", why,
            producer_.queue_length(), options_.shutdown_timeout.count());
  if (generator_) generator_->stop();
  retry_timer_.cancel();
  summary_timer_.cancel();
  if (http_) {
    http_drained_ = false;
    http_->shutdown([this] {
      http_drained_ = true;
      maybe_finish();
    });
  }
  producer_.flush(options_.shutdown_timeout, [this](std::size_t unfinished) {
    unfinished_ = unfinished;
    flushed_ = true;
    maybe_finish();
  });
}

void order_service::maybe_finish() {
  if (!flushed_ || !http_drained_) return;
  log::info("order",
            "stopped: accepted {} over HTTP, generated {} delivered / {} failed, {} unfinished",
            api_.accepted(), generated_delivered_, generated_failed_, unfinished_);
  signals_.cancel();
  admin_.stop();
  producer_.stop();
}

}  // namespace order_tracker::order
