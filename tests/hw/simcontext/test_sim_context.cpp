// SimContext: a fresh SystemC context per run, deleted afterwards. In the sanitizer build
// (scripts/test.sh --sanitize) LeakSanitizer checks that every context is freed, and ASan checks
// every stack frame the last two tests use (they fail there without sim_context.cpp's two fixes).
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "hw/sim_context.hpp"

namespace {

// A thread that runs briefly, then waits for an event nobody notifies (as the DRAM model's threads
// do), holding a frame with a stack array at every level of a recursion.
struct Waiter : sc_core::sc_module {
  sc_core::sc_event never;
  int depth;
  SC_HAS_PROCESS(Waiter);
  Waiter(sc_core::sc_module_name name, int d) : sc_module(name), depth(d) { SC_THREAD(run); }
  void run() { hold(depth); }
  void hold(int level) {
    volatile char frame[96];
    std::memset(const_cast<char*>(frame), level, sizeof frame);
    if (level == 0) {
      wait(sc_core::sc_time(1, sc_core::SC_NS));
      wait(never);
    } else {
      hold(level - 1);
    }
  }
};

// Uses a deep stretch of the current stack, touching every byte of each frame's array.
int use_stack(int level) {
  volatile char frame[200];
  std::memset(const_cast<char*>(frame), level, sizeof frame);
  return level == 0 ? frame[7] : use_stack(level - 1) + frame[199];
}

void throw_from(int level) {
  volatile char frame[64];
  std::memset(const_cast<char*>(frame), level, sizeof frame);
  if (level == 0) throw std::runtime_error("deep");
  throw_from(level - 1);
  frame[0] = 1;  // keeps the recursion from being a tail call
}

// A thread that runs use_stack() once.
struct StackUser : sc_core::sc_module {
  int result = -1;
  SC_HAS_PROCESS(StackUser);
  explicit StackUser(sc_core::sc_module_name name) : sc_module(name) { SC_THREAD(run); }
  void run() { result = use_stack(60); }
};

}  // namespace

TEST_CASE("a SimContext is current while it lives and the previous one is current after it") {
  sc_core::sc_simcontext* before = sc_core::sc_get_curr_simcontext();
  {
    eg::hw::SimContext context;
    CHECK(sc_core::sc_get_curr_simcontext() != before);
    CHECK(sc_core::sc_curr_simcontext == sc_core::sc_default_global_context);
  }
  CHECK(sc_core::sc_get_curr_simcontext() == before);
}

TEST_CASE("each SimContext elaborates afresh, with the same module names, after a run") {
  for (int run = 0; run < 3; ++run) {
    eg::hw::SimContext context;
    Waiter top("top", 4);
    CHECK(std::string(top.name()) == "top");
    context.start();
    CHECK(sc_core::sc_time_stamp() == sc_core::sc_time(1, sc_core::SC_NS));
  }
}

TEST_CASE("after a run the caller's stack still unwinds exceptions cleanly") {
  {
    eg::hw::SimContext context;
    Waiter top("top", 8);
    context.start();
  }
  CHECK_THROWS_AS(throw_from(40), std::runtime_error);
  CHECK(use_stack(60) == 60 * 61 / 2);
}

TEST_CASE("threads left waiting in an ended context do not disturb the next context's threads") {
  // A waiter and a thread that uses its stack, created in turns in either order: each new thread's
  // stack is mapped where the other kind of thread had its frames in the run before.
  for (int run = 0; run < 4; ++run) {
    eg::hw::SimContext context;
    std::unique_ptr<Waiter> waiter;
    std::unique_ptr<StackUser> user;
    if (run % 2 == 0) {
      waiter = std::make_unique<Waiter>("waiter", 30);
      user = std::make_unique<StackUser>("user");
    } else {
      user = std::make_unique<StackUser>("user");
      waiter = std::make_unique<Waiter>("waiter", 30);
    }
    context.start();
    CHECK(user->result == 60 * 61 / 2);
  }
}
