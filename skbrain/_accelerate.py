"""Training through Hugging Face ``accelerate``: skorch's :class:`~skorch.hf.AccelerateMixin`
over skbrain's net.

An estimator given ``accelerator=accelerate.Accelerator(...)`` builds this net
instead of the plain one: ``accelerate`` places the module, the batches and
the optimizer on each process's device, wraps the module for data-parallel
training (gradients averaged over the processes that ``accelerate launch``
started) and runs its own mixed precision. skbrain's batch handling (uint8
to float on the device, augmentation, test-time views) is unchanged;
validation batches are sharded and gathered
while training; once fitted, every process holds the same weights and
predicts on its own, like a plain model.
"""

import torch
from skorch.classifier import NeuralNetClassifier
from skorch.hf import AccelerateMixin

from ._net import _SkbrainNet

__all__ = ["accelerated_net_class"]


class _AcceleratedSkbrainNet(AccelerateMixin, _SkbrainNet):
    """skbrain's net, trained through an ``accelerate.Accelerator``."""

    # accelerate scales float16 losses itself.
    scaler_ = None

    def _initialize_accelerator(self):
        # The loss has no parameters, and DistributedDataParallel refuses a module
        # without any: it is only moved to the device (with its class weights).
        criteria, self._criteria = self._criteria, []
        try:
            super()._initialize_accelerator()
        finally:
            self._criteria = criteria
        for name in criteria:
            criterion = getattr(self, name + "_")
            if isinstance(criterion, torch.nn.Module):
                setattr(self, name + "_", criterion.to(self.accelerator.device))
        return self

    def _initialize_callbacks(self):
        # skorch's PrintLog prints through any sink but ``print`` even when not verbose.
        if not self.verbose and self.callbacks__print_log__sink == "auto":
            self.callbacks__print_log__sink = print
        return super()._initialize_callbacks()

    def get_dataset(self, X, y=None):
        # accelerate shards a DataLoader by its batch sampler: skorch's one-row
        # dataset gives it the usual per-image sampler to shard.
        return NeuralNetClassifier.get_dataset(self, X, y)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        # Fitted, the net predicts like a plain one, in each process on its own
        # device: no collective operation waits for the other processes.
        self.predicts_alone_ = True
        self.device = str(self.accelerator.device)

    def get_iterator(self, dataset, training=False):
        if getattr(self, "predicts_alone_", False):
            return _SkbrainNet.get_iterator(self, dataset, training=training)
        return super().get_iterator(dataset, training=training)

    def evaluation_step(self, batch, training=False, view=None):
        output = _SkbrainNet.evaluation_step(self, batch, training=training, view=view)
        if getattr(self, "predicts_alone_", False):
            return output
        # Validation during training: each process scored its shard.
        return self.accelerator.gather_for_metrics(output)


def accelerated_net_class():
    """The skorch net class of estimators given an ``accelerator``.

    Returns
    -------
    type
        ``AccelerateMixin`` over skbrain's ``NeuralNetClassifier`` subclass.
    """
    return _AcceleratedSkbrainNet
