#include "sw/train/network.hpp"

#include <stdexcept>

namespace eg::train {
namespace {
// A node whose input holds no sample (a gated SLU branch that no sample of the mini-batch uses).
bool has_empty_input(const std::vector<Node>& nodes, const Node& node) {
  for (int j : node.inputs)
    if (!nodes[j].out.shape.empty() && nodes[j].out.shape[0] == 0) return true;
  return false;
}
}  // namespace

Network::Network() {
  nodes_.push_back(Node{"input", {}, nullptr, {}, {}});
}

int Network::add(std::string name, std::unique_ptr<Layer> layer, std::vector<int> inputs) {
  for (int i : inputs)
    if (i < 0 || i >= static_cast<int>(nodes_.size()))
      throw std::logic_error("network: input of '" + name + "' is not an earlier node");
  nodes_.push_back(Node{std::move(name), std::move(inputs), std::move(layer), {}, {}});
  return static_cast<int>(nodes_.size()) - 1;
}

const Tensor& Network::forward(const Tensor& x, bool training) {
  nodes_[0].out = x;
  std::vector<const Tensor*> in;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    Node& node = nodes_[i];
    in.clear();
    if (!node.layer->accepts_empty_batch() && has_empty_input(nodes_, node)) {
      node.out.reset({0});
      continue;
    }
    for (int j : node.inputs) in.push_back(&nodes_[j].out);
    node.layer->forward(in, node.out, training);
  }
  return nodes_.back().out;
}

void Network::backward(const Tensor& dlast, const BackwardContext& ctx) {
  if (dlast.shape != nodes_.back().out.shape)
    throw std::logic_error("network: output gradient shape differs from the output");
  for (size_t i = 1; i < nodes_.size(); ++i)
    nodes_[i].grad.ensure(nodes_[i].out.shape, nodes_[i].out.layout);
  if (nodes_.back().out.layout != Layout::Nchw)
    throw std::logic_error("network: the output must be NCHW");
  nodes_.back().grad.data = dlast.data;
  // Which gradients hold a value yet: a node's first consumer (in backward order) assigns its
  // gradient, later ones (the two branches a residual block's input feeds) add to it.
  std::vector<char> written(nodes_.size(), 0);
  written.back() = 1;
  std::vector<const Tensor*> in;
  std::vector<Tensor*> din;
  for (size_t i = nodes_.size() - 1; i >= 1; --i) {
    Node& node = nodes_[i];
    if (is_frozen(i)) continue;  // no trainable node at or upstream of it: no gradient needed
    if (!written[i]) node.grad.zero();  // nothing consumed this node's output
    if (!node.layer->accepts_empty_batch() && has_empty_input(nodes_, node)) {
      if (ctx.param_grads)
        for (Param* p : node.layer->params()) p->grad.zero();
      continue;
    }
    if (node.inputs.size() > ctx.assign_din.size())
      throw std::logic_error("network: layer '" + node.name + "' has too many inputs");
    in.clear();
    din.clear();
    BackwardContext layer_ctx = ctx;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const int j = node.inputs[k];
      in.push_back(&nodes_[j].out);
      din.push_back(j == 0 || is_frozen(size_t(j)) ? nullptr : &nodes_[j].grad);
      layer_ctx.assign_din[k] = j != 0 && !written[j];
    }
    if (!is_trainable(i)) layer_ctx.param_grads = false;
    node.layer->backward(in, node.out, node.grad, din, layer_ctx);
    for (int j : node.inputs) written[j] = 1;
  }
}

std::vector<Param*> Network::params() {
  std::vector<Param*> all;
  for (Node& n : nodes_)
    if (n.layer)
      for (Param* p : n.layer->params()) all.push_back(p);
  return all;
}

void Network::set_trainable(std::vector<char> trainable) {
  if (trainable.size() != nodes_.size())
    throw std::logic_error("network: one trainable flag per node expected");
  trainable_ = std::move(trainable);
  trainable_[0] = 0;
  // A node's backward runs when it trains or passes a gradient on to one that does.
  backward_.assign(nodes_.size(), 0);
  for (size_t i = 1; i < nodes_.size(); ++i) {
    backward_[i] = trainable_[i];
    for (int j : nodes_[i].inputs) backward_[i] = backward_[i] || backward_[j];
  }
}

std::vector<Param*> Network::trainable_params() {
  std::vector<Param*> all;
  for (size_t i = 1; i < nodes_.size(); ++i)
    if (is_trainable(i))
      for (Param* p : nodes_[i].layer->params()) all.push_back(p);
  return all;
}

std::vector<Tensor*> Network::buffers() {
  std::vector<Tensor*> all;
  for (Node& n : nodes_)
    if (n.layer)
      for (Tensor* t : n.layer->buffers()) all.push_back(t);
  return all;
}

std::vector<WeightedLayer*> Network::weighted_layers() {
  std::vector<WeightedLayer*> all;
  for (Node& n : nodes_)
    if (auto* w = dynamic_cast<WeightedLayer*>(n.layer.get())) all.push_back(w);
  return all;
}

}  // namespace eg::train
