#include "tlm_protocol_checker.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace eg::testing {

using sc_core::sc_time;
using tlm::tlm_generic_payload;
using tlm::tlm_phase;
using tlm::tlm_sync_enum;

namespace {

std::string phase_text(const tlm_phase& phase, const char* path, const sc_time& at) {
  return std::string(phase.get_name()) + " " + path + " @" + at.to_string();
}

std::string hex(uint64_t value) {
  std::ostringstream s;
  s << "0x" << std::hex << value;
  return s.str();
}

}  // namespace

TlmProtocolChecker::TlmProtocolChecker(sc_core::sc_module_name name, const TlmCheckerConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      initiator_socket("initiator_socket"),
      config_(config) {
  target_socket.register_nb_transport_fw(this, &TlmProtocolChecker::nb_transport_fw);
  target_socket.register_b_transport(this, &TlmProtocolChecker::b_transport);
  target_socket.register_get_direct_mem_ptr(this, &TlmProtocolChecker::get_direct_mem_ptr);
  target_socket.register_transport_dbg(this, &TlmProtocolChecker::transport_dbg);
  initiator_socket.register_nb_transport_bw(this, &TlmProtocolChecker::nb_transport_bw);
  initiator_socket.register_invalidate_direct_mem_ptr(
      this, &TlmProtocolChecker::invalidate_direct_mem_ptr);
}

TlmProtocolChecker::Record* TlmProtocolChecker::find(const tlm_generic_payload& trans) {
  auto it = in_flight_.find(&trans);
  return it == in_flight_.end() ? nullptr : &it->second;
}

void TlmProtocolChecker::violation(const tlm_generic_payload& trans, const std::string& what,
                                   const std::string& call) {
  ++violation_count_;
  if (violations_.size() >= kMaxRecordedViolations) return;
  std::ostringstream msg;
  msg << name() << ": " << what << " [" << (trans.is_write() ? "write" : "read") << " at "
      << hex(trans.get_address()) << ", " << trans.get_data_length() << " bytes; phases: ";
  std::string phases;
  auto it = in_flight_.find(&trans);
  if (it != in_flight_.end()) {
    for (const std::string& p : it->second.phases) phases += (phases.empty() ? "" : " -> ") + p;
  }
  if (!call.empty()) phases += (phases.empty() ? "" : " -> ") + call;
  msg << (phases.empty() ? "none" : phases) << "]";
  violations_.push_back(msg.str());
}

void TlmProtocolChecker::note(tlm_generic_payload& trans, Record& r, const std::string& phase,
                              const sc_time& at) {
  if (r.phases.size() < kMaxPhasesRecorded)
    r.phases.push_back(phase);
  else if (r.phases.size() == kMaxPhasesRecorded)
    r.phases.push_back("...");
  if (at < r.last) {
    violation(trans, "time goes backwards: " + phase +
                         " is before the transaction's previous phase at " + r.last.to_string());
  } else {
    r.last = at;
  }
}

void TlmProtocolChecker::check_memory_manager(tlm_generic_payload& trans, const char* call) {
  const sc_time at = sc_core::sc_time_stamp();
  if (!trans.has_mm()) {
    violation(trans,
              std::string(call) +
                  " of a transaction without a memory manager (IEEE 1666-2011 14.5: one passed "
                  "through nb_transport must have one)",
              find(trans) ? "" : std::string(call) + " @" + at.to_string());
  } else if (trans.get_ref_count() <= 0) {
    violation(trans,
              std::string(call) + " of a transaction whose reference count is " +
                  std::to_string(trans.get_ref_count()) + " (not acquired while in flight)",
              find(trans) ? "" : std::string(call) + " @" + at.to_string());
  }
}

void TlmProtocolChecker::check_attributes(tlm_generic_payload& trans, const std::string& call) {
  if (trans.get_response_status() != tlm::TLM_INCOMPLETE_RESPONSE)
    violation(trans,
              std::string("request with the response status ") + trans.get_response_string() +
                  " (the initiator must set TLM_INCOMPLETE_RESPONSE)",
              call);
  if (trans.is_dmi_allowed()) violation(trans, "request with the DMI hint already set", call);
  const uint64_t length = trans.get_data_length();
  if (length == 0) violation(trans, "request with a data length of 0", call);
  if (trans.get_data_ptr() == nullptr && !trans.is_read() && !trans.is_write()) {
    // TLM_IGNORE_COMMAND may carry no data.
  } else if (trans.get_data_ptr() == nullptr) {
    violation(trans, "request with no data pointer", call);
  }
  if (trans.get_streaming_width() == 0)
    violation(trans, "request with a streaming width of 0", call);
  if (trans.get_byte_enable_ptr() != nullptr && trans.get_byte_enable_length() == 0)
    violation(trans, "request with byte enables of length 0", call);
  const uint64_t burst = config_.burst_bytes;
  if (burst != 0 && length != 0) {
    const uint64_t offset = trans.get_address() % burst;
    if (offset + length > burst)
      violation(trans,
                "request of " + std::to_string(length) + " bytes at offset " +
                    std::to_string(offset) + " of a " + std::to_string(burst) +
                    "-byte burst: it does not fit one burst",
                call);
    if (trans.get_streaming_width() < length)
      violation(trans,
                "streaming width " + std::to_string(trans.get_streaming_width()) +
                    " < data length " + std::to_string(length) +
                    ": the target's bursts are not streaming transfers",
                call);
  }
}

void TlmProtocolChecker::begin_request(tlm_generic_payload& trans, const sc_time& at) {
  ++counts_.begin_req;
  const std::string phase = phase_text(tlm::BEGIN_REQ, "fw", at);
  if (Record* r = find(trans)) {
    note(trans, *r, phase, at);
    violation(trans,
              "BEGIN_REQ of a transaction object still in flight (sent again before it "
              "completed)");
    return;
  }
  Record& r = in_flight_[&trans];
  r.sequence = next_sequence_++;
  r.last = at;
  r.phases.push_back(phase);
  ++counts_.transactions;
  ++(trans.is_write() ? counts_.writes : counts_.reads);
  counts_.max_in_flight = std::max<uint64_t>(counts_.max_in_flight, in_flight_.size());
  if (request_open_ != nullptr)
    violation(trans, "BEGIN_REQ while the request at " + hex(request_open_->get_address()) +
                         " has not had its END_REQ (request exclusion)");
  check_attributes(trans, "");
  request_open_ = &trans;
}

void TlmProtocolChecker::end_request(tlm_generic_payload& trans, Record& r, const char* how,
                                     const sc_time& at) {
  note(trans, r, std::string("END_REQ ") + how + " @" + at.to_string(), at);
  if (r.state != State::Request) {
    violation(trans, "END_REQ for a transaction whose request had already ended");
    return;
  }
  ++counts_.end_req;
  r.state = State::AwaitResponse;
  if (request_open_ == &trans) request_open_ = nullptr;
}

void TlmProtocolChecker::begin_response(tlm_generic_payload& trans, Record& r, const char* how,
                                        const sc_time& at) {
  note(trans, r, std::string("BEGIN_RESP ") + how + " @" + at.to_string(), at);
  ++counts_.begin_resp;
  if (r.state == State::Response) {
    violation(trans, "a second BEGIN_RESP for the same transaction");
    return;
  }
  if (r.state == State::Request) {  // BEGIN_RESP implies END_REQ
    ++counts_.implicit_end_req;
    r.state = State::AwaitResponse;
    if (request_open_ == &trans) request_open_ = nullptr;
  }
  if (response_open_ != nullptr && response_open_ != &trans)
    violation(trans, "BEGIN_RESP while the response at " + hex(response_open_->get_address()) +
                         " has not had its END_RESP (response exclusion)");
  if (trans.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE)
    violation(trans, "BEGIN_RESP with the response status still TLM_INCOMPLETE_RESPONSE");
  r.state = State::Response;
  response_open_ = &trans;
}

void TlmProtocolChecker::complete(tlm_generic_payload& trans, const char* how, const sc_time& at) {
  Record* r = find(trans);
  if (r == nullptr) return;
  note(trans, *r, std::string(how) + " @" + at.to_string(), at);
  if (request_open_ == &trans) request_open_ = nullptr;
  if (response_open_ == &trans) response_open_ = nullptr;
  in_flight_.erase(&trans);
  ++counts_.completed;
}

tlm_sync_enum TlmProtocolChecker::nb_transport_fw(tlm_generic_payload& trans, tlm_phase& phase,
                                                  sc_time& delay) {
  const sc_time at = sc_core::sc_time_stamp() + delay;
  const tlm_phase sent = phase;
  check_memory_manager(trans, "nb_transport_fw");
  if (sent == tlm::BEGIN_REQ) {
    begin_request(trans, at);
  } else if (sent == tlm::END_RESP) {
    ++counts_.end_resp;
    Record* r = find(trans);
    if (r == nullptr) {
      violation(trans, "END_RESP for a transaction not in flight", phase_text(sent, "fw", at));
    } else if (r->state != State::Response) {
      note(trans, *r, phase_text(sent, "fw", at), at);
      violation(trans, "END_RESP before the transaction's BEGIN_RESP");
    } else {
      complete(trans, phase_text(sent, "fw", at).c_str(), at);
    }
  } else if (sent == tlm::END_REQ || sent == tlm::BEGIN_RESP) {
    Record* r = find(trans);
    if (r != nullptr) note(trans, *r, phase_text(sent, "fw", at), at);
    violation(trans, std::string(sent.get_name()) + " on the forward path (a target's phase)",
              r != nullptr ? "" : phase_text(sent, "fw", at));
  } else {
    violation(trans, std::string("phase ") + sent.get_name() + " is not a base-protocol phase",
              phase_text(sent, "fw", at));
  }

  const tlm_sync_enum status = initiator_socket->nb_transport_fw(trans, phase, delay);
  const sc_time back = sc_core::sc_time_stamp() + delay;
  Record* r = find(trans);
  if (status == tlm::TLM_ACCEPTED) {
    if (phase != sent)
      violation(trans,
                std::string("TLM_ACCEPTED returned with the phase changed to ") + phase.get_name());
    if (sent == tlm::BEGIN_REQ && r != nullptr && r->state == State::Request)
      ++counts_.end_req_withheld;
  } else if (sent == tlm::END_RESP) {
    if (status == tlm::TLM_UPDATED)
      violation(trans, "TLM_UPDATED returned for END_RESP (no phase follows it)",
                phase_text(phase, "returned", back));
  } else if (sent == tlm::BEGIN_REQ && r != nullptr) {
    if (status == tlm::TLM_COMPLETED) {
      if (trans.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE)
        violation(trans,
                  "TLM_COMPLETED returned with the response status still "
                  "TLM_INCOMPLETE_RESPONSE");
      complete(trans, "TLM_COMPLETED returned", back);
    } else if (phase == tlm::END_REQ) {
      end_request(trans, *r, "returned", back);
    } else if (phase == tlm::BEGIN_RESP) {
      begin_response(trans, *r, "returned", back);
    } else {
      note(trans, *r, phase_text(phase, "returned", back), back);
      violation(trans, std::string("TLM_UPDATED returned for BEGIN_REQ with phase ") +
                           phase.get_name() + " (expected END_REQ or BEGIN_RESP)");
    }
  }
  return status;
}

tlm_sync_enum TlmProtocolChecker::nb_transport_bw(tlm_generic_payload& trans, tlm_phase& phase,
                                                  sc_time& delay) {
  const sc_time at = sc_core::sc_time_stamp() + delay;
  const tlm_phase sent = phase;
  check_memory_manager(trans, "nb_transport_bw");
  if (Record* r = find(trans)) {
    if (sent == tlm::END_REQ) {
      end_request(trans, *r, "bw", at);
    } else if (sent == tlm::BEGIN_RESP) {
      begin_response(trans, *r, "bw", at);
    } else if (sent == tlm::BEGIN_REQ || sent == tlm::END_RESP) {
      note(trans, *r, phase_text(sent, "bw", at), at);
      violation(trans,
                std::string(sent.get_name()) + " on the backward path (an initiator's phase)");
    } else {
      note(trans, *r, phase_text(sent, "bw", at), at);
      violation(trans, std::string("phase ") + sent.get_name() + " is not a base-protocol phase");
    }
  } else {
    violation(trans,
              std::string(sent.get_name()) +
                  " on the backward path for a transaction not in flight (never requested, or "
                  "already completed)",
              phase_text(sent, "bw", at));
  }

  const tlm_sync_enum status = target_socket->nb_transport_bw(trans, phase, delay);
  const sc_time back = sc_core::sc_time_stamp() + delay;
  Record* r = find(trans);
  if (r == nullptr) return status;
  if (status == tlm::TLM_ACCEPTED) {
    if (phase != sent)
      violation(trans,
                std::string("TLM_ACCEPTED returned with the phase changed to ") + phase.get_name());
  } else if (status == tlm::TLM_COMPLETED) {
    if (sent == tlm::BEGIN_RESP) ++counts_.end_resp;
    complete(trans, "TLM_COMPLETED returned", back);
  } else if (sent == tlm::BEGIN_RESP && phase == tlm::END_RESP) {
    ++counts_.end_resp;
    complete(trans, "END_RESP returned", back);
  } else {
    note(trans, *r, phase_text(phase, "returned", back), back);
    violation(trans, std::string("TLM_UPDATED returned for ") + sent.get_name() + " with phase " +
                         phase.get_name());
  }
  return status;
}

void TlmProtocolChecker::b_transport(tlm_generic_payload& trans, sc_time& delay) {
  ++counts_.b_transport;
  const std::string call = "b_transport @" + (sc_core::sc_time_stamp() + delay).to_string();
  if (find(trans) != nullptr)
    violation(trans, "b_transport of a transaction object in flight on nb_transport");
  if (trans.has_mm() && trans.get_ref_count() <= 0)
    violation(trans, "b_transport of a managed transaction whose reference count is 0", call);
  check_attributes(trans, call);
  initiator_socket->b_transport(trans, delay);
  if (trans.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE)
    violation(trans, "b_transport returned with the response status still TLM_INCOMPLETE_RESPONSE",
              call);
}

bool TlmProtocolChecker::get_direct_mem_ptr(tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  return initiator_socket->get_direct_mem_ptr(trans, dmi);
}

unsigned TlmProtocolChecker::transport_dbg(tlm_generic_payload& trans) {
  return initiator_socket->transport_dbg(trans);
}

void TlmProtocolChecker::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
  target_socket->invalidate_direct_mem_ptr(start, end);
}

void TlmProtocolChecker::end_of_simulation() {
  check_finished();
}

void TlmProtocolChecker::check_finished() {
  if (finished_) return;
  finished_ = true;
  std::vector<std::pair<uint64_t, const tlm_generic_payload*>> left;
  for (const auto& [trans, record] : in_flight_) left.emplace_back(record.sequence, trans);
  std::sort(left.begin(), left.end());
  for (const auto& [sequence, trans] : left)
    violation(*trans, "transaction still in flight at the end of the simulation");
}

}  // namespace eg::testing
