import numpy as np
from PIL import Image

from viclip.evaluation.plots import confusion_matrix, plot_confusion_matrix, plot_similarity_heatmap


def test_confusion_matrix_counts_true_rows_predicted_columns():
    assert confusion_matrix([0, 1, 1, 2], [0, 1, 0, 2], 3).tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_plots_write_valid_pngs(tmp_path):
    cm = plot_confusion_matrix([0, 1], [0, 0], ["run", "jump"], tmp_path / "sub" / "cm.png")
    heat = plot_similarity_heatmap(np.eye(3), tmp_path / "sim.png", ["a", "b", "c"])
    for path in (cm, heat):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 100
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cm.png", "sim.png", "sub"]  # no temp files left
