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

 private:
  std::vector<Node> nodes_;
};

}  // namespace eg::train
