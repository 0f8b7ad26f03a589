#include "hw/array/memory_interface.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace eg::hw::array {

MemoryInterface::MemoryInterface(MemoryPort& downstream, bool regenerate_feedback,
                                 uint64_t burst_bytes)
    : downstream_(downstream),
      regenerate_feedback_(regenerate_feedback),
      burst_bytes_(burst_bytes ? burst_bytes : 1) {}

void MemoryInterface::set_policy(uint64_t base, uint64_t bytes, const TensorPolicy& policy) {
  ranges_[base] = Range{base + bytes, policy};
}

void MemoryInterface::hold(uint64_t base, uint64_t bytes) {
  held_[base] = Held{base + bytes, bytes};
}

const TensorPolicy* MemoryInterface::policy_of(uint64_t address) const {
  auto it = ranges_.upper_bound(address);
  if (it == ranges_.begin()) return nullptr;
  --it;
  return address < it->second.end ? &it->second.policy : nullptr;
}

void MemoryInterface::forward(const MemoryRequest& r) {
  if (r.bytes == 0) return;
  uint64_t bursts = 0;  // each run of a gather in bursts of its own
  for_each_run(r, [&](uint64_t address, uint64_t bytes) {
    bursts += (address + bytes - 1) / burst_bytes_ - address / burst_bytes_ + 1;
  });
  dram::DramCounts c;
  (r.write ? c.write_bursts : c.read_bursts) = bursts;
  (r.write ? c.write_bytes : c.read_bytes) = bursts * burst_bytes_;
  forwarded_.total += c;
  forwarded_.by_class[static_cast<size_t>(r.data_class)] += c;
  const uint64_t begin = timeline_ ? timeline_->now() : 0;
  downstream_.transfer(r);
  if (timeline_)
    timeline_->dma(r.data_class, r.write, begin, timeline_->now(), bursts * burst_bytes_, r.bytes);
}

void MemoryInterface::transfer(const MemoryRequest& request) {
  if (request.bytes == 0) return;
  if (regenerate_feedback_ && request.data_class == DataClass::Feedback) return;
  const TensorPolicy* p = policy_of(request.address);
  if (p == nullptr) return forward(request);
  if (request.write && p->writes_on_chip && p->partial_sum_in_dram) {
    MemoryRequest partial = request;
    partial.write = false;
    return forward(partial);
  }
  if (request.write ? p->writes_on_chip : p->reads_on_chip) return;
  MemoryRequest r = request;
  if (!r.write && !held_.empty() && !r.runs) {
    auto it = held_.upper_bound(r.address);
    if (it != held_.begin() && r.address < std::prev(it)->second.end) {
      Held& h = std::prev(it)->second;
      const uint64_t fetched = std::min(r.bytes, h.to_fetch);
      h.to_fetch -= fetched;
      served_from_hold_ += r.bytes - fetched;
      if (fetched == 0) return;
      r.bytes = fetched;
    }
  }
  // (Compression shrinks one contiguous range; gathers carry weights only, never compressed.)
  if (r.data_class == DataClass::Gradients && p->gradient_ratio != 1.0 && !r.runs)
    r.bytes = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(static_cast<double>(r.bytes) * p->gradient_ratio)));
  if (r.write && p->accumulate_writes) {
    MemoryRequest partial = r;  // the sum so far, read back before adding this contribution
    partial.write = false;
    forward(partial);
  }
  forward(r);
}

}  // namespace eg::hw::array
