#pragma once
/// Driving a test's own io_context until a condition holds, for tests of the asynchronous parts.

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace order_tracker::test {

/// Runs `io` until `done()` or the deadline; every wake-up comes from the loop's own handlers.
template <typename Done>
bool run_until(boost::asio::io_context& io, Done done,
               std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(50));
    if (io.stopped()) io.restart();
  }
  return done();
}

}  // namespace order_tracker::test
