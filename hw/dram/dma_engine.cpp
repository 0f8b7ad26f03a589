#include "hw/dram/dma_engine.hpp"

#include <algorithm>
#include <sstream>

#include "base/error.hpp"
#include "hw/dram/data_class_extension.hpp"

namespace eg::hw {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

DmaEngine::DmaEngine(sc_core::sc_module_name name, const DmaConfig& config)
    : sc_module(name), socket("socket"), config_(config), scratch_(config.burst_bytes) {
  if (config.burst_bytes == 0 || config.max_outstanding == 0)
    throw Error("DMA engine: burst_bytes and max_outstanding must be >= 1");
  socket.register_nb_transport_bw(this, &DmaEngine::nb_transport_bw);
}

DmaEngine::~DmaEngine() = default;

tlm::tlm_generic_payload* DmaEngine::allocate() {
  if (free_payloads_.empty()) {
    payloads_.push_back(std::make_unique<tlm::tlm_generic_payload>(this));
    payloads_.back()->set_extension(new DataClassExtension);  // freed by the payload
    free_payloads_.push_back(payloads_.back().get());
  }
  tlm::tlm_generic_payload* trans = free_payloads_.back();
  free_payloads_.pop_back();
  trans->acquire();  // released once the transaction has completed
  return trans;
}

void DmaEngine::free(tlm::tlm_generic_payload* trans) {
  free_payloads_.push_back(trans);
}

void DmaEngine::end_request(tlm::tlm_generic_payload& trans) {
  if (&trans == request_in_progress_) {
    request_in_progress_ = nullptr;
    end_req_event_.notify(SC_ZERO_TIME);
  }
}

bool DmaEngine::complete(tlm::tlm_generic_payload& trans, const sc_time& delay) {
  auto it = owner_.find(&trans);
  if (it == owner_.end()) {
    SC_REPORT_ERROR(name(), "response for a transaction this DMA engine did not issue");
    return false;
  }
  Job* job = it->second;
  owner_.erase(it);
  if (!trans.is_response_ok() && job->error.empty()) {
    std::ostringstream msg;
    msg << "DMA " << (trans.is_write() ? "write" : "read") << " of " << trans.get_data_length()
        << " bytes at 0x" << std::hex << trans.get_address() << std::dec
        << ": DRAM target answered " << trans.get_response_string();
    job->error = msg.str();
  }
  --job->outstanding;
  job->progress.notify(delay);
  return true;
}

tlm::tlm_sync_enum DmaEngine::nb_transport_bw(tlm::tlm_generic_payload& trans,
                                              tlm::tlm_phase& phase, sc_time& delay) {
  if (phase == tlm::END_REQ) {
    end_request(trans);
    return tlm::TLM_ACCEPTED;
  }
  if (phase == tlm::BEGIN_RESP) {
    end_request(trans);  // BEGIN_RESP implies END_REQ
    if (complete(trans, delay)) trans.release();
    phase = tlm::END_RESP;
    return tlm::TLM_COMPLETED;
  }
  SC_REPORT_ERROR(name(), "unexpected phase on the backward path");
  return tlm::TLM_COMPLETED;
}

void DmaEngine::issue(const MemoryRequest& request, Job& job, uint64_t first, uint64_t bytes) {
  uint64_t address = first;
  const uint64_t end = first + bytes;
  while (address < end) {
    const uint64_t burst_end =
        std::min(end, (address / config_.burst_bytes + 1) * config_.burst_bytes);
    while (job.outstanding >= config_.max_outstanding) sc_core::wait(job.progress);
    while (request_in_progress_ != nullptr) sc_core::wait(end_req_event_);

    tlm::tlm_generic_payload* trans = allocate();
    trans->set_command(request.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    trans->set_address(address);
    trans->set_data_ptr(scratch_.data());
    trans->set_data_length(static_cast<unsigned>(burst_end - address));
    trans->set_streaming_width(static_cast<unsigned>(burst_end - address));
    trans->set_byte_enable_ptr(nullptr);
    trans->set_dmi_allowed(false);
    trans->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    trans->get_extension<DataClassExtension>()->data_class = request.data_class;
    owner_[trans] = &job;
    ++job.outstanding;
    ++transactions_issued_;

    tlm::tlm_phase phase = tlm::BEGIN_REQ;
    sc_time delay = SC_ZERO_TIME;
    const tlm::tlm_sync_enum status = socket->nb_transport_fw(*trans, phase, delay);
    if (status == tlm::TLM_ACCEPTED) {
      request_in_progress_ = trans;
    } else if (status == tlm::TLM_COMPLETED) {
      complete(*trans, delay);
      trans->release();
    } else if (phase == tlm::BEGIN_RESP) {  // TLM_UPDATED with an early response
      complete(*trans, delay);
      tlm::tlm_phase end_phase = tlm::END_RESP;
      sc_time end_delay = SC_ZERO_TIME;
      socket->nb_transport_fw(*trans, end_phase, end_delay);
      trans->release();
    }  // TLM_UPDATED with END_REQ: accepted, response follows on the backward path
    address = burst_end;
  }
}

void DmaEngine::transfer(const MemoryRequest& request) {
  Job job;
  // A gather's runs are split one after another, each into its own burst-aligned transactions.
  for_each_run(request, [&](uint64_t first, uint64_t bytes) { issue(request, job, first, bytes); });
  while (job.outstanding > 0) sc_core::wait(job.progress);
  if (!job.error.empty()) throw Error(job.error);
}

}  // namespace eg::hw
