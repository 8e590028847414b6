#include "common/observability/log_sink.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace order_tracker::log {
namespace {

// A writer that has just written a batch of at least this many lines is behind a busy logger:
// it lets the next lines gather for `gather_time` instead of being woken for each of them. A
// wake-up is a futex call on the logging thread, which costs more than formatting the line.
// Lines that come one by one (a few hundred a second) are still written at once, so a process
// killed with SIGKILL loses at most the lines of the last millisecond or so.
constexpr std::uint64_t busy_batch_lines = 4;
constexpr auto gather_time = std::chrono::milliseconds(1);

/// writev(2) until every byte is written. A non-blocking fd is waited for with poll(2).
bool write_fully(int fd, iovec* iov, int count) noexcept {
  while (count > 0) {
    const ssize_t n = ::writev(fd, iov, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

iovec as_iovec(std::string_view s) noexcept {
  return {const_cast<char*>(s.data()), s.size()};
}

}  // namespace

line_sink::line_sink(int fd, std::size_t capacity, notice_fn notice)
    : fd_(fd),
      capacity_(capacity),
      notice_(notice),
      waiting_(new char[capacity]),
      writing_(new char[capacity]) {
  // The writer blocks every signal, so that signals reach the io thread (asio::signal_set)
  // and never interrupt a write. SIGPIPE, too, stays pending on the writer: a closed stderr
  // shows as failed writes counted as dropped lines, not as a dead service.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    writer_ = std::thread([this] { run(); });
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

line_sink::~line_sink() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  join_writer();
}

bool line_sink::push(std::string_view line) noexcept {
  std::unique_lock lock(mutex_);
  if (ended_) {
    lock.unlock();
    iovec iov = as_iovec(line);
    if (write_fully(fd_, &iov, 1)) return true;
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  ++pushed_;
  bool kept = false;
  bool wake = false;
  // Once one line is dropped, the ones after it are too until the writer takes the buffer:
  // the notice then stands exactly where lines are missing.
  if (dropped_since_taken_ > 0 || line.size() > capacity_ - waiting_bytes_) {
    ++dropped_since_taken_;
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
    wake = state_ != writer_state::writing;
  } else {
    std::memcpy(waiting_.get() + waiting_bytes_, line.data(), line.size());
    waiting_bytes_ += line.size();
    ++waiting_lines_;
    kept = true;
    wake = state_ == writer_state::idle ||
           (state_ == writer_state::gathering && waiting_bytes_ >= capacity_ / 2);
  }
  if (wake) state_ = writer_state::writing;  // one wake-up per sleep is enough
  lock.unlock();
  if (wake) wake_.notify_one();
  return kept;
}

bool line_sink::flush(std::chrono::milliseconds timeout) noexcept {
  std::unique_lock lock(mutex_);
  const auto target = pushed_;
  if (settled_ < target && !ended_) {
    flush_wanted_ = true;
    state_ = writer_state::writing;
    wake_.notify_one();
    done_.wait_for(lock, timeout, [&] { return settled_ >= target || ended_; });
  }
  return settled_ >= target;
}

bool line_sink::close(std::chrono::milliseconds timeout) noexcept {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  wake_.notify_one();
  if (!done_.wait_for(lock, timeout, [this] { return ended_; })) return false;
  lock.unlock();
  join_writer();
  return true;
}

void line_sink::join_writer() noexcept {
  const std::lock_guard lock(join_mutex_);
  if (writer_.joinable()) writer_.join();
}

void line_sink::run() noexcept {
  std::string notice;
  std::uint64_t last_batch_lines = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (last_batch_lines >= busy_batch_lines && !stopping_ && !flush_wanted_) {
      state_ = writer_state::gathering;
      wake_.wait_for(lock, gather_time, [this] {
        return stopping_ || flush_wanted_ || dropped_since_taken_ > 0 ||
               waiting_bytes_ >= capacity_ / 2;
      });
    }
    if (waiting_lines_ == 0 && dropped_since_taken_ == 0) {
      if (stopping_) break;
      state_ = writer_state::idle;
      wake_.wait(lock,
                 [this] { return stopping_ || waiting_lines_ > 0 || dropped_since_taken_ > 0; });
      last_batch_lines = 0;  // after an idle spell the first line is written at once
      continue;
    }
    state_ = writer_state::writing;
    std::swap(waiting_, writing_);
    const std::size_t bytes = std::exchange(waiting_bytes_, 0);
    const std::uint64_t lines = std::exchange(waiting_lines_, 0);
    const std::uint64_t dropped = std::exchange(dropped_since_taken_, 0);
    flush_wanted_ = false;
    lock.unlock();

    // The lines were dropped when the buffer just taken was full, so after its last line.
    notice.clear();
    if (dropped > 0) {
      try {
        notice_(notice, dropped);
      } catch (...) {
        notice.clear();  // the count still reaches dropped() and /metrics
      }
    }
    const bool written = write_batch({writing_.get(), bytes}, notice);

    lock.lock();
    if (!written) dropped_total_.fetch_add(lines, std::memory_order_relaxed);
    settled_ += lines + dropped;
    last_batch_lines = lines;
    done_.notify_all();
  }
  ended_ = true;
  done_.notify_all();
}

bool line_sink::write_batch(std::string_view batch, std::string_view notice) noexcept {
  std::array<iovec, 2> iov{as_iovec(batch), as_iovec(notice)};
  return write_fully(fd_, iov.data(), notice.empty() ? 1 : 2);
}

}  // namespace order_tracker::log
