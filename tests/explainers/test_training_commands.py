"""The three training commands end to end, on a tiny synthetic VOC, resnet18 and 64 px images."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from explainers.nn.checkpoints import checkpoint_load
from explainers.nn.classifier import classifier_load
from explainers.nn.data import VOCDataset
from explainers.nn.decoder import decoder_load
from explainers.nn.perception import explain

pytestmark = pytest.mark.slow
TINY = {"batch_size": 4, "epochs": 1, "workers": 0, "no_progress": True}


def run(name: str, *args: str, **options: object) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def voc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "voc"
    run("make_synthetic_voc", str(root), train=8, val=4, test=2, size=64, seed=1)
    return root


@pytest.fixture(scope="module")
def trained(voc: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A classifier checkpoint from one epoch of train_classifier, and what the command printed."""
    out = tmp_path_factory.mktemp("classifier") / "classifier.pt"
    output = run("train_classifier", voc=str(voc), arch="resnet18", image_size=64, out=str(out), **TINY)
    return out, output


def test_make_synthetic_voc_writes_the_splits_it_is_asked_for(voc: Path) -> None:
    assert [len(VOCDataset(voc, split)) for split in ("train", "val", "test")] == [8, 4, 2]


def test_train_classifier_reports_ap_per_class_and_saves_a_checkpoint(trained: tuple[Path, str]) -> None:
    path, output = trained

    assert "aeroplane" in output and "mAP" in output
    payload = checkpoint_load(path, kind="classifier")
    assert payload["epoch"] == 1 and set(payload["metrics"]["ap"]) >= {"aeroplane", "tvmonitor"}
    assert classifier_load(path).config.arch == "resnet18"


def test_train_classifier_resumes_from_its_checkpoint(
    voc: Path, trained: tuple[Path, str], tmp_path: Path
) -> None:
    options = {**TINY, "epochs": 2}
    run("train_classifier", voc=str(voc), resume=str(trained[0]), out=str(tmp_path / "c.pt"), **options)

    assert checkpoint_load(tmp_path / "c.pt", kind="classifier")["epoch"] == 2


def test_train_classifier_refuses_to_resume_from_an_inference_checkpoint(
    voc: Path, trained: tuple[Path, str], tmp_path: Path
) -> None:
    run("export_checkpoint", "classifier", str(trained[0]), str(tmp_path / "inference.pt"))

    with pytest.raises(
        CommandError, match=r"inference\.pt: an inference checkpoint .* cannot resume training"
    ):
        run(
            "train_classifier",
            voc=str(voc),
            resume=str(tmp_path / "inference.pt"),
            out=str(tmp_path / "c.pt"),
        )
    assert not (tmp_path / "c.pt").exists()


def test_train_decoder_on_voc_reports_the_papers_metrics_and_can_explain(
    voc: Path, trained: tuple[Path, str], tmp_path: Path
) -> None:
    output = run(
        "train_decoder", classifier=str(trained[0]), voc=str(voc), out=str(tmp_path / "d.pt"), **TINY
    )

    for metric in ("MSE", "SSIM", "PSNR", "DSIM", "agreement"):
        assert metric in output
    classifier, decoder = classifier_load(trained[0]), decoder_load(tmp_path / "d.pt")
    explanation = explain(classifier, decoder, VOCDataset(voc, "test", 64)[0][0].unsqueeze(0))
    assert explanation.pv.shape == (1, 3, 64, 64)


def test_train_decoder_learns_from_any_folder_of_images(
    voc: Path, trained: tuple[Path, str], tmp_path: Path
) -> None:
    images, out = str(voc / "JPEGImages"), str(tmp_path / "d.pt")
    run("train_decoder", classifier=str(trained[0]), images=images, transposed_kernel=2, out=out, **TINY)

    assert decoder_load(tmp_path / "d.pt").config.transposed_kernel == 2


def test_train_classifier_names_a_folder_that_is_not_voc(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"JPEGImages: missing"):
        run("train_classifier", voc=str(tmp_path), arch="resnet18", out=str(tmp_path / "c.pt"), **TINY)


def test_train_decoder_refuses_loss_weights_that_do_not_sum_to_one(
    trained: tuple[Path, str], tmp_path: Path
) -> None:
    args = ["--classifier", str(trained[0]), "--images", str(tmp_path), "--out", str(tmp_path / "d.pt")]

    with pytest.raises(CommandError, match="sum to one"):
        run("train_decoder", *args, "--loss-weights", "0.5,0.5,0.5")


def test_train_decoder_names_a_missing_classifier_file(tmp_path: Path) -> None:
    missing, out = str(tmp_path / "missing.pt"), str(tmp_path / "d.pt")

    with pytest.raises(CommandError, match=r"missing.pt: file not found"):
        run("train_decoder", classifier=missing, images=str(tmp_path), out=out, **TINY)


def test_train_decoder_refuses_two_loss_weights_instead_of_three(
    trained: tuple[Path, str], tmp_path: Path
) -> None:
    args = ["--classifier", str(trained[0]), "--images", str(tmp_path), "--out", str(tmp_path / "d.pt")]

    with pytest.raises(CommandError, match="expected three numbers"):
        run("train_decoder", *args, "--loss-weights", "0.2,0.4")


def test_train_decoder_refuses_an_image_size_the_decoder_cannot_match(
    trained: tuple[Path, str], tmp_path: Path
) -> None:
    args = ["--classifier", str(trained[0]), "--images", str(tmp_path), "--out", str(tmp_path / "d.pt")]

    with pytest.raises(CommandError, match="not a multiple of the encoder's stride"):
        run("train_decoder", *args, "--image-size", "80")
