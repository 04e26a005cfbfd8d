"""The bundled decoder specs (unet, dcgan_generator, espcn) against the same architectures built in torch.nn.

Each test builds the network from its paper (cited in the spec) with torch modules, then compares the parameter
count, the output shape, and the MACs counted from the torch modules' shapes while they run: a Conv2d costs
out elements · C_in/groups · k², a ConvTranspose2d in elements · C_out/groups · k² (fvcore's and ptflops' rule).
The torch models run on the meta device: shapes only, no arithmetic, so the 572×572 U-Net costs nothing.
Shapes from the papers' figures are written out where the paper prints them.
"""
import pytest

import cnncost

torch = pytest.importorskip("torch")
nn = torch.nn


def torch_figures(model, shape):
    """(params, output shape without batch, MACs of its convolutions) from one forward of a 1-sample batch."""
    macs = []

    def count(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            macs.append(inputs[0].numel() * module.out_channels // module.groups * k)
        else:
            macs.append(output.numel() * module.in_channels // module.groups * k)

    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            module.register_forward_hook(count)
    with torch.no_grad():
        out = model.to("meta").eval()(torch.zeros(1, *shape, device="meta"))
    return sum(p.numel() for p in model.parameters()), tuple(out.shape[1:]), sum(macs)


def assert_matches(name, model):
    report = cnncost.analyze(name)
    params, shape, macs = torch_figures(model, report.input_shape)
    assert report.totals.params == params
    assert report.layers[-1].output_shape == shape
    assert report.totals.macs == macs
    return report


def double(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3), nn.ReLU(), nn.Conv2d(c_out, c_out, 3), nn.ReLU()]


class UNet(nn.Module):
    """Ronneberger et al. 2015, Fig. 1: unpadded 3×3 convs, 2×2 max pool, 2×2 up-convs, centre crop and concat."""

    def __init__(self):
        super().__init__()
        widths = [64, 128, 256, 512, 1024]
        self.down = nn.ModuleList(
            nn.Sequential(*([] if i == 0 else [nn.MaxPool2d(2)]), *double(1 if i == 0 else widths[i - 1], w))
            for i, w in enumerate(widths)
        )
        self.upconv = nn.ModuleList(nn.ConvTranspose2d(w * 2, w, 2, stride=2) for w in reversed(widths[:-1]))
        self.up = nn.ModuleList(nn.Sequential(*double(w * 2, w)) for w in reversed(widths[:-1]))
        self.head = nn.Conv2d(64, 2, 1)

    def forward(self, x):
        skips = []
        for stage in self.down:
            x = stage(x)
            skips.append(x)
        for upconv, stage, skip in zip(self.upconv, self.up, reversed(skips[:-1])):
            x = upconv(x)
            top, left = (skip.shape[2] - x.shape[2]) // 2, (skip.shape[3] - x.shape[3]) // 2
            x = stage(torch.cat([skip[:, :, top:top + x.shape[2], left:left + x.shape[3]], x], dim=1))
        return self.head(x)


def test_unet_is_the_papers_fig1():
    full = assert_matches("unet", UNet())
    rows = {row.name: row.output_shape for row in full.layers}
    # Fig. 1's sizes: 568², 280², 136², 64², 28² down; 52², 100², 196², 388² up; 1×572² in, 2×388² out
    assert [rows[f"{stage}.conv.relu2" if stage != "enc1" else "enc1.relu2"][1:] for stage in ("enc1", "enc2", "enc3", "enc4", "bottom")] == \
        [(568, 568), (280, 280), (136, 136), (64, 64), (28, 28)]
    assert [rows[f"dec{i}.relu2"] for i in (4, 3, 2, 1)] == [(512, 52, 52), (256, 100, 100), (128, 196, 196), (64, 388, 388)]
    assert full.input_shape == (1, 572, 572) and rows["head"] == (2, 388, 388)
    assert rows["crop4"] == (512, 56, 56)  # 64² cropped to the up-convolution's 56²


def test_dcgan_generator_is_the_papers_fig1():
    widths = [100, 1024, 512, 256, 128]
    layers = []
    for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False),
                   nn.BatchNorm2d(c_out), nn.ReLU()]
    model = nn.Sequential(*layers, nn.ConvTranspose2d(128, 3, 4, 2, 1, bias=False), nn.Tanh())
    report = assert_matches("dcgan_generator", model)
    # Fig. 1: 4×4×1024, 8×8×512, 16×16×256, 32×32×128, 64×64×3
    rows = {row.name: row.output_shape for row in report.layers}
    assert [rows[f"{name}.relu"] for name in ("project", "conv1", "conv2", "conv3")] == \
        [(1024, 4, 4), (512, 8, 8), (256, 16, 16), (128, 32, 32)]
    assert rows["out"] == (3, 64, 64)


