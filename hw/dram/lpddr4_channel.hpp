#pragma once
// An LPDDR4 channel as a TLM-2.0 approximately-timed target (base protocol: BEGIN_REQ/END_REQ,
// BEGIN_RESP/END_RESP). One transaction = one burst (at most burst_bytes, not crossing a burst
// boundary). Requests wait in a queue of request_queue_depth entries (END_REQ is withheld while it
// is full) and are served FR-FCFS: row hits first, then the oldest. Each bank keeps its open row; a
// miss precharges (tRP, after tRAS/tRTP/tWR) and activates (tRCD) before its column command; ACTs
// to different banks are tRRD apart, at most four in any tFAW window; column commands are tCCD
// apart and each burst holds the data bus BL/2 clocks; a READ waits tWTR after the last write data,
// a WRITE's data waits tRTW after the last read data. Every tREFI the channel closes all banks
// (precharge-all once tRAS/tRTP/tWR allow, tRPab) and refreshes them (no ACT for tRFCab).
// BEGIN_RESP is sent when the last beat of the burst has moved. Timing only: data bytes are not
// stored. See configs/dram/README.md for what is and is not modelled.
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "hw/described.hpp"
#include "hw/stats_group.hpp"

#include "models/dram/activation_window.hpp"
#include "models/dram/address_mapping.hpp"
#include "models/dram/dram_config.hpp"
#include "models/dram/dram_stats.hpp"
#include "models/dram/dram_timing.hpp"

namespace eg::hw {
class TimelineRecorder;
}

namespace eg::hw {

class Lpddr4Channel : public sc_core::sc_module, public Described, public StatsGroup {
 public:
  const char* kind() const override { return "Lpddr4Channel"; }
  Parameters parameters() const override;
  // The report's "dram" figures over the whole run.
  nlohmann::json statistics() const override;
  tlm_utils::simple_target_socket<Lpddr4Channel> socket;

  SC_HAS_PROCESS(Lpddr4Channel);
  Lpddr4Channel(sc_core::sc_module_name name, const eg::dram::DramConfig& config);

  const eg::dram::DramStats& stats() const { return stats_; }
  const eg::dram::DramTiming& timing() const { return timing_; }
  const eg::dram::DramConfig& config() const { return config_; }
  const eg::dram::AddressMapping& mapping() const { return mapping_; }
  sc_core::sc_time clock_period() const { return period_; }
  // Reports each burst's data-bus interval to the run's timeline (null: none).
  void set_timeline(TimelineRecorder* timeline) { timeline_ = timeline; }

 private:
  struct Request {
    tlm::tlm_generic_payload* trans = nullptr;
    uint64_t arrival_cycle = 0;
    uint64_t sequence = 0;  // arrival order, for "oldest first"
    eg::dram::DramLocation location;
    bool write = false;
    int data_class = 0;
  };
  struct Bank {
    bool open = false;
    uint64_t row = 0;
    uint64_t column_ready = 0;     // earliest column command (ACT + tRCD)
    uint64_t precharge_ready = 0;  // earliest PRE (ACT + tRAS, READ + tRTP, write data + tWR)
    uint64_t activate_ready = 0;   // earliest ACT when closed (PRE + tRP)
  };

  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  bool accept(tlm::tlm_generic_payload& trans, const sc_core::sc_time& delay);
  bool reject_if_invalid(tlm::tlm_generic_payload& trans);
  void scheduler_thread();
  void response_thread();
  size_t pick_fr_fcfs(uint64_t now) const;
  uint64_t serve(const Request& request, uint64_t now);  // returns the cycle its data has moved
  void refresh_due(uint64_t now);  // performs every refresh due at or before `now`
  void refresh(uint64_t due);      // one all-bank refresh, nominally at cycle `due`
  uint64_t now_cycle() const;
  sc_core::sc_time at_cycle(uint64_t cycle) const;

  eg::dram::DramConfig config_;
  eg::dram::DramTiming timing_;
  eg::dram::AddressMapping mapping_;
  sc_core::sc_time period_;
  eg::dram::DramStats stats_;

  std::deque<Request> queue_;
  tlm::tlm_generic_payload* waiting_for_end_req_ = nullptr;  // arrived while the queue was full
  sc_core::sc_time waiting_arrival_;  // its BEGIN_REQ's time: sc_time_stamp() + annotated delay
  uint64_t next_sequence_ = 0;
  std::vector<Bank> banks_;
  uint64_t next_column_cycle_ = 0;          // tCCD
  uint64_t bus_free_cycle_ = 0;             // data bus
  uint64_t read_column_ready_ = 0;          // earliest READ: last write data + tWTR
  uint64_t write_column_ready_ = 0;         // earliest WRITE: last read data + tRTW - WL
  eg::dram::ActivationWindow activations_;  // tRRD, tFAW
  uint64_t next_refresh_cycle_ = 0;         // nominal time of the next all-bank refresh: k x tREFI

  std::multimap<uint64_t, tlm::tlm_generic_payload*> responses_;  // by completion cycle
  bool response_in_progress_ = false;
  sc_core::sc_event request_event_, response_event_, end_resp_event_;
  TimelineRecorder* timeline_ = nullptr;
};

}  // namespace eg::hw
