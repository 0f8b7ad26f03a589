#include "hw/timeline/timeline_recorder.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace eg::hw {

namespace {
constexpr int kProcessId = 1;  // one process, "accelerator"; tracks are its threads
// Track order in the viewer: the accelerator's spans, then the clusters, then the DMA tracks.
constexpr int kAcceleratorSort = 0, kClusterSort = 100, kDmaSort = 1000;
constexpr const char* kAcceleratorTrack = "accelerator";
constexpr const char* kBandwidthCounter = "DRAM bandwidth (GB/s)";
}  // namespace

TimelineRecorder::TimelineRecorder(double clock_mhz, uint64_t window_cycles)
    : clock_mhz_(clock_mhz), window_cycles_(window_cycles) {
  if (!(clock_mhz > 0)) throw Error("timeline: the clock must be > 0 MHz");
  if (window_cycles == 0) throw Error("--timeline-window-cycles: must be >= 1");
  track(kAcceleratorTrack, kAcceleratorSort);
}

void TimelineRecorder::attach(const sc_core::sc_time& clock_period) {
  period_ = clock_period;
}

uint64_t TimelineRecorder::now() const {
  const uint64_t p = period_.value();
  return p ? sc_core::sc_time_stamp().value() / p : 0;
}

size_t TimelineRecorder::track(const std::string& name, int sort_index) {
  const auto it = track_index_.find(name);
  if (it != track_index_.end()) return it->second;
  tracks_.emplace_back(name, sort_index);
  last_event_.push_back(0);
  return track_index_[name] = tracks_.size() - 1;
}

namespace {
void add_counts(TimelineRecorder::Counts& into, const TimelineRecorder::Counts& more) {
  for (const auto& [key, value] : more) {
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& c) { return c.first == key; });
    if (it == into.end())
      into.emplace_back(key, value);
    else
      it->second += value;
  }
}
}  // namespace

void TimelineRecorder::add(Event e, Merge merge) {
  e.epoch = epoch_;
  size_t& last = last_event_[e.track];
  if (merge != Merge::Never && last > 0) {
    Event& p = events_[last - 1];
    // A gap shorter than kShortClusterIntervalCycles between cluster intervals is bridged too.
    const uint64_t slack = merge == Merge::SameOrShort ? kShortClusterIntervalCycles - 1 : 0;
    const bool touch = p.epoch == e.epoch && e.begin <= p.end + slack && e.end >= p.begin;
    const uint64_t p_len = p.end - p.begin, e_len = e.end - e.begin;
    const bool short_one =
        merge == Merge::SameOrShort && std::min(p_len, e_len) < kShortClusterIntervalCycles;
    if (touch && (p.name == e.name || short_one)) {
      // One event covering both, named after the longer one; the counts add up.
      if (e_len > p_len) p.name = e.name;
      p.begin = std::min(p.begin, e.begin);
      p.end = std::max(p.end, e.end);
      add_counts(p.counts, e.counts);
      p.merged += e.merged;
      return;
    }
  }
  events_.push_back(std::move(e));
  last = events_.size();
}

void TimelineRecorder::begin_phase() {
  ++epoch_;
}

void TimelineRecorder::phase(size_t index, const std::string& layer, const std::string& phase,
                             uint64_t begin, uint64_t end, const Counts& counts) {
  if (!layers_.empty() && layers_.back().index == index && layers_.back().end == begin)
    layers_.back().end = end;
  else
    layers_.push_back({index, begin, end, layer});
  Event e;
  e.track = 0;
  e.name = phase;
  e.begin = begin;
  e.end = end;
  e.labels = {{"layer", layer}, {"phase", phase}};
  e.counts = counts;
  add(std::move(e), Merge::Never);
}

void TimelineRecorder::cluster(size_t cluster, const std::string& name, const char* what,
                               uint64_t begin, uint64_t end, const Counts& counts) {
  if (end <= begin) return;
  Event e;
  e.track = track(name, kClusterSort + static_cast<int>(cluster));
  e.name = what;
  e.begin = begin;
  e.end = end;
  e.counts = {{std::string(what) + " cycles", end - begin}};
  add_counts(e.counts, counts);
  add(std::move(e), Merge::SameOrShort);
}

void TimelineRecorder::dma(DataClass data_class, bool write, uint64_t begin, uint64_t end,
                           uint64_t dram_bytes, uint64_t requested_bytes) {
  const int c = static_cast<int>(data_class);
  Event e;
  e.track =
      track(std::string("accelerator.dma.") + to_string(data_class) + (write ? ".write" : ".read"),
            kDmaSort + 2 * c + (write ? 1 : 0));
  e.name = std::string(to_string(data_class)) + (write ? " write" : " read");
  e.begin = begin;
  e.end = end;
  e.counts = {{"dram_bytes", dram_bytes}, {"requested_bytes", requested_bytes}, {"transfers", 1}};
  add(std::move(e), Merge::Same);
}

