#include "sw/train/slu.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "sw/train/layout.hpp"
#include "sw/train/network.hpp"

namespace eg::train {

void step_slu_control(SluControl& control, double measured_skip) {
  if (control.target_skip < 0) return;
  const double e = control.target_skip - measured_skip;
  control.integral =
      std::clamp(control.integral + kSluAlphaIntegralGain * e, -kSluAlphaMax, kSluAlphaMax);
  control.alpha =
      std::clamp(control.integral + kSluAlphaProportionalGain * e, -kSluAlphaMax, kSluAlphaMax);
}

SluGate::SluGate(std::shared_ptr<SluState> state) : state_(std::move(state)) {
  bias_.name = state_->block + ".gate.bias";
  bias_.value.reset({1}, kSluGateBiasInit);
  bias_.grad.reset({1});
  bias_.momentum.reset({1});
  bias_.weight_decay = false;
}

void SluGate::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& z = *in.at(0);
  const int64_t n = z.dim(0);
  if (z.size() != n) throw std::logic_error("slu gate: expects one unit per sample");
  out.ensure({n, 1});
  SluState& s = *state_;
  if (s.fixed_mask && static_cast<int64_t>(s.fixed_mask->size()) != n)
    throw std::logic_error("slu gate: the fixed mask does not match the batch");
  s.prob.assign(static_cast<size_t>(n), 0.0f);
  s.active.assign(static_cast<size_t>(n), 0);
  s.active_at.clear();
  for (int64_t i = 0; i < n; ++i) {
    const double p = 1.0 / (1.0 + std::exp(-(double(z.data[i]) + bias_.value.data[0])));
    out.data[i] = s.prob[i] = static_cast<float>(p);
    s.active[i] = s.fixed_mask ? (*s.fixed_mask)[i] : (p >= 0.5 ? 1 : 0);
    if (s.active[i]) s.active_at.push_back(i);
  }
}

void SluGate::backward(const std::vector<const Tensor*>&, const Tensor& out, Tensor& dout,
                       const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  const int64_t n = out.dim(0);
  double db = 0.0;
  std::vector<float> dz(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double p = out.data[i];
    dz[i] = static_cast<float>(dout.data[i] * std::max(p * (1.0 - p), kSluGateSlopeFloor));
    db += dz[i];
  }
  if (ctx.param_grads) bias_.grad.data[0] = static_cast<float>(db);
  if (din[0]) store_gradient(dz.data(), din[0]->ptr(), n, adds_to_din(ctx, 0));
}

namespace {

// Per-sample stride of a tensor whose outermost dimension is the sample (NCHW and NChw16c).
int64_t sample_stride(const Tensor& t) {
  return t.dim(0) == 0 ? 0 : t.size() / t.dim(0);
}

}  // namespace

void SluSelect::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  const SluState& s = *state_;
  const int64_t na = static_cast<int64_t>(s.active_at.size()), stride = sample_stride(x);
  std::vector<int64_t> shape = x.shape;
  shape[0] = na;
  out.ensure(shape, x.layout);
  for (int64_t j = 0; j < na; ++j)
    std::copy(x.ptr() + s.active_at[j] * stride, x.ptr() + (s.active_at[j] + 1) * stride,
              out.ptr() + j * stride);
}

void SluSelect::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                         const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  if (din.size() > 1 && din[1] && !adds_to_din(ctx, 1)) din[1]->zero();  // nothing flows to p
  if (!din[0]) return;
  const SluState& s = *state_;
  const int64_t stride = sample_stride(*in.at(0));
  if (!adds_to_din(ctx, 0)) din[0]->zero();
  float* dx = din[0]->ptr();
  for (size_t j = 0; j < s.active_at.size(); ++j) {
    const float* g = dout.ptr() + int64_t(j) * stride;
    float* d = dx + s.active_at[j] * stride;
    for (int64_t k = 0; k < stride; ++k) d[k] += g[k];
  }
}

