// The TLM-2.0 base protocol between the DMA engine and the LPDDR4 channel, checked by a
// pass-through checker bound between them; and the checker itself, shown to catch broken initiators
// and targets.
#include <catch2/catch.hpp>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw/array/ideal_memory.hpp"
#include "hw/dram/dma_engine.hpp"
#include "hw/dram/lpddr4_channel.hpp"
#include "hw/sim_context.hpp"
#include "models/dram/dram_config.hpp"
#include "tlm_protocol_checker.hpp"

using eg::hw::DataClass;
using eg::hw::MemoryRequest;
using eg::testing::TlmProtocolChecker;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

eg::dram::DramConfig lpddr4() {
  return eg::dram::load_dram_config(EGSIM_SOURCE_DIR "/configs/dram/lpddr4_3200_x32.json");
}

// DmaEngine -> checker -> Lpddr4Channel (or DmaEngine -> Lpddr4Channel, unchecked), with up to two
// threads calling transfer().
struct CheckedDram : sc_core::sc_module {
  eg::hw::Lpddr4Channel dram;
  eg::hw::DmaEngine dma;
  std::unique_ptr<TlmProtocolChecker> checker_;
  std::vector<MemoryRequest> requests_a, requests_b;
  sc_time done_a, done_b;

  SC_HAS_PROCESS(CheckedDram);
  CheckedDram(sc_core::sc_module_name name, const eg::dram::DramConfig& config,
              uint64_t max_outstanding, bool checked = true)
      : sc_module(name), dram("dram", config), dma("dma", {config.burst_bytes(), max_outstanding}) {
    if (checked) {
      checker_ = std::make_unique<TlmProtocolChecker>(
          "checker", eg::testing::TlmCheckerConfig{config.burst_bytes()});
      dma.socket.bind(checker_->target_socket);
      checker_->initiator_socket.bind(dram.socket);
    } else {
      dma.socket.bind(dram.socket);
    }
    SC_THREAD(a);
    SC_THREAD(b);
  }
  TlmProtocolChecker& checker() { return *checker_; }
  void a() {
    for (const MemoryRequest& r : requests_a) dma.transfer(r);
    done_a = sc_core::sc_time_stamp();
  }
  void b() {
    for (const MemoryRequest& r : requests_b) dma.transfer(r);
    done_b = sc_core::sc_time_stamp();
  }
};

// What every clean run must show: no violation, nothing left in flight, and one checked
// transaction, with a full phase sequence, per burst the DRAM served.
void check_clean(CheckedDram& t) {
  t.checker().check_finished();
  const auto& c = t.checker().counts();
  const auto& s = t.dram.stats().total;
  INFO(t.checker().first_violation());
  CHECK(t.checker().violation_count() == 0);
  CHECK(t.checker().in_flight() == 0);
  CHECK(c.transactions == s.read_bursts + s.write_bursts);
  CHECK(c.reads == s.read_bursts);
  CHECK(c.writes == s.write_bursts);
  CHECK(c.transactions == t.dma.transactions_issued());
  CHECK(c.completed == c.transactions);
  CHECK(c.begin_req == c.transactions);
  CHECK(c.end_req + c.implicit_end_req == c.transactions);
  CHECK(c.begin_resp == c.transactions);
  CHECK(c.end_resp == c.transactions);
}

// Two threads, each alternating reads and writes, aligned and not, across rows and banks.
void interleave(CheckedDram& t) {
  for (uint64_t i = 0; i < 4; ++i) {
    t.requests_a.push_back({false, i * 65536, 16 * 1024, DataClass::Activations});
    t.requests_a.push_back({true, (1 << 20) + i * 8192 + 8, 3000, DataClass::Gradients});
    t.requests_b.push_back({true, (2 << 20) + i * 65536, 16 * 1024, DataClass::WeightGradients});
    t.requests_b.push_back({false, (3 << 20) + i * 4096 + 1000, 5000, DataClass::Weights});
  }
}

}  // namespace

TEST_CASE("a streaming DMA read from the LPDDR4 channel keeps the TLM-2.0 base protocol") {
  eg::hw::SimContext context;
  const auto config = lpddr4();
  CheckedDram t("checked", config, config.dma_max_outstanding);
  t.requests_a = {{false, 0, 64 * 1024, DataClass::Activations}};
  context.start();
  check_clean(t);
  CHECK(t.checker().counts().transactions == 1024);
  CHECK(t.checker().counts().max_in_flight == config.dma_max_outstanding);
}

