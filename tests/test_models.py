import math

import pytest
import torch

from helpers.encoders import FrozenFeatureMemo
from helpers.models import SaliencyNet, count_parameters


def table1_parameter_count() -> int:
    """Worked out from Table 1: conv weights and biases, plus the bias-free 8×8 deconvolution."""
    kernels = [(3, 48, 7), (48, 128, 5), (128, 256, 3), (256, 256, 5), (256, 256, 5),
               (256, 128, 7), (128, 64, 11), (64, 16, 11), (16, 1, 13)]
    return sum(i * o * k * k + o for i, o, k in kernels) + 8 * 8


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_parameter_count_is_table_1(ceil_mode):
    assert count_parameters(SaliencyNet(ceil_mode)) == table1_parameter_count() == 6_457_057


#: Table 1, row by row: (in, out, kernel, stride, padding) of conv1 … conv9, then the pools and deconv.
TABLE_1_CONVS = [(3, 48, 7, 1, 3), (48, 128, 5, 1, 2), (128, 256, 3, 1, 1), (256, 256, 5, 1, 2),
                 (256, 256, 5, 1, 2), (256, 128, 7, 1, 3), (128, 64, 11, 1, 5), (64, 16, 11, 1, 5),
                 (16, 1, 13, 1, 6)]


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_the_built_layers_are_table_1(ceil_mode):
    model = SaliencyNet(ceil_mode)
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0]) for c in convs] == TABLE_1_CONVS
    assert all(c.kernel_size[0] == c.kernel_size[1] and c.padding[0] == c.padding[1] for c in convs)
    pools = [m for m in model.features if isinstance(m, torch.nn.MaxPool2d)]
    assert [(p.kernel_size, p.stride, p.padding, p.ceil_mode) for p in pools] == [(3, 2, 0, ceil_mode)] * 2
    layers = list(model.features)
    assert layers.index(pools[0]) < layers.index(convs[1]) < layers.index(pools[1]) < layers.index(convs[2])
    deconv = model.deconv
    assert (deconv.in_channels, deconv.out_channels, deconv.kernel_size, deconv.stride, deconv.padding) == (
        1, 1, (8, 8), (4, 4), (2, 2))


@pytest.mark.parametrize("bad", [[8, 8], [4, 4], 48, [240], "240x320", [240.0, 320.0], [True, 320]])
def test_an_unusable_image_size_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"IMAGE_SIZE must be \[height, width\], two whole numbers of at least 32"):
        SaliencyNet().output_size(bad)


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


def counted(network):
    """``network`` and the list of the batch sizes it has been called with."""
    calls = []

    def frozen(images):
        calls.append(images.shape[0])
        return network(images)
    return frozen, calls


def test_the_feature_memo_computes_each_image_once_alone_and_returns_what_it_would_compute():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).requires_grad_(False)
    frozen, calls = counted(network)
    a, b, c = torch.randn(3, 3, 9, 9)
    memo = FrozenFeatureMemo()
    first = memo(frozen, torch.stack([a, b]))
    second = memo(frozen, torch.stack([b, c, b]))
    assert calls == [1, 1, 1]  # a, b, c: each once, alone; b's second and third showing looked up
    assert (memo.computed, memo.looked_up) == (3, 2)
    assert torch.equal(second[0], first[1]) and torch.equal(second[2], first[1])
    for image, features in ((a, first[0]), (b, first[1]), (c, second[1])):
        assert torch.equal(features, network(image.unsqueeze(0))[0])
    # another autocast is another computation (bf16 features are not float32 ones)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = memo(frozen, a.unsqueeze(0))
    assert calls == [1, 1, 1, 1] and low.dtype == torch.bfloat16
    # an image that differs in one value is another image
    a_changed = a.clone()
    a_changed[0, 0, 0] += 1e-3
    memo(frozen, a_changed.unsqueeze(0))
    assert memo.computed == 5


def test_the_feature_memo_beyond_its_budget_computes_as_without_it():
    network = torch.nn.Conv2d(3, 2, 1).requires_grad_(False)
    frozen, calls = counted(network)
    images = torch.randn(2, 3, 4, 4)
    one_image = 2 * 4 * 4 * 4  # bytes of one image's float32 features
    memo = FrozenFeatureMemo(budget_bytes=one_image)
    for _ in range(2):
        assert torch.equal(memo(frozen, images), torch.cat([network(image.unsqueeze(0)) for image in images]))
    assert calls == [1, 1, 1] and memo.stored_bytes == one_image  # the first image kept, the second computed twice
    with pytest.raises(ValueError, match="budget_bytes"):
        FrozenFeatureMemo(budget_bytes=-1)
