#pragma once
// One entry per input reader. Each feeds the bytes to the reader the way the tools do (a file when
// the reader takes a path) and returns true when the reader accepts the input, false when it
// rejects it with eg::Error. Anything else escapes: another exception, a crash, a sanitizer report,
// a hang or a huge allocation is a finding. The libFuzzer harnesses (fuzz_<name>.cpp) and the
// regression test that replays the seed corpora and past findings call the same functions.
#include <cstddef>
#include <cstdint>

namespace eg::fuzz {

bool npy_one(const uint8_t* data, std::size_t size);  // workloads/npy: read_npy
bool trace_one(const uint8_t* data,
               std::size_t size);  // Trace::open and load (manifest + npy files)
bool trace_map_one(const uint8_t* data, std::size_t size);     // sw/mapper: a trace's layers mapped
bool hw_config_one(const uint8_t* data, std::size_t size);     // models/arch: hardware config
bool dram_config_one(const uint8_t* data, std::size_t size);   // models/dram: DRAM config + timings
bool energy_one(const uint8_t* data, std::size_t size);        // models/energy: energy table
bool sweep_one(const uint8_t* data, std::size_t size);         // tools/sweep: sweep config
bool report_one(const uint8_t* data, std::size_t size);        // tools/compare: two report.json
bool idx_one(const uint8_t* data, std::size_t size);           // sw/train: Fashion-MNIST IDX files
bool cifar_one(const uint8_t* data, std::size_t size);         // sw/train: CIFAR-10 batches
bool train_config_one(const uint8_t* data, std::size_t size);  // sw/train/config: egtrain --config
bool checkpoint_one(const uint8_t* data, std::size_t size);    // sw/train/checkpoint

}  // namespace eg::fuzz
