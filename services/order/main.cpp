// order-service: turns orders into OrderPlaced events on Kafka. Wiring only.
#include <boost/asio/io_context.hpp>
#include <exception>
#include <iostream>

#include "common/kafka/client_library.hpp"
#include "common/observability/log.hpp"
#include "services/order/order_service.hpp"

int main(int argc, char* argv[]) {
  using namespace order_tracker;
  try {
    auto options = order::parse_order_options(argc, argv, config::current_environment());
    if (!options) return 0;
    log::configure(options->common.log_level, options->common.log_format);
    kafka::require_supported_client_library("order-service");
    boost::asio::io_context io(1);
    order::order_service service(io, std::move(*options));
    service.start();
    io.run();  // returns once the service has stopped; a fatal Kafka error renews, not ends
    return 0;
  } catch (const config::config_error& e) {
    std::cerr << "order-service: " << e.what() << "\n";
    return config::exit_config_error;
  } catch (const std::exception& e) {
    std::cerr << "order-service: " << e.what() << "\n";
    return 1;
  }
}
