#pragma once
/// Whole lines from any thread, written to one file descriptor in batches by a thread of the
/// sink's own, so that a slow reader of that descriptor stalls the sink's thread and never the
/// threads that log.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace order_tracker::log {

/// Memory is bounded: at most `capacity` bytes of lines wait while at most `capacity` more are
/// being written, so a sink holds at most 2 x `capacity` bytes of lines. A line that does not
/// fit is dropped and counted, and so is every line after it until the writer has taken the
/// waiting ones; the writer then writes a line saying how many were dropped, where they were.
class line_sink {
 public:
  /// Appends to `out` one whole line, ending in '\n', saying that `dropped` lines were lost.
  using notice_fn = void (*)(std::string& out, std::uint64_t dropped);

  /// 2 MiB waiting plus 2 MiB being written: about 30,000 per-order lines of slack.
  static constexpr std::size_t default_capacity = std::size_t{2} << 20;

  /// Starts the writer thread, with every signal blocked. `fd` is not owned and must stay open
  /// while the sink lives.
  line_sink(int fd, std::size_t capacity, notice_fn notice);
  /// Writes everything pushed, then joins the writer thread, however long the fd takes.
  ~line_sink();
  line_sink(const line_sink&) = delete;
  line_sink& operator=(const line_sink&) = delete;

  /// Queues one whole line (ending in '\n') and returns without waiting for the fd. The only
  /// system call it may make is the wake-up of an idle writer. False if the line was dropped.
  /// After close() has finished, writes the line itself instead, with one write(2).
  bool push(std::string_view line) noexcept;

  /// Waits until every line pushed before the call is written (or dropped and reported), or
  /// `timeout` passes. True if nothing it waited for is left.
  bool flush(std::chrono::milliseconds timeout) noexcept;

  /// Asks the writer to finish: write everything pushed, then end. Waits up to `timeout` for
  /// that; true if the writer has ended (and is joined). If not, the writer goes on with the
  /// rest on its own, and the destructor joins it.
  bool close(std::chrono::milliseconds timeout) noexcept;

  /// Lines lost so far: dropped because the buffer was full, or lost to a failed write.
  std::uint64_t dropped() const noexcept { return dropped_total_.load(std::memory_order_relaxed); }

 private:
  /// What the writer is doing, so that push() wakes it only when it sleeps.
  enum class writer_state { writing, gathering, idle };

  void run() noexcept;
  void join_writer() noexcept;
  /// One batch (and the notice of drops after it) in as few write(2) calls as the fd allows.
  bool write_batch(std::string_view batch, std::string_view notice) noexcept;

  const int fd_;
  const std::size_t capacity_;
  const notice_fn notice_;

  mutable std::mutex mutex_;
  /// Wakes the writer: lines after an idle spell, a full half-buffer, flush() and close().
  std::condition_variable wake_;
  /// Wakes flush() and close() each time a batch is done.
  std::condition_variable done_;

  // Guarded by mutex_. Lines are appended to `waiting_` while the writer owns the other buffer.
  std::unique_ptr<char[]> waiting_;
  std::size_t waiting_bytes_ = 0;
  std::uint64_t waiting_lines_ = 0;
  std::uint64_t dropped_since_taken_ = 0;  ///< dropped after the last line of `waiting_`
  std::uint64_t pushed_ = 0;               ///< every push, kept or dropped
  std::uint64_t settled_ = 0;              ///< pushes written, or dropped and reported
  writer_state state_ = writer_state::writing;
  bool flush_wanted_ = false;
  bool stopping_ = false;
  bool ended_ = false;  ///< the writer has returned; push() writes directly

  std::unique_ptr<char[]> writing_;  ///< owned by the writer thread between batches
  std::atomic<std::uint64_t> dropped_total_{0};
  std::mutex join_mutex_;  ///< close() and the destructor may both join
  std::thread writer_;     ///< last: started once everything above exists
};

}  // namespace order_tracker::log
