#include "services/tracker/tracker_service.hpp"

#include <boost/uuid/uuid_io.hpp>
#include <csignal>
#include <string>

#include "common/events/order_placed.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::tracker {
namespace {

std::string describe(const std::vector<kafka::topic_partition>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty())
      out += ", ";
    out += fmt::format("{}-{}", p.topic, p.partition);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

tracker_service::tracker_service(boost::asio::io_context& io, tracker_options options)
    : options_(std::move(options)),
      consumer_(
          io, options_.common.kafka, options_.group_id, {{"client.id", "tracker-service"}},
          kafka::consumer_events{
              .on_message = [this](kafka::message&& m) { on_message(std::move(m)); },
              .on_assigned =
                  [](const std::vector<kafka::topic_partition>& parts) {
                    log::info("tracker", "assigned {}", describe(parts));
                  },
              .on_revoked =
                  [](const std::vector<kafka::topic_partition>& parts, bool lost) {
                    log::info("tracker", "{} {}", lost ? "lost" : "revoked", describe(parts));
                  },
              .on_error =
                  [](const boost::system::error_code& ec, std::string_view reason, bool fatal) {
                    if (fatal) {
                      log::error("kafka", "fatal consumer error: {} ({})", reason, ec.message());
                    } else {
                      log::warn("kafka", "{} ({})", reason, ec.message());
                    }
                  },
              .on_commit =
                  [](const boost::system::error_code& ec,
                     const std::vector<kafka::topic_partition>&) {
                    if (ec)
                      log::warn("tracker", "offset commit failed: {}", ec.message());
                  },
              .on_stats = nullptr,
          }),
      signals_(io, SIGINT, SIGTERM) {}

void tracker_service::start() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (!ec)
      shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
  });
  log::info("tracker", "starting: brokers {}, topic {}, group {}",
            options_.common.kafka.bootstrap_servers, options_.common.kafka.topic,
            options_.group_id);
  if (const auto ec = consumer_.subscribe({options_.common.kafka.topic})) {
    log::error("tracker", "cannot subscribe to {}: {}", options_.common.kafka.topic, ec.message());
    exit_code_ = 1;
    shutdown("subscribe failed");
  }
}

void tracker_service::on_message(kafka::message&& m) {
  const auto decoded = events::decode(m.payload());
  if (!decoded) {
    ++invalid_;
    log::warn("tracker", "invalid event at {}-{}@{}: {}", m.topic(), m.partition(), m.offset(),
              decoded.error().message());
  } else {
    const auto& order = *decoded;
    ++processed_;
    log::info("tracker", "Received order {}: {} x {} from {} (partition {}, offset {})",
              boost::uuids::to_string(order.order_id), order.quantity, order.item, order.user,
              m.partition(), m.offset());
  }
  consumer_.store_offset(m.topic(), m.partition(), m.offset());
}

void tracker_service::shutdown(std::string_view why) {
  if (stopping_)
    return;
  stopping_ = true;
  log::info("tracker", "stopping ({}): committing and leaving the group", why);
  signals_.cancel();
  consumer_.close(options_.shutdown_timeout, [this] {
    log::info("tracker", "stopped: processed {}, invalid {}", processed_, invalid_);
  });
}

}  // namespace order_tracker::tracker
