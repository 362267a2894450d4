from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
import torch
from PIL import Image

from explainers.nn.data import (
    IGNORED,
    VOC_CLASSES,
    ImageFolderDataset,
    VOCDataset,
    image_to_tensor,
    inference_loader,
    tensor_to_image,
    write_synthetic_voc,
)
from explainers.nn.synthetic import SHAPES, class_colour
from tests.explainers.nn.builders import voc_folder


def test_the_classes_are_vocs_twenty_in_their_usual_order() -> None:
    assert len(VOC_CLASSES) == 20
    assert VOC_CLASSES[:3] == ("aeroplane", "bicycle", "bird")
    assert VOC_CLASSES[-1] == "tvmonitor"


def test_labels_come_from_the_annotations_without_difficult_objects(tmp_path) -> None:
    root = voc_folder(
        tmp_path, {"a": [("dog", False), ("cat", True), ("dog", False)], "b": [("person", False)]}
    )

    voc = VOCDataset(root, "train", image_size=32, include_difficult=False)

    assert voc.ids == ["a", "b"]
    assert voc.labels(0) == ["dog"]
    assert voc.labels(1) == ["person"]
    assert voc.image_path(1) == root / "JPEGImages" / "b.jpg"


def test_difficult_objects_are_labels_by_default_as_the_authors_had_them(tmp_path) -> None:
    root = voc_folder(tmp_path, {"a": [("dog", False), ("cat", True)]})

    assert VOCDataset(root, "train", image_size=32).labels(0) == ["cat", "dog"]


def test_difficult_objects_count_when_asked_for(tmp_path) -> None:
    root = voc_folder(tmp_path, {"a": [("dog", False), ("cat", True)]})

    voc = VOCDataset(root, "train", image_size=32, include_difficult=True)

    assert voc.labels(0) == ["cat", "dog"]


def test_a_class_seen_only_as_difficult_objects_is_ignored_not_absent(tmp_path) -> None:
    root = voc_folder(tmp_path, {"a": [("dog", False), ("cat", True), ("bus", True), ("bus", False)]})

    voc = VOCDataset(root, "train", image_size=32, include_difficult=False)
    _, target = voc[0]

    assert target[VOC_CLASSES.index("cat")] == IGNORED
    assert target[VOC_CLASSES.index("bus")] == 1 and target[VOC_CLASSES.index("dog")] == 1
    assert target[VOC_CLASSES.index("car")] == 0
    assert voc.labels(0) == ["bus", "dog"]


def test_an_item_is_a_square_unit_range_image_and_a_multi_hot_target(tmp_path) -> None:
    root = voc_folder(tmp_path, {"a": [("bus", False), ("car", False)]})

    image, target = VOCDataset(root, "train", image_size=24, augment=True)[0]

    assert image.shape == (3, 24, 24) and image.min() >= 0 and image.max() <= 1
    assert target.dtype == torch.float32 and target.shape == (20,)
    assert target.nonzero().flatten().tolist() == [VOC_CLASSES.index("bus"), VOC_CLASSES.index("car")]


def test_a_folder_without_the_voc_layout_names_what_is_missing(tmp_path) -> None:
    (tmp_path / "JPEGImages").mkdir()

    with pytest.raises(ValueError, match=r"Annotations: missing; expected a PASCAL VOC folder"):
        VOCDataset(tmp_path)


def test_a_missing_split_list_is_named(tmp_path) -> None:
    root = voc_folder(tmp_path, {"a": [("dog", False)]})

    with pytest.raises(
        ValueError, match=r"ImageSets/Main/val.txt: missing; no image list for the split 'val'"
    ):
        VOCDataset(root, "val")


def test_an_unknown_class_in_an_annotation_is_named(tmp_path) -> None:
    root = voc_folder(tmp_path, {"a": [("unicorn", False)]})

    with pytest.raises(ValueError, match=r"a.xml: object class 'unicorn' is not one of the 20 VOC classes"):
        VOCDataset(root)


