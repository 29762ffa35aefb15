"""Dense convex quadratic programming for portfolio problems, in plain NumPy.

    minimise 0.5 x'Hx - q'x   subject to   A x = b,   G x <= h,   lo <= x <= hi

H is symmetric positive definite (the optimiser checks this before calling).  The solver works
on a *working set* of active constraints (variables fixed at a bound, active rows of G).  For a
given working set the optimality (KKT) conditions are one symmetric linear system on the free
variables; this module solves that system exactly, so a converged answer is exact up to rounding.

* ``solve`` runs a primal-dual active-set iteration (Hintermueller, Ito & Kunisch 2002), which
  swaps many constraints per iteration and converges in a handful of linear solves on portfolio
  problems.  If it cycles it falls back to the textbook primal active-set method (Nocedal &
  Wright, Numerical Optimization, 2nd ed., Algorithm 16.3), which changes one constraint per step
  and always terminates for a positive definite H.  Either way the answer is returned only when
  the KKT conditions hold.
* ``frontier_search`` walks the critical line: for a fixed working set the solution of the
  problem with linear term q0 + t*q1 is affine in t, ``x(t) = a + t d``.  Efficient-frontier
  objectives (max Sharpe, target return, target risk) are a scalar equation in t that is solved
  exactly on the right segment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from portfolio.errors import InfeasibleConstraints

_TOL_X = 1e-11
_TOL_G = 1e-11


@cache
def _blas_pools():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


@contextlib.contextmanager
def single_threaded_blas(n: int, threshold: int = 32) -> Iterator[None]:
    """Run BLAS/LAPACK single-threaded for problems of ``n >= threshold`` variables.

    The KKT systems here are small; a multithreaded OpenBLAS spends more time waking threads
    than solving, and on a loaded machine it is several times slower (measured: N = 200 minimum
    volatility 1.4 ms single-threaded vs 2-10 ms with two threads under load).
    """
    if n < threshold:
        yield
        return
    with _blas_pools().limit(limits=1):
        yield


@dataclass(frozen=True)
class Problem:
    """Constraint data of a QP. ``A``/``b`` equality rows, ``G``/``h`` inequality rows."""

    H: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    A: np.ndarray
    b: np.ndarray
    G: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    h: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        return self.H.shape[0]

    @property
    def p(self) -> int:
        return self.G.shape[0]


@dataclass
class WorkingSet:
    """status[i] = -1 (at lower bound), +1 (at upper bound), 0 (free); active[j] for rows of G."""

    status: np.ndarray
    active: np.ndarray

    @classmethod
    def initial(cls, prob: Problem) -> WorkingSet:
        status = np.zeros(prob.n, dtype=np.int8)
        status[prob.lo == prob.hi] = -1
        return cls(status, np.zeros(prob.p, dtype=bool))

    def copy(self) -> WorkingSet:
        return WorkingSet(self.status.copy(), self.active.copy())

    def key(self) -> bytes:
        return self.status.tobytes() + self.active.tobytes()


class _SingularWorkingSet(Exception):
    """The KKT system of a working set is singular (dependent constraints)."""


@dataclass
class _KKT:
    x: np.ndarray  # (n, k)
    lam: np.ndarray  # (m + active p, k): multipliers of equality rows then active G rows
    r: np.ndarray  # (n, k): reduced gradient H x - q + C' lam (zero on free variables)


def _kkt(prob: Problem, ws: WorkingSet, rhs_q: np.ndarray, homogeneous: np.ndarray) -> _KKT:
    """Solve the equality-constrained QP of a working set for k linear terms at once.

    A homogeneous column is a parametric direction: fixed variables and constraint right-hand sides
    are zero for it.
    """
    st = ws.status
    k = rhs_q.shape[1]
    free = np.flatnonzero(st == 0)
    if prob.p and ws.active.any():
        gi = np.flatnonzero(ws.active)
        C = np.vstack([prob.A, prob.G[gi]])
        d = np.concatenate([prob.b, prob.h[gi]])
    else:
        C, d = prob.A, prob.b
    inhom = (~homogeneous).astype(float)
    X = np.zeros((prob.n, k))
    fixed = np.flatnonzero(st)
    if fixed.size:
        vals = np.where(st[fixed] < 0, prob.lo[fixed], prob.hi[fixed])
        X[fixed] = vals[:, None] * inhom
    nf, mc = free.size, C.shape[0]
    bot = d[:, None] * inhom - (C[:, fixed] @ X[fixed] if fixed.size else 0.0)
    if nf == 0:
        if mc and np.max(np.abs(bot)) > 1e-9 * (1.0 + np.max(np.abs(d))):
            raise _SingularWorkingSet
        lam = np.zeros((mc, k))
        if mc:
            lam, *_ = np.linalg.lstsq(C.T, -(prob.H @ X - rhs_q), rcond=None)
        return _KKT(X, lam, prob.H @ X - rhs_q + C.T @ lam)
    K = np.empty((nf + mc, nf + mc))
    Hf = prob.H[free]
    K[:nf, :nf] = Hf[:, free]
    Cf = C[:, free]
    K[:nf, nf:] = Cf.T
    K[nf:, :nf] = Cf
    K[nf:, nf:] = 0.0
    top = rhs_q[free]
    if fixed.size:
        top = top - Hf[:, fixed] @ X[fixed]
    try:
        sol = np.linalg.solve(K, np.vstack([top, bot]))
    except np.linalg.LinAlgError as exc:
        raise _SingularWorkingSet from exc
    if not np.isfinite(sol).all():
        raise _SingularWorkingSet
    X[free] = sol[:nf]
    lam = sol[nf:]
    r = prob.H @ X - rhs_q + C.T @ lam
    r[free] = 0.0
    return _KKT(X, lam, r)


def _scale(prob: Problem, q: np.ndarray) -> float:
    return 1.0 + float(np.max(np.abs(prob.H))) + float(np.max(np.abs(q), initial=0.0))


def _violations(prob: Problem, ws: WorkingSet, kkt: _KKT, gscale: float) -> WorkingSet:
    """Primal-dual active-set update: the working set implied by the point and multipliers."""
    x, r = kkt.x[:, 0], kkt.r[:, 0]
    st = ws.status
    new = st.copy()
    free = st == 0
    new[free & (x < prob.lo - _TOL_X)] = -1
    new[free & (x > prob.hi + _TOL_X)] = 1
    tg = _TOL_G * gscale
    new[(st == -1) & (r < -tg) & (prob.lo < prob.hi)] = 0
    new[(st == 1) & (r > tg) & (prob.lo < prob.hi)] = 0
    active = ws.active.copy()
    if prob.p:
        m = prob.A.shape[0]
        gi = np.flatnonzero(ws.active)
        lam_g = kkt.lam[m:, 0]
        active[gi[lam_g < -tg]] = False
        slack = prob.G @ x - prob.h
        active[(~ws.active) & (slack > _TOL_X)] = True
    return WorkingSet(new, active)


def feasible_point(prob: Problem) -> np.ndarray:
    """A point satisfying all constraints, or InfeasibleConstraints with the reason."""
    lo, hi = prob.lo, prob.hi
    if np.any(lo > hi):
        i = int(np.flatnonzero(lo > hi)[0])
        raise InfeasibleConstraints("bounds", f"lower bound exceeds upper bound for asset {i}")
    budget_only = prob.p == 0 and prob.A.shape[0] == 1 and np.all(prob.A[0] == 1.0)
    if budget_only:
        target = float(prob.b[0])
        slo, shi = float(np.sum(lo)), float(np.sum(hi))
        if slo > target + 1e-12 or shi < target - 1e-12:
            raise InfeasibleConstraints(
                "bounds",
                f"weights must sum to {target:g} but the bounds allow sums from {slo:g} to {shi:g}",
            )
        x = lo.copy()
        room = hi - lo
        left = target - slo
        if np.all(np.isfinite(room)) and shi - slo > 0:
            x = lo + room * (left / (shi - slo))
        else:
            for i in np.argsort(-room):
                step = min(room[i], left)
                x[i] += step
                left -= step
                if left <= 0:
                    break
        return x
    from scipy.optimize import linprog

    res = linprog(
        np.zeros(prob.n),
        A_ub=prob.G if prob.p else None,
        b_ub=prob.h if prob.p else None,
        A_eq=prob.A,
        b_eq=prob.b,
        bounds=list(
            zip(
                np.where(np.isfinite(lo), lo, None),
                np.where(np.isfinite(hi), hi, None),
                strict=True,
            )
        ),
        method="highs",
    )
    if res.status != 0:
        raise InfeasibleConstraints(
            "constraints", "no portfolio satisfies the weight bounds and group constraints together"
        )
    return np.clip(res.x, lo, hi)


def _primal_active_set(prob: Problem, q: np.ndarray, max_iter: int | None = None):
    """Textbook primal active-set method from a feasible point (robust fallback)."""
    x = feasible_point(prob)
    ws = WorkingSet.initial(prob)
    x[ws.status == -1] = prob.lo[ws.status == -1]
    gscale = _scale(prob, q)
    qcol = q[:, None]
    hom = np.array([False])
    max_iter = max_iter or 20 * (prob.n + prob.p) + 100
    for _ in range(max_iter):
        kkt = _kkt(prob, ws, qcol, hom)
        xs = kkt.x[:, 0]
        p = xs - x
        if np.max(np.abs(p)) <= 1e-13 * (1.0 + np.max(np.abs(x))):
            x = xs
            r = kkt.r[:, 0]
            tg = _TOL_G * gscale
            score = np.zeros(prob.n)
            score[(ws.status == -1) & (prob.lo < prob.hi)] = -r[
                (ws.status == -1) & (prob.lo < prob.hi)
            ]
            score[(ws.status == 1) & (prob.lo < prob.hi)] = r[
                (ws.status == 1) & (prob.lo < prob.hi)
            ]
            gscore = np.zeros(prob.p)
            if prob.p:
                gi = np.flatnonzero(ws.active)
                gscore[gi] = -kkt.lam[prob.A.shape[0] :, 0]
            best_b = float(np.max(score, initial=0.0))
            best_g = float(np.max(gscore, initial=0.0))
            if max(best_b, best_g) <= tg:
                return x, ws, kkt
            if best_b >= best_g:
                ws.status[int(np.argmax(score))] = 0
            else:
                ws.active[int(np.argmax(gscore))] = False
            continue
        alpha, block = 1.0, None
        free = ws.status == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios_lo = np.where(free & (p < 0), (prob.lo - x) / p, np.inf)
            ratios_hi = np.where(free & (p > 0), (prob.hi - x) / p, np.inf)
        i_lo, i_hi = int(np.argmin(ratios_lo)), int(np.argmin(ratios_hi))
        if ratios_lo[i_lo] < alpha:
            alpha, block = ratios_lo[i_lo], ("lo", i_lo)
        if ratios_hi[i_hi] < alpha:
            alpha, block = ratios_hi[i_hi], ("hi", i_hi)
        if prob.p:
            gp = prob.G @ p
            slack = prob.h - prob.G @ x
            with np.errstate(divide="ignore", invalid="ignore"):
                rg = np.where((~ws.active) & (gp > 0), slack / gp, np.inf)
            j = int(np.argmin(rg))
            if rg[j] < alpha:
                alpha, block = rg[j], ("g", j)
        x = x + max(alpha, 0.0) * p
        if block is not None:
            kind, i = block
            if kind == "lo":
                ws.status[i], x[i] = -1, prob.lo[i]
            elif kind == "hi":
                ws.status[i], x[i] = 1, prob.hi[i]
            else:
                ws.active[i] = True
    raise ArithmeticError("primal active-set QP did not converge")  # pragma: no cover


def solve(
    prob: Problem, q: np.ndarray, ws: WorkingSet | None = None, *, method: str = "pdas"
) -> tuple[np.ndarray, WorkingSet]:
    """Minimise 0.5 x'Hx - q'x over the constraints; warm-start from a previous working set."""
    if method == "primal":
        x, ws, _ = _primal_active_set(prob, q)
        return x, ws
    ws, kkt = _solve_parametric(prob, q, None, 0.0, ws)
    return np.clip(kkt.x[:, 0], prob.lo, prob.hi), ws


def _solve_parametric(
    prob: Problem, q0: np.ndarray, q1: np.ndarray | None, t: float, ws: WorkingSet | None
) -> tuple[WorkingSet, _KKT]:
    """Optimal working set for linear term q0 + t q1, and its KKT solution.

    With q1 given, the KKT solution has two columns: the base point a and the direction d, so
    x(s) = a + s d for all s in the working set's segment (see ``segment``).
    """
    ws = ws.copy() if ws is not None else WorkingSet.initial(prob)
    if q1 is None:
        rhs, hom = q0[:, None], np.array([False])
    else:
        rhs, hom = np.column_stack([q0, q1]), np.array([False, True])
    q = q0 if q1 is None else q0 + t * q1
    gscale = _scale(prob, q)
    seen: set[bytes] = set()
    for _ in range(60):
        key = ws.key()
        if key in seen:
            break
        seen.add(key)
        try:
            kkt = _kkt(prob, ws, rhs, hom)
        except _SingularWorkingSet:
            break
        at_t = kkt if q1 is None else _KKT(kkt.x @ [1.0, t], kkt.lam @ [1.0, t], kkt.r @ [1.0, t])
        if at_t.x.ndim == 1:
            at_t = _KKT(at_t.x[:, None], at_t.lam[:, None], at_t.r[:, None])
        new = _violations(prob, ws, at_t, gscale)
        if new.key() == key:
            return ws, kkt
        ws = new
    _, ws, _ = _primal_active_set(prob, q)
    return ws, _kkt(prob, ws, rhs, hom)


def segment(
    prob: Problem, ws: WorkingSet, q0: np.ndarray, q1: np.ndarray, kkt: _KKT | None = None
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """x(t) = a + t d solves the problem with linear term q0 + t q1 for t in [t_lo, t_hi]."""
    if kkt is None:
        kkt = _kkt(prob, ws, np.column_stack([q0, q1]), np.array([False, True]))
    a, d = kkt.x[:, 0], kkt.x[:, 1]
    alpha_parts, beta_parts = [], []  # conditions alpha + t beta >= 0
    free = ws.status == 0
    alpha_parts += [a[free] - prob.lo[free], prob.hi[free] - a[free]]
    beta_parts += [d[free], -d[free]]
    lower, upper = (ws.status == -1) & (prob.lo < prob.hi), (ws.status == 1) & (prob.lo < prob.hi)
    alpha_parts += [kkt.r[lower, 0], -kkt.r[upper, 0]]
    beta_parts += [kkt.r[lower, 1], -kkt.r[upper, 1]]
    if prob.p:
        m = prob.A.shape[0]
        inactive = ~ws.active
        alpha_parts += [prob.h[inactive] - prob.G[inactive] @ a, kkt.lam[m:, 0]]
        beta_parts += [-(prob.G[inactive] @ d), kkt.lam[m:, 1]]
    alpha = np.concatenate(alpha_parts)
    beta = np.concatenate(beta_parts)
    alpha = np.where(np.isfinite(alpha), alpha, 1.0)
    tiny = 1e-14
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -alpha / beta
    t_lo = float(np.max(bound[beta > tiny], initial=-np.inf))
    t_hi = float(np.min(bound[beta < -tiny], initial=np.inf))
    return a, d, t_lo, t_hi


def frontier_search(
    prob: Problem,
    q0: np.ndarray,
    q1: np.ndarray,
    f_coeffs: Callable[[np.ndarray, np.ndarray], tuple[float, float, float]],
    *,
    ws: WorkingSet | None = None,
    max_iter: int = 200,
) -> tuple[np.ndarray | None, float, WorkingSet]:
    """Find t >= 0 with f(x(t)) = 0 for f nondecreasing along the frontier x(t).

    ``f_coeffs(a, d)`` gives (c0, c1, c2) with f(a + t d) = c0 + c1 t + c2 t^2 on a segment.
    Returns (x, t, ws); x is None when f < 0 along the whole frontier (no root), and the caller
    decides what that means.  If f(x(0)) >= 0 the left end (t = 0) is returned.
    """
    fast = _pdas_root(prob, q0, q1, f_coeffs, ws)
    if fast is not None:
        return fast
    tl, tu = 0.0, np.inf
    t = 0.0
    for _ in range(max_iter):
        ws, kkt = _solve_parametric(prob, q0, q1, t, ws)
        a, d, s_lo, s_hi = segment(prob, ws, q0, q1, kkt)
        s_lo = max(s_lo, 0.0)
        c0, c1, c2 = f_coeffs(a, d)

        def f(s, c0=c0, c1=c1, c2=c2):
            return c0 + c1 * s + c2 * s * s

        f_lo = f(s_lo)
        f_hi = f(s_hi) if np.isfinite(s_hi) else (np.inf if c2 > 0 or (c2 == 0 and c1 > 0) else c0)
        scale = 1e-12 * (1.0 + abs(c0) + abs(c1) + abs(c2))
        if s_lo == 0.0 and f_lo >= -scale:
            return a, 0.0, ws
        if f_lo <= scale and f_hi >= -scale:
            root = _root_in(c0, c1, c2, s_lo, s_hi)
            return a + root * d, root, ws
        if f_hi < 0:
            if not np.isfinite(s_hi):
                return None, np.inf, ws
            tl = max(tl, s_hi)
            newton = _linear_root(c0, c1, c2, s_hi)
        else:
            tu = min(tu, s_lo)
            newton = _linear_root(c0, c1, c2, s_lo)
        if newton is not None and tl < newton < tu:
            t = newton
        elif np.isfinite(tu):
            t = 0.5 * (tl + tu)
        else:
            t = 2.0 * tl + 1e-3
    raise ArithmeticError("frontier search did not converge")  # pragma: no cover


def _pdas_root(
    prob: Problem,
    q0: np.ndarray,
    q1: np.ndarray,
    f_coeffs: Callable[[np.ndarray, np.ndarray], tuple[float, float, float]],
    ws: WorkingSet | None = None,
    max_iter: int = 30,
) -> tuple[np.ndarray, float, WorkingSet] | None:
    """Primal-dual active-set iteration on (working set, t) jointly: one KKT solve per step.

    Each step takes the working set's line x(t) = a + t d, puts t at the root of f on that line,
    and updates the working set from the violations at that point.  A fixed point satisfies the
    KKT conditions at a t >= 0 with f = 0, i.e. it is the answer.  Returns None when it does not
    settle (the caller then uses the safeguarded ``frontier_search``).
    """
    ws = ws.copy() if ws is not None else WorkingSet.initial(prob)
    rhs, hom = np.column_stack([q0, q1]), np.array([False, True])
    gscale = _scale(prob, q0) + float(np.max(np.abs(q1)))
    seen: set[bytes] = set()
    for _ in range(max_iter):
        key = ws.key()
        if key in seen:
            return None
        seen.add(key)
        try:
            kkt = _kkt(prob, ws, rhs, hom)
        except _SingularWorkingSet:
            return None
        a, d = kkt.x[:, 0], kkt.x[:, 1]
        t = _largest_nonneg_root(*f_coeffs(a, d))
        if t is None:
            return None
        w = np.array([1.0, t])
        at_t = _KKT((kkt.x @ w)[:, None], (kkt.lam @ w)[:, None], (kkt.r @ w)[:, None])
        new = _violations(prob, ws, at_t, gscale)
        if new.key() == key:
            return at_t.x[:, 0], t, ws
        ws = new
    return None


def _largest_nonneg_root(c0: float, c1: float, c2: float) -> float | None:
    if abs(c2) <= 1e-12 * (abs(c1) + abs(c0) + 1e-300):
        if c1 == 0:
            return None
        root = -c0 / c1
        return root if root >= 0 else None
    disc = c1 * c1 - 4 * c2 * c0
    if disc < 0:
        return None
    sq = np.sqrt(disc)
    qq = -0.5 * (c1 + np.copysign(sq, c1))
    roots = [r for r in ((qq / c2, c0 / qq) if qq != 0 else (-c1 / (2 * c2),)) if r >= 0]
    return float(max(roots)) if roots else None


def _linear_root(c0: float, c1: float, c2: float, s: float) -> float | None:
    slope = c1 + 2 * c2 * s
    if slope == 0:
        return None
    return s - (c0 + c1 * s + c2 * s * s) / slope


def _root_in(c0: float, c1: float, c2: float, lo: float, hi: float) -> float:
    """The root of c0 + c1 t + c2 t^2 within [lo, hi] (which brackets a sign change)."""
    if abs(c2) <= 1e-14 * (abs(c1) + abs(c0) + 1e-300):
        root = -c0 / c1 if c1 != 0 else lo
    else:
        disc = max(c1 * c1 - 4 * c2 * c0, 0.0)
        sq = np.sqrt(disc)
        # numerically stable pair of roots
        qq = -0.5 * (c1 + np.copysign(sq, c1))
        cands = [qq / c2, c0 / qq] if qq != 0 else [-c1 / (2 * c2)]
        inside = [r for r in cands if lo - 1e-9 * (1 + abs(lo)) <= r <= hi + 1e-9 * (1 + abs(hi))]
        root = min(inside) if inside else min(cands, key=lambda r: min(abs(r - lo), abs(r - hi)))
    upper = hi if np.isfinite(hi) else root
    return float(min(max(root, lo), upper))
