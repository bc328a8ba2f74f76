"""Shared fixtures: one small random problem per shape in SHAPES."""

import pytest

from helpers import make_problem

# (d0, d1, d2): the 1x1x1 net, each size 1 alone, non-square, all distinct.
SHAPES = [(1, 1, 1), (1, 4, 2), (7, 1, 3), (5, 3, 8), (50, 40, 30), (33, 64, 17)]


@pytest.fixture(params=SHAPES, ids=lambda s: "x".join(map(str, s)))
def problem(request):
    """(A, B, x) in float64 for one shape of SHAPES, seeded by the shape."""
    return make_problem(*request.param, seed=sum(request.param))