TEST_CASE(
    "interleaved DMA reads and writes from two threads keep the base protocol when the "
    "channel withholds END_REQ") {
  eg::hw::SimContext context;
  const auto config = lpddr4();
  CheckedDram t("checked", config, config.dma_max_outstanding);
  interleave(t);
  context.start();
  check_clean(t);
  const auto& c = t.checker().counts();
  CHECK(c.reads > 0);
  CHECK(c.writes > 0);
  // Two callers keep up to twice dma_max_outstanding in flight against a queue of
  // request_queue_depth: the queue fills and END_REQ comes later on the backward path.
  REQUIRE(2 * config.dma_max_outstanding > config.request_queue_depth);
  CHECK(c.end_req_withheld > 0);
  CHECK(c.max_in_flight > config.request_queue_depth);
}

TEST_CASE("DMA transfers spanning many bursts keep the base protocol at every outstanding limit") {
  const uint64_t max_outstanding = GENERATE(2, 5, 16);
  eg::hw::SimContext context;
  const auto config = lpddr4();
  CheckedDram t("checked", config, max_outstanding);
  // Unaligned at both ends: 30 .. 100030 touches bursts 0 .. 1562.
  t.requests_a = {{false, 30, 100000, DataClass::Weights},
                  {true, 1 << 22, 20000, DataClass::Gradients}};
  context.start();
  check_clean(t);
  const uint64_t burst = config.burst_bytes();
  CHECK(t.checker().counts().reads == (100030 + burst - 1) / burst);
  CHECK(t.checker().counts().writes == 20000 / burst + (20000 % burst != 0));
  CHECK(t.checker().counts().max_in_flight == max_outstanding);
}

TEST_CASE("the checker leaves the DMA and DRAM timing unchanged") {
  const auto config = lpddr4();
  sc_time checked_a, checked_b, plain_a, plain_b;
  {
    eg::hw::SimContext context;
    CheckedDram t("checked", config, config.dma_max_outstanding, true);
    interleave(t);
    context.start();
    checked_a = t.done_a;
    checked_b = t.done_b;
  }
  {
    eg::hw::SimContext context;
    CheckedDram t("plain", config, config.dma_max_outstanding, false);
    interleave(t);
    context.start();
    plain_a = t.done_a;
    plain_b = t.done_b;
  }
  CHECK(checked_a > SC_ZERO_TIME);
  CHECK(checked_a == plain_a);
  CHECK(checked_b == plain_b);
}

// ---- The checker catches broken components -------------------------------------------------

namespace {

using tlm::tlm_generic_payload;
using tlm::tlm_phase;
using tlm::tlm_sync_enum;
using Handler = std::function<tlm_sync_enum(tlm_generic_payload&, tlm_phase&, sc_time&)>;

// A memory manager that never recycles: the tests own their payloads.
struct KeepPayloads : tlm::tlm_mm_interface {
  void free(tlm_generic_payload*) override {}
};

// An initiator that runs a scripted body and answers the backward path with `on_bw`.
struct StubInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<StubInitiator> socket;
  std::function<void(StubInitiator&)> body;
  Handler on_bw = [](tlm_generic_payload&, tlm_phase&, sc_time&) { return tlm::TLM_COMPLETED; };

  SC_HAS_PROCESS(StubInitiator);
  explicit StubInitiator(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_nb_transport_bw(this, &StubInitiator::nb_transport_bw);
    SC_THREAD(run);
  }
  tlm_sync_enum nb_transport_bw(tlm_generic_payload& t, tlm_phase& p, sc_time& d) {
    return on_bw(t, p, d);
  }
  void run() {
    if (body) body(*this);
  }
  tlm_sync_enum send(tlm_generic_payload& t, tlm_phase p, sc_time delay = SC_ZERO_TIME) {
    return socket->nb_transport_fw(t, p, delay);
  }
};

// A target that answers the forward path with `on_fw` and may run a scripted body of its own.
struct StubTarget : sc_core::sc_module {
  tlm_utils::simple_target_socket<StubTarget> socket;
  std::function<void(StubTarget&)> body;
  Handler on_fw = [](tlm_generic_payload&, tlm_phase&, sc_time&) { return tlm::TLM_ACCEPTED; };

  SC_HAS_PROCESS(StubTarget);
  explicit StubTarget(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_nb_transport_fw(this, &StubTarget::nb_transport_fw);
    SC_THREAD(run);
  }
  tlm_sync_enum nb_transport_fw(tlm_generic_payload& t, tlm_phase& p, sc_time& d) {
    return on_fw(t, p, d);
  }
  void run() {
    if (body) body(*this);
  }
  tlm_sync_enum send(tlm_generic_payload& t, tlm_phase p) {
    sc_time delay = SC_ZERO_TIME;
    return socket->nb_transport_bw(t, p, delay);
  }
};

