#pragma once
// Parameters of one DRAM channel (docs/DESIGN.md §5.9): geometry, timings in ns, page policy,
// address mapping, controller queue, and the δ̂ compression formats the DMA engine uses. Values come
// from a JSON file (configs/dram/*.json) whose sources are documented there; nothing here is a
// default the user cannot see.
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>

#include "models/dram/compressed_size.hpp"

namespace eg::dram {

// Upper bounds of a DRAM config (configs/dram/README.md, "Limits"): far above any real channel,
// and low enough that the channel model's per-bank state and every derived size stay small and
// within 64 bits (capacity at most 2^8 x 2^24 x 2^16 = 2^48 bytes).
// Banks per channel: LPDDR4 has 8, DDR5 32, an HBM3 channel up to 64; the model keeps one record
// per bank (2^28 banks would need ~10 GB).
inline constexpr uint64_t kMaxBanks = 256;
// Rows per bank: an 8 Gb LPDDR4 die has 65536, a 32 Gb DDR5 die 131072.
inline constexpr uint64_t kMaxRowsPerBank = uint64_t{1} << 24;
// Bytes per row (page): LPDDR4 2 KiB, DDR4/DDR5 x16 2-8 KiB.
inline constexpr uint64_t kMaxRowBytes = uint64_t{1} << 16;
// Data rate: GDDR7 reaches 32-48 GT/s. Also keeps the clock period (2e6 / rate ps) >= 20 ps.
inline constexpr uint64_t kMaxDataRateMtps = 100000;
// Data bus width: an HBM stack is 1024 bits wide.
inline constexpr uint64_t kMaxBusWidthBits = 1024;
// Burst length: LPDDR5 uses BL32.
inline constexpr uint64_t kMaxBurstLength = 256;
// Controller request queue and DMA bursts in flight: real controllers queue 16-128 requests; the
// scheduler scans the queue once per command.
inline constexpr uint64_t kMaxQueueEntries = 4096;
// CSC pointer field: a 64-bit pointer is the widest any format uses; the column length is at most
// a whole tensor.
inline constexpr uint64_t kMaxCscPointerBits = 64;
inline constexpr uint64_t kMaxCscColumnLength = uint64_t{1} << 28;
// Any timing, in ns: JEDEC core timings are tens of ns and even refresh cycle times stay below
// 1 us; 100 us at the fastest clock allowed is 5e6 cycles, far from any overflow.
inline constexpr double kMaxTimingNs = 1e5;

enum class PagePolicy { Open, Closed };

// Address fields, most significant first, above the byte-in-burst offset.
enum class AddressField { Row, Bank, Column };

struct DramTimingsNs {
  double tRCD = 0;    // ACT -> READ/WRITE
  double tRP = 0;     // PRE -> ACT (per bank)
  double tRAS = 0;    // ACT -> PRE
  double tCL = 0;     // READ command -> first data (read latency, RL)
  double tWL = 0;     // WRITE command -> first data (write latency, WL)
  double tWR = 0;     // end of write data -> PRE (write recovery)
  double tRTP = 0;    // READ -> PRE
  double tCCD = 0;    // column command -> column command
  double tRPab = 0;   // precharge-all -> REFRESH (all banks)
  double tRRD = 0;    // ACT -> ACT, different banks
  double tFAW = 0;    // window holding at most four ACTs
  double tWTR = 0;    // end of write data -> READ command (write-to-read turnaround)
  double tRTW = 0;    // end of read data -> first write data (read-to-write bus turnaround)
  double tRFCab = 0;  // all-bank REFRESH -> next ACT (refresh cycle time)
  double tREFI = 0;   // average interval between all-bank refreshes
};

struct DramConfig {
  std::string standard;  // informational, e.g. "LPDDR4-3200"
  uint64_t data_rate_mtps = 0;
  uint64_t bus_width_bits = 0;
  uint64_t burst_length = 0;
  uint64_t banks = 0;
  uint64_t row_bytes = 0;
  uint64_t rows_per_bank = 0;
  PagePolicy page_policy = PagePolicy::Open;
  std::array<AddressField, 3> address_mapping{AddressField::Row, AddressField::Bank,
                                              AddressField::Column};
  uint64_t request_queue_depth = 0;
  uint64_t dma_max_outstanding = 0;  // DMA engine: bursts in flight per transfer
  DramTimingsNs timing_ns;
  CompressionFormat compression;
  std::string source;

  uint64_t burst_bytes() const { return bus_width_bits / 8 * burst_length; }
  uint64_t capacity_bytes() const { return banks * rows_per_bank * row_bytes; }
  double clock_mhz() const { return data_rate_mtps / 2.0; }  // double data rate
  double peak_bandwidth_bytes_per_s() const { return data_rate_mtps * 1e6 * bus_width_bits / 8; }
};

// `file` names the source in error messages ("<file>: /timing_ns/tRCD: must be > 0").
DramConfig parse_dram_config(const nlohmann::json& json, const std::string& file,
                             const std::string& pointer = "");
DramConfig load_dram_config(const std::string& path);

}  // namespace eg::dram
