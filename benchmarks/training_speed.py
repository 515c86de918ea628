"""Training throughput (images per second) on the CPU and, when present, a GPU.

    python benchmarks/training_speed.py [--part saliency|inversion|both] [--steps 6]

Saliency network — CPU: batch 2 at 240×320 in fp32 (Table 2). GPU: batch 2 and a large batch, fp32
against bf16 autocast with channels-last, and the fraction of the GPU's dense bf16 peak that this
reaches (FLOPs counted by torch's flop counter for one training step).
Inversion decoders — every AlexNet layer at 227×227 (Table 5): CPU at batch 16; GPU at batch 64 in
fp32 against bf16 autocast.
"""
from __future__ import annotations

import argparse
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

    from helpers.models import LAYERS, AlexNetEncoder, InversionDecoder, Inverter

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
    parser.add_argument("--part", choices=("saliency", "inversion", "both"), default="both")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--large-batch", type=int, default=64)
    args = parser.parse_args()
    if args.part in ("saliency", "both"):
        saliency(args)
    if args.part in ("inversion", "both"):
        inversion(args)


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


if __name__ == "__main__":
    main()