struct StubBench : sc_core::sc_module {
  StubInitiator initiator;
  TlmProtocolChecker checker;
  StubTarget target;
  explicit StubBench(sc_core::sc_module_name name)
      : sc_module(name), initiator("initiator"), checker("checker", {64}), target("target") {
    initiator.socket.bind(checker.target_socket);
    checker.initiator_socket.bind(target.socket);
  }
};

// A well-formed 64-byte read request at `address`.
void read_request(tlm_generic_payload& t, uint64_t address, unsigned char* data) {
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(address);
  t.set_data_ptr(data);
  t.set_data_length(64);
  t.set_streaming_width(64);
  t.set_byte_enable_ptr(nullptr);
  t.set_dmi_allowed(false);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

}  // namespace

TEST_CASE("the checker reports a second BEGIN_REQ sent before the first request's END_REQ") {
  KeepPayloads mm;
  tlm_generic_payload first(&mm), second(&mm);
  unsigned char data[64] = {};
  read_request(first, 0x40, data);
  read_request(second, 0x80, data);
  first.acquire();
  second.acquire();
  eg::hw::SimContext context;
  StubBench bench("stub");  // the target accepts every request and never sends END_REQ
  bench.initiator.body = [&](StubInitiator& self) {
    self.send(first, tlm::BEGIN_REQ);
    sc_core::wait(10, SC_NS);
    self.send(second, tlm::BEGIN_REQ);
  };
  context.start();
  REQUIRE(bench.checker.violation_count() >= 1);
  CHECK(bench.checker.first_violation() ==
        "stub.checker: BEGIN_REQ while the request at 0x40 has not had its END_REQ (request "
        "exclusion) [read at 0x80, 64 bytes; phases: BEGIN_REQ fw @10 ns]");
  CHECK(bench.checker.counts().end_req_withheld == 2);
  // Neither request ever ended: both are still in flight when the simulation is over.
  bench.checker.check_finished();
  REQUIRE(bench.checker.violations().size() == 3);
  CHECK(bench.checker.violations()[1] ==
        "stub.checker: transaction still in flight at the end of the simulation [read at 0x40, 64 "
        "bytes; phases: BEGIN_REQ fw @0 s]");
}

TEST_CASE("the checker reports a BEGIN_RESP from a target that had no request") {
  KeepPayloads mm;
  tlm_generic_payload bogus(&mm);
  unsigned char data[64] = {};
  read_request(bogus, 0x1000, data);
  bogus.acquire();
  bogus.set_response_status(tlm::TLM_OK_RESPONSE);
  eg::hw::SimContext context;
  StubBench bench("stub");
  bench.target.body = [&](StubTarget& self) {
    sc_core::wait(5, SC_NS);
    self.send(bogus, tlm::BEGIN_RESP);
  };
  context.start();
  bench.checker.check_finished();
  CHECK(bench.checker.violations() ==
        std::vector<std::string>{
            "stub.checker: BEGIN_RESP on the backward path for a transaction not in flight (never "
            "requested, or already completed) [read at 0x1000, 64 bytes; phases: BEGIN_RESP bw @5 "
            "ns]"});
  CHECK(bench.checker.counts().transactions == 0);
}

TEST_CASE("the checker reports a BEGIN_RESP sent while another response awaits its END_RESP") {
  KeepPayloads mm;
  tlm_generic_payload first(&mm), second(&mm);
  unsigned char data[64] = {};
  read_request(first, 0x0, data);
  read_request(second, 0x40, data);
  first.acquire();
  second.acquire();
  eg::hw::SimContext context;
  StubBench bench("stub");
  // The target takes each request at once and later answers both; the initiator takes its time
  // over END_RESP (TLM_ACCEPTED), so the second BEGIN_RESP breaks response exclusion.
  bench.target.on_fw = [](tlm_generic_payload&, tlm_phase& phase, sc_time&) {
    if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
    phase = tlm::END_REQ;
    return tlm::TLM_UPDATED;
  };
  bench.initiator.on_bw = [](tlm_generic_payload&, tlm_phase&, sc_time&) {
    return tlm::TLM_ACCEPTED;
  };
  bench.initiator.body = [&](StubInitiator& self) {
    self.send(first, tlm::BEGIN_REQ);
    self.send(second, tlm::BEGIN_REQ);
  };
  bench.target.body = [&](StubTarget& self) {
    sc_core::wait(20, SC_NS);
    first.set_response_status(tlm::TLM_OK_RESPONSE);
    self.send(first, tlm::BEGIN_RESP);
    second.set_response_status(tlm::TLM_OK_RESPONSE);
    self.send(second, tlm::BEGIN_RESP);
  };
  context.start();
  REQUIRE(bench.checker.violation_count() >= 1);
  CHECK(bench.checker.first_violation() ==
        "stub.checker: BEGIN_RESP while the response at 0x0 has not had its END_RESP (response "
        "exclusion) [read at 0x40, 64 bytes; phases: BEGIN_REQ fw @0 s -> END_REQ returned @0 s -> "
        "BEGIN_RESP bw @20 ns]");
}