void TimelineRecorder::dram_bus(bool write, const sc_core::sc_time& begin,
                                const sc_core::sc_time& end, uint64_t bytes) {
  const double p = static_cast<double>(period_.value());
  if (p <= 0 || bytes == 0) return;
  const double w = static_cast<double>(window_cycles_);
  const double b = static_cast<double>(begin.value()) / p / w;  // in windows
  const double e = std::max(b, static_cast<double>(end.value()) / p / w);
  std::vector<double>& bins = write ? write_bytes_ : read_bytes_;
  const size_t first = static_cast<size_t>(b), last = static_cast<size_t>(e);
  if (bins.size() <= last) bins.resize(last + 1, 0.0);
  if (first == last || e == b) {
    bins[first] += static_cast<double>(bytes);
    return;
  }
  const double per_window = static_cast<double>(bytes) / (e - b);
  for (size_t i = first; i <= last; ++i) {
    const double lo = std::max(b, static_cast<double>(i));
    const double hi = std::min(e, static_cast<double>(i + 1));
    if (hi > lo) bins[i] += per_window * (hi - lo);
  }
}

std::string TimelineRecorder::json(
    const std::vector<std::pair<std::string, std::string>>& other) const {
  using nlohmann::json;
  const auto us = [this](uint64_t cycles) { return static_cast<double>(cycles) / clock_mhz_; };
  std::vector<json> out;
  out.push_back({{"ph", "M"},
                 {"pid", kProcessId},
                 {"name", "process_name"},
                 {"args", {{"name", kAcceleratorTrack}}}});
  for (size_t t = 0; t < tracks_.size(); ++t) {
    const int tid = static_cast<int>(t) + 1;
    out.push_back({{"ph", "M"},
                   {"pid", kProcessId},
                   {"tid", tid},
                   {"name", "thread_name"},
                   {"args", {{"name", tracks_[t].first}}}});
    out.push_back({{"ph", "M"},
                   {"pid", kProcessId},
                   {"tid", tid},
                   {"name", "thread_sort_index"},
                   {"args", {{"sort_index", tracks_[t].second}}}});
  }
  // Spans, in track order, then by start; a parent (longer) before the children it starts with.
  struct Span {
    size_t track;
    uint64_t begin, end;
    json event;
  };
  std::vector<Span> spans;
  const auto span = [&](size_t track, const std::string& name, const char* category, uint64_t begin,
                        uint64_t end, json args) {
    args["begin_cycle"] = begin;
    args["end_cycle"] = end;
    args["cycles"] = end - begin;
    spans.push_back({track, begin, end,
                     json{{"ph", "X"},
                          {"pid", kProcessId},
                          {"tid", static_cast<int>(track) + 1},
                          {"cat", category},
                          {"name", name},
                          {"ts", us(begin)},
                          {"dur", us(end - begin)},
                          {"args", std::move(args)}}});
  };
  for (const LayerSpan& l : layers_)
    span(0, l.name, "layer", l.begin, l.end, json{{"layer", l.name}, {"layer_index", l.index}});
  for (const Event& e : events_) {
    json args = json::object();
    for (const auto& [k, v] : e.labels) args[k] = v;
    for (const auto& [k, v] : e.counts) args[k] = v;
    if (e.track != 0) args["merged_events"] = e.merged;
    const char* category = e.track == 0                          ? "phase"
                           : tracks_[e.track].second >= kDmaSort ? "dma"
                                                                 : "cluster";
    span(e.track, e.name, category, e.begin, e.end, std::move(args));
  }
  std::stable_sort(spans.begin(), spans.end(), [&](const Span& a, const Span& b) {
    if (a.track != b.track) return tracks_[a.track].second < tracks_[b.track].second;
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  for (Span& s : spans) out.push_back(std::move(s.event));
  // Bandwidth: a sample where the value changes (a counter holds until its next sample), and a
  // zero after the last window.
  const size_t windows = std::max(read_bytes_.size(), write_bytes_.size());
  // bytes per window -> GB/s: window seconds = window_cycles / (clock_mhz x 1e6).
  const double gbps = clock_mhz_ * 1e6 / static_cast<double>(window_cycles_) / 1e9;
  double last_read = -1, last_write = -1;
  for (size_t i = 0; i <= windows; ++i) {
    const double r = i < read_bytes_.size() ? read_bytes_[i] * gbps : 0.0;
    const double w = i < write_bytes_.size() ? write_bytes_[i] * gbps : 0.0;
    if (r == last_read && w == last_write) continue;
    last_read = r, last_write = w;
    out.push_back({{"ph", "C"},
                   {"pid", kProcessId},
                   {"name", kBandwidthCounter},
                   {"ts", us(static_cast<uint64_t>(i) * window_cycles_)},
                   {"args", {{"read", r}, {"write", w}}}});
  }
  json meta = json::object();
  for (const auto& [k, v] : other) meta[k] = v;
  meta["clock_mhz"] = clock_mhz_;
  meta["bandwidth_window_cycles"] = window_cycles_;
  meta["time_unit"] = "ts and dur: microseconds of simulated time; cycles in args";
  std::string text =
      "{\"displayTimeUnit\": \"ns\",\n\"otherData\": " + meta.dump() + ",\n\"traceEvents\": [\n";
  for (size_t i = 0; i < out.size(); ++i)
    text += out[i].dump() + (i + 1 < out.size() ? ",\n" : "\n");
  return text + "]}\n";
}

}  // namespace eg::hw
