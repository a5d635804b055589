"""PNG figures of evaluation results (matplotlib, headless Agg backend)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch


def confusion_matrix(predicted: Sequence[int], labels: Sequence[int], num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` counts; row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, pred in zip(labels, predicted):
        matrix[int(true), int(pred)] += 1
    return matrix


def _save(fig, path: str | os.PathLike) -> Path:
    # Write to a temporary name first so a crash never leaves a half-written PNG behind.
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _heatmap(
    matrix: np.ndarray, row_labels, col_labels, title, xlabel, ylabel, path, annotate: bool, fmt: str
):
    # A bare Figure renders with the Agg canvas and touches no pyplot/global backend state.
    from matplotlib.figure import Figure

    rows, cols = matrix.shape
    size = (max(4.0, 0.45 * cols + 2.5), max(3.5, 0.4 * rows + 2.0))
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if cols <= 50:
        ax.set_xticks(range(cols), [str(c)[:24] for c in col_labels], rotation=60, ha="right", fontsize=7)
    if rows <= 50:
        ax.set_yticks(range(rows), [str(r)[:40] for r in row_labels], fontsize=7)
    if annotate and rows * cols <= 400:
        threshold = (np.nanmax(matrix) + np.nanmin(matrix)) / 2
        for i in range(rows):
            for j in range(cols):
                color = "black" if matrix[i, j] > threshold else "white"
                ax.text(j, i, format(matrix[i, j], fmt), ha="center", va="center", fontsize=6, color=color)
    return _save(fig, path)


def plot_confusion_matrix(
    predicted: Sequence[int],
    labels: Sequence[int],
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "Zero-shot confusion matrix",
) -> Path:
    """Save the confusion matrix (rows: true class, columns: predicted) as a PNG and return its path."""
    matrix = confusion_matrix(predicted, labels, len(class_names))
    return _heatmap(matrix, class_names, class_names, title, "predicted", "true", path, True, "d")


def plot_similarity_heatmap(
    similarity: torch.Tensor | np.ndarray,
    path: str | os.PathLike,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    title: str = "Text-video similarity",
    xlabel: str = "video",
    ylabel: str = "text",
) -> Path:
    """Save a similarity matrix (e.g. texts x videos cosine similarities) as a PNG heat map."""
    matrix = torch.as_tensor(similarity).detach().float().cpu().numpy()
    if matrix.ndim != 2:
        raise ValueError(f"similarity must be 2-D, got shape {matrix.shape}")
    rows = row_labels if row_labels is not None else range(matrix.shape[0])
    cols = col_labels if col_labels is not None else range(matrix.shape[1])
    return _heatmap(matrix, rows, cols, title, xlabel, ylabel, path, True, ".2f")
