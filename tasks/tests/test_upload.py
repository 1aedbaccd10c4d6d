"""Uploads never replace an object, even when the early existence check is skipped."""

from pathlib import Path

import pytest

from training.errors import TrainingError
from training.formats import get_format
from training.gcs import GcsClientFactory
from training.upload import Uploader, model_destination


def test_a_directory_model_uri_ends_in_a_slash_and_a_file_model_uri_does_not() -> None:
    assert model_destination("gs://b/runs/1/", get_format("tensorflow_saved_model")) == "gs://b/runs/1/tensorflow_saved_model/"
    assert model_destination("gs://b/runs/1", get_format("pytorch_model.pth")) == "gs://b/runs/1/pytorch_model.pth"


def test_the_create_only_precondition_refuses_an_existing_object(
    tmp_path: Path, fake_gcs: str, gcs_bucket: str
) -> None:
    gcs = GcsClientFactory(fake_gcs)
    gcs().bucket(gcs_bucket).blob("m/pytorch_model.pth").upload_from_string(b"earlier model")
    model = tmp_path / "pytorch_model.pth"
    model.write_bytes(b"new model")

    with pytest.raises(TrainingError) as err:
        Uploader(gcs).upload(model, f"gs://{gcs_bucket}/m/pytorch_model.pth")  # no ensure_absent first

    assert err.value.code == "ALREADY_EXISTS"
    assert gcs().bucket(gcs_bucket).blob("m/pytorch_model.pth").download_as_bytes() == b"earlier model"


def test_an_existing_prefix_is_found_before_training(fake_gcs: str, gcs_bucket: str) -> None:
    gcs = GcsClientFactory(fake_gcs)
    gcs().bucket(gcs_bucket).blob("m/tensorflow_saved_model/saved_model.pb").upload_from_string(b"x")
    with pytest.raises(TrainingError) as err:
        Uploader(gcs).ensure_absent(f"gs://{gcs_bucket}/m/tensorflow_saved_model/")
    assert err.value.code == "ALREADY_EXISTS"
    Uploader(gcs).ensure_absent(f"gs://{gcs_bucket}/m/other_model/")
