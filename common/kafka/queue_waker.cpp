#include "common/kafka/queue_waker.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>

#include "common/observability/log.hpp"

namespace order_tracker::kafka::detail {
namespace {

int make_eventfd() {
  // Non-blocking: librdkafka writes to it while holding the queue lock (a blocking fd once hung
  // it, librdkafka issue #2932).
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

void report_handler_failure(std::string_view what, const std::exception_ptr& e) noexcept {
  // Reported like an HTTP handler's failure: one error line, and the loop carries on.
  try {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("kafka", "{} threw: {}", what, ex.what());
    } catch (...) {
      log::error("kafka", "{} threw a non-standard exception", what);
    }
  } catch (...) {  // formatting the line failed (out of memory): say so without formatting
    log::write(log::level::error, "kafka", "a callback threw");
  }
}

queue_waker::queue_waker(boost::asio::io_context& io, rd_kafka_queue_t* queue,
                         std::function<void()> drain)
    : queue_(queue), fd_(io, make_eventfd()), drain_(std::move(drain)) {}

queue_waker::~queue_waker() {
  stop();
}

void queue_waker::start() {
  if (!stopped_) return;
  stopped_ = false;
  static constexpr std::uint64_t one = 1;  // an eventfd takes 8-byte writes
  rd_kafka_queue_io_event_enable(queue_, fd_.native_handle(), &one, sizeof one);
  // Events queued before the fd was attached produced no write: look now.
  call_guarded("kafka drain", drain_);
  do_wait();
}

void queue_waker::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Detach before the fd can close, so librdkafka never writes to a reused descriptor.
  rd_kafka_queue_io_event_enable(queue_, -1, nullptr, 0);
  boost::system::error_code ignored;
  fd_.cancel(ignored);
}

void queue_waker::do_wait() {
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this](const boost::system::error_code& ec) {
                   // Aborted waits may complete after this waker is gone: touch nothing then.
                   if (ec == boost::asio::error::operation_aborted) return;
                   on_ready(ec);
                 });
}

void queue_waker::on_ready(const boost::system::error_code& ec) {
  if (ec || stopped_) return;
  std::uint64_t count = 0;
  // Clear first, then drain: a write that lands during the drain re-arms the next wait.
  [[maybe_unused]] const auto n = ::read(fd_.native_handle(), &count, sizeof count);
  // The drain must not destroy this waker (renewals and detaches retire it through a posted
  // handler), so `stopped_` is still ours to read afterwards.
  call_guarded("kafka drain", drain_);
  if (!stopped_) do_wait();
}

}  // namespace order_tracker::kafka::detail
