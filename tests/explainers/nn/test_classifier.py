from __future__ import annotations

import pytest
import torch
from torchvision.models import resnet18

from explainers.nn.checkpoints import CheckpointError, checkpoint_load
from explainers.nn.classifier import (
    Classifier,
    ClassifierConfig,
    classifier_build,
    classifier_load,
    classifier_save,
    feature_channels_of,
    predict,
)
from explainers.nn.decoder import DecoderConfig, decoder_save
from tests.explainers.nn.builders import SIZE, images, tiny_classifier, tiny_decoder


def torchvision_resnet18_file(path) -> torch.nn.Module:
    torch.manual_seed(1)
    model = resnet18(weights=None)
    torch.save(model.state_dict(), path)
    return model


def test_the_encoder_gives_exactly_the_tensor_the_classifier_uses() -> None:
    model, x = tiny_classifier(), images(batch=2)

    with torch.inference_mode():
        z = model.encode(x)
        torch.testing.assert_close(model.head(z), model(x), rtol=0, atol=0)

    assert z.shape == (2, model.feature_channels, SIZE // 32, SIZE // 32) == (2, 512, 2, 2)
    assert model.feature_stride == 32


def test_resnet50_gives_2048_by_7_by_7_features_at_224() -> None:
    with torch.device("meta"):  # shapes only, no arithmetic
        model = Classifier(ClassifierConfig())
        z = model.encode(torch.empty(1, 3, 224, 224))

    assert z.shape == (1, 2048, 7, 7)
    assert model.head(z).shape == (1, 20)


def test_it_normalises_its_unit_range_input_with_the_imagenet_statistics() -> None:
    model, x = tiny_classifier(), images(batch=1)
    reference = resnet18(weights=None).eval()
    reference.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}, strict=False
    )
    up_to_layer4 = torch.nn.Sequential(*list(reference.children())[:-2])  # drop avgpool and fc
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])

    with torch.inference_mode():
        expected = up_to_layer4((x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1))
        torch.testing.assert_close(model.encode(x), expected)


def test_a_torchvision_state_dict_file_becomes_the_backbone(tmp_path) -> None:
    source = torchvision_resnet18_file(tmp_path / "resnet18.pth")

    model = classifier_build(ClassifierConfig(arch="resnet18"), tmp_path / "resnet18.pth")

    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert torch.equal(model.layer4[1].bn2.running_var, source.layer4[1].bn2.running_var)
    assert model.fc.out_features == 20


def test_a_resnet18_file_for_a_resnet50_is_refused_naming_the_file(tmp_path) -> None:
    torchvision_resnet18_file(tmp_path / "resnet18.pth")

    with pytest.raises(CheckpointError, match=r"resnet18.pth: weights do not match a torchvision resnet50"):
        classifier_build(ClassifierConfig(arch="resnet50"), tmp_path / "resnet18.pth")


def test_a_missing_weights_file_is_named(tmp_path) -> None:
    with pytest.raises(CheckpointError, match=r"nowhere.pth: file not found"):
        classifier_build(ClassifierConfig(arch="resnet18"), tmp_path / "nowhere.pth")


def test_a_corrupt_file_is_named(tmp_path) -> None:
    (tmp_path / "broken.pt").write_bytes(b"these bytes are no checkpoint")

    with pytest.raises(CheckpointError, match=r"broken.pt: not a readable PyTorch weights file"):
        classifier_load(tmp_path / "broken.pt")


def test_a_torchvision_file_is_not_a_classifier_checkpoint(tmp_path) -> None:
    torchvision_resnet18_file(tmp_path / "resnet18.pth")

    with pytest.raises(
        CheckpointError, match=r"resnet18.pth: not a classifier checkpoint.*--backbone-weights"
    ):
        classifier_load(tmp_path / "resnet18.pth")


def test_a_decoder_checkpoint_is_not_a_classifier(tmp_path) -> None:
    decoder_save(tiny_decoder(tiny_classifier()), tmp_path / "decoder.pt")

    with pytest.raises(CheckpointError, match=r"holds a 'decoder' checkpoint, expected a 'classifier'"):
        classifier_load(tmp_path / "decoder.pt")


def test_a_checkpoint_rebuilds_the_same_classifier_with_its_extras(tmp_path) -> None:
    model, x = tiny_classifier(seed=3), images(batch=2)
    classifier_save(model, tmp_path / "classifier.pt", epoch=4, metrics={"map": 0.5})

    loaded = classifier_load(tmp_path / "classifier.pt")

    assert loaded.config == ClassifierConfig(arch="resnet18", image_size=SIZE)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model(x))
    payload = checkpoint_load(tmp_path / "classifier.pt", kind="classifier")
    assert (payload["epoch"], payload["metrics"]) == (4, {"map": 0.5})


def test_a_checkpoint_with_a_wrong_config_is_refused(tmp_path) -> None:
    model = tiny_classifier()
    classifier_save(model, tmp_path / "classifier.pt")
    payload = torch.load(tmp_path / "classifier.pt", weights_only=True)
    payload["config"]["arch"] = "resnet50"
    torch.save(payload, tmp_path / "classifier.pt")

    with pytest.raises(
        CheckpointError, match=r"do not match a classifier with ClassifierConfig\(arch='resnet50'"
    ):
        classifier_load(tmp_path / "classifier.pt")


def test_predict_gives_posteriors_prediction_sets_and_the_top_class() -> None:
    model = tiny_classifier()
    logits = torch.full((20,), -3.0)
    logits[[4, 9]] = torch.tensor([0.5, 2.0])
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.copy_(logits)

    posteriors, sets, top = predict(model, images(batch=2))

    torch.testing.assert_close(posteriors, torch.sigmoid(logits).expand(2, 20))
    assert sets[0].nonzero().flatten().tolist() == [4, 9]
    assert top.tolist() == [9, 9]


def test_an_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="arch must be one of"):
        ClassifierConfig(arch="vgg16")


@pytest.mark.parametrize(("arch", "blocks"), [("resnet10_w32", 1), ("resnet18_w32", 2)])
def test_a_narrow_resnet_has_half_the_channels_at_each_stage_and_rebuilds_from_its_checkpoint(
    tmp_path, arch: str, blocks: int
) -> None:
    torch.manual_seed(0)
    model = classifier_build(ClassifierConfig(arch=arch, image_size=64)).eval()
    classifier_save(model, tmp_path / "narrow.pt")
    again = classifier_load(tmp_path / "narrow.pt")

    with torch.inference_mode():
        z = model.encode(images(batch=2, size=64))
        torch.testing.assert_close(again(images(batch=2, size=64)), model.head(z))
    assert z.shape == (2, 256, 2, 2)
    assert feature_channels_of(arch) == model.feature_channels == 256
    assert [model.layer1[0].conv1.out_channels, model.layer4[0].conv1.out_channels] == [32, 256]
    assert all(len(layer) == blocks for layer in (model.layer1, model.layer2, model.layer3, model.layer4))
    assert DecoderConfig.for_classifier(ClassifierConfig(arch=arch)).in_channels == 256
