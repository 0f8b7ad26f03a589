#pragma once
// A pass-through TLM-2.0 base-protocol checker for tests. Bind it between an initiator and a target
// (initiator.socket -> checker.target_socket, checker.initiator_socket -> target.socket): every
// call (nb_transport_fw/bw, b_transport, DMI, debug) is forwarded unchanged, and the base-protocol
// rules of IEEE 1666-2011 clauses 14 and 15 that one link can observe are checked on the way:
//   - each transaction's phases run BEGIN_REQ -> END_REQ (explicit on the backward path, returned
//     with TLM_UPDATED, or implied by BEGIN_RESP) -> BEGIN_RESP -> END_RESP, or stop early with a
//     TLM_COMPLETED return; no phase on the wrong path, no phase outside the base protocol;
//   - request exclusion (no BEGIN_REQ while an earlier request has not had its END_REQ) and
//   response
//     exclusion (no BEGIN_RESP while an earlier response has not had its END_RESP);
//   - a transaction object is not sent again before it completed; one passed through nb_transport
//     has a memory manager and a reference count > 0 while it is in flight (§14.5);
//   - at BEGIN_REQ the response status is TLM_INCOMPLETE_RESPONSE and the DMI hint false; the data
//     length, streaming width and byte enables are sane and, if a burst size is given, the
//     transaction fits one burst without crossing a burst boundary; at BEGIN_RESP (and when the
//     target completes a transaction early) the response status is set;
//   - time does not go backwards across a transaction's phases (sc_time_stamp() + annotated delay;
//     sc_time cannot hold a negative delay, so non-negative delays are guaranteed by the type);
//   - after the simulation (check_finished()) no transaction is left in flight.
// Violations are recorded, not thrown: the model keeps running, and a test asserts violations()
// is empty (or, for a deliberately broken component, that the first one names the broken rule).
// Each violation is one line naming the rule, the transaction's command, address and length, and
// the phases it has been through with the time of each.
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace eg::testing {

struct TlmCheckerConfig {
  // The target's burst size in bytes: a transaction must fit one burst and not cross a burst
  // boundary. 0: not checked.
  uint64_t burst_bytes = 0;
};

// What the checker saw, so a test can assert that it checked something.
struct TlmCheckerCounts {
  uint64_t transactions = 0;  // BEGIN_REQs of new transactions
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t completed = 0;
  uint64_t begin_req = 0;
  uint64_t end_req = 0;           // explicit (backward path) or returned with TLM_UPDATED
  uint64_t implicit_end_req = 0;  // implied by BEGIN_RESP
  uint64_t end_req_withheld = 0;  // BEGIN_REQ answered TLM_ACCEPTED: END_REQ came later
  uint64_t begin_resp = 0;
  uint64_t end_resp = 0;  // explicit, or implied by TLM_COMPLETED/TLM_UPDATED on BEGIN_RESP
  uint64_t b_transport = 0;
  uint64_t max_in_flight = 0;
};

class TlmProtocolChecker : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<TlmProtocolChecker> target_socket;        // the initiator's side
  tlm_utils::simple_initiator_socket<TlmProtocolChecker> initiator_socket;  // the target's side

  TlmProtocolChecker(sc_core::sc_module_name name, const TlmCheckerConfig& config = {});

  // The first kMaxRecordedViolations violations, in the order they happened.
  const std::vector<std::string>& violations() const { return violations_; }
  uint64_t violation_count() const { return violation_count_; }
  std::string first_violation() const { return violations_.empty() ? "" : violations_.front(); }
  const TlmCheckerCounts& counts() const { return counts_; }
  size_t in_flight() const { return in_flight_.size(); }

  // Reports every transaction still in flight. Called at end_of_simulation() (sc_stop()); call it
  // after sc_start() returns too, since a simulation that simply runs out of events does not end.
  // Reports once.
  void check_finished();

  // A violation this many in, the model is broken anyway: the rest are counted, not kept.
  static constexpr size_t kMaxRecordedViolations = 32;
  // Phases kept per transaction for the message (a base-protocol transaction has at most 4).
  static constexpr size_t kMaxPhasesRecorded = 12;

 private:
  enum class State { Request, AwaitResponse, Response };
  struct Record {
    State state = State::Request;
    uint64_t sequence = 0;  // BEGIN_REQ order, for a deterministic end-of-simulation report
    sc_core::sc_time last;  // effective time of the latest phase
    std::vector<std::string> phases;
  };

  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(tlm::tlm_generic_payload& trans);
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
  void end_of_simulation() override;

  void begin_request(tlm::tlm_generic_payload& trans, const sc_core::sc_time& at);
  void end_request(tlm::tlm_generic_payload& trans, Record& r, const char* how,
                   const sc_core::sc_time& at);
  void begin_response(tlm::tlm_generic_payload& trans, Record& r, const char* how,
                      const sc_core::sc_time& at);
  void complete(tlm::tlm_generic_payload& trans, const char* how, const sc_core::sc_time& at);
  void check_memory_manager(tlm::tlm_generic_payload& trans, const char* call);
  // `call` names the call in the message when the transaction has no phase history (b_transport).
  void check_attributes(tlm::tlm_generic_payload& trans, const std::string& call);
  Record* find(const tlm::tlm_generic_payload& trans);
  void note(tlm::tlm_generic_payload& trans, Record& r, const std::string& phase,
            const sc_core::sc_time& at);
  // `call`: the offending call, added to the phase history in the message.
  void violation(const tlm::tlm_generic_payload& trans, const std::string& what,
                 const std::string& call = "");

  TlmCheckerConfig config_;
  std::unordered_map<const tlm::tlm_generic_payload*, Record> in_flight_;
  const tlm::tlm_generic_payload* request_open_ = nullptr;   // BEGIN_REQ without END_REQ yet
  const tlm::tlm_generic_payload* response_open_ = nullptr;  // BEGIN_RESP without END_RESP yet
  uint64_t next_sequence_ = 0;
  TlmCheckerCounts counts_;
  std::vector<std::string> violations_;
  uint64_t violation_count_ = 0;
  bool finished_ = false;
};

}  // namespace eg::testing