TEST_CASE("the checker reports a transaction sent on nb_transport without a memory manager") {
  tlm_generic_payload unmanaged;  // what the DMA engine used to send
  unsigned char data[64] = {};
  read_request(unmanaged, 0x2000, data);
  eg::hw::SimContext context;
  StubBench bench("stub");
  bench.target.on_fw = [](tlm_generic_payload& t, tlm_phase&, sc_time&) {
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    return tlm::TLM_COMPLETED;
  };
  bench.initiator.body = [&](StubInitiator& self) { self.send(unmanaged, tlm::BEGIN_REQ); };
  context.start();
  bench.checker.check_finished();
  CHECK(bench.checker.violations() ==
        std::vector<std::string>{
            "stub.checker: nb_transport_fw of a transaction without a memory manager (IEEE "
            "1666-2011 14.5: one passed through nb_transport must have one) [read at 0x2000, 64 "
            "bytes; phases: nb_transport_fw @0 s]"});
  CHECK(bench.checker.counts().completed == 1);
}

TEST_CASE("the checker reports a request that crosses the target's burst boundary") {
  KeepPayloads mm;
  tlm_generic_payload crossing(&mm);
  unsigned char data[64] = {};
  read_request(crossing, 0x30, data);  // 0x30 + 64 bytes runs into the next 64-byte burst
  crossing.acquire();
  eg::hw::SimContext context;
  StubBench bench("stub");
  bench.target.on_fw = [](tlm_generic_payload& t, tlm_phase&, sc_time&) {
    t.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
  };
  bench.initiator.body = [&](StubInitiator& self) { self.send(crossing, tlm::BEGIN_REQ); };
  context.start();
  bench.checker.check_finished();
  CHECK(bench.checker.violations() ==
        std::vector<std::string>{
            "stub.checker: request of 64 bytes at offset 48 of a 64-byte burst: it does not fit "
            "one burst [read at 0x30, 64 bytes; phases: BEGIN_REQ fw @0 s]"});
}

TEST_CASE("the LPDDR4 channel keeps a delayed request's time order when END_REQ comes late") {
  // An initiator fills the channel's queue, then sends one more BEGIN_REQ annotated 1 us ahead. A
  // queue slot frees long before that, but the request's END_REQ may not come before the request
  // itself: the checker would report time going backwards.
  const auto config = lpddr4();
  const uint64_t depth = config.request_queue_depth;
  KeepPayloads mm;
  std::deque<tlm_generic_payload> payloads;  // payloads cannot move: a deque keeps them in place
  unsigned char data[64] = {};
  for (uint64_t i = 0; i <= depth; ++i) {
    payloads.emplace_back(&mm);
    read_request(payloads.back(), i * 64, data);
    payloads.back().acquire();
  }
  eg::hw::SimContext context;
  StubInitiator initiator("initiator");
  TlmProtocolChecker checker("checker", {config.burst_bytes()});
  eg::hw::Lpddr4Channel dram("dram", config);
  initiator.socket.bind(checker.target_socket);
  checker.initiator_socket.bind(dram.socket);
  std::vector<tlm_sync_enum> answers;
  sc_time end_req_at;
  initiator.on_bw = [&](tlm_generic_payload& t, tlm_phase& phase, sc_time& delay) {
    if (phase == tlm::END_REQ) {
      if (&t == &payloads.back()) end_req_at = sc_core::sc_time_stamp() + delay;
      return tlm::TLM_ACCEPTED;
    }
    return tlm::TLM_COMPLETED;  // BEGIN_RESP: done
  };
  initiator.body = [&](StubInitiator& self) {
    for (uint64_t i = 0; i < depth; ++i) answers.push_back(self.send(payloads[i], tlm::BEGIN_REQ));
    answers.push_back(self.send(payloads.back(), tlm::BEGIN_REQ, sc_time(1, sc_core::SC_US)));
  };
  context.start();
  checker.check_finished();
  INFO(checker.first_violation());
  CHECK(checker.violation_count() == 0);
  REQUIRE(answers.size() == depth + 1);
  CHECK(answers.front() == tlm::TLM_UPDATED);
  CHECK(answers.back() == tlm::TLM_ACCEPTED);  // the queue was full: END_REQ withheld
  CHECK(end_req_at == sc_time(1, sc_core::SC_US));
  CHECK(checker.counts().completed == depth + 1);
  CHECK(dram.stats().total.read_bursts == depth + 1);
}

