"""Selection and rendering in batches: the same picks and pictures as one image at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explainers.methods import methods_parse
from explainers.nn.classifier import ClassifierConfig, classifier_build
from explainers.nn.data import VOC_CLASSES, VOCDataset, write_synthetic_voc
from explainers.nn.decoder import Decoder, DecoderConfig
from explainers.nn.device import channels_last
from explainers.nn.files import file_sha256
from explainers.nn.perception import explain
from explainers.nn.render import save_png
from explainers.services.inference import explanations_write, split_predictions, to_device
from explainers.services.selection import questions_select

SIZE = 64
KINDS = ("input", "gradcam", "pv", "reconstruction")


@pytest.fixture(scope="module")
def voc(tmp_path_factory: pytest.TempPathFactory) -> VOCDataset:
    root = write_synthetic_voc(tmp_path_factory.mktemp("voc"), n_train=0, n_val=0, n_test=40, image_size=SIZE)
    return VOCDataset(root, split="test", image_size=SIZE)


@pytest.fixture(scope="module")
def networks() -> tuple[torch.nn.Module, torch.nn.Module]:
    """Random resnet18 and decoder whose posteriors sit around 0.5, so prediction sets vary by image."""
    torch.manual_seed(3)
    classifier = classifier_build(ClassifierConfig(arch="resnet18", image_size=SIZE)).eval()
    decoder = Decoder(DecoderConfig.for_classifier(classifier, widths=(16, 16, 8, 8, 8))).eval()
    return channels_last(classifier), channels_last(decoder)


def select(predictions: list) -> object:
    return questions_select(
        predictions=predictions, classes=VOC_CLASSES, n_correct=8, n_wrong=8, seed=1, allow_shortfall=True
    )


def test_selection_over_a_batched_loader_picks_exactly_what_one_image_at_a_time_picks(
    voc: VOCDataset, networks: tuple
) -> None:
    classifier, _ = networks
    alone = split_predictions(classifier=classifier, dataset=voc, device="cpu", batch_size=1, workers=0)
    batched = split_predictions(classifier=classifier, dataset=voc, device="cpu", batch_size=8, workers=2)

    assert [p.key for p in batched] == [p.key for p in alone] == voc.ids
    for one, many in zip(alone, batched, strict=True):
        assert (many.labels, many.prediction_set, many.category) == (
            one.labels,
            one.prediction_set,
            one.category,
        )
        assert many.posteriors == pytest.approx(one.posteriors, abs=1e-5)
        assert many.attention == pytest.approx(one.attention, abs=1e-5)
    assert len({p.prediction_set for p in alone}) > 3  # the sets vary, so the comparison means something
    first, second = select(alone), select(batched)
    assert [(q.prediction.key, q.options) for q in second.questions] == [
        (q.prediction.key, q.options) for q in first.questions
    ]
    assert second.example.prediction.key == first.example.prediction.key
    assert second.audit == first.audit


def targets_in(folder: Path, keys: list[str]) -> list[dict[str, Path]]:
    folder.mkdir()
    return [{kind: folder / f"{key}_{kind}.png" for kind in KINDS} for key in keys]


def test_a_batch_written_by_the_png_threads_is_the_pictures_of_explain_byte_for_byte(
    voc: VOCDataset, networks: tuple, tmp_path: Path
) -> None:
    classifier, decoder = networks
    indices, classes = [0, 3, 4, 7, 9], ["cat", "dog", "cat", "person", "bird"]
    targets = targets_in(tmp_path / "threads", [voc.ids[i] for i in indices])

    hashes = explanations_write(
        classifier=classifier,
        decoder=decoder,
        dataset=voc,
        indices=indices,
        classes=classes,
        targets=targets,
        device="cpu",
        methods=methods_parse("gradcam,pv"),
        batch_size=5,
        workers=2,
        threads=3,
    )

    images = to_device(torch.stack([voc[i][0] for i in indices]), torch.device("cpu"))
    expected = explain(classifier, decoder, images, torch.tensor([VOC_CLASSES.index(c) for c in classes]))
    pictures = {"input": images, "gradcam": expected.gradcam, "pv": expected.pv}
    pictures["reconstruction"] = expected.reconstructions
    for b, (files, written) in enumerate(zip(targets, hashes, strict=True)):
        for kind in KINDS:
            alone = save_png(pictures[kind][b], tmp_path / "alone.png")
            assert files[kind].read_bytes() == alone.read_bytes()
            assert written[kind] == file_sha256(files[kind])


def test_smaller_batches_give_the_same_pictures_to_within_one_level(
    voc: VOCDataset, networks: tuple, tmp_path: Path
) -> None:
    classifier, decoder = networks
    indices, classes = list(range(6)), ["cat"] * 6
    arguments = {"classifier": classifier, "decoder": decoder, "dataset": voc, "indices": indices}
    arguments |= {"classes": classes, "device": "cpu", "methods": methods_parse("gradcam,pv")}
    keys = [voc.ids[i] for i in indices]
    explanations_write(**arguments, targets=targets_in(tmp_path / "six", keys), batch_size=6)
    explanations_write(**arguments, targets=targets_in(tmp_path / "twos", keys), batch_size=2, workers=1)

    for path in (tmp_path / "six").iterdir():
        six, twos = (
            np.asarray(Image.open(folder / path.name), dtype=int)
            for folder in (tmp_path / "six", tmp_path / "twos")
        )
        assert np.abs(six - twos).max() <= 1


def test_a_file_that_cannot_be_written_fails_the_batch_and_leaves_no_partial_file(
    voc: VOCDataset, networks: tuple, tmp_path: Path
) -> None:
    classifier, decoder = networks
    targets = targets_in(tmp_path / "out", [voc.ids[0]])
    targets[0]["pv"].mkdir()  # a folder where the PNG should go

    with pytest.raises(IsADirectoryError):
        explanations_write(
            classifier=classifier,
            decoder=decoder,
            dataset=voc,
            indices=[0],
            classes=["cat"],
            targets=targets,
            device="cpu",
            methods=methods_parse("gradcam,pv"),
        )
    assert not list((tmp_path / "out").glob(".*.png"))
