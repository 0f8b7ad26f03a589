#include "hw/dram/lpddr4_channel.hpp"

#include <algorithm>
#include <limits>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "hw/dram/data_class_extension.hpp"
#include "hw/timeline/timeline_recorder.hpp"
#include "models/dram/dram_stats_json.hpp"

namespace eg::hw {

nlohmann::json Lpddr4Channel::statistics() const {
  return eg::dram::dram_figures_json(stats_);
}

Parameters Lpddr4Channel::parameters() const {
  const eg::dram::DramConfig& c = config_;
  auto num = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };
  return {{"standard", c.standard},
          {"data_rate_mtps", std::to_string(c.data_rate_mtps)},
          {"bus_width_bits", std::to_string(c.bus_width_bits)},
          {"burst_length", std::to_string(c.burst_length)},
          {"banks", std::to_string(c.banks)},
          {"row_bytes", std::to_string(c.row_bytes)},
          {"request_queue_depth", std::to_string(c.request_queue_depth)},
          {"tRCD_ns", num(c.timing_ns.tRCD)},
          {"tRP_ns", num(c.timing_ns.tRP)},
          {"tCL_ns", num(c.timing_ns.tCL)},
          {"tREFI_ns", num(c.timing_ns.tREFI)},
          {"tRFCab_ns", num(c.timing_ns.tRFCab)}};
}

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

Lpddr4Channel::Lpddr4Channel(sc_core::sc_module_name name, const eg::dram::DramConfig& config)
    : sc_module(name),
      socket("socket"),
      config_(config),
      timing_(eg::dram::timing_in_cycles(config)),
      mapping_(config),
      period_(sc_time(static_cast<double>(timing_.clock_period_ps), sc_core::SC_PS)),
      banks_(config.banks),
      activations_(timing_.tRRD, timing_.tFAW) {
  if (period_.value() == 0 || period_ != sc_time::from_value(period_.value()))
    throw Error("DRAM config: the SystemC time resolution is too coarse for tCK = " +
                std::to_string(timing_.clock_period_ps) + " ps");
  next_refresh_cycle_ = timing_.tREFI;
  socket.register_nb_transport_fw(this, &Lpddr4Channel::nb_transport_fw);
  SC_THREAD(scheduler_thread);
  SC_THREAD(response_thread);
}

uint64_t Lpddr4Channel::now_cycle() const {
  uint64_t t = sc_core::sc_time_stamp().value();
  uint64_t p = period_.value();
  return (t + p - 1) / p;  // commands issue on clock edges: round up to the next one
}

sc_time Lpddr4Channel::at_cycle(uint64_t cycle) const {
  return sc_time::from_value(cycle * period_.value());
}

bool Lpddr4Channel::reject_if_invalid(tlm::tlm_generic_payload& trans) {
  const uint64_t burst = config_.burst_bytes();
  const uint64_t address = trans.get_address();
  const uint64_t length = trans.get_data_length();
  if (!trans.is_read() && !trans.is_write()) {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return true;
  }
  if (length == 0 || length > burst || (address % burst) + length > burst ||
      trans.get_streaming_width() < length) {
    trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return true;
  }
  if (address + length > mapping_.capacity_bytes()) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return true;
  }
  return false;
}

bool Lpddr4Channel::accept(tlm::tlm_generic_payload& trans, const sc_time& delay) {
  Request r;
  r.trans = &trans;
  uint64_t t = (sc_core::sc_time_stamp() + delay).value();
  r.arrival_cycle = (t + period_.value() - 1) / period_.value();
  r.sequence = next_sequence_++;
  r.location = mapping_.decode(trans.get_address());
  r.write = trans.is_write();
  r.data_class = static_cast<int>(data_class_of(trans));
  trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  queue_.push_back(r);
  request_event_.notify(SC_ZERO_TIME);
  return true;
}

