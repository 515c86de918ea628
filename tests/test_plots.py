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


def test_fixation_dots_stay_visible_on_a_background_of_their_own_colour():
    for background in ((1.0, 0.1, 0.1), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)):
        image = np.ones((60, 80, 3)) * background
        fixations = np.zeros((60, 80), bool)
        fixations[30, 40] = True
        out = plots.with_fixations(image, fixations)
        centre, rim = out[30, 40], out[30, 40 + 3]
        assert np.abs(centre - rim).max() == 1.0  # white dot in a black ring: full contrast on any background
        assert np.abs(rim - background).max() >= 0.5 or np.abs(centre - background).max() >= 0.5


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
