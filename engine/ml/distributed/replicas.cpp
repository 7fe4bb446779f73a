#include "ml/distributed/replicas.h"

#include <torch/torch.h>

#include "ml/distributed/distributed_sampler.h"

namespace mls::dist {

namespace {

class C10dReplicas final : public ReplicaGroup {
 public:
  C10dReplicas(std::unique_ptr<ProcessGroup> group, const GradientSyncOptions& options)
      : group_(std::move(group)), options_(options) {}

  int rank() const override { return group_->rank(); }
  int worldSize() const override { return group_->worldSize(); }

  void attach(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& buffers) override {
    sync_.reset();  // the old hooks go before the new ones are added
    sync_ = std::make_unique<GradientSync>(*group_, params, buffers, options_);
  }

  void beforeForward() override {
    if (sync_) sync_->beforeForward();
  }

  void backward(const at::Tensor& loss, bool sync) override {
    if (sync_) sync_->backward(loss, sync);
    else loss.backward();
  }

  bool anyRank(bool flag, const std::string& what) override {
    std::vector<at::Tensor> value{torch::full({1}, flag ? 1.0f : 0.0f)};
    group_->allreduceMax(value, what);
    return value[0].item<float>() > 0.0f;
  }

  at::Tensor gatherInDatasetOrder(const at::Tensor& local_rows, const std::vector<int64_t>& local_indices,
                                  int64_t dataset_size, const std::string& what) override {
    try {
      return dist::gatherInDatasetOrder(*group_, local_rows, local_indices, dataset_size, what);
    } catch (const std::invalid_argument& e) {
      throw DistributedError(e.what());
    }
  }

  void barrier(const std::string& what) override { group_->barrier(what); }

  std::vector<double> sumOverRanks(const std::vector<double>& values, const std::string& what) override {
    std::vector<at::Tensor> tensor{torch::tensor(values, torch::kDouble)};
    group_->allreduceSum(tensor, what);
    const auto* data = tensor[0].data_ptr<double>();
    return std::vector<double>(data, data + values.size());
  }

 private:
  std::unique_ptr<ProcessGroup> group_;
  GradientSyncOptions options_;
  std::unique_ptr<GradientSync> sync_;
};

}  // namespace

std::shared_ptr<ReplicaGroup> connectReplicas(const LaunchConfig& config, const ProcessGroupOptions& options) {
  return connectReplicas(config, options, GradientSyncOptions{});
}

std::shared_ptr<ReplicaGroup> connectReplicas(const LaunchConfig& config, const ProcessGroupOptions& options,
                                              const GradientSyncOptions& sync_options) {
  return std::make_shared<C10dReplicas>(ProcessGroup::connect(config, options), sync_options);
}

}  // namespace mls::dist
