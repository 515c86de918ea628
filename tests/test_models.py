import math

import pytest
import torch

from helpers.models import SALNET_CONVS, SaliencyNet, count_parameters


def table1_parameter_count() -> int:
    """Worked out from Table 1: conv weights and biases, plus the bias-free 8×8 deconvolution."""
    kernels = [(3, 48, 7), (48, 128, 5), (128, 256, 3), (256, 256, 5), (256, 256, 5),
               (256, 128, 7), (128, 64, 11), (64, 16, 11), (16, 1, 13)]
    return sum(i * o * k * k + o for i, o, k in kernels) + 8 * 8


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_parameter_count_is_table_1(ceil_mode):
    assert count_parameters(SaliencyNet(ceil_mode)) == table1_parameter_count() == 6_457_057


def test_layer_table_matches_table_1():
    assert [c[2] for c in SALNET_CONVS] == [7, 5, 3, 5, 5, 7, 11, 11, 13]
    assert [c[1] for c in SALNET_CONVS] == [48, 128, 256, 256, 256, 128, 64, 16, 1]


@pytest.mark.parametrize("ceil_mode, expected", [(False, (236, 316)), (True, (240, 320))])
def test_output_size_240x320(ceil_mode, expected):
    model = SaliencyNet(ceil_mode).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 240, 320))
    assert tuple(out.shape) == (1, 1, *expected)
    assert model.output_size((240, 320)) == expected


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("size", [(96, 128), (101, 77)])
def test_output_size_formula_agrees_with_the_network(ceil_mode, size):
    model = SaliencyNet(ceil_mode).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, *size))
    assert tuple(out.shape[-2:]) == model.output_size(size)


def test_relu_after_conv1_to_conv8_but_not_conv9():
    model = SaliencyNet()
    layers = list(model.features)
    convs = [i for i, m in enumerate(layers) if isinstance(m, torch.nn.Conv2d)]
    for index in convs[:-1]:
        assert isinstance(layers[index + 1], torch.nn.ReLU)
    assert convs[-1] == len(layers) - 1  # conv9 is the last feature layer: linear
    lrn = [m for m in layers if isinstance(m, torch.nn.LocalResponseNorm)]
    assert len(lrn) == 1 and (lrn[0].size, lrn[0].alpha, lrn[0].beta) == (5, 1e-4, 0.75)


def test_initialisation():
    torch.manual_seed(0)
    model = SaliencyNet()
    deconv = model.deconv.weight
    assert model.deconv.bias is None
    assert deconv.abs().max() < 1e-4  # Normal(0, 1e-5)
    first = model.features[0]
    fan_in = 3 * 7 * 7
    assert first.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.1)  # He normal
    assert torch.count_nonzero(first.bias) == 0
