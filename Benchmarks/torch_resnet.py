"""PyTorch CPU anchor for resnet18 (benchmarks only; never a dependency of the project).

torchvision's resnet18(num_classes=10) with the CIFAR stem Lethe's `resnet18` uses with cifarStem: a 3x3 stride-1
first convolution without bias, and no max-pool. The same workloads as `lethe-bench resnet18`:

    python torch_resnet.py train fmnist|cifar THREADS BATCHES   # SGD batches of 128 (one untimed warm-up batch first)
    python torch_resnet.py infer fmnist|cifar THREADS EXAMPLES   # eval mode, no_grad, batches of 128 (one untimed warm-up batch)

`fmnist` reads Fashion-MNIST (1x28x28, pixels / 255) from /usr/share/datasets/fashion-mnist; `cifar` is synthetic
3x32x32 standard-normal inputs with random labels (seeded), as the literature's CIFAR-10 shape. Prints one JSON line:
seconds, milliseconds per image and the process's peak resident memory (ru_maxrss).
"""
import gzip, json, os, resource, sys, time

import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision


def fashion_mnist(count):
    with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = torch.tensor(images[:count], dtype=torch.float32).div_(255)
    return x, torch.tensor(labels[:count], dtype=torch.long)


def synthetic(count):
    g = torch.Generator().manual_seed(0)
    return torch.randn(count, 3, 32, 32, generator=g), torch.randint(0, 10, (count,), generator=g)


def model(channels):
    torch.manual_seed(0)
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(m.conv1.weight, mode="fan_out", nonlinearity="relu")
    m.maxpool = nn.Identity()
    return m


def peak_mib():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    mode, data, threads, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    bs = 128
    examples = (count + 1) * bs if mode == "train" else count
    x, y = fashion_mnist(examples) if data == "fmnist" else synthetic(examples)
    m = model(x.shape[1])
    if mode == "train":
        opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        m.train()
        times = []
        for i in range(count + 1):
            t = time.time()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(m(x[i * bs:(i + 1) * bs]), y[i * bs:(i + 1) * bs]).backward()
            opt.step()
            if i > 0:  # the first batch is the warm-up
                times.append(time.time() - t)
        seconds = sum(times)
        per_image = seconds / (count * bs)
        line = {"batches": count, "batch_s": round(seconds / count, 4)}
    else:
        m.eval()
        with torch.no_grad():
            m(x[:bs])  # warm-up
            t = time.time()
            correct = 0
            for i in range(0, count, bs):
                correct += (m(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
            seconds = time.time() - t
        per_image = seconds / count
        line = {"examples": count, "batch": bs}
    line = {"workload": f"resnet18_{data}_{mode}", "threads": torch.get_num_threads(), "seconds": round(seconds, 4),
            "ms_per_image": round(1000 * per_image, 3), **line, "peak_rss_mib": peak_mib()}
    print(json.dumps(line))
