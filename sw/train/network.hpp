#pragma once
// The training graph: nodes in forward (topological) order, each a layer with its producers.
// Backward visits them in reverse and every layer ADDS into its producers' gradients, so a tensor
// that feeds two branches (a block input feeding conv1 and the shortcut) gets their sum.
#include <memory>
#include <string>
#include <vector>

#include "sw/train/layer.hpp"
#include "sw/train/weighted_layer.hpp"

namespace eg::train {

struct Node {
  std::string name;
  std::vector<int> inputs;  // node indices; node 0 is the network input
  std::unique_ptr<Layer> layer;
  Tensor out, grad;
};

class Network {
 public:
  Network();  // creates the input node
  int add(std::string name, std::unique_ptr<Layer> layer, std::vector<int> inputs);

  const Tensor& forward(const Tensor& x, bool training);  // returns the last node's output
  void backward(const Tensor& dlast, const BackwardContext& ctx);

  std::vector<Node>& nodes() { return nodes_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<Param*> params();
  std::vector<Tensor*> buffers();
  std::vector<WeightedLayer*> weighted_layers();

  // Fine-tuning: only the nodes marked trainable (by node index; node 0, the input, never) update
  // their parameters. Backward then runs only where a gradient is needed: in a trainable node or
  // one with a trainable node upstream of it; the others are frozen and run forward only. Empty
  // (the default): every node trains.
  void set_trainable(std::vector<char> trainable);
  bool is_frozen(size_t node) const { return !backward_.empty() && !backward_[node]; }
  bool is_trainable(size_t node) const { return trainable_.empty() || trainable_[node]; }
  // The parameters of the trainable nodes (all of them when every node trains).
  std::vector<Param*> trainable_params();

 private:
  std::vector<Node> nodes_;
  std::vector<char> trainable_, backward_;
};

}  // namespace eg::train
