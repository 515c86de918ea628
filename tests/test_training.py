import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from helpers.data import make_loader
from helpers.encoders import FrozenThenTrained
from helpers.checkpoints import CheckpointError, checkpoint_path, read_checkpoint
from helpers.parallel import select_device
from helpers.training import NonFiniteLossError, duration_text, fit
from helpers.spec import Spec

MSE = nn.MSELoss()


def tiny_problem(seed=0, n=24):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 8, 8, generator=generator)
    targets = inputs.mean(dim=1, keepdim=True).tanh()
    return TensorDataset(inputs, targets)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))


class TinyFrozenThenTrained(FrozenThenTrained):
    """A frozen convolution (the same weights whatever ``seed``: a pretrained front end) and a trained one."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(7)
        self.front_end = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()).requires_grad_(False)
        torch.manual_seed(seed)
        self.readout = nn.Conv2d(8, 1, 3, padding=1)

    def _frozen_features(self, images):
        return self.front_end(images)

    def forward(self, images):
        return self.readout(self.frozen_features(images))


def loaders(batch_size=4, seed=0):
    data = tiny_problem()
    return make_loader(data, batch_size, shuffle=True, seed=seed), make_loader(data, batch_size)


CONFIG = Spec(epochs=5, batch_size=4, learning_rate=0.05, lr_step=2, seed=0)


class Interrupt(Exception):
    pass


def interrupt_after(epoch):
    def hook(done, row):
        if done == epoch:
            raise Interrupt
    return hook


@pytest.mark.parametrize("build", [tiny_model, TinyFrozenThenTrained], ids=["trained whole", "frozen front end"])
def test_resumed_run_equals_uninterrupted_run_bit_for_bit(tmp_path, build):
    """With a frozen front end too, whose features the uninterrupted run looks up from epoch 1 and the
    resumed one computes afresh, in other batches."""
    whole = build()
    fit(whole, *loaders(), CONFIG, tmp_path / "whole.pt", device="cpu", progress=False, loss_fn=MSE)

    interrupted = build()
    with pytest.raises(Interrupt):
        fit(interrupted, *loaders(), CONFIG, tmp_path / "cut.pt", device="cpu", progress=False,
            on_epoch_end=interrupt_after(2), loss_fn=MSE)
    resumed = build(seed=123)  # a fresh process would build the model again
    run = fit(resumed, *loaders(), CONFIG, tmp_path / "cut.pt", device="cpu", progress=False, loss_fn=MSE)

    assert run.resumed_from_epoch == 2 and [r["epoch"] for r in run.history] == [1, 2, 3, 4, 5]
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name


def test_a_frozen_front_end_computes_each_image_once_however_many_epochs(tmp_path):
    model = TinyFrozenThenTrained()
    batches = []
    model.front_end.register_forward_hook(lambda module, inputs, out: batches.append(inputs[0].shape[0]))
    run = fit(model, *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    # 24 images (the validation loader shows the same ones), each once and alone, over 5 epochs of both loaders
    assert batches == [1] * 24 and len(run.history) == 5
    assert run.train_loss[-1] < run.train_loss[0]
    assert model.feature_memo is None  # dropped when fit returns: later predictions compute as usual
    model(torch.zeros(2, 3, 8, 8))
    assert batches[-1] == 2


def test_training_lowers_the_loss_and_follows_the_schedule(tmp_path):
    run = fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    assert run.train_loss[-1] < 0.5 * run.train_loss[0]
    assert [r["lr"] for r in run.history] == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005])


def test_a_finished_run_is_loaded_not_retrained(tmp_path):
    trained = tiny_model()
    fit(trained, *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    calls = []
    reloaded = tiny_model(seed=9)
    run = fit(reloaded, *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False,
              on_epoch_end=lambda *a: calls.append(a), loss_fn=MSE)
    assert calls == [] and run.loaded_finished and len(run.history) == 5
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), reloaded.state_dict().values()))

    run = fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False,
              retrain=True, on_epoch_end=lambda *a: calls.append(a), loss_fn=MSE)
    assert len(calls) == 5 and not run.loaded_finished


def test_a_checkpoint_of_other_settings_is_never_overwritten(tmp_path):
    adam = Spec(epochs=6, batch_size=4, optimizer="adam", learning_rate=1e-3, lr_step=2)
    trained = tiny_model()
    fit(trained, *loaders(), adam, tmp_path / "a.pt", device="cpu", progress=False, loss_fn=MSE)
    before = (tmp_path / "a.pt").read_bytes()
    other = Spec(epochs=6, batch_size=4, optimizer="adam", learning_rate=5e-4, lr_step=2)
    with pytest.raises(CheckpointError, match=r"a\.pt.*LEARNING_RATE: 0\.001 in the file, 0\.0005 now"):
        fit(tiny_model(), *loaders(), other, tmp_path / "a.pt", device="cpu", progress=False, loss_fn=MSE)
    assert (tmp_path / "a.pt").read_bytes() == before  # the 6-epoch run is intact
    fit(tiny_model(), *loaders(), adam, tmp_path / "b.pt", device="cpu", progress=False, metadata={"WholeDataset": 80}, loss_fn=MSE)
    with pytest.raises(CheckpointError, match=r"WholeDataset: 80 in the file, 40 now"):
        fit(tiny_model(), *loaders(), adam, tmp_path / "b.pt", device="cpu", progress=False,
            metadata={"WholeDataset": 40}, loss_fn=MSE)


def test_retraining_keeps_the_old_checkpoint_beside_the_new_one(tmp_path):
    fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    before = (tmp_path / "c.pt").read_bytes()
    other = Spec(epochs=2, batch_size=4, learning_rate=0.01, lr_step=2)
    run = fit(tiny_model(), *loaders(), other, tmp_path / "c.pt", device="cpu", progress=False, retrain=True, loss_fn=MSE)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("c.replaced-")]
    assert len(kept) == 1 and kept[0].read_bytes() == before
    assert read_checkpoint(tmp_path / "c.pt")["epoch"] == 2 and len(run.history) == 2


def test_checkpoints_are_named_by_their_settings():
    one = checkpoint_path("saliency", "cat2000", CONFIG, {"WholeDataset": True, "image_size": [240, 320]})
    again = checkpoint_path("saliency", "cat2000", CONFIG, {"image_size": (240, 320), "WholeDataset": True})
    smaller = checkpoint_path("saliency", "cat2000", CONFIG, {"WholeDataset": 80, "image_size": [240, 320]})
    longer = checkpoint_path("saliency", "cat2000", Spec(epochs=9, batch_size=4, learning_rate=0.05, lr_step=2),
                             {"WholeDataset": True, "image_size": [240, 320]})
    assert one == again == longer  # more epochs continue the same run
    assert one != smaller and one.name.startswith("saliency_cat2000_") and smaller.name.startswith("saliency_cat2000_")


def test_a_crafted_checkpoint_cannot_run_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    crafted = tmp_path / "crafted.pt"
    torch.save({"model": Payload()}, crafted)
    with pytest.raises(CheckpointError, match="crafted.pt: not a readable checkpoint"):
        read_checkpoint(crafted)
    assert not (tmp_path / "pwned").exists()


def test_a_truncated_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    whole = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CheckpointError, match="cut.pt: not a readable checkpoint"):
        read_checkpoint(tmp_path / "cut.pt")
    torch.save(tiny_model().state_dict(), tmp_path / "weights.pt")  # a plain state dict, not a training run
    with pytest.raises(CheckpointError, match=r"weights.pt: not a checkpoint written by this project"):
        read_checkpoint(tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="cut.pt"):  # fit stops too, and leaves the file alone
        fit(tiny_model(), *loaders(), CONFIG, tmp_path / "cut.pt", device="cpu", progress=False, loss_fn=MSE)
    assert (tmp_path / "cut.pt").read_bytes() == whole[: len(whole) // 2]


def test_more_epochs_continue_a_finished_run(tmp_path):
    fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    longer = Spec(epochs=7, batch_size=4, learning_rate=0.05, lr_step=2)
    run = fit(tiny_model(), *loaders(), longer, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)
    assert run.resumed_from_epoch == 5 and len(run.history) == 7


def test_checkpoint_is_written_atomically_and_loads(tmp_path):
    model = tiny_model()
    fit(model, *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False,
        metadata={"image_size": [8, 8]}, loss_fn=MSE)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".c.pt.lock", "c.pt"]  # no temporary file left behind
    state = read_checkpoint(tmp_path / "c.pt")
    tiny_model(seed=4).load_state_dict(state["model"])
    assert state["metadata"] == {"image_size": [8, 8]} and state["epoch"] == 5


def test_non_finite_loss_stops_training_naming_epoch_and_batch(tmp_path):
    data = tiny_problem()
    data.tensors[1][9] = float("nan")  # batch 3 of epoch 1 (unshuffled, batch 4)
    loader = make_loader(data, 4)
    with pytest.raises(NonFiniteLossError, match="epoch 1, batch 3"):
        fit(tiny_model(), loader, None, CONFIG, tmp_path / "c.pt", device="cpu", progress=False, loss_fn=MSE)


def test_only_the_trainable_part_is_optimised_and_saved(tmp_path):
    encoder, decoder = nn.Conv2d(3, 3, 1), nn.Conv2d(3, 1, 1)
    encoder.requires_grad_(False)
    frozen = encoder.weight.clone()
    model = nn.Sequential(encoder, decoder)
    fit(model, *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", trainable=decoder, progress=False, loss_fn=MSE)
    assert torch.equal(encoder.weight, frozen)
    assert set(read_checkpoint(tmp_path / "c.pt")["model"]) == {"weight", "bias"}


@pytest.mark.parametrize("bad, parameter", [(dict(epochs=0), "EPOCHS"), (dict(batch_size=-1), "BATCH_SIZE"),
                                            (dict(learning_rate=0), "LEARNING_RATE"), (dict(optimizer="rmsprop"), "OPTIMIZER"),
                                            (dict(betas=(0.9, 1.5)), "BETAS"), (dict(gamma=0), "GAMMA")])
def test_bad_settings_are_clear_errors_naming_the_parameter(bad, parameter):
    with pytest.raises(ValueError, match=parameter):
        Spec(**bad)


def test_a_device_that_is_not_there_or_not_known_is_refused_by_name():
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'mps', got 'tpu'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device 'cuda' was asked for, but no CUDA GPU is visible"):
            select_device("cuda")
        assert select_device("auto").type in {"cpu", "mps"}


def test_a_finished_checkpoint_keeps_no_optimiser_state_and_more_epochs_still_continue(tmp_path, capsys):
    adam = Spec(epochs=3, batch_size=4, optimizer="adam", learning_rate=1e-3, lr_step=2)
    cut = tmp_path / "cut.pt"

    def wide_model():  # big enough that the weights, not the file's bookkeeping, set its size
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 256, 3, padding=1), nn.ReLU(), nn.Conv2d(256, 1, 3, padding=1))

    with pytest.raises(Interrupt):
        fit(wide_model(), *loaders(), adam, cut, device="cpu", progress=False, on_epoch_end=interrupt_after(2), loss_fn=MSE)
    assert read_checkpoint(cut)["optimizer"] is not None  # mid-run: resumable exactly
    mid_run_size = cut.stat().st_size
    fit(wide_model(), *loaders(), adam, cut, device="cpu", progress=False, loss_fn=MSE)
    finished = read_checkpoint(cut)
    assert finished["optimizer"] is None and finished["epoch"] == finished["epochs_planned"] == 3
    assert cut.stat().st_size < 0.6 * mid_run_size  # Adam's two moments per weight are gone
    longer = Spec(epochs=4, batch_size=4, optimizer="adam", learning_rate=1e-3, lr_step=2)
    run = fit(wide_model(), *loaders(), longer, cut, device="cpu", progress=False, loss_fn=MSE)
    assert run.resumed_from_epoch == 3 and len(run.history) == 4
    assert "kept no optimiser state" in capsys.readouterr().out


def test_the_first_epoch_says_what_the_remaining_epochs_will_take_at_its_pace_and_nothing_more(tmp_path, capsys):
    run = fit(tiny_model(), *loaders(batch_size=2), CONFIG, tmp_path / "c.pt", device="cpu", loss_fn=MSE)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch   1/5") and "validation" in lines[0]
    first = run.history[0]["seconds"]
    assert lines[1].strip() == (f"at most about {duration_text(4 * first)} more for the remaining 4 epochs "
                                "(this one's pace; it also read every image once)")
    assert [line.split()[1] for line in lines[2:]] == ["2/5", "3/5", "4/5", "5/5"]   # one line an epoch after it


def test_on_save_sees_every_checkpoint_and_a_loaded_finished_run(tmp_path):
    seen = []
    fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False,
        on_save=lambda run: seen.append((len(run.history), run.epochs_planned)), loss_fn=MSE)
    fit(tiny_model(), *loaders(), CONFIG, tmp_path / "c.pt", device="cpu", progress=False,
        on_save=lambda run: seen.append((len(run.history), run.loaded_finished)), loss_fn=MSE)
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5), (5, True)]


@pytest.mark.slow
def test_bf16_autocast_on_the_cpu_follows_the_float32_loss_curve_of_salnet(tmp_path):
    """The smoke profile trains in bf16 where the CPU computes it: the halved SalNet's loss per epoch,
    from the same start and the same batches, stays within 10 % of float32's — and bf16 really ran."""
    from helpers.models import SaliencyNet
    from helpers.saliency import DistributionKL

    generator = torch.Generator().manual_seed(0)
    images = torch.rand(6, 3, 32, 48, generator=generator)
    maps = torch.nn.functional.avg_pool2d(images.mean(1, keepdim=True), 5, 1, 2)  # a map the images predict
    size = SaliencyNet()(images[:1]).shape[-2:]
    data = TensorDataset(images, torch.nn.functional.interpolate(maps, size=tuple(size)))
    curves, dtypes = {}, {}
    for bf16 in (False, True):
        torch.manual_seed(0)
        model = SaliencyNet()
        model.features[0].register_forward_hook(lambda module, args, out, bf16=bf16: dtypes.update({bf16: out.dtype}))
        config = Spec(epochs=3, batch_size=2, optimizer="adam", learning_rate=3e-4, seed=0, mixed_precision=bf16)
        run = fit(model, make_loader(data, 2, shuffle=True, seed=0), None, config, tmp_path / f"{bf16}.pt",
                  device="cpu", progress=False, loss_fn=DistributionKL())
        curves[bf16] = [row["train_loss"] for row in run.history]
    assert dtypes == {False: torch.float32, True: torch.bfloat16}
    assert curves[False][-1] < curves[False][0]  # it learns, so the curves compare something
    assert curves[True] == pytest.approx(curves[False], rel=0.1)
    assert curves[True] != curves[False]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_fused_optimiser_on_the_cpu_takes_the_steps_of_torchs_one_tensor_at_a_time_one(optimizer):
    from helpers.training import make_optimizer

    spec = Spec(optimizer=optimizer, learning_rate=1e-2, momentum=0.9, weight_decay=5e-4)
    torch.manual_seed(0)
    start = [torch.randn(64, 32), torch.randn(32)]
    fused_params = [nn.Parameter(t.clone()) for t in start]
    plain_params = [nn.Parameter(t.clone()) for t in start]
    fused = make_optimizer(fused_params, spec)
    assert fused.defaults["fused"] is True
    plain = (torch.optim.Adam(plain_params, lr=1e-2, betas=tuple(spec.betas), weight_decay=5e-4) if optimizer == "adam"
             else torch.optim.SGD(plain_params, lr=1e-2, momentum=0.9, weight_decay=5e-4))
    for step in range(5):
        gradients = [torch.randn_like(t) for t in start]
        for params, opt in ((fused_params, fused), (plain_params, plain)):
            for p, g in zip(params, gradients):
                p.grad = g.clone()
            opt.step()
    for a, b, s in zip(fused_params, plain_params, start):
        assert not torch.equal(a, s)  # it moved
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_headless_run_says_where_an_epoch_is_at_least_every_progress_interval_and_names_the_run(tmp_path, capsys,
                                                                                                 monkeypatch):
    from helpers import training

    monkeypatch.setenv("SALIENCY_PROGRESS_BARS", "0")            # headless: no bar is drawn
    monkeypatch.setattr(training, "PROGRESS_SECONDS", 0.0)       # every step is past the interval
    one_epoch = Spec(epochs=1, batch_size=2, learning_rate=0.05, lr_step=2)
    fit(tiny_model(), *loaders(batch_size=2), one_epoch, tmp_path / "c.pt", device="cpu", loss_fn=MSE,
        name="conv2 decoder, random weights")
    lines = capsys.readouterr().out.splitlines()
    steps = [line for line in lines if "steps/s" in line]
    assert len(steps) == 12 and steps[0].startswith("conv2 decoder, random weights:   epoch 1/1: step 1 of 12, ")
    assert lines[-1].startswith("conv2 decoder, random weights: epoch   1/1")
