// tracker-service: keeps track of the OrderPlaced events on Kafka. Wiring only.
#include <boost/asio/io_context.hpp>
#include <exception>
#include <iostream>

#include "common/kafka/client_library.hpp"
#include "common/observability/log.hpp"
#include "services/tracker/tracker_service.hpp"

int main(int argc, char* argv[]) {
  using namespace order_tracker;
  try {
    auto options = tracker::parse_tracker_options(argc, argv, config::current_environment());
    if (!options) return 0;
    log::configure(options->common.log_level, options->common.log_format);
    kafka::require_supported_client_library("tracker-service");
    boost::asio::io_context io(1);
    tracker::tracker_service service(io, std::move(*options));
    service.start();
    io.run();
    return service.exit_code();
  } catch (const config::config_error& e) {
    std::cerr << "tracker-service: " << e.what() << "\n";
    return config::exit_config_error;
  } catch (const std::exception& e) {
    std::cerr << "tracker-service: " << e.what() << "\n";
    return 1;
  }
}
