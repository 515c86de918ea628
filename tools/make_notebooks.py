"""The cells of every notebook: `make notebooks` (or `python tools/make_notebooks.py`) writes them.

Edit a notebook in JupyterLab or here; when it is here, run this script and commit both. Notebooks
03–06 are one template with a different LAYER default; tests/test_notebook_sources.py fails when
they drift apart.
"""
from pathlib import Path

import nbformat

from nbtools import notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

SALIENCY_MODEL = [
("md", """
# 01 · Saliency prediction with a halved SalNet

Part 1 of the assignment (`SPEC.md`, Tables 1 and 2): a half-width version of the deep SalNet of
Pan et al. (CVPR 2016) learns to predict where people look. This notebook loads the data, builds the
network, trains it (or loads the finished checkpoint), and draws the assignment's two figures:
the loss per epoch and a grid of images, ground-truth maps and predictions. Notebook 02 evaluates
the checkpoint it leaves behind.

Run it here top to bottom, or headless: `papermill notebooks/01_saliency_model.ipynb out.ipynb -p WholeDataset 80`.
"""),
("code", """
WholeDataset: "Union[bool, int]" = True  # True: every image; a number: only that many images, spread over the categories
DATASET: str = "auto"         # auto (the first of data/cat2000, salicon, mit1003 that is there, else the generated sample), cat2000, salicon, mit1003 or sample
DATA_DIR: str = ""            # folder of the data set; empty for its default under data/
EPOCHS: int = 20              # Table 2: 20
BATCH_SIZE: int = 2           # Table 2: 2
OPTIMIZER: str = "sgd"        # Table 2: sgd (momentum 0.9); adam trains faster in short smoke runs
LEARNING_RATE: float = 1e-4     # Table 2: 1e-4, multiplied by 0.1 every LR_STEP epochs
LR_STEP: int = 10             # Table 2: 10
IMAGE_SIZE: list[int] = [240, 320]  # network input (height, width); Table 2: 240×320
CEIL_MODE: bool = False        # False: PyTorch's floor pooling (output 236×316, the assignment); True: Caffe's (240×320, the paper)
DEVICE: str = "auto"          # auto (CUDA, then Apple MPS, then CPU), cuda, mps or cpu
MIXED_PRECISION: bool = False  # bf16 autocast and channels-last (CUDA only)
NUM_WORKERS: int = 0          # DataLoader worker processes
SEED: int = 0                 # one seed for the split, the initial weights and the shuffling
RETRAIN: bool = False          # True: train again even when a finished checkpoint exists
""", "parameters"),
("code", """
import torch

from helpers import paths, plots
from helpers.data import SaliencyDataset, make_loader, resolve_saliency_dataset, saliency_splits
from helpers.io import write_json_atomic
from helpers.models import SaliencyNet, count_parameters
from helpers.training import TrainingConfig, fit, predict, select_device, set_seed

set_seed(SEED)
device = select_device(DEVICE)
print(f"device: {device}")
"""),
("md", """
## Data

CAT2000 (20 categories × 100 images) split 85 % / 15 % inside each category by the assignment's
`dirs_loader` — or SALICON (its own train and val sets) or MIT1003 (85 % / 15 %), set by `DATASET`. Without the real data the generated **sample** is used: visual-search displays with
one odd-one-out item and fixations drawn from a stated model (see `helpers/samples.py`) — a sample
for running the pipeline, not the paper's data. Images are resized to the network input and scaled
to [-1, 1]; maps to the network's output size. Decoded images are cached, so only the first epoch
reads the JPEGs.
"""),
("code", """
dataset_name, data_root = resolve_saliency_dataset(DATASET, DATA_DIR)
train_items, val_items = saliency_splits(dataset_name, data_root, WholeDataset, SEED)
print(f"data: {dataset_name} ({data_root}); {len(train_items)} training and {len(val_items)} validation images")

model = SaliencyNet(ceil_mode=CEIL_MODE)
map_size = model.output_size(tuple(IMAGE_SIZE))
train_set = SaliencyDataset(train_items, IMAGE_SIZE, map_size)
val_set = SaliencyDataset(val_items, IMAGE_SIZE, map_size)
train_loader = make_loader(train_set, BATCH_SIZE, shuffle=True, seed=SEED, num_workers=NUM_WORKERS)
val_loader = make_loader(val_set, BATCH_SIZE, num_workers=NUM_WORKERS)
"""),
("md", """
## Model

Table 1: nine convolutions (48-128-256-256-256-128-64-16-1 channels), LRN and max-pooling after
conv1, max-pooling after conv2, ReLU after conv1–conv8, and a bias-free transposed convolution that
upsamples by 4.
"""),
("code", """
print(model)
print(f"{count_parameters(model):,} parameters; input {tuple(IMAGE_SIZE)} → output {map_size}")
"""),
("md", """
## Training

MSE between the predicted and ground-truth maps. A checkpoint is written every epoch: an interrupted
run resumes where it stopped, and a finished run is loaded instead of trained again.
"""),
("code", """
config = TrainingConfig(epochs=EPOCHS, batch_size=BATCH_SIZE, optimizer=OPTIMIZER, lr=LEARNING_RATE,
                        step_size=LR_STEP, seed=SEED, mixed_precision=MIXED_PRECISION,
                        channels_last=MIXED_PRECISION)
checkpoint = paths.checkpoint_dir() / f"saliency_{dataset_name}.pt"
run = fit(model, train_loader, val_loader, config, checkpoint, device=device, retrain=RETRAIN,
          metadata={"dataset": dataset_name, "data_root": str(data_root), "WholeDataset": WholeDataset,
                    "image_size": list(IMAGE_SIZE), "ceil_mode": CEIL_MODE, "seed": SEED})
print(f"lowest train loss {min(run.train_loss):.4f}, lowest validation loss {min(run.val_loss):.4f}")
write_json_atomic(paths.ensure(paths.metrics_dir()) / "saliency_training.json", {
    "dataset": dataset_name, "WholeDataset": WholeDataset, "train_images": len(train_items),
    "val_images": len(val_items), "parameters": count_parameters(model), "image_size": list(IMAGE_SIZE),
    "output_size": list(map_size), "ceil_mode": CEIL_MODE, "config": vars(config), "history": run.history,
    "lowest_train_loss": min(run.train_loss), "lowest_val_loss": min(run.val_loss)})
"""),
("md", "## Figure 1 — loss per epoch"),
("code", """
figure = plots.loss_curves({"SalNet (half)": run.history},
                           title=f"Saliency network, {dataset_name}: MSE per epoch")
plots.save_figure(figure, "fig1_saliency_loss", vector=True);
"""),
("md", "## Figure 2 — images, ground truth and predictions (validation)"),
("code", """
shown = range(min(6, len(val_set)))
images, maps = (torch.stack(t) for t in zip(*(val_set[i] for i in shown)))
predictions = predict(model, make_loader(torch.utils.data.TensorDataset(images), BATCH_SIZE), device)
figure = plots.saliency_examples(images, maps, predictions,
                                 labels=[f"{val_items[i].category}/{val_items[i].stimulus.stem}" for i in shown])
plots.save_figure(figure, "fig2_saliency_predictions");
"""),
("md", """
On CAT2000 the assignment saw both losses fall below 0.04 within 10–15 epochs and then level off,
with predictions that still differ visibly from the ground truth. Notebook 02 measures how well the
maps predict fixations.
"""),
]

