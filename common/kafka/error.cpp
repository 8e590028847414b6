#include "common/kafka/error.hpp"

#include <librdkafka/rdkafka.h>

namespace order_tracker::kafka {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int ev) const override {
    return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(ev));
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

boost::system::error_code make_error(int rd_kafka_resp_err) noexcept {
  return {rd_kafka_resp_err, error_category()};
}

bool is_queue_full(const boost::system::error_code& ec) noexcept {
  return ec.category() == error_category() && ec.value() == RD_KAFKA_RESP_ERR__QUEUE_FULL;
}

bool is_all_brokers_down(const boost::system::error_code& ec) noexcept {
  return ec.category() == error_category() && ec.value() == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
}

bool is_unknown_topic(const boost::system::error_code& ec) noexcept {
  return ec.category() == error_category() &&
         (ec.value() == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          ec.value() == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
}

bool is_authentication_failure(const boost::system::error_code& ec) noexcept {
  return ec.category() == error_category() &&
         (ec.value() == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
          ec.value() == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
          ec.value() == RD_KAFKA_RESP_ERR__SSL);
}

bool is_fatal(const boost::system::error_code& ec) noexcept {
  return ec.category() == error_category() && ec.value() == RD_KAFKA_RESP_ERR__FATAL;
}

}  // namespace order_tracker::kafka
