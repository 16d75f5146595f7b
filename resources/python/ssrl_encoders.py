"""SSRL Workbench encoders in plain PyTorch.

The modules and parameter names match the workbench's own (LibTorch), so a
state_dict written by `ssrl-workbench export weights` loads with
`model.load_state_dict(torch.load(path))`, and a state_dict saved from these
modules with `torch.save(dict(model.state_dict()), path)` starts a workbench
run through `ssrl-workbench run --init-from path` (a plain dict: LibTorch
cannot read the OrderedDict that state_dict() returns). `export weights` prints the
constructor call that fits the file it wrote.

    import torch
    from ssrl_encoders import ImageEncoder
    model = ImageEncoder("small-cnn", in_channels=1, proj_hidden=512, proj_dim=128, proj_layers=2,
                         hidden_bias=False, hidden_bn=True, out_bias=False, out_norm="bn")  # as printed
    model.load_state_dict(torch.load("encoder.pt"))
    model.eval()
    z = model(images)              # N x proj_dim, unit rows (the losses take the raw projector output)
    h = model.features(images)     # N x 256 backbone features (what the probe sees)

Images are N x C x H x W floats, scaled to [0, 1] and normalised with the
data set's per-channel mean and SD (`ssrl-workbench datasets` lists them;
Fashion-MNIST 0.2860 and 0.3530).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def _conv(c_in, c_out, k, stride, pad):
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, bias=False)


class SmallCnn(nn.Module):
    """Four 3x3 conv-BN-ReLU blocks (32-64-128-256), stride 2 from the second; global average pool."""

    out_features = 256

    def __init__(self, in_channels=3):
        super().__init__()
        c = in_channels
        for i, w in enumerate((32, 64, 128, 256)):
            setattr(self, f"conv{i}", _conv(c, w, 3, 1 if i == 0 else 2, 1))
            setattr(self, f"bn{i}", nn.BatchNorm2d(w))
            c = w

    def forward(self, x):
        for i in range(4):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = _conv(c_in, c_out, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = _conv(c_out, c_out, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.down = self.down_bn = None
        if stride != 1 or c_in != c_out:
            self.down = _conv(c_in, c_out, 1, stride, 0)
            self.down_bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.down_bn(self.down(x)) if self.down is not None else x))


class Bottleneck(nn.Module):
    def __init__(self, c_in, mid, stride):
        super().__init__()
        self.conv1 = _conv(c_in, mid, 1, 1, 0)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = _conv(mid, mid, 3, stride, 1)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = _conv(mid, mid * 4, 1, 1, 0)
        self.bn3 = nn.BatchNorm2d(mid * 4)
        self.down = self.down_bn = None
        if stride != 1 or c_in != mid * 4:
            self.down = _conv(c_in, mid * 4, 1, stride, 0)
            self.down_bn = nn.BatchNorm2d(mid * 4)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.down_bn(self.down(x)) if self.down is not None else x))


class ResNet(nn.Module):
    """ResNet with the small-image stem: 3x3 conv, stride 1, padding 1, no max-pool."""

    def __init__(self, in_channels, bottleneck, layers):
        super().__init__()
        self.stem = _conv(in_channels, 64, 3, 1, 1)
        self.stem_bn = nn.BatchNorm2d(64)
        self.blocks = []
        c = 64
        for s, width in enumerate((64, 128, 256, 512)):
            for b in range(layers[s]):
                stride = 2 if s > 0 and b == 0 else 1
                block = Bottleneck(c, width, stride) if bottleneck else BasicBlock(c, width, stride)
                setattr(self, f"layer{s + 1}_{b}", block)
                self.blocks.append(f"layer{s + 1}_{b}")
                c = width * 4 if bottleneck else width
        self.out_features = c

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        for name in self.blocks:
            x = getattr(self, name)(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


def make_backbone(name, in_channels=3):
    if name == "small-cnn":
        return SmallCnn(in_channels)
    if name == "resnet18":
        return ResNet(in_channels, False, (2, 2, 2, 2))
    if name == "resnet50":
        return ResNet(in_channels, True, (3, 4, 6, 3))
    raise ValueError(f"unknown backbone '{name}' (small-cnn, resnet18, resnet50)")


class Projector(nn.Module):
    """`layers` Linear layers, ReLU between them; hidden layers with batch norm
    (hidden_bn), the output with `out_norm`: "bn" (batch norm without affine
    parameters, SimSiam's), "bn-affine" or "none". `export weights` prints the
    arguments of the run it exported."""

    def __init__(self, in_dim, hidden, out_dim, layers, hidden_bias=True, hidden_bn=True, out_bias=True,
                 out_norm="bn"):
        super().__init__()
        self.layers = layers
        c = in_dim
        for i in range(layers):
            last = i + 1 == layers
            o = out_dim if last else hidden
            setattr(self, f"fc{i}", nn.Linear(c, o, bias=out_bias if last else hidden_bias))
            if (out_norm != "none") if last else hidden_bn:
                setattr(self, f"bn{i}", nn.BatchNorm1d(o, affine=out_norm == "bn-affine" if last else True))
            c = o

    def forward(self, x):
        for i in range(self.layers):
            x = getattr(self, f"fc{i}")(x)
            bn = getattr(self, f"bn{i}", None)
            if bn is not None:
                x = bn(x)
            if i + 1 < self.layers:
                x = F.relu(x)
        return x


class ImageEncoder(nn.Module):
    """Backbone + projector; forward() gives unit rows, features() the backbone output."""

    def __init__(self, backbone, in_channels=3, proj_hidden=2048, proj_dim=256, proj_layers=3, **head):
        super().__init__()
        self.backbone = make_backbone(backbone, in_channels)
        self.projector = Projector(self.backbone.out_features, proj_hidden, proj_dim, proj_layers, **head)

    def features(self, x):
        return self.backbone(x)

    def forward(self, x):
        return F.normalize(self.projector(self.backbone(x)), dim=1)


class MlpEncoder(nn.Module):
    """Gaussian experiment: Linear(2, h) + BN + ReLU + Linear(h, 3) + BN, unit rows."""

    def __init__(self, in_dim=2, hidden=64, out_dim=3):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, out_dim)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.bn2 = nn.BatchNorm1d(out_dim)

    def forward(self, x):
        return F.normalize(self.bn2(self.fc2(F.relu(self.bn1(self.fc1(x))))), dim=1)
