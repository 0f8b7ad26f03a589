#include "sw/train/onednn_conv.hpp"

#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>

#include "sw/train/conv2d.hpp"
#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

// A tensor in the kernel's layout, plus the reorder from or to our plain layout when the two
// differ. When they match the kernel reads and writes our buffer directly.
class Staged {
 public:
  Staged() = default;
  Staged(const memory::desc& plain, const memory::desc& kernel, bool to_kernel)
      : plain_(plain, engine(), DNNL_MEMORY_NONE), same_(plain == kernel) {
    if (same_) return;
    kernel_ = memory(kernel, engine());
    reorder_ = to_kernel ? dnnl::reorder(plain_, kernel_) : dnnl::reorder(kernel_, plain_);
  }
  // Our data into the kernel's layout; returns the memory the kernel should read.
  memory& in(const float* p) {
    plain_.set_data_handle(const_cast<float*>(p));
    if (same_) return plain_;
    reorder_.execute(stream(), plain_, kernel_);
    return kernel_;
  }
  // What the last in(p) returned, without reordering again.
  memory& again(const float* p) {
    plain_.set_data_handle(const_cast<float*>(p));
    return same_ ? plain_ : kernel_;
  }
  // The memory the kernel should write for our buffer p; call out() after the kernel.
  memory& target(float* p) {
    plain_.set_data_handle(p);
    return same_ ? plain_ : kernel_;
  }
  void out() {
    if (!same_) reorder_.execute(stream(), kernel_, plain_);
  }

 private:
  memory plain_, kernel_;
  dnnl::reorder reorder_;
  bool same_ = true;
};

}  // namespace

struct OnednnConv::Plan {
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  Staged x_fwd, w_fwd, y_fwd;
  Staged dy_data, feedback_data, dx_data;
  Staged dy_weights, dw_weights;
  bool dy_shared = false;  // both backward kernels read dy in the same layout
  bool x_shared = false;   // the weight-gradient kernel reads x in the forward's layout
  Staged x_weights;        // otherwise x is staged again for it
  std::array<int64_t, 4> out_dims{};
  Layout x_layout = Layout::Nchw, y_layout = Layout::Nchw;
};

OnednnConv::OnednnConv(const ConvGeometry& g)
    : geometry_{g.out_channels, g.kernel, g.stride, g.pad, g.in_channels} {
  thread_count();  // applies the trainer's default (one thread) to OpenMP before any kernel runs
}

OnednnConv::~OnednnConv() = default;