void SluMerge::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor &f = *in.at(0), &x = *in.at(1);
  const SluState& s = *state_;
  out.ensure(x.shape, x.layout);
  std::copy(x.data.begin(), x.data.end(), out.data.begin());
  if (s.active_at.empty()) return;
  if (f.layout != x.layout || f.dim(0) != int64_t(s.active_at.size()))
    throw std::logic_error("slu merge: branch output does not match the active samples");
  const int64_t stride = sample_stride(x);
  if (sample_stride(f) != stride) throw std::logic_error("slu merge: branch and shortcut differ");
  for (size_t j = 0; j < s.active_at.size(); ++j) {
    const float* a = f.ptr() + int64_t(j) * stride;
    float* o = out.ptr() + s.active_at[j] * stride;
    for (int64_t k = 0; k < stride; ++k) o[k] += a[k];
  }
}

void SluMerge::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                        const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  const SluState& s = *state_;
  const Tensor& f = *in.at(0);
  const int64_t n = dout.dim(0), stride = sample_stride(dout);
  const int64_t na = static_cast<int64_t>(s.active_at.size());
  // Shortcut: every sample's gradient passes unchanged.
  if (din[1]) store_gradient(dout.ptr(), din[1]->ptr(), dout.size(), adds_to_din(ctx, 1));
  // Branch: the active samples' rows.
  if (din[0] && na > 0) {
    const bool add = adds_to_din(ctx, 0);
    for (int64_t j = 0; j < na; ++j) {
      const float* g = dout.ptr() + s.active_at[j] * stride;
      float* d = din[0]->ptr() + j * stride;
      for (int64_t k = 0; k < stride; ++k) d[k] = add ? d[k] + g[k] : g[k];
    }
  }
  if (!din[2]) return;
  // Gate (straight-through): dL/dp_i := dL/dm_i = <dL/dy_i, F_i> + α·w_b/N. A skipped sample's
  // F_i was never computed (that is the saving), so its task term is 0; the FLOPs term applies to
  // every sample. Sums in NCHW, so the padding lanes of a channel-blocked layout never count.
  std::vector<float> dp(static_cast<size_t>(n), 0.0f);
  if (na > 0) {
    Tensor f_plain, g_plain;
    const Tensor& fp = as_nchw(f, f_plain);
    const Tensor& gp = as_nchw(dout, g_plain);
    const int64_t plain = fp.size() / na;
    for (int64_t j = 0; j < na; ++j) {
      const float* a = fp.ptr() + j * plain;
      const float* g = gp.ptr() + s.active_at[j] * plain;
      double dot = 0.0;
      for (int64_t k = 0; k < plain; ++k) dot += double(a[k]) * g[k];
      dp[s.active_at[j]] = static_cast<float>(dot);
    }
  }
  const double penalty = s.control ? s.control->alpha * s.flops_weight / double(n) : 0.0;
  for (float& v : dp) v = static_cast<float>(v + penalty);
  store_gradient(dp.data(), din[2]->ptr(), n, adds_to_din(ctx, 2));
}

std::vector<SluState*> slu_blocks(Network& net) {
  std::vector<SluState*> out;
  for (Node& node : net.nodes())
    if (auto* g = dynamic_cast<SluGate*>(node.layer.get())) out.push_back(g->state().get());
  return out;
}

SluSkip slu_skip(Network& net) {
  SluSkip r;
  int64_t skipped = 0, total = 0;
  for (const SluState* s : slu_blocks(net)) {
    const int64_t n = static_cast<int64_t>(s->active.size());
    const int64_t off = n - static_cast<int64_t>(s->active_at.size());
    r.per_block.push_back(n ? double(off) / double(n) : 0.0);
    skipped += off;
    total += n;
  }
  r.overall = total ? double(skipped) / double(total) : 0.0;
  return r;
}

std::vector<Param*> slu_updated_params(Network& net, const std::vector<Param*>& candidates) {
  std::set<std::string> unused;
  for (const SluState* s : slu_blocks(net))
    if (s->active_at.empty()) unused.insert(s->branch_layers.begin(), s->branch_layers.end());
  std::set<const Param*> skip;
  for (Node& n : net.nodes())
    if (n.layer && unused.count(n.name))
      for (Param* p : n.layer->params()) skip.insert(p);
  std::vector<Param*> kept;
  for (Param* p : candidates)
    if (!skip.count(p)) kept.push_back(p);
  return kept;
}

}  // namespace eg::train
