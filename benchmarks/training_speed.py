"""Training throughput (images per second) on the CPU and, when present, a GPU.

    python benchmarks/training_speed.py [--part saliency|inversion|cpu-bf16|ddp|memo|all] [--steps 6]

``cpu-bf16``: bf16 autocast against fp32 on the CPU for the smoke profile's networks, with the loss
after the same steps from the same start (a bf16 path is used only if ≥ 1.3× faster with the same
curve). ``ddp``: images/s of one conv decoder with 1 and 2 processes (gloo, global batch 16), the
scaling efficiency. ``memo``: training epochs behind a frozen front end on the CPU, with and without
:class:`helpers.encoders.FrozenFeatureMemo` (the second saliency model and two inversion decoders).

Saliency network — CPU: batch 2 at 240×320 in fp32 (Table 2). GPU: batch 2 and a large batch, fp32
against bf16 autocast with channels-last, and the fraction of the GPU's dense bf16 peak that this
reaches (FLOPs counted by torch's flop counter for one training step).
Inversion decoders — every AlexNet layer at 227×227 (Table 5): CPU at batch 16; GPU at batch 64 in
fp32 against bf16 autocast.
"""
from __future__ import annotations

import argparse
import contextlib
import time

import torch
from torch import nn

from helpers.models import SaliencyNet

#: Dense bf16 tensor-core peaks (no sparsity), FLOP/s, from the vendors' data sheets.
BF16_PEAK = {"H100 SXM": 989e12, "H100 NVL": 835e12, "H100 PCIe": 756e12, "H200": 989e12,
             "A100": 312e12, "L40S": 362e12, "A10": 125e12, "RTX 4090": 165e12}


def peak_for(name: str) -> float | None:
    for key, value in BF16_PEAK.items():
        if all(part.lower() in name.lower() for part in key.split()):
            return value
    return None


def training_step_flops(model: nn.Module, inputs: torch.Tensor) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(inputs).float().pow(2).mean().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def images_per_second(model, batch, size, device, steps, bf16=False, channels_last=False,
                      trainable: nn.Module | None = None, adam: bool = True) -> float:
    """Training steps of ``model`` on random data; targets are the model's own output shape."""
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory_format).train()
    trainable = model if trainable is None else trainable
    parameters = trainable.parameters()
    optimizer = torch.optim.Adam(parameters, lr=1e-4) if adam else torch.optim.SGD(parameters, lr=1e-4, momentum=0.9)
    inputs = torch.randn(batch, 3, *size, device=device).contiguous(memory_format=memory_format)
    with torch.no_grad():
        targets = torch.randn_like(model(inputs[:1]).float()).expand(batch, -1, -1, -1).contiguous()
    loss_fn = nn.MSELoss()

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            outputs = model(inputs)
        loss = loss_fn(outputs.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(2):  # warm-up (cuDNN autotuning, allocator)
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - started)