JUDD_AUC_EVALUATION = [
("md", """
# 02 · Judd AUC and the other saliency metrics

The assignment describes evaluating the saliency network with the Judd AUC (Judd et al. 2012) but
never wrote the code. Here it is, exact to the MIT saliency benchmark's `AUC_Judd.m`, beside the
benchmark's other metrics. The network from notebook 01 is scored on the held-out images of the
same split, against two baselines used as saliency models: a centre-bias Gaussian (its width fitted
on the training fixations) and chance.

**How the Judd AUC works.** The predicted map is a classifier of *fixated* pixels. For a threshold,
the true-positive rate is the fraction of fixated pixels whose saliency is at or above it, the
false-positive rate the fraction of all other pixels at or above it. Sweeping the threshold over
the values at the fixated pixels traces the ROC curve; the score is the area under it (0.5 = chance,
1 = every fixated pixel above every other pixel). Ground truth stays at the stimulus' resolution and
the prediction is upsampled to it, as the benchmark does.
"""),
("code", """
WholeDataset: "Union[bool, int]" = True  # True: every held-out image of notebook 01's split; a number: at most that many
DATASET: str = "auto"    # the data set notebook 01 trained on: auto, cat2000, salicon, mit1003 or sample
DATA_DIR: str = ""       # folder of the data set; empty for its default under data/
JITTER: bool = True      # AUC-Judd: add uniform noise in [0, 1e-7) to break ties, as MIT does by default
SEED: int = 0            # seed for the jitter, the random splits of AUC-Borji and sAUC, and chance
DEVICE: str = "auto"     # auto (CUDA, then Apple MPS, then CPU), cuda, mps or cpu
""", "parameters"),
("code", """
import numpy as np

from helpers import metrics, paths, plots
from helpers.data import load_rgb, resolve_saliency_dataset, saliency_splits, select_subset
from helpers.evaluation import (MODELS, evaluate, load_ground_truth, load_saliency_model, model_maps,
                                predict_saliency, summarise, upsample)
from helpers.io import write_json_atomic, write_text_atomic
from helpers.training import select_device

device = select_device(DEVICE)
dataset_name, data_root = resolve_saliency_dataset(DATASET, DATA_DIR)
model, trained = load_saliency_model(paths.checkpoint_dir() / f"saliency_{dataset_name}.pt", device)
print(f"model: notebook 01's network, {trained['epochs_trained']} epochs on {dataset_name}, input {trained['image_size']}")
"""),
("md", """
## Held-out images

The split is rebuilt from the settings stored in the checkpoint, so no training image is scored.
"""),
("code", """
train_items, val_items = saliency_splits(dataset_name, data_root, trained["WholeDataset"], trained["seed"])
if WholeDataset is not True:
    val_items = [i for group in select_subset(val_items, WholeDataset, SEED).values() for i in group]
centre_sigma = metrics.fit_centre_bias(load_ground_truth(i).fixations for i in train_items)
print(f"{len(val_items)} held-out images; centre bias fitted on {len(train_items)} training images: "
      f"sigma = {centre_sigma[0]:.3f} × height, {centre_sigma[1]:.3f} × width")
"""),
("md", "## Scoring every image with every metric"),
("code", """
predictions = predict_saliency(model, val_items, trained["image_size"], device)
scores = evaluate(predictions, val_items, centre_sigma, jitter=JITTER, seed=SEED)
table = summarise(scores)
table.round(4)
"""),
("code", """
folder = paths.ensure(paths.metrics_dir())
write_text_atomic(folder / "saliency_scores_per_image.csv", scores.to_csv(index=False))
write_text_atomic(folder / "saliency_metrics.csv", table.to_csv())
overall = {model_name: table.loc[(model_name, "all")].to_dict() for model_name in MODELS}
write_json_atomic(folder / "saliency_metrics.json", {
    "dataset": dataset_name, "held_out_images": len(val_items), "jitter": JITTER, "seed": SEED,
    "centre_bias_sigma": centre_sigma, "epochs_trained": trained["epochs_trained"], "overall": overall,
    "per_category": {f"{m}/{c}": row.to_dict() for (m, c), row in table.iterrows()},
})
model_auc, centre_auc = overall[MODELS[0]]["AUC-Judd"], overall[MODELS[1]]["AUC-Judd"]
print(f"mean AUC-Judd: network {model_auc:.4f}, centre bias {centre_auc:.4f}, chance {overall[MODELS[2]]['AUC-Judd']:.4f}")
"""),
("md", "## ROC curves for a few images"),
("code", """
shown = np.linspace(0, len(val_items) - 1, num=min(3, len(val_items)), dtype=int)
curves = {}
for i in shown:
    truth = load_ground_truth(val_items[i])
    maps = model_maps(predictions[i], truth.fixations.shape, centre_sigma, SEED + i)
    curves[f"{val_items[i].category}/{val_items[i].stimulus.stem}"] = {
        name: (*metrics.roc_curve_judd(m, truth.fixations, JITTER, SEED + i),
               metrics.auc_judd(m, truth.fixations, JITTER, SEED + i)) for name, m in maps.items()}
plots.save_figure(plots.roc_panels(curves), "fig_saliency_roc", vector=True);
"""),
("md", "## Distribution of the per-image Judd AUC"),
("code", """
plots.save_figure(plots.score_distribution(scores, "AUC-Judd"), "fig_saliency_auc_distribution", vector=True);
"""),
("md", "## Best and worst predictions"),
("code", """
ranked = scores[scores["model"] == MODELS[0]].reset_index(drop=True).sort_values("AUC-Judd")
picked = list(ranked.index[-3:][::-1]) + list(ranked.index[:3])
pictures = {"image and fixations": [], "ground truth": [], "prediction": []}
for i in picked:
    truth = load_ground_truth(val_items[i])
    image = np.asarray(load_rgb(val_items[i].stimulus, expected_size=truth.fixations.shape[::-1])) / 255
    pictures["image and fixations"].append(plots.with_fixations(image, truth.fixations))
    pictures["ground truth"].append(truth.density)
    pictures["prediction"].append(upsample(predictions[i], truth.fixations.shape))
labels = [f"{'best' if k < 3 else 'worst'}: AUC {ranked.loc[i, 'AUC-Judd']:.3f}" for k, i in enumerate(picked)]
plots.save_figure(plots.image_grid(pictures, row_labels=labels), "fig_saliency_best_worst");
"""),
]