def test_espcn_is_the_papers_network():
    r = 3
    model = nn.Sequential(nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(), nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                          nn.Conv2d(32, r * r, 3, padding=1), nn.PixelShuffle(r))
    report = assert_matches("espcn", model)
    assert report.input_shape == (1, 224, 224) and report.layers[-1].output_shape == (1, 224 * r, 224 * r)
    # by hand: (1·25 + 1)·64 + (64·9 + 1)·32 + (32·9 + 1)·9 = 1,664 + 18,464 + 2,601
    assert report.totals.params == 22_729


@pytest.mark.parametrize("name", ["dcgan_generator", "espcn"])
def test_verify_passes_at_the_specs_own_size(name):
    """The numpy forward agrees with every predicted shape, param count, MAC count and the peak; with the batchnorms
    folded into the transposed convs, the output is unchanged. (unet: `cnncost verify unet` at 572×572 takes
    about 20 s, too long for the suite; docs/decoder-ops.md records the run.)"""
    from cnncost.spec import load
    from cnncost.verify import verify_spec

    result = verify_spec(load(name), fold_bn=True)
    assert result.passed, result.failures
    assert result.folded_layers == (4 if name == "dcgan_generator" else 0)


UNET_1D = """
name: unet_geometry
input: 1x572
blocks:
  double:
    layers: [{conv1d: {out: 1, kernel: 3}}, {conv1d: {out: 1, kernel: 3}}]
  down:
    layers: [{avgpool1d: {kernel: 2}}, double]
layers:
  - double: {name: e1}
  - down: {name: e2}
  - down: {name: e3}
  - down: {name: e4}
  - down: {name: bottom}
""" + "".join(f"""  - conv_transpose1d: {{name: up{i}, out: 1, kernel: 2, stride: 2}}
  - crop: {{name: crop{i}, inputs: e{i}, like: up{i}}}
  - add: {{inputs: [crop{i}, up{i}]}}
  - double
""" for i in (4, 3, 2, 1))


def test_unet_receptive_field_is_the_envelope_torch_measures():
    """U-Net's geometry along one axis (1 channel, linear, average pooling so every tap carries gradient): the
    receptive field reported for the output is the hull of what each output pixel reads in torch, over every
    position (a pixel sees 188 to 204 inputs depending on its position modulo 16; together 215). The pattern
    repeats every 16 outputs (four stride-2 levels), so three periods show every phase."""
    from cnncost.spec import load_text

    F = torch.nn.functional
    torch.manual_seed(0)

    def conv(x):
        return F.conv1d(x, torch.rand(1, 1, 3, dtype=torch.float64) + 0.1)

    x = torch.rand(1, 1, 572, dtype=torch.float64, requires_grad=True)
    h = conv(conv(x))
    skips = [h]
    for _ in range(4):
        h = conv(conv(F.avg_pool1d(h, 2)))
        skips.append(h)
    for skip in reversed(skips[:-1]):
        h = F.conv_transpose1d(h, torch.rand(1, 1, 2, dtype=torch.float64) + 0.1, stride=2)
        margin = (skip.shape[2] - h.shape[2]) // 2
        h = conv(conv(skip[:, :, margin:margin + h.shape[2]] + h))
    low, high = [], []
    for o in range(48):
        (grad,) = torch.autograd.grad(h[0, 0, o], x, retain_graph=True)
        read = grad[0, 0].nonzero().flatten()
        low.append(read.min().item() - o)
        high.append(read.max().item() - o)
    field = cnncost.analyze(load_text(UNET_1D)).layers[-1].receptive_field[0]
    assert (field.size, field.jump) == (max(high) - min(low) + 1, 1)  # 215 = 199 − (−15) + 1
    assert field.start == (min(low) + max(high)) / 2  # 92: element 0's view is centred 92 pixels in
