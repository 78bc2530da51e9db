"""Suite-wide settings: bounds-checked Numba kernels, fixed seeds, a fresh
default graph per test and a shared kernel cache directory."""
import os

os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")
os.environ.setdefault("GRAPHFLOW_CACHE_DIR",
                      os.path.join(os.path.dirname(__file__), "..", ".graphflow_cache"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphflow as tf  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    np.random.seed(0)
    yield
    s = tf.get_default_session()
    if isinstance(s, tf.InteractiveSession):  # a test left one installed
        s.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: compile-heavy or long tests")
    config.addinivalue_line("markers", "reference: needs the TensorFlow oracle (reference extra)")