tlm::tlm_sync_enum Lpddr4Channel::nb_transport_fw(tlm::tlm_generic_payload& trans,
                                                  tlm::tlm_phase& phase, sc_time& delay) {
  if (phase == tlm::BEGIN_REQ) {
    if (reject_if_invalid(trans)) return tlm::TLM_COMPLETED;
    if (waiting_for_end_req_ != nullptr) {
      SC_REPORT_ERROR(name(), "BEGIN_REQ before END_REQ of the previous request");
      return tlm::TLM_COMPLETED;
    }
    if (queue_.size() < config_.request_queue_depth) {
      accept(trans, delay);
      phase = tlm::END_REQ;
      return tlm::TLM_UPDATED;
    }
    waiting_for_end_req_ = &trans;  // back-pressure: END_REQ when a queue slot frees
    waiting_arrival_ = sc_core::sc_time_stamp() + delay;
    return tlm::TLM_ACCEPTED;
  }
  if (phase == tlm::END_RESP) {
    response_in_progress_ = false;
    end_resp_event_.notify(SC_ZERO_TIME);
    return tlm::TLM_COMPLETED;
  }
  SC_REPORT_ERROR(name(), "unexpected phase on the forward path");
  return tlm::TLM_COMPLETED;
}

size_t Lpddr4Channel::pick_fr_fcfs(uint64_t now) const {
  const size_t none = std::numeric_limits<size_t>::max();
  size_t oldest = none;
  for (size_t i = 0; i < queue_.size(); ++i) {  // the queue is in arrival order
    const Request& r = queue_[i];
    if (r.arrival_cycle > now) continue;
    const Bank& b = banks_[r.location.bank];
    if (config_.page_policy == eg::dram::PagePolicy::Open && b.open && b.row == r.location.row)
      return i;  // oldest row hit
    if (oldest == none) oldest = i;
  }
  return oldest;
}

void Lpddr4Channel::refresh(uint64_t due) {
  const eg::dram::DramTiming& t = timing_;
  bool any_open = false;
  uint64_t precharge_all = due;  // once every open bank allows a PRE (tRAS, tRTP, tWR)
  uint64_t idle = due;           // once every closed bank has finished precharging
  for (const Bank& b : banks_) {
    if (b.open) {
      any_open = true;
      precharge_all = std::max(precharge_all, b.precharge_ready);
    } else {
      idle = std::max(idle, b.activate_ready);
    }
  }
  const uint64_t refresh_start = std::max(idle, any_open ? precharge_all + t.tRPab : due);
  for (Bank& b : banks_) {
    b.open = false;
    b.activate_ready = refresh_start + t.tRFCab;
  }
  ++stats_.refreshes;
}

void Lpddr4Channel::refresh_due(uint64_t now) {
  // Refresh k is due at k x tREFI whatever delayed the previous one, so the average interval is
  // exactly tREFI. None is postponed or pulled in to suit the traffic.
  while (next_refresh_cycle_ <= now) {
    refresh(next_refresh_cycle_);
    next_refresh_cycle_ += timing_.tREFI;
  }
}

uint64_t Lpddr4Channel::serve(const Request& r, uint64_t now) {
  const eg::dram::DramTiming& t = timing_;
  Bank& b = banks_[r.location.bank];
  eg::dram::DramCounts delta;
  const bool hit = b.open && b.row == r.location.row;
  if (!hit) {
    // The bank is prepared from the request's arrival: a controller with a lookahead queue opens
    // rows for queued requests while other banks move data.
    uint64_t activate;
    if (b.open) {
      uint64_t precharge = std::max(r.arrival_cycle, b.precharge_ready);
      activate = precharge + t.tRP;
      ++delta.precharges;
    } else {
      activate = std::max(r.arrival_cycle, b.activate_ready);
    }
    activate = activations_.earliest(activate);
    activations_.place(activate);
    ++delta.activates;
    b.open = true;
    b.row = r.location.row;
    b.column_ready = activate + t.tRCD;
    b.precharge_ready = activate + t.tRAS;
  }
  const uint64_t latency = r.write ? t.tWL : t.tCL;
  uint64_t column = std::max({now, b.column_ready, next_column_cycle_,
                              r.write ? write_column_ready_ : read_column_ready_});
  if (column + latency < bus_free_cycle_) column = bus_free_cycle_ - latency;
  const uint64_t data_end = column + latency + t.burst_cycles;
  bus_free_cycle_ = data_end;
  next_column_cycle_ = column + t.tCCD;
  if (r.write) {
    read_column_ready_ = std::max(read_column_ready_, data_end + t.tWTR);
  } else {
    const uint64_t write_data = data_end + t.tRTW;  // earliest first write beat
    write_column_ready_ =
        std::max(write_column_ready_, write_data > t.tWL ? write_data - t.tWL : 0);
  }
  b.precharge_ready = std::max(b.precharge_ready, r.write ? data_end + t.tWR : column + t.tRTP);
  if (config_.page_policy == eg::dram::PagePolicy::Closed) {  // auto-precharge
    b.open = false;
    b.activate_ready = b.precharge_ready + t.tRP;
    ++delta.precharges;
  }
  const uint64_t bytes = config_.burst_bytes();
  if (r.write) {
    delta.write_bytes = bytes;
    delta.write_bursts = 1;
  } else {
    delta.read_bytes = bytes;
    delta.read_bursts = 1;
  }
  (hit ? delta.row_hits : delta.row_misses) = 1;
  delta.busy_cycles = t.burst_cycles;
  stats_.total += delta;
  stats_.by_class[r.data_class] += delta;
  if (timeline_)
    timeline_->dram_bus(r.write, at_cycle(data_end - t.burst_cycles), at_cycle(data_end), bytes);
  return data_end;
}

