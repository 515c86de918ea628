"""The "contrast, no learning" row: maps without any trained parameter, chosen on validation images."""
import numpy as np
import pytest
import torch

from helpers import baselines, evaluation
from helpers.data import saliency_splits
from helpers.evaluation import CENTRE_BIAS, NO_LEARNING, no_learning_margins, quality_bars


def test_colour_contrast_is_highest_on_the_pixels_of_a_rare_colour():
    image = torch.full((1, 3, 60, 80), -0.2)
    for top in range(6, 54, 12):
        for left in range(6, 74, 12):
            image[0, :, top:top + 4, left:left + 4] = 0.5  # 24 light-grey items: common, so each scores lower
    image[0, 0, 30:34, 36:40], image[0, 1:, 30:34, 36:40] = 0.9, -0.9  # one red item among them
    energy = baselines.contrast_map(image, blur=0.0)[0]
    row, col = np.unravel_index(energy.argmax(), energy.shape)
    assert 30 <= row < 34 and 36 <= col < 40
    assert energy[32, 38] > 1.2 * energy[8, 8]     # the red item outranks a grey one


def test_the_row_is_chosen_on_the_validation_images_and_scored_on_the_test_images(small_sample, monkeypatch):
    _, validation, test = saliency_splits("sample", small_sample, WholeDataset=40, seed=3)
    looked_at = []

    def spy(maps, items):   # the features win on whatever they are judged on
        looked_at.extend(items)
        return 0.9 if maps is candidates[baselines.FEATURES] else 0.6

    def fake_maps(items, image_size, front_end, device="cpu"):
        candidates.clear()
        candidates.update({baselines.COLOUR: np.full((len(items), 4, 4), 1.0),
                           baselines.FEATURES: np.full((len(items), 4, 4), 2.0)})
        return dict(candidates)

    candidates: dict = {}
    monkeypatch.setattr(baselines, "mean_auc_judd", spy)
    monkeypatch.setattr(baselines, "no_learning_maps", fake_maps)
    row = baselines.no_learning_baseline(validation, test, (48, 64), front_end=object())
    assert row.choice == baselines.FEATURES and row.maps.shape[0] == len(test) and (row.maps == 2.0).all()
    assert looked_at == validation * 2 and not set(i.stimulus for i in looked_at) & set(i.stimulus for i in test)
    assert "chosen on the validation images" in row.summary() and "0.9000" in row.summary()


def test_a_network_is_judged_against_the_no_learning_row_on_singleton_auc_nss_and_kl():
    overall = {
        CENTRE_BIAS: {"AUC-Judd": 0.57, "NSS": 0.2, "KL": 1.9, "IG": 0.0, "singleton AUC": 0.5},
        NO_LEARNING: {"AUC-Judd": 0.89, "NSS": 3.7, "KL": 1.5, "IG": 1.6, "singleton AUC": 0.82},
        "net": {"AUC-Judd": 0.87, "NSS": 5.4, "KL": 1.6, "IG": 2.0, "singleton AUC": 0.99},
    }
    margins = no_learning_margins(overall, "net")
    assert margins == pytest.approx({"singleton AUC": 0.17, "NSS": 1.7, "KL": 0.1})
    met = quality_bars(overall, "net", oracle="")
    assert met[f"singleton AUC above {NO_LEARNING} (0.820)"] and met[f"NSS above {NO_LEARNING} (3.700)"]
    assert not met[f"KL below {NO_LEARNING} (1.500)"]   # a higher KL than the row's: missed
    assert no_learning_margins(overall, NO_LEARNING) == {} and no_learning_margins(
        {k: v for k, v in overall.items() if k != NO_LEARNING}, "net") == {}


@pytest.mark.slow
def test_the_no_learning_row_scores_like_a_map_and_finds_the_sample_s_singleton(small_sample):
    """Real maps on the generated sample: the colour contrast picks out the odd item far above chance."""
    from helpers.models import ContrastSaliencyNet

    train, validation, test = saliency_splits("sample", small_sample, WholeDataset=40, seed=3)
    row = baselines.no_learning_baseline(validation, test, (96, 128), ContrastSaliencyNet(weights="random"))
    assert row.maps.shape == (len(test), 96, 128) and np.isfinite(row.maps).all()
    scores = evaluation.evaluate({NO_LEARNING: row.maps}, test, (0.25, 0.25), progress=False)
    overall = evaluation.per_model(evaluation.summarise(scores))[0]
    assert overall[NO_LEARNING]["singleton AUC"] > 0.7 and overall[NO_LEARNING]["AUC-Judd"] > overall[CENTRE_BIAS]["AUC-Judd"]
