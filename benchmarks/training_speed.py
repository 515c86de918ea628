"""Training throughput of the saliency network (images per second), on the CPU and, when present, a GPU.

    python benchmarks/training_speed.py [--steps 6]

CPU: batch 2 at 240×320 in fp32 (Table 2). GPU: batch 2 and a large batch, fp32 against bf16
autocast with channels-last, and the fraction of the GPU's dense bf16 peak that this reaches
(FLOPs counted by torch's flop counter for one training step).
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


def images_per_second(model, batch, size, device, steps, bf16=False, channels_last=False) -> float:
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory_format).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    inputs = torch.randn(batch, 3, *size, device=device).contiguous(memory_format=memory_format)
    targets = torch.randn(batch, 1, *model.output_size(size), device=device)
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--large-batch", type=int, default=64)
    args = parser.parse_args()
    size = (240, 320)
    torch.manual_seed(0)
    cpu = images_per_second(SaliencyNet(), 2, size, torch.device("cpu"), args.steps)
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
        fp32 = images_per_second(SaliencyNet(), batch, size, device, args.steps * 5)
        bf16 = images_per_second(SaliencyNet(), batch, size, device, args.steps * 5, bf16=True, channels_last=True)
        share = f", {bf16 * flops_per_image / peak:5.1%} of the dense bf16 peak" if peak else ""
        print(f"  batch {batch:>3}: fp32 {fp32:8.1f} images/s; bf16 + channels-last {bf16:8.1f} images/s "
              f"({bf16 / fp32:4.2f}×{share})")


if __name__ == "__main__":
    main()
