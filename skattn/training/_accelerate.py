"""Data-parallel training over the processes of ``accelerate launch``.

skorch's :class:`~skorch.hf.AccelerateMixin` wraps the network in
:class:`~torch.nn.parallel.DistributedDataParallel` (one process per GPU,
or CPU processes talking over gloo), which averages the gradients of every
step across the processes. :class:`DataParallelMixin` fits it to skattn's
nets: each process trains on its share of the batches, every process
evaluates every validation row (so early stopping decides alike), and the
network is wrapped only while it trains, so that the estimator predicts
with, saves and pickles the plain network.
"""

import math
import os

import torch
from skorch.hf import AccelerateMixin

from ._net import TabularNet
from ._pretrain import PretrainingNet
from ._semi import SemiSupervisedNet


def make_accelerator(device):
    """The ``accelerate.Accelerator`` of a data-parallel fit, on ``device``'s kind.

    The nets place tensors on ``accelerator.device`` themselves and handle
    mixed precision (``mixed_precision=True``) themselves, so the launcher's
    precision and gradient accumulation settings are overridden.
    """
    try:
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs, GradientAccumulationPlugin
    except ImportError as error:
        raise ImportError(
            "data_parallel=True trains through the accelerate package: "
            "pip install 'skattn[distributed]'"
        ) from error
    return Accelerator(
        cpu=torch.device(device).type == "cpu",
        device_placement=False,
        mixed_precision="no",
        gradient_accumulation_plugin=GradientAccumulationPlugin(num_steps=1),
        # Pretraining leaves the head unused and fine-tuning freezes parts of
        # the network: their gradients must not be waited for.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


def join_processes(device, seed):
    """Start (or join) the data-parallel group; ``(this process's device, the shared seed)``.

    Every process must draw the same batches and validation rows, so all
    take the main process's seed.

    Examples
    --------
    >>> join_processes("cpu", 7)  # one process: nothing to share
    ('cpu', 7)
    """
    accelerator = make_accelerator(device)  # first: it says what to install
    from accelerate.utils import broadcast_object_list

    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if accelerator.num_processes != launched:
        raise RuntimeError(
            f"{launched} processes were launched but the fit runs in "
            f"{accelerator.num_processes}: Accelerate's state was set up before it, "
            "for another device (e.g. PartialState() on a machine without GPUs). "
            "Create it after the fit, or as PartialState(cpu=True)."
        )
    device = accelerator.device
    device = "cpu" if device.type == "cpu" else str(device)  # not "cpu:0"
    return device, broadcast_object_list([seed])[0]


def print_once(*args, **kwargs):
    """``print`` on the main process only (skorch's epoch log); unlike a bound
    ``accelerator.print``, it pickles without the accelerator."""
    from accelerate import PartialState

    PartialState().print(*args, **kwargs)


class ShardedBatches:
    """Process ``index`` of ``count``'s share of an epoch: batch ``i`` goes to ``i % count``.

    Every process draws the same batches (their generators share a seed) and
    keeps its own. Each takes ``ceil(n_batches / count)`` steps, as
    DistributedDataParallel needs; one short of a batch repeats one, as
    :class:`~torch.utils.data.distributed.DistributedSampler` pads.

    Examples
    --------
    >>> [list(ShardedBatches(range(5), index=i, count=2)) for i in (0, 1)]
    [[0, 2, 4], [1, 3, 1]]
    >>> [list(ShardedBatches(range(1), index=i, count=3)) for i in (0, 1, 2)]
    [[0], [0], [0]]
    """

    def __init__(self, batches, *, index, count):
        self.batches = batches
        self.index = index
        self.count = count

    def __len__(self):
        return math.ceil(len(self.batches) / self.count)

    def __iter__(self):
        n_taken, spare = 0, None
        for i, batch in enumerate(self.batches):
            if i == self.index % len(self.batches):
                spare = batch
            if i % self.count == self.index:
                n_taken += 1
                yield batch
        for _ in range(len(self) - n_taken):
            yield spare


class DataParallelMixin(AccelerateMixin):
    """skorch's :class:`~skorch.hf.AccelerateMixin` for skattn's nets (see the module docstring).

    Pass ``accelerator=make_accelerator(device)`` and ``device`` = its
    ``device``.
    """

    def __init__(self, *args, unwrap_after_train=False, **kwargs):
        # skorch's epoch log writes to any sink but print even when not
        # verbose; print_once prints on the main process only.
        sink = print_once if kwargs.get("verbose") else print
        kwargs.setdefault("callbacks__print_log__sink", sink)
        super().__init__(*args, unwrap_after_train=unwrap_after_train, **kwargs)

    def initialize(self):
        # The net's own initialize: the mixin's re-implements NeuralNet's,
        # skipping the net's. The module stays plain until it trains
        # (partial_fit): estimators load pretrained or warm-start weights
        # into it in between.
        super(AccelerateMixin, self).initialize()
        self.optimizer_ = self.accelerator.prepare(self.optimizer_)
        if self.accelerator.process_index:
            # Weights are equal (the wrapper broadcasts the main process's);
            # dropout and feature masks must differ from process to process.
            torch.manual_seed(self.random_state + self.accelerator.process_index)
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # Every call trains wrapped (self-training rounds call partial_fit),
        # and unwraps only after the callbacks' on_train_end: early stopping
        # restores the best weights it kept from the wrapped module.
        self.module_ = self.accelerator.prepare(self.module_)
        self._wrapped_with_accelerator = True
        try:
            return super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self._unwrap_accelerator()

    def plain_module(self):
        return self.accelerator.unwrap_model(self.module_)

    def train_step_single(self, batch, **fit_params):
        # The net's own step, not the mixin's one-term step. Its plain
        # loss.backward() is accelerator.backward without loss scaling or
        # gradient accumulation, which make_accelerator turns off.
        return super(AccelerateMixin, self).train_step_single(batch, **fit_params)

    def get_iterator(self, dataset, training=False):
        batches = super(AccelerateMixin, self).get_iterator(dataset, training=training)
        if not training:
            return batches
        return ShardedBatches(
            batches,
            index=self.accelerator.process_index,
            count=self.accelerator.num_processes,
        )

    def evaluation_step(self, batch, training=False):
        # Every process evaluated every row: there is nothing to gather.
        return super(AccelerateMixin, self).evaluation_step(batch, training=training)

    def __getstate__(self):
        # The pickled model is loaded and used without the launcher's processes.
        return {**super().__getstate__(), "accelerator": None}


class DataParallelTabularNet(DataParallelMixin, TabularNet):
    """:class:`TabularNet` trained data-parallel."""


class DataParallelSemiSupervisedNet(DataParallelMixin, SemiSupervisedNet):
    """:class:`SemiSupervisedNet` trained data-parallel."""


class DataParallelPretrainingNet(DataParallelMixin, PretrainingNet):
    """:class:`PretrainingNet` trained data-parallel."""


DATA_PARALLEL = {
    TabularNet: DataParallelTabularNet,
    SemiSupervisedNet: DataParallelSemiSupervisedNet,
    PretrainingNet: DataParallelPretrainingNet,
}
