#pragma once
/// Property checks for the fuzz targets. A broken property aborts, so that libFuzzer reports it
/// like a crash and saves the input that broke it.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace order_tracker::fuzz {

/// Aborts with `property` on stderr unless `holds`.
inline void require(bool holds, std::string_view property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz: property broken: %.*s\n", static_cast<int>(property.size()),
               property.data());
  std::abort();
}

}  // namespace order_tracker::fuzz