OnednnConv::Plan& OnednnConv::plan_for(const Tensor& x) {
  if (x.shape.size() != 4 || x.dim(1) != geometry_[4])
    throw std::logic_error("conv: input shape does not match the layer");
  const std::array<int64_t, 5> key{x.dim(0), x.dim(1), x.dim(2), x.dim(3),
                                   static_cast<int64_t>(x.layout)};
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;

  const auto [m, k, st, pad, c] = geometry_;
  const int64_t n = key[0], h = key[2], w = key[3];
  const int64_t e = (h + 2 * pad - k) / st + 1, f = (w + 2 * pad - k) / st + 1;
  const memory::dims x_dims{n, c, h, w}, w_dims{m, c, k, k}, y_dims{n, m, e, f};
  const memory::dims strides{st, st}, padding{pad, pad};
  const memory::desc x_any(x_dims, dt::f32, tag::any), w_any(w_dims, dt::f32, tag::any),
      y_any(y_dims, dt::f32, tag::any);
  const Layout y_layout = m % kChannelBlock == 0 ? Layout::NChw16c : Layout::Nchw;
  auto tag_of = [](Layout l) { return l == Layout::NChw16c ? tag::nChw16c : tag::nchw; };
  // "plain" below means our tensors' layout, whichever it is.
  const memory::desc x_plain(x_dims, dt::f32, tag_of(x.layout)),
      w_plain(w_dims, dt::f32, tag::oihw), y_plain(y_dims, dt::f32, tag_of(y_layout));

  auto p = std::make_unique<Plan>();
  const dnnl::convolution_forward::primitive_desc fwd_pd(
      {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x_any, w_any, y_any,
       strides, padding, padding},
      engine());
  const dnnl::convolution_backward_data::primitive_desc data_pd(
      {dnnl::algorithm::convolution_direct, x_any, w_any, y_any, strides, padding, padding},
      engine(), fwd_pd);
  const dnnl::convolution_backward_weights::primitive_desc weights_pd(
      {dnnl::algorithm::convolution_direct, x_any, w_any, y_any, strides, padding, padding},
      engine(), fwd_pd);
  p->fwd = dnnl::convolution_forward(fwd_pd);
  p->bwd_data = dnnl::convolution_backward_data(data_pd);
  p->bwd_weights = dnnl::convolution_backward_weights(weights_pd);
  p->x_fwd = Staged(x_plain, fwd_pd.src_desc(), true);
  p->w_fwd = Staged(w_plain, fwd_pd.weights_desc(), true);
  p->y_fwd = Staged(y_plain, fwd_pd.dst_desc(), false);
  p->dy_data = Staged(y_plain, data_pd.diff_dst_desc(), true);
  p->feedback_data = Staged(w_plain, data_pd.weights_desc(), true);
  p->dx_data = Staged(x_plain, data_pd.diff_src_desc(), false);
  p->dy_weights = Staged(y_plain, weights_pd.diff_dst_desc(), true);
  p->dw_weights = Staged(w_plain, weights_pd.diff_weights_desc(), false);
  p->dy_shared = data_pd.diff_dst_desc() == weights_pd.diff_dst_desc();
  // Each plan has its own staging buffers, so the forward's staged x is still there when the
  // backward of the same plan runs.
  p->x_shared = fwd_pd.src_desc() == weights_pd.src_desc();
  if (!p->x_shared) p->x_weights = Staged(x_plain, weights_pd.src_desc(), true);
  p->out_dims = {n, m, e, f};
  p->x_layout = x.layout;
  p->y_layout = y_layout;
  return *plans_.emplace(key, std::move(p)).first->second;
}

namespace {

int64_t bucket_of(int64_t n) {
  int64_t b = 1;
  while (b < n) b *= 2;
  return b;
}

// `src` (n samples) as the first samples of `dst` (`batch` samples, the rest zero).
void pad_batch(const Tensor& src, int64_t batch, Tensor& dst) {
  std::vector<int64_t> shape = src.shape;
  const int64_t per = src.dim(0) ? src.size() / src.dim(0) : 0;
  shape[0] = batch;
  dst.ensure(shape, src.layout);
  std::copy(src.data.begin(), src.data.end(), dst.data.begin());
  std::fill(dst.data.begin() + src.size(), dst.data.begin() + batch * per, 0.0f);
}

// The first n samples of `src` into `dst`.
void first_samples(const Tensor& src, int64_t n, Tensor& dst) {
  std::vector<int64_t> shape = src.shape;
  const int64_t per = src.size() / src.dim(0);
  shape[0] = n;
  dst.ensure(shape, src.layout);
  std::copy(src.data.begin(), src.data.begin() + n * per, dst.data.begin());
}

}  // namespace

void OnednnConv::forward(const Tensor& x, const Tensor& w, Tensor& y, bool keep_input) {
  last_n_ = x.dim(0);
  if (buckets_ && bucket_of(x.dim(0)) != x.dim(0)) {
    pad_batch(x, bucket_of(x.dim(0)), x_pad_);
    forward_plain(x_pad_, w, y_pad_, keep_input);
    first_samples(y_pad_, x.dim(0), y);
    return;
  }
  forward_plain(x, w, y, keep_input);
}

