"""Spectral Relevance Analysis (SpRAy; Lapuschkin et al., "Unmasking Clever Hans predictors and assessing what
machines really learn", Nature Communications 2019; reference implementation CoRelAy).

Over many heatmaps of one class: each heatmap summed to ``size x size`` cells (sum pooling) and normalised to
sum 1 over its absolute values; a symmetric k-nearest-neighbour affinity graph (Euclidean distance,
binary edges, ``k`` neighbours); the symmetric normalised Laplacian ``L = I - D^-1/2 W D^-1/2``; its
smallest eigenvalues and eigenvectors; the number of clusters from the largest gap between consecutive
eigenvalues (eigengap heuristic, von Luxburg 2007, sec. 8.3) unless given; k-means on the rows of the
spectral embedding. Each cluster is a prediction strategy; a cluster whose mean heatmap sits on a
spurious cue (a watermark) exposes a Clever-Hans predictor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import ProgressArg

MAX_EIGEN = 10


@dataclass(frozen=True)
class SpectralResult:
    """SpRAy's output.

    Attributes:
        heatmaps: ``(N, size, size)`` pooled, normalised heatmaps (the analysed data).
        eigenvalues: the smallest eigenvalues of the normalised Laplacian, ascending.
        embedding: ``(N, n_eigen)`` eigenvectors (spectral embedding).
        labels: ``(N,)`` cluster of each heatmap.
        n_clusters: number of clusters (eigengap when not given).
        cluster_means: ``(n_clusters, size, size)`` mean pooled heatmap per cluster.
        layout: ``(N, 2)`` 2-D embedding for plotting (t-SNE of the spectral embedding).
    """

    heatmaps: np.ndarray
    eigenvalues: np.ndarray
    embedding: np.ndarray
    labels: np.ndarray
    n_clusters: int
    cluster_means: np.ndarray
    layout: np.ndarray


def pool_heatmaps(heatmaps: np.ndarray, size: int) -> np.ndarray:
    """``(N, H, W)`` -> ``(N, size, size)`` by summing blocks (area interpolation times the block area),
    each normalised to sum 1 over its absolute values (all-zero maps stay zero)."""
    import torch
    import torch.nn.functional as F

    maps = torch.as_tensor(np.asarray(heatmaps, dtype=np.float32))[:, None]
    pooled = F.adaptive_avg_pool2d(maps, (size, size))[:, 0].numpy().astype(np.float64)
    total = np.abs(pooled).sum(axis=(1, 2), keepdims=True)
    return np.divide(pooled, total, out=np.zeros_like(pooled), where=total > 0)


def eigengap(eigenvalues: np.ndarray, tolerance: float = 1e-3) -> int:
    """Number of clusters: the position of the largest gap between consecutive ascending eigenvalues.
    When every gap is tiny (one connected, homogeneous group), 1."""
    gaps = np.diff(eigenvalues)
    if gaps.size == 0 or gaps.max() <= tolerance:
        return 1
    return int(np.argmax(gaps)) + 1


def spectral_analysis(data: np.ndarray, k: int = 10, n_clusters: int | None = None, seed: int = 0,
                      n_eigen: int = MAX_EIGEN, layout: bool = True) -> tuple:
    """Spectral clustering of the rows of ``data`` ``(N, D)``: ``(eigenvalues, embedding, labels, n_clusters,
    layout)`` (module docstring)."""
    from scipy.sparse import csgraph
    from scipy.sparse.linalg import eigsh
    from sklearn.cluster import KMeans
    from sklearn.neighbors import kneighbors_graph

    n = len(data)
    if n < 3:
        raise ValueError(f"images: expected at least 3 heatmaps for a spectral analysis, got {n}")
    k = min(k, n - 1)
    graph = kneighbors_graph(data, n_neighbors=k, mode="connectivity", include_self=False)
    affinity = graph.maximum(graph.T)                                    # symmetrised kNN graph
    laplacian = csgraph.laplacian(affinity.astype(np.float64), normed=True)
    n_eigen = min(n_eigen, n - 1)
    if n <= 200:
        values, vectors = np.linalg.eigh(laplacian.toarray())
        values, vectors = values[:n_eigen], vectors[:, :n_eigen]
    else:
        values, vectors = eigsh(laplacian, k=n_eigen, sigma=-1e-3, which="LM",
                                v0=np.random.default_rng(seed).random(n))
        order = np.argsort(values)
        values, vectors = values[order], vectors[:, order]
    values = np.clip(values, 0.0, None)
    chosen = n_clusters or eigengap(values)
    if chosen < 1 or chosen > n:
        raise ValueError(f"n_clusters: expected 1..{n}, got {chosen}")
    if chosen == 1:
        labels = np.zeros(n, dtype=int)
    else:
        labels = KMeans(n_clusters=chosen, n_init=10, random_state=seed).fit_predict(vectors[:, :chosen])
    coordinates = np.zeros((n, 2))
    if layout:
        from sklearn.manifold import TSNE
        perplexity = float(min(30, max(2, (n - 1) // 3)))
        coordinates = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(vectors)
    return values, vectors, labels, chosen, coordinates


def spray_heatmaps(heatmaps: np.ndarray, size: int = 32, k: int = 10, n_clusters: int | None = None,
                   seed: int = 0, layout: bool = True) -> SpectralResult:
    """SpRAy on precomputed ``(N, H, W)`` heatmaps (e.g. from any registered method)."""
    if size < 2:
        raise ValueError(f"size: expected an integer >= 2, got {size!r}")
    if k < 1:
        raise ValueError(f"k: expected an integer >= 1, got {k!r}")
    pooled = pool_heatmaps(heatmaps, size)
    values, vectors, labels, chosen, coordinates = spectral_analysis(
        pooled.reshape(len(pooled), -1), k=k, n_clusters=n_clusters, seed=seed, layout=layout)
    means = np.stack([pooled[labels == c].mean(axis=0) for c in range(chosen)])
    return SpectralResult(heatmaps=pooled, eigenvalues=values, embedding=vectors, labels=labels,
                          n_clusters=chosen, cluster_means=means, layout=coordinates)


def spray(model, images, target, method: str = "lrp_epsilon_gamma_box", size: int = 32, k: int = 10,
          n_clusters: int | None = None, seed: int = 0, layout: bool = True, batch_size: int | None = None,
          progress: ProgressArg = None, cancel=None, **params) -> SpectralResult:
    """SpRAy over ``images`` (a sequence of images of one size) for class ``target``: one ``method`` heatmap
    per image, computed in batches by :func:`workbench.explain_batch` (``params``, ``batch_size``,
    ``progress`` (counting images) and ``cancel`` go there, see :mod:`workbench.progress`), then
    :func:`spray_heatmaps`."""
    from ..api import explain_batch

    images = list(images)
    if len(images) < 3:
        raise ValueError(f"images: expected at least 3 images for a spectral analysis, got {len(images)}")
    maps = explain_batch(model, images, method, target=target, seed=seed, batch_size=batch_size,
                         progress=progress, cancel=cancel, **params)
    return spray_heatmaps(maps, size=size, k=k, n_clusters=n_clusters, seed=seed, layout=layout)