TEST_CASE("the LPDDR4 channel waits for each END_RESP before its next BEGIN_RESP") {
  // The DMA engine ends every response at once (TLM_COMPLETED); this initiator takes 10 ns over
  // each END_RESP, so the channel's response exclusion is exercised too.
  const auto config = lpddr4();
  const uint64_t count = 8;
  KeepPayloads mm;
  std::deque<tlm_generic_payload> payloads;
  unsigned char data[64] = {};
  for (uint64_t i = 0; i < count; ++i) {
    payloads.emplace_back(&mm);
    read_request(payloads.back(), i * 4096, data);  // different rows and banks
    payloads.back().acquire();
  }
  eg::hw::SimContext context;
  StubInitiator initiator("initiator");
  TlmProtocolChecker checker("checker", {config.burst_bytes()});
  eg::hw::Lpddr4Channel dram("dram", config);
  initiator.socket.bind(checker.target_socket);
  checker.initiator_socket.bind(dram.socket);
  std::deque<tlm_generic_payload*> responses;
  sc_core::sc_event response;
  initiator.on_bw = [&](tlm_generic_payload& t, tlm_phase& phase, sc_time&) {
    if (phase == tlm::BEGIN_RESP) {
      responses.push_back(&t);
      response.notify(SC_ZERO_TIME);
    }
    return tlm::TLM_ACCEPTED;
  };
  initiator.body = [&](StubInitiator& self) {
    for (tlm_generic_payload& t : payloads) self.send(t, tlm::BEGIN_REQ);
    for (uint64_t done = 0; done < count; ++done) {
      while (responses.empty()) sc_core::wait(response);
      tlm_generic_payload* t = responses.front();
      responses.pop_front();
      sc_core::wait(10, SC_NS);
      self.send(*t, tlm::END_RESP);
    }
  };
  context.start();
  checker.check_finished();
  INFO(checker.first_violation());
  CHECK(checker.violation_count() == 0);
  CHECK(checker.counts().begin_resp == count);
  CHECK(checker.counts().end_resp == count);
  CHECK(checker.counts().completed == count);
  CHECK(dram.stats().total.read_bursts == count);
}

namespace {

// The LT pair: the array's TlmMemoryPort (b_transport) -> checker -> IdealMemory.
struct CheckedIdealMemory : sc_core::sc_module {
  eg::hw::array::TlmMemoryPort port;
  TlmProtocolChecker checker;
  eg::hw::array::IdealMemory memory;
  std::vector<MemoryRequest> requests;
  sc_time done;

  SC_HAS_PROCESS(CheckedIdealMemory);
  CheckedIdealMemory(sc_core::sc_module_name name, const eg::arch::OffchipConfig& config)
      : sc_module(name),
        port("port"),
        checker("checker"),
        memory("memory", config, sc_time(1, SC_NS)) {
    port.socket.bind(checker.target_socket);
    checker.initiator_socket.bind(memory.socket);
    SC_THREAD(run);
  }
  void run() {
    for (const MemoryRequest& r : requests) port.transfer(r);
    done = sc_core::sc_time_stamp();
  }
};

}  // namespace

TEST_CASE("the checker passes b_transport through unchanged on the ideal memory's LT path") {
  eg::arch::OffchipConfig config;
  config.model = eg::arch::OffchipModel::Ideal;
  config.latency_cycles = 100;
  config.bytes_per_cycle = 32;
  eg::hw::SimContext context;
  CheckedIdealMemory t("lt", config);
  t.requests = {{false, 0, 3200, DataClass::Weights}, {true, 1 << 20, 640, DataClass::Gradients}};
  context.start();
  t.checker.check_finished();
  INFO(t.checker.first_violation());
  CHECK(t.checker.violation_count() == 0);
  CHECK(t.checker.counts().b_transport == 2);
  // 100 + 100 cycles for the read, 20 + 100 for the write, one after the other at 1 ns a cycle.
  CHECK(t.done == sc_time(320, SC_NS));
}
