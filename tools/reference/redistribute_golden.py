"""fixtures/golden/redistribute.json: attention redistribution on a tiny synthetic case (numpy, float64).

Written from the issue's formula only (issue 15, item 2), not from any .ts file:
  the o-projection is y = W x + b (W [rows, n], column j = input channel j). Calibration inputs Z [N, n]
  (one row per token). Removed input columns S (whole heads), kept K. We want
      Z_K W_K^T + Z_S W_S^T  ~=  Z_K W_K'^T + b'
  by predicting Z_S from Z_K with a ridge least-squares map, optionally rank-truncated, and folding it.
Computed here from the data matrix, by textbook routes different from the closed form:
  * ridge: numpy.linalg.lstsq on the augmented system [X_K/sqrt(N); sqrt(lam) I] B = [Y/sqrt(N); 0] with the
    target Y = Z_S W_S^T (the removed heads' contribution to the output); lam = ridge * mean(diag C), C the
    (centred when intercept) second moment Z^T Z / N of all n inputs (a zero diagonal counts as 1);
  * rank r: reduced-rank regression on the same augmented system: SVD of the fitted values X_aug B, keep its
    top-r right singular vectors V_r, B_r = B V_r V_r^T;
  * intercept: X_K and Z_S centred by their means; b' = b + W_S mu_S - B_r^T mu_K.
  W'[:, K] = W_K + B_r^T, W'[:, S] = 0.
Also asserts (1e-9) that at full rank and ridge 0 the result satisfies the normal equations of
min ||Z_K W_K'^T + 1 b'^T - Z W^T||.
Run: /usr/bin/python3 tools/reference/redistribute_golden.py  (well under a second).
"""
import json
import os

import numpy as np

rng = np.random.default_rng(15)
N, heads, dh, rows = 60, 4, 3, 5
n = heads * dh
removed_heads = [1, 3]
S = [h * dh + j for h in removed_heads for j in range(dh)]
K = [j for j in range(n) if j not in S]
# correlated inputs with a non-zero mean, so both the map and the intercept matter
mix = rng.normal(size=(n, n))
Z = rng.normal(size=(N, n)) @ mix * 0.5 + rng.normal(size=n)
W = rng.normal(size=(rows, n))
b = rng.normal(size=rows)


def redistribute(rank, ridge, intercept):
    XK, XS = Z[:, K].copy(), Z[:, S].copy()
    mu = Z.mean(axis=0)
    Zc = Z - mu if intercept else Z
    C = Zc.T @ Zc / N
    d = np.diag(C).copy()
    d[d <= 0] = 1
    lam = ridge * d.mean()
    if intercept:
        XK -= mu[K]
        XS -= mu[S]
    Y = XS @ W[:, S].T
    k = len(K)
    Xa = np.vstack([XK / np.sqrt(N), np.sqrt(lam) * np.eye(k)])
    Ya = np.vstack([Y / np.sqrt(N), np.zeros((k, rows))])
    B = np.linalg.lstsq(Xa, Ya, rcond=None)[0]  # [k, rows]
    if rank < min(len(S), rows):
        _, _, vt = np.linalg.svd(Xa @ B, full_matrices=False)
        V = vt[:rank].T
        B = B @ V @ V.T
    W2 = W.copy()
    W2[:, K] += B.T
    W2[:, S] = 0
    b2 = b + (W[:, S] @ mu[S] - B.T @ mu[K] if intercept else 0)
    return W2, b2


cases = []
for name, rank, ridge, intercept in [
    ("full-ridge0.01", 99, 0.01, False),
    ("full-ridge0", 99, 0.0, False),
    ("rank2-ridge0.01", 2, 0.01, False),
    ("rank1-ridge0.1-intercept", 1, 0.1, True),
    ("full-ridge0-intercept", 99, 0.0, True),
]:
    W2, b2 = redistribute(rank, ridge, intercept)
    cases.append({"name": name, "rank": rank, "ridge": ridge, "intercept": intercept, "weight": W2.tolist(), "bias": list(b2)})

# property: full rank, ridge 0, intercept -> least-squares optimum of the output on the calibration data
W2, b2 = redistribute(99, 0.0, True)
resid = Z[:, K] @ W2[:, K].T + b2 - Z @ W.T - b
X1 = np.hstack([Z[:, K], np.ones((N, 1))])
assert np.abs(X1.T @ resid).max() < 1e-9 * np.abs(Z @ W.T).max() * N, "normal equations"

out = {
    "about": "tools/reference/redistribute_golden.py: ridge / reduced-rank redistribution of removed o-proj input columns (numpy float64)",
    "tokens": N, "heads": heads, "headDim": dh, "rows": rows, "removedHeads": removed_heads,
    "z": Z.tolist(), "weight": W.tolist(), "bias": list(b), "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "golden", "redistribute.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
