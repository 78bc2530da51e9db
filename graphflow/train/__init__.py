"""The ``tf.train`` namespace: optimizers, global step, decays, moving averages,
Saver. Re-exports only; each name lives in the module that defines it."""
from graphflow.train import (adadelta, adagrad, adam, coordinator, ftrl, gradient_descent,
                             input, learning_rate_decay, momentum, moving_averages, optimizer,
                             queue_runner, rmsprop, saver, slot_creator, training_util)
from graphflow.train.adadelta import *  # noqa: F401,F403
from graphflow.train.adagrad import *  # noqa: F401,F403
from graphflow.train.adam import *  # noqa: F401,F403
from graphflow.train.coordinator import *  # noqa: F401,F403
from graphflow.train.ftrl import *  # noqa: F401,F403
from graphflow.train.gradient_descent import *  # noqa: F401,F403
from graphflow.train.input import *  # noqa: F401,F403
from graphflow.train.learning_rate_decay import *  # noqa: F401,F403
from graphflow.train.momentum import *  # noqa: F401,F403
from graphflow.train.moving_averages import *  # noqa: F401,F403
from graphflow.train.optimizer import *  # noqa: F401,F403
from graphflow.train.queue_runner import *  # noqa: F401,F403
from graphflow.train.rmsprop import *  # noqa: F401,F403
from graphflow.train.saver import *  # noqa: F401,F403
from graphflow.train.training_util import *  # noqa: F401,F403

__all__ = [n for m in (adadelta, adagrad, adam, coordinator, ftrl, gradient_descent, input,
                       learning_rate_decay, momentum, moving_averages, optimizer, queue_runner,
                       rmsprop, saver, training_util)
           for n in m.__all__]

# Formats and summaries that TF1 exposes under tf.train.
from graphflow.io.graph_def import write_graph  # noqa: E402
from graphflow.summary import FileWriter as SummaryWriter  # noqa: E402
from graphflow.summary import summary_iterator  # noqa: E402

__all__ += ["write_graph", "SummaryWriter", "summary_iterator"]
