#pragma once
/// The Order service's HTTP API: POST /orders answers 201 only once the broker has the order;
/// GET /healthz, /readyz and /metrics. Routing, validation and answers; the Kafka side is the
/// publisher's.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/response.hpp"
#include "common/http/server.hpp"
#include "common/observability/metrics.hpp"
#include "common/observability/traceparent.hpp"
#include "services/order/idempotency_cache.hpp"
#include "services/order/order_ids.hpp"
#include "services/order/order_publisher.hpp"
#include "services/order/order_request.hpp"

namespace order_tracker::order {

class order_api {
 public:
  /// Why the service cannot take orders now, or empty when it can.
  using readiness_fn = std::function<std::string()>;

  /// `delivery_deadline`: how long an accepted order waits for its delivery report before it is
  /// answered 503 `delivery_unknown` (a backstop: librdkafka's message.timeout.ms should be
  /// shorter).
  order_api(boost::asio::io_context& io, order_publisher& publisher, idempotency_cache& idempotency,
            observability::registry& metrics, readiness_fn not_ready_reason,
            std::chrono::milliseconds delivery_deadline);
  ~order_api();
  order_api(const order_api&) = delete;
  order_api& operator=(const order_api&) = delete;

  void handle(http::request&& req, http::responder respond);
  /// Counts a request the HTTP server refused before it reached handle() (413, 431, 408, 400).
  void refused_by_server(http::beast_http::status status);

  std::uint64_t accepted() const { return static_cast<std::uint64_t>(accepted_.value()); }
  std::uint64_t rejected() const { return rejected_total_; }

 private:
  struct pending_order;

  void count_rejection(std::string_view reason);
  void post_order(http::request&& req, http::responder respond);
  void reject(const http::responder& respond, http::beast_http::status status,
              std::string_view reason, std::string_view error, std::string_view field = {});
  void publish(events::order_placed&& order, std::string traceparent, std::string idempotency_key,
               std::uint64_t attempt, http::responder respond);
  void on_delivery(pending_order& p, const kafka::delivery_report& r);
  void on_deadline(pending_order& p);
  pending_order& acquire();
  void release(pending_order& p);
  void watch(pending_order& p);
  void unwatch(pending_order& p);
  void arm_deadlines();
  void on_deadlines(const boost::system::error_code& ec, std::uint64_t generation);

  boost::asio::io_context& io_;
  order_publisher& publisher_;
  idempotency_cache& idempotency_;
  observability::registry& metrics_;
  readiness_fn not_ready_reason_;
  observability::trace_ids traces_;
  order_ids ids_;  ///< OS randomness: order ids are not guessable
  order_request_parser parser_;
  observability::counter& accepted_;
  std::chrono::milliseconds delivery_deadline_;
  std::uint64_t rejected_total_ = 0;
  /// orders_rejected_total by reason, looked up in the registry once per reason.
  std::vector<std::pair<std::string, observability::counter*>> rejections_;
  /// Every record ever made (the owner), and those free for the next order: an order in flight
  /// costs no allocation once as many have been in flight before.
  std::vector<std::unique_ptr<pending_order>> records_;
  std::vector<pending_order*> free_records_;
  /// Orders waiting for their verdict, oldest first. All wait the same delivery_deadline_, so the
  /// oldest is the first to pass its deadline, and one timer serves them all.
  pending_order* oldest_ = nullptr;
  pending_order* newest_ = nullptr;
  /// Fires at the oldest order's deadline or earlier (then waits again for the rest).
  boost::asio::steady_timer deadlines_;
  bool deadlines_armed_ = false;
  /// Tells the current wait from one that was cancelled after it had already completed.
  std::uint64_t deadlines_generation_ = 0;
};

}  // namespace order_tracker::order