LAYER_NOTEBOOKS = {"03_invert_conv2": "conv2", "04_invert_conv5": "conv5", "05_invert_fc6": "fc6",
                   "06_invert_fc8": "fc8"}

TEMPLATE = [
("md", """
# Inverting AlexNet's LAYER_NAME

Part 2 of the assignment (Dosovitskiy & Brox, CVPR 2016): a decoder learns to reconstruct the input
image from the activations of one layer of a frozen, ImageNet-trained AlexNet. How much of the image
survives in that layer is what the reconstructions show. This notebook inverts the layer named by
`LAYER` (any of conv1 … conv5, fc6, fc7, fc8); notebook 07 compares every layer that has been trained.
The decoder follows Tables 3 and 4, the training Table 5 (Adam, MSE in normalised pixel space).
"""),
("code", """
WholeDataset: "Union[bool, int]" = True  # True: the whole training set; a number: that many training images and a fifth as many test images
LAYER: str = "LAYER_NAME"  # the AlexNet layer to invert: conv1 … conv5, fc6, fc7 or fc8
DATASET: str = "auto"    # auto (Tiny-ImageNet when under data/, else the generated sample), tiny-imagenet, imagenet or sample
DATA_DIR: str = ""       # folder of the data set; empty for its default under data/
WEIGHTS: str = ""        # AlexNet weights in torchvision's format; empty: torchvision's cache, then its download
REQUIRE_PRETRAINED: bool = False  # True: stop rather than fall back to random weights (use for real runs)
EPOCHS: int = 20         # Table 5: 20
BATCH_SIZE: int = 64     # Table 5: 64
LEARNING_RATE: float = 1e-3  # Table 5: Adam 1e-3, multiplied by 0.1 every LR_STEP epochs
LR_STEP: int = 5         # Table 5: 5
IMAGE_SIZE: int = 227    # AlexNet input side; Table 5: 227
DEVICE: str = "auto"     # auto (CUDA, then Apple MPS, then CPU), cuda, mps or cpu
MIXED_PRECISION: bool = False  # bf16 autocast and channels-last (CUDA only)
NUM_WORKERS: int = 0     # DataLoader worker processes
SEED: int = 0            # one seed for the subset, the initial weights and the shuffling
RETRAIN: bool = False    # True: train again even when a finished checkpoint exists
""", "parameters"),
("code", """
from dataclasses import replace

import torch

from helpers import plots
from helpers.data import InversionDataset, make_loader, resolve_inversion_dataset
from helpers.inversion import build_inverter, checkpoint_path, reconstruct, reconstruction_metrics, to_pixels, weights_note
from helpers.models import FEATURE_SHAPES, count_parameters
from helpers.training import INVERSION_TRAINING, fit, select_device, set_seed

set_seed(SEED)
device = select_device(DEVICE)
print(f"device: {device}; inverting {LAYER}")
"""),
("md", """
## Data

Tiny-ImageNet (the original code's 20 classes, seed 476) or an ImageNet folder; without them, the
generated **sample**: crops of photographs that ship inside scikit-image, scikit-learn and matplotlib
(credits in its `SOURCES.md`) — a sample for running the pipeline, not the paper's data. Images are
resized to the AlexNet input and normalised with the ImageNet mean and std.
"""),
("code", """
dataset_name, data_root, train_items, test_items = resolve_inversion_dataset(DATASET, DATA_DIR, WholeDataset, SEED)
print(f"data: {dataset_name} ({data_root}); {len(train_items)} training and {len(test_items)} test images")
train_loader = make_loader(InversionDataset(train_items, IMAGE_SIZE), BATCH_SIZE, shuffle=True, seed=SEED,
                           num_workers=NUM_WORKERS)
test_set = InversionDataset(test_items, IMAGE_SIZE)
test_loader = make_loader(test_set, BATCH_SIZE, num_workers=NUM_WORKERS)
"""),
("md", "## Encoder and decoder"),
("code", """
inverter = build_inverter(LAYER, WEIGHTS, REQUIRE_PRETRAINED, IMAGE_SIZE)
note = weights_note(inverter)
print(note)
print(f"{LAYER} features: {FEATURE_SHAPES[LAYER]}; decoder: {count_parameters(inverter.decoder):,} parameters")
print(inverter.decoder)
"""),
("md", """
## Training

Only the decoder learns; the encoder stays frozen in eval mode. A checkpoint is written every epoch:
an interrupted run resumes, a finished one is loaded.
"""),
("code", """
config = replace(INVERSION_TRAINING, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LEARNING_RATE, step_size=LR_STEP,
                 seed=SEED, mixed_precision=MIXED_PRECISION, channels_last=MIXED_PRECISION)
run = fit(inverter, train_loader, test_loader, config, checkpoint_path(LAYER, dataset_name), device=device,
          trainable=inverter.decoder, retrain=RETRAIN,
          metadata={"layer": LAYER, "dataset": dataset_name, "WholeDataset": WholeDataset,
                    "image_size": IMAGE_SIZE, "weights": note, "seed": SEED})
print(f"lowest train loss {min(run.train_loss):.4f}, lowest test loss {min(run.val_loss):.4f}")
"""),
("md", "## Figure 3 — loss per epoch"),
("code", """
figure = plots.loss_curves({LAYER: run.history}, title=f"Decoder for {LAYER}: MSE per epoch\\n{note}")
plots.save_figure(figure, f"fig3_inversion_loss_{LAYER}", vector=True);
"""),
("md", "## Figure 4 — originals and their reconstructions (test images)"),
("code", """
picked = torch.linspace(0, len(test_set) - 1, min(8, len(test_set))).long().tolist()  # spread over the classes
shown = torch.stack([test_set[i][0] for i in picked])
reconstructions = reconstruct(inverter, shown, device)
figure = plots.reconstruction_grid(to_pixels(shown), {LAYER: to_pixels(reconstructions)}, title=note)
plots.save_figure(figure, f"fig4_reconstructions_{LAYER}");
"""),
("code", """
all_test = torch.cat([batch[0] for batch in test_loader])
scores = reconstruction_metrics(all_test, reconstruct(inverter, all_test, device), seed=SEED)
print(f"{LAYER} on {scores['images']} test images: MSE {scores['MSE']:.4f}, normalised error "
      f"{scores['normalised error']:.3f}, PSNR {scores['PSNR']:.2f} dB, SSIM {scores['SSIM']:.3f}")
"""),
]

