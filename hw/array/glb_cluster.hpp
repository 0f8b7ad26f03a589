#pragma once
// The global buffer (GLB) cluster: one partition of SRAM banks per processing cluster, iact banks
// for input rows, psum banks for partial sums and grad banks for weight-gradient accumulation
// (configs/hw/README.md, "glb"). A processing cluster reaches its own partition through an
// sc_port bound at elaboration, so a different GLB organisation is a different module bound in its
// place. Bank arbitration itself is plain C++ (GlbBanks), called by the cluster's routers.
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw/array/glb_banks.hpp"
#include "hw/described.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

// What a processing cluster sees of its GLB partition.
class GlbPartitionIf : public virtual sc_core::sc_interface {
 public:
  virtual GlbBanks& iact_banks() = 0;
  virtual GlbBanks& psum_banks() = 0;
  virtual GlbBanks& grad_banks() = 0;
};

// One cluster's banks: accelerator.glb.pc3 (banks named iact0.., psum0.., grad0.. in statistics).
class GlbPartition : public sc_core::sc_module, public GlbPartitionIf, public Described {
 public:
  GlbPartition(sc_core::sc_module_name name, const arch::GlbConfig& config);
  const char* kind() const override { return "GlbPartition"; }
  Parameters parameters() const override;

  GlbBanks& iact_banks() override { return iact_; }
  GlbBanks& psum_banks() override { return psum_; }
  GlbBanks& grad_banks() override { return grad_; }

  // Bound to this partition itself; a cluster's port binds here.
  sc_core::sc_export<GlbPartitionIf> target;

 private:
  const arch::GlbConfig& config_;
  GlbBanks iact_, psum_, grad_;
};

class GlbCluster : public sc_core::sc_module, public Described {
 public:
  GlbCluster(sc_core::sc_module_name name, const arch::GlbConfig& config, int clusters);
  const char* kind() const override { return "GlbCluster"; }
  Parameters parameters() const override;
  GlbPartition& partition(int cluster) { return *partitions_.at(static_cast<size_t>(cluster)); }
  int partitions() const { return static_cast<int>(partitions_.size()); }

 private:
  const arch::GlbConfig& config_;
  std::vector<std::unique_ptr<GlbPartition>> partitions_;
};

}  // namespace eg::hw::array