def inversion(args):
    import warnings

    from helpers.encoders import LAYERS, AlexNetEncoder
    from helpers.models import InversionDecoder, Inverter

    def inverter(layer):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # random encoder weights: the speed is the same
            return Inverter(AlexNetEncoder(layer, allow_download=False), InversionDecoder(layer))

    size = (227, 227)
    print(f"Inversion decoders, {size[0]}×{size[1]}, Adam, frozen AlexNet in front")
    cuda = torch.cuda.is_available()
    for layer in LAYERS:
        model = inverter(layer)
        cpu = images_per_second(model, 16, size, torch.device("cpu"), max(2, args.steps // 2), trainable=model.decoder)
        line = f"  {layer:>5}: CPU batch 16 fp32 {cpu:7.1f} images/s"
        if cuda:
            device = torch.device("cuda")
            model = inverter(layer)
            fp32 = images_per_second(model, 64, size, device, args.steps * 5, trainable=model.decoder)
            model = inverter(layer)
            bf16 = images_per_second(model, 64, size, device, args.steps * 5, bf16=True, channels_last=True,
                                     trainable=model.decoder)
            line += f"; GPU batch 64: fp32 {fp32:8.1f}, bf16 + channels-last {bf16:8.1f} images/s ({bf16 / fp32:4.2f}×)"
        print(line, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=(*PARTS, "both", "all"), default="both")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--large-batch", type=int, default=64)
    args = parser.parse_args()
    chosen = {"both": ("saliency", "inversion"), "all": tuple(PARTS)}.get(args.part, (args.part,))
    for part in chosen:
        PARTS[part](args)


def loss_after(model, inputs, targets, steps: int, bf16: bool) -> float:
    """The MSE after ``steps`` Adam steps on one fixed batch (same start for fp32 and bf16)."""
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for _ in range(steps):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            outputs = model(inputs)
        loss = nn.functional.mse_loss(outputs.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def cpu_bf16(args):
    import copy
    import warnings

    from helpers.models import ContrastSaliencyNet, InversionDecoder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        contrast = ContrastSaliencyNet(allow_download=False)
    cases = {"SaliencyNet 96×128, batch 2 (smoke)": (SaliencyNet(), 2, (96, 128), None),
             "SaliencyNet 96×128, batch 8": (SaliencyNet(), 8, (96, 128), None),
             "SaliencyNet 240×320, batch 2 (Table 2)": (SaliencyNet(), 2, (240, 320), None),
             "second model 192×256, batch 8": (contrast, 8, (192, 256), contrast.trainable)}
    print(f"CPU bf16 autocast against fp32 ({torch.get_num_threads()} threads; "
          f"avx512_bf16: {'avx512_bf16' in open('/proc/cpuinfo').read()})")
    for name, (model, batch, size, trainable) in cases.items():
        torch.manual_seed(0)
        start = copy.deepcopy(model.state_dict())
        fp32 = images_per_second(model, batch, size, torch.device("cpu"), args.steps, trainable=trainable)
        model.load_state_dict(start)
        bf16 = images_per_second(model, batch, size, torch.device("cpu"), args.steps, bf16=True, trainable=trainable)
        inputs = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():  # a target the network can learn: the input's brightness at the output's size
            shape = model(inputs).shape[-2:]
            targets = nn.functional.interpolate(inputs.mean(1, keepdim=True), size=shape, mode="bilinear").tanh()
        losses = []
        for use_bf16 in (False, True):
            model.load_state_dict(start)
            losses.append(loss_after(model, inputs, targets, 10, use_bf16))  # from the same start
        print(f"  {name}: fp32 {fp32:6.1f}, bf16 {bf16:6.1f} images/s ({bf16 / fp32:4.2f}×); loss after 10 steps "
              f"fp32 {losses[0]:.4f}, bf16 {losses[1]:.4f}", flush=True)
    for size in ((96, 128), (240, 320)):
        print(f"  oneDNN convolutions of one SalNet training step at {size[0]}×{size[1]}: "
              + "; ".join(f"{kind} {onednn_paths(size, kind == 'bf16')}" for kind in ("fp32", "bf16")), flush=True)
    decoder = InversionDecoder("conv5", output_size=64, feature_shape=(256, 3, 3))
    features = torch.randn(64, 256, 3, 3)
    rates = []
    for use_bf16 in (False, True):
        started = time.perf_counter()
        for _ in range(args.steps):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                out = decoder(features)
            out.float().pow(2).mean().backward()
        rates.append(args.steps * 64 / (time.perf_counter() - started))
    print(f"  conv5 decoder 64², batch 64: fp32 {rates[0]:6.1f}, bf16 {rates[1]:6.1f} images/s ({rates[1] / rates[0]:4.2f}×)")


ONEDNN_STEP = """
import torch
from helpers.models import SaliencyNet
torch.manual_seed(0)
net, x = SaliencyNet(), torch.randn(2, 3, {h}, {w})
with torch.autocast("cpu", dtype=torch.bfloat16, enabled={bf16}):
    out = net(x)
out.float().mean().backward()
"""


def onednn_paths(size, bf16: bool) -> str:
    """Which oneDNN implementations run SalNet's convolutions (``ONEDNN_VERBOSE=1``), with their counts."""
    import collections
    import os
    import subprocess
    import sys

    code = ONEDNN_STEP.format(h=size[0], w=size[1], bf16=bf16)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "ONEDNN_VERBOSE": "1"})
    kinds = collections.Counter()
    for line in done.stdout.splitlines():
        fields = line.split(",")
        if "convolution" in fields and "exec" in fields:
            kinds[fields[fields.index("convolution") + 1]] += 1
    return ", ".join(f"{name} ×{count}" for name, count in kinds.most_common()) or "none reported (not oneDNN)"


def _ddp_rank(rank: int, world: int, folder: str, steps: int, result) -> None:
    import torch.distributed as dist

    from helpers.models import InversionDecoder

    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
    torch.set_num_threads(max(1, torch.get_num_threads() // world))
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(InversionDecoder("conv5", output_size=64, feature_shape=(256, 3, 3)))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = 16 // world
    features, targets = torch.randn(batch, 256, 3, 3), torch.randn(batch, 3, 64, 64)
    for step in range(steps + 2):
        if step == 2:
            dist.barrier()
            started = time.perf_counter()
        loss = nn.functional.mse_loss(model(features), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    dist.barrier()
    if rank == 0:
        result.put(steps * 16 / (time.perf_counter() - started))
    dist.destroy_process_group()


def ddp_scaling(args):
    import tempfile

    import torch.multiprocessing as mp

    threads = torch.get_num_threads()
    rates = {}
    for world in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            queue = mp.get_context("spawn").SimpleQueue()
            mp.spawn(_ddp_rank, args=(world, folder, args.steps * 5, queue), nprocs=world, join=True)
            rates[world] = queue.get()
    print(f"DDP on the CPU (gloo, conv5 decoder 64², global batch 16, {threads} cores shared out): 1 process "
          f"{rates[1]:6.1f}, 2 processes {rates[2]:6.1f} images/s → scaling efficiency {rates[2] / (2 * rates[1]):.0%}")


def epochs_per_second(model, images: torch.Tensor, batch: int, epochs: int, remember: bool) -> float:
    """Epochs per second over ``epochs`` passes of Adam on ``images`` (the first included: the memo's
    fill), with the frozen front end's features remembered or computed every time."""
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    memo = model.remembering_frozen_features() if remember else contextlib.nullcontext()
    started = time.perf_counter()
    with memo:
        for _ in range(epochs):
            for start in range(0, len(images), batch):
                optimizer.zero_grad()
                model(images[start:start + batch]).square().mean().backward()
                optimizer.step()
    return epochs / (time.perf_counter() - started)


def feature_memo(args):
    """The memo where the smoke profile trains behind a frozen front end: the second saliency model,
    whose front end is most of each step, and two inversion decoders, whose own convolutions are most of theirs."""
    from helpers.inversion import build_inverter
    from helpers.models import ContrastSaliencyNet

    epochs = 4  # the smoke profile's inversion epochs; the second model trains 12, so gains more
    networks = (("second saliency model, 192×256, batch 8", lambda: ContrastSaliencyNet("random"), 192, 256, 8),
                ("AlexNet conv5 decoder, 227², batch 16",
                 lambda: build_inverter("alexnet", "conv5", "random"), 227, 227, 16),
                ("MobileNetV2 features.3 decoder, 128², batch 16",
                 lambda: build_inverter("mobilenet_v2", "features.3.add", "random", image_size=128),
                 128, 128, 16))
    print(f"Frozen front ends on the CPU ({torch.get_num_threads()} threads), {epochs} epochs of 64 images "
          "(random weights: the same arithmetic as ImageNet's)")
    for name, build, height, width, batch in networks:
        torch.manual_seed(0)
        images = torch.rand(64, 3, height, width) * 2 - 1
        computed = epochs_per_second(build(), images, batch, epochs, remember=False)
        remembered = epochs_per_second(build(), images, batch, epochs, remember=True)
        print(f"  {name}: computed every epoch {60 * computed:5.1f} epochs/min, remembered "
              f"{60 * remembered:5.1f} epochs/min → {remembered / computed:4.2f}×", flush=True)


def channels_last(args):
    """The smoke profile's heaviest networks, each in the precision the smoke profile trains it in on
    this machine (bf16 autocast only with bf16 instructions: :func:`helpers.parallel.cpu_computes_bf16`),
    with their tensors in torch's default layout and in channels-last (NHWC, oneDNN's own)."""
    from helpers.inversion import build_inverter
    from helpers.parallel import cpu_computes_bf16, cpu_kind

    bf16 = cpu_computes_bf16()
    device = torch.device("cpu")
    networks = (("SalNet (half) 96×128, batch 2", SaliencyNet, 2, (96, 128)),
                ("AlexNet conv2 decoder 227², batch 16",
                 lambda: build_inverter("alexnet", "conv2", "random"), 16, (227, 227)),
                ("MobileNetV2 features.3 decoder 128², batch 16",
                 lambda: build_inverter("mobilenet_v2", "features.3.add", "random", image_size=128), 16, (128, 128)))
    print(f"Channels-last on the CPU, {cpu_kind()} ({torch.get_num_threads()} threads, "
          f"{'bf16 autocast' if bf16 else 'float32'}), {args.steps} steps after 2 of warm-up")
    for name, build, batch, size in networks:
        rates = {}
        for layout in (False, True):
            torch.manual_seed(0)
            model = build()
            trainable = getattr(model, "decoder", model)
            rates[layout] = images_per_second(model, batch, size, device, args.steps, bf16=bf16, channels_last=layout,
                                              trainable=trainable)
        print(f"  {name}: default {rates[False]:6.1f}, channels-last {rates[True]:6.1f} images/s "
              f"({rates[True] / rates[False]:4.2f}×)", flush=True)


def compiled(args):
    """``torch.compile`` (inductor) on the smoke profile's SalNet run: the seconds its first step takes
    (the compile), the images/s after, against eager — whether it pays back on 3 epochs of 224 images."""
    from helpers.parallel import cpu_computes_bf16, cpu_kind

    bf16 = cpu_computes_bf16()
    device = torch.device("cpu")
    print(f"torch.compile on the CPU, {cpu_kind()} ({torch.get_num_threads()} threads, "
          f"{'bf16 autocast' if bf16 else 'float32'}), SalNet (half) 96×128, batch 2")
    torch.manual_seed(0)
    eager = images_per_second(SaliencyNet(), 2, (96, 128), device, args.steps, bf16=bf16)
    torch.manual_seed(0)
    model = SaliencyNet()
    started = time.perf_counter()
    compiled_model = torch.compile(model)
    rate = images_per_second(compiled_model, 2, (96, 128), device, args.steps, bf16=bf16, trainable=model)
    total = time.perf_counter() - started
    compile_s = total - (args.steps + 2) * 2 / rate
    images = 3 * 224  # the smoke run's SalNet
    print(f"  eager {eager:5.1f} images/s; compiled {rate:5.1f} images/s ({rate / eager:4.2f}×) after about "
          f"{compile_s:.0f} s of compiling → the smoke run's {images} images: eager {images / eager:.0f} s, "
          f"compiled {compile_s + images / rate:.0f} s", flush=True)


def optimizer_steps(args):
    """One optimiser step over each smoke network's trained parameters (random gradients), one tensor
    at a time (torch's default on the CPU) against fused (:func:`helpers.training.make_optimizer`)."""
    from helpers.inversion import build_inverter
    from helpers.models import ContrastSaliencyNet

    networks = (("SalNet (half)", lambda: SaliencyNet()),
                ("second saliency model", lambda: ContrastSaliencyNet("random")),
                ("AlexNet conv2 decoder", lambda: build_inverter("alexnet", "conv2", "random").decoder),
                ("AlexNet fc6 decoder", lambda: build_inverter("alexnet", "fc6", "random").decoder),
                ("MobileNetV2 flatten decoder, 128²",
                 lambda: build_inverter("mobilenet_v2", "flatten", "random", image_size=128).decoder))
    print(f"Optimiser steps on the CPU ({torch.get_num_threads()} threads), Adam, median of {args.steps}")
    for name, build in networks:
        parameters = [p for p in build().parameters() if p.requires_grad]
        for p in parameters:
            p.grad = torch.randn_like(p)
        seconds = {}
        for fused in (False, True):
            optimizer = torch.optim.Adam(parameters, lr=1e-4, fused=fused)
            times = []
            for _ in range(args.steps + 1):
                started = time.perf_counter()
                optimizer.step()
                times.append(time.perf_counter() - started)
            seconds[fused] = sorted(times[1:])[len(times[1:]) // 2]
        count = sum(p.numel() for p in parameters)
        print(f"  {name} ({count / 1e6:.1f} M parameters): one tensor at a time {1000 * seconds[False]:7.1f} ms, "
              f"fused {1000 * seconds[True]:6.1f} ms → {seconds[False] / seconds[True]:4.1f}×", flush=True)


def saliency(args):
    size = (240, 320)
    torch.manual_seed(0)
    cpu = images_per_second(SaliencyNet(), 2, size, torch.device("cpu"), args.steps, adam=False)
    print(f"SaliencyNet training, {size[0]}×{size[1]}, SGD")
    print(f"  CPU ({torch.get_num_threads()} threads), batch 2, fp32: {cpu:7.2f} images/s")
    if not torch.cuda.is_available():
        print("  no GPU visible: GPU figures skipped")
        return
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    name = torch.cuda.get_device_name()
    flops_per_image = training_step_flops(SaliencyNet().to(device), torch.randn(1, 3, *size, device=device))
    peak = peak_for(name)
    print(f"  GPU: {name}; {flops_per_image / 1e9:.1f} GFLOP per training image")
    for batch in (2, args.large_batch):
        fp32 = images_per_second(SaliencyNet(), batch, size, device, args.steps * 5, adam=False)
        bf16 = images_per_second(SaliencyNet(), batch, size, device, args.steps * 5, bf16=True, channels_last=True,
                                 adam=False)
        share = f", {bf16 * flops_per_image / peak:5.1%} of the dense bf16 peak" if peak else ""
        print(f"  batch {batch:>3}: fp32 {fp32:8.1f} images/s; bf16 + channels-last {bf16:8.1f} images/s "
              f"({bf16 / fp32:4.2f}×{share})")


#: ``--part`` → the function that measures it.
PARTS = {"saliency": saliency, "inversion": inversion, "cpu-bf16": cpu_bf16, "ddp": ddp_scaling, "memo": feature_memo,
         "optimizer": optimizer_steps, "channels-last": channels_last, "compile": compiled}

if __name__ == "__main__":
    main()
