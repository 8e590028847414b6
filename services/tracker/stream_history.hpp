#pragma once
/// The newest events of the order stream, numbered, so that a client that reconnects with
/// `Last-Event-ID` gets what it missed. Pure: no Asio, no clock. Not thread-safe.
///
/// An event id is "<epoch>-<sequence>": the sequence numbers this instance's events in the order
/// it published them, and the epoch (random per process) tells a reconnecting client's id from an
/// id another instance, or this one before a restart, handed out. Kafka positions
/// (partition:offset pairs) were the alternative: they survive restarts, but a stream interleaves
/// partitions, so an id would have to carry one offset per partition, and resuming would mean a
/// search through every partition's detail. A sequence number is one integer, and resuming is
/// an index into this ring.
///
/// An event is kept as the order it was published with, and its text is made the first time a
/// stream asks for it: a Tracker with no stream open (the usual case while it drains a backlog)
/// never renders one. Rendering every order at publish, a JSON document and an RFC 3339 time per
/// order, was 72% of the io thread's instructions in a drain (callgrind, BENCHMARKS.md).
///
/// Memory: `capacity` orders and, once rendered, their texts (about 400 bytes each); slots are
/// reused, so at steady state append() allocates nothing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

/// Where a client resumes, decided from its Last-Event-ID.
struct resume_point {
  /// The first sequence number to send.
  std::uint64_t from = 0;
  /// Events the client missed that the history no longer holds; nullopt when unknown (an id
  /// from another instance or epoch, or not an id of ours).
  std::optional<std::uint64_t> missed;
  /// The id was one of ours and everything after it is still held: nothing is lost.
  bool exact = true;
};

class stream_history {
 public:
  /// Appends an event's data (one line of JSON) to `out`.
  using renderer = void (*)(const tracked_order& order, std::string& out);

  /// Holds the newest `capacity` events (at least 1). `epoch`: the instance's id prefix, without
  /// '-'. `render` makes an event's data when its text is first asked for.
  stream_history(std::size_t capacity, std::string epoch, renderer render);

  /// Appends one event; returns its sequence number. The oldest event goes when full.
  std::uint64_t append(const tracked_order& order);

  /// The event's full text ("id: ...\ndata: ...\n\n"); `seq` must be in [oldest(), next()).
  /// Rendered on the first call for `seq`.
  const std::string& text(std::uint64_t seq) const;
  /// The id of sequence number `seq`.
  std::string id_of(std::uint64_t seq) const;

  /// The sequence number the next append() gets.
  std::uint64_t next() const noexcept { return next_; }
  /// The oldest sequence number held (== next() when empty).
  std::uint64_t oldest() const noexcept { return next_ - size_; }
  std::size_t capacity() const noexcept { return ring_.size(); }

  /// Where a client resumes: after its last event if that is still known, else from the oldest
  /// held event. No id (empty): from next(), i.e. only what comes from now on.
  resume_point resume_after(std::string_view last_event_id) const;

 private:
  struct slot {
    tracked_order order;
    /// Valid once `rendered`.
    std::string text;
    bool rendered = false;
  };

  std::string epoch_;
  renderer render_;
  /// Rendering is a cache fill, not a change the caller sees: text() stays const.
  mutable std::vector<slot> ring_;
  std::uint64_t next_ = 0;
  std::size_t size_ = 0;
};

}  // namespace order_tracker::tracker
