"""The networks' log-likelihood and its gradient, in one compiled loop.

Written as a PyTensor graph, the likelihood of the padded tasks is a few dozen small
operations on (tasks, rows, hidden) arrays: NUTS spent most of its time in their
overhead and in rows that are only padding (the default world has 259 rows padded to
8 x 100). Here one numba loop visits each task's rows that count (a row weight of 0,
masked padding, is skipped), computes the network forward and the gradient with
respect to every weight backward, and one PyTensor ``Op`` whose gradient is its own
other outputs hands them to the model, as :mod:`hierdash.inference.models.marginal_kernel`
does for the marginal model. The Op has a numba implementation (PyTensor's
``numba_funcify`` dispatch), so nutpie compiles it into the model, and a Python one for
other backends.

For row ``r`` of task ``i`` with weight ``c``: ``a_u = tanh(x . w1[:, u] + b1[u])``,
``z = a . w2 + b2`` and ``L += c (y z - softplus(z))``; with ``d = c (y - sigmoid(z))``,
``dL/db2 += d``, ``dL/dw2[u] += d a_u``, and with ``e_u = d w2[u] (1 - a_u^2)``,
``dL/db1[u] += e_u`` and ``dL/dw1[:, u] += e_u x``. Tests check value and gradient
against PyTensor's own differentiation of the unpadded model (tests/neural/test_model.py).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import numba_funcify

__all__ = ["network_terms", "network_loglik"]


@numba.njit(cache=True, error_model="numpy")
def network_terms(w1, b1, w2, b2, X, y, row_weight, dims):
    """``([L], dL/dw1, dL/db1, dL/dw2, dL/db2)`` over the first ``dims = [t, n, h]``
    tasks, rows and hidden units; the gradients are zero beyond them."""
    t, n, h = int(dims[0]), int(dims[1]), int(dims[2])
    g_w1, g_b1 = np.zeros_like(w1), np.zeros_like(b1)
    g_w2, g_b2 = np.zeros_like(w2), np.zeros_like(b2)
    act = np.empty(h)
    total = 0.0
    for i in range(t):
        for r in range(n):
            c = row_weight[i, r]
            if c == 0.0:
                continue
            x0, x1 = X[i, r, 0], X[i, r, 1]
            z = b2[i]
            for u in range(h):
                a = math.tanh(x0 * w1[i, 0, u] + x1 * w1[i, 1, u] + b1[i, u])
                act[u] = a
                z += a * w2[i, u]
            # softplus and sigmoid without overflow on either side
            if z > 0.0:
                e = math.exp(-z)
                softplus, sigmoid = z + math.log1p(e), 1.0 / (1.0 + e)
            else:
                e = math.exp(z)
                softplus, sigmoid = math.log1p(e), e / (1.0 + e)
            total += c * (y[i, r] * z - softplus)
            d = c * (y[i, r] - sigmoid)
            g_b2[i] += d
            for u in range(h):
                g_w2[i, u] += d * act[u]
                back = d * w2[i, u] * (1.0 - act[u] * act[u])
                g_b1[i, u] += back
                g_w1[i, 0, u] += back * x0
                g_w1[i, 1, u] += back * x1
    value = np.empty(1)
    value[0] = total
    return value, g_w1, g_b1, g_w2, g_b2


_NDIMS = (3, 2, 2, 1, 3, 2, 2, 1)  # w1, b1, w2, b2, X, y, row_weight, dims
_N_WEIGHTS = 4


class NetworkTerms(Op):
    """:func:`network_terms` as a PyTensor Op: its gradient with respect to the four
    weight blocks is its other outputs times the value's incoming gradient; the data
    are not differentiable, and there are no second derivatives (NUTS needs none)."""

    __props__ = ()

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x).astype("float64") for x in inputs]
        for x, ndim in zip(inputs, _NDIMS, strict=True):
            if x.ndim != ndim:
                raise TypeError(f"NetworkTerms: an input has {x.ndim} dimensions, not {ndim}")
        outputs = [pt.dvector()] + [x.type() for x in inputs[:_N_WEIGHTS]]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        results = network_terms(*(np.ascontiguousarray(x) for x in inputs))
        for storage, value in zip(output_storage, results, strict=True):
            storage[0] = value

    def infer_shape(self, node, input_shapes):
        return [(1,), *input_shapes[:_N_WEIGHTS]]

    def connection_pattern(self, node):
        out = len(node.outputs)
        return [[True] * out if i < _N_WEIGHTS else [False] * out
                for i in range(len(node.inputs))]

    def pullback(self, inputs, outputs, cotangents):
        if not all(isinstance(c.type, DisconnectedType) for c in cotangents[1:]):
            raise NotImplementedError("NetworkTerms has no second derivatives")
        value_grad = cotangents[0][0]
        return ([value_grad * g for g in outputs[1:]]
                + [DisconnectedType()() for _ in inputs[_N_WEIGHTS:]])


@numba_funcify.register(NetworkTerms)
def _network_terms_numba(op, node=None, **kwargs):
    return network_terms


_NETWORK_TERMS = NetworkTerms()


def network_loglik(w1, b1, w2, b2, *, X, y, row_weight, n_tasks, n_rows, n_hidden):
    """The Bernoulli-logit log-likelihood of the padded tasks, a PyTensor scalar
    differentiable in the four weight blocks (each at the model's full capacity)."""
    dims = pt.stack([n_tasks, n_rows, n_hidden]).astype("float64")
    value, *_grads = _NETWORK_TERMS(w1, b1, w2, b2, X, y, row_weight, dims)
    return value[0]
