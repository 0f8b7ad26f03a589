#pragma once
// One SystemC kernel context per elaboration and run. SystemC 2.3 cannot elaborate again once a
// simulation has ended, so every simulation gets a fresh context; this one owns it and deletes it
// (with its processes and their coroutine stacks) when it goes out of scope, then makes the
// previous context current again.
//
// Declare it before the modules it will hold: modules must be destroyed before their context.
//
//   eg::hw::SimContext context;
//   Top top("top", ...);
//   context.start();   // sc_core::sc_start() in this context
#include <cstddef>

#include <systemc>

namespace eg::hw {

class SimContext {
 public:
  SimContext();
  ~SimContext();
  SimContext(const SimContext&) = delete;
  SimContext& operator=(const SimContext&) = delete;

  // sc_core::sc_start(): runs until nothing is left to do or sc_stop(). Under AddressSanitizer it
  // also gives ASan back the calling thread's own stack afterwards (see sim_context.cpp): call this
  // rather than sc_core::sc_start() directly.
  void start();

 private:
  sc_core::sc_simcontext* previous_;
  sc_core::sc_simcontext* context_;
  // The calling thread's stack as AddressSanitizer knows it before any coroutine switch (ASan
  // builds).
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
};

}  // namespace eg::hw
