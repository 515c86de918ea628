"""Figures that explain themselves: colour bars, visible fixations, whole epochs, labelled lines."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from helpers import plots  # noqa: E402


def test_every_column_of_maps_gets_a_colour_bar_and_images_none():
    columns = {"image": [np.zeros((8, 12, 3))] * 2, "ground truth": [np.random.rand(8, 12)] * 2,
               "prediction": [np.random.rand(8, 12)] * 2}
    figure = plots.image_grid(columns)
    bars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 2 and all(bar.get_xlabel() == plots.MAP_LABEL for bar in bars)
    plt.close(figure)


def test_the_image_is_shown_untouched_and_the_fixations_as_dots_over_every_map_beside_it():
    """Fixations cluster on the target: drawn over the image they would hide it (the figure's point)."""
    image = np.random.default_rng(0).random((60, 80, 3))
    fixations = np.zeros((60, 80), bool)
    fixations[30, 40] = fixations[10, 70] = True
    row = plots.PredictionRow("a display", image, np.random.rand(60, 80), fixations, {"SalNet": np.random.rand(60, 80)})
    figure = plots.prediction_grid([row])
    shown, truth, salnet = (ax for ax in figure.axes if ax.get_label() != "<colorbar>")
    assert np.array_equal(shown.images[0].get_array(), image) and not shown.collections
    assert not truth.collections
    assert sorted(map(tuple, salnet.collections[0].get_offsets().tolist())) == [(40.0, 30.0), (70.0, 10.0)]
    plt.close(figure)


def test_loss_curves_use_whole_epochs_the_given_held_out_name_and_label_the_learning_rate_drop():
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "lr": 1e-3 if e < 3 else 1e-4} for e in range(1, 5)]
    figure = plots.loss_curves({"conv2": history}, held_out="test")
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert labels == ["train", "test", "learning rate ×0.1"]
    figure.canvas.draw()
    ticks = [t for t in axes.get_xticks() if axes.get_xlim()[0] <= t <= axes.get_xlim()[1]]
    assert all(float(t).is_integer() for t in ticks)
    plt.close(figure)


def test_each_network_gets_a_panel_labelled_with_its_own_loss_and_a_one_epoch_run_whole_ticks():
    one = [{"epoch": 1, "train_loss": 1.8, "val_loss": 2.0, "lr": 3e-4}]
    twelve = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "lr": 1e-3} for e in range(1, 13)]
    figure = plots.loss_curves({"SalNet (half)": one, "second": twelve}, ylabel={"SalNet (half)": "KLD loss",
                                                                                  "second": "MSE loss"})
    left, right = figure.axes
    assert (left.get_ylabel(), right.get_ylabel()) == ("KLD loss", "MSE loss")
    assert list(left.get_xticks()) == [1] and list(right.get_xticks()) == list(range(1, 13))


def test_a_column_title_keeps_its_line_breaks():
    """``"features.13.add\\npretrained"`` stays two lines: one line would run into the next column's title."""
    import numpy as np

    from helpers.plots import image_grid

    figure = image_grid({"features.13.add\npretrained": [np.zeros((4, 4, 3))]})
    assert figure.axes[0].get_title() == "features.13.add\npretrained"


def test_the_depth_figures_legends_sit_below_the_panels_off_every_point():
    """A legend inside a panel covered a point of ``fig_inversion_trained_vs_random``: it goes below both."""
    from types import SimpleNamespace

    import pandas as pd

    layers = ["conv1", "conv2", "conv5", "fc6"]
    rows = {kind: {layer: {"normalised error": 0.3 + 0.1 * i + 0.2 * (kind == "random"), "SSIM": 0.6 - 0.1 * i}
                   for i, layer in enumerate(layers)} for kind in ("pretrained", "random")}
    comparison = SimpleNamespace(layers=layers, rows=rows, mean_image={"normalised error": 0.5, "SSIM": 0.3},
                                 weights={"pretrained": "ImageNet weights", "random": "random weights"},
                                 encoder="AlexNet", test_images=12, image_size=128)
    table = pd.DataFrame({"MSE": [0.1, 0.2, 0.3, 0.4], "normalised error": [0.3, 0.4, 0.5, 0.6]}, index=layers)
    for figure, labels in ((plots.comparison_by_depth(comparison), ["ImageNet weights", "random weights",
                                                                     "mean image (0.500)"]),
                           (plots.error_by_layer(table, mean_image=0.55), ["decoder", "mean image (0.550)"])):
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        (legend,) = figure.legends
        box = legend.get_window_extent(renderer)
        assert all(not box.overlaps(axes.get_window_extent(renderer)) for axes in figure.axes)
        assert [text.get_text() for text in legend.get_texts()] == labels
        plt.close(figure)