def test_the_synthetic_dataset_has_the_voc_layout_and_some_difficult_objects(tmp_path) -> None:
    root = write_synthetic_voc(tmp_path / "voc", n_train=30, n_val=4, n_test=3, image_size=48)

    train = VOCDataset(root, "train", image_size=48, include_difficult=False)
    with_difficult = VOCDataset(root, "train", image_size=48, include_difficult=True)

    assert len(train) == 30 and len(VOCDataset(root, "val")) == 4 and len(VOCDataset(root, "test")) == 3
    assert len(VOCDataset(root, "trainval")) == 34
    assert len(list((root / "JPEGImages").glob("*.jpg"))) == 37
    assert (root / "ImageSets" / "Main" / "dog_train.txt").is_file()
    assert (
        train.labels(0)[0] == "aeroplane" and train.labels(7)[0] == "cat"
    )  # image i always shows class i % 20
    assert with_difficult.targets.sum() > train.targets.sum()
    assert train[0][0].shape == (3, 48, 48)


def test_the_synthetic_dataset_is_the_same_for_the_same_seed(tmp_path) -> None:
    first = write_synthetic_voc(tmp_path / "a", n_train=3, n_val=0, n_test=0, image_size=32, seed=5)
    again = write_synthetic_voc(tmp_path / "b", n_train=3, n_val=0, n_test=0, image_size=32, seed=5)
    other = write_synthetic_voc(tmp_path / "c", n_train=3, n_val=0, n_test=0, image_size=32, seed=6)

    name = "Annotations/synth_000002.xml"
    assert (first / name).read_text() == (again / name).read_text() != (other / name).read_text()


def test_every_synthetic_class_has_its_own_shape_and_colour() -> None:
    assert len(set(SHAPES)) == len({class_colour(i) for i in range(20)}) == len(VOC_CLASSES)


def test_an_image_folder_is_read_recursively_and_in_order(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (10, 20), (255, 0, 0)).save(tmp_path / "sub" / "b.png")
    Image.new("RGB", (30, 30), (0, 0, 255)).save(tmp_path / "a.jpg")
    (tmp_path / "notes.txt").write_text("not an image")

    folder = ImageFolderDataset(tmp_path, image_size=16)

    assert [path.name for path in folder.paths] == ["a.jpg", "b.png"]
    assert folder[1].shape == (3, 16, 16)
    torch.testing.assert_close(folder[1][:, 8, 8], torch.tensor([1.0, 0.0, 0.0]))


def test_a_folder_without_images_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"holds no images"):
        ImageFolderDataset(tmp_path)


def test_an_image_survives_the_trip_to_a_tensor_and_back() -> None:
    pixels = torch.randint(0, 256, (5, 7, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    image = Image.fromarray(pixels.numpy())

    tensor = image_to_tensor(image, None)

    assert tensor.shape == (3, 5, 7)
    assert torch.equal(torch.from_numpy(np.array(tensor_to_image(tensor))), pixels)
    assert image_to_tensor(image, 4).shape == (3, 4, 4)


def test_the_inference_loader_gives_every_image_in_order_decoded_by_worker_processes(tmp_path) -> None:
    root = voc_folder(tmp_path, {name: [("dog", False)] for name in "abcdefghi"})
    voc = VOCDataset(root, "train", image_size=32)

    loader = inference_loader(voc, batch_size=2, workers=2)

    assert loader.num_workers == 2
    batches = list(loader)
    assert [len(images) for images, _ in batches] == [2, 2, 2, 2, 1]
    torch.testing.assert_close(
        torch.cat([images for images, _ in batches]), torch.stack([voc[i][0] for i in range(9)])
    )


def test_a_loader_of_few_batches_decodes_in_process_as_starting_processes_would_cost_more(tmp_path) -> None:
    root = voc_folder(tmp_path, {name: [("dog", False)] for name in "abcdef"})

    assert (
        inference_loader(VOCDataset(root, "train", image_size=32), batch_size=2, workers=2).num_workers == 0
    )


def test_a_daemonic_process_decodes_in_process_since_it_may_not_start_any(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = voc_folder(tmp_path, {name: [("dog", False)] for name in "abcdefghi"})
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)  # a Celery prefork child

    assert (
        inference_loader(VOCDataset(root, "train", image_size=32), batch_size=2, workers=4).num_workers == 0
    )
