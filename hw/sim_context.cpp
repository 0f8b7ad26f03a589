#include "hw/sim_context.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sys/mman.h>
#endif

// SystemC threads are QuickThreads coroutines on stacks SystemC mmaps itself. Debian's
// SystemC 2.3.4 tells AddressSanitizer about each switch to a coroutine
// (__sanitizer_start/finish_switch_fiber), which keeps ASan's stack checks valid there, but it
// leaves two gaps that give false reports:
//  1. Back on the caller's own stack it announces that stack as empty (its main coroutine has no
//     recorded bounds), and a thread's last switch (when its function returns) is not announced at
//     all. ASan then does not know which stack it is on: when an exception is thrown later on the
//     caller's stack, __asan_handle_no_return cannot clear the redzones of the frames the exception
//     unwinds
//     ("ASan is ignoring requested __asan_handle_no_return"), and the next calls that reuse that
//     stack trip over them. Fix: start() gives ASan the caller's stack back (the bounds it had
//     before the first switch) once sc_start() returns.
//  2. Deleting a context unmaps the stacks of threads still waiting (the DRAM model's threads wait
//     forever), with the redzones of their live frames still marked in ASan's shadow memory. This
//     ASan (GCC 12) does not clear the shadow of unmapped memory, so the next coroutine stack
//     mapped at that address reports stack-buffer-overflows in fresh frames. Fix: in ASan builds,
//     munmap() below clears the shadow of what it unmaps (any program that links this file: those
//     that delete contexts); unmapped memory has nothing left to check.
// With both, ASan keeps all its stack checks (no --param=asan-stack=0). Fake stacks (ASan's
// detect_stack_use_after_return) stay off: this SystemC's switches do not carry them across.

#if defined(__SANITIZE_ADDRESS__)
namespace {
// Makes ASan take [bottom, bottom + size) as the current stack (an announced switch to the same
// stack).
void set_asan_stack(const void* bottom, std::size_t size) {
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
}

// ASan's current stack bounds: switch to an empty stack, which reports the old bounds, and back.
void get_asan_stack(const void** bottom, std::size_t* size) {
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, nullptr, 0);
  __sanitizer_finish_switch_fiber(fake_stack, bottom, size);
  set_asan_stack(*bottom, *size);
}
}  // namespace

// Gap 2 above. Interposes the C library's munmap (SystemC's calls resolve to the program's
// definition).
extern "C" int munmap(void* address, std::size_t length) {
  using Munmap = int (*)(void*, std::size_t);
  static const Munmap next = reinterpret_cast<Munmap>(dlsym(RTLD_NEXT, "munmap"));
  // Reads only: the shadow of memory that was never poisoned stays untouched (unallocated).
  if (void* poisoned = __asan_region_is_poisoned(address, length)) {
    const std::size_t skip = static_cast<char*>(poisoned) - static_cast<char*>(address);
    __asan_unpoison_memory_region(poisoned, length - skip);
  }
  return next(address, length);
}
#endif

namespace eg::hw {

SimContext::SimContext()
    : previous_(sc_core::sc_curr_simcontext), context_(new sc_core::sc_simcontext()) {
  sc_core::sc_curr_simcontext = context_;
  sc_core::sc_default_global_context = context_;
#if defined(__SANITIZE_ADDRESS__)
  get_asan_stack(&stack_bottom_, &stack_size_);
#endif
}

SimContext::~SimContext() {
  delete context_;
  sc_core::sc_curr_simcontext = previous_;
  sc_core::sc_default_global_context = previous_;
}

void SimContext::start() {
#if defined(__SANITIZE_ADDRESS__)
  // Gap 1 above, also when sc_start() throws.
  struct RestoreStack {
    const SimContext& context;
    ~RestoreStack() { set_asan_stack(context.stack_bottom_, context.stack_size_); }
  } restore{*this};
#endif
  sc_core::sc_start();
}

}  // namespace eg::hw
