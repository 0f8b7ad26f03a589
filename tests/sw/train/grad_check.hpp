#pragma once
// Finite-difference gradient checking for single layers: loss = Σ out ⊙ R with a fixed random R,
// so dL/d(out) = R; the layer's analytic input/parameter gradients are compared with central
// differences of that loss.
#include <cmath>
#include <functional>
#include <vector>

#include "sw/train/layer.hpp"
#include "sw/train/random.hpp"

namespace eg::train::testing {

inline Tensor random_tensor(std::vector<int64_t> shape, uint64_t key, double scale = 1.0) {
  Tensor t(std::move(shape));
  CounterRng rng(key);
  for (int64_t i = 0; i < t.size(); ++i) t.data[i] = static_cast<float>(scale * rng.normal(i));
  return t;
}

inline double weighted_sum(const Tensor& a, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) s += double(a.data[i]) * r.data[i];
  return s;
}

struct GradError {
  double max_abs = 0.0;         // largest |analytic − numeric|
  double max_grad = 0.0;        // largest |numeric|, for scale
  double cosine = 0.0;          // between the analytic and numeric gradient vectors
  double agree_fraction = 0.0;  // elements within 1e-3 + 5% of each other
};

// Compares analytic gradient `g` of values `v` with central differences of `loss()`.
inline GradError compare(eg::train::FloatBuffer& v, const eg::train::FloatBuffer& g,
                         const std::function<double()>& loss, double eps, size_t stride = 1) {
  GradError e;
  double ab = 0.0, aa = 0.0, bb = 0.0;
  size_t agree = 0, count = 0;
  for (size_t i = 0; i < v.size(); i += stride) {
    const float keep = v[i];
    v[i] = keep + static_cast<float>(eps);
    const double lp = loss();
    v[i] = keep - static_cast<float>(eps);
    const double lm = loss();
    v[i] = keep;
    const double num = (lp - lm) / (2.0 * eps);
    e.max_abs = std::max(e.max_abs, std::fabs(num - g[i]));
    e.max_grad = std::max(e.max_grad, std::fabs(num));
    ab += num * g[i];
    aa += num * num;
    bb += double(g[i]) * g[i];
    agree += std::fabs(num - g[i]) <= 1e-3 + 0.05 * std::fabs(num) ? 1 : 0;
    ++count;
  }
  e.cosine = (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
  e.agree_fraction = count ? double(agree) / double(count) : 0.0;
  return e;
}

// Checks input and parameter gradients of `layer` on `inputs`.
inline std::vector<GradError> check_layer(Layer& layer, std::vector<Tensor> inputs,
                                          double eps = 1e-2) {
  std::vector<const Tensor*> in;
  for (auto& t : inputs) in.push_back(&t);
  Tensor out;
  layer.forward(in, out, true);
  const Tensor r = random_tensor(out.shape, 991);
  auto loss = [&] {
    Tensor o;
    layer.forward(in, o, true);
    return weighted_sum(o, r);
  };
  layer.forward(in, out, true);
  std::vector<Tensor> din(inputs.size());
  std::vector<Tensor*> dptr;
  for (size_t i = 0; i < inputs.size(); ++i) {
    din[i].reset(inputs[i].shape);
    dptr.push_back(&din[i]);
  }
  Tensor dout = r;
  BackwardContext ctx;
  layer.backward(in, out, dout, dptr, ctx);
  std::vector<GradError> errors;
  for (size_t i = 0; i < inputs.size(); ++i)
    errors.push_back(compare(inputs[i].data, din[i].data, loss, eps));
  for (Param* p : layer.params()) {
    const eg::train::FloatBuffer g = p->grad.data;
    errors.push_back(compare(p->value.data, g, loss, eps));
  }
  return errors;
}

}  // namespace eg::train::testing
