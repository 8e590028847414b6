#pragma once
/// Order ids: random (version 4) UUIDs from the OS's randomness, read in blocks.

#include <array>
#include <boost/uuid/uuid.hpp>
#include <cstddef>

namespace order_tracker::order {

/// Makes order ids that cannot be guessed from one another. Boost's random_generator asks the OS
/// for 16 bytes per id (a getrandom call each); this asks for a block of ids' worth at once, so
/// ids stay the kernel CSPRNG's output while the system call is paid once per 256 orders.
class order_ids {
 public:
  /// The next id. Throws std::system_error if the OS has no randomness to give (never on Linux
  /// after boot, where getrandom blocks only until the pool is first initialised).
  boost::uuids::uuid operator()();

 private:
  void refill();

  static constexpr std::size_t ids_per_block = 256;
  std::array<unsigned char, ids_per_block * 16> block_{};
  std::size_t next_ = block_.size();  ///< block_ starts empty: the first id reads it
};

}  // namespace order_tracker::order
