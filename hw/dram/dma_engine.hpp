#pragma once
// The DMA engine between the on-chip array and DRAM: an eg::hw::MemoryPort whose transfer() splits
// a request into burst-aligned TLM-2.0 transactions (tagged with their data class), keeps up to
// max_outstanding of them in flight (AT base protocol, one BEGIN_REQ at a time until END_REQ), and
// returns when every burst has completed. Several SC_THREADs may call transfer() at once; they
// share the socket. A transaction the target rejects makes transfer() throw eg::Error.
// The engine is the memory manager of its payloads (IEEE 1666-2011 §14.5: a transaction passed
// through nb_transport must have one): it acquires a payload before BEGIN_REQ and releases it once
// the transaction has completed; free() returns the payload to the engine's pool.
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hw/described.hpp"
#include "hw/memory_port.hpp"
#include "hw/stats_group.hpp"

namespace eg::hw {

struct DmaConfig {
  uint64_t burst_bytes = 64;
  uint64_t max_outstanding = 1;
};

class DmaEngine : public sc_core::sc_module,
                  public MemoryPort,
                  public Described,
                  public StatsGroup,
                  public tlm::tlm_mm_interface {
 public:
  const char* kind() const override { return "DmaEngine"; }
  Parameters parameters() const override {
    return {{"burst_bytes", std::to_string(config_.burst_bytes)},
            {"max_outstanding", std::to_string(config_.max_outstanding)}};
  }
  tlm_utils::simple_initiator_socket<DmaEngine> socket;

  DmaEngine(sc_core::sc_module_name name, const DmaConfig& config);
  ~DmaEngine() override;

  void transfer(const MemoryRequest& request) override;
  uint64_t transactions_issued() const { return transactions_issued_; }
  nlohmann::json statistics() const override { return {{"transactions", transactions_issued_}}; }

  // tlm::tlm_mm_interface: called by tlm_generic_payload::release() when the last reference goes.
  void free(tlm::tlm_generic_payload* trans) override;

 private:
  struct Job {
    uint64_t outstanding = 0;
    sc_core::sc_event progress;
    std::string error;
  };

  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  // Books a completed transaction to its transfer; false if this engine did not issue it.
  bool complete(tlm::tlm_generic_payload& trans, const sc_core::sc_time& delay);
  void end_request(tlm::tlm_generic_payload& trans);
  tlm::tlm_generic_payload* allocate();
  // Sends [first, first + bytes) of `request` as burst-aligned transactions booked to `job`.
  void issue(const MemoryRequest& request, Job& job, uint64_t first, uint64_t bytes);

  DmaConfig config_;
  std::vector<std::unique_ptr<tlm::tlm_generic_payload>> payloads_;
  std::vector<tlm::tlm_generic_payload*> free_payloads_;
  std::unordered_map<tlm::tlm_generic_payload*, Job*> owner_;
  std::vector<unsigned char> scratch_;  // timing model: bursts point at a dummy buffer
  tlm::tlm_generic_payload* request_in_progress_ = nullptr;
  sc_core::sc_event end_req_event_;
  uint64_t transactions_issued_ = 0;
};

}  // namespace eg::hw
