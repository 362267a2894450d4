from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.decoder import decoder_load
from explainers.nn.losses import LossWeights, PerceptionLoss
from explainers.nn.training.decoder import EncodedImages, decoder_step, train_decoder
from tests.explainers.nn.builders import images, tiny_classifier, tiny_decoder


def test_a_few_decoder_steps_on_a_fixed_batch_reduce_the_loss() -> None:
    classifier = tiny_classifier().requires_grad_(False)
    decoder = tiny_decoder(classifier).train()
    loss = PerceptionLoss(classifier)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)
    x = images(batch=2, size=32)

    totals = [decoder_step(classifier, decoder, loss, x, optimizer)["total"] for _ in range(8)]

    assert min(totals[-3:]) < 0.8 * totals[0]
    assert all(parameter.grad is None for parameter in classifier.parameters())


def test_decoder_training_saves_every_epoch_and_resumes_where_it_stopped(tmp_path) -> None:
    classifier = tiny_classifier()
    loader = [images(batch=2)]
    first = train_decoder(
        classifier, tiny_decoder(classifier), loader, loader, epochs=1, out=tmp_path / "d.pt", progress=False
    )
    resume = checkpoint_load(tmp_path / "d.pt", kind="decoder")

    second = train_decoder(
        classifier,
        decoder_load(tmp_path / "d.pt"),
        loader,
        loader,
        epochs=2,
        out=tmp_path / "d.pt",
        resume=resume,
        progress=False,
        log=lambda line: None,
    )

    assert [m["epoch"] for m in first] == [1] and [m["epoch"] for m in second] == [2]
    assert checkpoint_load(tmp_path / "d.pt", kind="decoder")["epoch"] == 2
    assert {"mse", "ssim", "psnr", "dsim", "agreement", "train_total"} <= set(second[0])


def test_encoded_images_hold_each_image_with_its_features() -> None:
    classifier, x = tiny_classifier(), images(batch=3)

    encoded = EncodedImages(classifier, TensorDataset(x), batch_size=2)

    with torch.no_grad():
        z = classifier.encode(x)
    assert len(encoded) == 3
    torch.testing.assert_close(encoded[2]["image"], x[2])
    torch.testing.assert_close(encoded[2]["z"], z[2])


def test_a_decoder_learns_the_same_from_encoded_images_as_from_the_images() -> None:
    classifier, x = tiny_classifier(), images(batch=4)
    plain = DataLoader(TensorDataset(x), batch_size=2)
    encoded = DataLoader(EncodedImages(classifier, TensorDataset(x)), batch_size=2)
    decoders = [tiny_decoder(classifier, seed=3), tiny_decoder(classifier, seed=3)]

    for decoder, loader in zip(decoders, (plain, encoded), strict=True):
        train_decoder(
            classifier, decoder, loader, plain, epochs=1, lr=1e-2, progress=False, log=lambda line: None
        )

    for first, second in zip(decoders[0].parameters(), decoders[1].parameters(), strict=True):
        torch.testing.assert_close(first, second)


def test_resuming_a_decoder_with_other_loss_weights_warns(tmp_path) -> None:
    classifier, loader, lines = tiny_classifier(), [images(batch=2)], []
    decoder = tiny_decoder(classifier)
    train_decoder(classifier, decoder, loader, loader, epochs=1, out=tmp_path / "d.pt", progress=False)
    resume = checkpoint_load(tmp_path / "d.pt", kind="decoder")

    weights = LossWeights(mse=0.5, ssim=0.5, dsim=0.0)
    train_decoder(
        classifier,
        decoder,
        loader,
        loader,
        epochs=1,
        weights=weights,
        resume=resume,
        progress=False,
        log=lines.append,
    )

    assert resume["train"]["loss_weights"] == {"mse": 0.2, "ssim": 0.4, "dsim": 0.4}
    assert lines and lines[0].startswith("warning: resuming with loss_weights {'mse': 0.5")
