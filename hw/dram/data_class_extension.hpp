#pragma once
// Tags a TLM transaction with the data class it carries, so the DRAM model can count traffic by
// class (docs/DESIGN.md §7 "by_class"). Untagged transactions count as activations.
#include <tlm>

#include "hw/memory_port.hpp"
#include "models/dram/dram_stats.hpp"

namespace eg::hw {

static_assert(kDataClassCount == eg::dram::kDataClasses,
              "models/dram/dram_stats.hpp must count every eg::hw::DataClass");

class DataClassExtension : public tlm::tlm_extension<DataClassExtension> {
 public:
  DataClass data_class = DataClass::Activations;

  tlm::tlm_extension_base* clone() const override {
    auto* copy = new DataClassExtension;
    copy->data_class = data_class;
    return copy;
  }
  void copy_from(const tlm::tlm_extension_base& other) override {
    data_class = static_cast<const DataClassExtension&>(other).data_class;
  }
};

inline DataClass data_class_of(const tlm::tlm_generic_payload& trans) {
  auto* ext = trans.get_extension<DataClassExtension>();
  return ext ? ext->data_class : DataClass::Activations;
}

}  // namespace eg::hw