SUMMARY = [
("md", """
# 07 · Inverting AlexNet: every layer compared

Compares every layer whose decoder has been trained (notebooks 03–06, or any layer through their
`LAYER` parameter): the loss curves side by side, the reconstruction error against depth, one grid
with a column per layer, and a table of MSE, the paper's normalised reconstruction error (mean
‖x − x̂‖ over the mean distance between random pairs of test images; the mean image scores about
0.71), PSNR and SSIM, written to `report/metrics/`.

The assignment saw the error grow with depth (fc8 about 8× conv2 in the loss): conv2 keeps colours,
outlines and the object; conv5 blurrier but recognisable; fc6 colours and rough position; fc8 mostly
the colour distribution.
"""),
("code", """
WholeDataset: "Union[bool, int]" = True  # must match the layer notebooks: the test images are chosen the same way
DATASET: str = "auto"    # auto (Tiny-ImageNet when under data/, else the generated sample), tiny-imagenet, imagenet or sample
DATA_DIR: str = ""       # folder of the data set; empty for its default under data/
WEIGHTS: str = ""        # AlexNet weights in torchvision's format; empty: torchvision's cache, then its download
REQUIRE_PRETRAINED: bool = False  # True: stop rather than fall back to random weights (use for real runs)
IMAGE_SIZE: int = 227    # AlexNet input side; Table 5: 227
EXAMPLES: int = 6        # rows of the comparison grid
DEVICE: str = "auto"     # auto (CUDA, then Apple MPS, then CPU), cuda, mps or cpu
SEED: int = 0            # the seed the layer notebooks used
""", "parameters"),
("code", """
import pandas as pd
import torch

from helpers import paths, plots
from helpers.data import InversionDataset, make_loader, resolve_inversion_dataset
from helpers.inversion import build_inverter, load_decoder, reconstruct, reconstruction_metrics, to_pixels, trained_layers
from helpers.io import write_json_atomic, write_text_atomic
from helpers.training import select_device

device = select_device(DEVICE)
dataset_name, data_root, _, test_items = resolve_inversion_dataset(DATASET, DATA_DIR, WholeDataset, SEED)
layers = trained_layers(dataset_name)
if not layers:
    raise RuntimeError(f"no trained decoder for {dataset_name}: run notebooks 03-06 first")
print(f"data: {dataset_name}; {len(test_items)} test images; trained layers: {', '.join(layers)}")
"""),
("md", "## Every trained layer on the same test images"),
("code", """
test_images = torch.cat([batch[0] for batch in make_loader(InversionDataset(test_items, IMAGE_SIZE), 64)])
histories, reconstructions, rows, notes = {}, {}, {}, set()
for layer in layers:
    inverter = build_inverter(layer, WEIGHTS, REQUIRE_PRETRAINED, IMAGE_SIZE)
    state = load_decoder(inverter, dataset_name)
    notes.add(inverter.encoder.weights_description)
    if state["metadata"].get("weights") != inverter.encoder.weights_description:
        print(f"warning: the {layer} decoder was trained on '{state['metadata'].get('weights')}'")
    histories[layer] = state["history"]
    reconstructions[layer] = reconstruct(inverter, test_images, device)
    rows[layer] = {"lowest train loss": min(r["train_loss"] for r in state["history"]),
                   "lowest validation loss": min(r["val_loss"] for r in state["history"]),
                   "epochs": state["epoch"],
                   **reconstruction_metrics(test_images, reconstructions[layer], seed=SEED)}
note = " / ".join(sorted(notes))
table = pd.DataFrame.from_dict(rows, orient="index")
table.index.name = "layer"
print(note)
table.round(4)
"""),
("code", """
folder = paths.ensure(paths.metrics_dir())
write_text_atomic(folder / "inversion_metrics.csv", f"# {note}\\n" + table.to_csv())
write_json_atomic(folder / "inversion_metrics.json", {"weights": note, "dataset": dataset_name,
                                                      "test_images": len(test_items), "layers": rows})
"""),
("md", "## Figure 3 — loss per epoch, every layer"),
("code", """
plots.save_figure(plots.loss_curves(histories, title=f"Decoders: MSE per epoch\\n{note}"),
                  "fig3_inversion_loss_all_layers", vector=True);
"""),
("md", "## Reconstruction error against depth"),
("code", """
plots.save_figure(plots.error_by_layer(table, title=note), "fig_inversion_error_by_layer", vector=True);
"""),
("md", "## Figure 4 — originals and reconstructions from every layer"),
("code", """
shown = torch.linspace(0, len(test_images) - 1, min(EXAMPLES, len(test_images))).long()  # spread over the classes
figure = plots.reconstruction_grid(to_pixels(test_images[shown]),
                                   {layer: to_pixels(r[shown]) for layer, r in reconstructions.items()}, title=note)
plots.save_figure(figure, "fig4_reconstructions_all_layers");
"""),
]


def render(cells, layer):
    return [(kind, source.replace("LAYER_NAME", layer), *tags) for kind, source, *tags in cells]


if __name__ == "__main__":
    nbformat.write(notebook(SALIENCY_MODEL), NOTEBOOKS / "01_saliency_model.ipynb")
    nbformat.write(notebook(JUDD_AUC_EVALUATION), NOTEBOOKS / "02_judd_auc_evaluation.ipynb")
    for stem, layer in LAYER_NOTEBOOKS.items():
        nbformat.write(notebook(render(TEMPLATE, layer)), NOTEBOOKS / f"{stem}.ipynb")
    nbformat.write(notebook(SUMMARY), NOTEBOOKS / "07_inversion_summary.ipynb")
