"""The kernels against mpmath at 60 digits, at ordinary inputs and at the extremes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from xent_cli import losses

from . import reference as ref

RTOL = 1e-12
ordinary = st.floats(min_value=-30.0, max_value=30.0, allow_nan=False, allow_infinity=False)
extreme = st.floats(min_value=-1e5, max_value=1e5, allow_nan=False, allow_infinity=False)
unit = st.floats(min_value=0.0, max_value=1.0)


def score_rows(elements: st.SearchStrategy[float], max_k: int = 6) -> st.SearchStrategy[np.ndarray]:
    return st.integers(2, max_k).flatmap(lambda k: arrays(np.float64, (k,), elements=elements))


def assert_close(value: float, true: object, rtol: float = RTOL) -> None:
    """Relative error ≤ rtol; where the true value is below float64's normal range (its
    float64 rounding is subnormal or 0), within a few subnormal steps of that rounding."""
    rounded = float(true)  # type: ignore[arg-type]
    if abs(rounded) < 2.2250738585072014e-308:
        assert abs(value - rounded) <= 1e-321, (value, true)
        return
    assert ref.relative_error(value, true) <= rtol, (value, true)


# Values given in issue 2, and the mpmath value they round.
@pytest.mark.parametrize(
    ("scores", "label", "expected"),
    [
        ([0.5, 1.5, 0.1], 1, "0.47901069674771036013969205054199406077681280137684"),
        ([2.2, 1.3, 1.7], 2, "1.1996759812098481933837097336108955318988108322233"),
        ([1000.0, -1000.0, 0.0], 1, "2000"),
        ([-100.0, 100.0, -100.0, -100.0], 1, "4.1516895802102125919460443709372540562e-87"),
        ([1e4, -1e4, 0.0], 0, "1e-4343"),  # e^-10000 + e^-20000: rounds to 0.0 in float64
    ],
)
def test_sparse_softmax_anchors(scores: list[float], label: int, expected: str) -> None:
    value = losses.sparse_softmax_ce_with_logits([scores], [label])[0]
    true = ref.sparse_softmax_ce(scores, label)
    assert_close(value, true)
    assert_close(value, ref.mp.mpf(expected), rtol=1e-15)


def test_issue_two_mean_of_two_rows() -> None:
    one_hot = [[0, 1, 0], [0, 0, 1]]
    row_losses = losses.softmax_ce_with_logits([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]], one_hot)
    assert row_losses.round(8).tolist() == [0.4790107, 1.19967598]
    assert float(row_losses.mean()) == pytest.approx(0.8393433389787792, rel=1e-15)


def test_soft_target_anchor() -> None:
    value = losses.softmax_ce_with_logits([[1.0, -3.0, 10.0]], [[0.1, 0.02, 0.88]])[0]
    assert round(value, 8) == 1.16012566  # the issue's 1.16012561 is this value, digits 8–9 swapped
    assert_close(value, ref.softmax_ce([1.0, -3.0, 10.0], [0.1, 0.02, 0.88]))


def test_sigmoid_tail_is_not_zero() -> None:
    assert losses.sigmoid_ce_with_logits([-40.0], [0.0])[0] == 4.248354255291589e-18
    assert_close(losses.sigmoid_ce_with_logits([-40.0], [0.0])[0], ref.sigmoid_ce(-40.0, 0.0))


@given(score_rows(ordinary), st.data())
def test_sparse_softmax_matches_mpmath(scores: np.ndarray, data: st.DataObject) -> None:
    label = data.draw(st.integers(0, scores.size - 1))
    value = losses.sparse_softmax_ce_with_logits(scores[np.newaxis], [label])[0]
    assert_close(value, ref.sparse_softmax_ce(scores.tolist(), label))


@given(score_rows(extreme), st.data())
def test_sparse_softmax_extremes_are_finite_and_exact(
    scores: np.ndarray, data: st.DataObject
) -> None:
    label = data.draw(st.integers(0, scores.size - 1))
    value = losses.sparse_softmax_ce_with_logits(scores[np.newaxis], [label])[0]
    assert math.isfinite(value)
    assert_close(value, ref.sparse_softmax_ce(scores.tolist(), label))


@pytest.mark.parametrize(
    ("scores", "label"),
    [
        ([0.0, 705.0, -3.0], 0),  # Σ e^(z − z_c) is finite: ~e^705
        ([0.0, 709.0, 709.5], 0),  # near the edge of float64's exp
        ([0.0, 710.0, 1.0], 0),  # e^710 overflows: the row is taken from its maximum
        ([0.0] + [708.0] * 10, 0),  # every term finite, their sum overflows
        ([-1e300, 1e300, 0.0], 0),  # the difference itself overflows
        ([3.0, 3.0, 3.0 - 1e-9, -50.0], 1),  # a tie at the top, the label among it
        ([-np.inf, 2.0, -np.inf, 1.0], 3),  # masked classes elsewhere
    ],
)
def test_sparse_softmax_across_the_overflow_switch(scores: list[float], label: int) -> None:
    value = losses.sparse_softmax_ce_with_logits([scores], [label])[0]
    assert math.isfinite(value)
    assert_close(value, ref.sparse_softmax_ce(scores, label))


mixed = st.one_of(ordinary, extreme, st.floats(-1e-3, 1e-3), st.sampled_from([-800.0, 0.0, 800.0]))


@settings(max_examples=200)
@given(st.integers(1, 8), st.integers(2, 40), st.data())
def test_sparse_softmax_rows_in_a_batch_match_mpmath(n: int, k: int, data: st.DataObject) -> None:
    """Several rows at once, some taking the exact-remainder or the maximum path."""
    scores = data.draw(arrays(np.float64, (n, k), elements=mixed))
    labels = data.draw(arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    values = losses.sparse_softmax_ce_with_logits(scores, labels)
    for row, label, value in zip(scores.tolist(), labels.tolist(), values.tolist(), strict=True):
        assert_close(value, ref.sparse_softmax_ce(row, label))


def test_sparse_softmax_with_thousands_of_classes_keeps_tiny_losses() -> None:
    """Above ~4500 classes every row takes the exact remainder; the tiny loss survives."""
    k = 5000
    scores = np.full((2, k), -40.0)
    scores[0, 7] = 0.0
    scores[1, :] = np.linspace(-3.0, 3.0, k)
    values = losses.sparse_softmax_ce_with_logits(scores, [7, 10])
    assert_close(values[0], ref.sparse_softmax_ce(scores[0].tolist(), 7))
    assert_close(values[1], ref.sparse_softmax_ce(scores[1].tolist(), 10))


@given(score_rows(ordinary), st.data())
def test_softmax_ce_matches_mpmath(scores: np.ndarray, data: st.DataObject) -> None:
    weights = data.draw(arrays(np.float64, scores.shape, elements=st.floats(0, 1)))
    if weights.sum() == 0:
        weights[0] = 1.0
    target = weights / weights.sum()
    value = losses.softmax_ce_with_logits(scores[np.newaxis], target[np.newaxis])[0]
    assert_close(value, ref.softmax_ce(scores.tolist(), target.tolist()))


@given(st.lists(st.tuples(ordinary, unit), min_size=1, max_size=8))
def test_sigmoid_ce_matches_mpmath(pairs: list[tuple[float, float]]) -> None:
    z = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    values = losses.sigmoid_ce_with_logits(z, y)
    for value, (score, target) in zip(values.tolist(), pairs, strict=True):
        assert_close(value, ref.sigmoid_ce(score, target))


@pytest.mark.parametrize("z", [1e4, -1e4, 1e10, -1e10, 745.0, -745.0])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.25])
def test_sigmoid_ce_extremes(z: float, y: float) -> None:
    value = losses.sigmoid_ce_with_logits([z], [y])[0]
    assert math.isfinite(value)
    assert_close(value, ref.sigmoid_ce(z, y))


@given(st.lists(st.tuples(unit, unit), min_size=1, max_size=8))
def test_binary_ce_matches_mpmath(pairs: list[tuple[float, float]]) -> None:
    p = np.array([q[0] for q in pairs])
    y = np.array([q[1] for q in pairs])
    for epsilon in (1e-7, 0.0):
        values = losses.binary_ce(p, y, epsilon)
        for value, (prob, target) in zip(values.tolist(), pairs, strict=True):
            true = ref.binary_ce(prob, target, epsilon)
            if true == ref.mp.inf:
                assert value == math.inf
            else:
                assert_close(value, true)


@pytest.mark.parametrize(
    ("p", "y", "epsilon", "expected"),
    [
        (0.0, 0.0, 1e-7, None),  # 0·log 0 = 0 on the y side, −log(1 − ε) on the other
        (1.0, 1.0, 1e-7, None),
        (0.0, 1.0, 1e-7, None),  # −log ε = 16.118…
        (0.0, 1.0, 0.0, math.inf),
        (1.0, 0.0, 0.0, math.inf),
        (0.0, 0.0, 0.0, 0.0),
        (1.0, 1.0, 0.0, 0.0),
    ],
)
def test_binary_ce_clipping(p: float, y: float, epsilon: float, expected: float | None) -> None:
    value = losses.binary_ce([p], [y], epsilon)[0]
    if expected is None:
        assert_close(value, ref.binary_ce(p, y, epsilon))
    else:
        assert value == expected


def test_clipped_log_near_one_keeps_its_digits() -> None:
    # p = 1 clipped to 1 − 1e-7: −log(1 − 1e-7) = 1.00000005e-7, not a rounded 1 − p
    value = losses.binary_ce([1.0], [1.0], 1e-7)[0]
    assert_close(value, ref.binary_ce(1.0, 1.0))
    assert_close(losses.binary_ce([1e-20], [0.0], 0.0)[0], ref.binary_ce(1e-20, 0.0, 0.0))


@given(score_rows(st.floats(0.0, 1.0)), st.data())
def test_categorical_matches_mpmath(probs: np.ndarray, data: st.DataObject) -> None:
    label = data.draw(st.integers(0, probs.size - 1))
    target = np.zeros_like(probs)
    target[label] = 1.0
    value = losses.categorical_ce(probs[np.newaxis], target[np.newaxis], 1e-7)[0]
    assert_close(value, ref.categorical_ce(probs.tolist(), target.tolist(), 1e-7))
    sparse = losses.sparse_categorical_ce(probs[np.newaxis], [label], 1e-7)[0]
    assert sparse == value


def test_categorical_does_not_renormalise() -> None:
    # rows summing to 0.5 keep their values: −log 0.25
    assert losses.categorical_ce([[0.25, 0.25]], [[1.0, 0.0]])[0] == pytest.approx(
        math.log(4), rel=1e-15
    )


def test_masked_class_with_zero_weight_contributes_zero() -> None:
    scores = [[0.0, -np.inf, 1.0]]
    soft = losses.softmax_ce_with_logits(scores, [[0.5, 0.0, 0.5]])[0]
    assert_close(soft, ref.softmax_ce([0.0, -math.inf, 1.0], [0.5, 0.0, 0.5]))
    assert losses.sparse_softmax_ce_with_logits(scores, [1])[0] == math.inf
    assert losses.softmax_ce_with_logits(scores, [[0.0, 1.0, 0.0]])[0] == math.inf
    assert losses.sigmoid_ce_with_logits([-np.inf, np.inf], [0.0, 1.0]).tolist() == [0.0, 0.0]


def test_softmax_and_log_softmax_at_extremes() -> None:
    p = losses.softmax([1000.0, 0.0, -1000.0])
    assert p[0] == 1.0
    assert p[1] == math.exp(-1000.0)  # 0 in float64 too: e^-1000 underflows
    assert p[2] == 0.0
    assert losses.softmax([0.0, -np.inf]).tolist() == [1.0, 0.0]
    assert losses.log_softmax([1e10, 0.0]).tolist() == [0.0, -1e10]


@given(score_rows(ordinary), st.floats(-100, 100), st.data())
def test_adding_a_constant_changes_nothing(
    scores: np.ndarray, shift: float, data: st.DataObject
) -> None:
    label = data.draw(st.integers(0, scores.size - 1))
    a = losses.sparse_softmax_ce_with_logits(scores[np.newaxis], [label])[0]
    b = losses.sparse_softmax_ce_with_logits((scores + shift)[np.newaxis], [label])[0]
    # only the rounding of z + shift differs: a few ulps of |shift| + |z|
    assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


@given(score_rows(extreme), st.data())
def test_one_hot_targets_equal_class_indices(scores: np.ndarray, data: st.DataObject) -> None:
    label = data.draw(st.integers(0, scores.size - 1))
    one_hot = np.eye(scores.size)[label]
    sparse = losses.sparse_softmax_ce_with_logits(scores[np.newaxis], [label])[0]
    dense = losses.softmax_ce_with_logits(scores[np.newaxis], one_hot[np.newaxis])[0]
    assert sparse == pytest.approx(dense, rel=1e-12, abs=1e-300)  # two summation orders


@given(extreme, unit)
def test_binary_score_equals_two_class_softmax(z: float, y: float) -> None:
    binary = losses.sigmoid_ce_with_logits([z], [y])[0]
    two_class = losses.softmax_ce_with_logits([[0.0, z]], [[1.0 - y, y]])[0]
    assert binary == pytest.approx(two_class, rel=1e-12, abs=1e-300)


@settings(max_examples=200)
@given(score_rows(st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)), st.data())
def test_losses_are_finite_and_non_negative(scores: np.ndarray, data: st.DataObject) -> None:
    label = data.draw(st.integers(0, scores.size - 1))
    with np.errstate(over="raise", invalid="raise"):
        sparse = losses.sparse_softmax_ce_with_logits(scores[np.newaxis], [label])[0]
        sig = losses.sigmoid_ce_with_logits(scores, np.full(scores.shape, 0.5))
    assert math.isfinite(sparse) or abs(scores).max() > 1e307  # z − max z itself overflows there
    assert sparse >= 0
    assert (sig >= 0).all()


def test_multilabel_row_is_the_mean_over_columns() -> None:
    assert losses.mean_over_columns(np.array([[1.0, 3.0]])).tolist() == [2.0]


@given(score_rows(extreme), st.data())
def test_general_path_agrees_with_the_fast_kernels(scores: np.ndarray, data: st.DataObject) -> None:
    label = data.draw(st.integers(0, scores.size - 1))
    neglog = losses.class_neglog_from_scores(scores[np.newaxis])
    fast = losses.sparse_softmax_ce_with_logits(scores[np.newaxis], [label])
    general = losses.combine_classes(neglog, np.array([label]), sparse=True)
    weighted = losses.combine_classes(
        neglog, np.array([label]), sparse=True, class_weights=np.ones(scores.size)
    )
    # the same numbers by two summation orders: equal to a few ulps
    np.testing.assert_allclose(general, fast, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(weighted, fast, rtol=1e-12, atol=1e-300)
    y = data.draw(arrays(np.float64, scores.shape, elements=unit))
    binary = losses.combine_binary(losses.softplus(-scores), losses.softplus(scores), y[np.newaxis])
    assert binary[0] == pytest.approx(
        losses.sigmoid_ce_with_logits(scores, y).mean(), rel=1e-14, abs=1e-300
    )


def test_blocks_on_both_cores_match_one_call_and_survive_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's block runner (the path the CLI runs) gives the bits of one whole call."""
    from xent_cli import parallel

    monkeypatch.setenv("XENT_THREADS", "2")
    rng = np.random.default_rng(11)
    z = rng.normal(size=(40_000, 7))
    c = rng.integers(0, 7, size=40_000)
    whole = losses.sparse_softmax_ce_with_logits(z, c)

    def blocks() -> bytes:
        pieces = parallel.bounds(*z.shape)
        assert len(pieces) > 1
        parts = parallel.run_blocks(
            lambda start, stop: losses.sparse_softmax_ce_with_logits(z[start:stop], c[start:stop]),
            pieces,
        )
        return np.concatenate(parts).tobytes()

    assert blocks() == whole.tobytes()
    parallel.stop()
    assert blocks() == whole.tobytes()


def test_zero_weight_on_a_certain_wrong_probability_contributes_zero() -> None:
    """With ε = 0, log 0 = −∞ meets a zero target weight: 0·log 0 = 0 in every kernel."""
    assert losses.categorical_ce([[0.0, 1.0]], [[0.0, 1.0]], epsilon=0).tolist() == [0.0]
    assert losses.binary_ce([0.0, 1.0], [0.0, 1.0], epsilon=0).tolist() == [0.0, 0.0]
    assert losses.binary_ce([0.0], [1.0], epsilon=0).tolist() == [math.inf]
    soft = losses.categorical_ce([[0.0, 0.25, 0.75]], [[0.0, 0.5, 0.5]], epsilon=0)[0]
    assert_close(soft, (-ref.mp.log(ref.mp.mpf(0.25)) - ref.mp.log(ref.mp.mpf(0.75))) / 2)
    rows = losses.sigmoid_ce_with_logits([[np.inf, -np.inf, 3.0]], [[1.0, 0.0, 0.25]])
    assert rows[0, :2].tolist() == [0.0, 0.0]
    assert_close(rows[0, 2], ref.sigmoid_ce(3.0, 0.25))