void Lpddr4Channel::scheduler_thread() {
  for (;;) {
    if (queue_.empty()) {
      sc_core::wait(request_event_);
      continue;
    }
    const uint64_t now = now_cycle();
    refresh_due(now);
    // A new ACT is never placed before the earliest arrival still queued (nor, for requests yet to
    // come, before now).
    uint64_t lowest = now;
    for (const Request& r : queue_) lowest = std::min(lowest, r.arrival_cycle);
    activations_.forget_before(lowest);
    const size_t pick = pick_fr_fcfs(now);
    if (pick >= queue_.size()) {  // every queued request arrives later (annotated delay)
      uint64_t first = queue_.front().arrival_cycle;
      for (const Request& r : queue_) first = std::min(first, r.arrival_cycle);
      sc_core::wait(at_cycle(first) - sc_core::sc_time_stamp(), request_event_);
      continue;
    }
    const Request request = queue_[pick];
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(pick));
    responses_.emplace(serve(request, now), request.trans);
    response_event_.notify(SC_ZERO_TIME);

    if (waiting_for_end_req_ != nullptr) {
      tlm::tlm_generic_payload* trans = waiting_for_end_req_;
      waiting_for_end_req_ = nullptr;
      // Not before the request itself: a BEGIN_REQ annotated with a delay arrives at its
      // annotated time even when a slot frees earlier (time order of the base protocol).
      const sc_time now_time = sc_core::sc_time_stamp();
      const sc_time delay =
          waiting_arrival_ > now_time ? waiting_arrival_ - now_time : SC_ZERO_TIME;
      accept(*trans, delay);
      tlm::tlm_phase phase = tlm::END_REQ;
      sc_time end_req_delay = delay;
      socket->nb_transport_bw(*trans, phase, end_req_delay);
    }
    // Decide again when the next column command could issue, so later row hits can still overtake.
    const sc_time next = at_cycle(next_column_cycle_);
    if (next > sc_core::sc_time_stamp()) sc_core::wait(next - sc_core::sc_time_stamp());
  }
}

void Lpddr4Channel::response_thread() {
  for (;;) {
    if (response_in_progress_) {
      sc_core::wait(end_resp_event_);
      continue;
    }
    if (responses_.empty()) {
      sc_core::wait(response_event_);
      continue;
    }
    auto first = responses_.begin();
    const sc_time due = at_cycle(first->first);
    if (due > sc_core::sc_time_stamp()) {
      sc_core::wait(due - sc_core::sc_time_stamp(), response_event_);
      continue;
    }
    tlm::tlm_generic_payload* trans = first->second;
    responses_.erase(first);
    trans->set_response_status(tlm::TLM_OK_RESPONSE);
    tlm::tlm_phase phase = tlm::BEGIN_RESP;
    sc_time delay = SC_ZERO_TIME;
    if (socket->nb_transport_bw(*trans, phase, delay) == tlm::TLM_ACCEPTED)
      response_in_progress_ = true;  // until the initiator's END_RESP
  }
}

}  // namespace eg::hw