void OnednnConv::backward(const Tensor& x, const Tensor& dy, const Tensor& feedback, Tensor* dw,
                          Tensor* dx) {
  if (buckets_ && x.dim(0) == last_n_ && bucket_of(x.dim(0)) != x.dim(0)) {
    pad_batch(dy, bucket_of(x.dim(0)), dy_pad_);
    if (dx) dx_pad_.ensure(x_pad_.shape, x_pad_.layout);
    backward_plain(x_pad_, dy_pad_, feedback, dw, dx ? &dx_pad_ : nullptr);
    if (dx) first_samples(dx_pad_, x.dim(0), *dx);
    return;
  }
  backward_plain(x, dy, feedback, dw, dx);
}

void OnednnConv::forward_plain(const Tensor& x, const Tensor& w, Tensor& y, bool keep_input) {
  Plan& p = plan_for(x);
  last_ = keep_input ? &p : nullptr;
  const auto& d = p.out_dims;
  y.ensure({d[0], d[1], d[2], d[3]}, p.y_layout);
  memory& src = p.x_fwd.in(x.ptr());
  memory& weights = p.w_fwd.in(w.ptr());
  memory& dst = p.y_fwd.target(y.ptr());
  p.fwd.execute(stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  p.y_fwd.out();
  stream().wait();
}

void OnednnConv::backward_plain(const Tensor& x, const Tensor& dy, const Tensor& feedback,
                                Tensor* dw, Tensor* dx) {
  if (!last_) throw std::logic_error("conv: backward without a training forward");
  Plan& p = *last_;
  if (x.layout != p.x_layout || dy.layout != p.y_layout || (dx && dx->layout != p.x_layout))
    throw std::logic_error("conv: backward tensors are not in the forward's layouts");
  if (dw) {
    memory& src = p.x_shared ? p.x_fwd.again(x.ptr()) : p.x_weights.in(x.ptr());
    memory& diff_dst = p.dy_weights.in(dy.ptr());
    memory& diff_weights = p.dw_weights.target(dw->ptr());
    p.bwd_weights.execute(stream(), {{DNNL_ARG_SRC, src},
                                     {DNNL_ARG_DIFF_DST, diff_dst},
                                     {DNNL_ARG_DIFF_WEIGHTS, diff_weights}});
    p.dw_weights.out();
  }
  if (dx) {
    memory& diff_dst = dw && p.dy_shared ? p.dy_weights.again(dy.ptr()) : p.dy_data.in(dy.ptr());
    memory& weights = p.feedback_data.in(feedback.ptr());
    memory& diff_src = p.dx_data.target(dx->ptr());
    p.bwd_data.execute(stream(), {{DNNL_ARG_DIFF_DST, diff_dst},
                                  {DNNL_ARG_WEIGHTS, weights},
                                  {DNNL_ARG_DIFF_SRC, diff_src}});
    p.dx_data.out();
  }
  stream().wait();
}

void OnednnConv::weight_gradient(const Tensor& x, const Tensor& dy, Tensor& dw) {
  // The last forward's plan is the padded batch's: its operands are padded the same way (an
  // N-sample tensor under that plan would be read past its end).
  if (buckets_ && bucket_of(x.dim(0)) != x.dim(0)) {
    pad_batch(x, bucket_of(x.dim(0)), wg_x_pad_);
    pad_batch(dy, bucket_of(x.dim(0)), wg_dy_pad_);
    weight_gradient_plain(wg_x_pad_, wg_dy_pad_, dw);
    return;
  }
  weight_gradient_plain(x, dy, dw);
}

void OnednnConv::weight_gradient_plain(const Tensor& x, const Tensor& dy, Tensor& dw) {
  if (!last_) throw std::logic_error("conv: backward without a training forward");
  Plan& p = *last_;
  if (x.layout != p.x_layout || dy.layout != p.y_layout)
    throw std::logic_error("conv: backward tensors are not in the forward's layouts");
  memory& src = p.x_shared ? p.x_fwd.in(x.ptr()) : p.x_weights.in(x.ptr());
  memory& diff_dst = p.dy_weights.in(dy.ptr());
  memory& diff_weights = p.dw_weights.target(dw.ptr());
  p.bwd_weights.execute(
      stream(),
      {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_weights}});
  p.dw_weights.out();
  stream().wait();
}

}  // namespace eg::train
