// Micro-benchmark of the OrderPlaced decoder on the Tracker's per-message path: ns and heap
// allocations per decode, over corpora written the way each producer writes its orders.
// Usage: bench_decode [orders per corpus, default 1000000] [rounds, default 5]
// Prints, for the best of the rounds, the CPU time per decode (what the Tracker's CPU budget per
// million orders pays; on a shared machine it is far steadier than wall time, printed next to it),
// and the allocations per decode counted by the replaced global operator new below.
#include "common/events/order_placed.hpp"

// What the benchmark uses besides the header under test, which comes first to show it stands alone.
#include <time.h>

#include <array>
#include <atomic>
#include <boost/uuid/random_generator.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::atomic<std::uint64_t> allocations{0};

void* allocate(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* allocate_aligned(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}

}  // namespace

// Every form of global new funnels into the two counters above; delete only frees.
void* operator new(std::size_t size) {
  return allocate(size);
}
void* operator new[](std::size_t size) {
  return allocate(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void* operator new(std::size_t size, std::align_val_t align) {
  return allocate_aligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return allocate_aligned(size, align);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace {

namespace events = order_tracker::events;

/// Payloads back to back in one buffer, as a fetched Kafka batch holds them.
struct corpus {
  std::string bytes;
  std::vector<std::size_t> ends;

  void add(std::string_view payload) {
    bytes.append(payload);
    ends.push_back(bytes.size());
  }
  std::string_view at(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
  std::size_t size() const { return ends.size(); }
};

// The names and quantities of services/order/generator.cpp and tests/bench/seed_producer_n.py.
constexpr std::array<std::string_view, 4> users{"John Doe", "Jane Doe", "Ada Lovelace",
                                                "Alan Turing"};
constexpr std::array<std::string_view, 5> items{"Shoes", "Phone", "Laptop", "Book", "Coffee"};
// Longer than the 15 bytes std::string holds without the heap, as many real names are.
constexpr std::array<std::string_view, 4> long_users{
    "Alexandra Montgomery-Whitfield", "Jean-Baptiste Emmanuel Zorg", "Hieronymus van Aken",
    "Sophie-Charlotte von Hohenberg"};
constexpr std::array<std::string_view, 5> long_items{
    "Noise-cancelling headphones", "Stainless steel water bottle",
    "Mechanical keyboard, ISO layout", "Trail running shoes, size 44",
    "Single-origin coffee beans 1kg"};

/// What the Order service publishes: events::encode of its generated orders.
template <std::size_t Users, std::size_t Items>
corpus order_service_corpus(std::size_t n, const std::array<std::string_view, Users>& user_names,
                            const std::array<std::string_view, Items>& item_names) {
  std::mt19937 rng(1);
  boost::uuids::basic_random_generator<std::mt19937> uuids(rng);
  corpus c;
  std::string wire;
  for (std::size_t i = 0; i < n; ++i) {
    events::order_placed o;
    o.order_id = uuids();
    o.user = user_names[rng() % user_names.size()];
    o.item = item_names[rng() % item_names.size()];
    o.quantity = static_cast<std::int64_t>(rng() % 5) + 1;
    wire.clear();
    events::encode(o, wire);
    c.add(wire);
  }
  return c;
}

/// What Python's json.dumps writes for the seed's order dicts: ", " and ": " separators, keys in
/// insertion order; seed/producer.py has no schema_version, tests/bench/seed_producer_n.py adds it.
corpus seed_corpus(std::size_t n, bool with_version) {
  std::mt19937 rng(2);
  boost::uuids::basic_random_generator<std::mt19937> uuids(rng);
  corpus c;
  std::string wire;
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = events::uuid_chars(uuids());
    wire = R"({"order_id": ")";
    wire.append(id.data(), id.size());
    wire += R"(", "user": ")";
    wire += users[i % 4];
    wire += R"(", "item": ")";
    wire += items[i % 5];
    wire += R"(", "quantity": )";
    wire += std::to_string(i % 5 + 1);
    wire += with_version ? R"(, "schema_version": 1})" : "}";
    c.add(wire);
  }
  return c;
}

struct figures {
  double cpu_ns_per_decode;
  double wall_ns_per_decode;
  double allocations_per_decode;
};

double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

/// Runs `decode_one` over the corpus `rounds` times: the best round's times, the mean allocations.
template <class Decode>
figures measure(const corpus& c, int rounds, Decode decode_one) {
  double best_cpu_ns = 1e300;
  double best_wall_ns = 1e300;
  std::uint64_t allocs = 0;
  std::uint64_t checksum = 0;
  for (int r = 0; r < rounds; ++r) {
    const std::uint64_t allocs_before = allocations.load(std::memory_order_relaxed);
    const double cpu_start = thread_cpu_ns();
    const auto wall_start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < c.size(); ++i) {
      checksum += decode_one(c.at(i));
    }
    const auto wall = std::chrono::steady_clock::now() - wall_start;
    const double cpu_ns = thread_cpu_ns() - cpu_start;
    allocs += allocations.load(std::memory_order_relaxed) - allocs_before;
    const double wall_ns = std::chrono::duration<double, std::nano>(wall).count();
    if (cpu_ns < best_cpu_ns) best_cpu_ns = cpu_ns;
    if (wall_ns < best_wall_ns) best_wall_ns = wall_ns;
  }
  if (checksum != static_cast<std::uint64_t>(rounds) * c.size()) {
    std::fprintf(
        stderr, "decode failed on %llu payloads\n",
        static_cast<unsigned long long>(static_cast<std::uint64_t>(rounds) * c.size() - checksum));
    std::exit(1);
  }
  const double n = static_cast<double>(c.size());
  return {best_cpu_ns / n, best_wall_ns / n, static_cast<double>(allocs) / (n * rounds)};
}

void report(const char* corpus_name, const char* api, const figures& f) {
  std::printf("%-20s %-24s %8.1f cpu-ns/decode %8.1f wall-ns/decode %6.3f allocations/decode\n",
              corpus_name, api, f.cpu_ns_per_decode, f.wall_ns_per_decode,
              f.allocations_per_decode);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n == 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: %s [orders per corpus > 0] [rounds > 0]\n", argv[0]);
    return 2;
  }

  struct named_corpus {
    const char* name;
    corpus c;
  };
  const std::array<named_corpus, 4> corpora{{
      {"order-service", order_service_corpus(n, users, items)},
      {"order-service-long", order_service_corpus(n, long_users, long_items)},
      {"seed-producer.py", seed_corpus(n, false)},
      {"seed-producer-n.py", seed_corpus(n, true)},
  }};
  std::printf("%zu orders per corpus, best of %d rounds\n", n, rounds);

  for (const auto& [name, c] : corpora) {
    report(name, "decode(payload)", measure(c, rounds, [](std::string_view payload) {
             const auto order = events::decode(payload);
             return order.has_value() ? std::uint64_t{1} : std::uint64_t{0};
           }));
    // The Tracker's way: one order reused for every message.
    events::order_placed order;
    report(name, "decode(payload, order)", measure(c, rounds, [&order](std::string_view payload) {
             return events::decode(payload, order).has_value() ? std::uint64_t{1}
                                                               : std::uint64_t{0};
           }));
  }
  return 0;
}
